//! [`Namespace`]: one namespace of a Socket.IO server (the reference's lib/namespace.ts):
//! its middlewares, its connection handler, its sockets and rooms (the in-memory adapter),
//! and [`BroadcastOperator`] (lib/broadcast-operator.ts): emit to rooms, encoded once.

// Input reaches this module: no indexing, unwrap, expect or panic that it could trigger.
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, RwLock};

use crate::socketio::server::cluster::ClusterSlot;
use crate::socketio::server::socket::{EmitError, Handshake, Socket};
use crate::socketio::server::{Wire, lock};
use crate::socketio::{Data, EngineSendError, Packet};

type ConnectionHandler = Arc<dyn Fn(&Socket) + Send + Sync>;
type ServerSideHandler = Arc<dyn Fn(Vec<Data>, Option<ServerSideAck>) + Send + Sync>;

/// The answer another server awaits for a server-side event it emitted with an ack (the
/// reference's `serverSideEmitWithAck`): [`send`](Self::send) it once; dropped unsent,
/// that server times out waiting for this one.
pub struct ServerSideAck {
    answer: Box<dyn FnOnce(Data) + Send>,
}

impl std::fmt::Debug for ServerSideAck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerSideAck")
    }
}

impl ServerSideAck {
    /// An answer that `answer` carries to the asking server.
    pub(crate) fn new(answer: impl FnOnce(Data) + Send + 'static) -> ServerSideAck {
        ServerSideAck {
            answer: Box::new(answer),
        }
    }

    /// Answers with `value` (JSON: a binary part travels as `null`, the reference's
    /// requests being JSON).
    pub fn send(self, value: Data) {
        (self.answer)(value);
    }
}
/// What is done with the middlewares' answer.
pub(crate) type Answered = Box<dyn FnOnce(Handshake, Result<(), ConnectError>) + Send>;

type CheckNow = dyn Fn(&Handshake, &Data) -> Result<(), ConnectError> + Send + Sync;
type CheckLater = dyn Fn(&Handshake, Admission) + Send + Sync;
type GoOn = Box<dyn FnOnce(Result<(), ConnectError>) + Send>;

#[derive(Clone)]
enum Middleware {
    /// Answers before it returns.
    Now(Arc<CheckNow>),
    /// Answers through its [`Admission`], when it likes.
    Later(Arc<CheckLater>),
}

/// The answer an asynchronous middleware owes one CONNECT
/// ([`Namespace::use_async_middleware`]): [`allow`](Self::allow) it (the next middleware
/// runs, or the socket joins) or [`refuse`](Self::refuse) it, once, from any thread, at
/// any time. Dropped unanswered, it refuses with the message `middleware gave no answer`,
/// so that no client waits forever for a lost one.
pub struct Admission {
    answer: Option<GoOn>,
}

impl std::fmt::Debug for Admission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Admission")
            .field("answered", &self.answer.is_none())
            .finish()
    }
}

impl Admission {
    /// Lets the CONNECT go on.
    pub fn allow(mut self) {
        self.answer(Ok(()));
    }

    /// Refuses the CONNECT: the client gets a CONNECT_ERROR with `error`.
    pub fn refuse(mut self, error: ConnectError) {
        self.answer(Err(error));
    }

    fn answer(&mut self, answer: Result<(), ConnectError>) {
        if let Some(go_on) = self.answer.take() {
            go_on(answer);
        }
    }
}

impl Drop for Admission {
    fn drop(&mut self) {
        self.answer(Err(ConnectError::new("middleware gave no answer")));
    }
}

/// Runs `middlewares` from `index` on: those that answer at once in a loop, and the rest of
/// the chain in the answer of one that answers later.
fn run_middlewares(
    middlewares: Arc<[Middleware]>,
    mut index: usize,
    handshake: Handshake,
    answered: Answered,
) {
    while let Some(middleware) = middlewares.get(index) {
        match middleware {
            Middleware::Now(check) => {
                if let Err(refusal) = check(&handshake, handshake.auth()) {
                    return answered(handshake, Err(refusal));
                }
            }
            Middleware::Later(start) => {
                let start = start.clone();
                let kept = handshake.clone();
                let admission = Admission {
                    answer: Some(Box::new(move |answer| match answer {
                        Ok(()) => run_middlewares(middlewares, index + 1, kept, answered),
                        Err(refusal) => answered(kept, Err(refusal)),
                    })),
                };
                return start(&handshake, admission);
            }
        }
        index += 1;
    }
    answered(handshake, Ok(()));
}

