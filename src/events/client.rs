//! [`Client`]: the same [`Handlers`] as a server, on an outgoing connection, with optional
//! automatic reconnection.

use std::sync::Arc;

use super::handlers::{App, Handlers};
use super::{Handle, Loops};
use crate::config::Config;
use crate::error::Error;
#[cfg(not(feature = "tls"))]
use crate::error::UsageError;
use crate::handshake::{ClientHandshake, ClientRequest, Url};
use crate::runtime::{ClientOrigin, Reconnect, new_loops};

/// A WebSocket client on the event loop.
///
/// ```no_run
/// use rfc6455::events::{Client, Handlers, Reconnect};
///
/// let handlers = Handlers::<()>::new()
///     .on_open(|socket| {
///         let _ = socket.send("hello");
///     })
///     .on_message(|_socket, message| println!("{:?}", message.as_text()));
/// Client::new(handlers)
///     .reconnect(Reconnect::default())
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
    #[cfg(feature = "tls")]
    tls: Option<crate::tls::TlsConnector>,
}

impl<D: Default + Send + 'static> Client<D> {
    /// A client running `handlers`, with the default [`Config`] and no reconnection.
    pub fn new(handlers: Handlers<D>) -> Self {
        Client {
            config: Config::default(),
            handlers,
            reconnect: None,
            protocols: Vec::new(),
            headers: Vec::new(),
            #[cfg(feature = "tls")]
            tls: None,
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

    /// Whom to trust for `wss://` (default: the platform's root certificates,
    /// [`TlsConnector::platform`](crate::tls::TlsConnector::platform)). A certificate that
    /// does not check out is reported to `on_error` as [`Error::Tls`].
    #[cfg(feature = "tls")]
    pub fn tls(mut self, connector: crate::tls::TlsConnector) -> Self {
        self.tls = Some(connector);
        self
    }

    /// Adds a header to the upgrade request.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Starts connecting to a `ws://` URL (or `wss://`, with the feature `tls`);
    /// [`Loops::run`] drives the connection. Fails at once on a malformed URL or request;
    /// a connection that cannot be made is reported to `on_error` (or, before a socket
    /// exists, left to the reconnection policy).
    pub fn connect(self, url: &str) -> Result<Loops, Error> {
        let url = Url::parse(url)?;
        #[cfg(not(feature = "tls"))]
        if url.is_secure() {
            return Err(UsageError::InvalidUrl("wss:// needs the feature tls").into());
        }
        let mut request = ClientRequest::from_url(&url);
        for protocol in self.protocols {
            request = request.protocol(protocol);
        }
        for (name, value) in self.headers {
            request = request.header(name, value);
        }
        // Check the request now, so that a bad header is an error here, not a reconnect loop.
        ClientHandshake::new(&request, &self.config)?;
        let origin = Box::new(ClientOrigin {
            url,
            request,
            reconnect: self.reconnect.clone(),
            attempt: 0,
            #[cfg(feature = "tls")]
            tls: self.tls,
        });
        let app = Arc::new(App::new(self.handlers));
        let config = Arc::new(self.config);
        let (shared, mut loops) = new_loops(&app, &config, 1, false)?;
        let first = loops.first_mut().ok_or(Error::Closed)?;
        let connected = first.connect(origin);
        if self.reconnect.is_none() {
            connected?;
        }
        Ok(Loops::new(Handle::new(shared), None, loops))
    }
}
