//! [`Slot`]: everything a loop keeps for one connection, from the first byte to the last.

use std::net::SocketAddr;
use std::time::Instant;

use mio::net::TcpStream;

use super::client::ClientOrigin;
use super::commands::SocketId;
use super::rooms::RoomName;
use crate::config::Config;
use crate::handshake::{ClientHandshake, ServerHandshake};
use crate::protocol::{Connection, State};

/// Where a connection is in its life.
#[derive(Debug)]
#[allow(
    clippy::large_enum_variant,
    reason = "Open is the steady state of every connection; boxing it would add an \
              allocation per connection and an indirection per message"
)]
pub(crate) enum Phase {
    /// Server side: reading the request head.
    Handshake(Box<ServerHandshake>),
    /// Client side: the TCP connection is being established.
    Connecting(Box<ClientHandshake>),
    /// Client side: writing the request (`written` bytes so far), then reading the response.
    Upgrading(Box<ClientHandshake>, usize),
    /// Writing a plain HTTP response (or a refusal); the connection closes after it.
    Http(Box<[u8]>, usize),
    /// The WebSocket is open (or closing: see the connection's state).
    Open(Connection),
    /// The WebSocket is closed and its last bytes written; waiting for the peer to close its
    /// side of TCP (or the close timeout) before the socket is dropped.
    Draining,
}

/// A connection's slot in the loop.
#[derive(Debug)]
pub(crate) struct Slot<D> {
    pub(crate) id: SocketId,
    pub(crate) stream: TcpStream,
    pub(crate) peer: SocketAddr,
    pub(crate) phase: Phase,
    /// The request target (path and query) and the chosen subprotocol.
    pub(crate) target: Box<str>,
    pub(crate) protocol: Option<Box<str>>,
    pub(crate) rooms: Vec<RoomName>,
    pub(crate) data: D,
    /// When the current phase started (handshake, close handshake, drain).
    pub(crate) since: Instant,
    /// When bytes last arrived.
    pub(crate) last_heard: Instant,
    /// When a keep-alive ping went out, if nothing arrived since.
    pub(crate) ping_sent: Option<Instant>,
    /// The time of this slot's live timer entry.
    pub(crate) timer_at: Option<Instant>,
    /// In the loop's list of slots to flush.
    pub(crate) dirty: bool,
    /// `on_close` has run (or the socket never opened): no more handler calls.
    pub(crate) finished: bool,
    /// The application closed it: a client does not reconnect.
    pub(crate) closed_by_app: bool,
    /// Set for client connections: where to reconnect.
    pub(crate) origin: Option<Box<ClientOrigin>>,
}

impl<D> Slot<D> {
    pub(crate) fn connection(&self) -> Option<&Connection> {
        match &self.phase {
            Phase::Open(connection) => Some(connection),
            _ => None,
        }
    }

    pub(crate) fn connection_mut(&mut self) -> Option<&mut Connection> {
        match &mut self.phase {
            Phase::Open(connection) => Some(connection),
            _ => None,
        }
    }

    /// True while messages can be sent: open, and no close frame sent or received.
    pub(crate) fn can_send(&self) -> bool {
        !self.finished && self.connection().is_some_and(|c| c.state() == State::Open)
    }

    /// The next moment something must happen to this slot, whatever it is.
    pub(crate) fn deadline(&self, config: &Config) -> Option<Instant> {
        match &self.phase {
            Phase::Handshake(_) | Phase::Connecting(_) | Phase::Upgrading(..) => {
                Some(self.since + config.handshake_timeout)
            }
            Phase::Http(..) | Phase::Draining => Some(self.since + config.close_timeout),
            Phase::Open(connection) => match (connection.state(), self.ping_sent) {
                (State::Open, Some(sent)) => Some(sent + config.pong_timeout),
                (State::Open, None) => config.ping_interval.map(|every| self.last_heard + every),
                _ => Some(self.since + config.close_timeout),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An idle connection holds its slot and nothing else (the buffers are the loop's), so
    /// the slot's size is the memory per idle connection, up to the slab's growth.
    #[test]
    fn a_slot_stays_small() {
        let slot = std::mem::size_of::<Slot<()>>();
        let connection = std::mem::size_of::<Connection>();
        println!("slot {slot} bytes, of which the connection {connection}");
        assert!(slot <= 512, "slot {slot} bytes");
    }
}
