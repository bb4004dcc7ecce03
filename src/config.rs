//! [`Config`]: every limit and timeout the crate enforces, each with a safe default.
//!
//! One flat struct for all layers: the sans-IO core reads the size limits and runs the
//! keep-alive, pong and close timers on the time its driver hands in; the drivers read the
//! handshake timeout; the runtime (feature `server`) also reads the write-buffer and
//! command-queue bounds.

use std::time::Duration;

/// The limits a handshake parser and a connection enforce.
///
/// Field names say what they bound. Build one with struct update syntax:
///
/// ```
/// use rfc6455::Config;
/// let config = Config { max_message_size: 1 << 20, ..Config::default() };
/// assert_eq!(config.max_frame_size, Config::default().max_frame_size);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Longest HTTP head (request or response line, headers, blank line) in bytes.
    /// Default 16 KiB, as Node's `--max-http-header-size`. Crossing it: 431.
    pub max_head_bytes: usize,
    /// Most header fields in one HTTP head. Default 100. Crossing it: 431.
    pub max_headers: usize,
    /// Longest single line of an HTTP head, CRLF included. Default 8 KiB, as Apache's
    /// `LimitRequestLine`. Crossing it: 414 for the request line, 431 for a header.
    pub max_line_bytes: usize,
    /// Longest payload a single frame may announce. Default 16 MiB. Crossing it: close 1009
    /// as soon as the frame header is read, before any of the payload is buffered.
    pub max_frame_size: usize,
    /// Longest message (the sum of its fragments' payloads). Default 64 MiB. Crossing it:
    /// close 1009 as soon as a frame header shows the message would grow past it.
    pub max_message_size: usize,
    /// Most frames one message may be split into. Default 1,048,576. Memory is already
    /// bounded by `max_message_size` (fragments are appended to one buffer, with no cost per
    /// fragment); this bounds the work a stream of empty fragments can cause. Real clients,
    /// and Autobahn's 9.x cases (up to 65,536 fragments), stay far below it. Crossing it:
    /// close 1009.
    pub max_fragments: usize,
    /// Runtime only. Longest body of a plain HTTP request (`on_http`), whether its
    /// `Content-Length` says so or its chunks add up to it. Default 1 MiB (Engine.IO's
    /// `maxHttpBufferSize` is 1 MB). Crossing it: 413, before the body is read.
    pub max_http_body: usize,

    /// Runtime only. Most bytes queued for one connection before `backpressure` applies
    /// (what the browser API calls `bufferedAmount`). The check runs before each send, so
    /// one message is always accepted on a queue below the bound: memory per connection
    /// stays under this bound plus one message. Default 1 MiB.
    pub max_write_buffer: usize,
    /// Runtime only. What happens when a send finds the write queue at `max_write_buffer`.
    pub backpressure: Backpressure,
    /// Runtime only. The write queue's low-water mark: once it went above it (or refused a
    /// send), `on_drain` runs when writing brings it back to this many bytes or fewer, the
    /// signal to resume sending under [`Backpressure::Refuse`]. Keep it below
    /// `max_write_buffer`. Default 256 KiB.
    pub write_buffer_low_water: usize,
    /// Runtime only. Most message bytes waiting in one loop's command channel: sends and
    /// broadcasts from a `Handle` on another thread, or from a handler on another loop, that
    /// the loop has not taken in yet. The check runs before each command is queued, so the
    /// channel stays under this bound plus one message per sending thread. Crossing it: the send is refused with
    /// [`CapacityError::CommandQueueFull`](crate::CapacityError::CommandQueueFull).
    /// Default 16 MiB.
    pub max_command_queue: usize,
    /// Time allowed from accepting a TCP connection (or connecting) to a complete opening
    /// handshake; the runtime and the blocking driver enforce it. Default 10 s.
    pub handshake_timeout: Duration,
    /// Runtime only. How long a plain HTTP request may wait for an answer the application
    /// gives later (`Server::on_http_reply`: a long-poll held open); then the connection is
    /// dropped. Default 60 s (Engine.IO answers a held poll within its 25 s ping interval).
    pub http_answer_timeout: Duration,
    /// After this long without hearing from the peer, send a ping. Default 25 s, as
    /// Socket.IO's `pingInterval`. `None` turns keep-alive pings off. Run by the core
    /// ([`Connection::handle_timeout`](crate::Connection::handle_timeout)), so every driver
    /// honors it.
    pub ping_interval: Option<Duration>,
    /// After a keep-alive ping, how long to wait for any data from the peer before failing
    /// the connection with [`Timeout::Pong`](crate::Timeout::Pong) and close code 1008.
    /// Default 20 s, as Socket.IO's `pingTimeout`. Run by the core.
    pub pong_timeout: Duration,
    /// After our close frame, how long to wait for the peer's close frame before failing
    /// with [`Timeout::Close`](crate::Timeout::Close) (run by the core); the runtime also
    /// gives a finished connection this long to be written out and, for a client, for the
    /// server to close TCP. Default 5 s.
    pub close_timeout: Duration,
    /// permessage-deflate (RFC 7692): `Some` to offer it (client) or accept it (server).
    /// Default `Some(DeflateConfig::default())`: browsers offer it on every connection, and
    /// with the default settings an idle connection holds no compression state.
    #[cfg(feature = "deflate")]
    pub deflate: Option<crate::deflate::DeflateConfig>,
}

/// What the runtime does when a send finds a connection's write queue full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Backpressure {
    /// Fail the connection: the error goes to `on_error`, a close frame with 1008 is
    /// queued, and the socket is closed when it is written or the close timeout passes.
    #[default]
    Close,
    /// Refuse the send with an error and keep the connection; the caller decides.
    Refuse,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_head_bytes: 16 * 1024,
            max_headers: 100,
            max_line_bytes: 8 * 1024,
            max_frame_size: 16 << 20,
            max_message_size: 64 << 20,
            max_fragments: 1 << 20,
            max_http_body: 1 << 20,
            max_write_buffer: 1 << 20,
            backpressure: Backpressure::Close,
            write_buffer_low_water: 256 << 10,
            max_command_queue: 16 << 20,
            handshake_timeout: Duration::from_secs(10),
            http_answer_timeout: Duration::from_secs(60),
            ping_interval: Some(Duration::from_secs(25)),
            pong_timeout: Duration::from_secs(20),
            close_timeout: Duration::from_secs(5),
            #[cfg(feature = "deflate")]
            deflate: Some(crate::deflate::DeflateConfig::default()),
        }
    }
}
