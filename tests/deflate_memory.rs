//! The compression memory a connection holds, measured with a counting allocator and
//! compared with what `DeflateConfig::memory_per_connection` reports.

#![cfg(feature = "deflate")]

mod support;

use rfc6455::deflate::DeflateConfig;
use rfc6455::{Config, Connection};
use support::counting::{Counting, freed_by_dropping};
use support::memory::{drain, pair};

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// A client and a server whose wishes agree: the server keeps (or resets) its context as
/// `settings` say, and the client lets it.
fn connect(settings: &DeflateConfig) -> (Connection, Connection) {
    let server = Config {
        deflate: Some(settings.clone()),
        ..Config::default()
    };
    let client = Config {
        deflate: Some(DeflateConfig {
            own_context_takeover: settings.peer_context_takeover,
            peer_context_takeover: settings.own_context_takeover,
            ..settings.clone()
        }),
        ..Config::default()
    };
    pair(&client, &server)
}

/// Live bytes the server connection keeps after one compressed message each way.
fn kept_by_a_connection(settings: &DeflateConfig) -> isize {
    let (mut client, mut server) = connect(settings);
    let text = "a compressible message ".repeat(200);
    // Warm the per-thread codec pool so that pooled codecs are not counted.
    for _ in 0..2 {
        client.send(&text).unwrap();
        server.receive(&drain(&mut client));
        while server.poll_event().unwrap().is_some() {}
        server.send(&text).unwrap();
        drain(&mut server);
    }
    freed_by_dropping(server)
}

#[test]
fn the_reported_memory_matches_what_is_allocated() {
    let mut rows = Vec::new();
    for (own, peer, bits) in [
        (false, false, 15),
        (true, false, 15),
        (false, true, 15),
        (true, true, 15),
        (true, true, 12),
        (true, false, 9),
    ] {
        let settings = DeflateConfig {
            own_context_takeover: own,
            peer_context_takeover: peer,
            max_window_bits: bits,
            ..DeflateConfig::default()
        };
        let reported = settings.memory_per_connection() as isize;
        // What dropping a connection frees beyond one without deflate state.
        let baseline = kept_by_a_connection(&DeflateConfig::default());
        let measured = kept_by_a_connection(&settings) - baseline;
        rows.push(format!(
            "own takeover {own:5} peer takeover {peer:5} window {bits:2}: reported {reported:7} measured {measured:7}"
        ));
        // Within 5%.
        let tolerance = reported / 20;
        assert!(
            (measured - reported).abs() <= tolerance,
            "{}",
            rows.last().unwrap()
        );
    }
    println!("{}", rows.join("\n"));
}
