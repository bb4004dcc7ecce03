//! permessage-deflate (RFC 7692), feature `deflate`: negotiation for server and client,
//! compression of outgoing messages and inflation of incoming ones with the message size
//! limit enforced as it inflates.
//!
//! Defaults favour memory: both sides reset their compression context after every message
//! (`server_no_context_takeover` and `client_no_context_takeover` in the response), so an
//! idle connection holds no compression state at all, codecs are pooled per thread, and a
//! broadcast is compressed once for every recipient. Turn context takeover on in
//! [`DeflateConfig`] for a better ratio on streams of similar messages, at about 371 KiB
//! (compressor, 15-bit window; 245 KiB at 9 bits) and 46 KiB (inflater) per connection.

mod codec;
mod negotiation;
mod state;

pub(crate) use codec::{Compressor, InflateError, return_compressor, take_compressor};
pub(crate) use negotiation::{NAME, client_accept, client_offer, server_respond};
pub(crate) use state::PerMessageDeflate;

/// The smallest compression window zlib can produce for raw deflate: it turns a request for
/// 8 bits into 9, so an agreement on 8 cannot be honored (the "window-8 quirk").
pub(crate) const MIN_WINDOW_BITS: u8 = 9;

/// How this endpoint negotiates and uses permessage-deflate.
///
/// ```
/// use rfc6455::deflate::DeflateConfig;
/// use rfc6455::Config;
/// let config = Config {
///     deflate: Some(DeflateConfig { threshold: 256, ..DeflateConfig::default() }),
///     ..Config::default()
/// };
/// assert_eq!(config.deflate.unwrap().level, 6);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeflateConfig {
    /// Messages shorter than this are sent uncompressed. Default 1024 bytes (as Node `ws`):
    /// below it, deflate's framing costs more than it saves, and CPU is spent for nothing.
    pub threshold: usize,
    /// zlib compression level, 0 (store) to 9 (smallest). Default 6.
    pub level: u32,
    /// The largest window our compressor uses, 9 to 15. Default 15 (32 KiB).
    pub max_window_bits: u8,
    /// Keep our compressor's history between messages (better ratio on similar messages;
    /// costs the compressor's memory per connection). Default false.
    pub own_context_takeover: bool,
    /// Let the peer keep its compressor's history (we then keep an inflater per
    /// connection). Default false: we ask it to reset after each message.
    pub peer_context_takeover: bool,
}

impl Default for DeflateConfig {
    fn default() -> Self {
        DeflateConfig {
            threshold: 1024,
            level: 6,
            max_window_bits: 15,
            own_context_takeover: false,
            peer_context_takeover: false,
        }
    }
}

impl DeflateConfig {
    /// The compression memory one connection holds with these settings (whatever was
    /// negotiated, this is the most): the compressor's if it keeps its context, the
    /// inflater's if the peer keeps its own. Zero with the defaults: codecs then live in a
    /// per-thread pool and are shared by all connections between messages.
    pub fn memory_per_connection(&self) -> usize {
        let compressor = if self.own_context_takeover {
            Compressor::memory(self.max_window_bits)
        } else {
            0
        };
        let inflater = if self.peer_context_takeover {
            codec::Decompressor::memory()
        } else {
            0
        };
        compressor + inflater
    }
}

/// What the two sides agreed, from this endpoint's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Agreed {
    /// The window our compressor may use.
    pub(crate) own_window_bits: u8,
    /// We reset our compressor after every message.
    pub(crate) own_no_context_takeover: bool,
    /// The peer resets its compressor after every message, so we may reset our inflater.
    pub(crate) peer_no_context_takeover: bool,
}
