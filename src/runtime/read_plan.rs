//! Where each read goes and what a connection keeps between reads.
//!
//! [`Reader`] owns a loop's read buffers and lends one to the connection being read: a
//! connection with no frame in progress reads into a pooled buffer (its size adapts between
//! 4 KiB and 256 KiB); one in the middle of a frame reads straight after the bytes it holds
//! when its own buffer has room. After the connection's events are taken, the connection
//! keeps only the bytes of an incomplete frame, in a buffer sized for them plus room for the
//! rest of the frame (at most 8 times what the peer has sent, so a peer that announces a
//! large frame and stalls holds about what it sent), and the loop's buffer goes back to the
//! pool. So an idle connection holds no buffer, and a busy loop allocates none.

use bytes::BytesMut;

use super::io::{WriteOnlyRead, read_into};
use crate::protocol::Connection;
use crate::read_size::{MAX_READ, MIN_READ, adapt_read_size};

/// The loop's read buffers. One is lent to the connection being served; a message queued
/// for writing without a copy keeps a reference into it, so it cannot be reused until the
/// write is done. Rather than allocating (and faulting in) fresh memory for the next read,
/// the pool keeps a few such buffers and takes whichever is free again.
///
/// It also keeps small buffers for the incomplete frames connections hold between reads,
/// so that a frame split across reads costs no allocation either.
#[derive(Debug, Default)]
struct ReadBuffers {
    buffers: Vec<BytesMut>,
    small: Vec<BytesMut>,
}

/// Up to this size, an incomplete frame is kept in a small buffer of its own.
const MAX_SMALL: usize = 16 * 1024;

/// How many small buffers the pool keeps.
const POOLED_SMALL: usize = 16;

/// How many buffers the pool keeps.
const POOLED: usize = 8;

impl ReadBuffers {
    /// An empty buffer with room for `size` bytes, reused if one is free.
    fn take(&mut self, size: usize) -> BytesMut {
        self.take_at_most(size, usize::MAX)
    }

    /// An empty buffer with room for `size` bytes and at most `limit`, reused if one is
    /// free; a new one has room for exactly `size`.
    fn take_at_most(&mut self, size: usize, limit: usize) -> BytesMut {
        for index in (0..self.buffers.len()).rev() {
            if let Some(buffer) = self.buffers.get_mut(index) {
                buffer.clear();
                if buffer.try_reclaim(size) && buffer.capacity() <= limit {
                    return self.buffers.swap_remove(index);
                }
            }
        }
        BytesMut::with_capacity(size)
    }

    /// An empty buffer for `len` bytes of an incomplete frame: `spare` if it is large
    /// enough, else a pooled one that is, else a new one.
    fn take_small(&mut self, spare: BytesMut, len: usize) -> BytesMut {
        if spare.capacity() >= len {
            return spare;
        }
        self.put_small(spare);
        match self.small.iter().position(|b| b.capacity() >= len) {
            Some(index) => self.small.swap_remove(index),
            None => BytesMut::with_capacity(len),
        }
    }

    /// Keeps an empty small buffer for later, if the pool has room; a large one (a
    /// connection's buffer for a large frame) joins the read buffers instead.
    fn put_small(&mut self, mut buffer: BytesMut) {
        buffer.clear();
        if buffer.capacity() > MAX_SMALL {
            return self.put(buffer);
        }
        if buffer.capacity() > 0 && self.small.len() < POOLED_SMALL {
            self.small.push(buffer);
        }
    }

    /// Gives a buffer back (its remaining references may still be in use); the pool keeps
    /// the most recent ones. A buffer with no room left is kept too: it is a view of an
    /// allocation that comes back whole once the messages handed up from it are dropped
    /// (`try_reclaim` in `take`), so its room says nothing of its size, and evicting by
    /// room would throw out the large buffers still in flight and keep stale small ones.
    fn put(&mut self, buffer: BytesMut) {
        if self.buffers.len() >= POOLED {
            self.buffers.remove(0);
        }
        self.buffers.push(buffer);
    }
}

/// Where a read of frames went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    /// One of the loop's buffers.
    Loop,
    /// The connection's own buffer, of this capacity before the read.
    Own(usize),
}

/// A read whose buffers are out: give them back with [`Reader::settle`] once the
/// connection's events are taken (the frames handed up borrow the buffer until then).
#[derive(Debug)]
#[must_use = "the read's buffers go back to the pool through Reader::settle"]
pub(crate) struct Lease {
    /// The connection's own small buffer, emptied, when the read went into a loop buffer.
    spare: BytesMut,
    target: Target,
}

