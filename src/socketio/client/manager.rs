//! The client's state and its manager thread: the reference's `Manager` (the Engine.IO
//! session, the heartbeat, the reconnection) and each namespace's `Socket` state (its
//! send buffer, its acks), behind one lock. Connections run on the blocking driver, one
//! thread per attempt (transport.rs); what they hear comes here over a channel, tagged with
//! the attempt's generation so that a late event of an old connection is ignored.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::transport::{self, Heard};
use super::{
    AckCallback, ClientAck, ClientConfig, ClientConnectError, ClientDisconnectReason,
    ClientEmitError, ClientSocket, EventHandler, backoff,
};
use crate::Message;
use crate::error::{Error, UsageError};
use crate::socketio::{
    AckError, Data, EnginePacket, EnginePacketType, Packet, PacketDecoder, PacketType,
};

type Effect = Box<dyn FnOnce() + Send>;
type SocketHandler = Arc<dyn Fn(&ClientSocket) + Send + Sync>;
type ConnectErrorHandler = Arc<dyn Fn(&ClientSocket, &ClientConnectError) + Send + Sync>;
type DisconnectHandler = Arc<dyn Fn(&ClientSocket, ClientDisconnectReason) + Send + Sync>;

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What reaches the manager thread.
enum Command {
    /// A message on it.
    Message { generation: u64, message: Message },
    /// It closed, or could not be made.
    Closed { generation: u64 },
    /// Handlers to call, from a user's call (so that every handler runs on this thread).
    Run(Vec<Effect>),
    /// A deadline may have changed.
    Wake,
    /// The client is closed.
    Stop,
}

/// A packet encoded for the wire, kept in a send buffer.
struct Wire {
    text: String,
    attachments: Vec<Bytes>,
    ack: Option<u64>,
}

impl Wire {
    fn encode(packet: &Packet) -> Result<Wire, crate::socketio::PacketError> {
        let encoded = packet.encode()?;
        Ok(Wire {
            text: encoded.text,
            attachments: encoded.attachments,
            ack: packet.id,
        })
    }
}

struct PendingAck {
    deadline: Instant,
    callback: AckCallback,
}

#[derive(Default)]
struct NamespaceHandlers {
    events: HashMap<String, EventHandler>,
    connect: Vec<SocketHandler>,
    connect_error: Vec<ConnectErrorHandler>,
    disconnect: Vec<DisconnectHandler>,
}

struct Namespace {
    auth: Data,
    /// Wants to be joined (the reference's `active`): CONNECT after each open.
    active: bool,
    /// The CONNECT reply's sid, while joined.
    sid: Option<String>,
    buffer: VecDeque<Wire>,
    acks: HashMap<u64, PendingAck>,
    next_id: u64,
    handlers: NamespaceHandlers,
}

enum Phase {
    /// No connection, none to come.
    Idle,
    /// Waiting to reconnect.
    Waiting { until: Instant },
    /// A connection, opening or open.
    Live {
        /// The connection thread's queue.
        outgoing: Sender<Message>,
        /// The Engine.IO open packet came.
        open: bool,
        /// Before the open packet, the attempt's timeout; after it, the next ping's.
        deadline: Instant,
        /// pingInterval + pingTimeout.
        ping_window: Duration,
    },
}

struct State {
    generation: u64,
    phase: Phase,
    attempt: u32,
    namespaces: BTreeMap<Arc<str>, Namespace>,
    decoder: PacketDecoder,
    closed: bool,
}

/// The client's state, shared by its handles and its manager thread.
pub(crate) struct Shared {
    pub(crate) url: String,
    config: ClientConfig,
    state: Mutex<State>,
    commands: Mutex<Sender<Command>>,
}

/// `ws://host:port` + `path` + the Engine.IO query.
fn engine_url(url: &str, path: &str) -> Result<String, Error> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or(UsageError::InvalidUrl("no scheme"))?;
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "http" | "ws" => "ws",
        "https" | "wss" => "wss",
        _ => return Err(UsageError::InvalidUrl("not http, https, ws or wss").into()),
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() {
        return Err(UsageError::InvalidUrl("no host").into());
    }
    let path = path.trim_end_matches('/');
    Ok(format!(
        "{scheme}://{authority}{path}/?EIO=4&transport=websocket"
    ))
}

