//! [`Client`]: the same handlers as a server, on an outgoing connection, with optional
//! automatic reconnection.

use std::sync::Arc;

use crate::config::Config;
use crate::error::Error;
use crate::handshake::{ClientRequest, Url};
use crate::protocol::{CloseCode, Message};
use crate::runtime::{ClientOrigin, Reconnect};

use super::handlers::Handlers;
use super::server::into_runner;
use super::{Handle, Runtime, Socket};

/// A WebSocket client on the event loop.
///
/// ```no_run
/// use rfc6455::events::{Client, Reconnect};
///
/// Client::<()>::new()
///     .reconnect(Reconnect::default())
///     .on_open(|socket| {
///         let _ = socket.send("hello");
///     })
///     .on_message(|_socket, message| println!("{:?}", message.as_text()))
///     .connect("ws://127.0.0.1:9001/")?
///     .run()?;
/// # Ok::<(), rfc6455::Error>(())
/// ```
pub struct Client<D = ()> {
    config: Config,
    handlers: Handlers<D>,
    reconnect: Option<Reconnect>,
    protocols: Vec<String>,
    headers: Vec<(String, String)>,
}

impl<D: Default + Send + 'static> Default for Client<D> {
    fn default() -> Self {
        Self::new()
    }
}

impl<D: Default + Send + 'static> Client<D> {
    /// A client with the default [`Config`], no reconnection and no handler.
    pub fn new() -> Self {
        Client {
            config: Config::default(),
            handlers: Handlers::default(),
            reconnect: None,
            protocols: Vec::new(),
            headers: Vec::new(),
        }
    }

    /// Sets the limits and timeouts.
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Reconnects with this policy whenever the connection ends, unless the application
    /// closed it or the runtime is shutting down.
    pub fn reconnect(mut self, policy: Reconnect) -> Self {
        self.reconnect = Some(policy);
        self
    }

    /// Offers a subprotocol.
    pub fn protocol(mut self, protocol: impl Into<String>) -> Self {
        self.protocols.push(protocol.into());
        self
    }

    /// Adds a header to the upgrade request.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Called when the connection opens (again, after each reconnection).
    pub fn on_open(mut self, handler: impl Fn(&mut Socket<'_, D>) + Send + Sync + 'static) -> Self {
        self.handlers.open = Some(Box::new(handler));
        self
    }

    /// Called for each complete message.
    pub fn on_message(
        mut self,
        handler: impl Fn(&mut Socket<'_, D>, Message) + Send + Sync + 'static,
    ) -> Self {
        self.handlers.message = Some(Box::new(handler));
        self
    }

    /// Called once per connection when it closes (also when it could not be established).
    pub fn on_close(
        mut self,
        handler: impl Fn(&mut Socket<'_, D>, CloseCode, &str) + Send + Sync + 'static,
    ) -> Self {
        self.handlers.close = Some(Box::new(handler));
        self
    }

    /// Called when something goes wrong (cannot connect, refused handshake, protocol
    /// violation, timeout); `on_close` follows.
    pub fn on_error(
        mut self,
        handler: impl Fn(&mut Socket<'_, D>, &Error) + Send + Sync + 'static,
    ) -> Self {
        self.handlers.error = Some(Box::new(handler));
        self
    }

    /// Starts connecting to a `ws://` URL; [`Runtime::run`] drives the connection. Fails
    /// at once on a malformed URL or request; a connection that cannot be made is reported
    /// to `on_error` (or, before a socket exists, left to the reconnection policy).
    pub fn connect(self, url: &str) -> Result<Runtime, Error> {
        let url = Url::parse(url)?;
        if url.is_secure() {
            return Err(crate::UsageError::InvalidUrl("wss:// needs TLS, not built in yet").into());
        }
        let mut request = ClientRequest::from_url(&url);
        for protocol in self.protocols {
            request = request.protocol(protocol);
        }
        for (name, value) in self.headers {
            request = request.header(name, value);
        }
        // Check the request now, so that a bad header is an error here, not a reconnect loop.
        crate::handshake::ClientHandshake::new(&request, &self.config)?;
        let origin = Box::new(ClientOrigin {
            url,
            request,
            reconnect: self.reconnect.clone(),
            attempt: 0,
        });
        let app = Arc::new(self.handlers);
        let config = Arc::new(self.config);
        let (shared, mut loops) = crate::runtime::new_loops(&app, &config, 1, false)?;
        let first = loops.first_mut().ok_or(Error::Closed)?;
        let connected = first.connect(origin);
        if self.reconnect.is_none() {
            connected?;
        }
        Ok(Runtime::new(
            Handle::new(shared),
            None,
            loops.into_iter().map(into_runner).collect(),
        ))
    }
}
