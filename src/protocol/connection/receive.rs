//! The receiving half of [`Connection`]: input buffering, frame parsing and validation,
//! reassembly, the answers the protocol sends by itself (pongs, the close reply), and
//! failing the connection when the peer breaks a rule.
// Input reaches this module: no indexing, unwrap, expect or panic that it could trigger.
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use bytes::{Buf, Bytes, BytesMut};

use super::{
    Connection, FRAGMENT_OVERHEAD, IncomingFrame, IncomingMessage, MessageKind, PONG_BACKLOG, Role,
    State,
};
use crate::error::{CapacityError, Error, ProtocolError};
use crate::frame::{FrameHeader, MAX_CONTROL_PAYLOAD, OpCode, RSV1, apply_mask};
use crate::protocol::close::parse_close_payload;
use crate::protocol::utf8::Utf8Validator;
use crate::protocol::{CloseCode, Event, Message, Text};

impl Connection {
    // ----- input -----------------------------------------------------------------------

    /// Hands over bytes read from the transport. Take the events with
    /// [`poll_event`](Self::poll_event) before receiving more: input is only parsed there,
    /// so memory stays bounded by one frame (`max_frame_size`) plus what was handed over.
    ///
    /// Bytes received after the connection closed or failed are discarded.
    pub fn receive(&mut self, data: &[u8]) {
        if !self.is_closed() && !data.is_empty() {
            self.input.extend_from_slice(data);
            self.timers.heard();
        }
    }

    /// Hands over an owned buffer of bytes read from the transport; when nothing is
    /// pending, the buffer is adopted without copying.
    #[cfg(any(test, feature = "server"))]
    pub(crate) fn receive_bytes(&mut self, data: BytesMut) {
        if self.is_closed() || data.is_empty() {
            return;
        }
        self.timers.heard();
        self.restore_input(data);
    }

    /// Gives back bytes taken with [`take_input`](Self::take_input) (the start of an
    /// incomplete frame, maybe moved to another buffer): not news from the peer, so the
    /// keep-alive timer is not restarted.
    #[cfg(any(test, feature = "server"))]
    pub(crate) fn restore_input(&mut self, data: BytesMut) {
        if self.is_closed() {
            return;
        }
        if self.input.is_empty() {
            self.input = data;
        } else {
            self.input.extend_from_slice(&data);
        }
    }

    /// The buffer of received bytes not yet parsed, for a driver to read into in place; it
    /// then tells how many bytes it appended with [`received`](Self::received). Bytes
    /// appended to a closed connection are dropped there.
    #[cfg(all(feature = "tokio", not(rfc6455_zeroed_reads)))]
    #[inline]
    pub(crate) fn input_mut(&mut self) -> &mut BytesMut {
        &mut self.input
    }

    /// `n` bytes were appended through [`input_mut`](Self::input_mut).
    #[cfg(all(feature = "tokio", not(rfc6455_zeroed_reads)))]
    #[inline]
    pub(crate) fn received(&mut self, n: usize) {
        if self.is_closed() {
            self.input.clear();
        } else if n > 0 {
            self.timers.heard();
        }
    }

    /// Takes the received bytes not yet parsed (the start of an incomplete frame), leaving
    /// the connection's input empty. With [`receive_bytes`](Self::receive_bytes) this lets
    /// a driver lend one read buffer to many connections: hand it over, take the events,
    /// take it back, and keep only an incomplete frame's bytes per connection.
    #[cfg(any(test, feature = "server"))]
    pub(crate) fn take_input(&mut self) -> BytesMut {
        std::mem::take(&mut self.input)
    }

    /// How many more bytes the frame being received needs before it is complete: 0 when
    /// no frame has started (its header has not fully arrived). A driver can size its next
    /// read with it, and keep room for it with the incomplete frame's bytes.
    #[cfg(any(test, feature = "server", feature = "tokio"))]
    #[inline]
    pub(crate) fn frame_bytes_missing(&self) -> usize {
        self.frame
            .map_or(0, |frame| frame.len().saturating_sub(self.input.len()))
    }

