//! [`SocketIoAdapter`]: a [`SocketIoServer`] as one node of a Socket.IO cluster on Redis,
//! a peer of Node servers with `@socket.io/redis-adapter` and of `@socket.io/redis-emitter`
//! (the wire: `socketio_wire.rs`).
//!
//! Each namespace subscribes to its broadcast channels (a pattern) and to its request
//! channel (a plain subscription, which the reference counts with `PUBSUB NUMSUB` to know
//! how many nodes will answer: so this node answers every request that awaits one). A broadcast made here is delivered to this node's
//! sockets and published; what comes back from Redis with this node's id is left out, so
//! no socket gets it twice. A broadcast, join, leave or disconnect of another node is done
//! on this node's matching sockets with [`BroadcastOperator::local`]; requests for this
//! node's sockets and rooms are answered on the response channel, and so are the acks of
//! this node's sockets to another node's broadcast with acks. This node's own
//! questions ([`SocketIoAdapter::fetch_sockets`], [`SocketIoAdapter::all_rooms`]) ask
//! Redis how many nodes there are, publish a request, and wait for the others' answers on
//! the response channels, within [`SocketIoAdapterConfig::requests_timeout`].

// Input reaches this module: no indexing, unwrap, expect or panic that it could trigger.
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Sender, channel};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::pubsub::{PubSub, PubSubConfig, PubSubMessage, PublishError};
use super::resp::Reply;
use super::socketio_wire::{
    ALL_ROOMS, Channels, Incoming, REMOTE_DISCONNECT, REMOTE_FETCH, REMOTE_JOIN, REMOTE_LEAVE,
    RemoteBroadcast, Request, Selection, Target, decode_broadcast, decode_request, decode_response,
    encode_broadcast, encode_broadcast_ack, encode_client_count, encode_question, encode_response,
    encode_selection_request, encode_server_side_emit, is_plain_event, strings,
};
use crate::socketio::{
    BroadcastOperator, ClusterAdapter, Data, EmitError, Namespace, Packet, ServerSideAck, Socket,
    SocketIoServer,
};

/// How a server joins its Socket.IO cluster.
#[derive(Debug, Clone)]
pub struct SocketIoAdapterConfig {
    /// The start of the channel names (the reference's `key` option): nodes with the same
    /// key on the same Redis are one cluster. Default `socket.io`, the reference's.
    pub key: String,
    /// The Redis link's settings (its publish queue bound, its decoder's limits).
    pub pubsub: PubSubConfig,
    /// How long [`SocketIoAdapter::fetch_sockets`] and its kin wait for every node's
    /// answer (the reference's `requestsTimeout`). Default 5 s, the reference's.
    pub requests_timeout: Duration,
}

impl Default for SocketIoAdapterConfig {
    fn default() -> Self {
        SocketIoAdapterConfig {
            key: "socket.io".to_owned(),
            pubsub: PubSubConfig::default(),
            requests_timeout: Duration::from_secs(5),
        }
    }
}

/// Why a question to the cluster got no whole answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// The namespace is not one of the server's.
    #[error("no namespace {0}")]
    UnknownNamespace(String),
    /// The Redis link did not take the request (its queue is full, or it is shut down).
    #[error("the Redis link refused the request: {0}")]
    Link(#[from] PublishError),
    /// Redis did not say within the timeout how many nodes there are (it is down, say).
    #[error("Redis did not count the nodes within the timeout")]
    NoNodeCount,
    /// Not every node answered within the timeout (the reference's `timeout reached`).
    #[error("timeout reached: {answered} of {expected} nodes answered")]
    Timeout {
        /// The other nodes that answered.
        answered: usize,
        /// The other nodes Redis counted.
        expected: usize,
    },
    /// A server-side emit's argument is binary: its JSON request has no place for it.
    #[error("a server-side emit's arguments travel as JSON: no binary")]
    BinaryArguments,
}

