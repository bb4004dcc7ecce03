//! [`Socket`]: what a handler gets: one connection, and through it the rooms and the rest of
//! the server.

use std::net::SocketAddr;
use std::sync::Arc;

use crate::error::Error;
use crate::protocol::{CloseCode, EncodedMessage, Sendable};
use crate::runtime::{Audience, LoopState, RoomName, SocketId};

use super::Handle;

/// One connection, as a handler sees it.
///
/// Sends are queued and written when the handler returns (all the sends of one read go out
/// in one system call). A send fails once the socket is closing or closed, and when the
/// peer reads too slowly (see [`Config::max_write_buffer`](crate::Config)).
pub struct Socket<'a, D = ()> {
    state: &'a mut LoopState<D>,
    key: usize,
}

impl<'a, D> Socket<'a, D> {
    pub(crate) fn new(state: &'a mut LoopState<D>, key: usize) -> Self {
        Socket { state, key }
    }

    fn slot(&self) -> &crate::runtime::Slot<D> {
        // The runtime only builds a socket for a live slot, and handlers cannot remove it.
        &self.state.slots[self.key]
    }

    /// This connection's id, to reach it later (from any thread, with a [`Handle`]).
    pub fn id(&self) -> SocketId {
        self.slot().id
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> SocketAddr {
        self.slot().peer
    }

    /// The request path (for a client: the path it connected to).
    pub fn path(&self) -> &str {
        let target = &*self.slot().target;
        target.split_once('?').map_or(target, |(path, _)| path)
    }

    /// The request query, after `?`.
    pub fn query(&self) -> Option<&str> {
        self.slot().target.split_once('?').map(|(_, query)| query)
    }

    /// The negotiated subprotocol.
    pub fn protocol(&self) -> Option<&str> {
        self.slot().protocol.as_deref()
    }

    /// True when permessage-deflate was negotiated for this connection.
    pub fn is_compressed(&self) -> bool {
        self.slot().connection().is_some_and(|c| c.is_compressed())
    }

    /// True until a close frame was sent or received.
    pub fn is_open(&self) -> bool {
        self.slot().can_send()
    }

    /// Bytes queued and not yet written, as the browser's `bufferedAmount`.
    pub fn buffered_amount(&self) -> usize {
        self.slot().connection().map_or(0, |c| c.buffered_amount())
    }

    /// This connection's data.
    pub fn data(&self) -> &D {
        &self.slot().data
    }

    /// This connection's data, to change.
    pub fn data_mut(&mut self) -> &mut D {
        &mut self.state.slots[self.key].data
    }

    /// Sends a message: text from `&str` or `String`, binary from `&[u8]`, `Vec<u8>` or
    /// `Bytes`, a [`Message`](crate::Message), or an [`EncodedMessage`] framed once for
    /// many (see [`Sendable`]). A large owned payload is queued without being copied.
    pub fn send(&mut self, message: impl Sendable) -> Result<(), Error> {
        self.state.send(self.key, message)
    }

    /// Sends a ping (at most 125 bytes).
    pub fn ping(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.state.ping(self.key, payload)
    }

    /// Starts the close handshake; `on_close` runs when the peer answers (or the close
    /// timeout passes).
    pub fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        self.state.close(self.key, code, reason)
    }

    /// Joins a room (no effect if already in it).
    pub fn join(&mut self, room: &str) {
        self.state.join(self.key, room);
    }

    /// Leaves a room (no effect if not in it).
    pub fn leave(&mut self, room: &str) {
        self.state.leave(self.key, room);
    }

    /// The rooms this connection is in.
    pub fn rooms(&self) -> impl Iterator<Item = &str> {
        self.slot().rooms.iter().map(|room| &**room)
    }

    /// A broadcast to every connection of the server (this one included, unless
    /// [`except_sender`](Broadcast::except_sender)).
    pub fn broadcast(&mut self) -> Broadcast<'_, D> {
        let sender = self.id();
        Broadcast {
            state: self.state,
            sender,
            audience: Audience::default(),
        }
    }

    /// A broadcast to the members of `room`, on every worker.
    pub fn to(&mut self, room: &str) -> Broadcast<'_, D> {
        let sender = self.id();
        Broadcast {
            state: self.state,
            sender,
            audience: Audience {
                room: Some(RoomName::from(room)),
                except: None,
            },
        }
    }

    /// Sends to another connection, by id, wherever it is. A connection on another worker is
    /// reached through that worker's channel, which refuses the message with
    /// [`CapacityError::CommandQueueFull`](crate::CapacityError::CommandQueueFull) once
    /// [`max_command_queue`](crate::Config::max_command_queue) bytes wait in it.
    pub fn send_to(&mut self, id: SocketId, message: &EncodedMessage) -> Result<(), Error> {
        self.state.send_to(id, message)
    }

    /// A handle to the whole server, to keep or to move to another thread.
    pub fn handle(&self) -> Handle {
        Handle::new(Arc::clone(&self.state.shared))
    }
}

/// A message on its way to several connections: encoded once, the same bytes queued on
/// each.
pub struct Broadcast<'s, D> {
    state: &'s mut LoopState<D>,
    sender: SocketId,
    audience: Audience,
}

impl<D> Broadcast<'_, D> {
    /// Leaves out the connection whose handler is broadcasting.
    pub fn except_sender(mut self) -> Self {
        self.audience.except = Some(self.sender);
        self
    }

    /// Leaves out one connection.
    pub fn except(mut self, id: SocketId) -> Self {
        self.audience.except = Some(id);
        self
    }

    /// Sends a message, framed once (see [`Sendable`]); returns how many connections of
    /// this worker it was queued on (other workers get it through their channel; a worker
    /// whose channel holds [`max_command_queue`](crate::Config::max_command_queue) bytes
    /// misses it).
    pub fn send(self, message: impl Sendable) -> usize {
        let message = message.encode(&self.state.config);
        self.state.broadcast(&self.audience, &message, true)
    }
}
