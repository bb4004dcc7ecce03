//! A small blocking driver over a [`Stream`] (a `TcpStream`, usually): one thread, one
//! connection, no runtime. For scripts, tests and simple tools; servers that hold many
//! connections want the event loop.
//!
//! The connection's timers run here as in the runtime: while [`WebSocket::read`] waits for
//! the peer it wakes for the keep-alive ping, the pong timeout and the close timeout of
//! [`Config`], and the handshake gives up after
//! [`handshake_timeout`](Config::handshake_timeout).
//!
//! ```no_run
//! use rfc6455::blocking::WebSocket;
//! use rfc6455::Event;
//!
//! let (mut socket, _response) = WebSocket::connect("ws://127.0.0.1:9001/")?;
//! socket.send("hello")?;
//! if let Event::Message(reply) = socket.read()? {
//!     println!("{reply:?}");
//! }
//! socket.close(rfc6455::CloseCode::NORMAL, "bye")?;
//! # Ok::<(), rfc6455::Error>(())
//! ```

use std::io::{ErrorKind, IoSlice, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

use crate::handshake::{
    Accept, ClientHandshake, ClientRequest, HttpResponse, Incoming, ServerHandshake,
    UpgradeRequest, UpgradeResponse, Url,
};
use crate::{
    CloseCode, Config, Connection, Error, Event, HandshakeError, Sendable, State, Timeout,
    UsageError,
};

const READ_CHUNK: usize = 32 * 1024;

/// A blocking byte stream whose reads can be given a time limit: what lets the driver run
/// the connection's timers while it waits for the peer. `TcpStream` and `UnixStream` are
/// streams; for another, forward to its socket, or return `Ok(())` if it cannot time out
/// (timers then run only when bytes arrive).
pub trait Stream: Read + Write {
    /// Makes reads fail with `WouldBlock` or `TimedOut` after `timeout` (`None`: wait for
    /// ever), as [`TcpStream::set_read_timeout`] does.
    fn set_read_timeout(&self, timeout: Option<Duration>) -> std::io::Result<()>;

    /// Shuts down one or both directions, as [`TcpStream::shutdown`] does (over TLS, a
    /// close_notify goes first). The default does nothing.
    fn shutdown(&mut self, how: Shutdown) -> std::io::Result<()> {
        let _ = how;
        Ok(())
    }
}

impl Stream for TcpStream {
    fn set_read_timeout(&self, timeout: Option<Duration>) -> std::io::Result<()> {
        TcpStream::set_read_timeout(self, timeout)
    }

    fn shutdown(&mut self, how: Shutdown) -> std::io::Result<()> {
        TcpStream::shutdown(self, how)
    }
}

#[cfg(unix)]
impl Stream for std::os::unix::net::UnixStream {
    fn set_read_timeout(&self, timeout: Option<Duration>) -> std::io::Result<()> {
        std::os::unix::net::UnixStream::set_read_timeout(self, timeout)
    }

    fn shutdown(&mut self, how: Shutdown) -> std::io::Result<()> {
        std::os::unix::net::UnixStream::shutdown(self, how)
    }
}

/// A WebSocket over a blocking stream.
#[derive(Debug)]
pub struct WebSocket<S> {
    stream: S,
    connection: Connection,
    buffer: Box<[u8]>,
    /// How long `read` waits for an event before it gives up (`None`: as long as the
    /// connection lives).
    read_timeout: Option<Duration>,
}

/// A TLS stream over TCP (feature `tls`), for [`WebSocket::accept`] on a server or made by
/// [`WebSocket::connect`] for `wss://`: rustls' blocking stream.
#[cfg(feature = "tls")]
pub type TlsStream<C> = rustls::StreamOwned<C, TcpStream>;

#[cfg(feature = "tls")]
impl<C, S> Stream for TlsStream<C>
where
    C: std::ops::DerefMut<Target = rustls::ConnectionCommon<S>>,
    S: rustls::SideData,
{
    fn set_read_timeout(&self, timeout: Option<Duration>) -> std::io::Result<()> {
        self.sock.set_read_timeout(timeout)
    }

    fn shutdown(&mut self, how: Shutdown) -> std::io::Result<()> {
        if how != Shutdown::Read {
            self.conn.send_close_notify();
            let _ = self.flush();
        }
        self.sock.shutdown(how)
    }
}

/// What [`WebSocket::connect`] runs on: TCP for `ws://`, TLS over it for `wss://`.
#[derive(Debug)]
#[non_exhaustive]
pub enum ClientStream {
    /// `ws://`.
    Plain(TcpStream),
    /// `wss://` (feature `tls`).
    #[cfg(feature = "tls")]
    Tls(Box<TlsStream<rustls::ClientConnection>>),
}

impl ClientStream {
    /// The TCP socket under it.
    pub fn tcp(&self) -> &TcpStream {
        match self {
            ClientStream::Plain(tcp) => tcp,
            #[cfg(feature = "tls")]
            ClientStream::Tls(tls) => &tls.sock,
        }
    }
}

impl Read for ClientStream {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        match self {
            ClientStream::Plain(tcp) => tcp.read(buffer),
            #[cfg(feature = "tls")]
            ClientStream::Tls(tls) => tls.read(buffer),
        }
    }
}