/// A socket of any node of the cluster, as [`SocketIoAdapter::fetch_sockets`] finds it
/// (the reference's `RemoteSocket`): what its node says of it.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteSocket {
    /// Its id: the room to reach it through (`namespace.to(id)`), on any node.
    pub id: String,
    /// Its rooms, its own id's included.
    pub rooms: Vec<String>,
    /// Its handshake as its node describes it (the reference's fields: `headers`,
    /// `address`, `url`, `query`, `auth`...).
    pub handshake: Data,
    /// Its node's data for it (`socket.data` of a Node node; `{}` from this crate's).
    pub data: Data,
}

impl RemoteSocket {
    fn from_description(description: Data) -> Option<RemoteSocket> {
        let Data::Object(mut fields) = description else {
            return None;
        };
        let Some(Data::String(id)) = fields.remove("id") else {
            return None;
        };
        Some(RemoteSocket {
            id,
            rooms: strings(fields.get("rooms"))?,
            handshake: fields.remove("handshake").unwrap_or_default(),
            data: fields.remove("data").unwrap_or_default(),
        })
    }
}

/// What the adapter, the link's thread and the handle share.
struct Shared {
    /// This node's id on the wire (the reference's `uid`).
    uid: String,
    key: String,
    link: OnceLock<Weak<PubSub>>,
    /// Namespaces by name, with their channels.
    namespaces: Mutex<BTreeMap<String, (Namespace, Channels)>>,
    /// Publishes refused: the link's queue was full (Redis slow or gone).
    dropped: AtomicU64,
    /// Messages not understood: not the adapter's format, an unknown namespace.
    malformed: AtomicU64,
    /// Requests of a type this node does not know, and server-side events it has no
    /// handler for.
    unsupported: AtomicU64,
    /// Other nodes' broadcasts this node's loops refused, their command queues full.
    refused: AtomicU64,
    /// This node's questions waiting for answers, by request id.
    pending: Mutex<HashMap<String, Sender<BTreeMap<String, Data>>>>,
}

impl Shared {
    fn publish(&self, channel: String, payload: Vec<u8>) {
        let Some(link) = self.link.get().and_then(Weak::upgrade) else {
            return;
        };
        if link.publish(channel, payload).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn namespace(&self, name: &str) -> Option<(Namespace, Channels)> {
        lock(&self.namespaces).get(name).cloned()
    }

    fn malformed(&self) {
        self.malformed.fetch_add(1, Ordering::Relaxed);
    }
}

/// A server's membership of a Socket.IO cluster on Redis, wire-compatible with
/// `@socket.io/redis-adapter` 8: keep it for as long as the server is to be part of it;
/// dropping it leaves the cluster (the Redis link stops; the server's broadcasts stay on
/// it).
///
/// ```no_run
/// use rfc6455::events::{Handlers, Server};
/// use rfc6455::redis::{SocketIoAdapter, SocketIoAdapterConfig};
/// use rfc6455::socketio::{Data, SocketIoConfig, SocketIoServer};
///
/// let io = SocketIoServer::new(SocketIoConfig::default())?;
/// io.of("/").on_connection(|socket| {
///     socket.join("lobby");
///     // Reaches the lobby's sockets on every node, Node's included.
///     socket.on("chat", |socket, args, _ack| drop(socket.to("lobby").emit("chat", args)));
/// });
/// let _adapter = SocketIoAdapter::attach("redis://127.0.0.1:6379", &io, SocketIoAdapterConfig::default())?;
/// io.attach(Server::new(Handlers::<()>::new())).bind("127.0.0.1:3000")?.run()?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct SocketIoAdapter {
    link: Arc<PubSub>,
    shared: Arc<Shared>,
    requests_timeout: Duration,
}

impl std::fmt::Debug for SocketIoAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketIoAdapter")
            .field("uid", &self.shared.uid)
            .field("connected", &self.is_connected())
            .finish()
    }
}

