//! # rfc6455
//!
//! A WebSocket (RFC 6455) implementation in three layers, each usable without the one
//! above it:
//!
//! 1. **The sans-IO core** (always built; no sockets, threads or clock): the opening
//!    [`handshake`], the [`frame`] codec, and the [`Connection`] state machine with its own
//!    timers, run on the time you hand in. Link it with `default-features = false` into
//!    any runtime.
//! 2. **The runtime**: mio event loops that own the sockets (private; feature `server`).
//! 3. **The event API**, [`events`]: handlers, rooms, broadcast, handles from any thread
//!    (feature `server`).
//!
//! ## The event API
//!
//! ```no_run
//! use rfc6455::events::{Handlers, Server};
//!
//! let handlers = Handlers::<()>::new()
//!     .on_open(|socket| socket.join("lobby"))
//!     .on_message(|socket, message| {
//!         let _ = socket.to("lobby").except_sender().send(message); // framed once
//!     })
//!     .on_close(|socket, code, _reason| println!("{} left ({code})", socket.id()));
//! Server::new(handlers).bind("127.0.0.1:9001")?.run()?;
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! ## The sans-IO core
//!
//! Feed bytes in, take events out, queue sends, write what the connection hands you:
//!
//! ```
//! use std::io::{IoSlice, Write};
//! use rfc6455::handshake::{Accept, Incoming, ServerHandshake};
//! use rfc6455::{Config, Event};
//!
//! let config = Config::default();
//! let mut handshake = ServerHandshake::new(&config);
//! let request = b"GET /echo HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n\
//!     Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
//!     Sec-WebSocket-Version: 13\r\n\r\n";
//! let Some(Incoming::Upgrade(upgrade)) = handshake.receive(request)? else { unreachable!() };
//! let (_101, mut connection) = upgrade.accept(&Accept::new(), &config)?; // write the 101
//! connection.receive(&[0x81, 0x82, 1, 2, 3, 4, b'h' ^ 1, b'i' ^ 2]); // masked "hi"
//! while let Some(event) = connection.poll_event()? {
//!     if let Event::Message(message) = event {
//!         connection.send(message)?; // echo
//!     }
//! }
//! let (mut socket, mut slices) = (Vec::new(), [IoSlice::new(&[]); 8]);
//! let count = connection.output_slices(&mut slices);
//! let written = socket.write_vectored(&slices[..count])?;
//! connection.advance_output(written);
//! assert_eq!(socket, [0x81, 0x02, b'h', b'i']);
//! # Ok::<(), rfc6455::Error>(())
//! ```
//!
//! Hand it the time as well and it runs the keep-alive ping, the pong timeout and the
//! close timeout of [`Config`]: [`Connection::handle_timeout`] and
//! [`Connection::poll_timeout`].
//!
//! ## Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | (none) | always | the sans-IO core: [`handshake`], [`frame`], [`Connection`], [`Config`], [`Error`]; depends on sha1, base64, bytes, thiserror and getrandom only |
//! | `deflate` | on | permessage-deflate (RFC 7692) in the core: [`deflate::DeflateConfig`], negotiated through [`Config`]; adds flate2 (zlib-rs) |
//! | `blocking` | with `server` | [`blocking::WebSocket`], a driver over a blocking stream, for scripts and tools |
//! | `server` | on | the mio runtime and the [`events`] API (server and client); adds mio and slab; implies `blocking` |
//! | `tls` | off | `wss://`: [`tls::TlsAcceptor`] for [`events::Server::bind_tls`] (TLS and plain listeners side by side), [`tls::TlsConnector`] for the client and the blocking driver, TLS inside the loops; adds rustls (ring provider) and rustls-native-certs; implies `server` |
//! | `tokio-tls` | off | `wss://` in the tokio adapter: `tokio::accept_tls`, `tokio::connect_tls` over tokio-rustls; implies `tokio` and `tls` |
//! | `tokio` | off | [`tokio::WebSocketStream`], a `Stream` + `Sink` of messages over any tokio `AsyncRead + AsyncWrite`, with accept/connect helpers; adds tokio, futures-core and futures-sink |
//! | `socketio` | off | [`socketio`]: the Engine.IO v4 and Socket.IO v5 codecs (packets, long-polling payloads, binary attachments), sans-IO; [`socketio::EngineServer`], the Engine.IO v4 server, and [`socketio::SocketIoServer`], the Socket.IO v5 server (namespaces, events, acks, binary, rooms), on the event API; adds serde_json; implies `server` |
//! | `redis` | off | [`redis`]: RESP2, sans-IO; [`redis::PubSub`], a node's pub/sub link to Redis; [`redis::Cluster`], broadcasts across the servers of a cluster; no dependency added; implies `server` |
//!
//! `default-features = false` gives the core alone; `features = ["server"]` gives the
//! runtime without permessage-deflate.
#![deny(missing_docs)]
// `unsafe` appears only where a benchmark shows it pays, each with a SAFETY comment and a
// test, and never in a parser: the AVX2 path of payload masking (frame/mask.rs) and the
// two socket reads that do not zero their buffer first (runtime/io.rs and tokio/stream.rs;
// scripts/bench-zeroing.sh measures each). Each opts out of this lint where it is.
#![deny(unsafe_code)]

mod close_code;
mod config;
#[cfg(feature = "deflate")]
pub mod deflate;
mod error;
mod extension;
pub mod frame;
pub mod handshake;
mod http_syntax;
mod protocol;
mod random;
#[cfg(any(feature = "server", feature = "tokio"))]
mod read_size;

#[cfg(feature = "blocking")]
pub mod blocking;
#[cfg(feature = "server")]
pub mod events;
#[cfg(feature = "redis")]
pub mod redis;
#[cfg(feature = "server")]
mod runtime;
#[cfg(feature = "socketio")]
pub mod socketio;
#[cfg(feature = "tls")]
pub mod tls;
#[cfg(feature = "tokio")]
pub mod tokio;

/// The README's examples, compiled and run as doctests.
#[cfg(all(doctest, feature = "blocking"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// The examples of docs/redis.md, compiled as doctests.
#[cfg(all(doctest, feature = "redis"))]
#[doc = include_str!("../docs/redis.md")]
pub struct RedisDoctests;

/// The examples of docs/driving-the-core.md, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../docs/driving-the-core.md")]
pub struct DrivingTheCoreDoctests;

pub use close_code::CloseCode;
pub use config::{Backpressure, Config};
pub use error::{CapacityError, Error, HandshakeError, ProtocolError, Timeout, UsageError};
pub use protocol::{
    CloseFrame, Connection, EncodedMessage, Event, Message, MessageKind, Role, Sendable, State,
    Text,
};
