//! [`Conn`]: one connection of a loop, from the accepted (or connecting) socket to its last
//! byte. It owns the socket and the phase (reading the head, waiting for the application's
//! answer, open, closing, draining) and makes every phase change itself; the loop routes
//! readiness and deadlines to it and tells the application what the outcomes say.

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::time::Instant;

use bytes::BytesMut;

use super::answer::{Answer, Awaiting};
use super::client::ClientOrigin;
use super::commands::SocketId;
use super::io::{write_bytes, write_connection};
use super::read_plan::{FrameRead, Lease, Reader};
use super::rooms::RoomName;
use super::transport::Transport;
use crate::config::{Backpressure, Config};
use crate::error::{CapacityError, Error, HandshakeError, UsageError};
use crate::handshake::{
    BodyDecoder, ClientHandshake, HttpRequest, HttpResponse, Incoming, ServerHandshake,
    UpgradeRequest, UpgradeResponse,
};
use crate::protocol::{CloseCode, Connection, Role, State};

/// Where a connection is in its life.
#[allow(
    clippy::large_enum_variant,
    reason = "Open is the steady state of every connection; boxing it would add an \
              allocation per connection and an indirection per message"
)]
enum Phase<D> {
    /// Server side: reading the request head.
    Handshake(Box<ServerHandshake>),
    /// Server side: the upgrade request is in; the application's answer is awaited (it may
    /// come later, from another thread). Nothing more is read until it comes.
    Answering(Box<UpgradeRequest>, Awaiting<Answer<D>>),
    /// Client side: the TCP connection is being established.
    Connecting(Box<ClientHandshake>),
    /// Client side: writing the request (`written` bytes so far), then reading the response.
    Upgrading(Box<ClientHandshake>, usize),
    /// Server side: reading the body of a plain HTTP request.
    Body(Box<PendingBody>),
    /// Server side: a plain HTTP request waits for the application's answer (a long-poll
    /// held open). Nothing more is read until it comes.
    HttpAnswering(Box<HttpRequest>, Awaiting<HttpResponse>),
    /// Writing a plain HTTP response (or a refusal); then the connection closes, or with
    /// HTTP/1.1 keep-alive reads the next request.
    Http(HttpOut),
    /// The WebSocket is open (or closing: see the connection's state).
    Open(Connection),
    /// Closed and its last bytes written; waiting for the peer to close its side of TCP (or
    /// the close timeout, or [`MAX_DISCARDED`] more bytes) before the socket is dropped.
    Draining(Discarded),
}

/// How many bytes a finished connection has read and thrown away.
type Discarded = u32;

/// A plain HTTP request whose body is being read.
struct PendingBody {
    request: HttpRequest,
    decoder: BodyDecoder,
    body: Vec<u8>,
    /// What came after the body (a pipelined request), once it is complete.
    after: Vec<u8>,
}

impl PendingBody {
    /// Takes what of `data` belongs to the body; true once the body is complete.
    fn feed(&mut self, data: &[u8]) -> Result<bool, HandshakeError> {
        let progress = self.decoder.decode(data, &mut self.body)?;
        if progress.done {
            self.after
                .extend_from_slice(data.get(progress.consumed..).unwrap_or_default());
        }
        Ok(progress.done)
    }
}

/// An HTTP response being written.
struct HttpOut {
    bytes: Box<[u8]>,
    written: usize,
    /// Closing after it: what the peer sends meanwhile is read and thrown away.
    discarded: Discarded,
    /// Keep-alive: the next request follows (nothing is read until the response is out,
    /// so that a pipelined request waits in the socket).
    keep_alive: bool,
}

/// The most a finished connection (a refused head, a closed WebSocket) reads and throws
/// away while it waits for its peer's end, so that our last bytes are not destroyed by a
/// reset: a peer that keeps sending past it is cut off at once instead of being read at
/// line rate until the close timeout.
pub(crate) const MAX_DISCARDED: u32 = 64 * 1024;

/// The peer closed its side and nothing it sent is left to read (bytes still waiting
/// would be a pipelined request, read after the answer), or the socket failed.
fn peer_is_gone(stream: &Transport) -> bool {
    match stream.tcp().peek(&mut [0u8; 1]) {
        Ok(count) => count == 0,
        Err(error) => !matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted),
    }
}

/// What one read of a connection's socket came to.
#[derive(Debug)]
pub(crate) enum Readable {
    /// Nothing more to read for now.
    Blocked,
    /// Something was read and more may be waiting: read again.
    More,
    /// Bytes went to the WebSocket: take its events, settle the lease with the reader, then
    /// read again unless the socket is `drained`.
    Frames { lease: Lease, drained: bool },
    /// A request head arrived (server side): answer it (a plain request's body is read
    /// next, through [`Conn::read_body`]).
    Request(Incoming),
    /// A plain HTTP request's body is complete: answer it.
    Http(HttpRequest),
    /// The client handshake completed: the WebSocket is open.
    Opened,
    /// The peer went away or the socket failed (or, for a client, the server refused).
    Lost(Option<Error>),
    /// A finished connection's peer closed its side too: drop it.
    Gone,
}

