//! [`Server`]: [`Handlers`], the server's own decisions (upgrades, plain HTTP) and a
//! [`Config`], bound to an address.

use std::net::ToSocketAddrs;
use std::sync::Arc;

use super::handlers::{App, Handlers};
use super::{Handle, HttpReply, Loops, Route, Upgrade};
use crate::config::Config;
use crate::handshake::{HttpRequest, HttpResponse, UpgradeRequest};
use crate::runtime::{Security, new_loops};

/// A WebSocket server: handlers, bind, run.
///
/// `D` is the data each connection carries (`socket.data()`): what `on_upgrade` accepts
/// it with, `D::default()` without an `on_upgrade`.
///
/// ```no_run
/// use rfc6455::events::{Handlers, Server};
///
/// let handlers = Handlers::<()>::new().on_message(|socket, message| {
///     let _ = socket.send(message); // echo
/// });
/// Server::new(handlers).workers(2).bind("127.0.0.1:9001")?.run()?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Server<D = ()> {
    config: Config,
    workers: usize,
    app: App<D>,
}

impl<D: Default + Send + 'static> Server<D> {
    /// A server running `handlers`, with the default [`Config`] and one worker.
    pub fn new(handlers: Handlers<D>) -> Self {
        Server {
            config: Config::default(),
            workers: 1,
            app: App::new(handlers),
        }
    }

    /// Sets the limits and timeouts.
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Runs `workers` event loops, on as many threads; accepted connections are handed to
    /// them in turn. Default 1.
    pub fn workers(mut self, workers: usize) -> Self {
        self.workers = workers.max(1);
        self
    }

    /// Answers plain HTTP requests on the same port (without it: 426 Upgrade Required).
    /// The request's body is read first ([`HttpRequest::body`]: `Content-Length` or
    /// chunked, at most [`Config::max_http_body`], else 413); HTTP/1.1 connections stay
    /// open for the next request (keep-alive, pipelining included) unless the client sends
    /// `Connection: close`, and may upgrade to a WebSocket later. The wait for each request
    /// head and body is bounded by `handshake_timeout`.
    pub fn on_http(
        self,
        handler: impl Fn(&HttpRequest) -> HttpResponse + Send + Sync + 'static,
    ) -> Self {
        self.on_http_reply(move |request, reply| reply.send(handler(request)))
    }

    /// Answers plain HTTP requests as [`on_http`](Self::on_http) does, through an
    /// [`HttpReply`] that may be sent later from another thread (a long-poll held open
    /// until there is news, for up to [`Config::http_answer_timeout`]).
    pub fn on_http_reply(
        mut self,
        handler: impl Fn(&HttpRequest, HttpReply) + Send + Sync + 'static,
    ) -> Self {
        self.app.routes.fallback.http = Some(Box::new(handler));
        self
    }

    /// Decides on each upgrade: accept it (choosing a subprotocol, adding headers, giving
    /// the connection its data) or refuse it with a response (401, 403, 404...), at once or
    /// later from another thread (see [`Upgrade`]). Without it every valid upgrade is
    /// accepted with no subprotocol and `D::default()`.
    pub fn on_upgrade(
        mut self,
        handler: impl Fn(&UpgradeRequest, Upgrade<D>) + Send + Sync + 'static,
    ) -> Self {
        self.app.routes.fallback.upgrade = Some(Box::new(handler));
        self
    }

    /// Mounts `route` at `prefix`: the plain HTTP requests and upgrades whose path starts
    /// with it (the longest matching prefix wins), and the WebSockets it accepts, are its
    /// own; every other path is the server's (see [`Route`]). Engine.IO mounts itself this
    /// way (feature `socketio`).
    pub fn route(mut self, prefix: impl Into<String>, route: Route<D>) -> Self {
        let prefix: Box<str> = prefix.into().into_boxed_str();
        self.app
            .routes
            .mounted
            .retain(|(mounted, _)| *mounted != prefix);
        self.app.routes.mounted.push((prefix, route));
        self
    }

    /// Keeps each socket's upgrade request (every header: cookies, `X-Forwarded-For`, a
    /// token) for its lifetime, at [`Socket::request`](super::Socket::request). Off by
    /// default: it costs the request head's bytes per connection (a browser's is 400 to
    /// 700 bytes), more than an idle connection's own memory.
    pub fn keep_request(mut self, keep: bool) -> Self {
        self.app.keep_request = keep;
        self
    }

    /// Binds the address (`ws://`) and builds the loops; [`Loops::run`] starts them.
    /// [`Loops::listen`] and [`Loops::listen_tls`] add more listeners.
    pub fn bind(self, address: impl ToSocketAddrs) -> std::io::Result<Loops> {
        self.bind_with(address, Security::default())
    }

    /// Binds the address for `wss://`: every connection accepted there runs TLS with
    /// `tls` (inside the loops, with the same write-queue bound and timers; a TLS
    /// handshake that does not finish within `handshake_timeout` is cut).
    #[cfg(feature = "tls")]
    pub fn bind_tls(
        self,
        address: impl ToSocketAddrs,
        tls: crate::tls::TlsAcceptor,
    ) -> std::io::Result<Loops> {
        self.bind_with(address, Security::tls(tls))
    }

    fn bind_with(self, address: impl ToSocketAddrs, security: Security) -> std::io::Result<Loops> {
        let listener = bind_listener(address)?;
        let local_addr = listener.local_addr()?;
        let app = Arc::new(self.app);
        let config = Arc::new(self.config);
        let (shared, mut loops) = new_loops(&app, &config, self.workers, true)?;
        if let Some(first) = loops.first_mut() {
            first.listen(listener, security)?;
        }
        Ok(Loops::new(Handle::new(shared), Some(local_addr), loops))
    }
}

/// Binds the first of the addresses that works, with mio's listener: SO_REUSEADDR and a
/// backlog of 1024 (std's is 128, short for a burst of connections).
pub(super) fn bind_listener(address: impl ToSocketAddrs) -> std::io::Result<mio::net::TcpListener> {
    let mut last_error = std::io::Error::from(std::io::ErrorKind::AddrNotAvailable);
    for address in address.to_socket_addrs()? {
        match mio::net::TcpListener::bind(address) {
            Ok(listener) => return Ok(listener),
            Err(error) => last_error = error,
        }
    }
    Err(last_error)
}
