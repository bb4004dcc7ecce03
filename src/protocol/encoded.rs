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
/// use std::io::IoSlice;
/// use rfc6455::{Config, Connection, EncodedMessage, Role};
///
/// let message = EncodedMessage::text("to everyone");
/// let mut a = Connection::new(Role::Server, &Config::default());
/// let mut b = Connection::new(Role::Server, &Config::default());
/// a.send(&message).unwrap();
/// b.send(&message).unwrap();
/// // Both queued the very same bytes, not copies of them.
/// let (mut first, mut second) = ([IoSlice::new(&[])], [IoSlice::new(&[])]);
/// a.output_slices(&mut first);
/// b.output_slices(&mut second);
/// assert_eq!(first[0].as_ptr(), second[0].as_ptr());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedMessage {
    frame: Bytes,
    kind: MessageKind,
    /// The same message compressed on its own (no context), and the window it used.
    #[cfg(feature = "deflate")]
    compressed: Option<(Bytes, u8)>,
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

    /// Frames a message for connections that negotiated what `config` asks for: with
    /// permessage-deflate on and a payload at or above its threshold, the message is also
    /// compressed once, on its own, and every connection whose peer expects no compression
    /// context from us is sent that frame; the others get the plain one.
    pub fn new(kind: MessageKind, payload: &[u8], config: &crate::Config) -> EncodedMessage {
        #[cfg(feature = "deflate")]
        if let Some(deflate) = &config.deflate
            && payload.len() >= deflate.threshold
        {
            let mut message = Self::encode(kind, payload);
            let mut compressor =
                crate::deflate::take_compressor(deflate.level, deflate.max_window_bits);
            let mut compressed = Vec::with_capacity(payload.len() / 2 + 16);
            compressor.compress(payload, &mut compressed, true);
            crate::deflate::return_compressor(compressor);
            let frame = frame(kind.opcode(), crate::frame::RSV1, &compressed);
            message.compressed = Some((frame, deflate.max_window_bits));
            return message;
        }
        let _ = config;
        Self::encode(kind, payload)
    }

    fn encode(kind: MessageKind, payload: &[u8]) -> EncodedMessage {
        EncodedMessage {
            frame: frame(kind.opcode(), 0, payload),
            kind,
            #[cfg(feature = "deflate")]
            compressed: None,
        }
    }

    /// The message's kind.
    pub fn kind(&self) -> MessageKind {
        self.kind
    }

    /// The frame as it goes on the wire, uncompressed.
    pub fn frame(&self) -> &Bytes {
        &self.frame
    }

    /// The message's payload: its frame without the header (a view, not a copy).
    pub fn payload(&self) -> Bytes {
        // The frame is one we framed: its header is 2 bytes, or 4 or 10 with an extended
        // length.
        let header = match self.frame.get(1).map(|byte| byte & 0x7F) {
            Some(126) => 4,
            Some(127) => 10,
            _ => 2,
        };
        self.frame.slice(header.min(self.frame.len())..)
    }

    /// The bytes this message holds (its frames), for the runtime's bound on queued
    /// messages.
    #[cfg(feature = "server")]
    pub(crate) fn held_bytes(&self) -> usize {
        #[cfg(feature = "deflate")]
        if let Some((compressed, _)) = &self.compressed {
            return self.frame.len() + compressed.len();
        }
        self.frame.len()
    }

    /// The compressed frame, if the message was compressed, and its window bits.
    #[cfg(feature = "deflate")]
    pub(crate) fn compressed_frame(&self) -> Option<(&Bytes, u8)> {
        self.compressed.as_ref().map(|(frame, bits)| (frame, *bits))
    }
}

/// One final, unmasked frame.
fn frame(opcode: OpCode, rsv: u8, payload: &[u8]) -> Bytes {
    let header = FrameHeader {
        rsv,
        ..FrameHeader::new(opcode, payload.len() as u64)
    };
    let mut head = [0u8; MAX_HEADER_LEN];
    let head_len = header.encode(&mut head);
    let mut frame = BytesMut::with_capacity(head_len + payload.len());
    frame.extend_from_slice(head.get(..head_len).unwrap_or_default());
    frame.extend_from_slice(payload);
    frame.freeze()
}
