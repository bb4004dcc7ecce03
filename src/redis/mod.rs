//! Scale-out through Redis (feature `redis`): rooms and broadcast across server processes
//! over Redis pub/sub.
//!
//! What is here so far:
//! - the wire: RESP2, the protocol every Redis server speaks, sans-IO
//!   ([`encode_command`], [`ReplyDecoder`]);
//! - [`PubSub`]: one node's link to a Redis server (subscribe to channels and patterns,
//!   publish from any thread), on a thread of its own with a small mio loop, reconnecting
//!   and subscribing again when Redis comes back;
//! - [`Cluster`]: an event-API server as one node of several: its broadcasts (to a room,
//!   to everyone, leaving out the sender) reach the matching sockets of every node once.
//!
//! The crate speaks RESP itself rather than through the `redis` crate: a pub/sub node needs
//! a handful of commands (`AUTH`, `SUBSCRIBE`, `PSUBSCRIBE`, `PUBLISH`, `PING`), the codec
//! is a few hundred lines in the crate's bounded, resumable style (fuzzed, split at every
//! byte), and the link runs on mio, which the runtime already uses, instead of bringing a
//! second I/O stack and its dependencies: the feature adds none.
//!
//! Still to come: room membership, socket listing and counts, remote join/leave/disconnect
//! across nodes (a request/response channel), and the Socket.IO Redis adapter's channels
//! and message format.

mod cluster;
mod msgpack;
mod pubsub;
mod resp;
#[cfg(feature = "socketio")]
mod socketio_adapter;
#[cfg(feature = "socketio")]
mod socketio_wire;

pub use cluster::{Cluster, ClusterConfig};
pub use msgpack::{MSGPACK_MAX_DEPTH, MsgpackError, MsgpackValue, decode_msgpack, encode_msgpack};
pub use pubsub::{PubSub, PubSubConfig, PubSubMessage, PublishError};
pub use resp::{Reply, ReplyDecoder, RespError, RespLimits, encode_command};
#[cfg(feature = "socketio")]
pub use socketio_adapter::{RemoteSocket, RequestError, SocketIoAdapter, SocketIoAdapterConfig};
