//! [`EngineServer`]: an Engine.IO v4 server mounted on an event-API [`Server`] (a
//! [`Route`] at its path), with its [`EngineHandlers`]. This file is the glue between the
//! runtime and the sessions: it routes each plain HTTP request (handshake, long-poll
//! `GET`, `POST`, CORS preflight) and each WebSocket (its upgrade, open, messages, close)
//! to the right session, through the server's tables, and starts sessions.

// Input reaches this module: no indexing, unwrap, expect or panic that it could trigger.
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use crate::Message;
use crate::events::{Handle, Handlers, HttpReply, Route, Server, SocketId, Upgrade};
use crate::handshake::{HttpRequest, HttpResponse, UpgradeRequest};
use crate::protocol::CloseCode;
use crate::socketio::PayloadLimits;
use crate::socketio::engine::cell::{PendingGet, SessionCell};
use crate::socketio::engine::config::EngineConfig;
use crate::socketio::engine::connection::EngineConnection;
use crate::socketio::engine::request::{
    Query, Verdict, check_protocol, polling_headers, preflight, refusal, upgrade_refusal, verify,
    with_cors,
};
use crate::socketio::engine::session::{
    CloseReason, EngineTransport, ErrorCode, Limits, PostAnswer, Session,
};
use crate::socketio::engine::table::{Table, new_sid};
use crate::socketio::engine::timers::Timers;

/// How long a server close over long-polling waits for a `GET` to carry its close packet
/// (the reference's `closeTimeout`).
const POLLING_CLOSE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

type ConnectionHandler = Box<dyn Fn(&EngineConnection) + Send + Sync>;
type MessageHandler = Box<dyn Fn(&EngineConnection, Message) + Send + Sync>;
type CloseHandler = Box<dyn Fn(&EngineConnection, CloseReason) + Send + Sync>;
type RequestFilter = Box<dyn Fn(&HttpRequest) -> Result<(), String> + Send + Sync>;

/// What an Engine.IO server does on its sessions' events; every handler is optional.
///
/// The events of one connection come in order and one at a time (`on_connection` first,
/// `on_close` last), on whichever thread produced them (a loop's, or the server's timer
/// thread for a ping timeout): a handler must not block.
pub struct EngineHandlers {
    pub(crate) connection: Option<ConnectionHandler>,
    pub(crate) message: Option<MessageHandler>,
    pub(crate) close: Option<CloseHandler>,
    pub(crate) allow_request: Option<RequestFilter>,
}

impl Default for EngineHandlers {
    fn default() -> Self {
        EngineHandlers::new()
    }
}

impl std::fmt::Debug for EngineHandlers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineHandlers")
            .field("connection", &self.connection.is_some())
            .field("message", &self.message.is_some())
            .field("close", &self.close.is_some())
            .field("allow_request", &self.allow_request.is_some())
            .finish()
    }
}

impl EngineHandlers {
    /// No handler at all.
    pub fn new() -> Self {
        EngineHandlers {
            connection: None,
            message: None,
            close: None,
            allow_request: None,
        }
    }

    /// Called for each new session, once its handshake (the open packet) is sent.
    pub fn on_connection(
        mut self,
        handler: impl Fn(&EngineConnection) + Send + Sync + 'static,
    ) -> Self {
        self.connection = Some(Box::new(handler));
        self
    }

    /// Called for each message packet, text or binary, in the order the client sent them.
    pub fn on_message(
        mut self,
        handler: impl Fn(&EngineConnection, Message) + Send + Sync + 'static,
    ) -> Self {
        self.message = Some(Box::new(handler));
        self
    }

    /// Called once when a session ends, with why.
    pub fn on_close(
        mut self,
        handler: impl Fn(&EngineConnection, CloseReason) + Send + Sync + 'static,
    ) -> Self {
        self.close = Some(Box::new(handler));
        self
    }

    /// Decides on each handshake request (the reference's `allowRequest`): `Err(message)`
    /// refuses it, with 403 and `{"code":4,"message":<message>}` for long-polling, 400 and
    /// the message for a WebSocket.
    pub fn allow_request(
        mut self,
        filter: impl Fn(&HttpRequest) -> Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        self.allow_request = Some(Box::new(filter));
        self
    }
}

