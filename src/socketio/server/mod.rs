//! The Socket.IO v5 server (feature `socketio`): [`SocketIoServer`] on an
//! [`EngineServer`] mounted at `/socket.io/`. Each Engine.IO session is one Socket.IO
//! client (the reference's lib/client.ts, here [`Client`]): it decodes the session's
//! messages into packets ([`PacketDecoder`], attachments gathered), joins namespaces with
//! CONNECT (middlewares first), and hands each namespace's packets to its [`Socket`].
//!
//! Written to the protocol document (docs/socket.io-protocol/v5-current.md of the
//! socket.io repository) and, for what it leaves implicit, to the reference server
//! (packages/socket.io/lib: client.ts, namespace.ts, socket.ts, broadcast-operator.ts).
//!
//! The files, one job each: this one, the server and the client (the glue to the Engine.IO
//! events); `namespace.rs`: [`Namespace`], its middlewares, sockets and rooms,
//! [`BroadcastOperator`]; `socket.rs`: [`Socket`], its events, emits and acks; `typed.rs`:
//! the typed API over serde beside the raw one.
//!
//! Threads: the events of one Engine.IO session come one at a time, in order, on whichever
//! thread has them; so do the packets of one client and the handlers they call. Handlers
//! run without any lock of ours held: they may emit, join, broadcast or disconnect. The
//! timeouts of [`Socket::emit_with_ack`] run on one timer thread per server (the Engine.IO
//! server's timer design, its own instance).

// Input reaches this module: no indexing, unwrap, expect or panic that it could trigger.
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

mod cluster;
mod namespace;
mod socket;
mod typed;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, RwLock, Weak};
use std::time::{Duration, Instant};

use crate::Message;
use crate::events::{Handle, Server};
use crate::protocol::EncodedMessage;
use crate::socketio::engine::{
    EngineConfig, EngineConnection, EngineHandlers, EngineSendError, EngineServer, Timers, new_sid,
};
use crate::socketio::{
    AttachmentLimits, Data, EnginePacket, EnginePacketType, MAIN_NAMESPACE, Packet, PacketDecoder,
    PacketError, PacketType,
};

pub use cluster::ClusterAdapter;
pub use namespace::{Admission, BroadcastOperator, ConnectError, Namespace, ServerSideAck};
pub use socket::{AckError, AckSender, DisconnectReason, EmitError, Handshake, Socket};

use cluster::ClusterSlot;
use namespace::NamespaceInner;
use socket::AckTimer;

/// Locks, going on after a panic elsewhere (the state stays consistent between statements).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A packet encoded for the Engine.IO session: its text message, then one binary message per
/// attachment. Cheap to send many times: the messages share their bytes.
pub(crate) struct Wire {
    text: Message,
    attachments: Vec<Message>,
}

impl Wire {
    pub(crate) fn encode(packet: &Packet) -> Result<Wire, PacketError> {
        let encoded = packet.encode()?;
        Ok(Wire {
            text: Message::from(encoded.text),
            attachments: encoded.attachments.into_iter().map(Message::from).collect(),
        })
    }

    /// The messages as WebSocket frames of Engine.IO message packets, framed once by the
    /// runtime `handle`, to send to many sockets.
    pub(crate) fn websocket_frames(&self, handle: &Handle) -> Vec<EncodedMessage> {
        self.messages()
            .into_iter()
            .map(|message| {
                let packet = match message {
                    Message::Text(text) => EnginePacket::text(EnginePacketType::Message, text),
                    Message::Binary(bytes) => EnginePacket::Binary(bytes),
                };
                handle.encode(packet.encode_websocket())
            })
            .collect()
    }

    /// The messages, text first.
    pub(crate) fn messages(&self) -> Vec<Message> {
        let mut messages = Vec::with_capacity(1 + self.attachments.len());
        messages.push(self.text.clone());
        messages.extend(self.attachments.iter().cloned());
        messages
    }
}

