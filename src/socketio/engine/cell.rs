//! One session shared between threads ([`SessionCell`]): the sans-IO [`Session`] behind a
//! lock, what it decides carried out while the lock is held (answers to long-polls and
//! frames for WebSockets only queue work for a loop, so the order the session chose is the
//! order on the wire), its deadline armed on the server's timer thread, and its events
//! handed to the application in order, one at a time, outside the lock.
//!
//! The events of one session may come from several threads at once (a `POST` on one loop,
//! the WebSocket of an upgrade on another, the timer thread): whoever finds events queued
//! and nobody delivering delivers them all, so the application sees them in the order the
//! session produced them and never two at once for one session, even when a handler sends
//! or closes from inside (that only queues more for the loop already delivering).

// Input reaches this module: no indexing, unwrap, expect or panic that it could trigger.
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use crate::Message;
use crate::events::{HttpReply, SocketId};
use crate::handshake::{HttpRequest, HttpResponse};
use crate::protocol::CloseCode;
use crate::socketio::engine::connection::EngineConnection;
use crate::socketio::engine::request::{polling_headers, refusal, with_cors};
use crate::socketio::engine::server::Engine;
use crate::socketio::engine::session::{
    CloseReason, EngineSendError, EngineTransport, Output, PollAnswer, Session,
};

/// A long-polling `GET` held by a session: the reply, and the request its answer's
/// headers depend on (CORS, the user agent).
pub(crate) struct PendingGet {
    pub(crate) reply: HttpReply,
    pub(crate) request: HttpRequest,
}

/// What the application hears of a session.
enum AppEvent {
    Connection,
    Message(Message),
    Close(CloseReason),
}

struct State {
    session: Session<PendingGet, SocketId>,
    /// The deadline of this session's live entry in the timer heap.
    timer_at: Option<Instant>,
    events: VecDeque<AppEvent>,
    delivering: bool,
}

/// One session, its handshake, and the server it belongs to.
pub(crate) struct SessionCell {
    pub(crate) sid: Box<str>,
    pub(crate) request: HttpRequest,
    pub(crate) remote_addr: SocketAddr,
    pub(crate) engine: Arc<Engine>,
    state: Mutex<State>,
}