impl Shared {
    pub(crate) fn start(url: &str, config: ClientConfig) -> Result<Arc<Shared>, Error> {
        let url = engine_url(url, &config.path)?;
        let (sender, receiver) = channel();
        let shared = Arc::new(Shared {
            url,
            state: Mutex::new(State {
                generation: 0,
                phase: Phase::Idle,
                attempt: 0,
                namespaces: BTreeMap::new(),
                decoder: PacketDecoder::new(config.attachments),
                closed: false,
            }),
            config,
            commands: Mutex::new(sender),
        });
        let manager = shared.clone();
        std::thread::Builder::new()
            .name("socket.io-client".to_owned())
            .spawn(move || manager.run(&receiver))?;
        Ok(shared)
    }

    fn command(&self, command: Command) {
        let _ = lock(&self.commands).send(command);
    }

    fn run_effects(&self, effects: Vec<Effect>) {
        if !effects.is_empty() {
            self.command(Command::Run(effects));
        }
    }

    fn socket(self: &Arc<Self>, namespace: &Arc<str>) -> ClientSocket {
        ClientSocket {
            shared: self.clone(),
            namespace: namespace.clone(),
        }
    }

    // The manager thread.

    fn run(self: Arc<Self>, commands: &Receiver<Command>) {
        loop {
            let next = self.next_deadline(&lock(&self.state));
            let received = match next {
                Some(at) => commands.recv_timeout(at.saturating_duration_since(Instant::now())),
                None => commands.recv().map_err(|_| RecvTimeoutError::Disconnected),
            };
            let mut effects = Vec::new();
            let mut stop = false;
            {
                let mut state = lock(&self.state);
                match received {
                    Ok(Command::Message {
                        generation,
                        message,
                    }) => {
                        if generation == state.generation {
                            self.engine_message(&mut state, message, &mut effects);
                        }
                    }
                    Ok(Command::Closed { generation }) => {
                        if generation == state.generation
                            && matches!(state.phase, Phase::Live { .. })
                        {
                            self.lost(
                                &mut state,
                                ClientDisconnectReason::TransportClose,
                                &mut effects,
                            );
                        }
                    }
                    Ok(Command::Run(more)) => effects.extend(more),
                    Ok(Command::Wake) | Err(RecvTimeoutError::Timeout) => {}
                    Ok(Command::Stop) | Err(RecvTimeoutError::Disconnected) => stop = true,
                }
                self.timers(&mut state, &mut effects);
            }
            for effect in effects {
                effect();
            }
            if stop {
                return;
            }
        }
    }

    fn next_deadline(&self, state: &State) -> Option<Instant> {
        let phase = match &state.phase {
            Phase::Idle => None,
            Phase::Waiting { until } => Some(*until),
            Phase::Live { deadline, .. } => Some(*deadline),
        };
        let acks = state
            .namespaces
            .values()
            .flat_map(|namespace| namespace.acks.values().map(|ack| ack.deadline));
        phase.into_iter().chain(acks).min()
    }

    fn timers(self: &Arc<Self>, state: &mut State, effects: &mut Vec<Effect>) {
        let now = Instant::now();
        match &state.phase {
            Phase::Waiting { until } if *until <= now => self.open(state),
            Phase::Live { deadline, open, .. } if *deadline <= now => {
                let reason = match open {
                    true => ClientDisconnectReason::PingTimeout,
                    false => ClientDisconnectReason::TransportClose,
                };
                self.lost(state, reason, effects);
            }
            _ => {}
        }
        for namespace in state.namespaces.values_mut() {
            let expired: Vec<u64> = namespace
                .acks
                .iter()
                .filter(|(_, ack)| ack.deadline <= now)
                .map(|(id, _)| *id)
                .collect();
            for id in expired {
                // As the reference does, a timed-out packet still buffered is not sent.
                namespace.buffer.retain(|wire| wire.ack != Some(id));
                if let Some(ack) = namespace.acks.remove(&id) {
                    effects.push(Box::new(move || (ack.callback)(Err(AckError::Timeout))));
                }
            }
        }
    }

