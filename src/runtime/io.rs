//! The system calls on a connection's socket: one read into a buffer's spare room, and
//! writes of the pending output until it is written or the socket would block.

use std::io::{IoSlice, Read, Write};

use bytes::BytesMut;

use crate::protocol::Connection;

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
/// The room is not zeroed first: zeroing it cost 8% of the echo server's messages per
/// CPU-second at 10 connections × 64 KiB and 7% at 1 MiB, nothing measurable at 16 B
/// (`scripts/bench-zeroing.sh`,
/// which builds the zeroing variant below with `--cfg rfc6455_zeroed_reads`; figures in
/// docs/benchmarks.md).
#[cfg(not(rfc6455_zeroed_reads))]
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
    let room = unsafe { &mut *(spare as *mut [std::mem::MaybeUninit<u8>] as *mut [u8]) };
    let result = stream.read(room);
    if let Ok(read) = result {
        // SAFETY: the first `read` bytes past the length were just written (and `read` is
        // at most `size`, the room's length, by the contract; clamped all the same).
        unsafe { buffer.set_len(start + read.min(size)) };
    }
    result
}

/// The same read with its room zeroed first, in safe code: only built for
/// `scripts/bench-zeroing.sh`, which measures what the unsafe version saves.
#[cfg(rfc6455_zeroed_reads)]
pub(crate) fn read_into<R: WriteOnlyRead>(
    stream: &mut R,
    buffer: &mut BytesMut,
    size: usize,
) -> std::io::Result<usize> {
    let start = buffer.len();
    buffer.resize(start + size, 0);
    let result = stream.read(buffer.get_mut(start..).unwrap_or_default());
    let read = result.as_ref().map_or(0, |n| (*n).min(size));
    buffer.truncate(start + read);
    result
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
