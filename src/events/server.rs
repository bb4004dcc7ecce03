//! [`Server`]: handlers and a [`Config`], bound to an address.

use std::net::ToSocketAddrs;
use std::sync::Arc;

use crate::config::Config;
use crate::error::Error;
use crate::handshake::{Accept, HttpRequest, HttpResponse, UpgradeRequest};
use crate::protocol::{CloseCode, Message};
use crate::runtime::{EventLoop, Listener};

use super::handlers::Handlers;
use super::{Handle, Runtime, Socket};

/// A WebSocket server: register handlers, bind, run.
///
/// `D` is the data each connection carries (`socket.data()`), created with `Default` and
/// filled where it suits: in `on_upgrade` from the request, or in `on_open`.
///
/// ```no_run
/// use rfc6455::events::Server;
///
/// Server::<()>::new()
///     .on_open(|socket| println!("{} connected", socket.id()))
///     .on_message(|socket, message| {
///         let _ = socket.send(message); // echo
///     })
///     .on_close(|socket, code, reason| println!("{} left: {code} {reason}", socket.id()))
///     .bind("127.0.0.1:9001")?
///     .run()?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Server<D = ()> {
    config: Config,
    workers: usize,
    handlers: Handlers<D>,
}

impl<D: Default + Send + 'static> Default for Server<D> {
    fn default() -> Self {
        Self::new()
    }
}

impl<D: Default + Send + 'static> Server<D> {
    /// A server with the default [`Config`], one worker and no handler.
    pub fn new() -> Self {
        Server {
            config: Config::default(),
            workers: 1,
            handlers: Handlers::default(),
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

    /// Called when a WebSocket opens.
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

    /// Called once when a WebSocket closes, with the peer's close code and reason, the code
    /// we failed it with, or 1006 when it ended without a close frame.
    pub fn on_close(
        mut self,
        handler: impl Fn(&mut Socket<'_, D>, CloseCode, &str) + Send + Sync + 'static,
    ) -> Self {
        self.handlers.close = Some(Box::new(handler));
        self
    }

    /// Called when something goes wrong (a protocol violation, a timeout, a full write
    /// queue, an I/O error); `on_close` follows.
    pub fn on_error(
        mut self,
        handler: impl Fn(&mut Socket<'_, D>, &Error) + Send + Sync + 'static,
    ) -> Self {
        self.handlers.error = Some(Box::new(handler));
        self
    }

    /// Answers plain HTTP requests on the same port (without it: 426 Upgrade Required).
    pub fn on_http(
        mut self,
        handler: impl Fn(&HttpRequest) -> HttpResponse + Send + Sync + 'static,
    ) -> Self {
        self.handlers.http = Some(Box::new(handler));
        self
    }

    /// Decides on each upgrade: accept it (choosing a subprotocol, adding headers, filling
    /// the connection's data) or refuse it with a response (403, 404...). Without it every
    /// valid upgrade is accepted with no subprotocol.
    pub fn on_upgrade(
        mut self,
        handler: impl Fn(&UpgradeRequest, &mut D) -> Result<Accept, HttpResponse>
        + Send
        + Sync
        + 'static,
    ) -> Self {
        self.handlers.upgrade = Some(Box::new(handler));
        self
    }

    /// Binds the address and builds the loops; [`Runtime::run`] starts them.
    pub fn bind(self, address: impl ToSocketAddrs) -> std::io::Result<Runtime> {
        // mio's listener: SO_REUSEADDR and a backlog of 1024 (std's is 128, short for a
        // burst of connections).
        let mut last_error = std::io::Error::from(std::io::ErrorKind::AddrNotAvailable);
        let mut bound = None;
        for address in address.to_socket_addrs()? {
            match mio::net::TcpListener::bind(address) {
                Ok(listener) => {
                    bound = Some(listener);
                    break;
                }
                Err(error) => last_error = error,
            }
        }
        let listener = bound.ok_or(last_error)?;
        let local_addr = listener.local_addr()?;
        let app = Arc::new(self.handlers);
        let config = Arc::new(self.config);
        let (shared, mut loops) = crate::runtime::new_loops(&app, &config, self.workers, true)?;
        if let Some(first) = loops.first_mut() {
            first.listen(Listener { socket: listener })?;
        }
        Ok(Runtime::new(
            Handle::new(shared),
            Some(local_addr),
            loops.into_iter().map(into_runner).collect(),
        ))
    }
}

pub(crate) fn into_runner<A: crate::runtime::Application>(
    event_loop: EventLoop<A>,
) -> Box<dyn FnOnce() -> std::io::Result<()> + Send> {
    Box::new(move || event_loop.run())
}
