//! How other threads reach a loop: a [`Command`] channel plus a `mio::Waker`, one pair per
//! loop, gathered in [`Shared`]. [`SocketId`]s say which loop owns a connection.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};

use super::membership::{MemberAction, MemberList};
use super::rooms::RoomName;
use super::transport::Security;
use crate::error::{CapacityError, Error};
use crate::protocol::{CloseCode, EncodedMessage};

/// A connection's identity, unique among the loops of one runtime.
///
/// It names the loop that owns the connection, so a [`Handle`](crate::events::Handle)
/// reaches it from any thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SocketId(u64);

impl SocketId {
    /// Worker index in the top 8 bits, a per-loop serial in the next 24, the slab key in the
    /// low 32 (a slab key is reused; the serial tells a stale id from the new owner).
    pub(crate) fn new(worker: usize, serial: u64, key: usize) -> SocketId {
        SocketId(
            ((worker as u64) << 56) | ((serial & 0xFF_FFFF) << 32) | (key as u64 & 0xFFFF_FFFF),
        )
    }

    pub(crate) fn worker(self) -> usize {
        (self.0 >> 56) as usize
    }

    pub(crate) fn key(self) -> usize {
        (self.0 & 0xFFFF_FFFF) as usize
    }

    /// The id as a number (for logs, maps, or a client-visible identifier).
    pub fn as_u64(self) -> u64 {
        self.0
    }
}

impl std::fmt::Display for SocketId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:x}", self.0)
    }
}

/// Who a broadcast goes to: everyone, or a room's members, minus one socket if given; on
/// this server only, or also on the other servers of its cluster (through the fanout).
#[derive(Debug, Clone, Default)]
pub(crate) struct Audience {
    pub(crate) room: Option<RoomName>,
    pub(crate) except: Option<SocketId>,
    /// Not handed to the fanout: a broadcast that came from another server.
    pub(crate) this_server_only: bool,
}

/// Where a server's broadcasts also go (the other servers of a cluster): called once per
/// broadcast, on the broadcasting thread, with the room (if any) and the message.
pub(crate) struct FanoutHook(pub(crate) Box<BroadcastHook>);

type BroadcastHook = dyn Fn(Option<&str>, &EncodedMessage) + Send + Sync;

impl std::fmt::Debug for FanoutHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FanoutHook")
    }
}

/// What another thread asks a loop to do.
#[derive(Debug)]
pub(crate) enum Command {
    /// Take over a connection another loop accepted.
    Adopt(mio::net::TcpStream, SocketAddr, Security),
    /// Listen on one more socket (a server's second listener, plain or TLS).
    Listen(mio::net::TcpListener, Security),
    /// Send a message to one socket.
    Send(SocketId, EncodedMessage),
    /// Send the same messages, framed once, to each of these sockets (all of this loop),
    /// in order; with `only_if_idle`, only to those whose write queue is empty when the
    /// loop takes the command, all the messages or none (a volatile send).
    SendEach {
        ids: Vec<SocketId>,
        messages: Vec<EncodedMessage>,
        only_if_idle: bool,
    },
    /// Start the close handshake on one socket.
    Close(SocketId, CloseCode, String),
    /// Send a message to this loop's share of an audience.
    Broadcast(Audience, EncodedMessage),
    /// Do this to this loop's members of the room (every connection: `None`).
    Members(Option<RoomName>, MemberAction),
    /// The application answered a deferred upgrade of this socket: take the answer.
    Answered(SocketId),
    /// Close everything with 1001 and stop.
    Shutdown,
}

/// The sending side of one loop's channel.
#[derive(Debug)]
pub(crate) struct Remote {
    sender: Sender<Command>,
    waker: mio::Waker,
    /// True while a wake-up is pending, so a burst of commands costs one system call.
    notified: AtomicBool,
    /// Message bytes in the channel (`Send` and `Broadcast`), which the loop takes off as it
    /// receives them; bounded by `max_command_queue`.
    queued: AtomicUsize,
    max_queued: usize,
}

impl Remote {
    pub(crate) fn new(
        registry: &mio::Registry,
        token: mio::Token,
        max_queued: usize,
    ) -> std::io::Result<(Remote, Receiver<Command>)> {
        let (sender, receiver) = channel();
        let remote = Remote {
            sender,
            waker: mio::Waker::new(registry, token)?,
            notified: AtomicBool::new(false),
            queued: AtomicUsize::new(0),
            max_queued,
        };
        Ok((remote, receiver))
    }

    /// Queues a command and wakes the loop if it is not already being woken. Returns false
    /// if the loop is gone.
    pub(crate) fn send(&self, command: Command) -> bool {
        if self.sender.send(command).is_err() {
            return false;
        }
        if !self.notified.swap(true, Ordering::AcqRel) {
            // A failed wake means the loop's poll is gone: the loop has stopped.
            return self.waker.wake().is_ok();
        }
        true
    }

    /// Queues a command carrying messages of `held` bytes (`Send`, `SendEach`,
    /// `Broadcast`), unless the channel already holds `max_command_queue` bytes of messages.
    /// Fails with [`Error::Closed`] if the loop is gone.
    pub(crate) fn send_message(&self, command: Command, held: usize) -> Result<(), Error> {
        let queued = self.queued.load(Ordering::Acquire);
        if queued >= self.max_queued {
            return Err(CapacityError::CommandQueueFull {
                queued,
                limit: self.max_queued,
            }
            .into());
        }
        self.queued.fetch_add(held, Ordering::AcqRel);
        if self.send(command) {
            Ok(())
        } else {
            Err(Error::Closed)
        }
    }

