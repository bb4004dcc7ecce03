//! Layer 2: the mio runtime. One `mio::Poll` per loop, connections in a slab keyed by token,
//! edge-triggered reads and writes until `WouldBlock`, every deadline in one timer heap
//! driven by the poll timeout, and a command channel with a `mio::Waker` through which other
//! threads (and other loops) reach a loop.
//!
//! - `event_loop.rs`: the thin driver (poll, route readiness, commands, timers, writes);
//! - `conn.rs`: one connection's state machine (its socket, phase and phase changes);
//! - `state.rs`: the loop's connections and rooms, and the operations on them; its
//!   `dispatch.rs` calls the application, its `view.rs` is what the application may reach;
//! - `read_plan.rs`: where each read goes and what a connection keeps between reads;
//! - `accept_connect.rs`: accepting, connecting, and waiting to reconnect;
//! - `answer.rs`: an upgrade's answer, now or later from any thread;
//! - `transport.rs`: a connection's socket, plain or TLS (feature `tls`), and `tls_session.rs`
//!   its TLS session on rustls' unbuffered API;
//! - `timers.rs`, `commands.rs`, `rooms.rs`, `io.rs`, `client.rs`: one job each.
//!
//! The runtime drives the sans-IO core and calls an [`Application`] on events; the event
//! API of [`crate::events`] is the application users write.
//!
//! Memory: a loop owns its read buffers and one write buffer, lent to the connection being
//! served. An idle connection holds no buffer: only its slot (the core's `Connection` and a
//! little bookkeeping) and, while a frame is incomplete, that frame's bytes.

mod accept_connect;
mod answer;
mod client;
mod commands;
mod conn;
mod event_loop;
mod io;
mod membership;
mod read_plan;
mod rooms;
mod state;
mod timers;
#[cfg(feature = "tls")]
mod tls_session;
mod transport;

pub use client::Reconnect;
pub use commands::SocketId;

pub(crate) use answer::{Answer, Reply};
pub(crate) use client::ClientOrigin;
pub(crate) use commands::{Audience, Command, FanoutHook, Shared};
pub(crate) use event_loop::{EventLoop, new_loops};
pub(crate) use membership::MemberAction;
pub(crate) use rooms::RoomName;
pub(crate) use state::SocketRef;
pub(crate) use transport::Security;

use bytes::Bytes;

use crate::error::Error;
use crate::handshake::{HttpRequest, HttpResponse, UpgradeRequest};
use crate::protocol::{CloseCode, Message};

/// What a loop calls on events. Each call gets the connection it concerns as a
/// [`SocketRef`], the narrow view of the loop a handler may use.
pub(crate) trait Application: Send + Sync + 'static {
    /// Per-connection data: what an accepted upgrade carries, or `Default` for a client.
    type Data: Default + Send + 'static;

    /// Whether each socket keeps its upgrade request (headers, cookies) while it lives.
    fn keeps_request(&self) -> bool;
    /// A WebSocket upgrade arrived: answer it through `reply`, now or later.
    fn upgrade(&self, request: &UpgradeRequest, reply: Reply<Answer<Self::Data>>);
    /// A plain HTTP request arrived on the WebSocket port, body and all: answer it through
    /// `reply`, now or later.
    fn http(&self, request: &HttpRequest, reply: Reply<HttpResponse>);
    /// The WebSocket opened.
    fn open(&self, socket: SocketRef<'_, Self::Data>);
    /// A complete message arrived.
    fn message(&self, socket: SocketRef<'_, Self::Data>, message: Message);
    /// A ping arrived (the pong is already queued).
    fn ping(&self, socket: SocketRef<'_, Self::Data>, payload: Bytes);
    /// A pong arrived.
    fn pong(&self, socket: SocketRef<'_, Self::Data>, payload: Bytes);
    /// The write queue fell to its low-water mark after having been above it.
    fn drain(&self, socket: SocketRef<'_, Self::Data>);
    /// The connection closed: the peer's close frame, our failure code, or 1006.
    fn close(&self, socket: SocketRef<'_, Self::Data>, code: CloseCode, reason: &str);
    /// Something went wrong; `close` follows.
    fn error(&self, socket: SocketRef<'_, Self::Data>, error: &Error);
}
