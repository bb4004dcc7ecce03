//! [`EventLoop`]: one thread's `mio::Poll` and the thin driver around it: poll, route each
//! socket's readiness to its connection, take in the commands other threads sent, run the
//! deadlines that are due, and write what the turn queued. What a connection does with its
//! readiness is `Conn`'s; what the application hears of it is `LoopState`'s.

use std::io::ErrorKind;
use std::sync::Arc;
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use mio::net::TcpListener;
use mio::{Events, Interest, Poll, Token};

use super::Application;
use super::accept_connect::Listener;
use super::client::ClientOrigin;
use super::commands::{Command, Remote, Shared, SocketId};
use super::state::LoopState;
use super::transport::Security;
use crate::config::Config;
use crate::error::Error;
use crate::protocol::EncodedMessage;

const WAKER: Token = Token(usize::MAX - 1);
/// Listener `i` has token `FIRST_LISTENER - i`; connections' tokens are their slab keys,
/// far below.
const FIRST_LISTENER: usize = usize::MAX - 2;
/// The most listeners a server has.
const MAX_LISTENERS: usize = 64;

/// How many events one call to `poll` returns at most.
const EVENTS_PER_POLL: usize = 1024;
/// Most commands taken from the channel between two polls.
const COMMANDS_PER_TURN: usize = 1024;

/// What one poll event said about one connection.
#[derive(Debug, Clone, Copy)]
struct Ready {
    key: usize,
    readable: bool,
    writable: bool,
    /// The peer closed its side: read to the end (the end of stream makes no new event).
    read_closed: bool,
}

impl Ready {
    /// A connection to read though no poll event said so.
    fn read_again(key: usize) -> Ready {
        Ready {
            key,
            readable: true,
            writable: false,
            read_closed: false,
        }
    }
}

/// One event loop.
pub(crate) struct EventLoop<A: Application> {
    app: Arc<A>,
    poll: Poll,
    events: Events,
    state: LoopState<A::Data>,
    commands: Receiver<Command>,
    /// The listening sockets (loop 0's; the others have none).
    listeners: Vec<Listener>,
    /// Server loops run until shutdown; a client loop ends when its last connection does.
    serve_forever: bool,
    stopping: bool,
    /// Scratch list of one poll's connection events.
    ready: Vec<Ready>,
    /// Connections that used up their reads for a turn with data still waiting: read again
    /// next turn, after the ones the poll reports (an edge-triggered poll will not report
    /// them again).
    unread: Vec<Ready>,
}

/// Creates the polls and channels of `workers` loops that share one [`Shared`].
pub(crate) fn new_loops<A: Application>(
    app: &Arc<A>,
    config: &Arc<Config>,
    workers: usize,
    serve_forever: bool,
) -> std::io::Result<(Arc<Shared>, Vec<EventLoop<A>>)> {
    let mut polls = Vec::with_capacity(workers);
    let mut remotes = Vec::with_capacity(workers);
    let mut receivers = Vec::with_capacity(workers);
    for _ in 0..workers.max(1) {
        let poll = Poll::new()?;
        let (remote, receiver) = Remote::new(poll.registry(), WAKER, config.max_command_queue)?;
        polls.push(poll);
        remotes.push(remote);
        receivers.push(receiver);
    }
    let shared = Arc::new(Shared {
        remotes,
        shutting_down: Default::default(),
        config: config.clone(),
        fanout: std::sync::OnceLock::new(),
    });
    let mut loops = Vec::with_capacity(polls.len());
    for (worker, (poll, commands)) in polls.into_iter().zip(receivers).enumerate() {
        let registry = poll.registry().try_clone()?;
        let state = LoopState::new(
            worker,
            config.clone(),
            shared.clone(),
            registry,
            app.keeps_request(),
        );
        loops.push(EventLoop {
            app: app.clone(),
            poll,
            events: Events::with_capacity(EVENTS_PER_POLL),
            state,
            commands,
            listeners: Vec::new(),
            serve_forever,
            stopping: false,
            ready: Vec::with_capacity(EVENTS_PER_POLL),
            unread: Vec::new(),
        });
    }
    Ok((shared, loops))
}

impl<A: Application> EventLoop<A> {
    /// Gives this loop a listening socket, plain or TLS.
    pub(crate) fn listen(
        &mut self,
        socket: TcpListener,
        security: Security,
    ) -> std::io::Result<()> {
        if self.listeners.len() == MAX_LISTENERS {
            return Err(std::io::Error::other("too many listeners"));
        }
        let mut listener = Listener::new(socket, security);
        let token = Token(FIRST_LISTENER - self.listeners.len());
        self.poll
            .registry()
            .register(listener.socket_mut(), token, Interest::READABLE)?;
        self.listeners.push(listener);
        Ok(())
    }

    /// Starts a client connection (see [`LoopState::connect`]).
    pub(crate) fn connect(&mut self, origin: Box<ClientOrigin>) -> Result<SocketId, Error> {
        self.state.set_now(Instant::now());
        self.state.connect(origin)
    }

    /// Runs until shutdown (a server) or until no connection is left (a client).
    pub(crate) fn run(mut self) -> std::io::Result<()> {
        loop {
            let idle_client =
                !self.serve_forever && self.state.is_empty() && !self.state.has_waiting_clients();
            if idle_client || (self.stopping && self.state.is_empty()) {
                return Ok(());
            }
            self.wait()?;
            self.turn();
        }
    }