/// A deadline on the server's timer thread.
pub(crate) enum IoTimer {
    /// The timeout of one [`Socket::emit_with_ack`].
    Ack(AckTimer),
    /// A client that joined no namespace within
    /// [`connect_timeout`](SocketIoConfig::connect_timeout) is closed.
    Connect(Weak<Client>),
}

impl IoTimer {
    fn fire(&self) {
        match self {
            IoTimer::Ack(timer) => timer.fire(),
            IoTimer::Connect(client) => {
                if let Some(client) = client.upgrade()
                    && !lock(&client.namespaces).has_socket()
                {
                    client.force_close();
                }
            }
        }
    }
}

/// How a [`SocketIoServer`] runs.
#[derive(Debug, Clone)]
pub struct SocketIoConfig {
    /// The Engine.IO server's configuration; its path is `/socket.io/` by default, as the
    /// reference's.
    pub engine: EngineConfig,
    /// Bounds on a received packet's binary attachments (10 attachments, the Engine.IO
    /// `max_http_buffer_size` in bytes, by default).
    pub attachments: AttachmentLimits,
    /// How long a client may stay in no namespace after its Engine.IO handshake before its
    /// session is closed (the reference's `connectTimeout`). Default 45 s.
    pub connect_timeout: Duration,
}

impl Default for SocketIoConfig {
    fn default() -> Self {
        SocketIoConfig {
            engine: EngineConfig {
                path: "/socket.io/".to_owned(),
                ..EngineConfig::default()
            },
            attachments: AttachmentLimits::default(),
            connect_timeout: Duration::from_secs(45),
        }
    }
}

/// The server's state, shared by its clones, its Engine.IO handlers and its clients.
pub(crate) struct IoInner {
    namespaces: RwLock<BTreeMap<String, Arc<NamespaceInner>>>,
    clients: Mutex<HashMap<Box<str>, Arc<Client>>>,
    attachments: AttachmentLimits,
    connect_timeout: Duration,
    pub(crate) timers: Timers<IoTimer>,
    cluster: ClusterSlot,
}

/// A Socket.IO v5 server: namespaces, middlewares, named events with acks both ways,
/// binary arguments, rooms and broadcasts, on an [`EngineServer`] (Engine.IO v4:
/// long-polling, WebSocket, the upgrade, the heartbeat). Cheap to clone; every clone is the
/// same server.
///
/// ```no_run
/// use rfc6455::events::{Handlers, Server};
/// use rfc6455::socketio::{SocketIoConfig, SocketIoServer};
///
/// let io = SocketIoServer::new(SocketIoConfig::default())?;
/// io.of("/").on_connection(|socket| {
///     socket.on("echo", |socket, args, ack| match ack {
///         Some(ack) => drop(ack.send(args)),
///         None => drop(socket.emit("echo", args)),
///     });
/// });
/// io.attach(Server::new(Handlers::<()>::new())).bind("127.0.0.1:3000")?.run()?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone)]
pub struct SocketIoServer {
    inner: Arc<IoInner>,
    engine: EngineServer,
}

impl std::fmt::Debug for SocketIoServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketIoServer")
            .field("engine", &self.engine)
            .finish()
    }
}

impl SocketIoServer {
    /// A server with `config`, its main namespace `/`, its Engine.IO server and their
    /// timer threads (the only error: a thread could not be started).
    pub fn new(config: SocketIoConfig) -> std::io::Result<SocketIoServer> {
        let timers = Timers::start("socket.io-timers", |timer: Arc<IoTimer>, _at| timer.fire())?;
        let cluster: ClusterSlot = Arc::new(OnceLock::new());
        let main = Arc::new(NamespaceInner::new(
            MAIN_NAMESPACE.to_owned(),
            cluster.clone(),
        ));
        let inner = Arc::new(IoInner {
            namespaces: RwLock::new(BTreeMap::from([(MAIN_NAMESPACE.to_owned(), main)])),
            clients: Mutex::new(HashMap::new()),
            attachments: config.attachments,
            connect_timeout: config.connect_timeout,
            timers,
            cluster,
        });
        let (on_connection, on_message, on_close) = (inner.clone(), inner.clone(), inner.clone());
        let handlers = EngineHandlers::new()
            .on_connection(move |connection| on_connection.opened(connection))
            .on_message(move |connection, message| on_message.message(connection, message))
            .on_close(move |connection, reason| {
                on_close.closed(connection, socket::DisconnectReason::Transport(reason))
            });
        let engine = EngineServer::new(config.engine, handlers)?;
        Ok(SocketIoServer { inner, engine })
    }

