//! The answer to an upgrade request ([`Answer`]) or to a plain HTTP request (an
//! `HttpResponse`), which the application may give at once or later, from any thread: a
//! [`Reply`] (held by the application) and the loop's side of it, sharing one cell. A reply
//! given while the handler runs is taken by the loop when the handler returns; one given
//! later is stored and the loop is woken to take it. A reply dropped unanswered answers
//! with 500, so a forgotten one cannot hold a connection open (a timeout bounds the wait
//! either way). A request whose connection goes away before its answer (the peer left,
//! the timeout passed, the loop stopped) is cancelled: the reply's holder may ask to hear
//! of it ([`Reply::on_cancel`]).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::commands::{Command, Shared, SocketId};
use crate::handshake::{Accept, HttpResponse};

/// What the application decided about an upgrade.
pub(crate) enum Answer<D> {
    /// Open the WebSocket, with the connection's data.
    Accept(Accept, D),
    /// Refuse it with this response.
    Refuse(HttpResponse),
}

/// What a reply dropped without an answer answers.
pub(crate) trait Unanswered {
    fn unanswered() -> Self;
}

impl Unanswered for HttpResponse {
    fn unanswered() -> Self {
        HttpResponse::text(500, "the request was not answered")
    }
}

impl<D> Unanswered for Answer<D> {
    fn unanswered() -> Self {
        Answer::Refuse(HttpResponse::unanswered())
    }
}

enum State<T> {
    /// The handler is running: an answer given now is taken when it returns.
    InHandler,
    /// The handler returned without answering: an answer given now wakes the loop.
    Deferred,
    Answered(T),
    /// The loop took the answer.
    Taken,
    /// The connection went away before an answer came: none will be taken.
    Cancelled,
}

/// What the reply's holder asked to run if the request is cancelled.
type CancelHook = Box<dyn FnOnce() + Send>;

struct Inner<T> {
    state: State<T>,
    on_cancel: Option<CancelHook>,
}

struct Cell<T> {
    inner: Mutex<Inner<T>>,
}

impl<T> Cell<T> {
    /// The state; a panic elsewhere while it was held leaves it usable (it is plain data).
    fn lock(&self) -> MutexGuard<'_, Inner<T>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The application's side: answer once, now or later, from any thread.
pub(crate) struct Reply<T: Unanswered> {
    cell: Arc<Cell<T>>,
    shared: Arc<Shared>,
    id: SocketId,
    peer: SocketAddr,
    answered: bool,
}

/// The loop's side.
pub(crate) struct Awaiting<T> {
    cell: Arc<Cell<T>>,
}

impl<T: Unanswered + Send + 'static> Reply<T> {
    /// A reply for connection `id` (whose peer is `peer`) and the loop's side of it.
    pub(crate) fn new(
        shared: Arc<Shared>,
        id: SocketId,
        peer: SocketAddr,
    ) -> (Reply<T>, Awaiting<T>) {
        let cell = Arc::new(Cell {
            inner: Mutex::new(Inner {
                state: State::InHandler,
                on_cancel: None,
            }),
        });
        let awaiting = Awaiting { cell: cell.clone() };
        let reply = Reply {
            cell,
            shared,
            id,
            peer,
            answered: false,
        };
        (reply, awaiting)
    }

    pub(crate) fn answer(mut self, answer: T) {
        self.answered = true;
        self.store(answer);
    }
}

impl<T: Unanswered> Reply<T> {
    /// The connection this reply answers.
    pub(crate) fn id(&self) -> SocketId {
        self.id
    }

    /// The address of the connection's peer.
    pub(crate) fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// Runs `hook` once if the request is cancelled before it is answered (its connection
    /// went away): at once if it was already, else on the loop's thread when it happens.
    pub(crate) fn on_cancel(&self, hook: impl FnOnce() + Send + 'static) {
        let mut inner = self.cell.lock();
        if matches!(inner.state, State::Cancelled) {
            drop(inner);
            hook();
        } else {
            inner.on_cancel = Some(Box::new(hook));
        }
    }

    /// Stores the answer, and wakes the loop if its handler has returned already.
    fn store(&self, answer: T) {
        let mut inner = self.cell.lock();
        let wake = match inner.state {
            State::Deferred => true,
            State::InHandler => false,
            // Nobody will take it: the connection is gone, or it was answered already.
            State::Answered(_) | State::Taken | State::Cancelled => return,
        };
        inner.state = State::Answered(answer);
        inner.on_cancel = None;
        drop(inner);
        if wake {
            // A loop that is gone has dropped the connection already: nothing to answer.
            let _ = self.shared.send_to(self.id, Command::Answered(self.id));
        }
    }
}

impl<T: Unanswered> std::fmt::Debug for Reply<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reply").field("id", &self.id).finish()
    }
}

impl<T: Unanswered> Drop for Reply<T> {
    fn drop(&mut self) {
        if !self.answered {
            self.store(T::unanswered());
        }
    }
}

impl<T> Awaiting<T> {
    /// Called when the handler returns: the answer if it was given, else `None` (the
    /// reply is now deferred: its answer will come with [`Command::Answered`]).
    pub(crate) fn after_handler(&self) -> Option<T> {
        let mut inner = self.cell.lock();
        match std::mem::replace(&mut inner.state, State::Taken) {
            State::Answered(answer) => Some(answer),
            State::InHandler | State::Deferred => {
                inner.state = State::Deferred;
                None
            }
            State::Taken | State::Cancelled => None,
        }
    }

