//! Layer 2: the mio runtime. One `mio::Poll` per loop, connections in a slab keyed by token,
//! edge-triggered reads and writes until `WouldBlock`, timers in a heap driven by the poll
//! timeout, and a command channel with a `mio::Waker` through which other threads (and
//! other loops) reach a loop.
//!
//! The runtime drives the sans-IO core and calls an [`Application`] on events; the event
//! API of [`crate::events`] is the application users write.
//!
//! Memory: a loop owns one read buffer and one write buffer, lent to the connection being
//! served. An idle connection holds no buffer: only a slot (the core's `Connection` and a
//! little bookkeeping) and, while a frame is incomplete, that frame's bytes.

mod client;
mod commands;
mod event_loop;
mod io;
mod rooms;
mod slot;
mod state;
mod timers;

pub use client::Reconnect;
pub use commands::SocketId;

pub(crate) use client::ClientOrigin;
pub(crate) use commands::{Audience, Command, Shared};
pub(crate) use event_loop::{EventLoop, Listener, new_loops};
pub(crate) use rooms::RoomName;
pub(crate) use slot::Slot;
pub(crate) use state::LoopState;

use crate::error::Error;
use crate::handshake::{Accept, HttpRequest, HttpResponse, UpgradeRequest};
use crate::protocol::{CloseCode, Message};

/// What a loop calls on events. `key` names the connection's slot in `state`.
pub(crate) trait Application: Send + Sync + 'static {
    /// Per-connection data, created with `Default` when a connection is accepted.
    type Data: Default + Send + 'static;

    /// A WebSocket upgrade arrived: accept it (filling `data`) or refuse it.
    fn upgrade(
        &self,
        request: &UpgradeRequest,
        data: &mut Self::Data,
    ) -> Result<Accept, HttpResponse>;
    /// A plain HTTP request arrived on the WebSocket port.
    fn http(&self, request: &HttpRequest) -> HttpResponse;
    /// The WebSocket opened.
    fn open(&self, state: &mut LoopState<Self::Data>, key: usize);
    /// A complete message arrived.
    fn message(&self, state: &mut LoopState<Self::Data>, key: usize, message: Message);
    /// The connection closed: the peer's close frame, our failure code, or 1006.
    fn close(&self, state: &mut LoopState<Self::Data>, key: usize, code: CloseCode, reason: &str);
    /// Something went wrong; `close` follows.
    fn error(&self, state: &mut LoopState<Self::Data>, key: usize, error: &Error);
}
