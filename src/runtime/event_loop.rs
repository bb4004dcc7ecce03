//! [`EventLoop`]: one thread's `mio::Poll` and everything it drives: accepting, reading,
//! writing, handshakes, timers, commands from other threads, and client connections.

use std::io::ErrorKind;
use std::net::{Shutdown, SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};

use super::client::ClientOrigin;
use super::commands::{Command, Remote, Shared};
use super::io::{
    MAX_READ, MAX_SMALL, MIN_READ, ReadBuffers, adapt_read_size, read_into, write_bytes,
    write_connection,
};
use super::slot::{Phase, Slot};
use super::state::LoopState;
use super::timers::{Entry, Timers};
use super::{Application, SocketId};
use crate::config::Config;
use crate::error::{Error, Timeout};
use crate::handshake::{ClientHandshake, HttpResponse, Incoming, ServerHandshake};
use crate::protocol::{CloseCode, Event, State};

const LISTENER: Token = Token(usize::MAX - 1);
pub(crate) const WAKER: Token = Token(usize::MAX - 2);

/// How many events one call to `poll` returns at most.
const EVENTS_PER_POLL: usize = 1024;
/// Most commands taken from the channel between two polls.
const COMMANDS_PER_TURN: usize = 1024;
/// Most reads from one socket between two polls, so that a peer that sends faster than the
/// loop handles its messages cannot keep the loop from the other sockets.
const READS_PER_TURN: usize = 16;

/// Where a read of frames went.
#[derive(Clone, Copy, Debug)]
enum ReadTarget {
    /// One of the loop's read buffers.
    Loop,
    /// The connection's own buffer, of this capacity before the read.
    Own(usize),
}

/// What one poll event said about one token.
#[derive(Debug, Clone, Copy)]
struct Ready {
    token: Token,
    readable: bool,
    writable: bool,
    /// The peer closed its side: read to the end (the end of stream makes no new event).
    read_closed: bool,
}

/// The listening socket, owned by loop 0, which hands accepted connections out in turn.
#[derive(Debug)]
pub(crate) struct Listener {
    pub(crate) socket: TcpListener,
}

/// One event loop.
pub(crate) struct EventLoop<A: Application> {
    app: Arc<A>,
    poll: Poll,
    events: Events,
    state: LoopState<A::Data>,
    commands: Receiver<Command>,
    listener: Option<Listener>,
    /// The worker the next accepted connection goes to.
    next_worker: usize,
    timers: Timers,
    reconnects: Vec<(Instant, Box<ClientOrigin>)>,
    read_buffers: ReadBuffers,
    read_size: usize,
    /// Server loops run until shutdown; a client loop ends when its last connection does.
    serve_forever: bool,
    stopping: bool,
    /// Accepting failed for want of resources (out of file descriptors): connections may
    /// wait in the backlog, which an edge-triggered poll will not report again until
    /// another arrives. Accepting is retried at the end of every turn until it works.
    accept_paused: bool,
    /// Scratch list of (token, readable, writable) for one poll's events.
    ready: Vec<Ready>,
    /// Sockets that used up their reads for a turn with data still waiting: read again next
    /// turn, after the sockets the poll reports (an edge-triggered poll will not report
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
    });
    let loops = polls
        .into_iter()
        .zip(receivers)
        .enumerate()
        .map(|(worker, (poll, commands))| EventLoop {
            app: app.clone(),
            poll,
            events: Events::with_capacity(EVENTS_PER_POLL),
            state: LoopState::new(worker, config.clone(), shared.clone()),
            commands,
            listener: None,
            next_worker: 0,
            timers: Timers::default(),
            reconnects: Vec::new(),
            read_buffers: ReadBuffers::default(),
            read_size: MIN_READ,
            serve_forever,
            stopping: false,
            accept_paused: false,
            ready: Vec::with_capacity(EVENTS_PER_POLL),
            unread: Vec::new(),
        })
        .collect();
    Ok((shared, loops))
}

impl<A: Application> EventLoop<A> {
    /// Gives this loop the listening socket.
    pub(crate) fn listen(&mut self, mut listener: Listener) -> std::io::Result<()> {
        self.poll
            .registry()
            .register(&mut listener.socket, LISTENER, Interest::READABLE)?;
        self.listener = Some(listener);
        Ok(())
    }