/// A middleware's refusal: the client gets a CONNECT_ERROR `{"message": ..., "data": ...}`
/// (its `connect_error` event, an `Error` with this message and `data`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectError {
    /// The error's message.
    pub message: String,
    /// Details for the client, if any (`err.data` on its side).
    pub data: Option<Data>,
}

impl ConnectError {
    /// A refusal with `message` and no data.
    pub fn new(message: impl Into<String>) -> ConnectError {
        ConnectError {
            message: message.into(),
            data: None,
        }
    }

    /// The same refusal with `data`.
    pub fn with_data(mut self, data: Data) -> ConnectError {
        self.data = Some(data);
        self
    }

    /// The CONNECT_ERROR payload.
    pub(crate) fn into_payload(self) -> Data {
        let mut object = BTreeMap::from([("message".to_owned(), Data::from(self.message))]);
        if let Some(data) = self.data {
            object.insert("data".to_owned(), data);
        }
        Data::Object(object)
    }
}

/// Sockets and rooms of a namespace (the reference's in-memory adapter).
#[derive(Default)]
struct Adapter {
    sockets: BTreeMap<String, Socket>,
    rooms: BTreeMap<String, BTreeSet<String>>,
    /// Socket id → its rooms.
    memberships: BTreeMap<String, BTreeSet<String>>,
}

pub(crate) struct NamespaceInner {
    pub(crate) name: String,
    middlewares: RwLock<Vec<Middleware>>,
    connection: RwLock<Option<ConnectionHandler>>,
    adapter: Mutex<Adapter>,
    /// The handlers of events other servers emit to this namespace.
    server_side: RwLock<BTreeMap<String, ServerSideHandler>>,
    /// The server's cluster adapter, if it has one.
    cluster: ClusterSlot,
}

impl NamespaceInner {
    pub(crate) fn new(name: String, cluster: ClusterSlot) -> NamespaceInner {
        NamespaceInner {
            name,
            middlewares: RwLock::new(Vec::new()),
            connection: RwLock::new(None),
            adapter: Mutex::new(Adapter::default()),
            server_side: RwLock::new(BTreeMap::new()),
            cluster,
        }
    }

    /// Runs the middlewares in order, then `answered` with the first refusal or `Ok`: at
    /// once, or later from the thread of an asynchronous middleware's answer.
    pub(crate) fn admit(&self, handshake: Handshake, answered: Answered) {
        let middlewares: Arc<[Middleware]> = self
            .middlewares
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_slice()
            .into();
        run_middlewares(middlewares, 0, handshake, answered);
    }

    /// A socket admitted: in the namespace, in the room of its id.
    pub(crate) fn add(&self, socket: &Socket) {
        let id = socket.id().to_owned();
        lock(&self.adapter)
            .sockets
            .insert(id.clone(), socket.clone());
        self.join(&id, id.clone());
    }

    pub(crate) fn connected(&self, socket: &Socket) {
        let handler = self
            .connection
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        if let Some(handler) = handler {
            handler(socket);
        }
    }

    pub(crate) fn remove(&self, id: &str) {
        let mut adapter = lock(&self.adapter);
        adapter.sockets.remove(id);
        for room in adapter.memberships.remove(id).unwrap_or_default() {
            remove_member(&mut adapter.rooms, &room, id);
        }
    }

    pub(crate) fn join(&self, id: &str, room: String) {
        let mut adapter = lock(&self.adapter);
        if !adapter.sockets.contains_key(id) {
            return;
        }
        adapter
            .memberships
            .entry(id.to_owned())
            .or_default()
            .insert(room.clone());
        adapter.rooms.entry(room).or_default().insert(id.to_owned());
    }

    pub(crate) fn leave(&self, id: &str, room: &str) {
        let mut adapter = lock(&self.adapter);
        if let Some(rooms) = adapter.memberships.get_mut(id) {
            rooms.remove(room);
        }
        remove_member(&mut adapter.rooms, room, id);
    }

    pub(crate) fn rooms_of(&self, id: &str) -> Vec<String> {
        let adapter = lock(&self.adapter);
        adapter
            .memberships
            .get(id)
            .map(|rooms| rooms.iter().cloned().collect())
            .unwrap_or_default()
    }
}