    /// Called by the loop for each command carrying messages of `held` bytes it takes off
    /// its channel.
    pub(crate) fn took(&self, held: usize) {
        self.queued.fetch_sub(held, Ordering::AcqRel);
    }

    /// Called by the loop when it leaves commands in its channel for its next turn: its poll
    /// then returns at once.
    pub(crate) fn wake_again(&self) {
        self.notified.store(true, Ordering::Release);
        // A failed wake means the poll is gone, and so is the loop.
        let _ = self.waker.wake();
    }

    /// Called by the loop before it drains its channel.
    pub(crate) fn clear_notified(&self) {
        self.notified.store(false, Ordering::Release);
    }
}

/// What every loop and handle of one runtime shares.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) remotes: Vec<Remote>,
    pub(crate) shutting_down: AtomicBool,
    /// The runtime's configuration (broadcasts compress by it).
    pub(crate) config: std::sync::Arc<crate::Config>,
    /// Where broadcasts also go, once a cluster is joined.
    pub(crate) fanout: std::sync::OnceLock<FanoutHook>,
}

impl Shared {
    /// Sends `command` to the loop that owns `id`.
    pub(crate) fn send_to(&self, id: SocketId, command: Command) -> bool {
        self.remotes
            .get(id.worker())
            .is_some_and(|remote| remote.send(command))
    }

    /// Sends `message` to the socket `id`, through the channel of the loop that owns it.
    pub(crate) fn send_message_to(
        &self,
        id: SocketId,
        message: &EncodedMessage,
    ) -> Result<(), Error> {
        let remote = self.remotes.get(id.worker()).ok_or(Error::Closed)?;
        remote.send_message(Command::Send(id, message.clone()), message.held_bytes())
    }

    /// Sends `messages` to each socket of `ids`, through one command per loop that owns
    /// some: the messages' bytes are shared, and counted once per loop against its
    /// `max_command_queue`. With `only_if_idle`, each socket gets them only if its write
    /// queue is empty when its loop takes them, and a loop whose channel is full drops them
    /// at once, which is no error. Otherwise every loop is tried; the first refusal is
    /// returned.
    pub(crate) fn send_each(
        &self,
        mut ids: Vec<SocketId>,
        messages: Vec<EncodedMessage>,
        only_if_idle: bool,
    ) -> Result<(), Error> {
        let bytes: usize = messages.iter().map(EncodedMessage::held_bytes).sum();
        ids.sort_unstable_by_key(|id| id.worker());
        let mut refused = None;
        for group in ids.chunk_by(|a, b| a.worker() == b.worker()) {
            let Some(first) = group.first() else {
                continue;
            };
            let held = bytes + std::mem::size_of_val(group);
            let command = Command::SendEach {
                ids: group.to_vec(),
                messages: messages.clone(),
                only_if_idle,
            };
            let sent = match self.remotes.get(first.worker()) {
                Some(remote) => remote.send_message(command, held),
                None => Err(Error::Closed),
            };
            match sent {
                Err(Error::Capacity(CapacityError::CommandQueueFull { .. })) if only_if_idle => {}
                Err(error) => {
                    refused.get_or_insert(error);
                }
                Ok(()) => {}
            }
        }
        refused.map_or(Ok(()), Err)
    }

    /// Hands `action` on the members of `room` (every connection: `None`) to every loop.
    /// A list is answered once every loop has added its members; a loop that is gone
    /// counts as one with none. Fails with [`Error::Closed`] if any loop is gone.
    pub(crate) fn members(&self, room: Option<&str>, action: MemberAction) -> Result<(), Error> {
        let room: Option<RoomName> = room.map(RoomName::from);
        let mut gone = false;
        for remote in &self.remotes {
            let action = action.clone();
            let list = match &action {
                MemberAction::List(list) => Some(list.clone()),
                _ => None,
            };
            if !remote.send(Command::Members(room.clone(), action)) {
                gone = true;
                if let Some(list) = list {
                    list.add(Vec::new());
                }
            }
        }
        match gone {
            true => Err(Error::Closed),
            false => Ok(()),
        }
    }

    /// Lists the members of `room` (every connection: `None`) on every loop; `answer` gets
    /// their ids, sorted, on the thread of the last loop to answer.
    pub(crate) fn list_members(
        &self,
        room: Option<&str>,
        answer: impl FnOnce(Vec<SocketId>) + Send + 'static,
    ) -> Result<(), Error> {
        let list = MemberList::new(self.remotes.len(), Box::new(answer));
        self.members(room, MemberAction::List(list))
    }

    /// Hands a broadcast to every loop but `skip` (the one broadcasting, if any). Every
    /// loop is tried; the first refusal is returned.
    pub(crate) fn broadcast(
        &self,
        audience: &Audience,
        message: &EncodedMessage,
        skip: Option<usize>,
    ) -> Result<(), Error> {
        if !audience.this_server_only
            && let Some(fanout) = self.fanout.get()
        {
            (fanout.0)(audience.room.as_deref(), message);
        }
        let mut outcome = Ok(());
        for (worker, remote) in self.remotes.iter().enumerate() {
            if Some(worker) == skip {
                continue;
            }
            let command = Command::Broadcast(audience.clone(), message.clone());
            if let Err(error) = remote.send_message(command, message.held_bytes()) {
                outcome = outcome.and(Err(error));
            }
        }
        outcome
    }
}