impl Write for ClientStream {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        match self {
            ClientStream::Plain(tcp) => tcp.write(bytes),
            #[cfg(feature = "tls")]
            ClientStream::Tls(tls) => tls.write(bytes),
        }
    }

    fn write_vectored(&mut self, slices: &[IoSlice<'_>]) -> std::io::Result<usize> {
        match self {
            ClientStream::Plain(tcp) => tcp.write_vectored(slices),
            #[cfg(feature = "tls")]
            ClientStream::Tls(tls) => tls.write_vectored(slices),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            ClientStream::Plain(tcp) => tcp.flush(),
            #[cfg(feature = "tls")]
            ClientStream::Tls(tls) => tls.flush(),
        }
    }
}

impl Stream for ClientStream {
    fn set_read_timeout(&self, timeout: Option<Duration>) -> std::io::Result<()> {
        self.tcp().set_read_timeout(timeout)
    }

    fn shutdown(&mut self, how: Shutdown) -> std::io::Result<()> {
        match self {
            ClientStream::Plain(tcp) => Stream::shutdown(tcp, how),
            #[cfg(feature = "tls")]
            ClientStream::Tls(tls) => Stream::shutdown(&mut **tls, how),
        }
    }
}

impl WebSocket<ClientStream> {
    /// Connects to a `ws://` URL (or `wss://` with the feature `tls`, trusting the
    /// platform's roots) with the default [`Config`].
    pub fn connect(url: &str) -> Result<(WebSocket<ClientStream>, UpgradeResponse), Error> {
        let url = Url::parse(url)?;
        Self::connect_with(&url, &ClientRequest::from_url(&url), &Config::default())
    }

    /// Connects to `url` with a custom request (subprotocols, headers) and limits.
    pub fn connect_with(
        url: &Url,
        request: &ClientRequest,
        config: &Config,
    ) -> Result<(WebSocket<ClientStream>, UpgradeResponse), Error> {
        #[cfg(feature = "tls")]
        if url.is_secure() {
            let connector = crate::tls::TlsConnector::platform()?;
            return Self::connect_tls(url, request, config, &connector);
        }
        #[cfg(not(feature = "tls"))]
        if url.is_secure() {
            return Err(UsageError::InvalidUrl("wss:// needs the feature tls").into());
        }
        let stream = TcpStream::connect(url.authority())?;
        stream.set_nodelay(true)?;
        WebSocket::client(ClientStream::Plain(stream), request, config)
    }

    /// Connects to a `wss://` URL trusting `connector`'s roots (a private CA, say). A
    /// certificate that does not check out fails with [`Error::Tls`].
    #[cfg(feature = "tls")]
    pub fn connect_tls(
        url: &Url,
        request: &ClientRequest,
        config: &Config,
        connector: &crate::tls::TlsConnector,
    ) -> Result<(WebSocket<ClientStream>, UpgradeResponse), Error> {
        if !url.is_secure() {
            return Err(UsageError::InvalidUrl("connect_tls takes a wss:// URL").into());
        }
        let session = connector.session(url.host())?;
        let tcp = TcpStream::connect(url.authority())?;
        tcp.set_nodelay(true)?;
        let stream = ClientStream::Tls(Box::new(rustls::StreamOwned::new(session, tcp)));
        WebSocket::client(stream, request, config)
    }
}

impl<S: Stream> WebSocket<S> {
    /// Reads an upgrade request from `stream` and accepts it (no subprotocol). A request
    /// that is not a valid upgrade is refused with `HttpResponse::from(&error)` (400,
    /// 426..., and 426 for a plain HTTP request), and the error is returned.
    pub fn accept(stream: S, config: &Config) -> Result<WebSocket<S>, Error> {
        Self::accept_with(stream, config, |_| Ok(Accept::new()))
    }