impl SocketIoAdapter {
    /// Joins `io` to the Socket.IO cluster on the Redis server at `url`
    /// (`redis://host:port`): from now on the broadcasts and room operations of its
    /// namespaces, those it has and those it will make, also reach the other nodes, and
    /// theirs reach its sockets. Fails if the URL is not one, or if the server already has
    /// a cluster adapter. The link connects in the background; a Redis that is down is
    /// retried.
    pub fn attach(
        url: &str,
        io: &SocketIoServer,
        config: SocketIoAdapterConfig,
    ) -> std::io::Result<SocketIoAdapter> {
        let mut id = [0u8; 8];
        getrandom::fill(&mut id).map_err(std::io::Error::other)?;
        let shared = Arc::new(Shared {
            uid: id.iter().map(|byte| format!("{byte:02x}")).collect(),
            key: config.key,
            link: OnceLock::new(),
            namespaces: Mutex::new(BTreeMap::new()),
            dropped: AtomicU64::new(0),
            malformed: AtomicU64::new(0),
            unsupported: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            pending: Mutex::new(HashMap::new()),
        });
        let receiving = shared.clone();
        let link = Arc::new(PubSub::connect(url, config.pubsub, move |message| {
            receive(&receiving, message);
        })?);
        let _ = shared.link.set(Arc::downgrade(&link));
        io.set_cluster_adapter(Publishing {
            shared: Arc::downgrade(&shared),
        })
        .map_err(|error| std::io::Error::new(std::io::ErrorKind::AlreadyExists, error))?;
        Ok(SocketIoAdapter {
            link,
            shared,
            requests_timeout: config.requests_timeout,
        })
    }

    /// This node's id on the wire (random, 16 hex digits).
    pub fn uid(&self) -> &str {
        &self.shared.uid
    }

    /// The Redis link is up (both of its connections, subscriptions sent).
    pub fn is_connected(&self) -> bool {
        self.link.is_connected()
    }