    /// The next event, `Ok(None)` when the input holds no complete one.
    ///
    /// When the peer breaks a rule, the connection is failed: the close frame with the
    /// matching code (1002 protocol error, 1007 invalid UTF-8, 1009 too big) is queued in
    /// the output, the state becomes [`Failed`](State::Failed), and the error says exactly
    /// what was wrong. After that, `Ok(None)` forever.
    #[inline]
    pub fn poll_event(&mut self) -> Result<Option<Event>, Error> {
        // Nothing received and no timer ran out: no event (the common answer once the
        // input is drained), without the parser's work.
        if self.input.is_empty() && self.timers.expired.is_none() {
            return Ok(None);
        }
        self.parse_event()
    }

    fn parse_event(&mut self) -> Result<Option<Event>, Error> {
        if let Some(timeout) = self.timers.expired.take() {
            return Err(timeout.into());
        }
        match self.next_event() {
            Ok(event) => Ok(event),
            Err(error) => Err(self.fail(error)),
        }
    }

    fn next_event(&mut self) -> Result<Option<Event>, Error> {
        loop {
            if self.is_closed() {
                return Ok(None);
            }
            let frame = match self.frame {
                Some(frame) => frame,
                None => match FrameHeader::decode(&self.input)? {
                    None => return Ok(None),
                    Some((header, header_len)) => {
                        let frame = self.start_frame(header)?;
                        if self.input.len() - header_len >= frame.len() {
                            // The whole frame is here (the common case): taken out with
                            // its header in one split, checked there.
                            let mut whole = self.input.split_to(header_len + frame.len());
                            let payload = whole.get_mut(header_len..).unwrap_or_default();
                            let text = frame.is_text(self.message.as_deref());
                            check_payload(&frame, text, payload, 0, &mut self.incoming_utf8)?;
                            let mut payload = whole.freeze();
                            payload.advance(header_len);
                            match self.finish_frame(frame, payload)? {
                                Some(event) => return Ok(Some(event)),
                                None => continue,
                            }
                        }
                        self.input.advance(header_len);
                        frame
                    }
                },
            };
            let unmasked = self.unmask_arrived(frame)?;
            if self.input.len() < frame.len() {
                // Kept until the rest arrives.
                self.frame = Some(IncomingFrame { unmasked, ..frame });
                return Ok(None);
            }
            self.frame = None;
            let payload = self.input.split_to(frame.len()).freeze();
            if let Some(event) = self.finish_frame(frame, payload)? {
                return Ok(Some(event));
            }
        }
    }

    /// Checks a new frame's header against the connection's rules and limits.
    fn start_frame(&mut self, header: FrameHeader) -> Result<IncomingFrame, Error> {
        if header.rsv & !self.allowed_rsv != 0 {
            return Err(ProtocolError::ReservedBits(header.rsv).into());
        }
        // RSV1 (permessage-deflate) marks the first frame of a compressed message only.
        let rsv1 = header.rsv & RSV1 != 0;
        let first_data_frame = matches!(header.opcode, OpCode::Text | OpCode::Binary);
        if rsv1 && !first_data_frame {
            return Err(ProtocolError::ReservedBits(header.rsv).into());
        }
        let compressed = match (header.opcode, &self.message) {
            (OpCode::Continuation, Some(message)) => message.compressed,
            _ => rsv1,
        };
        match (self.role, header.mask.is_some()) {
            (Role::Server, false) => return Err(ProtocolError::UnmaskedFrame.into()),
            (Role::Client, true) => return Err(ProtocolError::MaskedFrame.into()),
            _ => {}
        }
        let (already, fragments) = match (header.opcode, &self.message) {
            (OpCode::Continuation, None) => {
                return Err(ProtocolError::UnexpectedContinuation.into());
            }
            (OpCode::Text | OpCode::Binary, Some(_)) => {
                return Err(ProtocolError::ExpectedContinuation.into());
            }
            (OpCode::Continuation, Some(message)) => (message.accounted, message.fragments + 1),
            _ => (0, 1),
        };
        if header.payload_len > self.limits.max_frame_size as u64 {
            return Err(CapacityError::FrameTooLarge {
                size: header.payload_len,
                limit: self.limits.max_frame_size,
            }
            .into());
        }
        if !header.opcode.is_control() {
            let fragmented = !header.fin || header.opcode == OpCode::Continuation;
            let overhead = if fragmented { FRAGMENT_OVERHEAD } else { 0 };
            let size = already + header.payload_len + overhead;
            if size > self.limits.max_message_size as u64 {
                return Err(CapacityError::MessageTooLarge {
                    size,
                    limit: self.limits.max_message_size,
                }
                .into());
            }
            if fragments > self.limits.max_fragments {
                return Err(CapacityError::TooManyFragments {
                    limit: self.limits.max_fragments,
                }
                .into());
            }
        }
        if header.opcode == OpCode::Text {
            self.incoming_utf8.reset();
        }
        Ok(IncomingFrame {
            header,
            unmasked: 0,
            compressed,
        })
    }