/// An Engine.IO v4 server: sessions over HTTP long-polling and WebSocket, the upgrade from
/// one to the other, the heartbeat, on the event API's loops. Cheap to clone; every clone
/// is the same server.
///
/// ```no_run
/// use rfc6455::events::{Handlers, Server};
/// use rfc6455::handshake::HttpResponse;
/// use rfc6455::socketio::{EngineConfig, EngineHandlers, EngineServer};
///
/// let handlers = EngineHandlers::new().on_message(|connection, message| {
///     let _ = connection.send(message); // echo
/// });
/// let engine = EngineServer::new(EngineConfig::default(), handlers)?;
/// // Engine.IO at /engine.io/, the application's own pages and WebSockets elsewhere.
/// let server = Server::new(Handlers::<()>::new()).on_http(|_| HttpResponse::text(200, "home"));
/// engine.attach(server).bind("127.0.0.1:3000")?.run()?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone)]
pub struct EngineServer {
    engine: Arc<Engine>,
}

impl std::fmt::Debug for EngineServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineServer")
            .field("path", &self.engine.path)
            .field("connections", &self.engine.sessions.len())
            .finish()
    }
}

/// The server's state, shared by its route, its sessions and its clones.
pub(crate) struct Engine {
    pub(crate) config: EngineConfig,
    path: String,
    limits: Limits,
    pub(crate) handlers: EngineHandlers,
    sessions: Table<Box<str>, Arc<SessionCell>>,
    /// Every WebSocket of a session: the one carrying it, or an upgrade's probe.
    sockets: Table<SocketId, Arc<SessionCell>>,
    /// WebSockets accepted for a new session, not open yet.
    pending: Table<SocketId, Arc<(HttpRequest, SocketAddr)>>,
    /// The runtime's handle, taken from the first WebSocket that opens.
    handle: OnceLock<Handle>,
    pub(crate) timers: Timers<SessionCell>,
}

impl EngineServer {
    /// A server with `config` and `handlers`, and its timer thread (the only error: the
    /// thread could not be started).
    pub fn new(config: EngineConfig, handlers: EngineHandlers) -> std::io::Result<EngineServer> {
        let timers = Timers::start("engine.io-timers", |cell: Arc<SessionCell>, at| {
            cell.fire(at)
        })?;
        let limits = Limits {
            ping_interval: config.ping_interval,
            ping_timeout: config.ping_timeout,
            upgrade_timeout: config.upgrade_timeout,
            close_timeout: POLLING_CLOSE_TIMEOUT,
            max_queued_bytes: config.max_queued_bytes,
            payload: PayloadLimits {
                max_payload_bytes: config.max_http_buffer_size,
                ..PayloadLimits::default()
            },
        };
        let engine = Engine {
            path: config.normalized_path(),
            config,
            limits,
            handlers,
            sessions: Table::new(),
            sockets: Table::new(),
            pending: Table::new(),
            handle: OnceLock::new(),
            timers,
        };
        Ok(EngineServer {
            engine: Arc::new(engine),
        })
    }

    /// Mounts the server on `server` at its path ([`EngineConfig::path`]): the requests
    /// and WebSockets under it are Engine.IO's, every other path stays the server's own
    /// (its handlers, `on_upgrade`, `on_http`). An Engine.IO server serves one event-API
    /// server: attach it once.
    pub fn attach<D: Default + Send + 'static>(&self, server: Server<D>) -> Server<D> {
        let (open, message, error, close) = (
            self.engine.clone(),
            self.engine.clone(),
            self.engine.clone(),
            self.engine.clone(),
        );
        let handlers = Handlers::<D>::new()
            .on_open(move |socket| open.ws_opened(socket.id(), socket.handle()))
            .on_message(move |socket, frame| message.ws_message(socket.id(), frame))
            .on_error(move |socket, _| error.ws_closed(socket.id(), true))
            .on_close(move |socket, _, _| close.ws_closed(socket.id(), false));
        let (upgrade, http) = (self.engine.clone(), self.engine.clone());
        let route = Route::new(handlers)
            .on_upgrade(move |request, reply| upgrade.upgrade(request, reply))
            .on_http_reply(move |request, reply| http.http(request, reply));
        server.route(self.engine.path.clone(), route)
    }

    /// The server's configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.engine.config
    }

    /// The open session with this id.
    pub fn connection(&self, sid: &str) -> Option<EngineConnection> {
        self.engine.sessions.get(sid).map(EngineConnection::new)
    }

    /// Every open session.
    pub fn connections(&self) -> Vec<EngineConnection> {
        let cells = self.engine.sessions.values();
        cells.into_iter().map(EngineConnection::new).collect()
    }

    /// How many sessions are open (the reference's `clientsCount`).
    pub fn connection_count(&self) -> usize {
        self.engine.sessions.len()
    }

    /// Closes every session (`forced close`), as the reference's `close()` does.
    pub fn close_all(&self) {
        for connection in self.connections() {
            connection.close();
        }
    }
}