    /// Starts a connection attempt.
    fn open(self: &Arc<Self>, state: &mut State) {
        if state.closed || !state.namespaces.values().any(|namespace| namespace.active) {
            state.phase = Phase::Idle;
            return;
        }
        state.generation += 1;
        state.decoder = PacketDecoder::new(self.config.attachments);
        let generation = state.generation;
        let (outgoing, queue) = channel();
        let heard = transport::forward(lock(&self.commands).clone(), |heard| match heard {
            Heard::Message(generation, message) => Command::Message {
                generation,
                message,
            },
            Heard::Closed(generation) => Command::Closed { generation },
        });
        match transport::spawn(&self.url, generation, self.config.timeout, heard, queue) {
            Ok(()) => {
                state.phase = Phase::Live {
                    outgoing,
                    open: false,
                    deadline: Instant::now() + self.config.timeout,
                    ping_window: self.config.timeout,
                };
            }
            Err(_) => self.schedule_reconnect(state),
        }
    }

    fn schedule_reconnect(&self, state: &mut State) {
        let exhausted = self
            .config
            .reconnection_attempts
            .is_some_and(|most| state.attempt >= most);
        if state.closed || !self.config.reconnection || exhausted {
            state.phase = Phase::Idle;
            return;
        }
        let wait = backoff::delay(
            state.attempt,
            self.config.reconnection_delay,
            self.config.reconnection_delay_max,
            self.config.randomization_factor,
            backoff::random(),
        );
        state.attempt = state.attempt.saturating_add(1);
        state.phase = Phase::Waiting {
            until: Instant::now() + wait,
        };
    }

    /// Ends the connection, if there is one, without a word to the namespaces: its thread
    /// sends what was queued, closes and ends once its queue is dropped.
    fn drop_connection(state: &mut State) {
        state.generation += 1;
        state.phase = Phase::Idle;
    }

    /// The connection is lost: every joined namespace leaves with `reason` (its acks in
    /// flight fail), then the reconnection is scheduled.
    fn lost(
        self: &Arc<Self>,
        state: &mut State,
        reason: ClientDisconnectReason,
        effects: &mut Vec<Effect>,
    ) {
        Self::drop_connection(state);
        for (name, namespace) in &mut state.namespaces {
            if namespace.sid.take().is_some() {
                self.left(name, namespace, reason, effects);
            }
        }
        if state.namespaces.values().any(|namespace| namespace.active) {
            self.schedule_reconnect(state);
        }
    }

    /// A namespace left: acks whose packet went out fail (the reference's `_clearAcks`),
    /// the disconnect handlers run.
    fn left(
        self: &Arc<Self>,
        name: &Arc<str>,
        namespace: &mut Namespace,
        reason: ClientDisconnectReason,
        effects: &mut Vec<Effect>,
    ) {
        let buffered: Vec<u64> = namespace
            .buffer
            .iter()
            .filter_map(|wire| wire.ack)
            .collect();
        let gone: Vec<u64> = namespace
            .acks
            .keys()
            .filter(|id| !buffered.contains(id))
            .copied()
            .collect();
        for id in gone {
            if let Some(ack) = namespace.acks.remove(&id) {
                effects.push(Box::new(move || {
                    (ack.callback)(Err(AckError::Disconnected))
                }));
            }
        }
        let socket = self.socket(name);
        let handlers = namespace.handlers.disconnect.clone();
        effects.push(Box::new(move || {
            for handler in handlers {
                handler(&socket, reason);
            }
        }));
    }

    /// Closes the connection when no namespace wants it (the reference's `_destroy`).
    fn close_if_unused(state: &mut State) {
        if !state.namespaces.values().any(|namespace| namespace.active) {
            Self::drop_connection(state);
        }
    }

    fn send_wire(state: &State, wire: &Wire) -> bool {
        let Phase::Live {
            outgoing,
            open: true,
            ..
        } = &state.phase
        else {
            return false;
        };
        let text = Message::from(format!("4{}", wire.text));
        let mut sent = outgoing.send(text).is_ok();
        for attachment in &wire.attachments {
            sent &= outgoing.send(Message::from(attachment.clone())).is_ok();
        }
        sent
    }

    fn send_packet(state: &State, packet: &Packet) {
        if let Ok(wire) = Wire::encode(packet) {
            Self::send_wire(state, &wire);
        }
    }

    fn send_connect(state: &State, name: &str, auth: &Data) {
        let auth = match auth {
            Data::Null => None,
            auth => Some(auth.clone()),
        };
        Self::send_packet(state, &Packet::connect(name, auth));
    }