fn remove_member(rooms: &mut BTreeMap<String, BTreeSet<String>>, room: &str, id: &str) {
    if let Some(members) = rooms.get_mut(room) {
        members.remove(id);
        if members.is_empty() {
            rooms.remove(room);
        }
    }
}

/// One namespace of a [`SocketIoServer`](super::SocketIoServer) (`/`, or one made with
/// [`of`](super::SocketIoServer::of)): cheap to clone, `Send + Sync`.
///
/// ```no_run
/// use rfc6455::socketio::{ConnectError, Data, SocketIoConfig, SocketIoServer};
///
/// let io = SocketIoServer::new(SocketIoConfig::default())?;
/// let admin = io.of("/admin");
/// admin.use_middleware(|_handshake, auth| match auth {
///     Data::Object(fields) if fields.get("token").and_then(Data::as_str) == Some("secret") => Ok(()),
///     _ => Err(ConnectError::new("not authorized")),
/// });
/// admin.on_connection(|socket| {
///     let _ = socket.emit("welcome", vec![Data::from(socket.id())]);
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone)]
pub struct Namespace {
    pub(crate) inner: Arc<NamespaceInner>,
}

impl std::fmt::Debug for Namespace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Namespace")
            .field("name", &self.inner.name)
            .finish()
    }
}

impl Namespace {
    /// The namespace's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// Adds a middleware: each CONNECT to the namespace runs them in the order they were
    /// added, with the handshake and the auth payload; the first `Err` refuses the client
    /// with a CONNECT_ERROR. This one answers before it returns, on the thread that
    /// received the CONNECT, and must not block; one that must wait (a database, another
    /// service) is [`use_async_middleware`](Self::use_async_middleware).
    pub fn use_middleware(
        &self,
        middleware: impl Fn(&Handshake, &Data) -> Result<(), ConnectError> + Send + Sync + 'static,
    ) -> &Namespace {
        self.push_middleware(Middleware::Now(Arc::new(middleware)))
    }

    /// Adds a middleware that answers when it likes, through the [`Admission`] it is given
    /// (the reference's `use((socket, next) => ...)`): hand it to another thread, and
    /// `allow` or `refuse` from there. Meanwhile the client's other namespaces go on; the
    /// CONNECT's own namespace waits (a packet to it before the answer is out of place and
    /// closes the session, as in the reference). In order with the synchronous ones.
    ///
    /// ```no_run
    /// use rfc6455::socketio::{ConnectError, Data, SocketIoConfig, SocketIoServer};
    ///
    /// let io = SocketIoServer::new(SocketIoConfig::default())?;
    /// io.of("/").use_async_middleware(|handshake, admission| {
    ///     let token = match handshake.auth() {
    ///         Data::Object(fields) => fields.get("token").and_then(Data::as_str).map(str::to_owned),
    ///         _ => None,
    ///     };
    ///     std::thread::spawn(move || match token.as_deref() {
    ///         Some("secret") => admission.allow(), // after a slow check, say
    ///         _ => admission.refuse(ConnectError::new("not authorized")),
    ///     });
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn use_async_middleware(
        &self,
        middleware: impl Fn(&Handshake, Admission) + Send + Sync + 'static,
    ) -> &Namespace {
        self.push_middleware(Middleware::Later(Arc::new(middleware)))
    }

    fn push_middleware(&self, middleware: Middleware) -> &Namespace {
        self.inner
            .middlewares
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(middleware);
        self
    }

