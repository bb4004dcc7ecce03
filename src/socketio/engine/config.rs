//! [`EngineConfig`]: an Engine.IO server's path, timers, bounds, transports and CORS
//! options, each with the reference server's default.

use std::time::Duration;

/// How an Engine.IO server is set up. The defaults are the reference server's
/// (socketio/engine.io); build one with struct update syntax:
///
/// ```
/// use std::time::Duration;
/// use rfc6455::socketio::{Cors, EngineConfig};
///
/// let config = EngineConfig {
///     ping_interval: Duration::from_secs(10),
///     cors: Some(Cors::any()),
///     ..EngineConfig::default()
/// };
/// assert_eq!(config.path, "/engine.io/");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineConfig {
    /// The path prefix the server answers under. Default `/engine.io/` (Socket.IO mounts
    /// it at `/socket.io/`); a trailing `/` is added if missing, as the reference does.
    pub path: String,
    /// How often the server pings each session (`pingInterval`, sent in the handshake).
    /// Default 25 s.
    pub ping_interval: Duration,
    /// How long after a ping the client has to answer (`pingTimeout`); then the session
    /// closes with `ping timeout`. Default 20 s.
    pub ping_timeout: Duration,
    /// How long a WebSocket opened to upgrade a long-polling session has to complete the
    /// upgrade (`upgradeTimeout`); then it is closed and the session stays on polling.
    /// Default 10 s.
    pub upgrade_timeout: Duration,
    /// The longest long-polling `POST` body (`maxHttpBufferSize`, announced as `maxPayload`
    /// in the handshake); a longer one is answered 413. It also bounds the WebSocket
    /// messages of a session ([`Config::max_message_size`](crate::Config) is the runtime's
    /// own bound). Default 1,000,000. Keep [`Config::max_http_body`](crate::Config) at
    /// least this large (its default, 1 MiB, is).
    pub max_http_buffer_size: usize,
    /// The transports a client may use (`transports`). Default both.
    pub transports: Transports,
    /// Whether a long-polling session may upgrade to WebSocket (`allowUpgrades`): with
    /// `false` the handshake announces no upgrade. Default `true`.
    pub allow_upgrades: bool,
    /// CORS for browsers on other origins (`cors`); `None` sends no CORS header. Default
    /// `None`, as the reference.
    pub cors: Option<Cors>,
    /// The most a session may hold in its outgoing queue (the messages waiting for the
    /// next long-polling `GET`, or for an upgrade to complete): their bytes in a payload
    /// plus a slot each. A send that would cross it is refused with
    /// [`EngineSendError::QueueFull`](super::EngineSendError::QueueFull) and the session
    /// goes on (the heartbeat's ping is never refused). Over WebSocket nothing waits here:
    /// frames go to the socket's write queue, bounded by
    /// [`Config::max_write_buffer`](crate::Config). The reference sets no bound. Default
    /// 1 MiB.
    pub max_queued_bytes: usize,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            path: "/engine.io/".to_owned(),
            ping_interval: Duration::from_secs(25),
            ping_timeout: Duration::from_secs(20),
            upgrade_timeout: Duration::from_secs(10),
            max_http_buffer_size: 1_000_000,
            transports: Transports::default(),
            allow_upgrades: true,
            cors: None,
            max_queued_bytes: 1 << 20,
        }
    }
}

impl EngineConfig {
    /// The path with exactly one trailing `/`, as the reference normalizes it.
    pub(crate) fn normalized_path(&self) -> String {
        format!("{}/", self.path.trim_end_matches('/'))
    }
}

/// The transports a server accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transports {
    /// HTTP long-polling.
    pub polling: bool,
    /// WebSocket.
    pub websocket: bool,
}

impl Default for Transports {
    fn default() -> Self {
        Transports {
            polling: true,
            websocket: true,
        }
    }
}

impl Transports {
    /// Whether the transport named `name` (`"polling"`, `"websocket"`) is accepted.
    pub(crate) fn allows(self, name: &str) -> bool {
        match name {
            "polling" => self.polling,
            "websocket" => self.websocket,
            _ => false,
        }
    }
}

/// CORS headers for browsers on other origins, as the `cors` package the reference uses
/// writes them: `Access-Control-Allow-Origin` (and `-Credentials`, `-Expose-Headers`) on
/// every response, and for a preflight `OPTIONS` a 204 with `-Allow-Methods`,
/// `-Allow-Headers` and `-Max-Age`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cors {
    /// Which origins may read the responses.
    pub origin: CorsOrigin,
    /// `Access-Control-Allow-Credentials: true` (cookies). Browsers refuse it with the
    /// origin `*`: list the origins instead. Default `false`.
    pub credentials: bool,
    /// The methods a preflight allows. Default `GET,HEAD,PUT,PATCH,POST,DELETE`, the
    /// `cors` package's.
    pub methods: Vec<String>,
    /// The request headers a preflight allows; `None` allows those the browser asks for
    /// (`Access-Control-Request-Headers`), as the `cors` package does. Default `None`.
    pub allowed_headers: Option<Vec<String>>,
    /// `Access-Control-Expose-Headers`. Default none.
    pub exposed_headers: Vec<String>,
    /// `Access-Control-Max-Age` of a preflight. Default none.
    pub max_age: Option<Duration>,
}

/// The origins CORS allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorsOrigin {
    /// Any origin: `Access-Control-Allow-Origin: *`.
    Any,
    /// These origins (`https://example.com`, compared exactly): a request from one of
    /// them gets its origin back, any other none (and `Vary: Origin` either way).
    List(Vec<String>),
}

impl Cors {
    /// Any origin, no credentials, the default methods.
    pub fn any() -> Cors {
        Cors::with_origin(CorsOrigin::Any)
    }

    /// These origins only, the default methods.
    pub fn origins<S: Into<String>>(origins: impl IntoIterator<Item = S>) -> Cors {
        Cors::with_origin(CorsOrigin::List(
            origins.into_iter().map(Into::into).collect(),
        ))
    }

    fn with_origin(origin: CorsOrigin) -> Cors {
        Cors {
            origin,
            credentials: false,
            methods: ["GET", "HEAD", "PUT", "PATCH", "POST", "DELETE"]
                .map(str::to_owned)
                .to_vec(),
            allowed_headers: None,
            exposed_headers: Vec::new(),
            max_age: None,
        }
    }

    /// With `Access-Control-Allow-Credentials: true`.
    pub fn credentials(mut self, credentials: bool) -> Cors {
        self.credentials = credentials;
        self
    }
}
