//! Helpers shared by the integration tests: start a server in the background, connect
//! blocking clients and raw TCP clients, read raw frames.

#![allow(dead_code)]

pub mod certs;
pub mod counting;
pub mod memory;
#[cfg(feature = "redis")]
pub mod redis;
#[cfg(all(feature = "redis", feature = "socketio"))]
pub mod socketio_cluster;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use rfc6455::blocking::{ClientStream, WebSocket};
#[cfg(feature = "server")]
use rfc6455::events::{Server, Spawned};
use rfc6455::frame::{FrameHeader, OpCode};

/// Generous bound on any single wait in a test: only hit when something is broken.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// Binds `server` on a free port of 127.0.0.1 and runs it in the background.
#[cfg(feature = "server")]
pub fn start<D: Default + Send + 'static>(server: Server<D>) -> Spawned {
    server
        .bind("127.0.0.1:0")
        .expect("bind")
        .spawn()
        .expect("spawn")
}

#[cfg(feature = "server")]
pub fn url(running: &Spawned, path: &str) -> String {
    format!("ws://{}{path}", running.local_addr().unwrap())
}

/// A blocking client whose reads give up after `PATIENCE`.
#[cfg(feature = "server")]
pub fn client(running: &Spawned, path: &str) -> WebSocket<ClientStream> {
    let (mut socket, _) = WebSocket::connect(&url(running, path)).expect("connect");
    socket.set_read_timeout(Some(PATIENCE));
    socket
}

/// A raw TCP connection that has completed the opening handshake and does nothing else
/// unless told to.
pub fn raw_client(address: SocketAddr) -> TcpStream {
    let mut stream = TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    stream
        .write_all(
            b"GET / HTTP/1.1\r\nHost: test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
              Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        )
        .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).expect("response head");
        head.push(byte[0]);
    }
    assert!(
        head.starts_with(b"HTTP/1.1 101 "),
        "{}",
        String::from_utf8_lossy(&head)
    );
    stream
}

/// Reads one unmasked frame from a raw stream: its opcode and payload.
pub fn read_frame(stream: &mut TcpStream) -> std::io::Result<(OpCode, Vec<u8>)> {
    let mut head = Vec::new();
    loop {
        if let Some((header, _)) = FrameHeader::decode(&head).expect("a valid frame") {
            let mut payload = vec![0u8; header.payload_len as usize];
            stream.read_exact(&mut payload)?;
            return Ok((header.opcode, payload));
        }
        let mut byte = [0u8; 1];
        stream.read_exact(&mut byte)?;
        head.push(byte[0]);
    }
}

/// Reads until the peer closes; returns how many bytes came.
pub fn read_to_end(stream: &mut TcpStream) -> usize {
    let mut sink = Vec::new();
    let _ = stream.read_to_end(&mut sink);
    sink.len()
}

/// A masked frame as a client sends it.
pub fn client_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let key = [1u8, 2, 3, 4];
    let mut frame = vec![0x80 | opcode];
    assert!(payload.len() < 126);
    frame.push(0x80 | payload.len() as u8);
    frame.extend_from_slice(&key);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    frame
}

/// This process's resident memory in bytes (Linux).
pub fn rss_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: usize = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

/// Tests that measure this process's memory hold this lock, and so do the other tests of
/// their file: RSS is process-wide, and a test allocating next door would blur it.
pub fn exclusive() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
