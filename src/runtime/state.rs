//! [`LoopState`]: everything a loop owns but its poll: the connections, the rooms, the
//! timer heap, the clients waiting to reconnect, the buffers lent to the connection being
//! served, and the operations on them (send, close, join, broadcast) with the write-queue
//! bound applied to every send. The application's calls are in `dispatch.rs`; what a
//! handler may reach is the narrow view of `view.rs`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::BytesMut;
use mio::net::TcpStream;
use mio::{Interest, Registry, Token};
use slab::Slab;

use super::accept_connect::Dialer;
use super::client::ClientOrigin;
use super::commands::{Audience, Shared, SocketId};
use super::conn::Conn;
use super::read_plan::Reader;
use super::rooms::Rooms;
use super::timers::{Target, Timers};
use super::transport::{Security, Transport};
use crate::config::Config;
use crate::error::{Error, UsageError};
use crate::protocol::{CloseCode, Connection, EncodedMessage, Sendable};

mod dispatch;
mod view;

pub(crate) use view::SocketRef;

/// A loop's connections and rooms, and what they share.
#[derive(Debug)]
pub(crate) struct LoopState<D> {
    worker: usize,
    config: Arc<Config>,
    shared: Arc<Shared>,
    registry: Registry,
    conns: Slab<Conn<D>>,
    rooms: Rooms,
    timers: Timers,
    dialer: Dialer,
    reader: Reader,
    /// Connections with new output to write at the end of this turn of the loop.
    dirty: Vec<usize>,
    /// Connections to read again next turn though no poll event may say so: an HTTP/1.1
    /// connection whose next request may be in its socket already.
    reread: Vec<usize>,
    /// Connections to fail after the current handler returns (a handler cannot run
    /// another handler), with the reason.
    failures: Vec<(usize, Error)>,
    /// The time at the top of this turn of the loop.
    now: Instant,
    /// Lent to the connection being served, so that sends allocate nothing.
    write_buffer: BytesMut,
    /// Shutting down: no new connections, no reconnections.
    stopping: bool,
    /// Keep each upgrade request for its socket's lifetime (the application asked).
    keep_request: bool,
    serial: u64,
}

impl<D: Default> LoopState<D> {
    pub(crate) fn new(
        worker: usize,
        config: Arc<Config>,
        shared: Arc<Shared>,
        registry: Registry,
        keep_request: bool,
    ) -> Self {
        LoopState {
            worker,
            config,
            shared,
            registry,
            conns: Slab::new(),
            rooms: Rooms::default(),
            timers: Timers::default(),
            dialer: Dialer::default(),
            reader: Reader::default(),
            dirty: Vec::new(),
            reread: Vec::new(),
            failures: Vec::new(),
            now: Instant::now(),
            write_buffer: BytesMut::new(),
            stopping: false,
            keep_request,
            serial: 0,
        }
    }

    /// Registers a connection a listener accepted (on this loop or another); its handshake
    /// starts.
    pub(crate) fn adopt(&mut self, stream: TcpStream, peer: SocketAddr, security: &Security) {
        if self.stopping {
            return;
        }
        // A TLS session that cannot be made (the acceptor's configuration refuses) drops
        // the connection, as a full table would.
        let Ok(transport) = security.accepted(stream) else {
            return;
        };
        let (config, now) = (self.config.clone(), self.now);
        self.insert(transport, |id, stream| {
            Conn::accepted(id, stream, peer, &config, now)
        });
    }

    /// Starts a client connection to `origin`. Failures before a socket exists (the name
    /// does not resolve, no route) go to the reconnection policy.
    pub(crate) fn connect(&mut self, origin: Box<ClientOrigin>) -> Result<SocketId, Error> {
        match Dialer::dial(&origin, &self.config) {
            Ok((stream, peer, handshake)) => {
                let now = self.now;
                let make = |id, stream| Conn::connecting(id, stream, peer, handshake, origin, now);
                let key = self
                    .insert(stream, make)
                    .ok_or_else(|| Error::Io(std::io::ErrorKind::OutOfMemory.into()))?;
                Ok(self.conns[key].id())
            }
            Err(error) => {
                self.wait_to_reconnect(origin);
                Err(error)
            }
        }
    }
}

impl<D> LoopState<D> {
    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// This loop's index among the runtime's loops.
    pub(crate) fn worker(&self) -> usize {
        self.worker
    }