/// What [`Reader::read_frames`] did.
#[derive(Debug)]
pub(crate) struct FrameRead {
    /// The read's result: bytes read (0 at the end of the stream), or the error.
    pub(crate) result: std::io::Result<usize>,
    /// The read did not fill its room: the socket is drained (on Linux an edge-triggered
    /// poll reports the next data, so the read that would only say `WouldBlock` is skipped).
    pub(crate) drained: bool,
    pub(crate) lease: Lease,
}

/// A loop's read buffers and its current read size.
#[derive(Debug)]
pub(crate) struct Reader {
    buffers: ReadBuffers,
    read_size: usize,
}

impl Default for Reader {
    fn default() -> Self {
        Reader {
            buffers: ReadBuffers::default(),
            read_size: MIN_READ,
        }
    }
}

impl Reader {
    /// Reads once from `stream` for `connection`. New bytes go to the connection (and
    /// count as heard from the peer); on an error or the end of the stream the bytes it
    /// held are given back unchanged. `to_the_end`: the peer closed its side, so a short
    /// read does not mean the socket is drained.
    pub(crate) fn read_frames<R: WriteOnlyRead>(
        &mut self,
        stream: &mut R,
        connection: &mut Connection,
        to_the_end: bool,
    ) -> FrameRead {
        let missing = connection.frame_bytes_missing();
        let mut input = connection.take_input();
        let room = input.capacity() - input.len();
        let own = Target::Own(input.capacity());
        let (size, target) = if missing == 0 {
            let target = if room >= self.read_size {
                own
            } else {
                Target::Loop
            };
            (self.read_size, target)
        } else if room >= missing.min(MIN_READ) {
            (missing.max(MIN_READ).min(room), own)
        } else {
            (missing.clamp(MIN_READ, MAX_READ), Target::Loop)
        };
        let (mut buffer, spare) = if let Target::Own(_) = target {
            (input, BytesMut::new())
        } else {
            let mut buffer = self.buffers.take(size + input.len());
            buffer.extend_from_slice(&input);
            input.clear();
            (buffer, input)
        };
        let result = read_into(stream, &mut buffer, size);
        let lease = Lease { spare, target };
        match &result {
            Ok(n) if *n > 0 => {
                if missing == 0 {
                    self.read_size = adapt_read_size(size, *n);
                }
                connection.receive_bytes(buffer);
                FrameRead {
                    drained: *n < size && !to_the_end,
                    result,
                    lease,
                }
            }
            _ => {
                let Lease { spare, target } = lease;
                self.give_back(Some(connection), buffer, spare, 0, target);
                FrameRead {
                    result,
                    drained: true,
                    lease: Lease {
                        spare: BytesMut::new(),
                        target: Target::Own(0),
                    },
                }
            }
        }
    }

    /// Settles a read once the connection's events are taken: the connection (if it is
    /// still open) keeps the bytes of an incomplete frame, and the rest goes to the pool.
    pub(crate) fn settle(&mut self, connection: Option<&mut Connection>, lease: Lease) {
        let Lease { spare, target } = lease;
        match connection {
            Some(connection) => {
                let missing = connection.frame_bytes_missing();
                let buffer = connection.take_input();
                self.give_back(Some(connection), buffer, spare, missing, target);
            }
            None => self.buffers.put_small(spare),
        }
    }

    /// Reads once from `stream` into a pooled buffer and hands what came to `consume` (a
    /// handshake parser); returns how many bytes came (0 at the end of the stream) and
    /// what `consume` made of them.
    pub(crate) fn read_head<R: WriteOnlyRead, T>(
        &mut self,
        stream: &mut R,
        consume: impl FnOnce(&[u8]) -> T,
    ) -> std::io::Result<(usize, T)> {
        let mut buffer = self.buffers.take(MIN_READ);
        let read = read_into(stream, &mut buffer, MIN_READ);
        let outcome = read.map(|n| (n, consume(buffer.get(..n).unwrap_or_default())));
        self.buffers.put(buffer);
        outcome
    }

    /// The most a head read takes: a shorter read drained the socket.
    pub(crate) const HEAD_READ: usize = MIN_READ;

