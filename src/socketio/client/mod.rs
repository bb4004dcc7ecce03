//! The Socket.IO v5 client (feature `socketio`): [`SocketIoClient`], over Engine.IO v4 on
//! WebSocket only (`EIO=4&transport=websocket`), with the reference client's reconnection
//! (socket.io-client lib/manager.ts and socket.ts).
//!
//! One [`SocketIoClient`] is the reference's `Manager`: one Engine.IO session, its
//! heartbeat, its reconnection. [`SocketIoClient::socket`] gives the [`ClientSocket`] of a
//! namespace (the reference's `Socket`): its handlers, its emits and acks, its send buffer.
//!
//! Threads: each WebSocket connection runs on the crate's blocking driver
//! ([`blocking::WebSocket`]) on a thread of its own, started again for each attempt, and one
//! manager thread per client owns the timers (the Engine.IO ping timeout, ack timeouts, the
//! reconnection backoff) and calls every handler and callback, one at a time, in the order
//! the packets came. No lock of ours is held while a handler runs: it may emit, answer,
//! disconnect.
//!
//! [`blocking::WebSocket`]: crate::blocking::WebSocket

// Input reaches this module: no indexing, unwrap, expect or panic that it could trigger.
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

mod backoff;
mod manager;
mod transport;

use std::sync::Arc;
use std::time::Duration;

use crate::socketio::{AckError, AttachmentLimits, Data, PacketError};

use manager::Shared;

/// How a [`SocketIoClient`] connects and reconnects: the reference's `ManagerOptions`.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The Engine.IO path, `/socket.io/` by default.
    pub path: String,
    /// Reconnect after a lost connection (default `true`). The server's own disconnect
    /// (`io server disconnect`) and [`ClientSocket::disconnect`] never reconnect.
    pub reconnection: bool,
    /// Give up after this many attempts in a row (`None`, the default: never).
    pub reconnection_attempts: Option<u32>,
    /// The wait before the first attempt, doubled each attempt (default 1 s).
    pub reconnection_delay: Duration,
    /// The longest wait (default 5 s).
    pub reconnection_delay_max: Duration,
    /// Each wait is moved up or down by at most this fraction of itself (default 0.5).
    pub randomization_factor: f64,
    /// How long the WebSocket and the Engine.IO open packet may take (default 20 s, the
    /// reference's `timeout`); then the attempt counts as failed.
    pub timeout: Duration,
    /// Packets held per namespace while it is not connected, flushed in order once it is
    /// (default 1,000; the reference's `sendBuffer` has no bound). An emit beyond it fails
    /// with [`ClientEmitError::BufferFull`].
    pub send_buffer: usize,
    /// Bounds on a received packet's binary attachments.
    pub attachments: AttachmentLimits,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            path: "/socket.io/".to_owned(),
            reconnection: true,
            reconnection_attempts: None,
            reconnection_delay: Duration::from_secs(1),
            reconnection_delay_max: Duration::from_secs(5),
            randomization_factor: 0.5,
            timeout: Duration::from_secs(20),
            send_buffer: 1000,
            attachments: AttachmentLimits::default(),
        }
    }
}

/// Why a [`ClientSocket`] left its namespace: the reference client's reason strings
/// ([`as_str`](Self::as_str)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientDisconnectReason {
    /// `io server disconnect`: the server sent DISCONNECT; no reconnection follows.
    IoServerDisconnect,
    /// `io client disconnect`: [`ClientSocket::disconnect`] or [`SocketIoClient::close`].
    IoClientDisconnect,
    /// `transport close`: the connection closed (the server went away, or closed the
    /// session); the client reconnects.
    TransportClose,
    /// `ping timeout`: no ping from the server within `pingInterval + pingTimeout`; the
    /// client reconnects.
    PingTimeout,
    /// `parse error`: the server sent what does not decode; the client reconnects.
    ParseError,
}

impl ClientDisconnectReason {
    /// The reference client's string, as its `disconnect` event passes it.
    pub fn as_str(self) -> &'static str {
        match self {
            ClientDisconnectReason::IoServerDisconnect => "io server disconnect",
            ClientDisconnectReason::IoClientDisconnect => "io client disconnect",
            ClientDisconnectReason::TransportClose => "transport close",
            ClientDisconnectReason::PingTimeout => "ping timeout",
            ClientDisconnectReason::ParseError => "parse error",
        }
    }
}

