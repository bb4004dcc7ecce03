//! [`Socket`]: what a handler gets: one connection, and through it the rooms and the rest of
//! the runtime.

use std::net::SocketAddr;

use super::{Broadcast, Handle};
use crate::error::Error;
use crate::handshake::HttpRequest;
use crate::protocol::{CloseCode, Sendable};
use crate::runtime::{Audience, RoomName, SocketId, SocketRef};

/// One connection, as a handler sees it.
///
/// Sends are queued and written when the handler returns (all the sends of one read go out
/// in one system call). A send fails once the socket is closing or closed, and when the
/// peer reads too slowly (see [`Config::max_write_buffer`](crate::Config)).
pub struct Socket<'a, D = ()> {
    view: SocketRef<'a, D>,
}

impl<'a, D> Socket<'a, D> {
    pub(crate) fn new(view: SocketRef<'a, D>) -> Self {
        Socket { view }
    }

    /// This connection's id, to reach it later (from any thread, with a [`Handle`]).
    pub fn id(&self) -> SocketId {
        self.view.id()
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> SocketAddr {
        self.view.peer_addr()
    }

    /// The request path (for a client: the path it connected to).
    pub fn path(&self) -> &str {
        let target = self.view.target();
        target.split_once('?').map_or(target, |(path, _)| path)
    }

    /// The request query, after `?`.
    pub fn query(&self) -> Option<&str> {
        self.view.target().split_once('?').map(|(_, query)| query)
    }

    /// The upgrade request (every header: cookies, `X-Forwarded-For`, a token...), when the
    /// server keeps it ([`Server::keep_request`](super::Server::keep_request)).
    pub fn request(&self) -> Option<&HttpRequest> {
        self.view.request()
    }

    /// The negotiated subprotocol.
    pub fn protocol(&self) -> Option<&str> {
        self.view.protocol()
    }

    /// True when permessage-deflate was negotiated for this connection.
    pub fn is_compressed(&self) -> bool {
        self.view.is_compressed()
    }

    /// True until a close frame was sent or received.
    pub fn is_open(&self) -> bool {
        self.view.is_open()
    }

    /// Bytes queued and not yet written, as the browser's `bufferedAmount`.
    pub fn buffered_amount(&self) -> usize {
        self.view.buffered_amount()
    }

    /// This connection's data.
    pub fn data(&self) -> &D {
        self.view.data()
    }

    /// This connection's data, to change.
    pub fn data_mut(&mut self) -> &mut D {
        self.view.data_mut()
    }

    /// Sends a message: text from `&str` or `String`, binary from `&[u8]`, `Vec<u8>` or
    /// `Bytes`, a [`Message`](crate::Message), or an
    /// [`EncodedMessage`](crate::EncodedMessage) framed once for many (see [`Sendable`]).
    /// A large owned payload is queued without being copied.
    pub fn send(&mut self, message: impl Sendable) -> Result<(), Error> {
        self.view.send(message)
    }

    /// Sends a ping (at most 125 bytes).
    pub fn ping(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.view.ping(payload)
    }

    /// Starts the close handshake; `on_close` runs when the peer answers (or the close
    /// timeout passes). A client closed this way does not reconnect.
    pub fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        self.view.close(code, reason)
    }

    /// Joins a room (no effect if already in it).
    pub fn join(&mut self, room: &str) {
        self.view.join(room);
    }

    /// Leaves a room (no effect if not in it).
    pub fn leave(&mut self, room: &str) {
        self.view.leave(room);
    }

    /// The rooms this connection is in.
    pub fn rooms(&self) -> impl Iterator<Item = &str> {
        self.view.rooms()
    }

    /// Sends to another connection, by id, wherever it is. A connection on another worker is
    /// reached through that worker's channel, which refuses the message with
    /// [`CapacityError::CommandQueueFull`](crate::CapacityError::CommandQueueFull) once
    /// [`max_command_queue`](crate::Config::max_command_queue) bytes wait in it.
    pub fn send_to(&mut self, id: SocketId, message: impl Sendable) -> Result<(), Error> {
        let message = message.encode(self.view.config());
        self.view.send_to(id, &message)
    }

    /// A handle to the whole runtime, to keep or to move to another thread.
    pub fn handle(&self) -> Handle {
        Handle::new(self.view.shared().clone())
    }
}

impl<'a, D: 'static> Socket<'a, D> {
    /// A broadcast to every connection of the runtime (this one included, unless
    /// [`except_sender`](Broadcast::except_sender)).
    pub fn broadcast(&mut self) -> Broadcast<'_> {
        let sender = self.id();
        Broadcast::from_loop(&mut self.view, sender, Audience::default())
    }

    /// A broadcast to the members of `room`, on every worker.
    pub fn to(&mut self, room: &str) -> Broadcast<'_> {
        let sender = self.id();
        let audience = Audience {
            room: Some(RoomName::from(room)),
            ..Audience::default()
        };
        Broadcast::from_loop(&mut self.view, sender, audience)
    }
}