    /// Runs until shutdown (a server) or until no connection is left (a client).
    pub(crate) fn run(mut self) -> std::io::Result<()> {
        loop {
            let idle_client =
                !self.serve_forever && self.state.slots.is_empty() && self.reconnects.is_empty();
            if idle_client || (self.stopping && self.state.slots.is_empty()) {
                return Ok(());
            }
            let timeout = if self.unread.is_empty() {
                self.next_deadline().map(|at| {
                    at.saturating_duration_since(Instant::now()) + Duration::from_millis(1)
                })
            } else {
                Some(Duration::ZERO)
            };
            if let Err(error) = self.poll.poll(&mut self.events, timeout) {
                if error.kind() == ErrorKind::Interrupted {
                    continue;
                }
                return Err(error);
            }
            self.state.now = Instant::now();
            self.ready.clear();
            for event in self.events.iter() {
                let readable = event.is_readable() || event.is_read_closed() || event.is_error();
                let writable = event.is_writable() || event.is_write_closed();
                self.ready.push(Ready {
                    token: event.token(),
                    readable,
                    writable,
                    read_closed: event.is_read_closed() || event.is_error(),
                });
            }
            self.ready.append(&mut self.unread);
            for index in 0..self.ready.len() {
                let Ready {
                    token,
                    readable,
                    writable,
                    read_closed,
                } = self.ready[index];
                match token {
                    LISTENER => self.accept(),
                    WAKER => self.drain_commands(),
                    Token(key) => {
                        if writable {
                            self.on_writable(key);
                        }
                        if readable {
                            self.on_readable(key, read_closed);
                        }
                        self.arm(key);
                    }
                }
                self.flush_dirty();
            }
            self.fire_timers();
            self.flush_dirty();
            if self.accept_paused {
                self.accept_paused = false;
                self.accept();
            }
        }
    }

