//! [`Handlers`]: the closures an application registers, and how the runtime calls them.

use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::error::Error;
use crate::handshake::{Accept, HttpRequest, HttpResponse, UpgradeRequest};
use crate::protocol::{CloseCode, Message};
use crate::runtime::{Application, LoopState};

use super::Socket;

type OpenHandler<D> = Box<dyn Fn(&mut Socket<'_, D>) + Send + Sync>;
type MessageHandler<D> = Box<dyn Fn(&mut Socket<'_, D>, Message) + Send + Sync>;
type CloseHandler<D> = Box<dyn Fn(&mut Socket<'_, D>, CloseCode, &str) + Send + Sync>;
type ErrorHandler<D> = Box<dyn Fn(&mut Socket<'_, D>, &Error) + Send + Sync>;
type HttpHandler = Box<dyn Fn(&HttpRequest) -> HttpResponse + Send + Sync>;
type UpgradeHandler<D> =
    Box<dyn Fn(&UpgradeRequest, &mut D) -> Result<Accept, HttpResponse> + Send + Sync>;

/// The application's handlers; any of them may be absent.
pub(crate) struct Handlers<D> {
    pub(crate) open: Option<OpenHandler<D>>,
    pub(crate) message: Option<MessageHandler<D>>,
    pub(crate) close: Option<CloseHandler<D>>,
    pub(crate) error: Option<ErrorHandler<D>>,
    pub(crate) http: Option<HttpHandler>,
    pub(crate) upgrade: Option<UpgradeHandler<D>>,
}

impl<D> Default for Handlers<D> {
    fn default() -> Self {
        Handlers {
            open: None,
            message: None,
            close: None,
            error: None,
            http: None,
            upgrade: None,
        }
    }
}

impl<D: Default + Send + 'static> Application for Handlers<D> {
    type Data = D;

    fn upgrade(&self, request: &UpgradeRequest, data: &mut D) -> Result<Accept, HttpResponse> {
        match &self.upgrade {
            Some(upgrade) => catch_unwind(AssertUnwindSafe(|| upgrade(request, data)))
                .unwrap_or_else(|_| Err(panicked_response())),
            None => Ok(Accept::new()),
        }
    }

    fn http(&self, request: &HttpRequest) -> HttpResponse {
        match &self.http {
            Some(http) => catch_unwind(AssertUnwindSafe(|| http(request)))
                .unwrap_or_else(|_| panicked_response()),
            None => HttpResponse::text(426, "this endpoint speaks WebSocket only")
                .header("Upgrade", "websocket"),
        }
    }

    fn open(&self, state: &mut LoopState<D>, key: usize) {
        if let Some(open) = &self.open {
            run_guarded(state, key, |socket| open(socket));
        }
    }

    fn message(&self, state: &mut LoopState<D>, key: usize, message: Message) {
        if let Some(handler) = &self.message {
            run_guarded(state, key, |socket| handler(socket, message));
        }
    }

    fn close(&self, state: &mut LoopState<D>, key: usize, code: CloseCode, reason: &str) {
        if let Some(close) = &self.close {
            // The connection is over already: after a panic here there is nothing to fail.
            run_guarded(state, key, |socket| close(socket, code, reason));
        }
    }

    fn error(&self, state: &mut LoopState<D>, key: usize, error: &Error) {
        if let Some(handler) = &self.error {
            run_guarded(state, key, |socket| handler(socket, error));
        }
    }
}

/// Runs a handler of the connection at `key`. A panic in it fails that connection with
/// 1011 (internal error) instead of unwinding through the loop, which would end every
/// connection the loop holds; the panic hook has reported it (on stderr, by default).
fn run_guarded<D>(state: &mut LoopState<D>, key: usize, handler: impl FnOnce(&mut Socket<'_, D>)) {
    let outcome = catch_unwind(AssertUnwindSafe(|| handler(&mut Socket::new(state, key))));
    if outcome.is_err() {
        let _ = state.close(key, CloseCode::INTERNAL_ERROR, "handler panicked");
    }
}

/// The answer to a request whose `on_http` or `on_upgrade` handler panicked.
fn panicked_response() -> HttpResponse {
    HttpResponse::text(500, "internal error")
}