    /// The namespace `name` (`/admin`; `admin` is the same, as in the reference), made if it
    /// does not exist yet. A CONNECT to a name never made is refused (`Invalid namespace`).
    pub fn of(&self, name: &str) -> Namespace {
        let name = match name.starts_with('/') {
            true => name.to_owned(),
            false => format!("/{name}"),
        };
        let mut namespaces = self
            .inner
            .namespaces
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let mut added = false;
        let inner = namespaces
            .entry(name.clone())
            .or_insert_with(|| {
                added = true;
                Arc::new(NamespaceInner::new(name, self.inner.cluster.clone()))
            })
            .clone();
        drop(namespaces);
        let namespace = Namespace { inner };
        if added && let Some(cluster) = self.inner.cluster.get() {
            cluster.namespace_added(&namespace);
        }
        namespace
    }

    /// Makes the server one node of a cluster: from now on its broadcasts and room
    /// operations also go to `adapter` ([`ClusterAdapter`]), which is told of every
    /// namespace. One adapter per server: a second is refused.
    pub fn set_cluster_adapter(&self, adapter: impl ClusterAdapter) -> Result<(), crate::Error> {
        self.inner
            .cluster
            .set(Box::new(adapter))
            .map_err(|_| crate::UsageError::InvalidInput("second cluster adapter"))?;
        let namespaces = self.namespaces();
        if let Some(cluster) = self.inner.cluster.get() {
            for namespace in &namespaces {
                cluster.namespace_added(namespace);
            }
        }
        Ok(())
    }

    /// The namespaces made so far (`/` first).
    pub fn namespaces(&self) -> Vec<Namespace> {
        self.inner
            .namespaces
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .map(|inner| Namespace {
                inner: inner.clone(),
            })
            .collect()
    }

    /// Mounts the server on `server` at its Engine.IO path (`/socket.io/`): see
    /// [`EngineServer::attach`].
    pub fn attach<D: Default + Send + 'static>(&self, server: Server<D>) -> Server<D> {
        self.engine.attach(server)
    }

    /// The Engine.IO server underneath.
    pub fn engine(&self) -> &EngineServer {
        &self.engine
    }
}

/// Where a client stands in one namespace.
enum Slot {
    /// Its CONNECT is with the middlewares: any other packet there is out of place.
    Admitting,
    /// Admitted: the CONNECT reply went, the connection handler runs (on the thread of the
    /// last middleware's answer); the packets that come meanwhile wait here, in order.
    Starting(Socket, Vec<Packet>),
    Connected(Socket),
}

impl Slot {
    fn socket(&self) -> Option<&Socket> {
        match self {
            Slot::Admitting => None,
            Slot::Starting(socket, _) | Slot::Connected(socket) => Some(socket),
        }
    }
}

/// Packets a client may send to a namespace whose connection handler has not returned yet
/// (it got the CONNECT reply, the handler runs on another thread); one more closes it.
const MAX_EARLY_PACKETS: usize = 64;

/// A client's namespaces.
#[derive(Default)]
struct Slots {
    by_name: BTreeMap<String, Slot>,
    /// Set when the session is gone: no socket joins any more.
    closed: bool,
}

impl Slots {
    fn has_socket(&self) -> bool {
        self.by_name.values().any(|slot| slot.socket().is_some())
    }

