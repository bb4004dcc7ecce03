//! Compresses and inflates a corpus of text messages the way permessage-deflate does (raw
//! deflate, one sync flush per message, level 6, 15-bit window), with and without context
//! takeover, and prints one JSON line per mode: MB/s each way and the compression ratio.
//!
//! usage: deflate-backends <corpus file> (the corpus is written by the load bench:
//! `cargo bench --bench deflate_throughput -- --write-corpus FILE`)

use std::time::Instant;

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};

fn backend() -> &'static str {
    if cfg!(feature = "zlib-rs") {
        "zlib-rs"
    } else {
        "miniz_oxide"
    }
}

/// Messages stored as a 4-byte little-endian length and the bytes.
fn read_corpus(path: &str) -> Vec<Vec<u8>> {
    let data = std::fs::read(path).expect("corpus file");
    let mut messages = Vec::new();
    let mut rest = &data[..];
    while rest.len() >= 4 {
        let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        messages.push(rest[4..4 + len].to_vec());
        rest = &rest[4 + len..];
    }
    messages
}

fn compress(compressor: &mut Compress, input: &[u8], out: &mut Vec<u8>) {
    out.clear();
    out.reserve(input.len() / 2 + 64);
    let start = compressor.total_in();
    loop {
        let consumed = (compressor.total_in() - start) as usize;
        compressor
            .compress_vec(&input[consumed..], out, FlushCompress::Sync)
            .unwrap();
        if (compressor.total_in() - start) as usize == input.len() && out.len() < out.capacity() {
            break;
        }
        out.reserve(out.capacity() + 64);
    }
    out.truncate(out.len() - 4);
}

fn inflate(decompressor: &mut Decompress, input: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let mut data = input.to_vec();
    data.extend_from_slice(&[0, 0, 0xff, 0xff]);
    let start = decompressor.total_in();
    loop {
        if out.len() == out.capacity() {
            out.reserve(out.capacity().max(4096));
        }
        let consumed = (decompressor.total_in() - start) as usize;
        decompressor
            .decompress_vec(&data[consumed..], out, FlushDecompress::Sync)
            .unwrap();
        if (decompressor.total_in() - start) as usize == data.len() && out.len() < out.capacity() {
            break;
        }
    }
}

fn main() {
    let path = std::env::args().nth(1).expect("usage: deflate-backends <corpus>");
    let messages = read_corpus(&path);
    let total: usize = messages.iter().map(Vec::len).sum();
    for takeover in [false, true] {
        let mut compressor = Compress::new(Compression::new(6), false);
        let mut decompressor = Decompress::new(false);
        let mut compressed_messages = Vec::with_capacity(messages.len());
        let mut out = Vec::new();
        let started = Instant::now();
        let rounds = 3;
        let mut compressed_total = 0;
        for round in 0..rounds {
            for message in &messages {
                compress(&mut compressor, message, &mut out);
                if !takeover {
                    compressor.reset();
                }
                if round == 0 {
                    compressed_total += out.len();
                    compressed_messages.push(out.clone());
                }
            }
        }
        let compress_seconds = started.elapsed().as_secs_f64() / rounds as f64;
        let started = Instant::now();
        for _ in 0..rounds {
            for (compressed, original) in compressed_messages.iter().zip(&messages) {
                inflate(&mut decompressor, compressed, &mut out);
                assert_eq!(&out, original);
                if !takeover {
                    decompressor.reset(false);
                }
            }
            decompressor.reset(false);
        }
        let inflate_seconds = started.elapsed().as_secs_f64() / rounds as f64;
        println!(
            "{{\"backend\":\"{}\",\"context_takeover\":{takeover},\"messages\":{},\"bytes\":{total},\
             \"compress_mb_s\":{:.1},\"inflate_mb_s\":{:.1},\"ratio\":{:.3}}}",
            backend(),
            messages.len(),
            total as f64 / compress_seconds / 1e6,
            total as f64 / inflate_seconds / 1e6,
            compressed_total as f64 / total as f64,
        );
    }
}