    /// Publishes of this node that did not go to Redis because the link's queue was full
    /// ([`PubSubConfig::max_queued_bytes`]).
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }

    /// Other nodes' broadcasts that did not reach some of this node's sockets because a
    /// loop of this node was so far behind that its command queue was full
    /// ([`Config::max_command_queue`](crate::Config::max_command_queue)): a slow node drops
    /// what it cannot take, so its memory stays bounded.
    pub fn refused(&self) -> u64 {
        self.shared.refused.load(Ordering::Relaxed)
    }

    /// Messages from the cluster's channels that were not understood (not the adapter's
    /// format, or for a namespace this server does not have).
    pub fn malformed(&self) -> u64 {
        self.shared.malformed.load(Ordering::Relaxed)
    }

    /// Requests of a type this node does not know, and server-side events of other nodes
    /// it has no [`Namespace::on_server_side`] handler for (an awaited answer then never
    /// comes from this node, as in the reference).
    pub fn unsupported(&self) -> u64 {
        self.shared.unsupported.load(Ordering::Relaxed)
    }

    /// How many nodes the cluster has in `namespace` (this one included): the subscribers
    /// of its request channel, as Redis counts them (`PUBSUB NUMSUB`), as the reference's
    /// `serverCount`. Blocks until Redis answers, at most the requests timeout.
    pub fn server_count(&self, namespace: &str) -> Result<usize, RequestError> {
        let channels = self.channels(namespace)?;
        self.count_nodes(&channels, Instant::now() + self.requests_timeout)
    }

    /// The sockets `operator` reaches on every node (the reference's `fetchSockets`;
    /// this node's alone if it is [`local`](BroadcastOperator::local)): this node's, and
    /// what each other node answers, at most the requests timeout
    /// ([`SocketIoAdapterConfig::requests_timeout`]) later; if one does not, the
    /// answers are dropped and the error says how many came. Blocks the calling thread
    /// meanwhile: call it from a thread of the application's, not from a handler, which
    /// would hold up the other connections of its event loop.
    pub fn fetch_sockets(
        &self,
        operator: &BroadcastOperator,
    ) -> Result<Vec<RemoteSocket>, RequestError> {
        let mut sockets: Vec<RemoteSocket> = operator
            .clone()
            .local()
            .sockets()
            .iter()
            .filter_map(|socket| RemoteSocket::from_description(Data::from(describe(socket))))
            .collect();
        if operator.is_local() {
            return Ok(sockets);
        }
        let selection = selection(operator);
        let answers = self.ask(operator.namespace(), REMOTE_FETCH, &selection)?;
        for mut answer in answers {
            if let Some(Data::Array(described)) = answer.remove("sockets") {
                sockets.extend(
                    described
                        .into_iter()
                        .filter_map(RemoteSocket::from_description),
                );
            }
        }
        Ok(sockets)
    }

    /// Every room of `namespace` on every node, sockets' own rooms included (the
    /// reference's `allRooms`); waits and fails as [`fetch_sockets`](Self::fetch_sockets).
    pub fn all_rooms(&self, namespace: &str) -> Result<BTreeSet<String>, RequestError> {
        let (local, _) = self
            .shared
            .namespace(namespace)
            .ok_or_else(|| RequestError::UnknownNamespace(namespace.to_owned()))?;
        let mut rooms: BTreeSet<String> = local.rooms().into_iter().collect();
        let answers = self.ask(namespace, ALL_ROOMS, &Selection::default())?;
        for answer in answers {
            rooms.extend(strings(answer.get("rooms")).unwrap_or_default());
        }
        Ok(rooms)
    }

    /// Emits `event` with `args` to the server-side handlers of `namespace` on every other
    /// node (the reference's `serverSideEmit`; heard with
    /// [`Namespace::on_server_side`], or `io.on(event, ...)` on a Node node). The arguments
    /// travel as JSON: a binary one is refused ([`RequestError::BinaryArguments`]).
    pub fn server_side_emit(
        &self,
        namespace: &str,
        event: &str,
        args: Vec<Data>,
    ) -> Result<(), RequestError> {
        let channels = self.channels(namespace)?;
        let request = encode_server_side_emit(&self.shared.uid, None, event, args)
            .ok_or(RequestError::BinaryArguments)?;
        Ok(self.link.publish(channels.request, request)?)
    }

    /// [`server_side_emit`](Self::server_side_emit), awaiting every other node's answer
    /// (the reference's `serverSideEmitWithAck`): the answers, one per node, in the order
    /// they came. Waits and fails as [`fetch_sockets`](Self::fetch_sockets) does (a node
    /// without a handler for `event` never answers, so the question times out, as in the
    /// reference).
    pub fn server_side_emit_with_ack(
        &self,
        namespace: &str,
        event: &str,
        args: Vec<Data>,
    ) -> Result<Vec<Data>, RequestError> {
        let uid = self.shared.uid.clone();
        let answers = self.ask_with(namespace, |request_id| {
            encode_server_side_emit(&uid, Some(request_id), event, args)
        })?;
        Ok(answers
            .into_iter()
            .map(|mut answer| answer.remove("data").unwrap_or_default())
            .collect())
    }

    fn channels(&self, namespace: &str) -> Result<Channels, RequestError> {
        self.shared
            .namespace(namespace)
            .map(|(_, channels)| channels)
            .ok_or_else(|| RequestError::UnknownNamespace(namespace.to_owned()))
    }

    /// The nodes Redis counts on the namespace's request channel, by `deadline`.
    fn count_nodes(&self, channels: &Channels, deadline: Instant) -> Result<usize, RequestError> {
        let (sender, reply) = channel();
        let command: [&[u8]; 3] = [b"PUBSUB", b"NUMSUB", channels.request.as_bytes()];
        self.link
            .query(&command, move |answer| drop(sender.send(answer)))?;
        let wait = deadline.saturating_duration_since(Instant::now());
        let reply = reply
            .recv_timeout(wait)
            .map_err(|_| RequestError::NoNodeCount)?;
        match reply.as_array().and_then(|items| items.get(1)) {
            Some(Reply::Integer(count)) => Ok(usize::try_from(*count).unwrap_or(0)),
            _ => Err(RequestError::NoNodeCount),
        }
    }

    /// Publishes a question of `request_type` to the other nodes of `namespace` and
    /// gathers one answer from each, by the requests timeout.
    fn ask(
        &self,
        namespace: &str,
        request_type: u64,
        selection: &Selection,
    ) -> Result<Vec<BTreeMap<String, Data>>, RequestError> {
        let uid = self.shared.uid.clone();
        self.ask_with(namespace, |request_id| {
            Some(encode_question(&uid, request_id, request_type, selection))
        })
    }

    /// Publishes the question `question(request_id)` makes (none: it cannot be encoded)
    /// to the other nodes of `namespace` and gathers one answer from each, by the
    /// requests timeout.
    fn ask_with(
        &self,
        namespace: &str,
        question: impl FnOnce(&str) -> Option<Vec<u8>>,
    ) -> Result<Vec<BTreeMap<String, Data>>, RequestError> {
        let channels = self.channels(namespace)?;
        let deadline = Instant::now() + self.requests_timeout;
        let expected = self.count_nodes(&channels, deadline)?.saturating_sub(1);
        if expected == 0 {
            return Ok(Vec::new());
        }
        let mut id = [0u8; 8];
        getrandom::fill(&mut id).map_err(|_| RequestError::NoNodeCount)?;
        let request_id: String = id.iter().map(|byte| format!("{byte:02x}")).collect();
        let (sender, answers) = channel();
        let _pending = Pending {
            shared: &self.shared,
            request_id: request_id.clone(),
        };
        lock(&self.shared.pending).insert(request_id.clone(), sender);
        let request = question(&request_id).ok_or(RequestError::BinaryArguments)?;
        self.link.publish(channels.request, request)?;
        let mut gathered = Vec::with_capacity(expected);
        while gathered.len() < expected {
            let wait = deadline.saturating_duration_since(Instant::now());
            match answers.recv_timeout(wait) {
                Ok(answer) => gathered.push(answer),
                Err(_) => {
                    return Err(RequestError::Timeout {
                        answered: gathered.len(),
                        expected,
                    });
                }
            }
        }
        Ok(gathered)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A question's place among the pending ones, given up when it is answered or not.
struct Pending<'a> {
    shared: &'a Shared,
    request_id: String,
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        lock(&self.shared.pending).remove(&self.request_id);
    }
}

