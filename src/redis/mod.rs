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
//!   to everyone, leaving out the sender) reach the matching sockets of every node once,
//!   and a room's members are listed, counted, moved and closed across the nodes
//!   ([`Cluster::sockets_in`], [`Cluster::count`], [`Cluster::sockets_join`], ...);
//!   how it behaves when Redis, a node or a slow node fails: docs/redis.md;
//! - `SocketIoAdapter` (with feature `socketio`): a Socket.IO server as one node of a
//!   cluster shared with Node servers running `@socket.io/redis-adapter` and with
//!   `@socket.io/redis-emitter`: broadcasts, joins, leaves and disconnects across nodes,
//!   and questions (`fetch_sockets`, `all_rooms`, `server_count`) answered and asked, over
//!   the adapter's wire ([`decode_msgpack`], [`encode_msgpack`]: its MessagePack). What is
//!   compatible, what is not yet, and what is lost while Redis is down: docs/socketio.md.
//!
//! The crate speaks RESP itself rather than through the `redis` crate: a pub/sub node needs
//! a handful of commands (`AUTH`, `SUBSCRIBE`, `PSUBSCRIBE`, `PUBLISH`, `PING`, `PUBSUB`),
//! the codec is a few hundred lines in the crate's bounded, resumable style (fuzzed, split
//! at every byte), and the link runs on mio, which the runtime already uses, instead of
//! bringing a second I/O stack and its dependencies. MessagePack likewise: the adapter uses
//! a handful of its types, which a couple of hundred bounded lines decode, where a crate
//! (rmp, rmpv) would bring a general format and its own limits to audit. The feature adds
//! no dependency.
//!

mod cluster;
mod cluster_requests;
mod msgpack;
mod pubsub;
mod resp;
#[cfg(feature = "socketio")]
mod socketio_adapter;
#[cfg(feature = "socketio")]
mod socketio_wire;

pub use cluster::{Cluster, ClusterConfig, ClusterError, ClusterSocket};
pub use msgpack::{MSGPACK_MAX_DEPTH, MsgpackError, MsgpackValue, decode_msgpack, encode_msgpack};
pub use pubsub::{PubSub, PubSubConfig, PubSubMessage, PublishError};
pub use resp::{Reply, ReplyDecoder, RespError, RespLimits, encode_command};
#[cfg(feature = "socketio")]
pub use socketio_adapter::{RemoteSocket, RequestError, SocketIoAdapter, SocketIoAdapterConfig};