    /// Like [`accept`](Self::accept), letting `decide` answer the upgrade: an [`Accept`]
    /// (subprotocol, headers), or the [`HttpResponse`] that refuses it (401, 403...), which
    /// is written before [`Error::Refused`] is returned.
    pub fn accept_with(
        mut stream: S,
        config: &Config,
        decide: impl FnOnce(&UpgradeRequest) -> Result<Accept, HttpResponse>,
    ) -> Result<WebSocket<S>, Error> {
        let mut buffer = vec![0u8; READ_CHUNK].into_boxed_slice();
        let mut handshake = ServerHandshake::new(config);
        let deadline = Instant::now() + config.handshake_timeout;
        let incoming = loop {
            let n = read_before(&mut stream, &mut buffer, deadline, Timeout::Handshake)?;
            match handshake.receive(buffer.get(..n).unwrap_or_default()) {
                Ok(None) => {}
                Ok(Some(incoming)) => break incoming,
                Err(error) => {
                    refuse(&mut stream, &HttpResponse::from(&error));
                    return Err(error.into());
                }
            }
        };
        let upgrade = match incoming {
            Incoming::Upgrade(upgrade) => upgrade,
            Incoming::Http(_) => {
                let error = HandshakeError::UpgradeNotWebSocket;
                refuse(&mut stream, &HttpResponse::from(&error));
                return Err(error.into());
            }
        };
        let accept = match decide(&upgrade) {
            Ok(accept) => accept,
            Err(response) => {
                refuse(&mut stream, &response);
                return Err(Error::Refused(response.status()));
            }
        };
        let (response, connection) = match upgrade.accept(&accept, config) {
            Ok(accepted) => accepted,
            Err(error) => {
                refuse(&mut stream, &HttpResponse::internal_error(&error));
                return Err(error.into());
            }
        };
        stream.write_all(&response)?;
        stream.flush()?;
        Ok(WebSocket::open(stream, connection, buffer))
    }

    /// Performs the client handshake over `stream`.
    pub fn client(
        mut stream: S,
        request: &ClientRequest,
        config: &Config,
    ) -> Result<(WebSocket<S>, UpgradeResponse), Error> {
        let mut handshake = ClientHandshake::new(request, config)?;
        let deadline = Instant::now() + config.handshake_timeout;
        stream.write_all(handshake.request())?;
        stream.flush()?;
        let mut buffer = vec![0u8; READ_CHUNK].into_boxed_slice();
        loop {
            let n = read_before(&mut stream, &mut buffer, deadline, Timeout::Handshake)?;
            if let Some((response, connection)) =
                handshake.receive(buffer.get(..n).unwrap_or_default())?
            {
                return Ok((WebSocket::open(stream, connection, buffer), response));
            }
        }
    }

    /// A socket over an open connection; its timers start now.
    fn open(stream: S, mut connection: Connection, buffer: Box<[u8]>) -> WebSocket<S> {
        connection.handle_timeout(Instant::now());
        WebSocket {
            stream,
            connection,
            buffer,
            read_timeout: None,
        }
    }

    /// Makes [`read`](Self::read) give up with an I/O error of kind `TimedOut` when no
    /// event comes within `timeout` (`None`, the default: wait as long as the connection
    /// lives, its own timers included).
    pub fn set_read_timeout(&mut self, timeout: Option<Duration>) {
        self.read_timeout = timeout;
    }