    /// Unmasks and checks the part of a frame's payload that has arrived since the last
    /// call (see [`check_payload`]); returns how much of it is unmasked now.
    fn unmask_arrived(&mut self, frame: IncomingFrame) -> Result<usize, Error> {
        let arrived = self.input.len().min(frame.len());
        if arrived <= frame.unmasked {
            return Ok(frame.unmasked);
        }
        if let Some(fresh) = self.input.get_mut(frame.unmasked..arrived) {
            let text = frame.is_text(self.message.as_deref());
            check_payload(&frame, text, fresh, frame.unmasked, &mut self.incoming_utf8)?;
        }
        Ok(arrived)
    }

    /// Acts on a complete frame; returns the event it completes, if any.
    fn finish_frame(
        &mut self,
        frame: IncomingFrame,
        payload: Bytes,
    ) -> Result<Option<Event>, Error> {
        let header = frame.header;
        match header.opcode {
            OpCode::Text | OpCode::Binary => {
                let kind = if header.opcode == OpCode::Text {
                    MessageKind::Text
                } else {
                    MessageKind::Binary
                };
                if frame.compressed {
                    let overhead = if header.fin { 0 } else { FRAGMENT_OVERHEAD };
                    self.message = Some(Box::new(IncomingMessage {
                        kind,
                        data: BytesMut::new(),
                        fragments: 1,
                        accounted: payload.len() as u64 + overhead,
                        compressed: true,
                    }));
                    return self.inflate_frame(&payload, header.fin);
                }
                if header.fin {
                    return self.complete_message(kind, payload).map(Some);
                }
                let mut data = BytesMut::with_capacity(payload.len());
                data.extend_from_slice(&payload);
                self.message = Some(Box::new(IncomingMessage {
                    kind,
                    data,
                    fragments: 1,
                    accounted: payload.len() as u64 + FRAGMENT_OVERHEAD,
                    compressed: false,
                }));
                Ok(None)
            }
            OpCode::Continuation => {
                let Some(message) = &mut self.message else {
                    return Err(ProtocolError::UnexpectedContinuation.into());
                };
                message.fragments += 1;
                message.accounted += payload.len() as u64 + FRAGMENT_OVERHEAD;
                if message.compressed {
                    return self.inflate_frame(&payload, header.fin);
                }
                message.data.extend_from_slice(&payload);
                if !header.fin {
                    return Ok(None);
                }
                let Some(message) = self.message.take() else {
                    return Ok(None);
                };
                self.complete_message(message.kind, message.data.freeze())
                    .map(Some)
            }
            OpCode::Ping => {
                if self.state == State::Open {
                    if self.output.len() < PONG_BACKLOG {
                        self.encode_frame(OpCode::Pong, &payload, true)?;
                    } else {
                        self.unanswered_ping = Some(Box::new(payload.clone()));
                    }
                }
                Ok(Some(Event::Ping(payload)))
            }
            OpCode::Pong => Ok(Some(Event::Pong(payload))),
            OpCode::Close => {
                let frame = parse_close_payload(&payload)?;
                if self.state == State::Open {
                    // Echo the peer's code; an empty close is answered with an empty one.
                    let reply = if frame.code == CloseCode::NO_STATUS {
                        &[][..]
                    } else {
                        payload.get(..2).unwrap_or_default()
                    };
                    self.encode_frame(OpCode::Close, reply, true)?;
                }
                self.state = State::Closed;
                self.input = BytesMut::new();
                self.message = None;
                Ok(Some(Event::Close(frame)))
            }
        }
    }

