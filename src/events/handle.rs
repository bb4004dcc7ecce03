//! [`Handle`]: reaching sockets, rooms and the runtime itself from any thread.

use std::sync::Arc;

use super::{Broadcast, Fanout};
use crate::error::Error;
use crate::protocol::{CloseCode, EncodedMessage, Sendable};
use crate::runtime::{Audience, Command, FanoutHook, MemberAction, RoomName, Shared, SocketId};

/// A handle to a running server or client: cheap to clone, `Send + Sync`.
///
/// Everything it does goes through the owning loop's channel and wakes it; the work happens
/// on that loop's thread, in order.
///
/// ```no_run
/// use std::time::Duration;
/// use rfc6455::events::{Handlers, Server};
///
/// let loops = Server::new(Handlers::<()>::new()).bind("127.0.0.1:0")?;
/// let handle = loops.handle();
/// std::thread::spawn(move || loop {
///     // Err if the loop is gone, or so far behind that its queue is full: skip a tick.
///     let _ = handle.to("ticks").send("tick");
///     std::thread::sleep(Duration::from_secs(1));
/// });
/// loops.run()?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Handle {
    shared: Arc<Shared>,
}

impl Handle {
    pub(crate) fn new(shared: Arc<Shared>) -> Handle {
        Handle { shared }
    }

    /// Sends a command to loop `worker`; false if that loop is gone.
    pub(crate) fn send_command(&self, worker: usize, command: Command) -> bool {
        self.shared
            .remotes
            .get(worker)
            .is_some_and(|remote| remote.send(command))
    }

    /// Sends a message to one socket (see [`Sendable`]). Fails if its worker is gone, or
    /// with [`CapacityError::CommandQueueFull`](crate::CapacityError::CommandQueueFull) if
    /// that worker has [`max_command_queue`](crate::Config::max_command_queue) bytes of
    /// messages still to take in; a socket that closed in the meantime drops the message
    /// silently.
    pub fn send(&self, id: SocketId, message: impl Sendable) -> Result<(), Error> {
        self.shared.send_message_to(id, &self.encode(message))
    }

    /// Sends a message to one socket only if it can take it at once: when the socket's loop
    /// takes the send, the socket's write queue must be empty
    /// ([`buffered_amount`](super::Socket::buffered_amount) 0), else the message is dropped
    /// (Socket.IO's volatile emit: a position update that is stale by the time a slow peer
    /// could read it). Dropped too, at once, when the loop is so far behind that its
    /// command queue is full. `Ok` means handed to the loop or dropped, not sent; the one
    /// error is [`Error::Closed`]: the socket's loop is gone.
    pub fn send_volatile(&self, id: SocketId, message: impl Sendable) -> Result<(), Error> {
        self.shared
            .send_each(vec![id], vec![self.encode(message)], true)
    }

    /// The same messages, framed once, to each socket of `ids`, in order, with one
    /// command per loop ([`send_volatile`](Self::send_volatile)'s rule with
    /// `only_if_idle`): a Socket.IO packet and its attachments, to one socket or to the
    /// recipients of a broadcast.
    #[cfg(feature = "socketio")]
    pub(crate) fn send_each(
        &self,
        ids: Vec<SocketId>,
        messages: Vec<EncodedMessage>,
        only_if_idle: bool,
    ) -> Result<(), Error> {
        self.shared.send_each(ids, messages, only_if_idle)
    }

    /// The sockets in `room` (every socket when `None`) on every loop of this server:
    /// `answer` gets their ids, sorted, once every loop has looked, on the thread of the
    /// last one. Nothing waits for it, so a handler may ask too. Across the servers of a
    /// cluster: [`redis::Cluster::sockets_in`](crate::redis::Cluster::sockets_in). Fails
    /// with [`Error::Closed`] if a loop is gone (`answer` is still called, with the
    /// others' sockets).
    pub fn sockets_in(
        &self,
        room: Option<&str>,
        answer: impl FnOnce(Vec<SocketId>) + Send + 'static,
    ) -> Result<(), Error> {
        self.shared.list_members(room, answer)
    }

    /// Makes every socket in `room` (every socket when `None`) of this server join `to`
    /// (Socket.IO's `socketsJoin`), each loop for its own sockets.
    pub fn sockets_join(&self, room: Option<&str>, to: &str) -> Result<(), Error> {
        self.shared.members(room, MemberAction::Join(to.to_owned()))
    }

    /// Makes every socket in `room` (every socket when `None`) of this server leave `from`.
    pub fn sockets_leave(&self, room: Option<&str>, from: &str) -> Result<(), Error> {
        self.shared
            .members(room, MemberAction::Leave(from.to_owned()))
    }

    /// Starts the close handshake, with `code` and `reason`, on every socket in `room`
    /// (every socket when `None`) of this server.
    pub fn disconnect_sockets(
        &self,
        room: Option<&str>,
        code: CloseCode,
        reason: &str,
    ) -> Result<(), Error> {
        self.shared
            .members(room, MemberAction::Close(code, reason.to_owned()))
    }

    /// Frames a message once for this runtime's connections (compressed too, if they may
    /// be), to send it to many sockets without framing it again.
    pub fn encode(&self, message: impl Sendable) -> EncodedMessage {
        message.encode(&self.shared.config)
    }

    /// Starts the close handshake on one socket.
    pub fn close(&self, id: SocketId, code: CloseCode, reason: &str) -> Result<(), Error> {
        if self
            .shared
            .send_to(id, Command::Close(id, code, reason.to_owned()))
        {
            Ok(())
        } else {
            Err(Error::Closed)
        }
    }

    /// A broadcast to every connection.
    pub fn broadcast(&self) -> Broadcast<'_> {
        Broadcast::from_handle(&self.shared, Audience::default())
    }

    /// A broadcast to the members of `room`.
    pub fn to(&self, room: &str) -> Broadcast<'_> {
        let audience = Audience {
            room: Some(RoomName::from(room)),
            ..Audience::default()
        };
        Broadcast::from_handle(&self.shared, audience)
    }

    /// Joins a cluster: from now on every broadcast made on this server (from a handler
    /// or a handle, to a room or to everyone) is also given to `fanout`, which carries it
    /// to the other servers (they deliver it with [`Broadcast::this_server_only`]).
    /// [`redis::Cluster`](crate#features) is one. A server has at most one: a second
    /// call is refused with [`UsageError::InvalidInput`](crate::UsageError::InvalidInput).
    pub fn set_fanout(&self, fanout: impl Fanout) -> Result<(), Error> {
        let hook = FanoutHook(Box::new(move |room, message| {
            fanout.broadcast(room, message)
        }));
        self.shared
            .fanout
            .set(hook)
            .map_err(|_| crate::UsageError::InvalidInput("second fanout").into())
    }

    /// Stops accepting, closes every connection with 1001 (going away), and lets `run`
    /// return once the close handshakes are over or timed out.
    pub fn shutdown(&self) {
        self.shared
            .shutting_down
            .store(true, std::sync::atomic::Ordering::Release);
        for remote in &self.shared.remotes {
            remote.send(Command::Shutdown);
        }
    }

    /// True once [`shutdown`](Self::shutdown) was called.
    pub fn is_shutting_down(&self) -> bool {
        self.shared
            .shutting_down
            .load(std::sync::atomic::Ordering::Acquire)
    }
}
