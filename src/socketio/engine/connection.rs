//! [`EngineConnection`]: one Engine.IO session as the application holds it: who it is
//! (session id, handshake request, address), and send and close, from any thread.

// Input reaches this module: no indexing, unwrap, expect or panic that it could trigger.
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::net::SocketAddr;
use std::sync::Arc;

use crate::Message;
use crate::events::{Handle, SocketId};
use crate::handshake::HttpRequest;
use crate::socketio::engine::cell::SessionCell;
use crate::socketio::engine::session::{EngineSendError, EngineTransport};

/// One Engine.IO connection (a session, over long-polling or WebSocket, upgraded or not):
/// cheap to clone, `Send + Sync`, usable from any thread and after the handler returns.
///
/// ```no_run
/// use rfc6455::socketio::{EngineConfig, EngineHandlers, EngineServer};
///
/// let handlers = EngineHandlers::new().on_connection(|connection| {
///     let connection = connection.clone();
///     std::thread::spawn(move || {
///         while connection.send("tick").is_ok() {
///             std::thread::sleep(std::time::Duration::from_secs(1));
///         }
///     });
/// });
/// # let _ = EngineServer::new(EngineConfig::default(), handlers)?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone)]
pub struct EngineConnection {
    cell: Arc<SessionCell>,
}

impl EngineConnection {
    pub(crate) fn new(cell: Arc<SessionCell>) -> Self {
        EngineConnection { cell }
    }

    /// The session id (20 URL-safe characters), the `sid` of the client's requests.
    pub fn sid(&self) -> &str {
        &self.cell.sid
    }

    /// The request that opened the session: headers (cookies, `User-Agent`,
    /// `X-Forwarded-For`...), path and query.
    pub fn request(&self) -> &HttpRequest {
        &self.cell.request
    }

    /// The address of the client that opened the session.
    pub fn remote_addr(&self) -> SocketAddr {
        self.cell.remote_addr
    }

    /// The transport carrying the session now (long-polling until an upgrade completes).
    pub fn transport(&self) -> EngineTransport {
        self.cell.transport()
    }

    /// True until the session closes or starts closing.
    pub fn is_open(&self) -> bool {
        self.cell.is_open()
    }

    /// Sends a message packet: text from `&str` or `String`, binary from `&[u8]`,
    /// `Vec<u8>` or `Bytes` (base64 over long-polling, a binary frame over WebSocket).
    /// Over WebSocket it goes to the socket at once; over long-polling it waits in the
    /// session's queue for the next `GET` (the held one, if there is one). Refused once the
    /// session is closing, when the queue is full, and for a text holding `0x1E`.
    pub fn send(&self, message: impl Into<Message>) -> Result<(), EngineSendError> {
        let message = message.into();
        match self.cell.with(|session, _now| session.send(message)) {
            (Ok(()), Some(refused)) => Err(refused),
            (sent, _) => sent,
        }
    }

    /// Sends a message packet only if the transport can take it now, else drops it (the
    /// reference's volatile packets): over long-polling, if a `GET` is held; over
    /// WebSocket, if the socket's write queue is empty when its loop takes the message. The
    /// errors are those of [`send`](Self::send); a drop is none.
    pub fn send_volatile(&self, message: impl Into<Message>) -> Result<(), EngineSendError> {
        self.send_all(vec![message.into()], true)
    }

    /// Several message packets in one piece (no other thread's packet between them), and
    /// with `only_if_idle` all or none as [`send_volatile`](Self::send_volatile) decides
    /// for one.
    pub(crate) fn send_all(
        &self,
        messages: Vec<Message>,
        only_if_idle: bool,
    ) -> Result<(), EngineSendError> {
        match self
            .cell
            .with(|session, _now| session.send_all(messages, only_if_idle))
        {
            (Ok(()), Some(refused)) => Err(refused),
            (sent, _) => sent,
        }
    }

    /// The WebSocket the session is open on, and the runtime's handle to reach it: where a
    /// broadcast sends its frames, framed once for all its recipients. `None` on
    /// long-polling, and once the session is closing.
    pub(crate) fn websocket(&self) -> Option<(SocketId, &Handle)> {
        let handle = self.cell.engine.handle()?;
        Some((self.cell.websocket()?, handle))
    }

    /// Closes the session (`forced close`): a WebSocket at once; long-polling with the next
    /// `GET`, which takes what is queued and the close packet (or after 30 s without one).
    pub fn close(&self) {
        self.cell.with(|session, now| session.close(now));
    }
}

impl std::fmt::Debug for EngineConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineConnection")
            .field("sid", &self.sid())
            .field("remote_addr", &self.remote_addr())
            .finish()
    }
}

impl PartialEq for EngineConnection {
    /// The same session.
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.cell, &other.cell)
    }
}

impl Eq for EngineConnection {}