/// A refused CONNECT: the server's CONNECT_ERROR, `{"message": ..., "data": ...}` (a
/// middleware's refusal, `Invalid namespace`). The namespace is not joined again.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ClientConnectError {
    /// The refusal's message.
    pub message: String,
    /// Its data, when the server gave some.
    pub data: Option<Data>,
}

/// Why an emit was not sent or buffered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientEmitError {
    /// The packet cannot be encoded (a reserved event name, say).
    #[error(transparent)]
    Packet(#[from] PacketError),
    /// The namespace is not connected and its send buffer holds
    /// [`send_buffer`](ClientConfig::send_buffer) packets already.
    #[error("the send buffer is full")]
    BufferFull,
    /// An ack to send, and the namespace is no longer connected (acks are not buffered).
    #[error("the socket is disconnected")]
    Disconnected,
    /// The client was closed ([`SocketIoClient::close`]).
    #[error("the client is closed")]
    Closed,
}

/// An event handler: the socket, the arguments, the ack to answer when the server asked
/// for one.
pub(crate) type EventHandler =
    Arc<dyn Fn(&ClientSocket, Vec<Data>, Option<ClientAck>) + Send + Sync>;
/// An ack callback.
pub(crate) type AckCallback = Box<dyn FnOnce(Result<Vec<Data>, AckError>) + Send>;

/// A Socket.IO v5 client: one Engine.IO session over WebSocket to a server, with its
/// namespaces ([`socket`](Self::socket)), its heartbeat and the reference's reconnection.
/// Cheap to clone; every clone is the same client. It runs until [`close`](Self::close).
///
/// ```no_run
/// use std::time::Duration;
/// use rfc6455::socketio::{ClientConfig, Data, SocketIoClient};
///
/// let client = SocketIoClient::new("http://127.0.0.1:3000", ClientConfig::default())?;
/// let main = client.socket("/", Data::Null);
/// main.on("chat", |_socket, args, _ack| println!("chat: {args:?}"));
/// main.on_connect(|socket| {
///     let _ = socket.emit("chat", vec![Data::from("hello")]);
///     let _ = socket.emit_with_ack("sync", vec![], Duration::from_secs(5), |answer| {
///         println!("{answer:?}"); // Ok(args), or Err(AckError::Timeout)
///     });
/// });
/// main.connect();
/// # Ok::<(), rfc6455::Error>(())
/// ```
#[derive(Clone)]
pub struct SocketIoClient {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for SocketIoClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketIoClient")
            .field("url", &self.shared.url)
            .finish()
    }
}

impl SocketIoClient {
    /// A client of the server at `url` (`http://`, `ws://`, or `https://`/`wss://` with the
    /// feature `tls`; a path in it is ignored: the Engine.IO path is
    /// [`ClientConfig::path`]), with its manager thread. It connects when a namespace does
    /// ([`ClientSocket::connect`]). Fails on a URL it cannot use, or when the thread cannot
    /// be started.
    pub fn new(url: &str, config: ClientConfig) -> Result<SocketIoClient, crate::Error> {
        let shared = Shared::start(url, config)?;
        Ok(SocketIoClient { shared })
    }

    /// The socket of namespace `namespace` (`/admin`; `admin` is the same), made on first
    /// use with `auth`, the payload of its CONNECT (`Data::Null` for none); a second call
    /// gets the same socket and keeps the first `auth`.
    pub fn socket(&self, namespace: &str, auth: Data) -> ClientSocket {
        let namespace: Arc<str> = match namespace.starts_with('/') {
            true => namespace.into(),
            false => format!("/{namespace}").into(),
        };
        self.shared.add_namespace(&namespace, auth);
        ClientSocket {
            shared: self.shared.clone(),
            namespace,
        }
    }

    /// True while the Engine.IO session is open.
    pub fn is_open(&self) -> bool {
        self.shared.is_open()
    }

    /// Disconnects every namespace (`io client disconnect`), closes the connection and stops
    /// the manager thread; emits fail with [`ClientEmitError::Closed`] from now on.
    pub fn close(&self) {
        self.shared.close();
    }
}

/// One namespace of a [`SocketIoClient`]: the reference client's `Socket`. Cheap to clone.
#[derive(Clone)]
pub struct ClientSocket {
    shared: Arc<Shared>,
    namespace: Arc<str>,
}

