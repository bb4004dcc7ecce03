//! [`Socket`]: one client in one namespace, as the application holds it (the reference's
//! lib/socket.ts): its handlers for named events, emit with and without an ack, the acks it
//! waits for and their timeouts, its rooms, its disconnect. Also what a socket's life is
//! described with: [`Handshake`], [`AckSender`], [`DisconnectReason`] and the errors.

// Input reaches this module: no indexing, unwrap, expect or panic that it could trigger.
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use crate::handshake::HttpRequest;
use crate::socketio::engine::EngineConnection;
use crate::socketio::server::namespace::{BroadcastOperator, NamespaceInner};
use crate::socketio::server::{Client, IoTimer, lock};
use crate::socketio::{
    CloseReason, Data, DataError, EngineSendError, Packet, PacketError, PacketType,
};

type EventHandler = Arc<dyn Fn(&Socket, Vec<Data>, Option<AckSender>) + Send + Sync>;
type FallbackHandler = Arc<dyn Fn(&Socket, &str, Vec<Data>, Option<AckSender>) + Send + Sync>;
type DisconnectHandler = Arc<dyn Fn(&Socket, &DisconnectReason) + Send + Sync>;
type AckCallback = Box<dyn FnOnce(Result<Vec<Data>, AckError>) + Send>;

/// What the client sent to join a namespace, and who it is: what middlewares decide on.
#[derive(Debug, Clone)]
pub struct Handshake {
    pub(crate) connection: EngineConnection,
    pub(crate) auth: Data,
}

impl Handshake {
    /// The auth payload of the CONNECT packet (`{}` when the client sent none).
    pub fn auth(&self) -> &Data {
        &self.auth
    }

    /// The HTTP request that opened the Engine.IO session: headers, cookies, query.
    pub fn request(&self) -> &HttpRequest {
        self.connection.request()
    }

    /// The client's address.
    pub fn remote_addr(&self) -> SocketAddr {
        self.connection.remote_addr()
    }

    /// The Engine.IO session carrying the socket.
    pub fn connection(&self) -> &EngineConnection {
        &self.connection
    }
}

/// Why a socket left its namespace: the reference's reason strings ([`as_str`](Self::as_str)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisconnectReason {
    /// `client namespace disconnect`: the client sent DISCONNECT (`socket.disconnect()`).
    ClientNamespaceDisconnect,
    /// `server namespace disconnect`: [`Socket::disconnect`] on this side.
    ServerNamespaceDisconnect,
    /// `forced server close`: the client broke the protocol (a packet for a namespace it
    /// did not join, a second CONNECT), or [`Socket::disconnect`] with `close`.
    ForcedServerClose,
    /// The Engine.IO session ended: `transport close`, `ping timeout`, `transport error`,
    /// `forced close` (also after a packet that does not decode), `parse error`.
    Transport(CloseReason),
}

impl DisconnectReason {
    /// The reference server's string, as its `disconnect` event passes it.
    pub fn as_str(self) -> &'static str {
        match self {
            DisconnectReason::ClientNamespaceDisconnect => "client namespace disconnect",
            DisconnectReason::ServerNamespaceDisconnect => "server namespace disconnect",
            DisconnectReason::ForcedServerClose => "forced server close",
            DisconnectReason::Transport(reason) => reason.as_str(),
        }
    }
}

impl std::fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an [`emit_with_ack`](Socket::emit_with_ack) got no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AckError {
    /// No ACK within the timeout (the reference's `operation has timed out`).
    #[error("operation has timed out")]
    Timeout,
    /// The socket left the namespace first.
    #[error("the socket disconnected before the ack")]
    Disconnected,
}