    fn next_deadline(&self) -> Option<Instant> {
        let reconnect = self.reconnects.iter().map(|(at, _)| *at).min();
        match (self.timers.next(), reconnect) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    // ----- accepting and connecting ----------------------------------------------------

    fn accept(&mut self) {
        loop {
            let Some(listener) = &self.listener else {
                return;
            };
            match listener.socket.accept() {
                Ok((stream, peer)) => {
                    let workers = self.state.shared.remotes.len();
                    let worker = self.next_worker % workers;
                    self.next_worker = self.next_worker.wrapping_add(1);
                    if worker == self.state.worker {
                        self.adopt(stream, peer);
                    } else {
                        self.state.shared.remotes[worker].send(Command::Adopt(stream, peer));
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                // ECONNABORTED and the like concern one connection; out of file
                // descriptors, we stop for now and try again at the end of each turn (a
                // connection that closes frees one).
                Err(e) if e.kind() == ErrorKind::ConnectionAborted => {}
                Err(_) => {
                    self.accept_paused = true;
                    return;
                }
            }
        }
    }

    /// Registers a connection accepted by some loop and starts its handshake.
    fn adopt(&mut self, stream: TcpStream, peer: SocketAddr) {
        if self.stopping {
            return;
        }
        let handshake = Box::new(ServerHandshake::new(&self.state.config));
        self.insert(stream, peer, Phase::Handshake(handshake), None);
    }

    /// Registers a new slot; returns its key.
    fn insert(
        &mut self,
        mut stream: TcpStream,
        peer: SocketAddr,
        phase: Phase,
        origin: Option<Box<ClientOrigin>>,
    ) -> Option<usize> {
        let _ = stream.set_nodelay(true);
        let key = self.state.slots.vacant_key();
        let interest = Interest::READABLE | Interest::WRITABLE;
        if self
            .poll
            .registry()
            .register(&mut stream, Token(key), interest)
            .is_err()
        {
            return None;
        }
        let id = self.state.next_id(key);
        let now = self.state.now;
        self.state.slots.insert(Slot {
            id,
            stream,
            peer,
            phase,
            target: Box::from(""),
            protocol: None,
            rooms: Vec::new(),
            data: A::Data::default(),
            since: now,
            last_heard: now,
            ping_sent: None,
            timer_at: None,
            dirty: false,
            finished: false,
            closed_by_app: false,
            origin,
        });
        self.arm(key);
        Some(key)
    }

    /// Starts a client connection to `origin`. Failures before a socket exists (the name
    /// does not resolve, no route) go to the reconnection policy.
    pub(crate) fn connect(&mut self, origin: Box<ClientOrigin>) -> Result<SocketId, Error> {
        let result = (|| {
            let address = origin
                .url
                .authority()
                .to_socket_addrs()?
                .next()
                .ok_or_else(|| std::io::Error::from(ErrorKind::AddrNotAvailable))?;
            let handshake = Box::new(ClientHandshake::new(&origin.request, &self.state.config)?);
            let stream = TcpStream::connect(address)?;
            Ok::<_, Error>((stream, address, handshake))
        })();
        match result {
            Ok((stream, address, handshake)) => {
                let phase = Phase::Connecting(handshake);
                let key = self
                    .insert(stream, address, phase, Some(origin))
                    .ok_or_else(|| Error::Io(ErrorKind::OutOfMemory.into()))?;
                Ok(self.state.slots[key].id)
            }
            Err(error) => {
                self.schedule_reconnect(origin);
                Err(error)
            }
        }
    }

    fn schedule_reconnect(&mut self, mut origin: Box<ClientOrigin>) {
        if self.stopping {
            return;
        }
        let Some(policy) = &origin.reconnect else {
            return;
        };
        if policy.max_attempts.is_some_and(|max| origin.attempt >= max) {
            return;
        }
        let at = self.state.now + policy.delay(origin.attempt);
        origin.attempt += 1;
        self.reconnects.push((at, origin));
    }

    // ----- commands --------------------------------------------------------------------

    /// Takes in at most [`COMMANDS_PER_TURN`] commands; if more are waiting, wakes the loop
    /// again, so that threads sending without pause cannot keep it from its sockets.
    fn drain_commands(&mut self) {
        let shared = self.state.shared.clone();
        let remote = &shared.remotes[self.state.worker];
        remote.clear_notified();
        let mut taken = 0;
        while taken < COMMANDS_PER_TURN {
            let Ok(command) = self.commands.try_recv() else {
                break;
            };
            taken += 1;
            match command {
                Command::Adopt(stream, peer) => self.adopt(stream, peer),
                Command::Send(id, message) => {
                    remote.took(&message);
                    if let Some(key) = self.state.key_of(id) {
                        let _ = self.state.send(key, &message);
                    }
                }
                Command::Close(id, code, reason) => {
                    if let Some(key) = self.state.key_of(id) {
                        let _ = self.state.close(key, code, &reason);
                        self.arm(key);
                    }
                }
                Command::Broadcast(audience, message) => {
                    remote.took(&message);
                    self.state.broadcast(&audience, &message, false);
                }
                Command::Shutdown => self.begin_shutdown(),
            }
        }
        if taken == COMMANDS_PER_TURN {
            remote.wake_again();
        }
        self.process_failures();
    }

    /// Stops accepting and closes every connection with 1001.
    fn begin_shutdown(&mut self) {
        self.stopping = true;
        self.reconnects.clear();
        if let Some(mut listener) = self.listener.take() {
            let _ = self.poll.registry().deregister(&mut listener.socket);
        }
        let keys: Vec<usize> = self.state.slots.iter().map(|(key, _)| key).collect();
        for key in keys {
            let open = self.state.slots[key].can_send();
            if open {
                let _ = self
                    .state
                    .close(key, CloseCode::GOING_AWAY, "server shutting down");
                self.arm(key);
            } else if matches!(
                self.state.slots[key].phase,
                Phase::Handshake(_) | Phase::Connecting(_) | Phase::Upgrading(..)
            ) {
                self.remove(key);
            }
        }
    }

    // ----- reading ---------------------------------------------------------------------

    /// `to_the_end`: keep reading until the socket would block, even after a short read
    /// (the peer closed its side, and the end of stream will not raise another event).
    fn on_readable(&mut self, key: usize, to_the_end: bool) {
        let Some(slot) = self.state.slots.get(key) else {
            return;
        };
        match slot.phase {
            Phase::Handshake(_) | Phase::Upgrading(..) => self.read_handshake(key, to_the_end),
            Phase::Open(_) => self.read_open(key, to_the_end),
            Phase::Connecting(_) => self.check_connected(key),
            Phase::Http(..) | Phase::Draining => self.read_discard(key),
        }
    }

    /// Reads a request head (server) or a response head (client).
    fn read_handshake(&mut self, key: usize, to_the_end: bool) {
        loop {
            let Some(slot) = self.state.slots.get_mut(key) else {
                return;
            };
            let mut buffer = self.read_buffers.take(MIN_READ);
            let read = read_into(&mut slot.stream, &mut buffer, MIN_READ);
            let n = match read {
                Ok(0) => {
                    self.read_buffers.put(buffer);
                    return self.lost(key, None);
                }
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    self.read_buffers.put(buffer);
                    return;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {
                    self.read_buffers.put(buffer);
                    continue;
                }
                Err(e) => {
                    self.read_buffers.put(buffer);
                    return self.lost(key, Some(e.into()));
                }
            };
            slot.last_heard = self.state.now;
            let data = buffer.get(..n).unwrap_or_default();
            let outcome = match &mut slot.phase {
                Phase::Handshake(handshake) => handshake.receive(data).map(|r| r.map(Ok)),
                Phase::Upgrading(handshake, _) => handshake.receive(data).map(|r| r.map(Err)),
                _ => Ok(None),
            };
            self.read_buffers.put(buffer);
            match outcome {
                // A short read drained the socket (see read_open).
                Ok(None) if n < MIN_READ && !to_the_end => return,
                Ok(None) => continue,
                Ok(Some(Ok(incoming))) => return self.start_server(key, incoming),
                Ok(Some(Err(connected))) => return self.start_client(key, connected),
                Err(error) => return self.refuse(key, error.into()),
            }
        }
    }

    /// A request head arrived: upgrade, answer plain HTTP, or refuse.
    fn start_server(&mut self, key: usize, incoming: Incoming) {
        let upgrade = match incoming {
            Incoming::Upgrade(upgrade) => upgrade,
            Incoming::Http(request) => {
                let response = self.app.http(&request);
                return self.respond(key, &response);
            }
        };
        let Some(slot) = self.state.slots.get_mut(key) else {
            return;
        };
        let accept = match self.app.upgrade(&upgrade, &mut slot.data) {
            Ok(accept) => accept,
            Err(response) => return self.respond(key, &response),
        };
        let accepted = match upgrade.accept(&accept, &self.state.config) {
            Ok(accepted) => accepted,
            // The application chose what the client did not offer: our side's fault.
            Err(error) => {
                return self.respond(key, &HttpResponse::text(500, error.to_string()));
            }
        };
        let (response, mut connection) = accepted;
        // The 101 goes into the loop's write buffer, ahead of any frame.
        connection.swap_output_buffer(&mut self.state.write_buffer);
        connection.queue_raw(&response);
        slot.target = Box::from(upgrade.target());
        slot.protocol = accept.selected_protocol().map(Box::from);
        slot.phase = Phase::Open(connection);
        slot.since = self.state.now;
        self.opened(key);
    }

    /// A response head arrived and checked out: the client connection is open.
    fn start_client(
        &mut self,
        key: usize,
        connected: (crate::handshake::UpgradeResponse, crate::Connection),
    ) {
        let (response, connection) = connected;
        let Some(slot) = self.state.slots.get_mut(key) else {
            return;
        };
        slot.protocol = response.protocol().map(Box::from);
        slot.target = slot
            .origin
            .as_ref()
            .map_or_else(|| Box::from(""), |origin| Box::from(origin.url.resource()));
        if let Some(origin) = &mut slot.origin {
            origin.attempt = 0;
        }
        slot.phase = Phase::Open(connection);
        slot.since = self.state.now;
        self.opened(key);
    }

    fn opened(&mut self, key: usize) {
        self.lend_write_buffer(key);
        self.state.mark_dirty(key);
        self.app.open(&mut self.state, key);
        self.process_failures();
        // Frames may have arrived with the handshake.
        self.dispatch(key);
    }

    /// Refuses a handshake: a server answers with the error's response; a client reports
    /// the error.
    fn refuse(&mut self, key: usize, error: Error) {
        let is_client = self
            .state
            .slots
            .get(key)
            .is_some_and(|slot| slot.origin.is_some());
        if is_client {
            return self.lost(key, Some(error));
        }
        let response = match &error {
            Error::Handshake(error) => HttpResponse::from(error),
            other => HttpResponse::internal_error(other),
        };
        self.write_http(key, response.encode_checked().into_boxed_slice());
    }

    fn respond(&mut self, key: usize, response: &HttpResponse) {
        let bytes = response
            .encode()
            .unwrap_or_else(|error| HttpResponse::internal_error(&error).encode_checked());
        self.write_http(key, bytes.into_boxed_slice());
    }

    fn write_http(&mut self, key: usize, bytes: Box<[u8]>) {
        if let Some(slot) = self.state.slots.get_mut(key) {
            slot.phase = Phase::Http(bytes, 0);
            slot.since = self.state.now;
            self.state.mark_dirty(key);
        }
    }

    /// Reads frames, lending the loop's read buffer so that an idle connection keeps none.
    fn read_open(&mut self, key: usize, to_the_end: bool) {
        for _ in 0..READS_PER_TURN {
            let Some(slot) = self.state.slots.get_mut(key) else {
                return;
            };
            let Phase::Open(connection) = &mut slot.phase else {
                return;
            };
            // A connection in the middle of a frame reads what the frame still needs,
            // straight after the bytes it holds when its buffer has the room (kept for it
            // below); otherwise the read goes into one of the loop's buffers, with the
            // incomplete frame's bytes copied in front, and its small buffer is kept.
            let missing = connection.frame_bytes_missing();
            let mut input = connection.take_input();
            let room = input.capacity() - input.len();
            let own = ReadTarget::Own(input.capacity());
            let (size, target) = if missing == 0 {
                let target = if room >= self.read_size {
                    own
                } else {
                    ReadTarget::Loop
                };
                (self.read_size, target)
            } else if room >= missing.min(MIN_READ) {
                (missing.max(MIN_READ).min(room), own)
            } else {
                (missing.clamp(MIN_READ, MAX_READ), ReadTarget::Loop)
            };
            let (mut buffer, spare) = if let ReadTarget::Own(_) = target {
                (input, BytesMut::new())
            } else {
                let mut buffer = self.read_buffers.take(size + input.len());
                buffer.extend_from_slice(&input);
                input.clear();
                (buffer, input)
            };
            let result = read_into(&mut slot.stream, &mut buffer, size);
            // A read that did not fill the room drained the socket: on Linux an
            // edge-triggered poll reports the next data that arrives, so the read that would
            // only say WouldBlock is skipped (a system call per message saved).
            let drained;
            match result {
                Ok(0) => {
                    self.return_input(key, buffer, spare, 0, target);
                    return self.lost(key, None);
                }
                Ok(n) => {
                    drained = n < size && !to_the_end;
                    if missing == 0 {
                        self.read_size = adapt_read_size(size, n);
                    }
                    slot.last_heard = self.state.now;
                    slot.ping_sent = None;
                    connection.receive_bytes(buffer);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    return self.return_input(key, buffer, spare, 0, target);
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {
                    self.return_input(key, buffer, spare, 0, target);
                    continue;
                }
                Err(e) => {
                    self.return_input(key, buffer, spare, 0, target);
                    return self.lost(key, Some(e.into()));
                }
            }
            self.lend_write_buffer(key);
            self.dispatch(key);
            if let Some(connection) = self.state.slots.get_mut(key).and_then(Slot::connection_mut) {
                let missing = connection.frame_bytes_missing();
                let buffer = connection.take_input();
                self.return_input(key, buffer, spare, missing, target);
            }
            if drained {
                return;
            }
        }
        self.read_again(key, to_the_end);
    }

    /// Puts a socket that used up its reads for this turn on the list for the next.
    fn read_again(&mut self, key: usize, to_the_end: bool) {
        self.unread.push(Ready {
            token: Token(key),
            readable: true,
            writable: false,
            read_closed: to_the_end,
        });
    }

    /// Gives back what a read went into: a connection that read into its own buffer keeps
    /// it if it still holds an incomplete frame; otherwise the buffer goes to the pool
    /// (with its allocation's size, not the room left in it, deciding which part: a frame
    /// read to the end of a large buffer leaves a view with no room, and the allocation
    /// comes back whole once the message handed up is dropped). A loop buffer goes back to
    /// the pool through [`keep_unparsed`](Self::keep_unparsed).
    fn return_input(
        &mut self,
        key: usize,
        buffer: BytesMut,
        spare: BytesMut,
        missing: usize,
        target: ReadTarget,
    ) {
        let ReadTarget::Own(allocated) = target else {
            return self.keep_unparsed(key, buffer, spare, missing);
        };
        let connection = self.state.slots.get_mut(key).and_then(Slot::connection_mut);
        match connection {
            Some(connection) if !buffer.is_empty() => connection.receive_bytes(buffer),
            _ if allocated <= MAX_SMALL => self.read_buffers.put_small(buffer),
            _ => self.read_buffers.put(buffer),
        }
    }

    /// Returns a read buffer to the pool, leaving the connection the bytes of an incomplete
    /// frame it holds: copied into `spare` (the connection's own small buffer, reused) when
    /// it is large enough, into a pooled or new buffer otherwise. The buffer kept also has
    /// room for the `missing` rest of the frame, so the next reads need no copy, up to 8
    /// times the bytes the peer has sent (or `MIN_READ`). Reads do not zero their room, so
    /// room the peer never fills costs address space, not memory: a peer that announces a
    /// large frame and stalls makes its connection hold about what it sent.
    fn keep_unparsed(&mut self, key: usize, mut buffer: BytesMut, spare: BytesMut, missing: usize) {
        let connection = self.state.slots.get_mut(key).and_then(Slot::connection_mut);
        match connection {
            Some(connection) if !buffer.is_empty() => {
                let room = missing.min(8 * buffer.len().max(MIN_READ));
                let size = buffer.len() + room;
                // Large ones come from the pool of read buffers (fresh memory of that size
                // would be mapped and faulted in for every message), at most twice the size.
                let mut kept = if size <= MAX_SMALL {
                    self.read_buffers.take_small(spare, size)
                } else {
                    self.read_buffers.put_small(spare);
                    self.read_buffers.take_at_most(size, 2 * size)
                };
                kept.extend_from_slice(&buffer);
                connection.receive_bytes(kept);
                buffer.clear();
            }
            _ => self.read_buffers.put_small(spare),
        }
        self.read_buffers.put(buffer);
    }

    /// Lends the loop's write buffer to a connection with nothing pending, so that the
    /// sends of its handlers encode into memory that is already there.
    fn lend_write_buffer(&mut self, key: usize) {
        if let Some(connection) = self.state.slots.get_mut(key).and_then(Slot::connection_mut) {
            connection.swap_output_buffer(&mut self.state.write_buffer);
        }
    }

    /// Turns the connection's input into handler calls.
    fn dispatch(&mut self, key: usize) {
        loop {
            let Some(slot) = self.state.slots.get_mut(key) else {
                return;
            };
            if slot.finished {
                return;
            }
            let Phase::Open(connection) = &mut slot.phase else {
                return;
            };
            match connection.poll_event() {
                Ok(None) => return,
                Ok(Some(Event::Message(message))) => {
                    self.app.message(&mut self.state, key, message);
                }
                Ok(Some(Event::Ping(_))) => self.state.mark_dirty(key),
                Ok(Some(Event::Pong(_))) => {}
                Ok(Some(Event::Close(frame))) => {
                    self.state.mark_dirty(key);
                    self.finish(key, frame.code, &frame.reason);
                    return;
                }
                Err(error) => {
                    self.state.mark_dirty(key);
                    self.app.error(&mut self.state, key, &error);
                    let code = error.close_code().unwrap_or(CloseCode::PROTOCOL_ERROR);
                    self.finish(key, code, &error.to_string());
                    return;
                }
            }
            self.process_failures();
        }
    }

    /// Reports the end of the WebSocket to the application, once, and leaves its rooms.
    fn finish(&mut self, key: usize, code: CloseCode, reason: &str) {
        let Some(slot) = self.state.slots.get_mut(key) else {
            return;
        };
        if slot.finished {
            return;
        }
        slot.finished = true;
        let opened = matches!(slot.phase, Phase::Open(_));
        let client = slot.origin.is_some();
        if opened || client {
            self.app.close(&mut self.state, key, code, reason);
        }
        self.state.leave_all(key);
    }

    /// The peer went away (end of stream or an I/O error) or a client could not connect.
    fn lost(&mut self, key: usize, error: Option<Error>) {
        let Some(slot) = self.state.slots.get(key) else {
            return;
        };
        let reportable =
            !slot.finished && (matches!(slot.phase, Phase::Open(_)) || slot.origin.is_some());
        if reportable {
            if let Some(error) = &error {
                self.app.error(&mut self.state, key, error);
            }
            let reason = error.map_or_else(
                || "connection closed without a close frame".to_owned(),
                |e| e.to_string(),
            );
            self.finish(key, CloseCode::ABNORMAL, &reason);
        }
        // The peer may only have closed its sending side: write what we still can (a
        // close reply, the last messages) before letting the socket go.
        if let Some(slot) = self.state.slots.get_mut(key)
            && let Phase::Open(connection) = &mut slot.phase
        {
            let _ = write_connection(&mut slot.stream, connection);
        }
        self.remove(key);
    }

    /// Reads and discards until the peer closes its side.
    fn read_discard(&mut self, key: usize) {
        let mut scratch = [0u8; 4096];
        for _ in 0..READS_PER_TURN {
            let Some(slot) = self.state.slots.get_mut(key) else {
                return;
            };
            match std::io::Read::read(&mut slot.stream, &mut scratch) {
                Ok(0) => return self.remove(key),
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return self.remove(key),
            }
        }
        self.read_again(key, false);
    }

    /// A client's TCP connection finished connecting, or failed to.
    fn check_connected(&mut self, key: usize) {
        let Some(slot) = self.state.slots.get_mut(key) else {
            return;
        };
        match slot.stream.take_error() {
            Ok(Some(error)) | Err(error) => return self.lost(key, Some(error.into())),
            Ok(None) => {}
        }
        match slot.stream.peer_addr() {
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::NotConnected => return,
            Err(e) => return self.lost(key, Some(e.into())),
        }
        let phase = std::mem::replace(&mut slot.phase, Phase::Draining);
        if let Phase::Connecting(handshake) = phase {
            slot.phase = Phase::Upgrading(handshake, 0);
            slot.since = self.state.now;
        }
        self.state.mark_dirty(key);
    }

    // ----- writing ---------------------------------------------------------------------

    fn on_writable(&mut self, key: usize) {
        let connecting = self
            .state
            .slots
            .get(key)
            .is_some_and(|slot| matches!(slot.phase, Phase::Connecting(_)));
        if connecting {
            self.check_connected(key);
        }
        self.flush(key);
    }

    fn flush_dirty(&mut self) {
        while !self.state.dirty.is_empty() {
            let dirty = std::mem::take(&mut self.state.dirty);
            for &key in &dirty {
                self.flush(key);
                self.arm(key);
            }
            let mut dirty = dirty;
            dirty.clear();
            if self.state.dirty.is_empty() {
                self.state.dirty = dirty;
            }
        }
    }

    /// Writes what a slot has pending; moves it on when that was its last output.
    fn flush(&mut self, key: usize) {
        let Some(slot) = self.state.slots.get_mut(key) else {
            return;
        };
        slot.dirty = false;
        let result = match &mut slot.phase {
            Phase::Open(connection) => write_connection(&mut slot.stream, connection),
            Phase::Http(bytes, written) => write_bytes(&mut slot.stream, bytes, written),
            Phase::Upgrading(handshake, written) => {
                write_bytes(&mut slot.stream, handshake.request(), written).map(|_| false)
            }
            Phase::Handshake(_) | Phase::Connecting(_) | Phase::Draining => Ok(false),
        };
        match result {
            Ok(true) => self.written(key),
            Ok(false) => {}
            Err(error) => self.lost(key, Some(error.into())),
        }
    }

    /// Everything pending was written.
    fn written(&mut self, key: usize) {
        let Some(slot) = self.state.slots.get_mut(key) else {
            return;
        };
        match &mut slot.phase {
            Phase::Open(connection) => {
                // Take the (lent) write buffer back; the connection keeps none. Its other
                // small allocations stay until it goes idle (see `expire`).
                let mut spare = BytesMut::new();
                connection.swap_output_buffer(&mut spare);
                if spare.capacity() > self.state.write_buffer.capacity() {
                    self.state.write_buffer = spare;
                }
                if connection.is_closed() {
                    // A server (or a side that failed the connection) closes TCP first; a
                    // client after a clean close waits for the server to.
                    let shut = connection.role() == crate::Role::Server
                        || connection.state() == State::Failed;
                    if shut {
                        let _ = slot.stream.shutdown(Shutdown::Write);
                    }
                    slot.phase = Phase::Draining;
                    slot.since = self.state.now;
                }
            }
            Phase::Http(..) => {
                let _ = slot.stream.shutdown(Shutdown::Write);
                slot.phase = Phase::Draining;
                slot.since = self.state.now;
            }
            _ => {}
        }
    }

    /// Drops a slot: deregisters its socket, leaves its rooms, and for a client schedules
    /// the reconnection its policy asks for.
    fn remove(&mut self, key: usize) {
        if !self.state.slots.contains(key) {
            return;
        }
        self.state.leave_all(key);
        let mut slot = self.state.slots.remove(key);
        let _ = self.poll.registry().deregister(&mut slot.stream);
        if let Some(origin) = slot.origin.take()
            && !slot.closed_by_app
        {
            self.schedule_reconnect(origin);
        }
    }

    // ----- failures and timers ---------------------------------------------------------

    /// Fails the connections that crossed their write-queue bound during a handler.
    fn process_failures(&mut self) {
        while let Some((key, error)) = self.state.failures.pop() {
            let Some(slot) = self.state.slots.get(key) else {
                continue;
            };
            if !slot.can_send() {
                continue;
            }
            self.app.error(&mut self.state, key, &error);
            let code = error.close_code().unwrap_or(CloseCode::POLICY_VIOLATION);
            let _ = self.state.close(key, code, &error.to_string());
            if let Some(slot) = self.state.slots.get_mut(key) {
                slot.closed_by_app = false;
            }
            self.arm(key);
        }
    }

    /// Makes sure the slot's earliest deadline is in the timer heap.
    fn arm(&mut self, key: usize) {
        let Some(slot) = self.state.slots.get_mut(key) else {
            return;
        };
        let Some(deadline) = slot.deadline(&self.state.config) else {
            return;
        };
        if slot.timer_at.is_none_or(|at| deadline < at) {
            slot.timer_at = Some(deadline);
            self.timers.schedule(Entry {
                at: deadline,
                key,
                id: slot.id.as_u64(),
            });
        }
    }

    fn fire_timers(&mut self) {
        let now = Instant::now();
        self.state.now = now;
        while let Some(entry) = self.timers.pop_due(now) {
            let Some(slot) = self.state.slots.get_mut(entry.key) else {
                continue;
            };
            if slot.id.as_u64() != entry.id || slot.timer_at != Some(entry.at) {
                continue;
            }
            slot.timer_at = None;
            if slot
                .deadline(&self.state.config)
                .is_some_and(|at| at <= now)
            {
                self.expire(entry.key);
            }
            self.arm(entry.key);
        }
        let mut index = 0;
        while index < self.reconnects.len() {
            if self.reconnects[index].0 <= now {
                let (_, origin) = self.reconnects.swap_remove(index);
                let _ = self.connect(origin);
            } else {
                index += 1;
            }
        }
    }

    /// A slot's deadline passed.
    fn expire(&mut self, key: usize) {
        let Some(slot) = self.state.slots.get_mut(key) else {
            return;
        };
        let now = self.state.now;
        match &mut slot.phase {
            Phase::Handshake(_) | Phase::Connecting(_) | Phase::Upgrading(..) => {
                self.lost(key, Some(Timeout::Handshake.into()));
            }
            Phase::Http(..) | Phase::Draining => self.remove(key),
            Phase::Open(connection) => match (connection.state(), slot.ping_sent) {
                (State::Open, None) => {
                    // Silent for a ping interval: it is idle, so it gives back what memory
                    // it kept for traffic.
                    connection.release_memory();
                    if connection.ping(b"").is_ok() {
                        slot.ping_sent = Some(now);
                        self.state.mark_dirty(key);
                    }
                }
                (State::Open, Some(_)) => self.time_out(key, Timeout::Pong),
                (State::CloseSent, _) => self.time_out(key, Timeout::Close),
                // Closed or failed, and the output could not be written in time.
                _ => self.remove(key),
            },
        }
    }

    /// Fails a connection whose peer stopped answering: report, send a close frame if we
    /// have not, write what can be written, and drop it.
    fn time_out(&mut self, key: usize, timeout: Timeout) {
        let error = Error::Timeout(timeout);
        if let Some(slot) = self.state.slots.get(key)
            && !slot.finished
        {
            self.app.error(&mut self.state, key, &error);
        }
        if let Some(slot) = self.state.slots.get_mut(key)
            && let Phase::Open(connection) = &mut slot.phase
        {
            if connection.state() == State::Open {
                let code = error.close_code().unwrap_or(CloseCode::POLICY_VIOLATION);
                let _ = connection.close(code, &error.to_string());
            }
            let _ = write_connection(&mut slot.stream, connection);
        }
        self.finish(key, CloseCode::ABNORMAL, &error.to_string());
        self.remove(key);
    }
}
