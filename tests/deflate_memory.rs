//! The compression memory a connection holds, measured with a counting allocator and
//! compared with what `DeflateConfig::memory_per_connection` reports.

#![cfg(feature = "deflate")]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use rfc6455::deflate::DeflateConfig;
use rfc6455::handshake::{Accept, ClientHandshake, ClientRequest, Incoming, ServerHandshake};
use rfc6455::{Config, Connection};

/// Counts live heap bytes.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards every call to the system allocator unchanged and only adds a relaxed
// atomic counter, which does not allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

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
    let mut client = ClientHandshake::new(&ClientRequest::new("h", "/"), &client).unwrap();
    let Some(Incoming::Upgrade(upgrade)) = ServerHandshake::new(&server)
        .receive(client.request())
        .unwrap()
    else {
        panic!("not an upgrade")
    };
    let (response, server) = upgrade.accept(&Accept::new(), &server).unwrap();
    let (_, client) = client.receive(&response).unwrap().unwrap();
    (client, server)
}

/// Live bytes the server connection keeps after one compressed message each way, once its
/// buffers are released.
fn kept_by_a_connection(settings: &DeflateConfig) -> isize {
    let (mut client, mut server) = connect(settings);
    let text = "a compressible message ".repeat(200);
    // Warm the per-thread codec pool so that pooled codecs are not counted.
    for _ in 0..2 {
        client.send_text(&text).unwrap();
        while let Some(chunk) = client.take_output() {
            server.receive(&chunk);
        }
        while server.poll_event().unwrap().is_some() {}
        server.send_text(&text).unwrap();
        while server.take_output().is_some() {}
    }
    server.release_memory();
    let before = LIVE.load(Ordering::Relaxed);
    drop(server);
    before - LIVE.load(Ordering::Relaxed)
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
