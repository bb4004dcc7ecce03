//! [`Handlers`]: the one set of closures a server and a client share (uWebSockets calls it
//! the behavior), and how the runtime calls them: each under `catch_unwind`, so that a
//! handler that panics fails only its own connection.

use std::panic::{AssertUnwindSafe, catch_unwind};

use bytes::Bytes;

use super::route::{Route, Routes, path_of};
use super::{HttpReply, Socket, Upgrade};
use crate::error::Error;
use crate::handshake::{HttpRequest, HttpResponse, UpgradeRequest};
use crate::protocol::{CloseCode, Message};
use crate::runtime::{Answer, Application, Reply, SocketRef};

type OpenHandler<D> = Box<dyn Fn(&mut Socket<'_, D>) + Send + Sync>;
type MessageHandler<D> = Box<dyn Fn(&mut Socket<'_, D>, Message) + Send + Sync>;
type PayloadHandler<D> = Box<dyn Fn(&mut Socket<'_, D>, Bytes) + Send + Sync>;
type CloseHandler<D> = Box<dyn Fn(&mut Socket<'_, D>, CloseCode, &str) + Send + Sync>;
type ErrorHandler<D> = Box<dyn Fn(&mut Socket<'_, D>, &Error) + Send + Sync>;
pub(crate) type HttpHandler = Box<dyn Fn(&HttpRequest, HttpReply) + Send + Sync>;
pub(crate) type UpgradeHandler<D> = Box<dyn Fn(&UpgradeRequest, Upgrade<D>) + Send + Sync>;

/// What happens on a connection's events, for a [`Server`](super::Server) or a
/// [`Client`](super::Client) alike. Every handler is optional.
///
/// ```no_run
/// use rfc6455::events::{Handlers, Server};
///
/// let handlers = Handlers::<()>::new()
///     .on_open(|socket| println!("{} connected", socket.id()))
///     .on_message(|socket, message| {
///         let _ = socket.send(message); // echo
///     })
///     .on_close(|socket, code, reason| println!("{} left: {code} {reason}", socket.id()));
/// Server::new(handlers).bind("127.0.0.1:9001")?.run()?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Handlers<D = ()> {
    open: Option<OpenHandler<D>>,
    message: Option<MessageHandler<D>>,
    close: Option<CloseHandler<D>>,
    error: Option<ErrorHandler<D>>,
    drain: Option<OpenHandler<D>>,
    ping: Option<PayloadHandler<D>>,
    pong: Option<PayloadHandler<D>>,
}

impl<D> Default for Handlers<D> {
    fn default() -> Self {
        Handlers {
            open: None,
            message: None,
            close: None,
            error: None,
            drain: None,
            ping: None,
            pong: None,
        }
    }
}

impl<D> std::fmt::Debug for Handlers<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handlers")
            .field("open", &self.open.is_some())
            .field("message", &self.message.is_some())
            .field("close", &self.close.is_some())
            .field("error", &self.error.is_some())
            .field("drain", &self.drain.is_some())
            .field("ping", &self.ping.is_some())
            .field("pong", &self.pong.is_some())
            .finish()
    }
}

impl<D> Handlers<D> {
    /// No handler at all.
    pub fn new() -> Self {
        Handlers::default()
    }

    /// Called when a WebSocket opens (for a client, again after each reconnection).
    pub fn on_open(mut self, handler: impl Fn(&mut Socket<'_, D>) + Send + Sync + 'static) -> Self {
        self.open = Some(Box::new(handler));
        self
    }

    /// Called for each complete message.
    pub fn on_message(
        mut self,
        handler: impl Fn(&mut Socket<'_, D>, Message) + Send + Sync + 'static,
    ) -> Self {
        self.message = Some(Box::new(handler));
        self
    }

    /// Called once when a WebSocket closes, with the peer's close code and reason, the code
    /// we failed it with, or 1006 when it ended without a close handshake (the peer went
    /// away or stopped answering). A client also hears it when a connection could not be
    /// made.
    pub fn on_close(
        mut self,
        handler: impl Fn(&mut Socket<'_, D>, CloseCode, &str) + Send + Sync + 'static,
    ) -> Self {
        self.close = Some(Box::new(handler));
        self
    }

    /// Called when something goes wrong (a protocol violation, a timeout, a full write
    /// queue, an I/O error, a refused or impossible connection); `on_close` follows.
    pub fn on_error(
        mut self,
        handler: impl Fn(&mut Socket<'_, D>, &Error) + Send + Sync + 'static,
    ) -> Self {
        self.error = Some(Box::new(handler));
        self
    }

    /// Called when the write queue, after going above
    /// [`write_buffer_low_water`](crate::Config::write_buffer_low_water) (or refusing a
    /// send), has been written down to it: the moment to send again under
    /// [`Backpressure::Refuse`](crate::Backpressure::Refuse).
    pub fn on_drain(
        mut self,
        handler: impl Fn(&mut Socket<'_, D>) + Send + Sync + 'static,
    ) -> Self {
        self.drain = Some(Box::new(handler));
        self
    }

    /// Called for each ping; the pong that answers it is already queued.
    pub fn on_ping(
        mut self,
        handler: impl Fn(&mut Socket<'_, D>, Bytes) + Send + Sync + 'static,
    ) -> Self {
        self.ping = Some(Box::new(handler));
        self
    }

    /// Called for each pong (an answer to a ping, the keep-alive's included, or
    /// unsolicited).
    pub fn on_pong(
        mut self,
        handler: impl Fn(&mut Socket<'_, D>, Bytes) + Send + Sync + 'static,
    ) -> Self {
        self.pong = Some(Box::new(handler));
        self
    }
}

/// The handlers and the server's own (upgrade, plain HTTP), with the routes mounted beside
/// them, as the runtime calls them.
pub(crate) struct App<D> {
    pub(crate) routes: Routes<D>,
    pub(crate) keep_request: bool,
}

impl<D> App<D> {
    /// An application with one set of handlers and nothing else (a client's).
    pub(crate) fn new(handlers: Handlers<D>) -> Self {
        App {
            routes: Routes::new(Route::new(handlers)),
            keep_request: false,
        }
    }

    /// The handlers of the route that accepted this socket.
    fn handlers_of(&self, socket: &SocketRef<'_, D>) -> &Handlers<D> {
        &self.routes.serving(path_of(socket.target())).handlers
    }
}

impl<D: Default + Send + 'static> Application for App<D> {
    type Data = D;

    fn keeps_request(&self) -> bool {
        self.keep_request
    }

    fn upgrade(&self, request: &UpgradeRequest, reply: Reply<Answer<D>>) {
        let upgrade = Upgrade::new(reply);
        match &self.routes.serving(request.path()).upgrade {
            // A panic drops the unanswered upgrade, which refuses it with 500.
            Some(handler) => {
                let _ = catch_unwind(AssertUnwindSafe(|| handler(request, upgrade)));
            }
            None => upgrade.accept(D::default()),
        }
    }

    fn http(&self, request: &HttpRequest, reply: Reply<HttpResponse>) {
        let reply = HttpReply::new(reply);
        match &self.routes.serving(request.path()).http {
            // A panic drops the unanswered reply, which sends 500.
            Some(handler) => {
                let _ = catch_unwind(AssertUnwindSafe(|| handler(request, reply)));
            }
            None => reply.send(
                HttpResponse::text(426, "this endpoint speaks WebSocket only")
                    .header("Upgrade", "websocket"),
            ),
        }
    }

    fn open(&self, socket: SocketRef<'_, D>) {
        let handler = self.handlers_of(&socket).open.as_deref();
        run_guarded(socket, handler, |handler, socket| {
            handler(socket);
        });
    }

    fn message(&self, socket: SocketRef<'_, D>, message: Message) {
        let handler = self.handlers_of(&socket).message.as_deref();
        run_guarded(socket, handler, |handler, socket| {
            handler(socket, message);
        });
    }

    fn ping(&self, socket: SocketRef<'_, D>, payload: Bytes) {
        let handler = self.handlers_of(&socket).ping.as_deref();
        run_guarded(socket, handler, |handler, socket| {
            handler(socket, payload);
        });
    }

    fn pong(&self, socket: SocketRef<'_, D>, payload: Bytes) {
        let handler = self.handlers_of(&socket).pong.as_deref();
        run_guarded(socket, handler, |handler, socket| {
            handler(socket, payload);
        });
    }

    fn drain(&self, socket: SocketRef<'_, D>) {
        let handler = self.handlers_of(&socket).drain.as_deref();
        run_guarded(socket, handler, |handler, socket| {
            handler(socket);
        });
    }

    fn close(&self, socket: SocketRef<'_, D>, code: CloseCode, reason: &str) {
        // The connection is over already: after a panic here there is nothing to fail.
        let handler = self.handlers_of(&socket).close.as_deref();
        run_guarded(socket, handler, |handler, socket| {
            handler(socket, code, reason);
        });
    }

    fn error(&self, socket: SocketRef<'_, D>, error: &Error) {
        let handler = self.handlers_of(&socket).error.as_deref();
        run_guarded(socket, handler, |handler, socket| {
            handler(socket, error);
        });
    }
}

/// Runs a handler, if there is one. A panic in it fails that connection with 1011
/// (internal error) instead of unwinding through the loop, which would end every
/// connection the loop holds; the panic hook has reported it (on stderr, by default).
fn run_guarded<D, H: ?Sized>(
    socket: SocketRef<'_, D>,
    handler: Option<&H>,
    call: impl FnOnce(&H, &mut Socket<'_, D>),
) {
    let Some(handler) = handler else {
        return;
    };
    let mut socket = Socket::new(socket);
    let outcome = catch_unwind(AssertUnwindSafe(|| call(handler, &mut socket)));
    if outcome.is_err() {
        let _ = socket.close(CloseCode::INTERNAL_ERROR, "handler panicked");
    }
}
