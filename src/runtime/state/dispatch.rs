//! Calling the application: what a connection's reads, writes, deadlines and answers came
//! to, turned into `upgrade`, `open`, `message`, `ping`, `pong`, `drain`, `error` and
//! `close`, in the order they happened, each exactly once.

use std::time::Instant;

use super::{LoopState, SocketRef};
use crate::error::{Error, Timeout};
use crate::handshake::{HttpRequest, HttpResponse, Incoming, UpgradeRequest};
use crate::protocol::{CloseCode, Event};
use crate::runtime::Application;
use crate::runtime::answer::{Answer, Reply};
use crate::runtime::commands::SocketId;
use crate::runtime::conn::{Answered, Conn, Deadline, Readable};
use crate::runtime::timers::Target;

/// Most reads from one socket between two polls, so that a peer that sends faster than the
/// loop handles its messages cannot keep the loop from the other sockets.
const READS_PER_TURN: usize = 16;

impl<D: Default + Send + 'static> LoopState<D> {
    /// Reads a readable socket, at most [`READS_PER_TURN`] times; returns true if data may
    /// be left, so it must be read again next turn (an edge-triggered poll will not say).
    pub(crate) fn readable<A>(&mut self, app: &A, key: usize, to_the_end: bool) -> bool
    where
        A: Application<Data = D>,
    {
        for _ in 0..READS_PER_TURN {
            let now = self.now;
            let Some(conn) = self.conns.get_mut(key) else {
                return false;
            };
            match conn.on_readable(&mut self.reader, now, to_the_end) {
                Readable::Blocked => return false,
                Readable::More => {}
                Readable::Frames { lease, drained } => {
                    self.dispatch(app, key);
                    let connection = self.conns.get_mut(key).and_then(Conn::connection_mut);
                    self.reader.settle(connection, lease);
                    if drained {
                        return false;
                    }
                }
                Readable::Request(incoming) => self.answer_request(app, key, incoming),
                Readable::Http(request) => self.answer_http(app, key, request),
                Readable::Opened => self.opened(app, key),
                Readable::Lost(error) => {
                    self.lost(app, key, error);
                    return false;
                }
                Readable::Gone => {
                    self.remove(key);
                    return false;
                }
            }
        }
        true
    }

    /// A plain HTTP request arrived, body and all: the application answers; with HTTP/1.1
    /// keep-alive the connection then waits for the next request.
    fn answer_http<A>(&mut self, app: &A, key: usize, request: HttpRequest)
    where
        A: Application<Data = D>,
    {
        let Some(conn) = self.conns.get(key) else {
            return;
        };
        let (reply, awaiting) = Reply::new(self.shared.clone(), conn.id(), conn.peer());
        app.http(&request, reply);
        match awaiting.after_handler() {
            Some(answer) => self.apply_http_answer(key, &request, answer),
            None => {
                let now = self.now;
                if let Some(conn) = self.conns.get_mut(key) {
                    conn.await_http_answer(Box::new(request), awaiting, now);
                }
                self.arm(key);
            }
        }
    }

    /// Sends the application's answer to a plain HTTP request; with HTTP/1.1 keep-alive
    /// the connection then waits for the next request.
    fn apply_http_answer(&mut self, key: usize, request: &HttpRequest, response: HttpResponse) {
        let keep_alive = request.keeps_alive() && !self.stopping;
        let now = self.now;
        if let Some(conn) = self.conns.get_mut(key) {
            conn.respond_http(&response, keep_alive, now);
        }
        self.mark_dirty(key);
    }

    /// A socket is writable: what is pending goes out at the end of this event.
    pub(crate) fn writable<A>(&mut self, app: &A, key: usize)
    where
        A: Application<Data = D>,
    {
        let now = self.now;
        let Some(conn) = self.conns.get_mut(key) else {
            return;
        };
        match conn.on_writable(now) {
            Ok(()) => self.mark_dirty(key),
            Err(error) => self.lost(app, key, Some(error.into())),
        }
    }

    /// A request head arrived: plain HTTP is answered at once; an upgrade is the
    /// application's to accept or refuse, now or later.
    fn answer_request<A>(&mut self, app: &A, key: usize, incoming: Incoming)
    where
        A: Application<Data = D>,
    {
        let now = self.now;
        let upgrade = match incoming {
            Incoming::Upgrade(upgrade) => upgrade,
            Incoming::Http(request) => {
                // Its body first (it may have come with the head).
                let config = self.config.clone();
                let complete = self
                    .conns
                    .get_mut(key)
                    .and_then(|conn| conn.read_body(request, &config, now));
                match complete {
                    Some(request) => self.answer_http(app, key, request),
                    None => self.mark_dirty(key),
                }
                return;
            }
        };
        let Some(conn) = self.conns.get(key) else {
            return;
        };
        let (reply, awaiting) = Reply::new(self.shared.clone(), conn.id(), conn.peer());
        app.upgrade(&upgrade, reply);
        match awaiting.after_handler() {
            Some(answer) => {
                self.apply_answer(app, key, &upgrade, answer);
            }
            None => {
                if let Some(conn) = self.conns.get_mut(key) {
                    conn.await_answer(Box::new(upgrade), awaiting);
                }
            }
        }
    }

    /// The application answered the deferred upgrade of `id`; returns the socket's key if
    /// it opened (the socket must then be read: bytes may have come while it waited).
    pub(crate) fn answered<A>(&mut self, app: &A, id: SocketId) -> Option<usize>
    where
        A: Application<Data = D>,
    {
        let key = self.key_of(id)?;
        match self.conns.get_mut(key)?.take_answer()? {
            Answered::Upgrade(request, answer) => {
                self.apply_answer(app, key, &request, answer).then_some(key)
            }
            Answered::Http(request, answer) => {
                self.apply_http_answer(key, &request, answer);
                None
            }
        }
    }

    fn apply_answer<A>(
        &mut self,
        app: &A,
        key: usize,
        request: &UpgradeRequest,
        answer: Answer<D>,
    ) -> bool
    where
        A: Application<Data = D>,
    {
        let now = self.now;
        let Some(conn) = self.conns.get_mut(key) else {
            return false;
        };
        let opened = conn.apply_answer(
            request,
            answer,
            &self.config,
            self.keep_request,
            &mut self.write_buffer,
            now,
        );
        self.mark_dirty(key);
        if opened {
            self.opened(app, key);
        }
        opened
    }

    /// The WebSocket opened (either side).
    fn opened<A>(&mut self, app: &A, key: usize)
    where
        A: Application<Data = D>,
    {
        self.lend_write_buffer(key);
        app.open(SocketRef::new(self, key));
        self.process_failures(app);
        // Frames may have arrived with the handshake.
        self.dispatch(app, key);
    }

    /// Lends the loop's write buffer to the connection and lists it to be written.
    fn lend_write_buffer(&mut self, key: usize) {
        if let Some(conn) = self.conns.get_mut(key) {
            conn.lend_write_buffer(&mut self.write_buffer);
        }
        self.mark_dirty(key);
    }

    /// Turns the WebSocket's events into handler calls.
    pub(crate) fn dispatch<A>(&mut self, app: &A, key: usize)
    where
        A: Application<Data = D>,
    {
        self.lend_write_buffer(key);
        loop {
            let Some(event) = self.conns.get_mut(key).and_then(Conn::next_event) else {
                return;
            };
            match event {
                Ok(Event::Message(message)) => app.message(SocketRef::new(self, key), message),
                Ok(Event::Ping(payload)) => app.ping(SocketRef::new(self, key), payload),
                Ok(Event::Pong(payload)) => app.pong(SocketRef::new(self, key), payload),
                Ok(Event::Close(frame)) => return self.finish(app, key, frame.code, &frame.reason),
                Err(error) => return self.failed(app, key, error),
            }
            self.process_failures(app);
        }
    }

    /// The WebSocket failed: the peer broke a rule or crossed a limit (its close frame is
    /// queued), or stopped answering (then it is dropped after a last write, and
    /// `on_close` gets 1006: no close handshake completed).
    fn failed<A>(&mut self, app: &A, key: usize, error: Error)
    where
        A: Application<Data = D>,
    {
        app.error(SocketRef::new(self, key), &error);
        if let Error::Timeout(_) = error {
            self.finish(app, key, CloseCode::ABNORMAL, &error.to_string());
            if let Some(conn) = self.conns.get_mut(key) {
                conn.write_what_it_can();
            }
            return self.remove(key);
        }
        let code = error.close_code().unwrap_or(CloseCode::PROTOCOL_ERROR);
        self.finish(app, key, code, &error.to_string());
    }

    /// Reports the end of the WebSocket, once, and leaves its rooms.
    fn finish<A>(&mut self, app: &A, key: usize, code: CloseCode, reason: &str)
    where
        A: Application<Data = D>,
    {
        let now = self.now;
        let Some(conn) = self.conns.get_mut(key) else {
            return;
        };
        if conn.finish(now) {
            app.close(SocketRef::new(self, key), code, reason);
        }
        self.leave_all(key);
    }

    /// The peer went away (end of stream or an I/O error), a client could not connect, or
    /// a handshake took too long.
    pub(crate) fn lost<A>(&mut self, app: &A, key: usize, error: Option<Error>)
    where
        A: Application<Data = D>,
    {
        let Some(conn) = self.conns.get(key) else {
            return;
        };
        if conn.is_reportable() {
            if let Some(error) = &error {
                app.error(SocketRef::new(self, key), error);
            }
            let reason = error.map_or_else(
                || "connection closed without a close frame".to_owned(),
                |e| e.to_string(),
            );
            self.finish(app, key, CloseCode::ABNORMAL, &reason);
        }
        // The peer may only have closed its sending side: write what we still can (a
        // close reply, the last messages) before letting the socket go.
        if let Some(conn) = self.conns.get_mut(key) {
            conn.write_what_it_can();
        }
        self.remove(key);
    }

    /// Fails the connections that crossed their write-queue bound during a handler.
    pub(crate) fn process_failures<A>(&mut self, app: &A)
    where
        A: Application<Data = D>,
    {
        while let Some((key, error)) = self.failures.pop() {
            if !self.conns.get(key).is_some_and(Conn::can_send) {
                continue;
            }
            app.error(SocketRef::new(self, key), &error);
            let code = error.close_code().unwrap_or(CloseCode::POLICY_VIOLATION);
            let _ = self.close(key, code, &error.to_string(), false);
            self.arm(key);
        }
    }

    /// Writes every connection with new output, and arms its timer; a connection whose
    /// queue fell to the low-water mark hears `on_drain` (which may send again).
    pub(crate) fn flush_dirty<A>(&mut self, app: &A)
    where
        A: Application<Data = D>,
    {
        while !self.dirty.is_empty() {
            let mut dirty = std::mem::take(&mut self.dirty);
            for &key in &dirty {
                self.flush(app, key);
                self.arm(key);
            }
            dirty.clear();
            if self.dirty.is_empty() {
                // Keep the list's allocation for the next turn.
                self.dirty = dirty;
            }
        }
    }

    fn flush<A>(&mut self, app: &A, key: usize)
    where
        A: Application<Data = D>,
    {
        let now = self.now;
        let Some(conn) = self.conns.get_mut(key) else {
            return;
        };
        match conn.flush(now, &self.config, &mut self.write_buffer) {
            Ok(flushed) => {
                if flushed.read_again && self.stopping {
                    // Shutting down: no next request.
                    return self.remove(key);
                }
                if flushed.read_again {
                    self.reread.push(key);
                }
                if flushed.drained {
                    app.drain(SocketRef::new(self, key));
                    self.process_failures(app);
                }
            }
            Err(error) => self.lost(app, key, Some(error.into())),
        }
    }

    /// Runs every deadline that is due: connections' timers and clients' reconnections.
    pub(crate) fn fire_timers<A>(&mut self, app: &A)
    where
        A: Application<Data = D>,
    {
        let now = Instant::now();
        self.now = now;
        while let Some((at, target)) = self.timers.pop_due(now) {
            match target {
                Target::Reconnect(key) => {
                    if let Some(origin) = self.dialer.take(key) {
                        // A failure goes to the policy again (and its deadline to the heap).
                        let _ = self.connect(origin);
                    }
                }
                Target::Conn(id) => {
                    let key = id.key();
                    let live = self
                        .conns
                        .get_mut(key)
                        .is_some_and(|conn| conn.id() == id && conn.timer_fired(at));
                    if live {
                        self.deadline(app, key);
                        self.arm(key);
                    }
                }
            }
        }
    }

    fn deadline<A>(&mut self, app: &A, key: usize)
    where
        A: Application<Data = D>,
    {
        let now = self.now;
        let Some(conn) = self.conns.get_mut(key) else {
            return;
        };
        match conn.on_deadline(now, &self.config) {
            Deadline::NotYet => {}
            Deadline::Protocol => self.dispatch(app, key),
            Deadline::HandshakeTimedOut => self.lost(app, key, Some(Timeout::Handshake.into())),
            Deadline::Remove => self.remove(key),
        }
    }
}