/// What a deadline of a connection came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Deadline {
    /// Nothing is due yet (the deadline moved later).
    NotYet,
    /// The WebSocket's own timers ran: take its events (a timeout shows as an error) and
    /// write what it queued (a keep-alive ping).
    Protocol,
    /// The opening handshake took too long.
    HandshakeTimedOut,
    /// A finished connection's last bytes or its peer's close took too long: drop it.
    Remove,
}

/// A connection's slot in the loop.
pub(crate) struct Conn<D> {
    id: SocketId,
    stream: Transport,
    peer: SocketAddr,
    phase: Phase<D>,
    /// The request target (path and query) and the chosen subprotocol.
    target: Box<str>,
    protocol: Option<Box<str>>,
    rooms: Vec<RoomName>,
    data: D,
    /// What few connections carry: a client's origin, a kept request.
    extras: Option<Box<Extras>>,
    /// When the current phase started (the handshake, or the end of the WebSocket).
    since: Instant,
    /// The time of this connection's live entry in the loop's timer heap.
    timer_at: Option<Instant>,
    /// In the loop's list of connections to write at the end of this turn.
    dirty: bool,
    /// `on_close` has run (or the socket never opened): no more handler calls.
    finished: bool,
    /// The application closed it: a client does not reconnect.
    closed_by_app: bool,
    /// The write queue went above the low-water mark (or refused a send): `on_drain` runs
    /// when it falls back to it.
    above_low_water: bool,
}

/// What only some connections carry, boxed so that the others pay 8 bytes for it.
#[derive(Debug, Default)]
struct Extras {
    /// Set for client connections: where to reconnect.
    origin: Option<ClientOrigin>,
    /// The upgrade request, when the application keeps it for the socket's lifetime.
    request: Option<HttpRequest>,
    /// Bytes of the next request, read with the last one's body (HTTP/1.1 pipelining).
    pipelined: Vec<u8>,
}

/// A deferred answer the application gave, with the request it answers.
pub(crate) enum Answered<D> {
    Upgrade(Box<UpgradeRequest>, Answer<D>),
    Http(Box<HttpRequest>, HttpResponse),
}

/// What writing a connection's output came to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Flushed {
    /// The write queue fell to the low-water mark after having been above it:
    /// `on_drain` is due.
    pub(crate) drained: bool,
    /// An HTTP response went out and the connection waits for the next request: read it
    /// (it may be in the socket already, which an edge-triggered poll will not report).
    pub(crate) read_again: bool,
}

/// What a head read made of its bytes.
#[allow(
    clippy::large_enum_variant,
    reason = "a value on the stack, once per handshake"
)]
enum Head {
    Server(Result<Option<Incoming>, HandshakeError>),
    Client(Result<Option<(UpgradeResponse, Connection)>, HandshakeError>),
    Neither,
}

impl<D: Default> Conn<D> {
    /// A connection a listener accepted: its handshake starts.
    pub(crate) fn accepted(
        id: SocketId,
        stream: Transport,
        peer: SocketAddr,
        config: &Config,
        now: Instant,
    ) -> Conn<D> {
        let handshake = Box::new(ServerHandshake::new(config));
        Conn::new(id, stream, peer, Phase::Handshake(handshake), None, now)
    }

    /// A client connection being established.
    pub(crate) fn connecting(
        id: SocketId,
        stream: Transport,
        peer: SocketAddr,
        handshake: Box<ClientHandshake>,
        origin: Box<ClientOrigin>,
        now: Instant,
    ) -> Conn<D> {
        let phase = Phase::Connecting(handshake);
        let extras = Extras {
            origin: Some(*origin),
            ..Extras::default()
        };
        Conn::new(id, stream, peer, phase, Some(Box::new(extras)), now)
    }

    fn new(
        id: SocketId,
        stream: Transport,
        peer: SocketAddr,
        phase: Phase<D>,
        extras: Option<Box<Extras>>,
        now: Instant,
    ) -> Conn<D> {
        Conn {
            id,
            stream,
            peer,
            phase,
            target: Box::from(""),
            protocol: None,
            rooms: Vec::new(),
            data: D::default(),
            extras,
            since: now,
            timer_at: None,
            dirty: false,
            finished: false,
            closed_by_app: false,
            above_low_water: false,
        }
    }
}

impl<D> Conn<D> {
    // ----- what the application sees -------------------------------------------------

    pub(crate) fn id(&self) -> SocketId {
        self.id
    }

    pub(crate) fn peer(&self) -> SocketAddr {
        self.peer
    }

    pub(crate) fn target(&self) -> &str {
        &self.target
    }

    pub(crate) fn protocol(&self) -> Option<&str> {
        self.protocol.as_deref()
    }

    pub(crate) fn request(&self) -> Option<&HttpRequest> {
        self.extras.as_ref()?.request.as_ref()
    }

    pub(crate) fn data(&self) -> &D {
        &self.data
    }

    pub(crate) fn data_mut(&mut self) -> &mut D {
        &mut self.data
    }

    pub(crate) fn rooms(&self) -> &[RoomName] {
        &self.rooms
    }

