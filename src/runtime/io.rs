//! Reading into and writing from the loop's buffers, without ever blocking.

use std::io::{IoSlice, Read, Write};
use std::mem::MaybeUninit;

use bytes::BytesMut;

use crate::protocol::Connection;

/// The smallest and largest read the loop asks for; it adapts between them (a read that
/// fills its buffer doubles the next one, a short one halves it), so small messages do not
/// pay to zero a large buffer and large ones do not pay for many small reads.
pub(crate) const MIN_READ: usize = 4 * 1024;
pub(crate) const MAX_READ: usize = 256 * 1024;

/// The loop's read buffers. One is lent to the connection being served; a message queued
/// for writing without a copy keeps a reference into it, so it cannot be reused until the
/// write is done. Rather than allocating (and faulting in) fresh memory for the next read,
/// the pool keeps a few such buffers and takes whichever is free again.
///
/// It also keeps small buffers for the incomplete frames connections hold between reads,
/// so that a frame split across reads costs no allocation either.
#[derive(Debug, Default)]
pub(crate) struct ReadBuffers {
    buffers: Vec<BytesMut>,
    small: Vec<BytesMut>,
}

/// Up to this size, an incomplete frame is kept in a small buffer of its own.
pub(crate) const MAX_SMALL: usize = 16 * 1024;

/// How many small buffers the pool keeps.
const POOLED_SMALL: usize = 16;

/// How many buffers the pool keeps.
const POOLED: usize = 8;

impl ReadBuffers {
    /// An empty buffer with room for `size` bytes, reused if one is free.
    pub(crate) fn take(&mut self, size: usize) -> BytesMut {
        self.take_at_most(size, usize::MAX)
    }

