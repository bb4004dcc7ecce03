//! Scale-out through Redis (feature `redis`): rooms and broadcast across server processes
//! over Redis pub/sub.
//!
//! What is here so far:
//! - the wire: RESP2, the protocol every Redis server speaks, sans-IO
//!   ([`encode_command`], [`ReplyDecoder`]);
//! - [`PubSub`]: one node's link to a Redis server (subscribe to channels and patterns,
//!   publish from any thread), on a thread of its own with a small mio loop, reconnecting
//!   and subscribing again when Redis comes back.
//!
//! The crate speaks RESP itself rather than through the `redis` crate: a pub/sub node needs
//! a handful of commands (`AUTH`, `SUBSCRIBE`, `PSUBSCRIBE`, `PUBLISH`, `PING`), the codec
//! is a few hundred lines in the crate's bounded, resumable style (fuzzed, split at every
//! byte), and the link runs on mio, which the runtime already uses, instead of bringing a
//! second I/O stack and its dependencies: the feature adds none.
//!
//! Still to come: the event API's rooms and broadcast across nodes on top of [`PubSub`],
//! and the Socket.IO Redis adapter's channels and message format.

mod pubsub;
mod resp;

pub use pubsub::{PubSub, PubSubConfig, PubSubMessage, PublishError};
pub use resp::{Reply, ReplyDecoder, RespError, RespLimits, encode_command};