impl Engine {
    pub(crate) fn handle(&self) -> Option<&Handle> {
        self.handle.get()
    }

    /// A session is over: it can no longer be found.
    pub(crate) fn forget(&self, cell: &SessionCell) {
        self.sessions.remove(&cell.sid);
    }

    /// The handshake JSON of a new session.
    fn open_packet(&self, sid: &str, transport: EngineTransport) -> String {
        let upgrades = if transport == EngineTransport::Polling
            && self.config.allow_upgrades
            && self.config.transports.websocket
        {
            r#"["websocket"]"#
        } else {
            "[]"
        };
        format!(
            r#"{{"sid":"{sid}","upgrades":{upgrades},"pingInterval":{},"pingTimeout":{},"maxPayload":{}}}"#,
            self.config.ping_interval.as_millis(),
            self.config.ping_timeout.as_millis(),
            self.config.max_http_buffer_size,
        )
    }

    /// Starts a session (its open packet queued, its first event the connection).
    fn start_session(
        self: &Arc<Self>,
        request: HttpRequest,
        remote_addr: SocketAddr,
        ws: Option<SocketId>,
    ) -> std::io::Result<Arc<SessionCell>> {
        let transport = match ws {
            Some(_) => EngineTransport::WebSocket,
            None => EngineTransport::Polling,
        };
        loop {
            let sid = new_sid()?;
            let open = self.open_packet(&sid, transport);
            let session = Session::new(open, ws, self.limits, Instant::now());
            let sid: Box<str> = sid.into();
            let cell = SessionCell::new(
                sid.clone(),
                request.clone(),
                remote_addr,
                self.clone(),
                session,
            );
            // 120 random bits do not collide; if they ever did, draw again.
            if self.sessions.insert_new(sid, cell.clone()) {
                return Ok(cell);
            }
        }
    }

    // ----- plain HTTP: handshakes, long-polls, POSTs ----------------------------------

    fn http(self: &Arc<Self>, request: &HttpRequest, reply: HttpReply) {
        let cors = self.config.cors.as_ref();
        if request.method() == "OPTIONS"
            && let Some(cors) = cors
        {
            return reply.send(preflight(cors, request));
        }
        let query = Query::parse(request.query());
        let refuse = |code: ErrorCode, message: Option<&str>| {
            with_cors(cors, request, refusal(code, message))
        };
        match verify(request.method(), &query, self.config.transports, false) {
            Verdict::Refuse(code) => reply.send(refuse(code, None)),
            // Only for upgrades.
            Verdict::Close => reply.send(refuse(ErrorCode::BadRequest, None)),
            Verdict::Handshake => {
                if let Some(filter) = &self.handlers.allow_request
                    && let Err(message) = filter(request)
                {
                    return reply.send(refuse(ErrorCode::Forbidden, Some(&message)));
                }
                if let Err(code) = check_protocol(&query) {
                    return reply.send(refuse(code, None));
                }
                let peer = reply.peer_addr();
                match self.start_session(request.clone(), peer, None) {
                    Ok(cell) => self.poll(&cell, request, reply),
                    Err(_) => reply.send(refuse(ErrorCode::BadRequest, None)),
                }
            }
            Verdict::Session(sid) => {
                let Some(cell) = self.sessions.get(sid.as_str()) else {
                    return reply.send(refuse(ErrorCode::UnknownSid, None));
                };
                let requested = query.transport.as_deref().unwrap_or_default();
                if cell.transport().name() != requested {
                    return reply.send(refuse(ErrorCode::BadRequest, None));
                }
                match request.method() {
                    "GET" => self.poll(&cell, request, reply),
                    "POST" => {
                        let binary =
                            request.header("Content-Type") == Some("application/octet-stream");
                        let (answer, _) =
                            cell.with(|session, now| session.on_post(request.body(), binary, now));
                        let response = match answer {
                            PostAnswer::Ok => polling_headers(
                                request,
                                HttpResponse::new(200)
                                    .header("Content-Type", "text/html")
                                    .body("ok"),
                            ),
                            PostAnswer::Refused(code) => refusal(code, None),
                            PostAnswer::TooLarge => HttpResponse::new(413),
                        };
                        reply.send(with_cors(cors, request, response));
                    }
                    // The reference's polling transport answers other methods so.
                    _ => reply.send(with_cors(cors, request, HttpResponse::new(500))),
                }
            }
        }
    }

