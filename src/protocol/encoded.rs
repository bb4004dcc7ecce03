//! [`EncodedMessage`]: a message framed once, shared by every connection it is sent to.
//!
//! Server frames are not masked, so the same bytes serve every recipient: a broadcast to
//! ten thousand connections encodes once and queues the same [`Bytes`] (a reference count,
//! not a copy) on each.

use bytes::{Bytes, BytesMut};

use super::MessageKind;
use crate::frame::{FrameHeader, MAX_HEADER_LEN, OpCode};

/// A complete, unmasked message frame, ready to queue on any server connection.
///
/// ```
/// use rfc6455::protocol::EncodedMessage;
/// use rfc6455::{Config, Connection, Role};
///
/// let message = EncodedMessage::text("to everyone");
/// let mut a = Connection::new(Role::Server, &Config::default());
/// let mut b = Connection::new(Role::Server, &Config::default());
/// a.send_encoded(&message).unwrap();
/// b.send_encoded(&message).unwrap();
/// // Both queued the very same bytes, not copies of them.
/// assert_eq!(a.take_output().unwrap().as_ptr(), b.take_output().unwrap().as_ptr());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedMessage {
    frame: Bytes,
    kind: MessageKind,
}

impl EncodedMessage {
    /// Frames a text message.
    pub fn text(text: &str) -> EncodedMessage {
        Self::encode(MessageKind::Text, text.as_bytes())
    }

    /// Frames a binary message.
    pub fn binary(data: &[u8]) -> EncodedMessage {
        Self::encode(MessageKind::Binary, data)
    }

    fn encode(kind: MessageKind, payload: &[u8]) -> EncodedMessage {
        let opcode = match kind {
            MessageKind::Text => OpCode::Text,
            MessageKind::Binary => OpCode::Binary,
        };
        let header = FrameHeader::new(opcode, payload.len() as u64);
        let mut head = [0u8; MAX_HEADER_LEN];
        let head_len = header.encode(&mut head);
        let mut frame = BytesMut::with_capacity(head_len + payload.len());
        frame.extend_from_slice(&head[..head_len]);
        frame.extend_from_slice(payload);
        EncodedMessage {
            frame: frame.freeze(),
            kind,
        }
    }

    /// The message's kind.
    pub fn kind(&self) -> MessageKind {
        self.kind
    }

    /// The frame as it goes on the wire.
    pub fn frame(&self) -> &Bytes {
        &self.frame
    }
}
