//! [`Connection`]: the WebSocket state machine after the handshake.
//!
//! It owns the bytes received but not yet parsed, the message being reassembled, and the
//! bytes encoded but not yet written. It turns input into [`Event`]s, validates everything
//! RFC 6455 asks (masking direction, reserved bits, fragmentation, UTF-8, close codes,
//! limits), answers pings and close frames by itself, and fails the connection with the
//! right close code when the peer breaks a rule.

// Input reaches this module: no indexing, unwrap, expect or panic that it could trigger.
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::io::IoSlice;

use bytes::{Buf, Bytes, BytesMut};

use super::close::parse_close_payload;
use super::output::Output;
use super::utf8::Utf8Validator;
use super::{CloseCode, EncodedMessage, Event, Message, Text};
use crate::config::Config;
use crate::error::{CapacityError, Error, ProtocolError, UsageError};
use crate::frame::{FrameHeader, MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN, OpCode, apply_mask};

/// Payloads at least this long are queued by reference by [`Connection::send_shared`];
/// shorter ones are cheaper to copy next to their header.
const SHARE_PAYLOADS_FROM: usize = 4096;

/// Which end of the connection we are: it decides who masks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// We accepted the connection: incoming frames must be masked, ours are not.
    Server,
    /// We opened the connection: our frames are masked, incoming ones must not be.
    Client,
}

/// The kind of a data message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// UTF-8 text.
    Text,
    /// Arbitrary bytes.
    Binary,
}

impl MessageKind {
    fn opcode(self) -> OpCode {
        match self {
            MessageKind::Text => OpCode::Text,
            MessageKind::Binary => OpCode::Binary,
        }
    }
}

/// Where a connection is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Messages flow both ways.
    Open,
    /// We sent a close frame and wait for the peer's; incoming messages are still reported.
    CloseSent,
    /// Both close frames were exchanged. Write the remaining output, then close the
    /// transport (a server closes first; a client may wait briefly for the server to).
    Closed,
    /// We failed the connection because the peer broke a rule: the close frame with the
    /// error's code is queued. Write it, then close the transport.
    Failed,
}

/// The limits a connection enforces, copied out of [`Config`].
#[derive(Debug, Clone, Copy)]
struct Limits {
    max_frame_size: usize,
    max_message_size: usize,
    max_fragments: usize,
}

/// The frame whose header has been read and whose payload is arriving.
#[derive(Debug, Clone, Copy)]
struct IncomingFrame {
    header: FrameHeader,
    /// Payload length (checked against the limits, so it fits in memory).
    len: usize,
    /// Payload bytes at the front of the input already unmasked (and, for text, checked).
    unmasked: usize,
}

/// A fragmented message being reassembled.
#[derive(Debug)]
struct IncomingMessage {
    kind: MessageKind,
    data: BytesMut,
    fragments: usize,
    /// What counts against `max_message_size`: the payload plus
    /// [`FRAGMENT_OVERHEAD`] per fragment.
    accounted: u64,
}

/// What each fragment of a fragmented message counts against `max_message_size` on top of
/// its payload (about a frame header's worth). Fragments are appended to one buffer, so
/// they cost no memory of their own; counting them anyway means a stream of tiny or empty
/// fragments reaches the limit, as the work it causes grows with their number.
pub(crate) const FRAGMENT_OVERHEAD: u64 = 16;

/// A WebSocket connection after a successful handshake, with no I/O of its own.
///
/// Feed it the bytes you read, take the events, queue sends, write its output:
///
/// ```
/// use rfc6455::{Config, Connection, Event, Role};
///
/// let mut server = Connection::new(Role::Server, &Config::default());
/// // A masked text frame "Hello" from RFC 6455 section 5.7, arriving in two reads.
/// server.receive(&[0x81, 0x85, 0x37, 0xfa, 0x21]);
/// assert_eq!(server.poll_event().unwrap(), None);
/// server.receive(&[0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
/// let Some(Event::Text(text)) = server.poll_event().unwrap() else { panic!() };
/// assert_eq!(text, "Hello");
///
/// server.send_text("Hello").unwrap();
/// assert_eq!(server.pending_output(), &[0x81, 0x05, b'H', b'e', b'l', b'l', b'o']);
/// let written = server.pending_output().len(); // as if a write() took it all
/// server.advance_output(written);
/// assert_eq!(server.buffered_amount(), 0);
/// ```
#[derive(Debug)]
pub struct Connection {
    role: Role,
    state: State,
    limits: Limits,
    /// RSV bits that negotiated extensions claim.
    allowed_rsv: u8,
    /// Received bytes not yet turned into events.
    input: BytesMut,
    frame: Option<IncomingFrame>,
    message: Option<IncomingMessage>,
    /// Validates the text message being received, across frames and partial payloads.
    incoming_utf8: Utf8Validator,
    output: Output,
    /// The kind of the fragmented message we are sending, if one is unfinished.
    outgoing_fragmented: Option<MessageKind>,
    /// Validates the text fragments we send.
    outgoing_utf8: Utf8Validator,
    /// The payload of the latest ping that arrived while output was pending: it is
    /// answered once the output drains, and replaces any earlier one (RFC 6455 5.5.3), so a
    /// peer that floods pings without reading cannot make us queue pongs without bound.
    unanswered_ping: Option<Bytes>,
}

