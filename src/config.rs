//! [`Config`]: every limit the crate enforces, each with a safe default.

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
        }
    }
}