/// Why an emit was not sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EmitError {
    /// The socket is not (or no longer) connected to its namespace.
    #[error("the socket is disconnected")]
    Disconnected,
    /// The packet cannot be encoded (a reserved event name, say).
    #[error(transparent)]
    Packet(#[from] PacketError),
    /// The Engine.IO session refused the message.
    #[error(transparent)]
    Send(#[from] EngineSendError),
    /// The typed arguments do not serialize to an argument list ([`Socket::emit_typed`]).
    #[error("event arguments: {0}")]
    Arguments(#[from] DataError),
}

/// The answer to one event the client sent with an ack id: [`send`](Self::send) it once.
/// Dropped unsent, the client's callback is never called (as in the reference).
#[derive(Debug)]
pub struct AckSender {
    socket: Socket,
    id: u64,
}

impl AckSender {
    /// The ack id the client chose.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Sends the ACK with `args` (binary ones make it a BINARY_ACK).
    pub fn send(self, args: Vec<Data>) -> Result<(), EmitError> {
        let packet = Packet::ack(self.socket.namespace(), self.id, args);
        self.socket.send_packet(&packet)
    }
}

/// Acks this side waits for.
#[derive(Default)]
struct Acks {
    next_id: u64,
    pending: HashMap<u64, PendingAck>,
}

struct PendingAck {
    callback: AckCallback,
    /// The timer entry's target: while this lives, the timeout can fire.
    _timer: Arc<IoTimer>,
}

/// The timeout of one [`emit_with_ack`](Socket::emit_with_ack), on the server's ack timer
/// thread.
pub(crate) struct AckTimer {
    socket: Weak<SocketInner>,
    id: u64,
}

impl AckTimer {
    /// The timeout came: the callback gets [`AckError::Timeout`] unless the ack came first.
    pub(crate) fn fire(&self) {
        let Some(socket) = self.socket.upgrade() else {
            return;
        };
        let pending = lock(&socket.acks).pending.remove(&self.id);
        if let Some(pending) = pending {
            (pending.callback)(Err(AckError::Timeout));
        }
    }
}

pub(crate) struct SocketInner {
    id: String,
    namespace: Arc<NamespaceInner>,
    client: Arc<Client>,
    handshake: Handshake,
    connected: AtomicBool,
    events: std::sync::Mutex<HashMap<String, EventHandler>>,
    fallback: std::sync::Mutex<Option<FallbackHandler>>,
    disconnect: std::sync::Mutex<Vec<DisconnectHandler>>,
    acks: std::sync::Mutex<Acks>,
}

/// One client in one namespace: cheap to clone, `Send + Sync`, usable from any thread and
/// after the handler returns.
///
/// ```no_run
/// use rfc6455::socketio::{Data, SocketIoConfig, SocketIoServer};
///
/// let io = SocketIoServer::new(SocketIoConfig::default())?;
/// io.of("/").on_connection(|socket| {
///     socket.join("lobby");
///     socket.on("chat", |socket, args, ack| {
///         let _ = socket.to("lobby").emit("chat", args); // to the others in the lobby
///         if let Some(ack) = ack {
///             let _ = ack.send(vec![Data::from("delivered")]);
///         }
///     });
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone)]
pub struct Socket {
    pub(crate) inner: Arc<SocketInner>,
}

impl std::fmt::Debug for Socket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Socket")
            .field("id", &self.id())
            .field("namespace", &self.namespace())
            .finish()
    }
}

impl PartialEq for Socket {
    /// The same socket.
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl Eq for Socket {}

impl Socket {
    pub(crate) fn new(
        id: String,
        namespace: Arc<NamespaceInner>,
        client: Arc<Client>,
        handshake: Handshake,
    ) -> Socket {
        Socket {
            inner: Arc::new(SocketInner {
                id,
                namespace,
                client,
                handshake,
                connected: AtomicBool::new(true),
                events: std::sync::Mutex::new(HashMap::new()),
                fallback: std::sync::Mutex::new(None),
                disconnect: std::sync::Mutex::new(Vec::new()),
                acks: std::sync::Mutex::new(Acks::default()),
            }),
        }
    }

    /// The socket id (20 URL-safe characters), the `sid` of the CONNECT reply, and the name
    /// of the room the socket is always in.
    pub fn id(&self) -> &str {
        &self.inner.id
    }

    /// The namespace's name (`/`, `/admin`...).
    pub fn namespace(&self) -> &str {
        &self.inner.namespace.name
    }

    /// The handshake: the auth payload, the HTTP request, the address.
    pub fn handshake(&self) -> &Handshake {
        &self.inner.handshake
    }