    /// Calls `handler` for each socket admitted, after its CONNECT reply is sent: the place
    /// to register its event handlers. One handler: a second replaces the first.
    pub fn on_connection(&self, handler: impl Fn(&Socket) + Send + Sync + 'static) -> &Namespace {
        *self
            .inner
            .connection
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Arc::new(handler));
        self
    }

    /// A broadcast to every socket of this node only ([`BroadcastOperator::local`]).
    pub fn local(&self) -> BroadcastOperator {
        BroadcastOperator::new(self.inner.clone()).local()
    }

    /// Calls `handler` for each server-side event `event` another server of the cluster
    /// emits to this namespace (the reference's `serverSideEmit`, heard with
    /// `io.on(event, ...)`), with its arguments and, if that server awaits an answer, the
    /// [`ServerSideAck`] to send it. One handler per name: a second replaces the first.
    /// Emitting them is the cluster adapter's
    /// ([`redis::SocketIoAdapter::server_side_emit`](crate::redis::SocketIoAdapter::server_side_emit)).
    pub fn on_server_side(
        &self,
        event: impl Into<String>,
        handler: impl Fn(Vec<Data>, Option<ServerSideAck>) + Send + Sync + 'static,
    ) -> &Namespace {
        self.inner
            .server_side
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(event.into(), Arc::new(handler));
        self
    }

    /// Another server's server-side event: to its handler, if there is one (without one,
    /// an awaited answer is never sent, as in the reference).
    pub(crate) fn server_side_emitted(
        &self,
        event: &str,
        args: Vec<Data>,
        ack: Option<ServerSideAck>,
    ) -> bool {
        let handler = self
            .inner
            .server_side
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(event)
            .cloned();
        match handler {
            Some(handler) => {
                handler(args, ack);
                true
            }
            None => false,
        }
    }

    /// A volatile broadcast to every socket ([`BroadcastOperator::volatile`]).
    pub fn volatile(&self) -> BroadcastOperator {
        BroadcastOperator::new(self.inner.clone()).volatile()
    }

    /// A broadcast to the sockets in `room`.
    pub fn to(&self, room: impl Into<String>) -> BroadcastOperator {
        BroadcastOperator::new(self.inner.clone()).to(room)
    }

    /// A broadcast to every socket but those in `room`.
    pub fn except(&self, room: impl Into<String>) -> BroadcastOperator {
        BroadcastOperator::new(self.inner.clone()).except(room)
    }

    /// Emits `event` with `args` to every socket of the namespace, encoded once
    /// ([`BroadcastOperator::emit`]).
    pub fn emit(&self, event: &str, args: Vec<Data>) -> Result<(), EmitError> {
        BroadcastOperator::new(self.inner.clone()).emit(event, args)
    }

    /// Every socket of the namespace, by id.
    pub fn sockets(&self) -> Vec<Socket> {
        BroadcastOperator::new(self.inner.clone()).sockets()
    }

    /// The socket with this id.
    pub fn socket(&self, id: &str) -> Option<Socket> {
        lock(&self.inner.adapter).sockets.get(id).cloned()
    }

    /// Every room with at least one socket (each socket's own room included), sorted.
    pub fn rooms(&self) -> Vec<String> {
        lock(&self.inner.adapter).rooms.keys().cloned().collect()
    }
}

/// The sockets a broadcast reaches: those in any of its rooms (every socket of the
/// namespace when it names none), but none in any of its excepted rooms; on every node of
/// the server's cluster if it has a [`ClusterAdapter`](super::ClusterAdapter) (emit, join,
/// leave and disconnect; [`sockets`](Self::sockets) lists this node's), on this node alone
/// if not, or if [`local`](Self::local).
#[derive(Clone)]
pub struct BroadcastOperator {
    namespace: Arc<NamespaceInner>,
    rooms: BTreeSet<String>,
    except: BTreeSet<String>,
    volatile: bool,
    local: bool,
}

impl std::fmt::Debug for BroadcastOperator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BroadcastOperator")
            .field("namespace", &self.namespace.name)
            .field("rooms", &self.rooms)
            .field("except", &self.except)
            .field("volatile", &self.volatile)
            .field("local", &self.local)
            .finish()
    }
}

impl BroadcastOperator {
    pub(crate) fn new(namespace: Arc<NamespaceInner>) -> BroadcastOperator {
        BroadcastOperator {
            namespace,
            rooms: BTreeSet::new(),
            except: BTreeSet::new(),
            volatile: false,
            local: false,
        }
    }

    /// Also the sockets in `room` (a union).
    pub fn to(mut self, room: impl Into<String>) -> BroadcastOperator {
        self.rooms.insert(room.into());
        self
    }

    /// Not the sockets in `room`.
    pub fn except(mut self, room: impl Into<String>) -> BroadcastOperator {
        self.except.insert(room.into());
        self
    }

    /// Volatile: each recipient gets the packet only if its transport can take it at once
    /// ([`Socket::emit_volatile`]), the reference's `volatile` flag.
    pub fn volatile(mut self) -> BroadcastOperator {
        self.volatile = true;
        self
    }

    /// This node's sockets only, not the other nodes' of its cluster (the reference's
    /// `local` flag): what a [`ClusterAdapter`](super::ClusterAdapter) does what other
    /// nodes ask with.
    pub fn local(mut self) -> BroadcastOperator {
        self.local = true;
        self
    }

    /// The name of the namespace whose sockets are reached.
    pub fn namespace(&self) -> &str {
        &self.namespace.name
    }

