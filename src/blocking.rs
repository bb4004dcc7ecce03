//! A small blocking driver over any `Read + Write` stream (a `TcpStream`, usually): one
//! thread, one connection, no runtime. For scripts, tests and simple tools; servers that
//! hold many connections want the event loop.
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
    CloseCode, Config, Connection, Error, Event, HandshakeError, Sendable, State, UsageError,
};

const READ_CHUNK: usize = 32 * 1024;

/// A WebSocket over a blocking stream.
#[derive(Debug)]
pub struct WebSocket<S> {
    stream: S,
    connection: Connection,
    buffer: Box<[u8]>,
}

impl WebSocket<TcpStream> {
    /// Connects to a `ws://` URL with the default [`Config`] (TLS is not supported here).
    pub fn connect(url: &str) -> Result<(WebSocket<TcpStream>, UpgradeResponse), Error> {
        let url = Url::parse(url)?;
        Self::connect_with(&url, &ClientRequest::from_url(&url), &Config::default())
    }

    /// Connects to `url` with a custom request (subprotocols, headers) and limits.
    pub fn connect_with(
        url: &Url,
        request: &ClientRequest,
        config: &Config,
    ) -> Result<(WebSocket<TcpStream>, UpgradeResponse), Error> {
        if url.is_secure() {
            return Err(UsageError::InvalidUrl("wss:// needs TLS, which this driver lacks").into());
        }
        let stream = TcpStream::connect(url.authority())?;
        stream.set_nodelay(true)?;
        WebSocket::client(stream, request, config)
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
            self.stream.set_read_timeout(Some(left))?;
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
}

impl<S: Read + Write> WebSocket<S> {
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
        let incoming = loop {
            let n = read_some(&mut stream, &mut buffer)?;
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
        Ok(WebSocket {
            stream,
            connection,
            buffer,
        })
    }

    /// Performs the client handshake over `stream`.
    pub fn client(
        mut stream: S,
        request: &ClientRequest,
        config: &Config,
    ) -> Result<(WebSocket<S>, UpgradeResponse), Error> {
        let mut handshake = ClientHandshake::new(request, config)?;
        stream.write_all(handshake.request())?;
        stream.flush()?;
        let mut buffer = vec![0u8; READ_CHUNK].into_boxed_slice();
        loop {
            let n = read_some(&mut stream, &mut buffer)?;
            if let Some((response, connection)) =
                handshake.receive(buffer.get(..n).unwrap_or_default())?
            {
                let socket = WebSocket {
                    stream,
                    connection,
                    buffer,
                };
                return Ok((socket, response));
            }
        }
    }

    /// Blocks until the next event. Pongs and close replies are written before it returns.
    ///
    /// A protocol error is returned after its close frame was written. Once the close
    /// handshake is over (an [`Event::Close`] was returned), this returns [`Error::Closed`].
    pub fn read(&mut self) -> Result<Event, Error> {
        loop {
            let event = self.connection.poll_event();
            self.flush()?;
            if let Some(event) = event? {
                return Ok(event);
            }
            if self.connection.is_closed() {
                return Err(Error::Closed);
            }
            let n = read_some(&mut self.stream, &mut self.buffer)?;
            self.connection
                .receive(self.buffer.get(..n).unwrap_or_default());
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
    /// arrives or the stream ends.
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

/// Reads at least one byte; the end of the stream is an `UnexpectedEof` error.
fn read_some<S: Read>(stream: &mut S, buffer: &mut [u8]) -> Result<usize, Error> {
    loop {
        match stream.read(buffer) {
            Ok(0) => return Err(std::io::Error::from(ErrorKind::UnexpectedEof).into()),
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
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
