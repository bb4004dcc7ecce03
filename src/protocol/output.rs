//! [`Output`]: the bytes a connection has encoded and the caller has not yet written.
//!
//! Small frames are appended to one contiguous buffer; shared [`Bytes`] (a pre-encoded
//! broadcast frame, a large payload) are queued as their own chunks without copying. The
//! caller drains it with one write (`front`), a vectored write (`io_slices`) or by taking
//! owned chunks (`pop_chunk`).

use std::collections::VecDeque;
use std::io::IoSlice;

use bytes::{Buf, Bytes, BytesMut};

#[derive(Debug, Default)]
pub(crate) struct Output {
    /// Chunks written before `tail`, in order.
    chunks: VecDeque<Bytes>,
    /// Bytes appended after every chunk.
    tail: BytesMut,
    /// Total bytes buffered.
    len: usize,
}

impl Output {
    /// The buffer small frames are appended to; the caller must call `appended` with the
    /// number of bytes it added.
    pub(crate) fn tail_mut(&mut self) -> &mut BytesMut {
        &mut self.tail
    }

    /// Records `n` bytes appended through `tail_mut`.
    pub(crate) fn appended(&mut self, n: usize) {
        self.len += n;
    }

    /// Queues shared bytes without copying them.
    pub(crate) fn push_shared(&mut self, bytes: Bytes) {
        if bytes.is_empty() {
            return;
        }
        if !self.tail.is_empty() {
            let written_before = self.tail.split().freeze();
            self.chunks.push_back(written_before);
        }
        self.len += bytes.len();
        self.chunks.push_back(bytes);
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn front(&self) -> &[u8] {
        match self.chunks.front() {
            Some(chunk) => chunk,
            None => &self.tail,
        }
    }

    pub(crate) fn io_slices<'a>(&'a self, dst: &mut [IoSlice<'a>]) -> usize {
        let tail = (!self.tail.is_empty()).then_some(&self.tail[..]);
        let all = self.chunks.iter().map(|chunk| &chunk[..]).chain(tail);
        let mut filled = 0;
        for (slot, bytes) in dst.iter_mut().zip(all) {
            *slot = IoSlice::new(bytes);
            filled += 1;
        }
        filled
    }

    /// Drops the first `n` buffered bytes (they were written).
    ///
    /// # Panics
    /// If `n` is more than [`len`](Self::len): that is a bug in the caller.
    pub(crate) fn advance(&mut self, mut n: usize) {
        assert!(
            n <= self.len,
            "advance_output({n}) past the {} buffered bytes",
            self.len
        );
        self.len -= n;
        while n > 0 {
            match self.chunks.front_mut() {
                Some(chunk) if chunk.len() <= n => {
                    n -= chunk.len();
                    self.chunks.pop_front();
                }
                Some(chunk) => {
                    chunk.advance(n);
                    n = 0;
                }
                None => {
                    self.tail.advance(n);
                    n = 0;
                }
            }
        }
    }

    /// Takes the first buffered chunk as owned bytes.
    pub(crate) fn pop_chunk(&mut self) -> Option<Bytes> {
        let chunk = match self.chunks.pop_front() {
            Some(chunk) => chunk,
            None if self.tail.is_empty() => return None,
            None => self.tail.split().freeze(),
        };
        self.len -= chunk.len();
        Some(chunk)
    }

    /// Frees the buffers' memory if nothing is buffered (for idle connections).
    pub(crate) fn release_memory(&mut self) {
        if self.len == 0 {
            self.chunks = VecDeque::new();
            self.tail = BytesMut::new();
        }
    }

    /// The bytes of memory the output holds (capacity, not content).
    pub(crate) fn memory(&self) -> usize {
        self.tail.capacity()
            + self.chunks.capacity() * std::mem::size_of::<Bytes>()
            + self.chunks.iter().map(Bytes::len).sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn append(output: &mut Output, bytes: &[u8]) {
        output.tail_mut().extend_from_slice(bytes);
        output.appended(bytes.len());
    }

    fn drain_all(output: &mut Output) -> Vec<u8> {
        let mut all = Vec::new();
        while let Some(chunk) = output.pop_chunk() {
            all.extend_from_slice(&chunk);
        }
        all
    }

    #[test]
    fn keeps_order_across_copied_and_shared_bytes() {
        let mut output = Output::default();
        append(&mut output, b"ab");
        output.push_shared(Bytes::from_static(b"cd"));
        append(&mut output, b"ef");
        output.push_shared(Bytes::from_static(b"gh"));
        assert_eq!(output.len(), 8);
        let mut slices = [IoSlice::new(&[]); 8];
        let n = output.io_slices(&mut slices);
        let joined: Vec<u8> = slices[..n].iter().flat_map(|s| s.iter().copied()).collect();
        assert_eq!(joined, b"abcdefgh");
        assert_eq!(drain_all(&mut output), b"abcdefgh");
        assert_eq!(output.len(), 0);
    }

    #[test]
    fn advance_crosses_chunk_boundaries() {
        for step in 1..=8 {
            let mut output = Output::default();
            append(&mut output, b"ab");
            output.push_shared(Bytes::from_static(b"cde"));
            append(&mut output, b"fgh");
            let mut written = Vec::new();
            while output.len() > 0 {
                let front = output.front();
                let n = step.min(front.len());
                written.extend_from_slice(&front[..n]);
                output.advance(n);
            }
            assert_eq!(written, b"abcdefgh", "step {step}");
        }
    }

    #[test]
    #[should_panic(expected = "past the")]
    fn advance_past_the_end_is_a_caller_bug() {
        let mut output = Output::default();
        append(&mut output, b"ab");
        output.advance(3);
    }
}
