//! [`Broadcast`]: one message on its way to several connections, from a handler or from a
//! [`Handle`](super::Handle): framed once, the same bytes queued on every recipient.

use std::sync::Arc;

use crate::config::Config;
use crate::error::Error;
use crate::protocol::{EncodedMessage, Sendable};
use crate::runtime::{Audience, Shared, SocketId, SocketRef};

/// A handler's loop, seen by a broadcast: its own recipients get the message at once.
trait LoopBroadcast {
    fn config(&self) -> &Config;
    fn deliver(&mut self, audience: &Audience, message: &EncodedMessage) -> Result<(), Error>;
}

impl<D> LoopBroadcast for SocketRef<'_, D> {
    fn config(&self) -> &Config {
        SocketRef::config(self)
    }

    fn deliver(&mut self, audience: &Audience, message: &EncodedMessage) -> Result<(), Error> {
        self.broadcast(audience, message)
    }
}

enum Origin<'a> {
    /// A handler: its loop delivers at once and hands the message to the other loops.
    Loop(&'a mut dyn LoopBroadcast, SocketId),
    /// A handle: every loop gets it through its channel.
    Handle(&'a Arc<Shared>),
}

/// A message on its way to every connection, or to a room's members, minus the ones left
/// out: framed once, the same bytes queued on each (server frames are not masked, so one
/// encoding serves all). Started by [`Socket::broadcast`](super::Socket::broadcast) and
/// [`Socket::to`](super::Socket::to) in a handler, or by the same methods of a
/// [`Handle`](super::Handle) on any thread.
pub struct Broadcast<'a> {
    from: Origin<'a>,
    audience: Audience,
}

impl<'a> Broadcast<'a> {
    pub(crate) fn from_loop<D: 'static>(
        view: &'a mut SocketRef<'_, D>,
        sender: SocketId,
        audience: Audience,
    ) -> Self {
        Broadcast {
            from: Origin::Loop(view, sender),
            audience,
        }
    }

    pub(crate) fn from_handle(shared: &'a Arc<Shared>, audience: Audience) -> Self {
        Broadcast {
            from: Origin::Handle(shared),
            audience,
        }
    }

    /// Leaves out the connection whose handler is broadcasting (no effect from a handle).
    pub fn except_sender(mut self) -> Self {
        if let Origin::Loop(_, sender) = &self.from {
            self.audience.except = Some(*sender);
        }
        self
    }

    /// Leaves out one connection.
    pub fn except(mut self, id: SocketId) -> Self {
        self.audience.except = Some(id);
        self
    }

    /// Leaves out the other servers of the cluster, if this one joined one
    /// ([`Handle::set_fanout`](super::Handle::set_fanout)): the message reaches this
    /// server's sockets only. What a cluster uses to deliver another server's broadcast.
    pub fn this_server_only(mut self) -> Self {
        self.audience.this_server_only = true;
        self
    }

    /// Sends the message (see [`Sendable`]). Each worker delivers to its own members: the
    /// broadcasting handler's worker at once, the others through their channels. Fails
    /// with [`CapacityError::CommandQueueFull`](crate::CapacityError::CommandQueueFull) if
    /// a worker's channel holds [`max_command_queue`](crate::Config::max_command_queue)
    /// bytes (that worker's members miss the message; the others get it), or
    /// [`Error::Closed`] if a worker is gone. Recipients whose write queue is full do not
    /// get it (see [`Config::backpressure`](crate::Config::backpressure)).
    pub fn send(self, message: impl Sendable) -> Result<(), Error> {
        match self.from {
            Origin::Loop(view, _) => {
                let message = message.encode(view.config());
                view.deliver(&self.audience, &message)
            }
            Origin::Handle(shared) => {
                let message = message.encode(&shared.config);
                shared.broadcast(&self.audience, &message, None)
            }
        }
    }
}

impl std::fmt::Debug for Broadcast<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Broadcast")
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}
