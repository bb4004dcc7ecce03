//! Compressing and inflating messages (RFC 7692 section 7.2), with the message size limit
//! enforced while inflating, and a per-thread pool of codecs for connections that reset
//! their context after every message.

use std::cell::RefCell;

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

/// What every compressed message ends with before its last 4 bytes are removed, and what
/// the receiver appends before inflating it.
pub(crate) const TAIL: [u8; 4] = [0x00, 0x00, 0xFF, 0xFF];

/// The window the inflater uses: the largest, so that it reads any window the peer uses.
const INFLATE_WINDOW_BITS: u8 = 15;

/// How much output an inflate step may add before the size limit is checked again.
const INFLATE_STEP: usize = 64 * 1024;

/// A raw-deflate compressor.
pub(crate) struct Compressor {
    inner: Compress,
    level: u32,
    window_bits: u8,
}

impl std::fmt::Debug for Compressor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compressor")
            .field("level", &self.level)
            .field("window_bits", &self.window_bits)
            .finish()
    }
}

impl Compressor {
    pub(crate) fn new(level: u32, window_bits: u8) -> Compressor {
        Compressor {
            inner: Compress::new_with_window_bits(Compression::new(level), false, window_bits),
            level,
            window_bits,
        }
    }

    /// Compresses one part of a message, appending to `out`. Every part ends with a sync
    /// flush; on the last part, the flush's `00 00 ff ff` is removed (RFC 7692 7.2.1).
    pub(crate) fn compress(&mut self, input: &[u8], out: &mut Vec<u8>, last: bool) {
        let start = out.len();
        let mut consumed = 0;
        loop {
            if out.len() == out.capacity() {
                out.reserve((input.len() - consumed) / 2 + 64);
            }
            let before = self.inner.total_in();
            let remaining = input.get(consumed..).unwrap_or_default();
            // Compressing an in-memory buffer with a valid stream cannot fail; were it to,
            // the output would be short and the peer would report invalid data.
            let _ = self.inner.compress_vec(remaining, out, FlushCompress::Sync);
            consumed += (self.inner.total_in() - before) as usize;
            // zlib's rule: the flush is complete once all input is taken and the output
            // was not filled.
            if consumed == input.len() && out.len() < out.capacity() {
                break;
            }
        }
        if last && out.len() >= start + TAIL.len() && out.ends_with(&TAIL) {
            out.truncate(out.len() - TAIL.len());
        }
    }

    pub(crate) fn reset(&mut self) {
        self.inner.reset();
    }

    pub(crate) fn matches(&self, level: u32, window_bits: u8) -> bool {
        self.level == level && self.window_bits == window_bits
    }

    /// The memory a compressor holds for a window of `window_bits`: zlib-rs allocates its
    /// window and hash chain (4 bytes per window byte) and about 243 KiB of fixed tables
    /// and buffers (measured with zlib-rs 0.6; `tests/deflate_memory.rs` keeps this
    /// formula within 5% of what the allocator sees).
    pub(crate) fn memory(window_bits: u8) -> usize {
        248_960 + 4 * (1 << window_bits)
    }
}

/// Why a compressed message could not be inflated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InflateError {
    /// The inflated message would pass the limit.
    TooLarge,
    /// The data is not a valid deflate stream.
    Corrupt,
}

/// A raw-deflate inflater with a 32 KiB window.
pub(crate) struct Decompressor {
    inner: Decompress,
}

impl std::fmt::Debug for Decompressor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decompressor").finish()
    }
}

impl Decompressor {
    pub(crate) fn new() -> Decompressor {
        Decompressor {
            inner: Decompress::new_with_window_bits(false, INFLATE_WINDOW_BITS),
        }
    }

