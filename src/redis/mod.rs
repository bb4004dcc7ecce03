//! Scale-out through Redis (feature `redis`): rooms and broadcast across server processes
//! over Redis pub/sub.
//!
//! This first piece is the wire: RESP2, the protocol every Redis server speaks, sans-IO
//! ([`encode_command`], [`ReplyDecoder`]). The crate speaks it itself rather than through
//! the `redis` crate: a subscriber needs only a handful of commands (`SUBSCRIBE`,
//! `PSUBSCRIBE`, `PUBLISH`, `PING`), the codec is a few hundred lines that the crate's
//! bounded, resumable style and fuzzing cover, and it can run on the runtime's own
//! non-blocking sockets instead of bringing a second I/O stack with its dependencies.
//! The cluster client on top of it (subscriptions, reconnection, the event API's rooms and
//! broadcast across nodes) is still to come.

mod resp;

pub use resp::{Reply, ReplyDecoder, RespError, RespLimits, encode_command};