impl std::fmt::Debug for ClientSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientSocket")
            .field("namespace", &self.namespace)
            .field("id", &self.id())
            .finish()
    }
}

impl ClientSocket {
    /// The namespace.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The id the server gave in its CONNECT reply (a new one after each reconnection);
    /// `None` while not connected.
    pub fn id(&self) -> Option<String> {
        self.shared.sid(&self.namespace)
    }

    /// True while the namespace is joined.
    pub fn connected(&self) -> bool {
        self.id().is_some()
    }

    /// Joins the namespace: opens the connection if it is not, then sends CONNECT with the
    /// auth payload; after a reconnection it is sent again. Registers handlers first. Called
    /// again after the reconnection gave up
    /// ([`reconnection_attempts`](ClientConfig::reconnection_attempts)), it starts a new
    /// round of attempts.
    pub fn connect(&self) {
        self.shared.connect(&self.namespace);
    }

    /// Leaves the namespace: DISCONNECT to the server, `io client disconnect` to
    /// [`on_disconnect`](Self::on_disconnect); pending acks get
    /// [`AckError::Disconnected`]. When no namespace is left, the connection closes.
    pub fn disconnect(&self) {
        self.shared.disconnect(&self.namespace);
    }

    /// Calls `handler` for each event `event` from the server, with its arguments and, if
    /// the server asked for one, the [`ClientAck`] to answer. One handler per name: a
    /// second replaces the first.
    pub fn on(
        &self,
        event: impl Into<String>,
        handler: impl Fn(&ClientSocket, Vec<Data>, Option<ClientAck>) + Send + Sync + 'static,
    ) {
        self.shared
            .on_event(&self.namespace, event.into(), Arc::new(handler));
    }

    /// Calls `handler` each time the namespace is joined (again after each reconnection),
    /// after the packets buffered meanwhile were sent.
    pub fn on_connect(&self, handler: impl Fn(&ClientSocket) + Send + Sync + 'static) {
        self.shared.on_connect(&self.namespace, Arc::new(handler));
    }

    /// Calls `handler` when the server refuses the CONNECT (the reference's
    /// `connect_error`); the namespace is then not joined again.
    pub fn on_connect_error(
        &self,
        handler: impl Fn(&ClientSocket, &ClientConnectError) + Send + Sync + 'static,
    ) {
        self.shared
            .on_connect_error(&self.namespace, Arc::new(handler));
    }

    /// Calls `handler` each time the socket leaves the namespace, with why.
    pub fn on_disconnect(
        &self,
        handler: impl Fn(&ClientSocket, ClientDisconnectReason) + Send + Sync + 'static,
    ) {
        self.shared
            .on_disconnect(&self.namespace, Arc::new(handler));
    }

    /// Emits `event` with `args` (binary arguments travel as attachments): at once when
    /// connected, else into the send buffer, sent after the next CONNECT reply.
    pub fn emit(&self, event: &str, args: Vec<Data>) -> Result<(), ClientEmitError> {
        self.shared.emit(&self.namespace, event, args, None)
    }

    /// [`emit`](Self::emit) with an ack id: `callback` gets the server's answer, or
    /// [`AckError::Timeout`] when none came within `timeout` (counted from now, buffered
    /// or not), or [`AckError::Disconnected`] when the connection was lost after the packet
    /// went out. When the emit fails, `callback` is dropped uncalled.
    pub fn emit_with_ack(
        &self,
        event: &str,
        args: Vec<Data>,
        timeout: Duration,
        callback: impl FnOnce(Result<Vec<Data>, AckError>) + Send + 'static,
    ) -> Result<(), ClientEmitError> {
        let ack = (timeout, Box::new(callback) as AckCallback);
        self.shared.emit(&self.namespace, event, args, Some(ack))
    }
}

/// The answer to one event the server sent with an ack id: [`send`](Self::send) it once.
/// Dropped unsent, the server's callback is never called (it times out).
#[derive(Debug)]
pub struct ClientAck {
    socket: ClientSocket,
    id: u64,
}

impl ClientAck {
    /// The ack id.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Sends the ACK with `args`, if the namespace is still connected (it is not buffered:
    /// the server forgot the event with the connection).
    pub fn send(self, args: Vec<Data>) -> Result<(), ClientEmitError> {
        self.socket
            .shared
            .answer(&self.socket.namespace, self.id, args)
    }
}
