//! [`LoopState`]: the part of a loop that handlers reach through their socket: the
//! connections, the rooms, and the operations on them (send, close, join, broadcast), with
//! the write-queue bound applied to every send.

use std::sync::Arc;
use std::time::Instant;

use bytes::BytesMut;
use slab::Slab;

use super::commands::{Audience, Shared, SocketId};
use super::rooms::Rooms;
use super::slot::Slot;
use crate::config::{Backpressure, Config};
use crate::error::{CapacityError, Error, UsageError};
use crate::protocol::{CloseCode, Connection, EncodedMessage, Sendable};

/// A loop's connections and rooms.
#[derive(Debug)]
pub(crate) struct LoopState<D> {
    pub(crate) worker: usize,
    pub(crate) config: Arc<Config>,
    pub(crate) shared: Arc<Shared>,
    pub(crate) slots: Slab<Slot<D>>,
    pub(crate) rooms: Rooms,
    /// Slots with new output to write at the end of this turn of the loop.
    pub(crate) dirty: Vec<usize>,
    /// Connections to fail after the current handler returns (a handler cannot run
    /// another handler), with the reason.
    pub(crate) failures: Vec<(usize, Error)>,
    /// The time at the top of this turn of the loop.
    pub(crate) now: Instant,
    /// Lent to the connection being served, so that sends allocate nothing.
    pub(crate) write_buffer: BytesMut,
    serial: u64,
}

impl<D> LoopState<D> {
    pub(crate) fn new(worker: usize, config: Arc<Config>, shared: Arc<Shared>) -> Self {
        LoopState {
            worker,
            config,
            shared,
            slots: Slab::new(),
            rooms: Rooms::default(),
            dirty: Vec::new(),
            failures: Vec::new(),
            now: Instant::now(),
            write_buffer: BytesMut::new(),
            serial: 0,
        }
    }

    /// A fresh id for the slot about to take `key`.
    pub(crate) fn next_id(&mut self, key: usize) -> SocketId {
        self.serial += 1;
        SocketId::new(self.worker, self.serial, key)
    }

    /// The key of the local slot `id` names, if it is still there.
    pub(crate) fn key_of(&self, id: SocketId) -> Option<usize> {
        let key = id.key();
        (id.worker() == self.worker && self.slots.get(key).is_some_and(|slot| slot.id == id))
            .then_some(key)
    }

    pub(crate) fn mark_dirty(&mut self, key: usize) {
        if let Some(slot) = self.slots.get_mut(key) {
            mark_slot_dirty(slot, key, &mut self.dirty);
        }
    }

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
        let slot = self.slots.get_mut(key).ok_or(Error::Closed)?;
        queue_on(
            slot,
            key,
            encode,
            &self.config,
            &mut self.failures,
            &mut self.dirty,
        )
    }

    /// Starts the close handshake on one local connection.
    pub(crate) fn close(&mut self, key: usize, code: CloseCode, reason: &str) -> Result<(), Error> {
        let now = self.now;
        let slot = self.slots.get_mut(key).ok_or(Error::Closed)?;
        let connection = slot.connection_mut().ok_or(UsageError::SendAfterClose)?;
        connection.close(code, reason)?;
        slot.since = now;
        slot.closed_by_app = true;
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

    /// Adds a local connection to a room.
    pub(crate) fn join(&mut self, key: usize, room: &str) {
        if let Some(name) = self.rooms.join(room, key)
            && let Some(slot) = self.slots.get_mut(key)
        {
            slot.rooms.push(name);
        }
    }

    /// Removes a local connection from a room.
    pub(crate) fn leave(&mut self, key: usize, room: &str) {
        if self.rooms.leave(room, key)
            && let Some(slot) = self.slots.get_mut(key)
        {
            slot.rooms.retain(|name| &**name != room);
        }
    }

    /// Removes a local connection from all its rooms.
    pub(crate) fn leave_all(&mut self, key: usize) {
        let Some(slot) = self.slots.get_mut(key) else {
            return;
        };
        for room in std::mem::take(&mut slot.rooms) {
            self.rooms.leave(&room, key);
        }
    }

    /// Delivers a broadcast to this loop's members of `audience`, and, if `forward`, hands
    /// it to every other loop (a loop whose command queue is full misses it). The frame is
    /// encoded once; each recipient queues the same bytes. Returns how many local sockets it
    /// was queued on.
    pub(crate) fn broadcast(
        &mut self,
        audience: &Audience,
        message: &EncodedMessage,
        forward: bool,
    ) -> usize {
        if forward {
            let _ = self.shared.broadcast(audience, message, Some(self.worker));
        }
        let config = &self.config;
        let (failures, dirty) = (&mut self.failures, &mut self.dirty);
        let mut delivered = 0;
        let mut deliver = |key: usize, slot: &mut Slot<D>| {
            let excluded = audience.except.is_some_and(|except| slot.id == except);
            let encode = |connection: &mut Connection| connection.send(message);
            if !excluded
                && slot.can_send()
                && queue_on(slot, key, encode, config, failures, dirty).is_ok()
            {
                delivered += 1;
            }
        };
        match &audience.room {
            Some(room) => {
                for key in self.rooms.members(room) {
                    if let Some(slot) = self.slots.get_mut(key) {
                        deliver(key, slot);
                    }
                }
            }
            None => self
                .slots
                .iter_mut()
                .for_each(|(key, slot)| deliver(key, slot)),
        }
        delivered
    }
}

/// Queues what `encode` writes on the connection in `slot` (at `key`), applying the write-queue
/// bound of `config`: a full queue refuses the message, and under [`Backpressure::Close`]
/// also schedules the connection to be failed.
fn queue_on<D>(
    slot: &mut Slot<D>,
    key: usize,
    encode: impl FnOnce(&mut Connection) -> Result<(), Error>,
    config: &Config,
    failures: &mut Vec<(usize, Error)>,
    dirty: &mut Vec<usize>,
) -> Result<(), Error> {
    if !slot.can_send() {
        return Err(UsageError::SendAfterClose.into());
    }
    let Some(connection) = slot.connection_mut() else {
        return Err(UsageError::SendAfterClose.into());
    };
    let buffered = connection.buffered_amount();
    let limit = config.max_write_buffer;
    if buffered >= limit {
        let error = CapacityError::WriteBufferFull { buffered, limit };
        if config.backpressure == Backpressure::Close {
            failures.push((key, error.clone().into()));
        }
        return Err(error.into());
    }
    encode(connection)?;
    mark_slot_dirty(slot, key, dirty);
    Ok(())
}

/// Lists `slot` (at `key`) among those to write at the end of this turn, once.
fn mark_slot_dirty<D>(slot: &mut Slot<D>, key: usize, dirty: &mut Vec<usize>) {
    if !slot.dirty {
        slot.dirty = true;
        dirty.push(key);
    }
}