    /// Inflates `input`, appending to `out`, and stops with `TooLarge` as soon as `out`
    /// would hold more than `limit` bytes: a deflate bomb costs at most about the limit in
    /// memory, however much it would expand. Returns true if the peer ended the deflate
    /// stream (BFINAL), after which the inflater must be reset.
    pub(crate) fn decompress(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<bool, InflateError> {
        let mut consumed = 0;
        loop {
            if out.len() == out.capacity() {
                // Grow geometrically, but never past the limit (plus one byte to see it
                // crossed).
                let target = (out.len() * 2)
                    .max(out.len() + INFLATE_STEP)
                    .min(limit.saturating_add(1));
                if target <= out.len() {
                    return Err(InflateError::TooLarge);
                }
                out.reserve_exact(target - out.len());
            }
            let before = self.inner.total_in();
            let remaining = input.get(consumed..).unwrap_or_default();
            let status = self
                .inner
                .decompress_vec(remaining, out, FlushDecompress::Sync)
                .map_err(|_| InflateError::Corrupt)?;
            consumed += (self.inner.total_in() - before) as usize;
            if out.len() > limit {
                return Err(InflateError::TooLarge);
            }
            if status == Status::StreamEnd {
                return Ok(true);
            }
            if consumed == input.len() && out.len() < out.capacity() {
                return Ok(false);
            }
        }
    }

    pub(crate) fn reset(&mut self) {
        self.inner.reset(false);
    }

    /// The memory an inflater holds: its 32 KiB window and about 14 KiB of tables
    /// (measured with zlib-rs 0.6, checked by `tests/deflate_memory.rs`).
    pub(crate) fn memory() -> usize {
        (1 << INFLATE_WINDOW_BITS) + 14_784
    }
}

thread_local! {
    /// Codecs of connections that reset their context after each message, kept between
    /// messages so that such connections hold none while idle and do not build new ones
    /// for every message. One event loop is one thread, so this is a per-loop pool.
    static COMPRESSORS: RefCell<Vec<Compressor>> = const { RefCell::new(Vec::new()) };
    static DECOMPRESSORS: RefCell<Vec<Decompressor>> = const { RefCell::new(Vec::new()) };
}

/// How many idle codecs of each kind a thread keeps.
const POOL_SIZE: usize = 4;

/// A reset compressor for `level` and `window_bits`, from the pool if one is there.
pub(crate) fn take_compressor(level: u32, window_bits: u8) -> Compressor {
    COMPRESSORS
        .with(|pool| {
            let mut pool = pool.borrow_mut();
            let found = pool.iter().position(|c| c.matches(level, window_bits));
            found.map(|index| pool.swap_remove(index))
        })
        .unwrap_or_else(|| Compressor::new(level, window_bits))
}

/// Resets a compressor and keeps it for the next message.
pub(crate) fn return_compressor(mut compressor: Compressor) {
    compressor.reset();
    COMPRESSORS.with(|pool| {
        let mut pool = pool.borrow_mut();
        if pool.len() < POOL_SIZE {
            pool.push(compressor);
        }
    });
}

/// A reset decompressor, from the pool if one is there.
pub(crate) fn take_decompressor() -> Decompressor {
    DECOMPRESSORS
        .with(|pool| pool.borrow_mut().pop())
        .unwrap_or_else(Decompressor::new)
}

/// Resets a decompressor and keeps it for the next message.
pub(crate) fn return_decompressor(mut decompressor: Decompressor) {
    decompressor.reset();
    DECOMPRESSORS.with(|pool| {
        let mut pool = pool.borrow_mut();
        if pool.len() < POOL_SIZE {
            pool.push(decompressor);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(compressor: &mut Compressor, decompressor: &mut Decompressor, text: &[u8]) {
        let mut compressed = Vec::new();
        compressor.compress(text, &mut compressed, true);
        compressed.extend_from_slice(&TAIL);
        let mut out = Vec::new();
        decompressor
            .decompress(&compressed, &mut out, usize::MAX - 1)
            .unwrap();
        assert_eq!(out, text);
    }

    #[test]
    fn the_rfc_example_compresses_to_the_rfc_bytes() {
        // RFC 7692 7.2.3.1: "Hello" compressed is f2 48 cd c9 c9 07 00.
        let mut compressor = Compressor::new(6, 15);
        let mut out = Vec::new();
        compressor.compress(b"Hello", &mut out, true);
        assert_eq!(out, [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]);
        // With context takeover the second "Hello" refers to the first.
        let mut second = Vec::new();
        compressor.compress(b"Hello", &mut second, true);
        assert_eq!(second, [0xf2, 0x00, 0x11, 0x00, 0x00]);
        let mut decompressor = Decompressor::new();
        for payload in [out, second] {
            let mut data = payload.clone();
            data.extend_from_slice(&TAIL);
            let mut inflated = Vec::new();
            decompressor.decompress(&data, &mut inflated, 100).unwrap();
            assert_eq!(inflated, b"Hello");
        }
    }

    #[test]
    fn round_trips_every_size_and_window() {
        for bits in 9..=15 {
            let mut compressor = Compressor::new(6, bits);
            let mut decompressor = Decompressor::new();
            for size in [0usize, 1, 100, 4096, 70_000, 300_000] {
                let text: Vec<u8> = (0..size).map(|i| (i * 31 % 251) as u8).collect();
                round_trip(&mut compressor, &mut decompressor, &text);
            }
        }
    }

    #[test]
    fn a_bomb_stops_at_the_limit() {
        let zeros = vec![0u8; 10 << 20];
        let mut compressed = Vec::new();
        Compressor::new(9, 15).compress(&zeros, &mut compressed, true);
        compressed.extend_from_slice(&TAIL);
        assert!(compressed.len() < 20 * 1024, "{} bytes", compressed.len());
        let mut out = Vec::new();
        let result = Decompressor::new().decompress(&compressed, &mut out, 1 << 20);
        assert_eq!(result, Err(InflateError::TooLarge));
        assert!(out.capacity() <= (1 << 20) + 1, "{}", out.capacity());
    }

    #[test]
    fn corrupt_data_is_an_error() {
        let mut out = Vec::new();
        let result = Decompressor::new().decompress(&[0xFF, 0xFF, 0xFF, 0xFF], &mut out, 1000);
        assert_eq!(result, Err(InflateError::Corrupt));
    }
}