    /// Gives back what a read went into: a connection that read into its own buffer keeps
    /// it if it still holds an incomplete frame; otherwise the buffer goes to the pool
    /// (with its allocation's size, not the room left in it, deciding which part: a frame
    /// read to the end of a large buffer leaves a view with no room, and the allocation
    /// comes back whole once the message handed up is dropped). A loop buffer goes back to
    /// the pool through [`keep_unparsed`](Self::keep_unparsed).
    fn give_back(
        &mut self,
        connection: Option<&mut Connection>,
        buffer: BytesMut,
        spare: BytesMut,
        missing: usize,
        target: Target,
    ) {
        let Target::Own(allocated) = target else {
            return self.keep_unparsed(connection, buffer, spare, missing);
        };
        match connection {
            Some(connection) if !buffer.is_empty() => connection.restore_input(buffer),
            _ if allocated <= MAX_SMALL => self.buffers.put_small(buffer),
            _ => self.buffers.put(buffer),
        }
    }

    /// Returns a read buffer to the pool, leaving the connection the bytes of an incomplete
    /// frame it holds: copied into `spare` (the connection's own small buffer, reused) when
    /// it is large enough, into a pooled or new buffer otherwise. The buffer kept also has
    /// room for the `missing` rest of the frame, so the next reads need no copy, up to 8
    /// times the bytes the peer has sent (or `MIN_READ`). Reads do not zero their room, so
    /// room the peer never fills costs address space, not memory.
    fn keep_unparsed(
        &mut self,
        connection: Option<&mut Connection>,
        mut buffer: BytesMut,
        spare: BytesMut,
        missing: usize,
    ) {
        match connection {
            Some(connection) if !buffer.is_empty() => {
                let room = missing.min(8 * buffer.len().max(MIN_READ));
                let size = buffer.len() + room;
                // Large ones come from the pool of read buffers (fresh memory of that size
                // would be mapped and faulted in for every message), at most twice the size.
                let mut kept = if size <= MAX_SMALL {
                    self.buffers.take_small(spare, size)
                } else {
                    self.buffers.put_small(spare);
                    self.buffers.take_at_most(size, 2 * size)
                };
                kept.extend_from_slice(&buffer);
                connection.restore_input(kept);
                buffer.clear();
            }
            _ => self.buffers.put_small(spare),
        }
        self.buffers.put(buffer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Config, Event, Role};

    /// A client frame: FIN, `opcode`, masked with a zero key (so the payload is as given).
    fn frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![0x80 | opcode];
        match payload.len() {
            len @ 0..=125 => out.push(0x80 | len as u8),
            len @ 126..=0xFFFF => {
                out.push(0x80 | 126);
                out.extend_from_slice(&(len as u16).to_be_bytes());
            }
            len => {
                out.push(0x80 | 127);
                out.extend_from_slice(&(len as u64).to_be_bytes());
            }
        }
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(payload);
        out
    }

    fn server() -> Connection {
        Connection::new(Role::Server, &Config::default())
    }

    /// Reads `wire` in reads of at most `chunk` bytes (a socket that hands out that much at
    /// a time); returns the sizes of the messages and, after each read, the capacity the
    /// connection kept.
    fn read_all(reader: &mut Reader, wire: &[u8], chunk: usize) -> (Vec<usize>, Vec<usize>) {
        let mut connection = server();
        let (mut messages, mut kept) = (Vec::new(), Vec::new());
        for piece in wire.chunks(chunk) {
            let mut stream = piece;
            let read = reader.read_frames(&mut stream, &mut connection, false);
            assert_eq!(read.result.unwrap(), piece.len());
            while let Some(event) = connection.poll_event().unwrap() {
                if let Event::Message(message) = event {
                    messages.push(message.len());
                }
            }
            reader.settle(Some(&mut connection), read.lease);
            kept.push(connection.buffer_memory());
        }
        (messages, kept)
    }

    #[test]
    fn whole_frames_leave_the_connection_no_buffer() {
        let mut reader = Reader::default();
        let mut wire = Vec::new();
        for _ in 0..100 {
            wire.extend(frame(2, &[7; 30]));
        }
        let (messages, kept) = read_all(&mut reader, &wire, 360);
        assert_eq!(messages, vec![30; 100]);
        // 360 bytes is ten whole 36-byte frames: nothing is left over, nothing kept.
        assert!(kept.iter().all(|&held| held == 0), "{kept:?}");
    }

    #[test]
    fn a_split_frame_keeps_only_its_bytes_and_room_for_the_rest() {
        let mut reader = Reader::default();
        let wire = frame(2, &[1; 1000]);
        let (messages, kept) = read_all(&mut reader, &wire, 100);
        assert_eq!(messages, [1000]);
        // Between reads the connection holds the frame so far, in a small buffer with room
        // for the rest; once the frame is complete it holds nothing.
        assert!(kept[0] >= 1008 - 100 && kept[0] <= MAX_SMALL, "{kept:?}");
        assert_eq!(*kept.last().unwrap(), 0);
    }