    /// Called on [`Command::Answered`]: the answer, if it is there and was not taken.
    pub(crate) fn take(&self) -> Option<T> {
        let mut inner = self.cell.lock();
        match std::mem::replace(&mut inner.state, State::Taken) {
            State::Answered(answer) => Some(answer),
            other => {
                inner.state = other;
                None
            }
        }
    }
}

impl<T> Drop for Awaiting<T> {
    /// The connection is gone: a request still waiting for its answer is cancelled, and
    /// the reply's holder hears of it if it asked to.
    fn drop(&mut self) {
        let mut inner = self.cell.lock();
        if !matches!(inner.state, State::InHandler | State::Deferred) {
            return;
        }
        inner.state = State::Cancelled;
        let hook = inner.on_cancel.take();
        drop(inner);
        if let Some(hook) = hook {
            hook();
        }
    }
}

impl<T> std::fmt::Debug for Awaiting<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Awaiting")
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc::Receiver;

    use super::*;
    use crate::Config;

    /// A one-loop `Shared` whose channel the test reads.
    fn shared() -> (Arc<Shared>, Receiver<Command>, mio::Poll) {
        let poll = mio::Poll::new().unwrap();
        let (remote, commands) =
            super::super::commands::Remote::new(poll.registry(), mio::Token(0), 1 << 20).unwrap();
        let shared = Arc::new(Shared {
            remotes: vec![remote],
            shutting_down: Default::default(),
            config: Arc::new(Config::default()),
            fanout: std::sync::OnceLock::new(),
        });
        (shared, commands, poll)
    }

    fn peer() -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 9))
    }

    fn accepted(answer: Option<Answer<u8>>) -> Option<u8> {
        match answer {
            Some(Answer::Accept(_, data)) => Some(data),
            _ => None,
        }
    }

    #[test]
    fn an_answer_given_in_the_handler_is_taken_when_it_returns_without_waking_the_loop() {
        let (shared, commands, _poll) = shared();
        let (reply, awaiting) = Reply::<Answer<u8>>::new(shared, SocketId::new(0, 1, 0), peer());
        reply.answer(Answer::Accept(Accept::new(), 7));
        assert_eq!(accepted(awaiting.after_handler()), Some(7));
        assert!(
            commands.try_recv().is_err(),
            "no command for an answer given at once"
        );
        assert!(awaiting.take().is_none(), "taken once");
    }

    #[test]
    fn an_answer_given_later_wakes_the_loop_which_takes_it() {
        let (shared, commands, _poll) = shared();
        let id = SocketId::new(0, 1, 0);
        let (reply, awaiting) = Reply::<Answer<u8>>::new(shared, id, peer());
        assert!(awaiting.after_handler().is_none(), "deferred");
        std::thread::spawn(move || reply.answer(Answer::Accept(Accept::new(), 9)))
            .join()
            .unwrap();
        assert!(matches!(commands.try_recv(), Ok(Command::Answered(woken)) if woken == id));
        assert_eq!(accepted(awaiting.take()), Some(9));
    }

    #[test]
    fn a_reply_dropped_unanswered_refuses_with_500() {
        let (shared, commands, _poll) = shared();
        let (reply, awaiting) = Reply::<Answer<u8>>::new(shared, SocketId::new(0, 1, 0), peer());
        assert!(awaiting.after_handler().is_none());
        drop(reply);
        assert!(matches!(commands.try_recv(), Ok(Command::Answered(_))));
        match awaiting.take() {
            Some(Answer::Refuse(response)) => assert_eq!(response.status(), 500),
            _ => panic!("not refused"),
        }
    }

    #[test]
    fn a_request_whose_connection_goes_away_unanswered_is_cancelled_once() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let (shared, commands, _poll) = shared();
        let (reply, awaiting) = Reply::<HttpResponse>::new(shared, SocketId::new(0, 1, 0), peer());
        assert!(awaiting.after_handler().is_none(), "deferred");
        let cancelled = Arc::new(AtomicUsize::new(0));
        let counter = cancelled.clone();
        reply.on_cancel(move || {
            counter.fetch_add(1, Ordering::SeqCst);
        });
        drop(awaiting); // the loop dropped the connection
        assert_eq!(cancelled.load(Ordering::SeqCst), 1);
        // A hook given after the cancellation runs at once; the late answer goes nowhere.
        let counter = cancelled.clone();
        reply.on_cancel(move || {
            counter.fetch_add(1, Ordering::SeqCst);
        });
        assert_eq!(cancelled.load(Ordering::SeqCst), 2);
        reply.answer(HttpResponse::new(200));
        assert!(commands.try_recv().is_err(), "no loop to wake");
    }

    #[test]
    fn an_answered_or_taken_request_is_not_cancelled() {
        use std::sync::atomic::{AtomicBool, Ordering};
        let (shared, _commands, _poll) = shared();
        let (reply, awaiting) = Reply::<HttpResponse>::new(shared, SocketId::new(0, 1, 0), peer());
        let cancelled = Arc::new(AtomicBool::new(false));
        let flag = cancelled.clone();
        reply.on_cancel(move || flag.store(true, Ordering::SeqCst));
        reply.answer(HttpResponse::new(200));
        assert!(awaiting.after_handler().is_some());
        drop(awaiting);
        assert!(!cancelled.load(Ordering::SeqCst));
    }
}
