//! The answer to an upgrade request or a plain HTTP request, which the application may give
//! at once or later, from any thread: a [`Reply`] (held by the application) and the loop's side of it, sharing one
//! cell. A reply given while the handler runs is taken by the loop when the handler returns;
//! one given later is stored and the loop is woken to take it. A reply dropped unanswered
//! refuses the upgrade with 500, so a forgotten one cannot hold a connection open (the
//! handshake timeout bounds the wait either way).

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::commands::{Command, Shared, SocketId};
use crate::handshake::{Accept, HttpResponse};

/// What the application decided.
pub(crate) enum Answer<D> {
    /// Open the WebSocket (upgrades only).
    Accept(Accept, D),
    /// Send this response: an upgrade's refusal, or a plain request's answer.
    Respond(HttpResponse),
}

enum State<D> {
    /// The upgrade handler is running: an answer given now is taken when it returns.
    InHandler,
    /// The handler returned without answering: an answer given now wakes the loop.
    Deferred,
    Answered(Answer<D>),
    /// The loop took the answer.
    Taken,
}

struct Cell<D> {
    state: Mutex<State<D>>,
}

impl<D> Cell<D> {
    /// The state; a panic elsewhere while it was held leaves it usable (it is plain data).
    fn lock(&self) -> MutexGuard<'_, State<D>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The application's side: answer once, now or later, from any thread.
pub(crate) struct Reply<D> {
    cell: Arc<Cell<D>>,
    shared: Arc<Shared>,
    id: SocketId,
    answered: bool,
}

/// The loop's side.
pub(crate) struct Awaiting<D> {
    cell: Arc<Cell<D>>,
}

impl<D: Send + 'static> Reply<D> {
    /// A reply for connection `id` and the loop's side of it.
    pub(crate) fn new(shared: Arc<Shared>, id: SocketId) -> (Reply<D>, Awaiting<D>) {
        let cell = Arc::new(Cell {
            state: Mutex::new(State::InHandler),
        });
        let awaiting = Awaiting { cell: cell.clone() };
        let reply = Reply {
            cell,
            shared,
            id,
            answered: false,
        };
        (reply, awaiting)
    }

    pub(crate) fn answer(mut self, answer: Answer<D>) {
        self.answered = true;
        self.store(answer);
    }
}

impl<D> Reply<D> {
    /// Stores the answer, and wakes the loop if its handler has returned already.
    fn store(&self, answer: Answer<D>) {
        let mut state = self.cell.lock();
        let wake = matches!(*state, State::Deferred);
        *state = State::Answered(answer);
        drop(state);
        if wake {
            // A loop that is gone has dropped the connection already: nothing to answer.
            let _ = self.shared.send_to(self.id, Command::Answered(self.id));
        }
    }
}

impl<D> std::fmt::Debug for Reply<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reply").field("id", &self.id).finish()
    }
}

impl<D> Drop for Reply<D> {
    fn drop(&mut self) {
        if !self.answered {
            let refusal = HttpResponse::text(500, "the request was not answered");
            self.store(Answer::Respond(refusal));
        }
    }
}

impl<D> Awaiting<D> {
    /// Called when the handler returns: the answer if it was given, else `None` (the
    /// reply is now deferred: its answer will come with [`Command::Answered`]).
    pub(crate) fn after_handler(&self) -> Option<Answer<D>> {
        let mut state = self.cell.lock();
        match std::mem::replace(&mut *state, State::Taken) {
            State::Answered(answer) => Some(answer),
            State::InHandler | State::Deferred => {
                *state = State::Deferred;
                None
            }
            State::Taken => None,
        }
    }

    /// Called on [`Command::Answered`]: the answer, if it is there and was not taken.
    pub(crate) fn take(&self) -> Option<Answer<D>> {
        let mut state = self.cell.lock();
        match std::mem::replace(&mut *state, State::Taken) {
            State::Answered(answer) => Some(answer),
            other => {
                *state = other;
                None
            }
        }
    }
}

impl<D> std::fmt::Debug for Awaiting<D> {
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
        });
        (shared, commands, poll)
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
        let (reply, awaiting) = Reply::<u8>::new(shared, SocketId::new(0, 1, 0));
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
        let (reply, awaiting) = Reply::<u8>::new(shared, id);
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
        let (reply, awaiting) = Reply::<u8>::new(shared, SocketId::new(0, 1, 0));
        assert!(awaiting.after_handler().is_none());
        drop(reply);
        assert!(matches!(commands.try_recv(), Ok(Command::Answered(_))));
        match awaiting.take() {
            Some(Answer::Respond(response)) => assert_eq!(response.status(), 500),
            _ => panic!("not refused"),
        }
    }
}
