//! [`Output`]: the bytes a connection has encoded and the caller has not yet written.
//!
//! Small frames are appended to one contiguous buffer, the tail; shared [`Bytes`] (a
//! pre-encoded broadcast frame, a large payload) are queued as segments of their own,
//! without copying. The caller drains it with vectored writes (`io_slices`, then
//! `advance`).
//!
//! The tail is never split or advanced: segments refer to ranges of it, and once everything
//! is written it is cleared, keeping its whole capacity. That is what lets a driver lend one
//! buffer to connection after connection without a single allocation.

use std::collections::VecDeque;
use std::io::IoSlice;

use bytes::{Buf, Bytes, BytesMut};

/// A part of the output queued before the open end of the tail.
#[derive(Debug)]
enum Segment {
    /// `tail[start..end]`.
    Tail { start: usize, end: usize },
    /// Bytes shared with someone else (a broadcast, a payload).
    Shared(Bytes),
}

#[derive(Debug, Default)]
pub(crate) struct Output {
    /// What comes first, in order.
    segments: VecDeque<Segment>,
    /// Small frames, appended. Its bytes from `open` on follow every segment.
    tail: BytesMut,
    open: usize,
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

    fn segment<'a>(&'a self, segment: &'a Segment) -> &'a [u8] {
        match segment {
            Segment::Tail { start, end } => self.tail.get(*start..*end).unwrap_or_default(),
            Segment::Shared(bytes) => bytes,
        }
    }

    #[inline]
    fn open_tail(&self) -> &[u8] {
        self.tail.get(self.open..).unwrap_or_default()
    }

    /// Exchanges the tail with `buffer` if nothing pending lives in it (shared segments may
    /// still be queued: they come first anyway); returns false otherwise.
    #[cfg(any(test, feature = "server"))]
    pub(crate) fn swap_tail(&mut self, buffer: &mut BytesMut) -> bool {
        let tail_in_use = self.open < self.tail.len()
            || self
                .segments
                .iter()
                .any(|segment| matches!(segment, Segment::Tail { .. }));
        if tail_in_use {
            return false;
        }
        buffer.clear();
        std::mem::swap(&mut self.tail, buffer);
        self.tail.clear();
        self.open = 0;
        true
    }

    /// Queues shared bytes without copying them.
    pub(crate) fn push_shared(&mut self, bytes: Bytes) {
        if bytes.is_empty() {
            return;
        }
        if self.open < self.tail.len() {
            // What was appended so far goes before the shared bytes.
            self.segments.push_back(Segment::Tail {
                start: self.open,
                end: self.tail.len(),
            });
            self.open = self.tail.len();
        }
        self.len += bytes.len();
        self.segments.push_back(Segment::Shared(bytes));
    }

    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    #[inline]
    pub(crate) fn io_slices<'a>(&'a self, dst: &mut [IoSlice<'a>]) -> usize {
        let open = self.open_tail();
        // Most often only small frames are queued: one slice, without walking the queue.
        if self.segments.is_empty() {
            return match dst.first_mut() {
                Some(slot) if !open.is_empty() => {
                    *slot = IoSlice::new(open);
                    1
                }
                _ => 0,
            };
        }
        self.queued_io_slices(open, dst)
    }

    /// The queued segments, then the `open` tail after them, as many as `dst` holds.
    fn queued_io_slices<'a>(&'a self, open: &'a [u8], dst: &mut [IoSlice<'a>]) -> usize {
        let open = (!open.is_empty()).then_some(open);
        let all = self
            .segments
            .iter()
            .map(|segment| self.segment(segment))
            .chain(open);
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
    #[inline]
    pub(crate) fn advance(&mut self, n: usize) {
        assert!(
            n <= self.len,
            "advance_output({n}) past the {} buffered bytes",
            self.len
        );
        self.len -= n;
        if self.segments.is_empty() {
            self.open += n;
        } else {
            self.advance_segments(n);
        }
        if self.len == 0 {
            self.tail.clear();
            self.open = 0;
        }
    }

    fn advance_segments(&mut self, mut n: usize) {
        while n > 0 {
            match self.segments.front_mut() {
                Some(Segment::Tail { start, end }) => {
                    let taken = n.min(*end - *start);
                    *start += taken;
                    n -= taken;
                    if start == end {
                        self.segments.pop_front();
                    }
                }
                Some(Segment::Shared(bytes)) => {
                    let taken = n.min(bytes.len());
                    bytes.advance(taken);
                    n -= taken;
                    if bytes.is_empty() {
                        self.segments.pop_front();
                    }
                }
                None => {
                    self.open += n;
                    n = 0;
                }
            }
        }
    }

    /// Frees the buffers' memory if nothing is buffered (for idle connections). The
    /// segment queue keeps its smallest allocation (four slots): a connection that sends
    /// shared payloads would otherwise allocate it again for every message.
    pub(crate) fn release_memory(&mut self) {
        if self.len == 0 {
            if self.segments.capacity() > 4 {
                self.segments = VecDeque::new();
            }
            self.tail = BytesMut::new();
            self.open = 0;
        }
    }

    /// The bytes of memory the output holds (capacity, not content).
    #[cfg(test)]
    pub(crate) fn memory(&self) -> usize {
        let shared: usize = self
            .segments
            .iter()
            .map(|segment| match segment {
                Segment::Shared(bytes) => bytes.len(),
                Segment::Tail { .. } => 0,
            })
            .sum();
        self.tail.capacity() + self.segments.capacity() * std::mem::size_of::<Segment>() + shared
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn append(output: &mut Output, bytes: &[u8]) {
        output.tail_mut().extend_from_slice(bytes);
        output.appended(bytes.len());
    }

    /// The first pending slice.
    fn front(output: &Output) -> Vec<u8> {
        let mut slices = [IoSlice::new(&[]); 1];
        let n = output.io_slices(&mut slices);
        slices[..n].iter().flat_map(|s| s.iter().copied()).collect()
    }

    fn drain_all(output: &mut Output) -> Vec<u8> {
        let mut all = Vec::new();
        while output.len() > 0 {
            let chunk = front(output);
            output.advance(chunk.len());
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
                let front = front(&output);
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