    pub(crate) fn rooms_mut(&mut self) -> &mut Vec<RoomName> {
        &mut self.rooms
    }

    pub(crate) fn connection(&self) -> Option<&Connection> {
        match &self.phase {
            Phase::Open(connection) => Some(connection),
            _ => None,
        }
    }

    pub(crate) fn connection_mut(&mut self) -> Option<&mut Connection> {
        match &mut self.phase {
            Phase::Open(connection) => Some(connection),
            _ => None,
        }
    }

    /// True while messages can be sent: open, and no close frame sent or received.
    pub(crate) fn can_send(&self) -> bool {
        !self.finished && self.connection().is_some_and(|c| c.state() == State::Open)
    }

    pub(crate) fn is_open(&self) -> bool {
        matches!(self.phase, Phase::Open(_))
    }

    pub(crate) fn is_client(&self) -> bool {
        self.extras
            .as_ref()
            .is_some_and(|extras| extras.origin.is_some())
    }

    /// Still reading the head or waiting for the answer to it.
    pub(crate) fn is_handshaking(&self) -> bool {
        matches!(
            self.phase,
            Phase::Handshake(_)
                | Phase::Answering(..)
                | Phase::Body(_)
                | Phase::HttpAnswering(..)
                | Phase::Connecting(_)
                | Phase::Upgrading(..)
        )
    }

    // ----- the loop's bookkeeping ----------------------------------------------------

    /// Lists the connection among those to write at the end of the turn; false if it was.
    pub(crate) fn mark_dirty(&mut self) -> bool {
        !std::mem::replace(&mut self.dirty, true)
    }

    /// The next moment something must happen to this connection, whatever it is.
    pub(crate) fn deadline(&self, config: &Config) -> Option<Instant> {
        match &self.phase {
            Phase::Handshake(_)
            | Phase::Answering(..)
            | Phase::Body(_)
            | Phase::Connecting(_)
            | Phase::Upgrading(..) => Some(self.since + config.handshake_timeout),
            Phase::HttpAnswering(..) => Some(self.since + config.http_answer_timeout),
            Phase::Http(..) | Phase::Draining(_) => Some(self.since + config.close_timeout),
            Phase::Open(connection) => connection.poll_timeout().or_else(|| {
                connection
                    .is_closed()
                    .then(|| self.since + config.close_timeout)
            }),
        }
    }

    /// The deadline to put in the timer heap, if it is earlier than the live entry's.
    pub(crate) fn arm(&mut self, config: &Config) -> Option<Instant> {
        let deadline = self.deadline(config)?;
        if self.timer_at.is_some_and(|at| at <= deadline) {
            return None;
        }
        self.timer_at = Some(deadline);
        Some(deadline)
    }

    /// A heap entry for `at` fired: true if it was the live one.
    pub(crate) fn timer_fired(&mut self, at: Instant) -> bool {
        let live = self.timer_at == Some(at);
        if live {
            self.timer_at = None;
        }
        live
    }

    /// Reports the end of the WebSocket, once: true if the application should hear of it
    /// (it opened, or it is a client, whose failures to connect are reported too).
    pub(crate) fn finish(&mut self, now: Instant) -> bool {
        if std::mem::replace(&mut self.finished, true) {
            return false;
        }
        self.since = now;
        self.is_open() || self.is_client()
    }

    /// Not finished yet, and either open or a client: what happens to it is reported.
    pub(crate) fn is_reportable(&self) -> bool {
        !self.finished && (self.is_open() || self.is_client())
    }

    /// Where a client reconnects, unless the application closed it.
    pub(crate) fn take_origin(&mut self) -> Option<Box<ClientOrigin>> {
        let origin = self.extras.as_mut()?.origin.take();
        origin.filter(|_| !self.closed_by_app).map(Box::new)
    }

    pub(crate) fn stream_mut(&mut self) -> &mut mio::net::TcpStream {
        self.stream.tcp_mut()
    }

    // ----- readiness -----------------------------------------------------------------