    /// The rooms whose sockets are reached (none: every socket).
    pub fn rooms(&self) -> &BTreeSet<String> {
        &self.rooms
    }

    /// The rooms whose sockets are not reached.
    pub fn except_rooms(&self) -> &BTreeSet<String> {
        &self.except
    }

    /// Whether the broadcast is [`volatile`](Self::volatile).
    pub fn is_volatile(&self) -> bool {
        self.volatile
    }

    /// Whether it stays on this node ([`local`](Self::local)).
    pub fn is_local(&self) -> bool {
        self.local
    }

    /// The cluster adapter it also goes to: none if local, or if the server has none.
    fn cluster(&self) -> Option<&dyn super::ClusterAdapter> {
        match self.local {
            true => None,
            false => self.namespace.cluster.get().map(|adapter| &**adapter),
        }
    }

    /// Emits `event` with `args` to every socket reached (on every node, through the
    /// server's cluster adapter if it has one and the broadcast is not
    /// [`local`](Self::local)): the packet is encoded once, and
    /// for the recipients on WebSocket framed once too, handed to each loop in one command
    /// for all its recipients (the runtime's shared frames, as a room broadcast); the
    /// recipients on long-polling get it in their session's queue. A recipient whose
    /// session refuses it (closing, or a full queue) is skipped, as the reference skips a
    /// closed one. The error: the packet cannot be encoded, or a loop so far behind that
    /// its command queue is full refused its share
    /// ([`max_command_queue`](crate::Config::max_command_queue)): those recipients did
    /// not get it, the others did.
    pub fn emit(&self, event: &str, args: Vec<Data>) -> Result<(), EmitError> {
        let packet = Packet::event(self.namespace.name.as_str(), event, args);
        let wire = Wire::encode(&packet)?;
        if let Some(cluster) = self.cluster() {
            cluster.broadcast(self, &packet);
        }
        let mut websockets = Vec::new();
        let mut runtime = None;
        for socket in self.sockets() {
            if !socket.connected() {
                continue;
            }
            let client = socket.inner_client();
            if let Some((id, handle)) = client.connection.websocket() {
                websockets.push(id);
                runtime.get_or_insert_with(|| handle.clone());
                continue;
            }
            let _ = match self.volatile {
                true => client.write_volatile(&wire),
                false => client.write(&wire),
            };
        }
        if let Some(handle) = runtime {
            let frames = wire.websocket_frames(&handle);
            handle
                .send_each(websockets, frames, self.volatile)
                .map_err(|refused| EngineSendError::WebSocket(refused.to_string()))?;
        }
        Ok(())
    }

    /// Makes every socket reached join `room` (the reference's `socketsJoin`).
    pub fn sockets_join(&self, room: impl Into<String>) {
        let room = room.into();
        if let Some(cluster) = self.cluster() {
            cluster.sockets_join(self, &room);
        }
        for socket in self.sockets() {
            socket.join(room.clone());
        }
    }

    /// Makes every socket reached leave `room` (the reference's `socketsLeave`).
    pub fn sockets_leave(&self, room: &str) {
        if let Some(cluster) = self.cluster() {
            cluster.sockets_leave(self, room);
        }
        for socket in self.sockets() {
            socket.leave(room);
        }
    }

    /// The sockets reached on this node, by id.
    pub fn sockets(&self) -> Vec<Socket> {
        let adapter = lock(&self.namespace.adapter);
        let excepted: BTreeSet<&String> = self
            .except
            .iter()
            .filter_map(|room| adapter.rooms.get(room))
            .flatten()
            .collect();
        let reached = |id: &&String| !excepted.contains(id);
        let ids: BTreeSet<&String> = if self.rooms.is_empty() {
            adapter.sockets.keys().filter(reached).collect()
        } else {
            self.rooms
                .iter()
                .filter_map(|room| adapter.rooms.get(room))
                .flatten()
                .filter(reached)
                .collect()
        };
        ids.into_iter()
            .filter_map(|id| adapter.sockets.get(id).cloned())
            .collect()
    }

    /// How many sockets are reached on this node.
    pub fn len(&self) -> usize {
        self.sockets().len()
    }

    /// True when none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Disconnects every socket reached ([`Socket::disconnect`]).
    pub fn disconnect_sockets(&self, close: bool) {
        if let Some(cluster) = self.cluster() {
            cluster.disconnect_sockets(self, close);
        }
        for socket in self.sockets() {
            socket.disconnect(close);
        }
    }
}
