//! Micro benchmarks of the hot operations, next to the same operations in tungstenite and
//! fastwebsockets where they expose them, and next to a plain `memcpy` for unmasking.
//!
//! ```text
//! cargo bench --bench micro                 # all
//! cargo bench --bench micro -- unmask       # one group
//! ```

use std::hint::black_box;
use std::io::Cursor;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rfc6455::frame::{FrameHeader, MAX_HEADER_LEN, OpCode, apply_mask};
use rfc6455::handshake::ServerHandshake;
use rfc6455::{Config, Connection, Event, Message, MessageKind, Role};

const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

fn header_bytes(len: u64) -> Vec<u8> {
    let header = FrameHeader {
        mask: Some(KEY),
        ..FrameHeader::new(OpCode::Binary, len)
    };
    let mut out = [0u8; MAX_HEADER_LEN];
    let n = header.encode(&mut out);
    out[..n].to_vec()
}

fn frame_header(c: &mut Criterion) {
    let mut group = c.benchmark_group("header_decode");
    for len in [16u64, 1024, 1 << 20] {
        let bytes = header_bytes(len);
        group.bench_with_input(BenchmarkId::new("rfc6455", len), &bytes, |b, bytes| {
            b.iter(|| FrameHeader::decode(black_box(bytes)))
        });
        group.bench_with_input(BenchmarkId::new("tungstenite", len), &bytes, |b, bytes| {
            b.iter(|| {
                let mut cursor = Cursor::new(black_box(bytes.as_slice()));
                tungstenite::protocol::frame::FrameHeader::parse(&mut cursor)
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("header_encode");
    for len in [16u64, 1024, 1 << 20] {
        let ours = FrameHeader {
            mask: Some(KEY),
            ..FrameHeader::new(OpCode::Binary, len)
        };
        group.bench_with_input(BenchmarkId::new("rfc6455", len), &ours, |b, header| {
            b.iter(|| {
                let mut out = [0u8; MAX_HEADER_LEN];
                black_box(header).encode(&mut out);
                out
            })
        });
        let theirs = tungstenite::protocol::frame::FrameHeader {
            is_final: true,
            opcode: tungstenite::protocol::frame::coding::OpCode::Data(
                tungstenite::protocol::frame::coding::Data::Binary,
            ),
            mask: Some(KEY),
            ..Default::default()
        };
        group.bench_with_input(
            BenchmarkId::new("tungstenite", len),
            &theirs,
            |b, header| {
                b.iter(|| {
                    let mut out = Vec::with_capacity(MAX_HEADER_LEN);
                    black_box(header).format(len, &mut out).unwrap();
                    out
                })
            },
        );
    }
    group.finish();
}

fn unmask(c: &mut Criterion) {
    let mut group = c.benchmark_group("unmask");
    for size in [16usize, 1024, 65536, 1 << 20] {
        group.throughput(Throughput::Bytes(size as u64));
        let source = vec![0xA5u8; size];
        let mut buffer = vec![0u8; size];
        group.bench_function(BenchmarkId::new("rfc6455", size), |b| {
            b.iter(|| apply_mask(black_box(&mut buffer), KEY, 0))
        });
        group.bench_function(BenchmarkId::new("fastwebsockets", size), |b| {
            b.iter(|| fastwebsockets::unmask(black_box(&mut buffer), KEY))
        });
        group.bench_function(BenchmarkId::new("memcpy", size), |b| {
            b.iter(|| black_box(&mut buffer).copy_from_slice(black_box(&source)))
        });
    }
    group.finish();
}

const CHROME_REQUEST: &[u8] =
    b"GET /chat HTTP/1.1\r\nHost: localhost:8080\r\nConnection: Upgrade\r\n\
    Pragma: no-cache\r\nCache-Control: no-cache\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) \
    AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36\r\nUpgrade: websocket\r\n\
    Origin: http://localhost:8080\r\nSec-WebSocket-Version: 13\r\n\
    Accept-Encoding: gzip, deflate, br, zstd\r\nAccept-Language: en-US,en;q=0.9\r\n\
    Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
    Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n";

fn handshake(c: &mut Criterion) {
    let mut group = c.benchmark_group("handshake_parse");
    group.throughput(Throughput::Bytes(CHROME_REQUEST.len() as u64));
    let config = Config::default();
    group.bench_function("rfc6455 (parse and validate)", |b| {
        b.iter(|| {
            let mut handshake = ServerHandshake::new(&config);
            handshake.receive(black_box(CHROME_REQUEST)).unwrap()
        })
    });
    group.bench_function("httparse (parse only, as tungstenite)", |b| {
        b.iter(|| {
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut request = httparse::Request::new(&mut headers);
            request.parse(black_box(CHROME_REQUEST)).unwrap()
        })
    });
    group.finish();
}

/// A masked frame as a client sends it.
fn client_frame(opcode: u8, fin: bool, payload: &[u8]) -> Vec<u8> {
    let header = FrameHeader {
        fin,
        mask: Some(KEY),
        ..FrameHeader::new(OpCode::from_bits(opcode).unwrap(), payload.len() as u64)
    };
    let mut out = [0u8; MAX_HEADER_LEN];
    let n = header.encode(&mut out);
    let mut frame = out[..n].to_vec();
    let start = frame.len();
    frame.extend_from_slice(payload);
    apply_mask(&mut frame[start..], KEY, 0);
    frame
}

fn utf8(c: &mut Criterion) {
    let mut group = c.benchmark_group("utf8_validate");
    for (shape, size) in [
        ("mixed", 16usize),
        ("mixed", 1024),
        ("mixed", 65536),
        ("ascii", 65536),
    ] {
        let sample = if shape == "ascii" {
            "hello world "
        } else {
            "héllo wörld "
        };
        let text: String = sample.chars().cycle().take(size).collect();
        let bytes = text.into_bytes();
        let size = format!("{shape} {size}");
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(BenchmarkId::new("std (what rfc6455 uses)", &size), |b| {
            b.iter(|| std::str::from_utf8(black_box(&bytes)).is_ok())
        });
        group.bench_function(BenchmarkId::new("simdutf8", &size), |b| {
            b.iter(|| simdutf8::basic::from_utf8(black_box(&bytes)).is_ok())
        });
        // The whole receive path of one text frame (unmask, validate, split off the
        // message), next to the same frame as binary (unmask only).
        let text_frame = client_frame(1, true, &bytes);
        let binary_frame = client_frame(2, true, &bytes);
        let config = Config::default();
        for (name, frame) in [
            ("receive text", &text_frame),
            ("receive binary", &binary_frame),
        ] {
            group.bench_function(BenchmarkId::new(name, &size), |b| {
                let mut connection = Connection::new(Role::Server, &config);
                b.iter(|| {
                    connection.receive(black_box(frame));
                    match connection.poll_event().unwrap() {
                        Some(Event::Message(Message::Text(text))) => text.len(),
                        Some(Event::Message(Message::Binary(data))) => data.len(),
                        _ => unreachable!(),
                    }
                })
            });
        }
    }
    group.finish();
}

fn assembly(c: &mut Criterion) {
    // A 64 KiB binary message in 64 fragments of 1 KiB.
    let payload = vec![7u8; 64 * 1024];
    let mut stream = Vec::new();
    for (i, chunk) in payload.chunks(1024).enumerate() {
        let opcode = if i == 0 { 2 } else { 0 };
        stream.extend(client_frame(opcode, i == 63, chunk));
    }
    let mut group = c.benchmark_group("assembly_64_fragments");
    group.throughput(Throughput::Bytes(payload.len() as u64));
    let config = Config::default();
    group.bench_function("rfc6455", |b| {
        let mut connection = Connection::new(Role::Server, &config);
        b.iter(|| {
            connection.receive(black_box(&stream));
            match connection.poll_event().unwrap() {
                Some(Event::Message(Message::Binary(data))) => data.len(),
                _ => unreachable!(),
            }
        })
    });
    group.bench_function("tungstenite", |b| {
        b.iter(|| {
            let socket = Cursor::new(stream.clone());
            let mut websocket = tungstenite::protocol::WebSocket::from_raw_socket(
                socket,
                tungstenite::protocol::Role::Server,
                None,
            );
            match websocket.read().unwrap() {
                tungstenite::Message::Binary(data) => data.len(),
                _ => unreachable!(),
            }
        })
    });
    group.finish();

    let mut group = c.benchmark_group("send_small");
    group.throughput(Throughput::Elements(1));
    group.bench_function("rfc6455 encode 16 B and drain", |b| {
        let mut connection = Connection::new(Role::Server, &config);
        let data = [1u8; 16];
        b.iter(|| {
            connection
                .send_fragment(MessageKind::Binary, black_box(&data), true)
                .unwrap();
            let n = connection.buffered_amount();
            connection.advance_output(n);
        })
    });
    group.finish();
}

criterion_group!(benches, frame_header, unmask, handshake, utf8, assembly);
criterion_main!(benches);
