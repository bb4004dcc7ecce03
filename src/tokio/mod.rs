//! A tokio driver over the sans-IO core (feature `tokio`): the crate as a low-level
//! dependency for async Rust.
//!
//! [`WebSocketStream`] is a `Stream` of the messages that arrive and a `Sink` of the
//! messages to send, over any `AsyncRead + AsyncWrite`; [`split`](WebSocketStream::split)
//! gives halves for two tasks. The core's keep-alive ping, pong timeout and close timeout
//! run on tokio's clock, `poll_ready` waits while
//! [`max_write_buffer`](crate::Config::max_write_buffer) bytes are queued, and
//! permessage-deflate works as negotiated. [`accept`], [`accept_with`], [`connect`],
//! [`connect_with`] and [`client`] do the opening handshake;
//! [`WebSocketStream::from_connection`] takes over one that hyper or axum accepted
//! (`examples/axum_echo.rs`). With the feature `tokio-tls`, `accept_tls` and `connect_tls`
//! run TLS first, with tokio-rustls and the crate's [`tls`](crate::tls) configurations.
//!
//! ```no_run
//! use rfc6455::Message;
//!
//! # async fn run() -> Result<(), rfc6455::Error> {
//! let (mut socket, _response) = rfc6455::tokio::connect("ws://127.0.0.1:9001/").await?;
//! socket.send("hello").await?;
//! if let Some(reply) = socket.recv().await {
//!     println!("{:?}", reply?.as_text());
//! }
//! socket.close(rfc6455::CloseCode::NORMAL, "bye").await?;
//! # Ok(())
//! # }
//! ```
//!
//! `docs/driving-the-core.md` walks through how this module drives the core, as a model
//! for a driver of your own.

mod handshake;
mod split;
mod stream;
#[cfg(feature = "tokio-tls")]
mod tls;

pub use handshake::{accept, accept_with, client, connect, connect_with};
pub use split::{SplitSink, SplitStream};
pub use stream::WebSocketStream;
#[cfg(feature = "tokio-tls")]
pub use tls::{ClientTlsStream, ServerTlsStream, accept_tls, connect_tls};
