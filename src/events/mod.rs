//! Layer 3: the event API, in the shape the browser's `WebSocket` and Socket.IO made
//! familiar. Register handlers, bind, run:
//!
//! ```no_run
//! use rfc6455::events::{Handlers, Server};
//!
//! let handlers = Handlers::<()>::new()
//!     .on_open(|socket| socket.join("lobby"))
//!     .on_message(|socket, message| {
//!         // To everyone in the room but the sender, framed once.
//!         let _ = socket.to("lobby").except_sender().send(message);
//!     });
//! Server::new(handlers).bind("127.0.0.1:8080")?.run()?;
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! - [`Handlers`] is one set of closures for a [`Server`] and a [`Client`] alike:
//!   `on_open`, `on_message`, `on_close`, `on_error`, `on_drain` (the write queue emptied
//!   to its low-water mark), `on_ping`, `on_pong`. A server also has `on_http` (plain HTTP
//!   on the same port) and `on_upgrade` (accept or refuse, at once or later from another
//!   thread: [`Upgrade`]). A [`Route`] gives a path prefix handlers of its own
//!   ([`Server::route`]), beside the server's.
//! - A handler gets a [`Socket`]: id, address, path, subprotocol, the upgrade request's
//!   headers (when kept), send, close, rooms, [`Broadcast`], typed per-connection data.
//! - A [`Handle`] (`Clone + Send + Sync`) reaches sockets, rooms and shutdown from any
//!   thread, with the same send and broadcast as a socket.
//! - [`Server::bind`] and [`Client::connect`] give [`Loops`], run on this thread or
//!   [`spawn`](Loops::spawn)ed ([`Spawned`]).
//! - A handler that panics fails only its own connection, with close code 1011 (`on_http`
//!   and `on_upgrade`: a 500 response); the loop and its other connections go on.

mod broadcast;
mod client;
mod fanout;
mod handle;
mod handlers;
mod http_reply;
mod loops;
mod route;
mod server;
mod socket;
mod upgrade;

pub use broadcast::Broadcast;
pub use client::Client;
pub use fanout::Fanout;
pub use handle::Handle;
pub use handlers::Handlers;
pub use http_reply::HttpReply;
pub use loops::{Loops, Spawned};
pub use route::Route;
pub use server::Server;
pub use socket::Socket;
pub use upgrade::Upgrade;

pub use crate::runtime::{Reconnect, SocketId};