    fn engine_message(
        self: &Arc<Self>,
        state: &mut State,
        message: Message,
        effects: &mut Vec<Effect>,
    ) {
        let packet = match EnginePacket::decode_websocket(message) {
            Ok(packet) => packet,
            Err(_) => return self.lost(state, ClientDisconnectReason::ParseError, effects),
        };
        let decoded = match packet {
            EnginePacket::Text {
                packet_type: EnginePacketType::Open,
                data,
            } => {
                self.engine_open(state, data.as_str());
                return;
            }
            EnginePacket::Text {
                packet_type: EnginePacketType::Ping,
                ..
            } => {
                if let Phase::Live {
                    outgoing,
                    deadline,
                    ping_window,
                    ..
                } = &mut state.phase
                {
                    *deadline = Instant::now() + *ping_window;
                    let _ = outgoing.send(Message::from("3"));
                }
                return;
            }
            EnginePacket::Text {
                packet_type: EnginePacketType::Close,
                ..
            } => return self.lost(state, ClientDisconnectReason::TransportClose, effects),
            EnginePacket::Text {
                packet_type: EnginePacketType::Message,
                data,
            } => state.decoder.receive_text(data.as_str()),
            EnginePacket::Binary(bytes) => state.decoder.receive_binary(bytes),
            EnginePacket::Text { .. } => return,
        };
        match decoded {
            Ok(Some(packet)) => self.packet(state, packet, effects),
            Ok(None) => {}
            Err(_) => self.lost(state, ClientDisconnectReason::ParseError, effects),
        }
    }

    /// The Engine.IO open packet: the heartbeat's window, then a CONNECT per namespace.
    fn engine_open(&self, state: &mut State, data: &str) {
        let open: serde_json::Value = serde_json::from_str(data).unwrap_or_default();
        let millis = |field: &str| open.get(field).and_then(serde_json::Value::as_u64);
        let window = match (millis("pingInterval"), millis("pingTimeout")) {
            (Some(interval), Some(timeout)) => {
                Duration::from_millis(interval.saturating_add(timeout))
            }
            _ => self.config.timeout,
        };
        if let Phase::Live {
            open,
            deadline,
            ping_window,
            ..
        } = &mut state.phase
        {
            *open = true;
            *ping_window = window;
            *deadline = Instant::now() + window;
        }
        state.attempt = 0;
        for (name, namespace) in &state.namespaces {
            if namespace.active {
                Self::send_connect(state, name, &namespace.auth);
            }
        }
    }