    /// A long-polling `GET` for `cell`: answered now or held. If the client gives up on
    /// it first, the session ends (`transport error`), as the reference's does.
    fn poll(&self, cell: &Arc<SessionCell>, request: &HttpRequest, reply: HttpReply) {
        let cancelled = Arc::downgrade(cell);
        reply.on_cancel(move || {
            if let Some(cell) = cancelled.upgrade() {
                cell.with(|session, _| session.on_poll_cancelled());
            }
        });
        let get = PendingGet {
            reply,
            request: request.clone(),
        };
        cell.with(|session, _| session.on_get(get));
    }

    // ----- WebSockets -----------------------------------------------------------------

    /// Decides on a WebSocket upgrade under the path: refused with the reference's 400
    /// when its checks fail (transport, sid, protocol revision, `allow_request`); a new
    /// session's, or an upgrade's probe, accepted; one the reference's WebSocket server
    /// closes right after the handshake (a session carried by a WebSocket already or
    /// upgrading, upgrades off, a transport other than `websocket`) accepted and closed
    /// when it opens.
    fn upgrade<D: Default + Send + 'static>(
        self: &Arc<Self>,
        request: &UpgradeRequest,
        upgrade: Upgrade<D>,
    ) {
        let query = Query::parse(request.query());
        let id = upgrade.id();
        let accepted = match verify(request.method(), &query, self.config.transports, true) {
            Verdict::Refuse(code) => Err((code, None)),
            // Not registered: closed when it opens.
            Verdict::Close => Ok(()),
            Verdict::Handshake => {
                let allowed = match &self.handlers.allow_request {
                    Some(filter) => filter(request.request())
                        .map_err(|message| (ErrorCode::Forbidden, Some(message))),
                    None => Ok(()),
                };
                allowed
                    .and_then(|()| check_protocol(&query).map_err(|code| (code, None)))
                    .map(|()| {
                        let pending = Arc::new((request.request().clone(), upgrade.peer_addr()));
                        self.pending.insert(id, pending);
                    })
            }
            Verdict::Session(sid) => match self.sessions.get(sid.as_str()) {
                None => Err((ErrorCode::UnknownSid, None)),
                Some(_) if !self.config.allow_upgrades => Ok(()),
                Some(cell) => {
                    let (begun, _) = cell.with(|session, now| session.begin_upgrade(id, now));
                    if begun.is_ok() {
                        self.sockets.insert(id, cell);
                    }
                    Ok(())
                }
            },
        };
        match accepted {
            Ok(()) => upgrade.accept(D::default()),
            Err((code, message)) => upgrade.refuse(upgrade_refusal(code, message.as_deref())),
        }
    }

    /// A WebSocket opened: a new session starts on it, or an upgrade's probe is ready.
    fn ws_opened(self: &Arc<Self>, id: SocketId, handle: Handle) {
        let handle = self.handle.get_or_init(|| handle);
        let Some(pending) = self.pending.remove(&id) else {
            if self.sockets.get(&id).is_none() {
                // Neither a new session nor a probe: closed, as the reference does.
                let _ = handle.close(id, CloseCode::NORMAL, "");
            }
            return;
        };
        let (request, peer) = (pending.0.clone(), pending.1);
        match self.start_session(request, peer, Some(id)) {
            Ok(cell) => {
                self.sockets.insert(id, cell.clone());
                // Sends the open packet and tells the application.
                cell.with(|_, _| ());
            }
            Err(_) => {
                let _ = handle.close(id, CloseCode::INTERNAL_ERROR, "");
            }
        }
    }

    fn ws_message(&self, id: SocketId, message: Message) {
        let Some(cell) = self.sockets.get(&id) else {
            return;
        };
        if message.len() > self.config.max_http_buffer_size {
            // The reference's WebSocket server refuses it (`maxPayload`): the transport
            // fails.
            if let Some(handle) = self.handle() {
                let _ = handle.close(id, CloseCode::MESSAGE_TOO_BIG, "");
            }
            self.sockets.remove(&id);
            cell.with(|session, _| session.on_ws_closed(&id, true));
            return;
        }
        cell.with(|session, now| session.on_ws_message(&id, message, now));
    }

    fn ws_closed(&self, id: SocketId, error: bool) {
        self.pending.remove(&id);
        if let Some(cell) = self.sockets.remove(&id) {
            cell.with(|session, _| session.on_ws_closed(&id, error));
        }
    }
}