    fn sockets(&self) -> Vec<Socket> {
        self.by_name
            .values()
            .filter_map(Slot::socket)
            .cloned()
            .collect()
    }
}

/// One Engine.IO session as a Socket.IO client: its decoder and its sockets, by namespace.
pub(crate) struct Client {
    pub(crate) connection: EngineConnection,
    pub(crate) server: Arc<IoInner>,
    decoder: Mutex<PacketDecoder>,
    namespaces: Mutex<Slots>,
    /// The target of the connect timeout's timer entry.
    connect_timer: Arc<IoTimer>,
}

impl Client {
    /// The packet's messages, in one piece: the text and the attachments of two packets
    /// sent from two threads do not interleave.
    pub(crate) fn write(&self, wire: &Wire) -> Result<(), EngineSendError> {
        match wire.attachments.is_empty() {
            true => self.connection.send(wire.text.clone()),
            false => self.connection.send_all(wire.messages(), false),
        }
    }

    /// The packet's messages if the transport can take them now, else none
    /// ([`EngineConnection::send_volatile`]).
    pub(crate) fn write_volatile(&self, wire: &Wire) -> Result<(), EngineSendError> {
        self.connection.send_all(wire.messages(), true)
    }

    fn send_packet(&self, packet: &Packet) {
        if let Ok(wire) = Wire::encode(packet) {
            let _ = self.write(&wire);
        }
    }

    pub(crate) fn remove(&self, namespace: &str) {
        lock(&self.namespaces).by_name.remove(namespace);
    }

    /// The session is gone: its sockets, and no more to come.
    fn take_sockets(&self) -> Vec<Socket> {
        let mut slots = lock(&self.namespaces);
        slots.closed = true;
        let sockets = slots.sockets();
        slots.by_name.clear();
        sockets
    }

    /// The reference's `close()`: the session closes, each socket with `forced server close`.
    fn force_close(&self) {
        if self.connection.is_open() {
            self.connection.close();
            for socket in self.take_sockets() {
                socket.closed(DisconnectReason::ForcedServerClose);
            }
        }
    }

    /// The middlewares answered a CONNECT to `name`: a CONNECT_ERROR, or the socket, its
    /// CONNECT reply, the connection handler, and then the packets that came meanwhile.
    fn admitted(
        self: &Arc<Client>,
        namespace: Arc<NamespaceInner>,
        name: String,
        handshake: Handshake,
        answer: Result<(), ConnectError>,
    ) {
        if let Err(refusal) = answer {
            self.remove(&name);
            self.send_packet(&Packet::connect_error(name, refusal.into_payload()));
            return;
        }
        // Session ids come from the OS's random source; without one, the client waits.
        let Ok(id) = new_sid() else {
            return;
        };
        let socket = Socket::new(id.clone(), namespace.clone(), self.clone(), handshake);
        {
            let mut slots = lock(&self.namespaces);
            let admitting = matches!(slots.by_name.get(&name), Some(Slot::Admitting));
            if slots.closed || !admitting || !self.connection.is_open() {
                return;
            }
            // Under the client's lock, so that a close now finds the socket and takes it
            // out of its namespace.
            namespace.add(&socket);
            let starting = Slot::Starting(socket.clone(), Vec::new());
            slots.by_name.insert(name.clone(), starting);
        }
        let reply = Data::Object(BTreeMap::from([("sid".to_owned(), Data::from(id))]));
        self.send_packet(&Packet::connect(name.as_str(), Some(reply)));
        namespace.connected(&socket);
        loop {
            let early = {
                let mut slots = lock(&self.namespaces);
                match slots.by_name.get_mut(&name) {
                    Some(Slot::Starting(_, early)) if early.is_empty() => {
                        slots.by_name.insert(name, Slot::Connected(socket));
                        return;
                    }
                    Some(Slot::Starting(_, early)) => std::mem::take(early),
                    // Gone meanwhile (a disconnect, a close).
                    _ => return,
                }
            };
            for packet in early {
                socket.receive(packet);
            }
        }
    }

