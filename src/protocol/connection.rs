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

use bytes::{Bytes, BytesMut};

use super::output::Output;
use super::timers::ProtocolTimers;
use super::utf8::Utf8Validator;
use crate::config::Config;
use crate::frame::{FrameHeader, OpCode};

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
    pub(crate) fn opcode(self) -> OpCode {
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
    /// We failed the connection because the peer broke a rule or stopped answering (a
    /// timer ran out): the close frame with the error's code is queued unless ours was sent
    /// already. Write it, then close the transport.
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
    /// Payload bytes at the front of the input already unmasked (and, for text, checked).
    unmasked: usize,
    /// The frame belongs to a message compressed with permessage-deflate.
    compressed: bool,
}

impl IncomingFrame {
    /// Its payload is text to validate as it arrives: a text frame, or a continuation of
    /// the text `message` in progress; not when compressed (validated after inflation).
    fn is_text(&self, message: Option<&IncomingMessage>) -> bool {
        !self.compressed
            && match self.header.opcode {
                OpCode::Text => true,
                OpCode::Continuation => message.is_some_and(|m| m.kind == MessageKind::Text),
                _ => false,
            }
    }

    /// The payload's length: checked against the limits when the header arrived, so it
    /// fits in memory (and in a `usize`).
    fn len(&self) -> usize {
        self.header.payload_len as usize
    }
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
    /// Compressed with permessage-deflate: the payloads go to the inflater, not `data`.
    compressed: bool,
}

