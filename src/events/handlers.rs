//! [`Handlers`]: the closures an application registers, and how the runtime calls them.

use crate::error::Error;
use crate::handshake::{Accept, HttpResponse, Request, UpgradeRequest};
use crate::protocol::{CloseCode, Message};
use crate::runtime::{Application, LoopState};

use super::Socket;

type OpenHandler<D> = Box<dyn Fn(&mut Socket<'_, D>) + Send + Sync>;
type MessageHandler<D> = Box<dyn Fn(&mut Socket<'_, D>, Message) + Send + Sync>;
type CloseHandler<D> = Box<dyn Fn(&mut Socket<'_, D>, CloseCode, &str) + Send + Sync>;
type ErrorHandler<D> = Box<dyn Fn(&mut Socket<'_, D>, &Error) + Send + Sync>;
type HttpHandler = Box<dyn Fn(&Request) -> HttpResponse + Send + Sync>;
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
            Some(upgrade) => upgrade(request, data),
            None => Ok(Accept::new()),
        }
    }

    fn http(&self, request: &Request) -> HttpResponse {
        match &self.http {
            Some(http) => http(request),
            None => HttpResponse::text(426, "this endpoint speaks WebSocket only")
                .header("Upgrade", "websocket"),
        }
    }

    fn open(&self, state: &mut LoopState<D>, key: usize) {
        if let Some(open) = &self.open {
            open(&mut Socket::new(state, key));
        }
    }

    fn message(&self, state: &mut LoopState<D>, key: usize, message: Message) {
        if let Some(handler) = &self.message {
            handler(&mut Socket::new(state, key), message);
        }
    }

    fn close(&self, state: &mut LoopState<D>, key: usize, code: CloseCode, reason: &str) {
        if let Some(close) = &self.close {
            close(&mut Socket::new(state, key), code, reason);
        }
    }

    fn error(&self, state: &mut LoopState<D>, key: usize, error: &Error) {
        if let Some(handler) = &self.error {
            handler(&mut Socket::new(state, key), error);
        }
    }
}