    #[test]
    fn a_peer_that_announces_a_large_frame_and_stalls_holds_about_what_it_sent() {
        let mut reader = Reader::default();
        let wire = frame(2, &vec![3; 1 << 20]);
        let mut connection = server();
        let mut stream = &wire[..100_000];
        let read = reader.read_frames(&mut stream, &mut connection, false);
        assert!(read.result.unwrap() > 0);
        assert_eq!(connection.poll_event().unwrap(), None);
        reader.settle(Some(&mut connection), read.lease);
        let held = connection.buffer_memory();
        let sent = wire.len() - stream.len();
        assert!(
            held <= 9 * sent.max(MIN_READ),
            "{held} held for {sent} sent"
        );
    }

    #[test]
    fn the_rest_of_a_large_frame_is_read_in_place() {
        let mut reader = Reader::default();
        let wire = frame(2, &vec![5; 200_000]);
        let mut connection = server();
        // The first read brings the header and some payload; the connection then keeps a
        // buffer with room for the rest, and the next read goes straight into it.
        let mut stream = &wire[..50_000];
        let read = reader.read_frames(&mut stream, &mut connection, false);
        assert_eq!(connection.poll_event().unwrap(), None);
        reader.settle(Some(&mut connection), read.lease);
        let held = connection.buffer_memory();
        assert!(held > MAX_SMALL, "room kept for the rest: {held}");
        let mut stream = &wire[4096..];
        let read = reader.read_frames(&mut stream, &mut connection, false);
        assert_eq!(read.lease.target, Target::Own(held));
        assert!(read.result.unwrap() > 0);
        assert_eq!(connection.poll_event().unwrap(), None);
        reader.settle(Some(&mut connection), read.lease);
    }

    #[test]
    fn a_failed_read_gives_the_bytes_back_unchanged_and_unheard() {
        let mut reader = Reader::default();
        let wire = frame(1, b"hello");
        let mut connection = server();
        let mut stream = &wire[..4];
        let read = reader.read_frames(&mut stream, &mut connection, false);
        reader.settle(Some(&mut connection), read.lease);
        // The end of the stream: nothing read, the 4 bytes still held.
        let mut empty: &[u8] = &[];
        let read = reader.read_frames(&mut empty, &mut connection, false);
        assert_eq!(read.result.unwrap(), 0);
        reader.settle(Some(&mut connection), read.lease);
        let mut stream = &wire[4..];
        let read = reader.read_frames(&mut stream, &mut connection, false);
        assert_eq!(read.result.unwrap(), wire.len() - 4);
        assert!(
            matches!(connection.poll_event().unwrap(), Some(Event::Message(m)) if m.as_text() == Some("hello"))
        );
        reader.settle(Some(&mut connection), read.lease);
    }

    #[test]
    fn a_head_read_hands_its_bytes_over_and_keeps_no_buffer_out() {
        let mut reader = Reader::default();
        let mut stream: &[u8] = b"GET / HTTP/1.1\r\n";
        let (n, seen) = reader.read_head(&mut stream, <[u8]>::to_vec).unwrap();
        assert_eq!((n, &seen[..]), (16, &b"GET / HTTP/1.1\r\n"[..]));
        assert_eq!(reader.buffers.buffers.len(), 1, "the buffer went back");
    }

    /// A large buffer read to its end, with the message handed up from it still alive,
    /// comes back whole once the message is dropped; a connection's large buffer given back
    /// as a small one joins the read buffers.
    #[test]
    fn large_buffers_come_back_whole_to_the_read_pool() {
        let mut pool = ReadBuffers::default();
        let mut buffer = pool.take(64 * 1024);
        let allocation = buffer.as_ptr();
        buffer.resize(64 * 1024, 7);
        let message = buffer.split_to(64 * 1024).freeze();
        assert_eq!(buffer.capacity(), 0);
        pool.put(buffer);
        assert_ne!(
            pool.take(64 * 1024).as_ptr(),
            allocation,
            "in use: not reclaimable"
        );
        drop(message);
        assert_eq!(pool.take(64 * 1024).as_ptr(), allocation);

        let own = BytesMut::with_capacity(4 * MAX_SMALL);
        let allocation = own.as_ptr();
        pool.put_small(own);
        assert_eq!(pool.take(2 * MAX_SMALL).as_ptr(), allocation);
    }
}
