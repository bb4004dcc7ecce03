//! The connection state machine: bytes in, [`Event`]s out, frames queued for writing.
//!
//! [`Connection`] turns frames into messages (reassembling fragments, validating UTF-8 as
//! it arrives), answers pings and close frames, enforces the limits of
//! [`Config`](crate::Config), and fails the connection with the close code RFC 6455 asks
//! for when the peer breaks a rule.

mod close;
mod connection;
mod encoded;
mod event;
mod message;
mod output;
mod sendable;
mod timers;
mod utf8;

pub(crate) use crate::close_code::CloseCode;
pub use close::CloseFrame;
pub use connection::{Connection, MessageKind, Role, State};
pub use encoded::EncodedMessage;
pub use event::{Event, Text};
pub use message::Message;
pub use sendable::Sendable;