    /// The Engine.IO session carrying this socket (and the client's other namespaces).
    pub fn connection(&self) -> &EngineConnection {
        &self.inner.client.connection
    }

    /// True until the socket leaves its namespace.
    pub fn connected(&self) -> bool {
        self.inner.connected.load(Ordering::Acquire)
    }

    /// Calls `handler` for each event `event` the client emits, with its arguments and, if
    /// the client asked for one, the [`AckSender`] of the answer. One handler per name: a
    /// second replaces the first. Numeric event names are matched by their decimal text.
    pub fn on(
        &self,
        event: impl Into<String>,
        handler: impl Fn(&Socket, Vec<Data>, Option<AckSender>) + Send + Sync + 'static,
    ) {
        lock(&self.inner.events).insert(event.into(), Arc::new(handler));
    }

    /// Calls `handler` for each event that has no handler of its own ([`on`](Self::on)),
    /// with its name. Unlike the reference's `onAny`, which sees every event before its
    /// listeners, this one sees only the others: an ack can be answered once.
    pub fn on_fallback(
        &self,
        handler: impl Fn(&Socket, &str, Vec<Data>, Option<AckSender>) + Send + Sync + 'static,
    ) {
        *lock(&self.inner.fallback) = Some(Arc::new(handler));
    }

    /// Calls `handler` once when the socket leaves its namespace, with why.
    pub fn on_disconnect(
        &self,
        handler: impl Fn(&Socket, &DisconnectReason) + Send + Sync + 'static,
    ) {
        lock(&self.inner.disconnect).push(Arc::new(handler));
    }

    /// Emits `event` with `args` to the client (binary arguments travel as attachments).
    pub fn emit(&self, event: &str, args: Vec<Data>) -> Result<(), EmitError> {
        self.send_packet(&Packet::event(self.namespace(), event, args))
    }

    /// Emits `event` with `args` only if the client's transport can take it at once, else
    /// drops it (the reference's `socket.volatile.emit`): over long-polling, when a `GET`
    /// is waiting; over WebSocket, when nothing waits in the socket's write queue. For
    /// updates a slow client would read stale anyway. `Ok` does not say it was sent.
    pub fn emit_volatile(&self, event: &str, args: Vec<Data>) -> Result<(), EmitError> {
        let wire = super::Wire::encode(&Packet::event(self.namespace(), event, args))?;
        if !self.connected() {
            return Err(EmitError::Disconnected);
        }
        Ok(self.inner.client.write_volatile(&wire)?)
    }

    /// Emits `event` with `args` and an ack id; `callback` gets the client's answer, or
    /// [`AckError::Timeout`] when none came within `timeout` (from the server's ack timer
    /// thread), or [`AckError::Disconnected`] if the socket left first. When the emit fails,
    /// `callback` is dropped uncalled.
    pub fn emit_with_ack(
        &self,
        event: &str,
        args: Vec<Data>,
        timeout: Duration,
        callback: impl FnOnce(Result<Vec<Data>, AckError>) + Send + 'static,
    ) -> Result<(), EmitError> {
        if !self.connected() {
            return Err(EmitError::Disconnected);
        }
        let (id, timer) = {
            let mut acks = lock(&self.inner.acks);
            let id = acks.next_id;
            acks.next_id += 1;
            let timer = Arc::new(IoTimer::Ack(AckTimer {
                socket: Arc::downgrade(&self.inner),
                id,
            }));
            let pending = PendingAck {
                callback: Box::new(callback),
                _timer: timer.clone(),
            };
            acks.pending.insert(id, pending);
            (id, timer)
        };
        let packet = Packet::event(self.namespace(), event, args).with_id(id);
        if let Err(error) = self.send_packet(&packet) {
            lock(&self.inner.acks).pending.remove(&id);
            return Err(error);
        }
        self.inner
            .client
            .server
            .timers
            .schedule(Instant::now() + timeout, &timer);
        Ok(())
    }

    /// Joins `room` (in this namespace).
    pub fn join(&self, room: impl Into<String>) {
        self.inner.namespace.join(self.id(), room.into());
    }

