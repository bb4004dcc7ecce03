//! The Engine.IO v4 server (feature `socketio`): sessions over HTTP long-polling and
//! WebSocket, the upgrade from one to the other, the heartbeat, mounted on an event-API
//! [`Server`](crate::events::Server) beside the application's own routes.
//!
//! Written to the protocol document (docs/engine.io-protocol/v4-current.md of the
//! socket.io repository) and, where it leaves things implicit, to the reference server
//! (socketio/engine.io: lib/server.ts, socket.ts, transports/). It passes the protocol's
//! own test suite (tests/interop/engine.io-protocol/) and talks to the npm
//! `engine.io-client` (tests/interop/engineio.rs).
//!
//! ```no_run
//! use rfc6455::events::{Handlers, Server};
//! use rfc6455::socketio::{EngineConfig, EngineHandlers, EngineServer};
//!
//! let handlers = EngineHandlers::new()
//!     .on_connection(|connection| println!("{} from {}", connection.sid(), connection.remote_addr()))
//!     .on_message(|connection, message| {
//!         let _ = connection.send(message); // echo, text or binary
//!     })
//!     .on_close(|connection, reason| println!("{} closed: {reason}", connection.sid()));
//! let engine = EngineServer::new(EngineConfig::default(), handlers)?;
//! engine.attach(Server::new(Handlers::<()>::new())).bind("127.0.0.1:3000")?.run()?;
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! The files, one job each:
//!
//! - `config.rs`: [`EngineConfig`], [`Transports`], [`Cors`];
//! - `request.rs`: the query, the reference's checks and error responses, CORS headers;
//! - `session.rs`: one session, sans-IO, on the time handed in (its tests run on a fake
//!   clock); [`CloseReason`], [`EngineSendError`], [`EngineTransport`];
//! - `cell.rs`: a session shared between threads: its lock, its outputs carried out in
//!   order, its events delivered in order;
//! - `timers.rs`: the server's timer thread; `table.rs`: the sharded tables, session ids;
//! - `server.rs`: [`EngineServer`], [`EngineHandlers`], and the glue to the runtime;
//! - `connection.rs`: [`EngineConnection`], a session as the application holds it.
//!
//! Sessions across threads: the loops of one server share the work, so the requests of one
//! session (its `GET`, its `POST`, its WebSocket) may reach different loops. Each session
//! is an `Arc<Mutex<..>>` found by its sid in a sharded table; a held `GET` is an
//! [`HttpReply`](crate::events::HttpReply) kept in the session and answered from whichever
//! thread has news.

mod cell;
mod config;
mod connection;
mod request;
mod server;
mod session;
mod table;
mod timers;

pub use config::{Cors, CorsOrigin, EngineConfig, Transports};
pub use connection::EngineConnection;
pub use server::{EngineHandlers, EngineServer};
pub use session::{CloseReason, EngineSendError, EngineTransport};
// For the Socket.IO server above: its socket ids and its ack timeouts.
pub(crate) use table::new_sid;
pub(crate) use timers::Timers;
