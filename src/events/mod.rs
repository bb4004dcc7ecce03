//! Layer 3: the event API, in the shape the browser's `WebSocket` and Socket.IO made
//! familiar. Register handlers, bind, run:
//!
//! ```no_run
//! use rfc6455::events::Server;
//!
//! Server::<()>::new()
//!     .on_open(|socket| socket.join("lobby"))
//!     .on_message(|socket, message| {
//!         if let Some(text) = message.as_text() {
//!             socket.to("lobby").except_sender().send(text);
//!         }
//!     })
//!     .bind("127.0.0.1:8080")?
//!     .run()?;
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! - [`Server`] and [`Client`] take the same handlers: `on_open`, `on_message`,
//!   `on_close`, `on_error`; a server also `on_http` (plain HTTP on the same port) and
//!   `on_upgrade` (accept or refuse, choose a subprotocol).
//! - A handler gets a [`Socket`]: id, address, path, subprotocol, send, close, rooms,
//!   broadcast, typed per-connection data.
//! - A [`Handle`] (`Clone + Send + Sync`) reaches sockets, rooms and shutdown from any
//!   thread.
//! - A handler that panics fails only its own connection, with close code 1011 (`on_http`
//!   and `on_upgrade`: a 500 response); the loop and its other connections go on.

mod client;
mod handle;
mod handlers;
mod running;
mod server;
mod socket;

pub use client::Client;
pub use handle::{Handle, HandleBroadcast};
pub use running::{Running, Runtime};
pub use server::Server;
pub use socket::{Broadcast, Socket};

pub use crate::runtime::{Reconnect, SocketId};