    /// The reference's `_disconnect()`: a DISCONNECT in every namespace, then the close.
    pub(crate) fn disconnect_all(&self) {
        let sockets = lock(&self.namespaces).sockets();
        for socket in sockets {
            socket.disconnect(false);
        }
        self.force_close();
    }
}

impl IoInner {
    fn client(&self, sid: &str) -> Option<Arc<Client>> {
        lock(&self.clients).get(sid).cloned()
    }

    fn opened(self: &Arc<Self>, connection: &EngineConnection) {
        let client = Arc::new_cyclic(|weak| Client {
            connection: connection.clone(),
            server: self.clone(),
            decoder: Mutex::new(PacketDecoder::new(self.attachments)),
            namespaces: Mutex::new(Slots::default()),
            connect_timer: Arc::new(IoTimer::Connect(weak.clone())),
        });
        let deadline = Instant::now() + self.connect_timeout;
        self.timers.schedule(deadline, &client.connect_timer);
        lock(&self.clients).insert(connection.sid().into(), client);
    }

    fn message(&self, connection: &EngineConnection, message: Message) {
        let Some(client) = self.client(connection.sid()) else {
            return;
        };
        let decoded = {
            let mut decoder = lock(&client.decoder);
            match message {
                Message::Text(text) => decoder.receive_text(text.as_str()),
                Message::Binary(bytes) => decoder.receive_binary(bytes),
            }
        };
        match decoded {
            Ok(Some(packet)) => self.packet(&client, packet),
            Ok(None) => {}
            // The reference's `onerror`: the session closes (`forced close`, which its close
            // event then gives each socket).
            Err(_) => client.connection.close(),
        }
    }

    /// The reference's `ondecoded`.
    fn packet(&self, client: &Arc<Client>, packet: Packet) {
        let in_place = !matches!(
            packet.packet_type,
            PacketType::Connect | PacketType::ConnectError
        );
        let mut slots = lock(&client.namespaces);
        match slots.by_name.get_mut(&packet.namespace) {
            None if packet.packet_type == PacketType::Connect => {
                slots
                    .by_name
                    .insert(packet.namespace.clone(), Slot::Admitting);
                drop(slots);
                self.connect(client, packet);
            }
            Some(Slot::Connected(socket)) if in_place => {
                let socket = socket.clone();
                drop(slots);
                socket.receive(packet);
            }
            Some(Slot::Starting(_, early)) if in_place && early.len() < MAX_EARLY_PACKETS => {
                early.push(packet);
            }
            _ => {
                drop(slots);
                client.force_close();
            }
        }
    }

    /// The reference's `connect` and `Namespace._add`: the namespace, then its middlewares
    /// (which may answer later, from another thread: [`Client::admitted`] goes on).
    fn connect(&self, client: &Arc<Client>, packet: Packet) {
        let name = packet.namespace;
        let namespace = self
            .namespaces
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&name)
            .cloned();
        let Some(namespace) = namespace else {
            client.remove(&name);
            let refusal = ConnectError::new("Invalid namespace").into_payload();
            client.send_packet(&Packet::connect_error(name, refusal));
            return;
        };
        let handshake = Handshake {
            connection: client.connection.clone(),
            auth: packet.data.unwrap_or_else(|| Data::Object(BTreeMap::new())),
        };
        let client = client.clone();
        let admitting = namespace.clone();
        admitting.admit(
            handshake,
            Box::new(move |handshake, answer| client.admitted(namespace, name, handshake, answer)),
        );
    }

    fn closed(&self, connection: &EngineConnection, reason: DisconnectReason) {
        let client = lock(&self.clients).remove(connection.sid());
        if let Some(client) = client {
            for socket in client.take_sockets() {
                socket.closed(reason);
            }
        }
    }
}
