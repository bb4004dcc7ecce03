//! Compression throughput and ratio of permessage-deflate on text messages, through the
//! public API: a server connection sends each message (compressing it) and a client
//! connection receives it (inflating it), with and without context takeover.
//!
//! ```text
//! cargo bench --bench deflate_throughput                      # JSON lines on stdout
//! cargo bench --bench deflate_throughput -- --write-corpus F  # the corpus, for ws.mjs
//! ```
//!
//! The corpus is 2,000 chat-like JSON messages of 1 to 8 KiB built from a fixed vocabulary
//! by a fixed pseudo-random sequence, so every run and every peer compresses the same bytes.
//! `scripts/bench-deflate.sh` runs this, Node `ws` on the same corpus (ws.mjs), and the
//! flate2 backend comparison.

use std::time::Instant;

use rfc6455::deflate::DeflateConfig;
use rfc6455::handshake::{Accept, ClientHandshake, ClientRequest, Incoming, ServerHandshake};
use rfc6455::{Config, Connection, Event, Message};

const WORDS: &[&str] = &[
    "the",
    "message",
    "room",
    "alice",
    "bob",
    "carol",
    "hello",
    "world",
    "price",
    "update",
    "order",
    "status",
    "pending",
    "shipped",
    "delivered",
    "user",
    "session",
    "token",
    "ok",
    "error",
    "retry",
    "connected",
    "latency",
    "window",
    "frame",
    "payload",
    "compressed",
    "server",
    "client",
    "broadcast",
    "subscribe",
    "channel",
    "ticker",
    "BTC",
    "ETH",
    "EUR",
    "USD",
    "timestamp",
    "value",
    "count",
    "items",
    "name",
    "text",
    "type",
    "id",
    "true",
    "false",
    "null",
    "quick",
    "brown",
    "fox",
    "jumps",
    "over",
    "lazy",
    "dog",
];

/// The corpus: deterministic, chat-like JSON text.
fn corpus() -> Vec<String> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..2000)
        .map(|i| {
            let target = 1024 + (next() % 7168) as usize;
            let mut text = String::with_capacity(target + 64);
            text.push_str(&format!("{{\"id\":{i},\"type\":\"batch\",\"items\":["));
            while text.len() < target {
                let word = WORDS[(next() % WORDS.len() as u64) as usize];
                let other = WORDS[(next() % WORDS.len() as u64) as usize];
                text.push_str(&format!(
                    "{{\"name\":\"{word}\",\"text\":\"{word} {other}\",\"value\":{}}},",
                    next() % 100_000
                ));
            }
            text.push_str("null]}");
            text
        })
        .collect()
}

fn connect(takeover: bool) -> (Connection, Connection) {
    let settings = DeflateConfig {
        threshold: 0,
        own_context_takeover: takeover,
        peer_context_takeover: takeover,
        ..DeflateConfig::default()
    };
    let config = Config {
        deflate: Some(settings),
        max_message_size: usize::MAX,
        ..Config::default()
    };
    let mut client = ClientHandshake::new(&ClientRequest::new("h", "/"), &config).unwrap();
    let Some(Incoming::Upgrade(upgrade)) = ServerHandshake::new(&config)
        .receive(client.request())
        .unwrap()
    else {
        panic!("not an upgrade")
    };
    let accepted = upgrade.accept(&Accept::new(), &config).unwrap();
    let (response, server) = accepted;
    let (_, client) = client.receive(&response).unwrap().unwrap();
    (client, server)
}

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    let messages = corpus();
    if let Some(flag) = args.next() {
        assert_eq!(flag, "--write-corpus", "unknown argument {flag}");
        let path = args.next().expect("--write-corpus FILE");
        let mut out = Vec::new();
        for message in &messages {
            out.extend_from_slice(&(message.len() as u32).to_le_bytes());
            out.extend_from_slice(message.as_bytes());
        }
        std::fs::write(path, out).unwrap();
        return;
    }
    let total: usize = messages.iter().map(String::len).sum();
    for takeover in [false, true] {
        let rounds = 3;
        let mut compress_seconds = 0.0;
        let mut inflate_seconds = 0.0;
        let mut wire = 0;
        for _ in 0..rounds {
            let (mut client, mut server) = connect(takeover);
            let mut frames = Vec::with_capacity(messages.len());
            let started = Instant::now();
            for message in &messages {
                server.send(message).unwrap();
                let mut slices = [std::io::IoSlice::new(&[]); 4];
                let count = server.output_slices(&mut slices);
                let frame: Vec<u8> = slices[..count]
                    .iter()
                    .flat_map(|s| s.iter().copied())
                    .collect();
                server.advance_output(frame.len());
                frames.push(frame);
            }
            compress_seconds += started.elapsed().as_secs_f64();
            wire = frames.iter().map(Vec::len).sum::<usize>();
            let started = Instant::now();
            for (frame, message) in frames.iter().zip(&messages) {
                client.receive(frame);
                match client.poll_event().unwrap() {
                    Some(Event::Message(Message::Text(text))) => {
                        assert_eq!(text.len(), message.len())
                    }
                    other => panic!("{other:?}"),
                }
            }
            inflate_seconds += started.elapsed().as_secs_f64();
        }
        println!(
            "{{\"implementation\":\"rfc6455\",\"context_takeover\":{takeover},\"messages\":{},\
             \"bytes\":{total},\"compress_mb_s\":{:.1},\"inflate_mb_s\":{:.1},\"ratio\":{:.3}}}",
            messages.len(),
            total as f64 * rounds as f64 / compress_seconds / 1e6,
            total as f64 * rounds as f64 / inflate_seconds / 1e6,
            wire as f64 / total as f64,
        );
    }
}