    /// Blocks until the next event. Pongs and close replies are written before it returns;
    /// while it waits, the connection's timers run (a keep-alive ping goes out, an
    /// unanswered one fails the connection with [`Error::Timeout`]).
    ///
    /// A protocol error or a timeout is returned after its close frame was written. Once
    /// the close handshake is over (an [`Event::Close`] was returned), this returns
    /// [`Error::Closed`].
    pub fn read(&mut self) -> Result<Event, Error> {
        let give_up = self.read_timeout.map(|timeout| Instant::now() + timeout);
        loop {
            self.connection.handle_timeout(Instant::now());
            let event = self.connection.poll_event();
            self.flush()?;
            if let Some(event) = event? {
                return Ok(event);
            }
            if self.connection.is_closed() {
                return Err(Error::Closed);
            }
            let now = Instant::now();
            if give_up.is_some_and(|at| at <= now) {
                return Err(std::io::Error::from(ErrorKind::TimedOut).into());
            }
            let wake = match (self.connection.poll_timeout(), give_up) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            // A zero timeout means "none" to the OS: wait at least a millisecond.
            let wait = wake.map(|at| at.saturating_duration_since(now).max(MIN_WAIT));
            self.stream.set_read_timeout(wait)?;
            match self.stream.read(&mut self.buffer) {
                Ok(0) => return Err(std::io::Error::from(ErrorKind::UnexpectedEof).into()),
                Ok(n) => self
                    .connection
                    .receive(self.buffer.get(..n).unwrap_or_default()),
                // A timer is due, or the caller's time is up: both are seen above.
                Err(e) if is_timeout(&e) || e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Sends a message: text from `&str` or `String`, binary from `&[u8]`, `Vec<u8>` or
    /// `Bytes`, or a [`Message`](crate::Message) (see [`Sendable`]).
    pub fn send(&mut self, message: impl Sendable) -> Result<(), Error> {
        self.connection.send(message)?;
        self.flush()
    }

    /// Sends a ping.
    pub fn ping(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.connection.ping(payload)?;
        self.flush()
    }

    /// Sends a close frame and reads (discarding messages) until the peer's close frame
    /// arrives or the stream ends. The transport stays open: a client then calls
    /// [`shutdown`](Self::shutdown), which waits for the server to close TCP first (many
    /// peers report the close only once TCP ends).
    pub fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        if self.connection.state() == State::Open {
            self.connection.close(code, reason)?;
        }
        loop {
            match self.read() {
                Ok(Event::Close(_)) | Err(Error::Closed) => return Ok(()),
                Ok(_) => {}
                Err(Error::Io(e)) if e.kind() == ErrorKind::UnexpectedEof => return Ok(()),
                Err(e) => return Err(e),
            }
        }
    }

    /// Writes everything the connection has queued.
    pub fn flush(&mut self) -> Result<(), Error> {
        while self.connection.buffered_amount() > 0 {
            let mut slices = [IoSlice::new(&[]); 16];
            let count = self.connection.output_slices(&mut slices);
            let n = match self
                .stream
                .write_vectored(slices.get(..count).unwrap_or_default())
            {
                Ok(0) => return Err(std::io::Error::from(ErrorKind::WriteZero).into()),
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            };
            self.connection.advance_output(n);
        }
        self.stream.flush()?;
        Ok(())
    }

    /// Closes the TCP connection the way RFC 6455 section 7.1.1 asks: write what is
    /// pending; a server then shuts down its direction first, a client waits for the
    /// server to; both read until the peer's side is closed (at most `linger`) so that
    /// our last frames are not destroyed by a reset.
    pub fn shutdown(mut self, linger: Duration) -> Result<(), Error> {
        self.flush()?;
        if self.connection.role() == crate::Role::Server {
            self.stream.shutdown(Shutdown::Write)?;
        }
        let deadline = Instant::now() + linger;
        let mut scratch = [0u8; 4096];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            Stream::set_read_timeout(&self.stream, Some(left))?;
            match self.stream.read(&mut scratch) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        // For a server this is already done; for a client it ends the connection.
        let _ = self.stream.shutdown(Shutdown::Both);
        Ok(())
    }

    /// The protocol state machine.
    pub fn connection(&self) -> &Connection {
        &self.connection
    }

    /// The protocol state machine, to queue several frames before one [`flush`](Self::flush).
    pub fn connection_mut(&mut self) -> &mut Connection {
        &mut self.connection
    }

    /// The underlying stream.
    pub fn get_ref(&self) -> &S {
        &self.stream
    }
}

/// The shortest wait asked of the OS (a zero read timeout means "none" to it).
const MIN_WAIT: Duration = Duration::from_millis(1);

/// What a read that ran out of time fails with: `WouldBlock` on Unix, `TimedOut` on
/// Windows.
fn is_timeout(error: &std::io::Error) -> bool {
    matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

/// Reads at least one byte before `deadline`, else fails with `timeout`; the end of the
/// stream is an `UnexpectedEof` error.
fn read_before<S: Stream>(
    stream: &mut S,
    buffer: &mut [u8],
    deadline: Instant,
    timeout: Timeout,
) -> Result<usize, Error> {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(timeout.into());
        }
        stream.set_read_timeout(Some(left.max(MIN_WAIT)))?;
        match stream.read(buffer) {
            Ok(0) => return Err(std::io::Error::from(ErrorKind::UnexpectedEof).into()),
            Ok(n) => return Ok(n),
            Err(e) if is_timeout(&e) || e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
}

/// Writes the response that refuses an upgrade (one the application built that does not
/// encode is answered with 500).
fn refuse<S: Write>(stream: &mut S, response: &HttpResponse) {
    let bytes = response
        .encode()
        .unwrap_or_else(|error| HttpResponse::internal_error(&error).encode_checked());
    // The handshake failed already; a failed write of the refusal changes nothing.
    let _ = stream.write_all(&bytes).and_then(|()| stream.flush());
}