    /// The socket is readable: reads once, as the phase asks. `to_the_end`: the peer
    /// closed its side, so a short read does not mean the socket is drained.
    pub(crate) fn on_readable(
        &mut self,
        reader: &mut Reader,
        now: Instant,
        to_the_end: bool,
    ) -> Readable {
        match &mut self.phase {
            Phase::Handshake(_) | Phase::Upgrading(..) => self.read_head(reader, now, to_the_end),
            Phase::Open(connection) => {
                let FrameRead {
                    result,
                    drained,
                    lease,
                } = reader.read_frames(&mut self.stream, connection, to_the_end);
                let outcome = match result {
                    Ok(0) => Readable::Lost(None),
                    Ok(_) => {
                        // What arrived is stamped with this turn's time.
                        connection.handle_timeout(now);
                        return Readable::Frames { lease, drained };
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => Readable::Blocked,
                    Err(e) if e.kind() == ErrorKind::Interrupted => Readable::More,
                    Err(e) => Readable::Lost(Some(e.into())),
                };
                reader.settle(Some(connection), lease);
                outcome
            }
            Phase::Connecting(_) => match self.check_connected(now) {
                Ok(()) => Readable::Blocked,
                Err(error) => Readable::Lost(Some(error.into())),
            },
            // A client that closes the connection while its request waits for an answer has
            // gone (a long-poll cancelled): the request is cancelled with the connection.
            Phase::HttpAnswering(..) if to_the_end && peer_is_gone(&self.stream) => {
                Readable::Lost(None)
            }
            Phase::Answering(..) | Phase::HttpAnswering(..) => Readable::Blocked,
            Phase::Body(_) => self.read_body_bytes(reader, now, to_the_end),
            Phase::Http(HttpOut {
                keep_alive: true, ..
            }) => Readable::Blocked,
            Phase::Http(..) | Phase::Draining(_) => self.read_discard(),
        }
    }

    /// Reads part of a request head (server) or a response head (client).
    fn read_head(&mut self, reader: &mut Reader, now: Instant, to_the_end: bool) -> Readable {
        let phase = &mut self.phase;
        let mut consume = |data: &[u8]| match phase {
            Phase::Handshake(handshake) => Head::Server(handshake.receive(data)),
            Phase::Upgrading(handshake, _) => Head::Client(handshake.receive(data)),
            _ => Head::Neither,
        };
        // Bytes of a pipelined request, read with the last one, come before the socket's.
        let pipelined = self
            .extras
            .as_mut()
            .map(|extras| std::mem::take(&mut extras.pipelined))
            .filter(|bytes| !bytes.is_empty());
        let (head, incomplete) = if let Some(bytes) = pipelined {
            (consume(&bytes), Readable::More)
        } else {
            match head_read(reader.read_head(&mut self.stream, consume), to_the_end) {
                Ok(read) => read,
                Err(error) => return no_bytes(error),
            }
        };
        match head {
            Head::Server(Ok(None)) | Head::Client(Ok(None)) | Head::Neither => incomplete,
            Head::Server(Ok(Some(incoming))) => Readable::Request(incoming),
            Head::Server(Err(error)) => {
                self.respond(&HttpResponse::from(&error), now);
                Readable::Blocked
            }
            Head::Client(Ok(Some((response, connection)))) => {
                self.open_client(&response, connection, now);
                Readable::Opened
            }
            Head::Client(Err(error)) => Readable::Lost(Some(error.into())),
        }
    }

    /// Starts reading the body of a plain HTTP request, of at most `config`'s
    /// `max_http_body` bytes. Returns the request, body and all, if it is complete with
    /// what came with its head (or has none); a refused body is answered here (413, 400,
    /// 501) and `None` returned, as it is while the body is still to come.
    pub(crate) fn read_body(
        &mut self,
        request: HttpRequest,
        config: &Config,
        now: Instant,
    ) -> Option<HttpRequest> {
        let decoder = match BodyDecoder::new(&request, config.max_http_body) {
            Ok(decoder) => decoder,
            Err(error) => {
                self.respond(&HttpResponse::from(&error), now);
                return None;
            }
        };
        let remainder = request.remainder_shared();
        let mut pending = Box::new(PendingBody {
            request,
            decoder,
            body: Vec::new(),
            after: Vec::new(),
        });
        match pending.feed(&remainder) {
            Ok(true) => Some(self.body_complete(*pending)),
            Ok(false) => {
                self.phase = Phase::Body(pending);
                None
            }
            Err(error) => {
                self.respond(&HttpResponse::from(&error), now);
                None
            }
        }
    }

    /// Reads more of a plain HTTP request's body.
    fn read_body_bytes(&mut self, reader: &mut Reader, now: Instant, to_the_end: bool) -> Readable {
        let Phase::Body(pending) = &mut self.phase else {
            return Readable::Blocked;
        };
        let read = reader.read_head(&mut self.stream, |data| pending.feed(data));
        let (fed, incomplete) = match head_read(read, to_the_end) {
            Ok(read) => read,
            Err(error) => return no_bytes(error),
        };
        match fed {
            Ok(true) => {
                let Phase::Body(pending) = std::mem::replace(&mut self.phase, Phase::Draining(0))
                else {
                    return Readable::Blocked;
                };
                Readable::Http(self.body_complete(*pending))
            }
            Ok(false) => incomplete,
            Err(error) => {
                self.respond(&HttpResponse::from(&error), now);
                Readable::Blocked
            }
        }
    }

    /// The request with its body; what came after it waits for the next request.
    fn body_complete(&mut self, pending: PendingBody) -> HttpRequest {
        let PendingBody {
            request,
            body,
            after,
            ..
        } = pending;
        if !after.is_empty() {
            self.extras.get_or_insert_default().pipelined = after;
        }
        request.with_body(body.into())
    }

    /// Answers a plain HTTP request; with `keep_alive` the connection then reads the next
    /// one, else it closes. A response that does not encode is answered with 500.
    pub(crate) fn respond_http(&mut self, response: &HttpResponse, keep_alive: bool, now: Instant) {
        if !keep_alive {
            return self.respond(response, now);
        }
        match response.encode_keep_alive() {
            Ok(bytes) => {
                self.phase = Phase::Http(HttpOut {
                    bytes: bytes.into_boxed_slice(),
                    written: 0,
                    discarded: 0,
                    keep_alive: true,
                });
                self.since = now;
            }
            Err(error) => self.respond(&HttpResponse::internal_error(&error), now),
        }
    }

    /// Reads and discards what a finished connection's peer still sends, up to
    /// [`MAX_DISCARDED`] bytes.
    fn read_discard(&mut self) -> Readable {
        let (Phase::Http(HttpOut { discarded, .. }) | Phase::Draining(discarded)) = &mut self.phase
        else {
            return Readable::Blocked;
        };
        let mut scratch = [0u8; 4096];
        match self.stream.read_raw(&mut scratch) {
            Ok(0) => Readable::Gone,
            Ok(n) => {
                *discarded = discarded.saturating_add(u32::try_from(n).unwrap_or(u32::MAX));
                if *discarded > MAX_DISCARDED {
                    Readable::Gone
                } else {
                    Readable::More
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => Readable::Blocked,
            Err(e) if e.kind() == ErrorKind::Interrupted => Readable::More,
            Err(_) => Readable::Gone,
        }
    }

    /// The socket is writable: a client's TCP connection may have been established.
    pub(crate) fn on_writable(&mut self, now: Instant) -> Result<(), std::io::Error> {
        if matches!(self.phase, Phase::Connecting(_)) {
            self.check_connected(now)?;
        }
        Ok(())
    }

    /// A client's TCP connection finished connecting, or failed to.
    fn check_connected(&mut self, now: Instant) -> Result<(), std::io::Error> {
        if let Some(error) = self.stream.tcp().take_error()? {
            return Err(error);
        }
        match self.stream.tcp().peer_addr() {
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::NotConnected => return Ok(()),
            Err(e) => return Err(e),
        }
        let phase = std::mem::replace(&mut self.phase, Phase::Draining(0));
        self.phase = match phase {
            Phase::Connecting(handshake) => {
                self.since = now;
                Phase::Upgrading(handshake, 0)
            }
            other => other,
        };
        Ok(())
    }

    /// A deadline of this connection passed (or may have).
    pub(crate) fn on_deadline(&mut self, now: Instant, config: &Config) -> Deadline {
        let due = self.deadline(config).is_some_and(|at| at <= now);
        let handshaking = self.is_handshaking();
        match &mut self.phase {
            Phase::Open(connection) if !connection.is_closed() => {
                connection.handle_timeout(now);
                Deadline::Protocol
            }
            _ if !due => Deadline::NotYet,
            _ if handshaking => Deadline::HandshakeTimedOut,
            _ => Deadline::Remove,
        }
    }

    // ----- writing -------------------------------------------------------------------

    /// Lends `buffer` to an open connection with nothing pending, so that the sends of its
    /// handlers encode into memory that is already there.
    pub(crate) fn lend_write_buffer(&mut self, buffer: &mut BytesMut) {
        if let Phase::Open(connection) = &mut self.phase {
            connection.swap_output_buffer(buffer);
        }
    }

    /// Writes what is pending; moves the phase on when that was the last output (see
    /// [`Flushed`] for what the caller is told).
    pub(crate) fn flush(
        &mut self,
        now: Instant,
        config: &Config,
        write_buffer: &mut BytesMut,
    ) -> Result<Flushed, std::io::Error> {
        self.dirty = false;
        // Over TLS, records the session could not send before go first (a handshake flight
        // may be waiting for room even before there is anything else to write).
        self.stream.flush_tls()?;
        let done = match &mut self.phase {
            Phase::Open(connection) => write_connection(&mut self.stream, connection)?,
            Phase::Http(out) => write_bytes(&mut self.stream, &out.bytes, &mut out.written)?,
            Phase::Upgrading(handshake, written) => {
                write_bytes(&mut self.stream, handshake.request(), written)?;
                false
            }
            Phase::Handshake(_)
            | Phase::Answering(..)
            | Phase::Body(_)
            | Phase::HttpAnswering(..)
            | Phase::Connecting(_)
            | Phase::Draining(_) => false,
        };
        // The output is written only once TCP has taken the last of its records too.
        let done = done && self.stream.flush_tls()?;
        let drained = self.above_low_water
            && self
                .connection()
                .is_some_and(|c| c.buffered_amount() <= config.write_buffer_low_water);
        if drained {
            self.above_low_water = false;
        }
        let read_again = done && self.written(now, config, write_buffer);
        Ok(Flushed {
            drained: drained && self.can_send(),
            read_again,
        })
    }

    /// Everything pending was written. True when an HTTP response went out and the
    /// connection waits for the next request.
    fn written(&mut self, now: Instant, config: &Config, write_buffer: &mut BytesMut) -> bool {
        match &mut self.phase {
            Phase::Open(connection) => {
                // Take the (lent) write buffer back; the connection keeps none.
                let mut spare = BytesMut::new();
                connection.swap_output_buffer(&mut spare);
                if spare.capacity() > write_buffer.capacity() {
                    *write_buffer = spare;
                }
                if connection.is_closed() {
                    // A server (or a side that failed the connection) closes TCP first; a
                    // client after a clean close waits for the server to.
                    let shut =
                        connection.role() == Role::Server || connection.state() == State::Failed;
                    if shut {
                        self.stream.shutdown_write();
                    }
                    self.phase = Phase::Draining(0);
                    self.since = now;
                }
            }
            Phase::Http(HttpOut {
                keep_alive: true, ..
            }) => {
                self.phase = Phase::Handshake(Box::new(ServerHandshake::new(config)));
                self.since = now;
                return true;
            }
            Phase::Http(..) => {
                self.stream.shutdown_write();
                self.phase = Phase::Draining(0);
                self.since = now;
            }
            _ => {}
        }
        false
    }

    /// Writes what it can of an open connection's output, now, ignoring failures: for a
    /// connection about to be dropped whose peer may still read (a close reply, a close
    /// frame after a timeout).
    pub(crate) fn write_what_it_can(&mut self) {
        if let Phase::Open(connection) = &mut self.phase {
            let _ = write_connection(&mut self.stream, connection);
        }
    }

    // ----- the application's operations ----------------------------------------------

    /// Queues what `encode` writes, applying the write-queue bound of `config`: a full
    /// queue refuses it. Returns whether a refusal must fail the connection
    /// ([`Backpressure::Close`]) along with the error.
    pub(crate) fn queue(
        &mut self,
        config: &Config,
        encode: impl FnOnce(&mut Connection) -> Result<(), Error>,
    ) -> Result<(), (Error, bool)> {
        if !self.can_send() {
            return Err((UsageError::SendAfterClose.into(), false));
        }
        let Phase::Open(connection) = &mut self.phase else {
            return Err((UsageError::SendAfterClose.into(), false));
        };
        let buffered = connection.buffered_amount();
        let limit = config.max_write_buffer;
        if buffered >= limit {
            self.above_low_water = true;
            let error = CapacityError::WriteBufferFull { buffered, limit };
            return Err((error.into(), config.backpressure == Backpressure::Close));
        }
        encode(connection).map_err(|error| (error, false))?;
        if connection.buffered_amount() > config.write_buffer_low_water {
            self.above_low_water = true;
        }
        Ok(())
    }

    /// Starts the close handshake. `by_app`: the application asked (a client then does not
    /// reconnect).
    pub(crate) fn close(
        &mut self,
        code: CloseCode,
        reason: &str,
        by_app: bool,
        now: Instant,
    ) -> Result<(), Error> {
        let Phase::Open(connection) = &mut self.phase else {
            return Err(UsageError::SendAfterClose.into());
        };
        connection.close(code, reason)?;
        // The close timer starts now.
        connection.handle_timeout(now);
        self.closed_by_app |= by_app;
        Ok(())
    }

    /// The next event of the open WebSocket, while the application still hears of it.
    pub(crate) fn next_event(&mut self) -> Option<Result<crate::protocol::Event, Error>> {
        if self.finished {
            return None;
        }
        match &mut self.phase {
            Phase::Open(connection) => connection.poll_event().transpose(),
            _ => None,
        }
    }

    // ----- handshake outcomes --------------------------------------------------------

    /// Answers a request with a plain HTTP response (or a refusal); the connection closes
    /// after it. One that does not encode is answered with 500.
    pub(crate) fn respond(&mut self, response: &HttpResponse, now: Instant) {
        let bytes = response
            .encode()
            .unwrap_or_else(|error| HttpResponse::internal_error(&error).encode_checked());
        self.phase = Phase::Http(HttpOut {
            bytes: bytes.into_boxed_slice(),
            written: 0,
            discarded: 0,
            keep_alive: false,
        });
        self.since = now;
    }

    /// The application has not answered the upgrade yet: wait for it.
    pub(crate) fn await_answer(
        &mut self,
        request: Box<UpgradeRequest>,
        awaiting: Awaiting<Answer<D>>,
    ) {
        self.phase = Phase::Answering(request, awaiting);
    }

    /// The application has not answered a plain HTTP request yet: wait for it.
    pub(crate) fn await_http_answer(
        &mut self,
        request: Box<HttpRequest>,
        awaiting: Awaiting<HttpResponse>,
        now: Instant,
    ) {
        self.phase = Phase::HttpAnswering(request, awaiting);
        self.since = now;
    }

    /// The answer of a deferred upgrade or plain request, if it has come, with its request.
    pub(crate) fn take_answer(&mut self) -> Option<Answered<D>> {
        let answered = match std::mem::replace(&mut self.phase, Phase::Draining(0)) {
            Phase::Answering(request, awaiting) => match awaiting.take() {
                Some(answer) => Answered::Upgrade(request, answer),
                None => {
                    self.phase = Phase::Answering(request, awaiting);
                    return None;
                }
            },
            Phase::HttpAnswering(request, awaiting) => match awaiting.take() {
                Some(answer) => Answered::Http(request, answer),
                None => {
                    self.phase = Phase::HttpAnswering(request, awaiting);
                    return None;
                }
            },
            other => {
                self.phase = other;
                return None;
            }
        };
        Some(answered)
    }

    /// Applies the application's answer to an upgrade: the 101 and an open WebSocket, or
    /// the refusal. Returns true if the WebSocket opened. `keep_request`: the request stays
    /// with the socket (see [`request`](Self::request)).
    pub(crate) fn apply_answer(
        &mut self,
        request: &UpgradeRequest,
        answer: Answer<D>,
        config: &Config,
        keep_request: bool,
        write_buffer: &mut BytesMut,
        now: Instant,
    ) -> bool {
        let (accept, data) = match answer {
            Answer::Refuse(response) => {
                self.respond(&response, now);
                return false;
            }
            Answer::Accept(accept, data) => (accept, data),
        };
        let (response, mut connection) = match request.accept(&accept, config) {
            Ok(accepted) => accepted,
            // The application chose what the client did not offer: our side's fault.
            Err(error) => {
                self.respond(&HttpResponse::internal_error(&error), now);
                return false;
            }
        };
        // The 101 goes into the loop's write buffer, ahead of any frame.
        connection.swap_output_buffer(write_buffer);
        connection.queue_raw(&response);
        connection.handle_timeout(now);
        self.target = Box::from(request.target());
        self.protocol = accept.selected_protocol().map(Box::from);
        self.data = data;
        if keep_request {
            self.extras.get_or_insert_default().request = Some(request.request().clone());
        }
        self.phase = Phase::Open(connection);
        self.since = now;
        true
    }

    /// The server accepted our upgrade: the client's WebSocket is open.
    fn open_client(
        &mut self,
        response: &UpgradeResponse,
        mut connection: Connection,
        now: Instant,
    ) {
        connection.handle_timeout(now);
        self.protocol = response.protocol().map(Box::from);
        if let Some(origin) = self.extras.as_mut().and_then(|e| e.origin.as_mut()) {
            origin.attempt = 0;
            self.target = Box::from(origin.url.resource());
        }
        self.phase = Phase::Open(connection);
        self.since = now;
    }
}

/// What a read of a head (or a body) came to: what the parser made of the bytes, with
/// what to do if that was not the end (read again, or wait: a short read drained the
/// socket, see `Reader::read_frames`); or why no bytes came: the end of the stream
/// (`None`) or the read's error.
fn head_read<T>(
    read: std::io::Result<(usize, T)>,
    to_the_end: bool,
) -> Result<(T, Readable), Option<std::io::Error>> {
    match read.map_err(Some)? {
        (0, _) => Err(None),
        (n, parsed) if n < Reader::HEAD_READ && !to_the_end => Ok((parsed, Readable::Blocked)),
        (_, parsed) => Ok((parsed, Readable::More)),
    }
}

/// The outcome of a head (or body) read that brought no bytes.
fn no_bytes(error: Option<std::io::Error>) -> Readable {
    match error {
        None => Readable::Lost(None),
        Some(e) if e.kind() == ErrorKind::WouldBlock => Readable::Blocked,
        Some(e) if e.kind() == ErrorKind::Interrupted => Readable::More,
        Some(e) => Readable::Lost(Some(e.into())),
    }
}

impl<D> std::fmt::Debug for Conn<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn")
            .field("id", &self.id)
            .field("peer", &self.peer)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An idle connection holds its slot and nothing else (the buffers are the loop's), so
    /// the slot's size is the memory per idle connection, up to the slab's growth.
    #[test]
    fn a_conn_stays_small() {
        let conn = std::mem::size_of::<Conn<()>>();
        let connection = std::mem::size_of::<Connection>();
        println!("conn {conn} bytes, of which the connection {connection}");
        assert!(conn <= 512, "conn {conn} bytes");
    }
}

#[cfg(test)]
mod phase_tests {
    use std::io::{Read, Write};
    use std::time::Duration;

    use super::*;
    use crate::protocol::Event;

    const UPGRADE: &[u8] = b"GET /chat?room=1 HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\n\
        Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
        Sec-WebSocket-Version: 13\r\n\r\n";

    /// A server-side connection over a real loopback socket, and the peer's end.
    fn accepted_pair(config: &Config) -> (Conn<u8>, std::net::TcpStream) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let peer = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        peer.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let (ours, address) = listener.accept().unwrap();
        ours.set_nonblocking(true).unwrap();
        let stream = Transport::plain(mio::net::TcpStream::from_std(ours));
        let id = SocketId::new(0, 1, 0);
        (
            Conn::accepted(id, stream, address, config, Instant::now()),
            peer,
        )
    }

    /// Reads once, retrying while the bytes are on their way.
    fn read_until(
        conn: &mut Conn<u8>,
        reader: &mut Reader,
        done: impl Fn(&Readable) -> bool,
    ) -> Readable {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let outcome = conn.on_readable(reader, Instant::now(), false);
            if done(&outcome) {
                return outcome;
            }
            assert!(Instant::now() < deadline, "stuck at {outcome:?}");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn a_head_is_answered_the_socket_opens_and_frames_become_events() {
        let config = Config::default();
        let (mut conn, mut peer) = accepted_pair(&config);
        let mut reader = Reader::default();
        peer.write_all(UPGRADE).unwrap();
        let outcome = read_until(&mut conn, &mut reader, |o| {
            matches!(o, Readable::Request(_))
        });
        let Readable::Request(Incoming::Upgrade(request)) = outcome else {
            panic!("not an upgrade")
        };
        assert!(conn.is_handshaking() && !conn.is_open());
        let mut write_buffer = BytesMut::new();
        let now = Instant::now();
        let accept = Answer::Accept(crate::handshake::Accept::new(), 42);
        assert!(conn.apply_answer(&request, accept, &config, true, &mut write_buffer, now));
        assert!(conn.is_open() && conn.can_send());
        assert_eq!((conn.target(), *conn.data()), ("/chat?room=1", 42));
        assert_eq!(conn.request().and_then(|r| r.header("Host")), Some("t"));
        // Its deadline is now the core's keep-alive.
        assert_eq!(conn.deadline(&config), Some(now + Duration::from_secs(25)));
        conn.flush(now, &config, &mut write_buffer).unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            peer.read_exact(&mut byte).unwrap();
            head.push(byte[0]);
        }
        assert!(head.starts_with(b"HTTP/1.1 101 "));
        // A masked text frame: "hi".
        peer.write_all(&[0x81, 0x82, 1, 2, 3, 4, b'h' ^ 1, b'i' ^ 2])
            .unwrap();
        let outcome = read_until(&mut conn, &mut reader, |o| {
            matches!(o, Readable::Frames { .. })
        });
        let Readable::Frames { lease, .. } = outcome else {
            unreachable!()
        };
        assert!(matches!(
            conn.next_event(),
            Some(Ok(Event::Message(m))) if m.as_text() == Some("hi")
        ));
        reader.settle(conn.connection_mut(), lease);
        // The application closes: the close timer runs, and a peer that closes TCP is lost.
        conn.close(CloseCode::NORMAL, "bye", true, now).unwrap();
        assert_eq!(conn.deadline(&config), Some(now + config.close_timeout));
        drop(peer);
        let outcome = read_until(&mut conn, &mut reader, |o| matches!(o, Readable::Lost(_)));
        assert!(matches!(outcome, Readable::Lost(None)));
    }

    #[test]
    fn a_bad_head_is_refused_written_then_drained_until_the_close_timeout() {
        let config = Config::default();
        let (mut conn, mut peer) = accepted_pair(&config);
        let mut reader = Reader::default();
        peer.write_all(b"GET / HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\n\r\n")
            .unwrap();
        let outcome = read_until(&mut conn, &mut reader, |o| matches!(o, Readable::Blocked));
        assert!(matches!(outcome, Readable::Blocked));
        let now = Instant::now();
        let mut write_buffer = BytesMut::new();
        let flushed = conn.flush(now, &config, &mut write_buffer).unwrap();
        assert_eq!(
            flushed,
            Flushed::default(),
            "a refusal closes: nothing to drain or read"
        );
        let mut response = String::new();
        peer.read_to_string(&mut response).unwrap();
        assert!(
            response.starts_with("HTTP/1.1 400 Bad Request\r\n"),
            "{response}"
        );
        // Written and shut down: it waits for the peer's end or the close timeout.
        assert_eq!(conn.deadline(&config), Some(now + config.close_timeout));
        assert_eq!(conn.on_deadline(now, &config), Deadline::NotYet);
        let later = now + config.close_timeout;
        assert_eq!(conn.on_deadline(later, &config), Deadline::Remove);
    }

    #[test]
    fn a_handshake_that_stalls_is_timed_out_and_a_deferred_answer_waits_without_reading() {
        let config = Config::default();
        let (mut conn, mut peer) = accepted_pair(&config);
        let mut reader = Reader::default();
        let start = Instant::now();
        assert_eq!(conn.on_deadline(start, &config), Deadline::NotYet);
        peer.write_all(UPGRADE).unwrap();
        let Readable::Request(Incoming::Upgrade(request)) =
            read_until(&mut conn, &mut reader, |o| {
                matches!(o, Readable::Request(_))
            })
        else {
            panic!("not an upgrade")
        };
        let shared = {
            let poll = mio::Poll::new().unwrap();
            let (remote, _) =
                super::super::commands::Remote::new(poll.registry(), mio::Token(0), 1024).unwrap();
            std::sync::Arc::new(super::super::commands::Shared {
                remotes: vec![remote],
                shutting_down: Default::default(),
                config: std::sync::Arc::new(config.clone()),
                fanout: std::sync::OnceLock::new(),
            })
        };
        let (_reply, awaiting) =
            super::super::answer::Reply::<Answer<u8>>::new(shared, conn.id(), conn.peer());
        assert!(awaiting.after_handler().is_none());
        conn.await_answer(Box::new(request), awaiting);
        peer.write_all(b"early frame bytes").unwrap();
        std::thread::sleep(Duration::from_millis(20));
        assert!(matches!(
            conn.on_readable(&mut reader, Instant::now(), false),
            Readable::Blocked
        ));
        let late = start + config.handshake_timeout + Duration::from_millis(1);
        assert_eq!(conn.on_deadline(late, &config), Deadline::HandshakeTimedOut);
    }
}