    /// Inflates a frame of a compressed message (permessage-deflate) within the message
    /// size limit, validating text as it comes out; completes the message on its last frame.
    #[cfg(feature = "deflate")]
    fn inflate_frame(&mut self, payload: &[u8], last: bool) -> Result<Option<Event>, Error> {
        use crate::deflate::InflateError;
        let limit = self.limits.max_message_size;
        let kind = self
            .message
            .as_ref()
            .map(|message| message.kind)
            .ok_or(ProtocolError::UnexpectedContinuation)?;
        let deflate = self
            .deflate
            .as_mut()
            .ok_or(ProtocolError::ReservedBits(RSV1))?;
        let start = deflate
            .inflate(payload, last, limit)
            .map_err(|error| match error {
                InflateError::TooLarge => Error::from(CapacityError::MessageTooLarge {
                    size: limit as u64 + 1,
                    limit,
                }),
                InflateError::Corrupt => ProtocolError::InvalidCompressedData.into(),
            })?;
        if kind == MessageKind::Text {
            let fresh = deflate.inflated().get(start..).unwrap_or_default();
            self.incoming_utf8
                .feed(fresh)
                .map_err(|_| ProtocolError::InvalidUtf8)?;
        }
        if !last {
            return Ok(None);
        }
        let data = deflate.take_inflated();
        self.message = None;
        self.complete_message(kind, Bytes::from(data)).map(Some)
    }

    /// Without the `deflate` feature RSV1 is never allowed, so no frame is compressed.
    #[cfg(not(feature = "deflate"))]
    fn inflate_frame(&mut self, _payload: &[u8], _last: bool) -> Result<Option<Event>, Error> {
        Err(ProtocolError::ReservedBits(RSV1).into())
    }

    fn complete_message(&mut self, kind: MessageKind, payload: Bytes) -> Result<Event, Error> {
        Ok(Event::Message(match kind {
            MessageKind::Text => {
                if !self.incoming_utf8.is_complete() {
                    return Err(ProtocolError::InvalidUtf8.into());
                }
                Message::Text(Text::from_validated(payload))
            }
            MessageKind::Binary => Message::Binary(payload),
        }))
    }

    /// Fails the connection: queues a close frame with the error's code (unless ours was
    /// already sent) and stops parsing input.
    pub(super) fn fail(&mut self, error: Error) -> Error {
        if self.state == State::Open {
            let code = error.close_code().unwrap_or(CloseCode::PROTOCOL_ERROR);
            let reason = error.to_string();
            let reason = truncate_at_char_boundary(&reason, MAX_CONTROL_PAYLOAD - 2);
            let mut payload = Vec::with_capacity(2 + reason.len());
            payload.extend_from_slice(&code.0.to_be_bytes());
            payload.extend_from_slice(reason.as_bytes());
            // A masking-key failure here leaves the connection failed without a close
            // frame, which is all that can be done.
            let _ = self.encode_frame(OpCode::Close, &payload, true);
        }
        self.state = State::Failed;
        self.input = BytesMut::new();
        self.frame = None;
        self.message = None;
        error
    }
}

/// Unmasks `fresh`, a frame's payload from byte `offset` on, and, if it is `text`,
/// validates it: invalid UTF-8 fails the connection at the first bad byte, not at the end
/// of the frame.
fn check_payload(
    frame: &IncomingFrame,
    text: bool,
    fresh: &mut [u8],
    offset: usize,
    utf8: &mut Utf8Validator,
) -> Result<(), Error> {
    if let Some(key) = frame.header.mask {
        apply_mask(fresh, key, offset);
    }
    if text {
        utf8.feed(fresh).map_err(|_| ProtocolError::InvalidUtf8)?;
    }
    Ok(())
}

fn truncate_at_char_boundary(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.get(..end).unwrap_or_default()
}
