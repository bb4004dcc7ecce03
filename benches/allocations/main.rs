//! Heap allocations per echoed message in steady state, counted by a global allocator.
//!
//! ```text
//! cargo bench --bench allocations
//! ```
//!
//! The echo server (the event API, one loop) runs in this process; a client thread on a
//! blocking socket, written to allocate nothing once connected, sends batches of messages
//! and reads the echoes. After a warm-up, the process-wide allocation count over 100,000
//! echoes is divided by 100,000. Prints one JSON line per message size and kind.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicU64, Ordering};

use rfc6455::Config;
use rfc6455::events::{Handlers, Server};

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call goes to the system allocator unchanged; the counter is an atomic
// add, which does not allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract is passed on.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract is passed on.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract is passed on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const KEY: [u8; 4] = [1, 2, 3, 4];

fn masked_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut frame = vec![0x80 | opcode];
    match payload.len() {
        n if n < 126 => frame.push(0x80 | n as u8),
        n if n < 65536 => {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            frame.push(0x80 | 127);
            frame.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    frame.extend_from_slice(&KEY);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ KEY[i % 4]));
    frame
}

/// Sends `batch` messages at once and reads back the same number of echo frames, with
/// buffers allocated before the measurement.
fn exchange(
    stream: &mut TcpStream,
    batch_bytes: &[u8],
    batch: usize,
    echo_len: usize,
    scratch: &mut [u8],
) {
    stream.write_all(batch_bytes).unwrap();
    let mut expected = batch * echo_len;
    while expected > 0 {
        let room = expected.min(scratch.len());
        let n = stream.read(&mut scratch[..room]).unwrap();
        assert!(n > 0, "server closed");
        expected -= n;
    }
}

fn main() {
    let config = Config {
        max_write_buffer: 64 << 20,
        ..Config::default()
    };
    let server = Server::new(Handlers::<()>::new().on_message(|socket, message| {
        let _ = socket.send(message);
    }))
    .config(config)
    .bind("127.0.0.1:0")
    .unwrap()
    .spawn()
    .unwrap();
    let address = server.local_addr().unwrap();
    for (kind, opcode, size) in [
        ("binary", 2u8, 16usize),
        ("text", 1, 16),
        ("binary", 2, 1024),
        ("text", 1, 1024),
        ("binary", 2, 65536),
    ] {
        let mut stream = TcpStream::connect(address).unwrap();
        stream.set_nodelay(true).unwrap();
        stream
            .write_all(
                b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                  Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
            )
            .unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            stream.read_exact(&mut byte).unwrap();
            head.push(byte[0]);
        }
        let payload = vec![b'a'; size];
        let frame = masked_frame(opcode, &payload);
        let batch = if size >= 65536 { 4 } else { 16 };
        let batch_bytes: Vec<u8> = frame
            .iter()
            .copied()
            .cycle()
            .take(frame.len() * batch)
            .collect();
        let echo_len = frame.len() - 4;
        let mut scratch = vec![0u8; 1 << 20];
        let rounds = 100_000 / batch;
        for _ in 0..rounds / 10 {
            exchange(&mut stream, &batch_bytes, batch, echo_len, &mut scratch);
        }
        let before = ALLOCATIONS.load(Ordering::Relaxed);
        for _ in 0..rounds {
            exchange(&mut stream, &batch_bytes, batch, echo_len, &mut scratch);
        }
        let allocations = ALLOCATIONS.load(Ordering::Relaxed) - before;
        let messages = (rounds * batch) as f64;
        println!(
            "{{\"kind\":\"{kind}\",\"size\":{size},\"messages\":{messages},\"allocations\":{allocations},\
             \"allocations_per_message\":{:.4}}}",
            allocations as f64 / messages
        );
    }
    server.shutdown().unwrap();
}
