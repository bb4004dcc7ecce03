//! The sending half of [`Connection`]: messages, fragments, control frames, the close
//! frame, and encoding them into the output.
// Input reaches this module: no indexing, unwrap, expect or panic that it could trigger.
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use bytes::{BufMut, Bytes};

use super::{Connection, MessageKind, Role, SHARE_PAYLOADS_FROM, State};
use crate::error::{Error, UsageError};
use crate::frame::{FrameHeader, MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN, OpCode, apply_mask};
use crate::protocol::{CloseCode, EncodedMessage, Sendable};

impl Connection {
    // ----- sending ---------------------------------------------------------------------

    /// Queues a message: text from `&str`, `String` or [`Text`](crate::Text), binary from
    /// `&[u8]`, `Vec<u8>` or [`Bytes`], a [`Message`](crate::Message), or an
    /// [`EncodedMessage`] framed once for many connections (see [`Sendable`]; a client,
    /// which masks every frame, frames its payload again).
    ///
    /// A server queues a large owned payload by reference, without copying it.
    ///
    /// ```
    /// use rfc6455::{Config, Connection, Role};
    /// let mut server = Connection::new(Role::Server, &Config::default());
    /// server.send("hi").unwrap();
    /// server.send(vec![1u8, 2]).unwrap();
    /// assert_eq!(server.buffered_amount(), 4 + 4);
    /// ```
    pub fn send(&mut self, message: impl Sendable) -> Result<(), Error> {
        message.queue_on(self)
    }

    /// Queues a message whose payload is borrowed: it is copied next to its header.
    pub(crate) fn send_copied(&mut self, kind: MessageKind, payload: &[u8]) -> Result<(), Error> {
        self.send_message(kind.opcode(), payload)
    }

    /// Queues a message whose payload is already in [`Bytes`]. A server queues a large
    /// payload as it is, without copying it; a client copies it (it must mask it).
    pub(crate) fn send_shared(&mut self, kind: MessageKind, payload: Bytes) -> Result<(), Error> {
        if self.role == Role::Client
            || payload.len() < SHARE_PAYLOADS_FROM
            || self.would_compress(payload.len())
        {
            return self.send_message(kind.opcode(), &payload);
        }
        self.check_can_send_data()?;
        if self.outgoing_fragmented.is_some() {
            return Err(UsageError::FragmentedMessageInProgress.into());
        }
        let header = FrameHeader::new(kind.opcode(), payload.len() as u64);
        let mut head = [0u8; MAX_HEADER_LEN];
        let head_len = header.encode(&mut head);
        let head = head.get(..head_len).unwrap_or_default();
        self.output.tail_mut().extend_from_slice(head);
        self.output.appended(head.len());
        self.output.push_shared(payload);
        Ok(())
    }

    fn send_message(&mut self, opcode: OpCode, payload: &[u8]) -> Result<(), Error> {
        self.check_can_send_data()?;
        if self.outgoing_fragmented.is_some() {
            return Err(UsageError::FragmentedMessageInProgress.into());
        }
        self.encode_data(opcode, payload, true)
    }

    /// True if a message starting with `len` bytes would be compressed.
    fn would_compress(&self, len: usize) -> bool {
        #[cfg(feature = "deflate")]
        return self
            .deflate
            .as_ref()
            .is_some_and(|d| d.should_compress(len));
        #[cfg(not(feature = "deflate"))]
        return {
            let _ = len;
            false
        };
    }

    /// Encodes one frame of a data message, compressed (RSV1 on its first frame) when
    /// permessage-deflate is on and the message's first part reaches the threshold.
    fn encode_data(&mut self, opcode: OpCode, payload: &[u8], fin: bool) -> Result<(), Error> {
        #[cfg(feature = "deflate")]
        if let Some(deflate) = self.deflate.as_deref_mut() {
            let first = opcode != OpCode::Continuation;
            if first {
                deflate.sending_compressed = deflate.should_compress(payload.len());
            }
            if deflate.sending_compressed {
                let mut compressed = Vec::with_capacity(payload.len() / 2 + 16);
                deflate.compress(payload, &mut compressed, fin);
                let rsv = if first { crate::frame::RSV1 } else { 0 };
                return self.encode_frame_rsv(opcode, &compressed, fin, rsv);
            }
        }
        self.encode_frame(opcode, payload, fin)
    }

    /// Queues a message framed once with [`EncodedMessage`], sharing its bytes instead of
    /// copying them. A client masks each frame itself, so it sends the message's payload
    /// as an ordinary message (a broadcast or a handle's send reaches a client socket too).
    pub(crate) fn send_encoded(&mut self, message: &EncodedMessage) -> Result<(), Error> {
        if self.role == Role::Client {
            return self.send_shared(message.kind(), message.payload());
        }
        self.check_can_send_data()?;
        if self.outgoing_fragmented.is_some() {
            return Err(UsageError::FragmentedMessageInProgress.into());
        }
        #[cfg(feature = "deflate")]
        if let (Some(deflate), Some((compressed, window_bits))) =
            (self.deflate.as_deref(), message.compressed_frame())
        {
            // A frame compressed on its own fits only a peer that expects no context from
            // us, and a window no larger than agreed. Others get the plain frame: it does
            // not disturb their compression context.
            let agreed = deflate.agreed();
            if agreed.own_no_context_takeover && window_bits <= agreed.own_window_bits {
                self.output.push_shared(compressed.clone());
                return Ok(());
            }
        }
        self.output.push_shared(message.frame().clone());
        Ok(())
    }