/// The adapter set on the server. Weak: the handle owns what it shares (the server owning
/// it would make a circle through the namespaces it holds).
struct Publishing {
    shared: Weak<Shared>,
}

impl Publishing {
    /// A join, leave or disconnect request for every other node (this one has done it).
    fn request(&self, operator: &BroadcastOperator, request_type: u64, room: &str, close: bool) {
        let Some(shared) = self.shared.upgrade() else {
            return;
        };
        let Some((_, channels)) = shared.namespace(operator.namespace()) else {
            return;
        };
        let request = encode_selection_request(
            &shared.uid,
            request_type,
            &selection(operator),
            &[room.to_owned()],
            close,
        );
        shared.publish(channels.request, request);
    }
}

impl ClusterAdapter for Publishing {
    fn namespace_added(&self, namespace: &Namespace) {
        let Some(shared) = self.shared.upgrade() else {
            return;
        };
        let Some(link) = shared.link.get().and_then(Weak::upgrade) else {
            return;
        };
        let channels = Channels::new(&shared.key, namespace.name());
        // Known before anything can arrive on its channels.
        lock(&shared.namespaces).insert(
            namespace.name().to_owned(),
            (namespace.clone(), channels.clone()),
        );
        link.psubscribe(channels.broadcast_pattern());
        link.subscribe(channels.request.clone());
        link.subscribe(channels.response.clone());
        link.subscribe(channels.own_response(&shared.uid));
    }

    fn broadcast(&self, operator: &BroadcastOperator, packet: &Packet) {
        let Some(shared) = self.shared.upgrade() else {
            return;
        };
        if !is_plain_event(packet) {
            return;
        }
        let Some((_, channels)) = shared.namespace(&packet.namespace) else {
            return;
        };
        let selection = selection(operator);
        let Some(message) =
            encode_broadcast(&shared.uid, packet, &selection, operator.is_volatile())
        else {
            return;
        };
        shared.publish(channels.broadcast_to(selection.rooms.iter()), message);
    }

    fn sockets_join(&self, operator: &BroadcastOperator, room: &str) {
        self.request(operator, REMOTE_JOIN, room, false);
    }

    fn sockets_leave(&self, operator: &BroadcastOperator, room: &str) {
        self.request(operator, REMOTE_LEAVE, room, false);
    }

    fn disconnect_sockets(&self, operator: &BroadcastOperator, close: bool) {
        self.request(operator, REMOTE_DISCONNECT, "", close);
    }
}

fn selection(operator: &BroadcastOperator) -> Selection {
    Selection {
        rooms: operator.rooms().iter().cloned().collect(),
        except: operator.except_rooms().iter().cloned().collect(),
    }
}