    /// An empty buffer with room for `size` bytes and at most `limit`, reused if one is
    /// free; a new one has room for exactly `size`.
    pub(crate) fn take_at_most(&mut self, size: usize, limit: usize) -> BytesMut {
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
    pub(crate) fn take_small(&mut self, spare: BytesMut, len: usize) -> BytesMut {
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
    pub(crate) fn put_small(&mut self, mut buffer: BytesMut) {
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
    pub(crate) fn put(&mut self, buffer: BytesMut) {
        if self.buffers.len() >= POOLED {
            self.buffers.remove(0);
        }
        self.buffers.push(buffer);
    }
}

/// A source that [`read_into`] may hand memory that was never initialized.
///
/// # Safety
/// `read` only writes into the buffer it is given, never reads from it, and returns at most
/// the buffer's length.
#[allow(unsafe_code)]
pub(crate) unsafe trait WriteOnlyRead: Read {}

// SAFETY: mio's `TcpStream::read` is std's, one recv(2) into the buffer, which the kernel
// only writes, returning how many bytes it wrote.
#[allow(unsafe_code)]
unsafe impl WriteOnlyRead for mio::net::TcpStream {}

// SAFETY: `<&[u8] as Read>::read` copies from the slice into the buffer.
#[allow(unsafe_code)]
unsafe impl WriteOnlyRead for &[u8] {}

/// Reads once into the spare capacity of `buffer` (growing it to `size` bytes of room).
///
/// The room is not zeroed first: for a 64 KiB message that cost 5% of the server's CPU
/// (`perf`, 10 connections × 64 KiB echo), as much as the unmasking.
#[allow(unsafe_code)]
pub(crate) fn read_into<R: WriteOnlyRead>(
    stream: &mut R,
    buffer: &mut BytesMut,
    size: usize,
) -> std::io::Result<usize> {
    let start = buffer.len();
    buffer.reserve(size);
    let spare = &mut buffer.spare_capacity_mut()[..size];
    // SAFETY: `spare` is `size` bytes of the buffer's allocation past its length. `R` only
    // writes into them (the `WriteOnlyRead` contract), so no uninitialized byte is read
    // through this view, and only the bytes it reports written join the buffer below.
    let room = unsafe { &mut *(spare as *mut [MaybeUninit<u8>] as *mut [u8]) };
    let result = stream.read(room);
    if let Ok(read) = result {
        // SAFETY: the first `read` bytes past the length were just written (and `read` is
        // at most `size`, the room's length, by the contract; clamped all the same).
        unsafe { buffer.set_len(start + read.min(size)) };
    }
    result
}

/// The next read size after a read of `read` bytes into `size` bytes of room.
pub(crate) fn adapt_read_size(size: usize, read: usize) -> usize {
    if read == size {
        (size * 2).min(MAX_READ)
    } else if read < size / 4 {
        (size / 2).max(MIN_READ)
    } else {
        size
    }
}

/// How many slices one vectored write takes at most.
const MAX_SLICES: usize = 64;

/// Writes the connection's pending output until it is empty or the socket would block.
/// Returns true when everything was written.
pub(crate) fn write_connection<W: Write>(
    stream: &mut W,
    connection: &mut Connection,
) -> std::io::Result<bool> {
    let mut gathered = [0u8; GATHER_LIMIT];
    while connection.buffered_amount() > 0 {
        let mut slices = [IoSlice::new(&[]); MAX_SLICES];
        let count = connection.output_slices(&mut slices);
        // One slice (the common case): write() is cheaper in the kernel than writev().
        // Several small ones (queued broadcasts, a pong before an echo) are cheaper to
        // copy together than to describe to writev().
        let result = match slices.get(..count) {
            Some([only]) => stream.write(only),
            Some(some) => match gather_small(some, &mut gathered) {
                Some(bytes) => stream.write(bytes),
                None => stream.write_vectored(some),
            },
            None => Ok(0),
        };
        let written = match result {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Ok(false),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        connection.advance_output(written);
    }
    Ok(true)
}

/// Up to how many bytes of several slices are copied into one buffer for write().
const GATHER_LIMIT: usize = 2048;

/// Copies `slices` into `buffer` if they fit; returns the filled part.
fn gather_small<'a>(
    slices: &[IoSlice<'_>],
    buffer: &'a mut [u8; GATHER_LIMIT],
) -> Option<&'a [u8]> {
    let total: usize = slices.iter().map(|slice| slice.len()).sum();
    let filled = buffer.get_mut(..total)?;
    let mut rest = &mut filled[..];
    for slice in slices {
        let (head, tail) = rest.split_at_mut(slice.len());
        head.copy_from_slice(slice);
        rest = tail;
    }
    Some(filled)
}

/// Writes `bytes[*written..]` until done or the socket would block; true when done.
pub(crate) fn write_bytes<W: Write>(
    stream: &mut W,
    bytes: &[u8],
    written: &mut usize,
) -> std::io::Result<bool> {
    while let Some(rest) = bytes.get(*written..).filter(|rest| !rest.is_empty()) {
        match stream.write(rest) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => *written += n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Ok(false),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_slices_are_gathered_in_order_and_large_ones_are_not() {
        let mut buffer = [0u8; GATHER_LIMIT];
        let slices = [IoSlice::new(b"ab"), IoSlice::new(b""), IoSlice::new(b"cde")];
        assert_eq!(gather_small(&slices, &mut buffer), Some(&b"abcde"[..]));
        let big = vec![7u8; GATHER_LIMIT];
        let slices = [IoSlice::new(b"a"), IoSlice::new(&big)];
        assert_eq!(gather_small(&slices, &mut buffer), None);
        let exact = [IoSlice::new(&big[1..]), IoSlice::new(b"z")];
        assert_eq!(
            gather_small(&exact, &mut buffer).map(<[u8]>::len),
            Some(GATHER_LIMIT)
        );
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

    #[test]
    fn read_size_adapts_within_bounds() {
        assert_eq!(adapt_read_size(MIN_READ, MIN_READ), 2 * MIN_READ);
        assert_eq!(adapt_read_size(MAX_READ, MAX_READ), MAX_READ);
        assert_eq!(adapt_read_size(64 * 1024, 100), 32 * 1024);
        assert_eq!(adapt_read_size(MIN_READ, 1), MIN_READ);
        assert_eq!(adapt_read_size(64 * 1024, 20_000), 64 * 1024);
    }

    #[test]
    fn read_into_a_socket_keeps_only_what_arrived_after_old_bytes_in_the_room() {
        use std::net::TcpListener;
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut sender = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (accepted, _) = listener.accept().unwrap();
        let mut receiver = mio::net::TcpStream::from_std(accepted);
        // The room past the length holds old bytes: they must not show up.
        let mut buffer = BytesMut::from(&[0xAA; 4096][..]);
        buffer.truncate(2);
        sender.write_all(b"hello").unwrap();
        let mut read = 0;
        while read == 0 {
            match read_into(&mut receiver, &mut buffer, 4000) {
                Ok(n) => read = n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => std::thread::yield_now(),
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(&buffer[..], b"\xAA\xAAhello");
        drop(sender);
        let mut end = None;
        while end.is_none() {
            match read_into(&mut receiver, &mut buffer, 4000) {
                Ok(n) => end = Some(n),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => std::thread::yield_now(),
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!((end, &buffer[..]), (Some(0), &b"\xAA\xAAhello"[..]));
    }

    #[test]
    fn read_into_appends_and_keeps_length_exact() {
        let mut buffer = BytesMut::from(&b"ab"[..]);
        let mut source: &[u8] = b"cdef";
        let n = read_into(&mut source, &mut buffer, 16).unwrap();
        assert_eq!((n, &buffer[..]), (4, &b"abcdef"[..]));
        let n = read_into(&mut source, &mut buffer, 16).unwrap();
        assert_eq!((n, &buffer[..]), (0, &b"abcdef"[..]));
    }
}