    /// The connections to read next turn (see `reread`), emptying the list.
    pub(crate) fn take_rereads(&mut self) -> impl Iterator<Item = usize> + '_ {
        self.reread.drain(..)
    }

    /// Takes the time at the top of a turn.
    pub(crate) fn set_now(&mut self, now: Instant) {
        self.now = now;
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.conns.is_empty()
    }

    pub(crate) fn has_waiting_clients(&self) -> bool {
        !self.dialer.is_empty()
    }

    /// The earliest deadline of the loop.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.timers.next()
    }

    /// The key of the local connection `id` names, if it is still there.
    pub(crate) fn key_of(&self, id: SocketId) -> Option<usize> {
        let key = id.key();
        (id.worker() == self.worker && self.conns.get(key).is_some_and(|conn| conn.id() == id))
            .then_some(key)
    }

    /// Bytes queued on one local connection and not yet written (0 if it is gone).
    pub(crate) fn buffered_amount(&self, key: usize) -> usize {
        self.conns
            .get(key)
            .and_then(|conn| conn.connection())
            .map_or(0, |connection| connection.buffered_amount())
    }

    /// Registers a new connection's socket and slot; returns its key.
    fn insert(
        &mut self,
        mut stream: Transport,
        make: impl FnOnce(SocketId, Transport) -> Conn<D>,
    ) -> Option<usize> {
        let _ = stream.tcp().set_nodelay(true);
        let key = self.conns.vacant_key();
        let interest = Interest::READABLE | Interest::WRITABLE;
        self.registry
            .register(stream.tcp_mut(), Token(key), interest)
            .ok()?;
        self.serial += 1;
        let id = SocketId::new(self.worker, self.serial, key);
        self.conns.insert(make(id, stream));
        self.arm(key);
        Some(key)
    }

    /// Drops a connection: deregisters its socket, leaves its rooms, and for a client
    /// schedules the reconnection its policy asks for.
    pub(crate) fn remove(&mut self, key: usize) {
        if !self.conns.contains(key) {
            return;
        }
        self.leave_all(key);
        let mut conn = self.conns.remove(key);
        let _ = self.registry.deregister(conn.stream_mut());
        if let Some(origin) = conn.take_origin() {
            self.wait_to_reconnect(origin);
        }
    }

    fn wait_to_reconnect(&mut self, origin: Box<ClientOrigin>) {
        if self.stopping {
            return;
        }
        if let Some((at, key)) = self.dialer.wait(origin, self.now) {
            self.timers.schedule(at, Target::Reconnect(key));
        }
    }

    /// Lists connection `key` among those to write at the end of this turn, once.
    pub(crate) fn mark_dirty(&mut self, key: usize) {
        if let Some(conn) = self.conns.get_mut(key)
            && conn.mark_dirty()
        {
            self.dirty.push(key);
        }
    }

    /// Makes sure the connection's earliest deadline is in the timer heap.
    pub(crate) fn arm(&mut self, key: usize) {
        if let Some(conn) = self.conns.get_mut(key)
            && let Some(at) = conn.arm(&self.config)
        {
            self.timers.schedule(at, Target::Conn(conn.id()));
        }
    }

    /// Stops accepting and reconnecting, and closes every connection with 1001; drops the
    /// ones still in their handshake.
    pub(crate) fn begin_shutdown(&mut self) {
        self.stopping = true;
        self.dialer.clear();
        let keys: Vec<usize> = self.conns.iter().map(|(key, _)| key).collect();
        for key in keys {
            if self.conns[key].can_send() {
                let _ = self.close(key, CloseCode::GOING_AWAY, "server shutting down", false);
                self.arm(key);
            } else if self.conns[key].is_handshaking() {
                self.remove(key);
            }
        }
    }

    // ----- the operations of handlers and handles -------------------------------------

    /// Queues a message on one local connection, applying the write-queue bound.
    pub(crate) fn send(&mut self, key: usize, message: impl Sendable) -> Result<(), Error> {
        self.queue(key, |connection| connection.send(message))
    }

    /// Queues a ping on one local connection, applying the write-queue bound.
    pub(crate) fn ping(&mut self, key: usize, payload: &[u8]) -> Result<(), Error> {
        self.queue(key, |connection| connection.ping(payload))
    }

    fn queue(
        &mut self,
        key: usize,
        encode: impl FnOnce(&mut Connection) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let conn = self.conns.get_mut(key).ok_or(Error::Closed)?;
        match conn.queue(&self.config, encode) {
            Ok(()) => {
                self.mark_dirty(key);
                Ok(())
            }
            Err((error, fail)) => {
                if fail && let Error::Capacity(capacity) = &error {
                    self.failures.push((key, capacity.clone().into()));
                }
                Err(error)
            }
        }
    }

    /// Starts the close handshake on one local connection. `by_app`: a client then does
    /// not reconnect.
    pub(crate) fn close(
        &mut self,
        key: usize,
        code: CloseCode,
        reason: &str,
        by_app: bool,
    ) -> Result<(), Error> {
        let now = self.now;
        let conn = self.conns.get_mut(key).ok_or(Error::Closed)?;
        if conn.connection().is_none() {
            return Err(UsageError::SendAfterClose.into());
        }
        conn.close(code, reason, by_app, now)?;
        self.mark_dirty(key);
        Ok(())
    }

    /// Sends to a socket of any loop; local ones at once, others through their channel.
    pub(crate) fn send_to(&mut self, id: SocketId, message: &EncodedMessage) -> Result<(), Error> {
        if id.worker() == self.worker {
            let key = self.key_of(id).ok_or(Error::Closed)?;
            return self.send(key, message);
        }
        self.shared.send_message_to(id, message)
    }

    /// The local connections in `room` that messages can still be sent to.
    pub(crate) fn rooms_members(&self, room: &str) -> Vec<usize> {
        self.rooms
            .members(room)
            .filter(|&key| self.conns.get(key).is_some_and(|conn| conn.can_send()))
            .collect()
    }

    /// Every local connection that messages can still be sent to.
    pub(crate) fn open_keys(&self) -> Vec<usize> {
        self.conns
            .iter()
            .filter(|(_, conn)| conn.can_send())
            .map(|(key, _)| key)
            .collect()
    }

    /// The id of a local connection.
    pub(crate) fn id_of(&self, key: usize) -> Option<SocketId> {
        self.conns.get(key).map(|conn| conn.id())
    }

    /// Adds a local connection to a room.
    pub(crate) fn join(&mut self, key: usize, room: &str) {
        if let Some(name) = self.rooms.join(room, key)
            && let Some(conn) = self.conns.get_mut(key)
        {
            conn.rooms_mut().push(name);
        }
    }

    /// Removes a local connection from a room.
    pub(crate) fn leave(&mut self, key: usize, room: &str) {
        if self.rooms.leave(room, key)
            && let Some(conn) = self.conns.get_mut(key)
        {
            conn.rooms_mut().retain(|name| &**name != room);
        }
    }

    /// Removes a local connection from all its rooms.
    pub(crate) fn leave_all(&mut self, key: usize) {
        let Some(conn) = self.conns.get_mut(key) else {
            return;
        };
        for room in std::mem::take(conn.rooms_mut()) {
            self.rooms.leave(&room, key);
        }
    }

    /// Delivers a broadcast to this loop's members of `audience` and, if `forward`, hands
    /// it to every other loop. The frame is encoded once; each recipient queues the same
    /// bytes. Fails if another loop's command queue refused it (its members miss it; the
    /// others get it).
    pub(crate) fn broadcast(
        &mut self,
        audience: &Audience,
        message: &EncodedMessage,
        forward: bool,
    ) -> Result<(), Error> {
        let forwarded = if forward {
            self.shared.broadcast(audience, message, Some(self.worker))
        } else {
            Ok(())
        };
        let config = &self.config;
        let (failures, dirty) = (&mut self.failures, &mut self.dirty);
        let mut deliver = |key: usize, conn: &mut Conn<D>| {
            let excluded = audience.except.is_some_and(|except| conn.id() == except);
            if excluded || !conn.can_send() {
                return;
            }
            match conn.queue(config, |connection| connection.send(message)) {
                Ok(()) => {
                    if conn.mark_dirty() {
                        dirty.push(key);
                    }
                }
                Err((error, true)) => failures.push((key, error)),
                Err((_, false)) => {}
            }
        };
        match &audience.room {
            Some(room) => {
                for key in self.rooms.members(room) {
                    if let Some(conn) = self.conns.get_mut(key) {
                        deliver(key, conn);
                    }
                }
            }
            None => self
                .conns
                .iter_mut()
                .for_each(|(key, conn)| deliver(key, conn)),
        }
        forwarded
    }
}