/// The operator of `namespace` for this node's sockets that `selection` picks.
fn local_operator(namespace: &Namespace, selection: &Selection) -> BroadcastOperator {
    let mut operator = namespace.local();
    for room in &selection.rooms {
        operator = operator.to(room.clone());
    }
    for room in &selection.except {
        operator = operator.except(room.clone());
    }
    operator
}

/// A message on one of the subscribed channels, on the link's thread.
fn receive(shared: &Shared, message: PubSubMessage) {
    if message.pattern.is_some() {
        match decode_broadcast(message.payload) {
            Some(broadcast) => deliver(shared, &message.channel, broadcast),
            None => shared.malformed(),
        }
        return;
    }
    let Ok(channel) = std::str::from_utf8(&message.channel) else {
        return shared.malformed();
    };
    let namespaces = lock(&shared.namespaces)
        .values()
        .find(|(_, channels)| {
            channels.request == channel || channel.starts_with(channels.response.as_str())
        })
        .cloned();
    let Some((namespace, channels)) = namespaces else {
        return shared.malformed();
    };
    if channels.request != channel {
        // An answer: to one of this node's questions, or to another node's.
        let Some((request_id, response)) = decode_response(message.payload) else {
            return shared.malformed();
        };
        if let Some(waiting) = lock(&shared.pending).get(&request_id) {
            let _ = waiting.send(response);
        }
        return;
    }
    match decode_request(message.payload) {
        Some(incoming) => answer(shared, &namespace, &channels, incoming),
        None => shared.malformed(),
    }
}

/// Another node's broadcast, to this node's matching sockets.
fn deliver(shared: &Shared, channel: &[u8], broadcast: RemoteBroadcast) {
    if broadcast.uid == shared.uid {
        return; // ours, delivered here when it was made
    }
    let Some((namespace, channels)) = shared.namespace(&broadcast.namespace) else {
        return shared.malformed();
    };
    if !channel.starts_with(channels.broadcast.as_bytes()) {
        return shared.malformed();
    }
    let mut operator = local_operator(&namespace, &broadcast.selection);
    if broadcast.volatile {
        operator = operator.volatile();
    }
    match operator.emit(&broadcast.event, broadcast.args) {
        Ok(()) => {}
        // A loop far behind: its share is dropped there, and counted.
        Err(EmitError::Send(_)) => {
            shared.refused.fetch_add(1, Ordering::Relaxed);
        }
        Err(_) => shared.malformed(), // a reserved event name, say
    }
}