impl Connection {
    /// A connection in the [`Open`](State::Open) state, enforcing `config`'s limits.
    pub fn new(role: Role, config: &Config) -> Connection {
        Connection {
            role,
            state: State::Open,
            limits: Limits {
                max_frame_size: config.max_frame_size,
                max_message_size: config.max_message_size,
                max_fragments: config.max_fragments,
            },
            allowed_rsv: 0,
            input: BytesMut::new(),
            frame: None,
            message: None,
            incoming_utf8: Utf8Validator::default(),
            output: Output::default(),
            outgoing_fragmented: None,
            outgoing_utf8: Utf8Validator::default(),
            unanswered_ping: None,
        }
    }

    /// Our role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The connection's state.
    pub fn state(&self) -> State {
        self.state
    }

    /// True once the close handshake is over or the connection failed: after the output is
    /// written, the transport should be closed.
    pub fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed | State::Failed)
    }

    // ----- input -----------------------------------------------------------------------

    /// Hands over bytes read from the transport. Take the events with
    /// [`poll_event`](Self::poll_event) before receiving more: input is only parsed there,
    /// so memory stays bounded by one frame (`max_frame_size`) plus what was handed over.
    ///
    /// Bytes received after the connection closed or failed are discarded.
    pub fn receive(&mut self, data: &[u8]) {
        if !self.is_closed() {
            self.input.extend_from_slice(data);
        }
    }

    /// Hands over an owned buffer of bytes read from the transport; when nothing is
    /// pending, the buffer is adopted without copying.
    pub fn receive_bytes(&mut self, data: BytesMut) {
        if self.is_closed() {
            return;
        }
        if self.input.is_empty() {
            self.input = data;
        } else {
            self.input.extend_from_slice(&data);
        }
    }

    /// Takes the received bytes not yet parsed (the start of an incomplete frame), leaving
    /// the connection's input empty. With [`receive_bytes`](Self::receive_bytes) this lets
    /// a driver lend one read buffer to many connections: hand it over, take the events,
    /// take it back, and keep only an incomplete frame's bytes per connection.
    pub fn take_input(&mut self) -> BytesMut {
        std::mem::take(&mut self.input)
    }

    /// The number of received bytes not yet turned into events.
    pub fn buffered_input(&self) -> usize {
        self.input.len()
    }

    /// The next event, `Ok(None)` when the input holds no complete one.
    ///
    /// When the peer breaks a rule, the connection is failed: the close frame with the
    /// matching code (1002 protocol error, 1007 invalid UTF-8, 1009 too big) is queued in
    /// the output, the state becomes [`Failed`](State::Failed), and the error says exactly
    /// what was wrong. After that, `Ok(None)` forever.
    pub fn poll_event(&mut self) -> Result<Option<Event>, Error> {
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
                        self.input.advance(header_len);
                        self.frame = Some(frame);
                        frame
                    }
                },
            };
            self.unmask_arrived(frame)?;
            if self.input.len() < frame.len {
                return Ok(None);
            }
            self.frame = None;
            let payload = self.input.split_to(frame.len).freeze();
            if let Some(event) = self.finish_frame(frame.header, payload)? {
                return Ok(Some(event));
            }
        }
    }

    /// Checks a new frame's header against the connection's rules and limits.
    fn start_frame(&mut self, header: FrameHeader) -> Result<IncomingFrame, Error> {
        if header.rsv & !self.allowed_rsv != 0 {
            return Err(ProtocolError::ReservedBits(header.rsv).into());
        }
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
            // Cannot truncate: it is at most `max_frame_size`, a usize.
            len: header.payload_len as usize,
            unmasked: 0,
        })
    }

    /// Unmasks the part of the current frame's payload that has arrived since the last
    /// call and, inside a text message, validates it: invalid UTF-8 fails the connection
    /// at the first bad byte, not at the end of the frame.
    fn unmask_arrived(&mut self, frame: IncomingFrame) -> Result<(), Error> {
        let arrived = self.input.len().min(frame.len);
        if arrived <= frame.unmasked {
            return Ok(());
        }
        let Some(fresh) = self.input.get_mut(frame.unmasked..arrived) else {
            return Ok(());
        };
        if let Some(key) = frame.header.mask {
            apply_mask(fresh, key, frame.unmasked);
        }
        let is_text = match frame.header.opcode {
            OpCode::Text => true,
            OpCode::Continuation => {
                matches!(&self.message, Some(m) if m.kind == MessageKind::Text)
            }
            _ => false,
        };
        if is_text {
            self.incoming_utf8
                .feed(fresh)
                .map_err(|_| ProtocolError::InvalidUtf8)?;
        }
        if let Some(current) = &mut self.frame {
            current.unmasked = arrived;
        }
        Ok(())
    }

    /// Acts on a complete frame; returns the event it completes, if any.
    fn finish_frame(
        &mut self,
        header: FrameHeader,
        payload: Bytes,
    ) -> Result<Option<Event>, Error> {
        match header.opcode {
            OpCode::Text | OpCode::Binary => {
                let kind = if header.opcode == OpCode::Text {
                    MessageKind::Text
                } else {
                    MessageKind::Binary
                };
                if header.fin {
                    return self.complete_message(kind, payload).map(Some);
                }
                let mut data = BytesMut::with_capacity(payload.len());
                data.extend_from_slice(&payload);
                self.message = Some(IncomingMessage {
                    kind,
                    data,
                    fragments: 1,
                    accounted: payload.len() as u64 + FRAGMENT_OVERHEAD,
                });
                Ok(None)
            }
            OpCode::Continuation => {
                let Some(message) = &mut self.message else {
                    return Err(ProtocolError::UnexpectedContinuation.into());
                };
                message.data.extend_from_slice(&payload);
                message.fragments += 1;
                message.accounted += payload.len() as u64 + FRAGMENT_OVERHEAD;
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
                    if self.output.len() == 0 {
                        self.encode_frame(OpCode::Pong, &payload, true)?;
                    } else {
                        self.unanswered_ping = Some(payload.clone());
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

    fn complete_message(&mut self, kind: MessageKind, payload: Bytes) -> Result<Event, Error> {
        Ok(match kind {
            MessageKind::Text => {
                if !self.incoming_utf8.is_complete() {
                    return Err(ProtocolError::InvalidUtf8.into());
                }
                Event::Text(Text::from_validated(payload))
            }
            MessageKind::Binary => Event::Binary(payload),
        })
    }

    /// Fails the connection: queues a close frame with the error's code (unless ours was
    /// already sent) and stops parsing input.
    fn fail(&mut self, error: Error) -> Error {
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

    // ----- sending ---------------------------------------------------------------------

    /// Queues a text message.
    pub fn send_text(&mut self, text: &str) -> Result<(), Error> {
        self.send_message(OpCode::Text, text.as_bytes())
    }

    /// Queues a binary message.
    pub fn send_binary(&mut self, data: &[u8]) -> Result<(), Error> {
        self.send_message(OpCode::Binary, data)
    }

    /// Queues a [`Message`]; a server queues a large payload without copying it.
    pub fn send(&mut self, message: Message) -> Result<(), Error> {
        let kind = message.kind();
        self.send_shared(kind, message.into_bytes())
    }

    /// Queues a message whose payload is already in [`Bytes`]. A server queues a large
    /// payload as it is, without copying it; a client copies it (it must mask it).
    pub fn send_shared(&mut self, kind: MessageKind, payload: Bytes) -> Result<(), Error> {
        if self.role == Role::Client || payload.len() < SHARE_PAYLOADS_FROM {
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
        self.encode_frame(opcode, payload, true)
    }

    /// Queues a message framed once with [`EncodedMessage`], sharing its bytes instead of
    /// copying them. Only a server can: a client must mask each frame itself.
    pub fn send_encoded(&mut self, message: &EncodedMessage) -> Result<(), Error> {
        if self.role == Role::Client {
            return Err(UsageError::EncodedFrameOnClient.into());
        }
        self.check_can_send_data()?;
        if self.outgoing_fragmented.is_some() {
            return Err(UsageError::FragmentedMessageInProgress.into());
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
    /// server.send_ping(b"").unwrap();
    /// server.send_fragment(MessageKind::Text, "lo".as_bytes(), true).unwrap();
    /// assert_eq!(
    ///     server.pending_output(),
    ///     &[0x01, 3, b'h', b'e', b'l', 0x89, 0, 0x80, 2, b'l', b'o'],
    /// );
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
        self.encode_frame(opcode, payload, is_final)?;
        self.outgoing_fragmented = if is_final { None } else { Some(kind) };
        Ok(())
    }

    /// Queues a ping (at most 125 bytes of payload).
    pub fn send_ping(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.send_control(OpCode::Ping, payload)
    }

    /// Queues an unsolicited pong (at most 125 bytes). Pings are answered automatically.
    pub fn send_pong(&mut self, payload: &[u8]) -> Result<(), Error> {
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
    fn encode_frame(&mut self, opcode: OpCode, payload: &[u8], fin: bool) -> Result<(), Error> {
        let mask = match self.role {
            Role::Client => Some(crate::random::mask_key()?),
            Role::Server => None,
        };
        let header = FrameHeader {
            fin,
            rsv: 0,
            opcode,
            mask,
            payload_len: payload.len() as u64,
        };
        let mut head = [0u8; MAX_HEADER_LEN];
        let head_len = header.encode(&mut head);
        let head = head.get(..head_len).unwrap_or_default();
        let tail = self.output.tail_mut();
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

    // ----- output ----------------------------------------------------------------------

    /// Queues bytes to be written before anything sent later: the runtime uses it for the
    /// 101 response, which must precede the first frame.
    #[cfg(feature = "server")]
    pub(crate) fn queue_raw(&mut self, bytes: Bytes) {
        self.output.push_shared(bytes);
    }

    /// The next bytes to write to the transport (empty when nothing is pending). After a
    /// write, report how much was taken with [`advance_output`](Self::advance_output).
    pub fn pending_output(&self) -> &[u8] {
        self.output.front()
    }

    /// Fills `dst` with the pending output, in order, for a vectored write; returns how
    /// many slices were filled.
    pub fn output_slices<'a>(&'a self, dst: &mut [IoSlice<'a>]) -> usize {
        self.output.io_slices(dst)
    }

    /// Drops the first `n` bytes of pending output, which the transport has taken.
    ///
    /// # Panics
    /// If `n` is more than [`buffered_amount`](Self::buffered_amount).
    pub fn advance_output(&mut self, n: usize) {
        self.output.advance(n);
        self.answer_latest_ping();
    }

    /// Once the output has drained, answers the latest ping that arrived meanwhile.
    fn answer_latest_ping(&mut self) {
        if self.output.len() == 0
            && let Some(payload) = self.unanswered_ping.take()
            && self.state == State::Open
        {
            // Masking-key failure: the ping goes unanswered, which a peer tolerates.
            let _ = self.encode_frame(OpCode::Pong, &payload, true);
        }
    }

    /// Exchanges the buffer small frames are encoded into with `buffer`, if nothing is
    /// pending; returns false (and changes nothing) otherwise. A driver lends its write
    /// buffer before a burst of sends and takes it back once the output is written, so an
    /// idle connection holds no output buffer and a busy one allocates none.
    pub fn swap_output_buffer(&mut self, buffer: &mut BytesMut) -> bool {
        if self.output.len() != 0 {
            return false;
        }
        buffer.clear();
        std::mem::swap(self.output.tail_mut(), buffer);
        true
    }

    /// Takes the next chunk of pending output as owned bytes.
    pub fn take_output(&mut self) -> Option<Bytes> {
        let chunk = self.output.pop_chunk();
        self.answer_latest_ping();
        chunk
    }

    /// Bytes queued and not yet written (as the browser API's `bufferedAmount`).
    pub fn buffered_amount(&self) -> usize {
        self.output.len()
    }

    /// Frees the memory of empty buffers; an idle connection then holds none.
    pub fn release_memory(&mut self) {
        if self.input.is_empty() {
            self.input = BytesMut::new();
        }
        self.output.release_memory();
    }

    /// The bytes of buffer memory this connection holds (capacities, not contents).
    pub fn buffer_memory(&self) -> usize {
        self.input.capacity()
            + self.message.as_ref().map_or(0, |m| m.data.capacity())
            + self.output.memory()
    }
}

fn truncate_at_char_boundary(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.get(..end).unwrap_or_default()
}

#[cfg(test)]
#[allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]
mod tests;