    /// The reference socket's `onpacket`.
    fn packet(self: &Arc<Self>, state: &mut State, packet: Packet, effects: &mut Vec<Effect>) {
        let Some((name, _)) = state.namespaces.get_key_value(packet.namespace.as_str()) else {
            return;
        };
        let name = name.clone();
        let socket = self.socket(&name);
        match packet.packet_type {
            PacketType::Connect => {
                let sid = match &packet.data {
                    Some(Data::Object(fields)) => fields.get("sid").and_then(Data::as_str),
                    _ => None,
                };
                let Some(sid) = sid.map(str::to_owned) else {
                    return;
                };
                let Some(namespace) = state.namespaces.get_mut(&name) else {
                    return;
                };
                if !namespace.active {
                    return;
                }
                namespace.sid = Some(sid);
                let buffer = std::mem::take(&mut namespace.buffer);
                let handlers = namespace.handlers.connect.clone();
                for wire in &buffer {
                    Self::send_wire(state, wire);
                }
                effects.push(Box::new(move || {
                    for handler in handlers {
                        handler(&socket);
                    }
                }));
            }
            PacketType::ConnectError => {
                let error = match packet.data {
                    Some(Data::Object(mut fields)) => ClientConnectError {
                        message: match fields.remove("message") {
                            Some(Data::String(message)) => message,
                            _ => String::new(),
                        },
                        data: fields.remove("data"),
                    },
                    Some(Data::String(message)) => ClientConnectError {
                        message,
                        data: None,
                    },
                    _ => ClientConnectError {
                        message: String::new(),
                        data: None,
                    },
                };
                let Some(namespace) = state.namespaces.get_mut(&name) else {
                    return;
                };
                namespace.active = false;
                namespace.sid = None;
                let handlers = namespace.handlers.connect_error.clone();
                effects.push(Box::new(move || {
                    for handler in handlers {
                        handler(&socket, &error);
                    }
                }));
                Self::close_if_unused(state);
            }
            PacketType::Disconnect => {
                let Some(namespace) = state.namespaces.get_mut(&name) else {
                    return;
                };
                if namespace.sid.take().is_some() {
                    namespace.active = false;
                    namespace.buffer.clear();
                    self.left(
                        &name,
                        namespace,
                        ClientDisconnectReason::IoServerDisconnect,
                        effects,
                    );
                    Self::close_if_unused(state);
                }
            }
            PacketType::Event => {
                let Some(namespace) = state.namespaces.get(&name) else {
                    return;
                };
                if namespace.sid.is_none() {
                    return;
                }
                let Some(Data::Array(mut args)) = packet.data else {
                    return;
                };
                if args.is_empty() {
                    return;
                }
                let event = match args.remove(0) {
                    Data::String(event) => event,
                    Data::Number(number) => number.to_string(),
                    _ => return,
                };
                let Some(handler) = namespace.handlers.events.get(&event).cloned() else {
                    return;
                };
                let ack = packet.id.map(|id| ClientAck {
                    socket: socket.clone(),
                    id,
                });
                effects.push(Box::new(move || handler(&socket, args, ack)));
            }
            PacketType::Ack => {
                let Some(namespace) = state.namespaces.get_mut(&name) else {
                    return;
                };
                let Some(ack) = packet.id.and_then(|id| namespace.acks.remove(&id)) else {
                    return;
                };
                let args = match packet.data {
                    Some(Data::Array(args)) => args,
                    _ => Vec::new(),
                };
                effects.push(Box::new(move || (ack.callback)(Ok(args))));
            }
        }
    }

    // The users' calls.