/// Another node's request, done or answered for this node's sockets.
fn answer(shared: &Shared, namespace: &Namespace, channels: &Channels, incoming: Incoming) {
    if incoming.uid.as_deref() == Some(shared.uid.as_str()) {
        return; // ours: done here when it was made
    }
    let respond = |request_id: &str, field: Option<(&str, Value)>| {
        shared.publish(
            channels.response.clone(),
            encode_response(request_id, field),
        );
    };
    match incoming.request {
        Request::Sockets { request_id, rooms } => {
            let selection = Selection {
                rooms,
                except: Vec::new(),
            };
            let ids: Vec<Value> = local_operator(namespace, &selection)
                .sockets()
                .iter()
                .map(|socket| Value::from(socket.id()))
                .collect();
            respond(&request_id, Some(("sockets", Value::Array(ids))));
        }
        Request::AllRooms { request_id } => {
            let rooms = namespace.rooms().into_iter().map(Value::from).collect();
            respond(&request_id, Some(("rooms", Value::Array(rooms))));
        }
        Request::Join { target, rooms } => {
            let done = each_target(namespace, &target, |operator| {
                for room in &rooms {
                    operator.sockets_join(room.clone());
                }
            });
            if let (Target::Socket { request_id, .. }, true) = (&target, done) {
                respond(request_id, None);
            }
        }
        Request::Leave { target, rooms } => {
            let done = each_target(namespace, &target, |operator| {
                for room in &rooms {
                    operator.sockets_leave(room);
                }
            });
            if let (Target::Socket { request_id, .. }, true) = (&target, done) {
                respond(request_id, None);
            }
        }
        Request::Disconnect { target, close } => {
            let done = each_target(namespace, &target, |operator| {
                operator.disconnect_sockets(close);
            });
            if let (Target::Socket { request_id, .. }, true) = (&target, done) {
                respond(request_id, None);
            }
        }
        Request::Fetch {
            request_id,
            selection,
        } => {
            let sockets = local_operator(namespace, &selection)
                .sockets()
                .iter()
                .map(describe)
                .collect();
            respond(&request_id, Some(("sockets", Value::Array(sockets))));
        }
        Request::BroadcastWithAck {
            request_id,
            event,
            args,
            selection,
            timeout,
        } => {
            let sockets: Vec<Socket> = local_operator(namespace, &selection)
                .sockets()
                .into_iter()
                .filter(Socket::connected)
                .collect();
            // The count first: the asking node waits for that many acks from this one.
            shared.publish(
                channels.response.clone(),
                encode_client_count(&request_id, sockets.len()),
            );
            let link = shared.link.get().cloned().unwrap_or_default();
            for socket in sockets {
                let (link, channel, request_id) =
                    (link.clone(), channels.response.clone(), request_id.clone());
                let _ = socket.emit_with_ack(&event, args.clone(), timeout, move |answer| {
                    // A timeout is no answer: the asking node times out the same.
                    let Ok(answer) = answer else {
                        return;
                    };
                    let first = answer.into_iter().next().unwrap_or_default();
                    let ack = encode_broadcast_ack(&request_id, &first);
                    if let (Some(link), Some(ack)) = (link.upgrade(), ack) {
                        let _ = link.publish(channel, ack);
                    }
                });
            }
        }
        Request::ServerSideEmit {
            request_id,
            event,
            args,
        } => {
            let ack = request_id.map(|request_id| {
                let (link, channel) = (
                    shared.link.get().cloned().unwrap_or_default(),
                    channels.response.clone(),
                );
                ServerSideAck::new(move |value: Data| {
                    let value = value.into_json().unwrap_or(Value::Null);
                    let response = encode_response(&request_id, Some(("data", value)));
                    if let Some(link) = link.upgrade() {
                        // A full queue: the asking node times out, as for a slow node.
                        let _ = link.publish(channel, response);
                    }
                })
            });
            if !namespace.server_side_emitted(&event, args, ack) {
                shared.unsupported.fetch_add(1, Ordering::Relaxed);
            }
        }
        Request::Unsupported { .. } => {
            shared.unsupported.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Runs `apply` on the local operator `target` names; false if it names one socket that
/// is not here (the reference then leaves the answer to the node that has it).
fn each_target(
    namespace: &Namespace,
    target: &Target,
    apply: impl FnOnce(BroadcastOperator),
) -> bool {
    match target {
        Target::Matching(selection) => {
            apply(local_operator(namespace, selection));
            true
        }
        Target::Socket { sid, .. } => match namespace.socket(sid) {
            Some(_) => {
                apply(namespace.local().to(sid.clone()));
                true
            }
            None => false,
        },
    }
}

/// A socket as `fetchSockets` describes it: `{id, handshake, rooms, data}`, the handshake
/// with the reference's fields this server knows.
fn describe(socket: &Socket) -> Value {
    let handshake = socket.handshake();
    let request = handshake.request();
    let headers: serde_json::Map<String, Value> = request
        .head()
        .headers()
        .map(|(name, value)| {
            (
                name.to_ascii_lowercase(),
                Value::from(String::from_utf8_lossy(value).into_owned()),
            )
        })
        .collect();
    let query: serde_json::Map<String, Value> = request
        .query()
        .unwrap_or_default()
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (name.to_owned(), Value::from(value))
        })
        .collect();
    let auth = handshake
        .auth()
        .clone()
        .into_json()
        .unwrap_or(Value::Object(serde_json::Map::new()));
    json!({
        "id": socket.id(),
        "handshake": {
            "headers": headers,
            "address": handshake.remote_addr().ip().to_string(),
            "xdomain": request.header("origin").is_some(),
            "secure": false,
            "url": request.target(),
            "query": query,
            "auth": auth,
        },
        "rooms": socket.rooms(),
        "data": {},
    })
}
