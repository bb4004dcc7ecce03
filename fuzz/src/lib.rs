//! Helpers shared by the fuzz targets: turning fuzz input into chunked streams, running a
//! connection over a stream, and an allocator that remembers the largest allocation.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use arbitrary::Arbitrary;
use rfc6455::{CloseCode, Config, Connection, Event, Role};

/// Bytes and where to cut them into chunks.
#[derive(Debug, Arbitrary)]
pub struct Chunked {
    pub cuts: Vec<u16>,
    pub data: Vec<u8>,
}

impl Chunked {
    /// Reads a fuzz input: one byte `n` (the number of cuts, up to 15), `2n` bytes of cut
    /// positions, then the stream. A seed is a plain stream after a zero byte.
    pub fn from_bytes(input: &[u8]) -> Chunked {
        let Some((&count, rest)) = input.split_first() else {
            return Chunked {
                cuts: Vec::new(),
                data: Vec::new(),
            };
        };
        let count = usize::from(count % 16).min(rest.len() / 2);
        let (cut_bytes, data) = rest.split_at(count * 2);
        let cuts = cut_bytes
            .chunks_exact(2)
            .map(|pair| u16::from_le_bytes([pair[0], pair[1]]))
            .collect();
        Chunked {
            cuts,
            data: data.to_vec(),
        }
    }

    /// The chunks, in order, covering all of `data`.
    pub fn chunks(&self) -> Vec<&[u8]> {
        let mut cuts: Vec<usize> = self
            .cuts
            .iter()
            .map(|&c| usize::from(c) % (self.data.len() + 1))
            .collect();
        cuts.sort_unstable();
        let mut chunks = Vec::with_capacity(cuts.len() + 1);
        let mut start = 0;
        for cut in cuts.into_iter().chain(std::iter::once(self.data.len())) {
            chunks.push(&self.data[start..cut]);
            start = cut;
        }
        chunks
    }
}

/// What a connection made of a stream: its events, the error that ended it, the close
/// code it sent, and every byte it queued.
#[derive(Debug, PartialEq)]
pub struct Outcome {
    pub events: Vec<Event>,
    pub error: Option<String>,
    pub close_code: Option<CloseCode>,
    pub output: Vec<u8>,
}

/// Small limits so that the fuzzer reaches them.
pub fn small_limits() -> Config {
    Config {
        max_frame_size: 4096,
        max_message_size: 8192,
        max_fragments: 16,
        ..Config::default()
    }
}

/// Feeds `chunks` to a fresh connection, polling after each.
pub fn run(role: Role, config: &Config, chunks: &[&[u8]]) -> Outcome {
    let mut connection = Connection::new(role, config);
    let mut events = Vec::new();
    let mut error = None;
    let mut close_code = None;
    'feed: for chunk in chunks {
        connection.receive(chunk);
        loop {
            match connection.poll_event() {
                // The harness's record of events is not the connection's memory.
                Ok(Some(event)) => TrackingAllocator::untracked(|| events.push(event)),
                Ok(None) => break,
                Err(e) => {
                    close_code = e.close_code();
                    error = Some(e.to_string());
                    break 'feed;
                }
            }
        }
    }
    let mut output = drain_output(&mut connection);
    if role == Role::Client {
        output = TrackingAllocator::untracked(|| unmasked(&output));
    }
    Outcome {
        events,
        error,
        close_code,
        output,
    }
}

/// A client's output with every frame unmasked and its key zeroed: masking keys are
/// random, so two runs compare equal only this way.
pub fn unmasked(mut wire: &[u8]) -> Vec<u8> {
    use rfc6455::frame::{FrameHeader, apply_mask};
    let mut out = Vec::with_capacity(wire.len());
    while let Ok(Some((header, len))) = FrameHeader::decode(wire) {
        let payload_len = header.payload_len as usize;
        let Some(frame) = wire.get(..len + payload_len) else {
            break;
        };
        let mut frame = frame.to_vec();
        if let Some(key) = header.mask {
            apply_mask(&mut frame[len..], key, 0);
            frame[len - 4..len].fill(0);
        }
        out.extend_from_slice(&frame);
        wire = &wire[len + payload_len..];
    }
    out.extend_from_slice(wire);
    out
}

/// A global allocator that records the largest single allocation.
pub struct TrackingAllocator;

static LARGEST: AtomicUsize = AtomicUsize::new(0);
/// True while the harness allocates for itself (see [`TrackingAllocator::untracked`]).
static UNTRACKED: AtomicBool = AtomicBool::new(false);

/// Records `size` as an allocation unless the harness is allocating for itself.
fn record(size: usize) {
    if !UNTRACKED.load(Ordering::Relaxed) {
        LARGEST.fetch_max(size, Ordering::Relaxed);
    }
}

impl TrackingAllocator {
    /// Forgets the largest allocation so far.
    pub fn reset() {
        LARGEST.store(0, Ordering::Relaxed);
    }

    /// Runs `f` without recording its allocations: for the harness's own bookkeeping (the
    /// list of events, the copy of the output), which grows with the input and is not the
    /// connection's memory. The targets run on one thread.
    pub fn untracked<T>(f: impl FnOnce() -> T) -> T {
        UNTRACKED.store(true, Ordering::Relaxed);
        let value = f();
        UNTRACKED.store(false, Ordering::Relaxed);
        value
    }

    /// The largest allocation since the last reset.
    pub fn largest() -> usize {
        LARGEST.load(Ordering::Relaxed)
    }
}

// SAFETY: every method forwards to the system allocator with the same arguments; the only
// addition is relaxed atomics (a flag and a maximum), which allocate nothing.
unsafe impl GlobalAlloc for TrackingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        record(layout.size());
        // SAFETY: forwarded unchanged; the caller upholds `alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        record(new_size);
        // SAFETY: forwarded unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        record(layout.size());
        // SAFETY: forwarded unchanged.
        unsafe { System.alloc_zeroed(layout) }
    }
}

/// Takes everything `connection` has pending, as a transport that writes it all would.
/// The harness's copy is not counted against the connection's allocations.
pub fn drain_output(connection: &mut Connection) -> Vec<u8> {
    let mut output = Vec::new();
    while connection.buffered_amount() > 0 {
        let mut slices = [std::io::IoSlice::new(&[]); 16];
        let count = connection.output_slices(&mut slices);
        let taken: usize = slices[..count].iter().map(|slice| slice.len()).sum();
        TrackingAllocator::untracked(|| {
            for slice in &slices[..count] {
                output.extend_from_slice(slice);
            }
        });
        connection.advance_output(taken);
    }
    output
}