    fn namespace_mut<'a>(state: &'a mut State, name: &str) -> Option<&'a mut Namespace> {
        state.namespaces.get_mut(name)
    }

    pub(crate) fn add_namespace(&self, name: &Arc<str>, auth: Data) {
        lock(&self.state)
            .namespaces
            .entry(name.clone())
            .or_insert_with(|| Namespace {
                auth,
                active: false,
                sid: None,
                buffer: VecDeque::new(),
                acks: HashMap::new(),
                next_id: 0,
                handlers: NamespaceHandlers::default(),
            });
    }

    pub(crate) fn sid(&self, name: &str) -> Option<String> {
        lock(&self.state)
            .namespaces
            .get(name)
            .and_then(|namespace| namespace.sid.clone())
    }

    pub(crate) fn is_open(&self) -> bool {
        matches!(lock(&self.state).phase, Phase::Live { open: true, .. })
    }

    pub(crate) fn connect(self: &Arc<Self>, name: &str) {
        {
            let mut state = lock(&self.state);
            if state.closed {
                return;
            }
            let Some(namespace) = Self::namespace_mut(&mut state, name) else {
                return;
            };
            let was_active = std::mem::replace(&mut namespace.active, true);
            let auth = namespace.auth.clone();
            match &state.phase {
                // After the reconnection gave up, too: a new round of attempts.
                Phase::Idle => {
                    state.attempt = 0;
                    self.open(&mut state);
                }
                Phase::Live { open: true, .. } if !was_active => {
                    Self::send_connect(&state, name, &auth);
                }
                _ => {}
            }
        }
        self.command(Command::Wake);
    }

    pub(crate) fn disconnect(self: &Arc<Self>, name: &str) {
        let mut effects = Vec::new();
        {
            let mut state = lock(&self.state);
            self.leave(&mut state, name, &mut effects);
            Self::close_if_unused(&mut state);
        }
        self.run_effects(effects);
    }

    /// The reference's `disconnect()` of one namespace.
    fn leave(self: &Arc<Self>, state: &mut State, name: &str, effects: &mut Vec<Effect>) {
        let Some((name, _)) = state.namespaces.get_key_value(name) else {
            return;
        };
        let name = name.clone();
        let joined = state
            .namespaces
            .get(&name)
            .is_some_and(|namespace| namespace.sid.is_some());
        if joined {
            Self::send_packet(state, &Packet::disconnect(&*name));
        }
        let Some(namespace) = state.namespaces.get_mut(&name) else {
            return;
        };
        namespace.active = false;
        namespace.buffer.clear();
        if namespace.sid.take().is_some() || !namespace.acks.is_empty() {
            self.left(
                &name,
                namespace,
                ClientDisconnectReason::IoClientDisconnect,
                effects,
            );
        }
    }

    pub(crate) fn close(self: &Arc<Self>) {
        let mut effects = Vec::new();
        {
            let mut state = lock(&self.state);
            if state.closed {
                return;
            }
            let names: Vec<Arc<str>> = state.namespaces.keys().cloned().collect();
            for name in names {
                self.leave(&mut state, &name, &mut effects);
            }
            state.closed = true;
            Self::drop_connection(&mut state);
        }
        self.run_effects(effects);
        self.command(Command::Stop);
    }

    pub(crate) fn emit(
        &self,
        name: &str,
        event: &str,
        args: Vec<Data>,
        ack: Option<(Duration, AckCallback)>,
    ) -> Result<(), ClientEmitError> {
        let mut state = lock(&self.state);
        if state.closed {
            return Err(ClientEmitError::Closed);
        }
        let bound = self.config.send_buffer;
        let namespace = Self::namespace_mut(&mut state, name).ok_or(ClientEmitError::Closed)?;
        let mut packet = Packet::event(name, event, args);
        let id = ack.as_ref().map(|_| namespace.next_id);
        if let Some(id) = id {
            packet = packet.with_id(id);
        }
        let wire = Wire::encode(&packet)?;
        let joined = namespace.sid.is_some();
        if !joined && namespace.buffer.len() >= bound {
            return Err(ClientEmitError::BufferFull);
        }
        if let (Some(id), Some((timeout, callback))) = (id, ack) {
            namespace.next_id += 1;
            let deadline = Instant::now() + timeout;
            namespace.acks.insert(id, PendingAck { deadline, callback });
        }
        match joined {
            true => {
                Self::send_wire(&state, &wire);
            }
            false => namespace.buffer.push_back(wire),
        }
        drop(state);
        if id.is_some() {
            self.command(Command::Wake);
        }
        Ok(())
    }

    pub(crate) fn answer(
        &self,
        name: &str,
        id: u64,
        args: Vec<Data>,
    ) -> Result<(), ClientEmitError> {
        let state = lock(&self.state);
        let joined = state
            .namespaces
            .get(name)
            .is_some_and(|namespace| namespace.sid.is_some());
        if !joined {
            return Err(ClientEmitError::Disconnected);
        }
        let wire = Wire::encode(&Packet::ack(name, id, args))?;
        Self::send_wire(&state, &wire);
        Ok(())
    }

    pub(crate) fn on_event(&self, name: &str, event: String, handler: EventHandler) {
        if let Some(namespace) = lock(&self.state).namespaces.get_mut(name) {
            namespace.handlers.events.insert(event, handler);
        }
    }

    pub(crate) fn on_connect(&self, name: &str, handler: SocketHandler) {
        if let Some(namespace) = lock(&self.state).namespaces.get_mut(name) {
            namespace.handlers.connect.push(handler);
        }
    }

    pub(crate) fn on_connect_error(&self, name: &str, handler: ConnectErrorHandler) {
        if let Some(namespace) = lock(&self.state).namespaces.get_mut(name) {
            namespace.handlers.connect_error.push(handler);
        }
    }

    pub(crate) fn on_disconnect(&self, name: &str, handler: DisconnectHandler) {
        if let Some(namespace) = lock(&self.state).namespaces.get_mut(name) {
            namespace.handlers.disconnect.push(handler);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::engine_url;

    #[test]
    fn engine_urls() {
        let url = |base: &str| engine_url(base, "/socket.io/").ok();
        let expected = "ws://127.0.0.1:3000/socket.io/?EIO=4&transport=websocket";
        assert_eq!(url("http://127.0.0.1:3000").as_deref(), Some(expected));
        assert_eq!(
            url("ws://127.0.0.1:3000/chat?x=1").as_deref(),
            Some(expected)
        );
        assert_eq!(
            url("https://example.com").as_deref(),
            Some("wss://example.com/socket.io/?EIO=4&transport=websocket")
        );
        assert_eq!(url("ftp://example.com"), None);
        assert_eq!(url("http://"), None);
    }
}