    /// Queues one fragment of a message sent in pieces. The first call starts a message of
    /// `kind`; the next ones continue it (with the same `kind`) until one has
    /// `is_final`. Control frames may be sent between fragments. Text fragments may split
    /// a character, but together they must be valid UTF-8: they are checked as they go.
    ///
    /// ```
    /// use rfc6455::{Config, Connection, MessageKind, Role};
    /// let mut server = Connection::new(Role::Server, &Config::default());
    /// server.send_fragment(MessageKind::Text, "hel".as_bytes(), false).unwrap();
    /// server.ping(b"").unwrap();
    /// server.send_fragment(MessageKind::Text, "lo".as_bytes(), true).unwrap();
    /// let mut slices = [std::io::IoSlice::new(&[]); 4];
    /// let count = server.output_slices(&mut slices);
    /// let mut wire = Vec::new(); // a socket, as far as this example goes
    /// let written = std::io::Write::write_vectored(&mut wire, &slices[..count]).unwrap();
    /// server.advance_output(written);
    /// assert_eq!(wire, [0x01, 3, b'h', b'e', b'l', 0x89, 0, 0x80, 2, b'l', b'o']);
    /// ```
    pub fn send_fragment(
        &mut self,
        kind: MessageKind,
        payload: &[u8],
        is_final: bool,
    ) -> Result<(), Error> {
        self.check_can_send_data()?;
        let opcode = match self.outgoing_fragmented {
            None => {
                self.outgoing_utf8.reset();
                kind.opcode()
            }
            Some(current) if current == kind => OpCode::Continuation,
            Some(_) => return Err(UsageError::FragmentedMessageInProgress.into()),
        };
        if kind == MessageKind::Text {
            let mut check = self.outgoing_utf8.clone();
            let valid = check.feed(payload).is_ok() && (!is_final || check.is_complete());
            if !valid {
                return Err(UsageError::InvalidUtf8.into());
            }
            self.outgoing_utf8 = check;
        }
        self.encode_data(opcode, payload, is_final)?;
        self.outgoing_fragmented = if is_final { None } else { Some(kind) };
        Ok(())
    }

    /// Queues a ping (at most 125 bytes of payload).
    pub fn ping(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.send_control(OpCode::Ping, payload)
    }

    /// Queues an unsolicited pong (at most 125 bytes). Pings are answered automatically.
    pub fn pong(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.send_control(OpCode::Pong, payload)
    }

    fn send_control(&mut self, opcode: OpCode, payload: &[u8]) -> Result<(), Error> {
        if self.state != State::Open {
            return Err(UsageError::SendAfterClose.into());
        }
        if payload.len() > MAX_CONTROL_PAYLOAD {
            return Err(UsageError::ControlPayloadTooLong(payload.len()).into());
        }
        self.encode_frame(opcode, payload, true)
    }

    /// Starts the close handshake: queues a close frame with `code` and `reason` (at most
    /// 123 bytes). Incoming messages are still reported until the peer's close frame
    /// arrives; nothing more can be sent.
    pub fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        if self.state != State::Open {
            return Err(UsageError::SendAfterClose.into());
        }
        if !code.is_sendable() {
            return Err(UsageError::InvalidCloseCode(code.0).into());
        }
        if reason.len() > MAX_CONTROL_PAYLOAD - 2 {
            return Err(UsageError::ControlPayloadTooLong(reason.len() + 2).into());
        }
        let mut payload = Vec::with_capacity(2 + reason.len());
        payload.extend_from_slice(&code.0.to_be_bytes());
        payload.extend_from_slice(reason.as_bytes());
        self.encode_frame(OpCode::Close, &payload, true)?;
        self.state = State::CloseSent;
        self.timers.close_queued();
        Ok(())
    }

    fn check_can_send_data(&self) -> Result<(), Error> {
        if self.state == State::Open {
            Ok(())
        } else {
            Err(UsageError::SendAfterClose.into())
        }
    }

    /// Appends one frame to the output, masking it if we are a client.
    pub(super) fn encode_frame(
        &mut self,
        opcode: OpCode,
        payload: &[u8],
        fin: bool,
    ) -> Result<(), Error> {
        self.encode_frame_rsv(opcode, payload, fin, 0)
    }

    /// Appends one frame with the given RSV bits, masking it if we are a client.
    fn encode_frame_rsv(
        &mut self,
        opcode: OpCode,
        payload: &[u8],
        fin: bool,
        rsv: u8,
    ) -> Result<(), Error> {
        let mask = match self.role {
            Role::Client => Some(crate::random::mask_key()?),
            Role::Server => None,
        };
        let header = FrameHeader {
            fin,
            rsv,
            opcode,
            mask,
            payload_len: payload.len() as u64,
        };
        let mut head = [0u8; MAX_HEADER_LEN];
        let head_len = header.encode(&mut head);
        let tail = self.output.tail_mut();
        if let ([first, second, ..], 2, None) = (head, head_len, mask) {
            // The common frame, a server's of up to 125 bytes: its two header bytes are
            // stored as one word, and only the payload is copied.
            tail.reserve(2 + payload.len());
            tail.put_u16(u16::from_be_bytes([first, second]));
            tail.extend_from_slice(payload);
            self.output.appended(2 + payload.len());
            return Ok(());
        }
        let head = head.get(..head_len).unwrap_or_default();
        tail.reserve(head.len() + payload.len());
        tail.extend_from_slice(head);
        let payload_start = tail.len();
        tail.extend_from_slice(payload);
        if let (Some(key), Some(masked)) = (mask, tail.get_mut(payload_start..)) {
            apply_mask(masked, key, 0);
        }
        self.output.appended(head_len + payload.len());
        Ok(())
    }
}
