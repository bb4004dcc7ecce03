//! [`PerMessageDeflate`]: one connection's side of the agreement, used by the connection to
//! compress what it sends and inflate what it receives.

use super::codec::{
    Compressor, Decompressor, InflateError, TAIL, return_compressor, return_decompressor,
    take_compressor, take_decompressor,
};
use super::{Agreed, DeflateConfig};

/// A connection's compression state.
#[derive(Debug)]
pub(crate) struct PerMessageDeflate {
    agreed: Agreed,
    threshold: usize,
    level: u32,
    /// Kept between messages only when we keep our context.
    compressor: Option<Compressor>,
    /// Kept between messages only when the peer keeps its context.
    decompressor: Option<Decompressor>,
    /// The incoming compressed message, inflated so far.
    inflated: Vec<u8>,
    /// The fragmented message being sent is compressed.
    pub(crate) sending_compressed: bool,
}

impl PerMessageDeflate {
    pub(crate) fn new(agreed: Agreed, config: &DeflateConfig) -> PerMessageDeflate {
        PerMessageDeflate {
            agreed,
            threshold: config.threshold,
            level: config.level,
            compressor: None,
            decompressor: None,
            inflated: Vec::new(),
            sending_compressed: false,
        }
    }

    /// What was agreed.
    pub(crate) fn agreed(&self) -> Agreed {
        self.agreed
    }

    /// Whether a message (or a first fragment) of `len` bytes is worth compressing.
    pub(crate) fn should_compress(&self, len: usize) -> bool {
        len >= self.threshold
    }

    /// Compresses one part of an outgoing message into `out`.
    pub(crate) fn compress(&mut self, input: &[u8], out: &mut Vec<u8>, last: bool) {
        let mut compressor = self
            .compressor
            .take()
            .unwrap_or_else(|| take_compressor(self.level, self.agreed.own_window_bits));
        compressor.compress(input, out, last);
        if last && self.agreed.own_no_context_takeover {
            return_compressor(compressor);
        } else {
            self.compressor = Some(compressor);
        }
    }

    /// Inflates one frame of the incoming compressed message (the `00 00 ff ff` tail is
    /// added after the last), keeping the whole message under `limit` bytes. Returns where
    /// the new output starts in [`inflated`](Self::inflated).
    pub(crate) fn inflate(
        &mut self,
        input: &[u8],
        last: bool,
        limit: usize,
    ) -> Result<usize, InflateError> {
        let start = self.inflated.len();
        let mut decompressor = self.decompressor.take().unwrap_or_else(take_decompressor);
        let mut result = decompressor.decompress(input, &mut self.inflated, limit);
        if last && matches!(result, Ok(false)) {
            result = decompressor.decompress(&TAIL, &mut self.inflated, limit);
        }
        match result {
            // A peer that ended its deflate stream starts a fresh one next message.
            Ok(true) => return_decompressor(decompressor),
            Ok(false) if last && self.agreed.peer_no_context_takeover => {
                return_decompressor(decompressor);
            }
            Ok(false) => self.decompressor = Some(decompressor),
            // After an error the connection is failed: the inflater is dropped.
            Err(error) => {
                self.inflated = Vec::new();
                return Err(error);
            }
        }
        Ok(start)
    }

    /// The incoming message inflated so far.
    pub(crate) fn inflated(&self) -> &[u8] {
        &self.inflated
    }

    /// Takes the inflated message.
    pub(crate) fn take_inflated(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.inflated)
    }

    /// The memory this connection's compression state holds now.
    #[cfg(test)]
    pub(crate) fn memory(&self) -> usize {
        let compressor = self
            .compressor
            .as_ref()
            .map_or(0, |_| Compressor::memory(self.agreed.own_window_bits));
        let decompressor = self
            .decompressor
            .as_ref()
            .map_or(0, |_| Decompressor::memory());
        compressor + decompressor + self.inflated.capacity()
    }
}