    /// Leaves `room`.
    pub fn leave(&self, room: &str) {
        self.inner.namespace.leave(self.id(), room);
    }

    /// The rooms the socket is in (its own id's included), sorted.
    pub fn rooms(&self) -> Vec<String> {
        self.inner.namespace.rooms_of(self.id())
    }

    /// A broadcast to the sockets in `room`, this one excepted (the reference's
    /// `socket.to(room)`); chain [`to`](BroadcastOperator::to) for more rooms.
    pub fn to(&self, room: impl Into<String>) -> BroadcastOperator {
        self.broadcast().to(room)
    }

    /// A broadcast to every socket of the namespace but this one (`socket.broadcast`).
    pub fn broadcast(&self) -> BroadcastOperator {
        BroadcastOperator::new(self.inner.namespace.clone()).except(self.id())
    }

    /// Disconnects the socket from its namespace: a DISCONNECT packet to the client, and
    /// `server namespace disconnect`. With `close`, the client's other namespaces too, and
    /// then its Engine.IO session (the reference's `disconnect(true)`).
    pub fn disconnect(&self, close: bool) {
        if !self.connected() {
            return;
        }
        if close {
            self.inner.client.disconnect_all();
        } else {
            let _ = self.send_packet(&Packet::disconnect(self.namespace()));
            self.closed(DisconnectReason::ServerNamespaceDisconnect);
        }
    }

    pub(crate) fn inner_client(&self) -> &Arc<Client> {
        &self.inner.client
    }

    pub(crate) fn send_packet(&self, packet: &Packet) -> Result<(), EmitError> {
        let wire = super::Wire::encode(packet)?;
        if !self.connected() {
            return Err(EmitError::Disconnected);
        }
        Ok(self.inner.client.write(&wire)?)
    }

    /// A packet of this namespace from the client (not a CONNECT or CONNECT_ERROR).
    pub(crate) fn receive(&self, packet: Packet) {
        match packet.packet_type {
            PacketType::Event => {
                let Some(Data::Array(items)) = packet.data else {
                    return;
                };
                let mut items = items.into_iter();
                let name = match items.next() {
                    Some(Data::String(name)) => name,
                    Some(Data::Number(number)) => number.to_string(),
                    _ => return,
                };
                let handler = lock(&self.inner.events).get(&name).cloned();
                let fallback = match handler {
                    Some(_) => None,
                    None => lock(&self.inner.fallback).clone(),
                };
                let ack = packet.id.map(|id| AckSender {
                    socket: self.clone(),
                    id,
                });
                if let Some(handler) = handler {
                    handler(self, items.collect(), ack);
                } else if let Some(fallback) = fallback {
                    fallback(self, &name, items.collect(), ack);
                }
            }
            PacketType::Ack => {
                let Some(id) = packet.id else {
                    return;
                };
                let pending = lock(&self.inner.acks).pending.remove(&id);
                if let Some(pending) = pending {
                    let args = match packet.data {
                        Some(Data::Array(args)) => args,
                        _ => Vec::new(),
                    };
                    (pending.callback)(Ok(args));
                }
            }
            PacketType::Disconnect => self.closed(DisconnectReason::ClientNamespaceDisconnect),
            PacketType::Connect | PacketType::ConnectError => {}
        }
    }

    /// The socket leaves its namespace (once): its rooms, its client's table, its pending
    /// acks (called back with [`AckError::Disconnected`]), then its disconnect handlers.
    pub(crate) fn closed(&self, reason: DisconnectReason) {
        if !self.inner.connected.swap(false, Ordering::AcqRel) {
            return;
        }
        self.inner.namespace.remove(self.id());
        self.inner.client.remove(self.namespace());
        let pending: Vec<PendingAck> = lock(&self.inner.acks)
            .pending
            .drain()
            .map(|(_, pending)| pending)
            .collect();
        for ack in pending {
            (ack.callback)(Err(AckError::Disconnected));
        }
        let handlers = lock(&self.inner.disconnect).clone();
        for handler in handlers {
            handler(self, &reason);
        }
    }
}