    /// Polls until a socket is ready, a command comes or the earliest deadline passes.
    fn wait(&mut self) -> std::io::Result<()> {
        let timeout = if self.unread.is_empty() {
            self.state
                .next_deadline()
                .map(|at| at.saturating_duration_since(Instant::now()) + Duration::from_millis(1))
        } else {
            Some(Duration::ZERO)
        };
        match self.poll.poll(&mut self.events, timeout) {
            Err(error) if error.kind() != ErrorKind::Interrupted => Err(error),
            _ => Ok(()),
        }
    }

    /// One turn: every ready socket, the commands, the deadlines, the writes.
    fn turn(&mut self) {
        self.state.set_now(Instant::now());
        self.ready.clear();
        let mut accept = false;
        let mut commands = false;
        for event in self.events.iter() {
            match event.token() {
                WAKER => commands = true,
                Token(token) if token > FIRST_LISTENER - MAX_LISTENERS => accept = true,
                Token(key) => self.ready.push(Ready {
                    key,
                    readable: event.is_readable() || event.is_read_closed() || event.is_error(),
                    writable: event.is_writable() || event.is_write_closed(),
                    read_closed: event.is_read_closed() || event.is_error(),
                }),
            }
        }
        self.ready.append(&mut self.unread);
        let app = Arc::clone(&self.app);
        let app = &*app;
        for index in 0..self.ready.len() {
            let ready = self.ready[index];
            if ready.writable {
                self.state.writable(app, ready.key);
            }
            if ready.readable && self.state.readable(app, ready.key, ready.read_closed) {
                self.unread.push(Ready {
                    writable: false,
                    ..ready
                });
            }
            self.state.arm(ready.key);
            self.state.flush_dirty(app);
        }
        if commands {
            self.drain_commands();
        }
        if accept || self.listeners.iter().any(Listener::is_paused) {
            self.accept();
        }
        self.state.fire_timers(app);
        self.state.flush_dirty(app);
        // Keep-alive connections that answered a request read the next one next turn.
        self.unread
            .extend(self.state.take_rereads().map(Ready::read_again));
    }

    /// Accepts every waiting connection of every listener; each goes to the loops in turn.
    fn accept(&mut self) {
        let state = &mut self.state;
        let shared = state.shared().clone();
        let me = state.worker();
        for listener in &mut self.listeners {
            listener.accept(shared.remotes.len(), |worker, stream, peer, security| {
                if worker == me {
                    state.adopt(stream, peer, security);
                } else {
                    let command = Command::Adopt(stream, peer, security.clone());
                    shared.remotes[worker].send(command);
                }
            });
        }
        self.state.flush_dirty(&*self.app);
    }

    /// Takes in at most [`COMMANDS_PER_TURN`] commands; if more are waiting, wakes the loop
    /// again, so that threads sending without pause cannot keep it from its sockets.
    fn drain_commands(&mut self) {
        let shared = self.state.shared().clone();
        let remote = &shared.remotes[self.state.worker()];
        remote.clear_notified();
        let app = Arc::clone(&self.app);
        let app = &*app;
        let mut taken = 0;
        while taken < COMMANDS_PER_TURN {
            let Ok(command) = self.commands.try_recv() else {
                break;
            };
            taken += 1;
            match command {
                Command::Adopt(stream, peer, security) => {
                    self.state.adopt(stream, peer, &security);
                }
                Command::Listen(socket, security) => {
                    // Nowhere to report a failure from here: `Loops::listen` registered the
                    // same kind of socket on the same kind of poll.
                    let _ = self.listen(socket, security);
                }
                Command::Send(id, message) => {
                    remote.took(message.held_bytes());
                    if let Some(key) = self.state.key_of(id) {
                        let _ = self.state.send(key, &message);
                    }
                }
                Command::SendEach {
                    ids,
                    messages,
                    only_if_idle,
                } => {
                    let bytes: usize = messages.iter().map(EncodedMessage::held_bytes).sum();
                    remote.took(bytes + std::mem::size_of_val(ids.as_slice()));
                    for id in ids {
                        let Some(key) = self.state.key_of(id) else {
                            continue;
                        };
                        if only_if_idle && self.state.buffered_amount(key) > 0 {
                            continue;
                        }
                        for message in &messages {
                            if self.state.send(key, message).is_err() {
                                break;
                            }
                        }
                    }
                }
                Command::Close(id, code, reason) => {
                    if let Some(key) = self.state.key_of(id) {
                        let _ = self.state.close(key, code, &reason, true);
                    }
                }
                Command::Broadcast(audience, message) => {
                    remote.took(message.held_bytes());
                    let _ = self.state.broadcast(&audience, &message, false);
                }
                Command::Members(room, action) => {
                    self.state.act_on_members(room.as_ref(), action);
                }
                Command::Answered(id) => {
                    // Bytes may have come while the answer was awaited: read them.
                    if let Some(key) = self.state.answered(app, id) {
                        self.unread.push(Ready::read_again(key));
                    }
                }
                Command::Shutdown => self.begin_shutdown(),
            }
            self.state.process_failures(app);
        }
        if taken == COMMANDS_PER_TURN {
            remote.wake_again();
        }
        self.state.flush_dirty(app);
    }

    /// Stops accepting and closes every connection with 1001.
    fn begin_shutdown(&mut self) {
        self.stopping = true;
        for mut listener in std::mem::take(&mut self.listeners) {
            let _ = self.poll.registry().deregister(listener.socket_mut());
        }
        self.state.begin_shutdown();
    }
}