/// Pings are answered at once while less than this much output is pending (a peer that
/// reads gets a pong per ping, as Autobahn 2.10 checks); beyond it, only the latest ping
/// is answered, once the output drains.
pub(crate) const PONG_BACKLOG: usize = 64 * 1024;

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
/// use std::io::{IoSlice, Write};
/// use rfc6455::{Config, Connection, Event, Message, Role};
///
/// let mut server = Connection::new(Role::Server, &Config::default());
/// // A masked text frame "Hello" from RFC 6455 section 5.7, arriving in two reads.
/// server.receive(&[0x81, 0x85, 0x37, 0xfa, 0x21]);
/// assert_eq!(server.poll_event().unwrap(), None);
/// server.receive(&[0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
/// let Some(Event::Message(message)) = server.poll_event().unwrap() else { panic!() };
/// assert_eq!(message.as_text(), Some("Hello"));
///
/// server.send(message).unwrap(); // echo
/// let mut slices = [IoSlice::new(&[]); 8];
/// let count = server.output_slices(&mut slices);
/// let mut socket = Vec::new(); // stands in for a TcpStream
/// let written = socket.write_vectored(&slices[..count]).unwrap();
/// server.advance_output(written);
/// assert_eq!(socket, [0x81, 0x05, b'H', b'e', b'l', b'l', b'o']);
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
    /// Boxed: most messages come in one frame, and an idle connection should be small.
    message: Option<Box<IncomingMessage>>,
    /// Validates the text message being received, across frames and partial payloads.
    incoming_utf8: Utf8Validator,
    output: Output,
    /// The kind of the fragmented message we are sending, if one is unfinished.
    outgoing_fragmented: Option<MessageKind>,
    /// Validates the text fragments we send.
    outgoing_utf8: Utf8Validator,
    /// The payload of the latest ping that arrived while [`PONG_BACKLOG`] bytes or more of
    /// output were pending: it is answered once the output drains, and replaces any earlier
    /// one (RFC 6455 5.5.3), so a peer that floods pings without reading cannot make us
    /// queue pongs without bound.
    unanswered_ping: Option<Box<Bytes>>,
    /// permessage-deflate, when negotiated (boxed: most connections never use it).
    #[cfg(feature = "deflate")]
    deflate: Option<Box<crate::deflate::PerMessageDeflate>>,
    /// Keep-alive, pong and close timers, run on the time the driver hands in.
    timers: ProtocolTimers,
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
            #[cfg(feature = "deflate")]
            deflate: None,
            timers: ProtocolTimers::new(config),
        }
    }

    /// Turns on permessage-deflate as negotiated: RSV1 marks compressed messages.
    #[cfg(feature = "deflate")]
    pub(crate) fn enable_deflate(
        &mut self,
        agreed: crate::deflate::Agreed,
        config: &crate::deflate::DeflateConfig,
    ) {
        self.allowed_rsv = crate::frame::RSV1;
        self.deflate = Some(Box::new(crate::deflate::PerMessageDeflate::new(
            agreed, config,
        )));
    }

    /// True when permessage-deflate was negotiated for this connection.
    pub fn is_compressed(&self) -> bool {
        #[cfg(feature = "deflate")]
        return self.deflate.is_some();
        #[cfg(not(feature = "deflate"))]
        return false;
    }

    /// Our role.
    #[inline]
    pub fn role(&self) -> Role {
        self.role
    }

    /// The connection's state.
    #[inline]
    pub fn state(&self) -> State {
        self.state
    }

    /// True once the close handshake is over or the connection failed: after the output is
    /// written, the transport should be closed.
    #[inline]
    pub fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed | State::Failed)
    }

    // ----- output ----------------------------------------------------------------------

    /// Queues bytes to be written before anything sent later: the runtime uses it for the
    /// 101 response, which must precede the first frame.
    #[cfg(any(test, feature = "server"))]
    pub(crate) fn queue_raw(&mut self, bytes: &[u8]) {
        self.output.tail_mut().extend_from_slice(bytes);
        self.output.appended(bytes.len());
    }

    /// Fills `dst` with the pending output, in order, for a vectored write
    /// (`write_vectored`); returns how many slices were filled (0 when nothing is pending).
    /// After the write, report how much was taken with
    /// [`advance_output`](Self::advance_output). Frames queued by reference (a broadcast,
    /// a large payload) are slices of their own, so writing them copies nothing.
    #[inline]
    pub fn output_slices<'a>(&'a self, dst: &mut [IoSlice<'a>]) -> usize {
        self.output.io_slices(dst)
    }

    /// Drops the first `n` bytes of pending output, which the transport has taken.
    ///
    /// # Panics
    /// If `n` is more than [`buffered_amount`](Self::buffered_amount).
    #[inline]
    pub fn advance_output(&mut self, n: usize) {
        self.output.advance(n);
        if self.unanswered_ping.is_some() {
            self.answer_latest_ping();
        }
    }

    /// Once the output has drained, answers the latest ping that arrived meanwhile.
    fn answer_latest_ping(&mut self) {
        if self.output.len() == 0
            && let Some(payload) = self.unanswered_ping.take().map(|payload| *payload)
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
    #[cfg(any(test, feature = "server"))]
    pub(crate) fn swap_output_buffer(&mut self, buffer: &mut BytesMut) -> bool {
        self.output.swap_tail(buffer)
    }

    /// Bytes queued and not yet written (as the browser API's `bufferedAmount`).
    #[inline]
    pub fn buffered_amount(&self) -> usize {
        self.output.len()
    }

    /// Frees the memory of empty buffers; an idle connection then holds none.
    pub(crate) fn release_memory(&mut self) {
        if self.input.is_empty() {
            self.input = BytesMut::new();
        }
        self.output.release_memory();
    }

    /// The bytes of buffer memory this connection holds (capacities, not contents).
    #[cfg(test)]
    pub(crate) fn buffer_memory(&self) -> usize {
        #[cfg(feature = "deflate")]
        let deflate = self.deflate.as_ref().map_or(0, |d| d.memory());
        #[cfg(not(feature = "deflate"))]
        let deflate = 0;
        self.input.capacity()
            + self.message.as_ref().map_or(0, |m| m.data.capacity())
            + self.output.memory()
            + deflate
    }
}

mod receive;
mod send;
mod timeouts;

#[cfg(test)]
#[allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]
mod tests;
