//! An arbitrary byte stream, split at arbitrary points, into a server connection that
//! negotiated permessage-deflate: hostile compressed data, RSV1 in odd places, bombs.
//!
//! Asserts: the same events, error and output for every split as for the whole stream;
//! close codes only from the RFC's failure set; no allocation beyond what the limits allow
//! (an inflated message never outgrows `max_message_size`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rfc6455::deflate::DeflateConfig;
use rfc6455::handshake::{Accept, ClientHandshake, ClientRequest, Incoming, ServerHandshake};
use rfc6455::{Config, Connection, Event};
use rfc6455_fuzz::{Chunked, TrackingAllocator, small_limits};

#[global_allocator]
static ALLOCATOR: TrackingAllocator = TrackingAllocator;

fn config(takeover: bool) -> Config {
    Config {
        deflate: Some(DeflateConfig {
            threshold: 0,
            own_context_takeover: takeover,
            peer_context_takeover: takeover,
            ..DeflateConfig::default()
        }),
        ..small_limits()
    }
}

/// A server connection with permessage-deflate agreed.
fn server(config: &Config) -> Connection {
    let mut client = ClientHandshake::new(&ClientRequest::new("h", "/"), config).unwrap();
    let Some(Incoming::Upgrade(upgrade)) = ServerHandshake::new(config)
        .receive(client.request())
        .unwrap()
    else {
        panic!("not an upgrade")
    };
    let (response, server) = upgrade.accept(&Accept::new(), config).unwrap();
    client.receive(&response).unwrap().unwrap();
    assert!(server.is_compressed());
    server
}

fn run(config: &Config, chunks: &[&[u8]]) -> (Vec<Event>, Option<String>, Vec<u8>) {
    let mut connection = server(config);
    let mut events = Vec::new();
    let mut error = None;
    'feed: for chunk in chunks {
        connection.receive(chunk);
        loop {
            match connection.poll_event() {
                Ok(Some(event)) => events.push(event),
                Ok(None) => break,
                Err(e) => {
                    let code = e.close_code().expect("a failure has a close code");
                    assert!(matches!(code.0, 1002 | 1007 | 1009), "close code {code}");
                    error = Some(e.to_string());
                    break 'feed;
                }
            }
        }
    }
    let output = rfc6455_fuzz::drain_output(&mut connection);
    (events, error, output)
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let config = config(flags & 1 == 1);
    let input = Chunked::from_bytes(rest);
    TrackingAllocator::reset();
    let whole = run(&config, &[&input.data]);
    // Inflation grows toward max_message_size (8 KiB here) and stops there; the codecs
    // allocate their fixed tables (under 300 KiB for a 15-bit window).
    let bound = 2 * input.data.len() + 2 * config.max_message_size + 512 * 1024;
    assert!(
        TrackingAllocator::largest() <= bound,
        "allocation of {} bytes",
        TrackingAllocator::largest()
    );
    let split = run(&config, &input.chunks());
    assert_eq!(whole, split);
});
