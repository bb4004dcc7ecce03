//! [`SocketRef`]: the narrow view of a loop that the event API gets for one connection: its
//! identity and data, its sends and close, its rooms, broadcasts from it, and the shared
//! part of the runtime. Nothing else of the loop's storage is reachable through it.

use std::net::SocketAddr;
use std::sync::Arc;

use super::LoopState;
use crate::config::Config;
use crate::error::Error;
use crate::handshake::HttpRequest;
use crate::protocol::{CloseCode, EncodedMessage, Sendable};
use crate::runtime::commands::{Audience, Shared, SocketId};
use crate::runtime::conn::Conn;

/// One live connection of a loop, as a handler sees it.
pub(crate) struct SocketRef<'a, D> {
    state: &'a mut LoopState<D>,
    key: usize,
}

impl<'a, D> SocketRef<'a, D> {
    /// The loop only builds one for a live connection, and handlers cannot remove it.
    pub(super) fn new(state: &'a mut LoopState<D>, key: usize) -> Self {
        SocketRef { state, key }
    }

    fn conn(&self) -> &Conn<D> {
        &self.state.conns[self.key]
    }

    pub(crate) fn id(&self) -> SocketId {
        self.conn().id()
    }

    pub(crate) fn peer_addr(&self) -> SocketAddr {
        self.conn().peer()
    }

    /// The request target, path and query (for a client: what it connected to).
    pub(crate) fn target(&self) -> &str {
        self.conn().target()
    }

    pub(crate) fn protocol(&self) -> Option<&str> {
        self.conn().protocol()
    }

    pub(crate) fn request(&self) -> Option<&HttpRequest> {
        self.conn().request()
    }

    pub(crate) fn is_compressed(&self) -> bool {
        self.conn().connection().is_some_and(|c| c.is_compressed())
    }

    pub(crate) fn is_open(&self) -> bool {
        self.conn().can_send()
    }

    pub(crate) fn buffered_amount(&self) -> usize {
        self.conn().connection().map_or(0, |c| c.buffered_amount())
    }

    pub(crate) fn data(&self) -> &D {
        self.conn().data()
    }

    pub(crate) fn data_mut(&mut self) -> &mut D {
        self.state.conns[self.key].data_mut()
    }

    pub(crate) fn rooms(&self) -> impl Iterator<Item = &str> {
        self.conn().rooms().iter().map(|room| &**room)
    }

    pub(crate) fn send(&mut self, message: impl Sendable) -> Result<(), Error> {
        self.state.send(self.key, message)
    }

    pub(crate) fn ping(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.state.ping(self.key, payload)
    }

    pub(crate) fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        self.state.close(self.key, code, reason, true)
    }

    pub(crate) fn join(&mut self, room: &str) {
        self.state.join(self.key, room);
    }

    pub(crate) fn leave(&mut self, room: &str) {
        self.state.leave(self.key, room);
    }

    /// Sends to the members of `audience` on this loop at once, and on the others through
    /// their channels.
    pub(crate) fn broadcast(
        &mut self,
        audience: &Audience,
        message: &EncodedMessage,
    ) -> Result<(), Error> {
        self.state.broadcast(audience, message, true)
    }

    pub(crate) fn send_to(&mut self, id: SocketId, message: &EncodedMessage) -> Result<(), Error> {
        self.state.send_to(id, message)
    }

    pub(crate) fn config(&self) -> &Config {
        &self.state.config
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.state.shared
    }
}