impl SessionCell {
    /// A new session; the application hears of it first, before any message.
    pub(crate) fn new(
        sid: Box<str>,
        request: HttpRequest,
        remote_addr: SocketAddr,
        engine: Arc<Engine>,
        session: Session<PendingGet, SocketId>,
    ) -> Arc<SessionCell> {
        Arc::new(SessionCell {
            sid,
            request,
            remote_addr,
            engine,
            state: Mutex::new(State {
                session,
                timer_at: None,
                events: VecDeque::from([AppEvent::Connection]),
                delivering: false,
            }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The session is plain data, left consistent between two of its calls.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `action` on the session with the time, carries out what it decided, arms its
    /// deadline and delivers its events. A frame the runtime refused is returned beside.
    ///
    /// Timers that are due run first, so that a request finds the session as its deadlines
    /// left it even when the timer thread is late (a `GET` after the ping timeout finds it
    /// closed, not open until the thread wakes).
    pub(crate) fn with<T>(
        self: &Arc<Self>,
        action: impl FnOnce(&mut Session<PendingGet, SocketId>, Instant) -> T,
    ) -> (T, Option<EngineSendError>) {
        let mut state = self.lock();
        let now = Instant::now();
        if state.session.poll_timeout().is_some_and(|due| due <= now) {
            state.session.handle_timeout(now);
        }
        let result = action(&mut state.session, now);
        let refused = self.carry_out(&mut state);
        drop(state);
        self.deliver();
        (result, refused)
    }

    /// The timer entry for `at` fired.
    pub(crate) fn fire(self: &Arc<Self>, at: Instant) {
        let mut state = self.lock();
        if state.timer_at == Some(at) {
            state.timer_at = None;
            state.session.handle_timeout(Instant::now());
        }
        self.carry_out(&mut state);
        drop(state);
        self.deliver();
    }

    pub(crate) fn transport(&self) -> EngineTransport {
        self.lock().session.transport()
    }

    pub(crate) fn is_open(&self) -> bool {
        self.lock().session.is_open()
    }

    /// The WebSocket the session is open on, if it is on one.
    pub(crate) fn websocket(&self) -> Option<SocketId> {
        self.lock().session.websocket().copied()
    }

    /// Carries out the session's decisions, under its lock (each only queues work for a
    /// loop), queues its events, and arms its deadline.
    fn carry_out(self: &Arc<Self>, state: &mut State) -> Option<EngineSendError> {
        let mut refused = None;
        while let Some(output) = state.session.poll_output() {
            match output {
                Output::Answer(get, answer) => {
                    let response = self.poll_response(&get.request, answer);
                    get.reply.send(response);
                }
                Output::Send(id, packet) => {
                    let sent = self
                        .engine
                        .handle()
                        .map(|handle| handle.send(id, packet.encode_websocket()));
                    if let Some(Err(error)) = sent {
                        refused.get_or_insert(EngineSendError::WebSocket(error.to_string()));
                    }
                }
                Output::SendAll {
                    ws,
                    packets,
                    only_if_idle,
                } => {
                    let sent = self.engine.handle().map(|handle| {
                        let messages = packets
                            .iter()
                            .map(|packet| handle.encode(packet.encode_websocket()))
                            .collect();
                        handle.send_each(vec![ws], messages, only_if_idle)
                    });
                    if let Some(Err(error)) = sent {
                        refused.get_or_insert(EngineSendError::WebSocket(error.to_string()));
                    }
                }
                Output::CloseWebSocket(id) => {
                    if let Some(handle) = self.engine.handle() {
                        // A socket gone already needs no close.
                        let _ = handle.close(id, CloseCode::NORMAL, "");
                    }
                }
                Output::Message(message) => state.events.push_back(AppEvent::Message(message)),
                Output::Closed(reason) => {
                    self.engine.forget(self);
                    state.events.push_back(AppEvent::Close(reason));
                }
            }
        }
        self.arm(state);
        refused
    }

    /// Puts the session's next deadline in the timer heap if it is earlier than its live
    /// entry (a later one is armed when the live entry fires and finds nothing due).
    fn arm(self: &Arc<Self>, state: &mut State) {
        let Some(next) = state.session.poll_timeout() else {
            return;
        };
        if state.timer_at.is_some_and(|at| at <= next) {
            return;
        }
        state.timer_at = Some(next);
        self.engine.timers.schedule(next, self);
    }

    /// The HTTP response for a long-poll's answer.
    fn poll_response(&self, request: &HttpRequest, answer: PollAnswer) -> HttpResponse {
        let response = match answer {
            PollAnswer::Payload(payload) => polling_headers(
                request,
                HttpResponse::new(200)
                    .header("Content-Type", "text/plain; charset=UTF-8")
                    .body(payload),
            ),
            PollAnswer::Overlap => HttpResponse::new(400),
            PollAnswer::Refused(code) => refusal(code, None),
        };
        with_cors(self.engine.config.cors.as_ref(), request, response)
    }

    /// Hands the queued events to the application, unless another call is doing it.
    fn deliver(self: &Arc<Self>) {
        let mut batch = {
            let mut state = self.lock();
            if state.delivering || state.events.is_empty() {
                return;
            }
            state.delivering = true;
            std::mem::take(&mut state.events)
        };
        let connection = EngineConnection::new(self.clone());
        loop {
            for event in batch.drain(..) {
                self.dispatch(&connection, event);
            }
            let mut state = self.lock();
            if state.events.is_empty() {
                state.delivering = false;
                return;
            }
            batch = std::mem::take(&mut state.events);
        }
    }

    /// Calls the application's handler for one event. A handler that panics closes its
    /// session (the panic hook has reported it); the server goes on.
    fn dispatch(&self, connection: &EngineConnection, event: AppEvent) {
        let handlers = &self.engine.handlers;
        let outcome = catch_unwind(AssertUnwindSafe(|| match event {
            AppEvent::Connection => {
                if let Some(handler) = &handlers.connection {
                    handler(connection);
                }
            }
            AppEvent::Message(message) => {
                if let Some(handler) = &handlers.message {
                    handler(connection, message);
                }
            }
            AppEvent::Close(reason) => {
                if let Some(handler) = &handlers.close {
                    handler(connection, reason);
                }
            }
        }));
        if outcome.is_err() {
            connection.close();
        }
    }
}
