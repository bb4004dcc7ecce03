//! Hostile-input regression tests: one test per class of attack that has hurt a WebSocket
//! library, named for it. docs/security.md maps each class to its test (a few classes are
//! covered in tests/server_limits.rs, next to the limit they exercise).

#![cfg(feature = "server")]

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::mpsc;
use std::time::Duration;

use rfc6455::events::{Handlers, Server};
use rfc6455::frame::OpCode;
use rfc6455::handshake::{
    Accept, ClientHandshake, ClientRequest, HttpResponse, Incoming, ServerHandshake, Url,
};
use rfc6455::{CapacityError, CloseCode, Config, Connection, Error, Role};
use support::counting::{Counting, freed_by_dropping};
use support::{PATIENCE, client_frame, read_frame, read_to_end, start};

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Sends raw bytes to a fresh connection and returns everything the server answers.
fn raw_exchange(running: &rfc6455::events::Spawned, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(running.local_addr().unwrap()).unwrap();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    // The server may refuse and close before everything is written.
    let _ = stream.write_all(request);
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    String::from_utf8_lossy(&response).into_owned()
}

fn status_of(response: &str) -> u16 {
    response
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {response:?}"))
}

#[test]
fn huge_request_head_fed_byte_by_byte_is_refused_at_the_limit_in_linear_work() {
    let _exclusive = support::exclusive();
    // Through the core, the parser's work is counted: see the unit test of the same name in
    // src/handshake/server/tests.rs (refused at 16 KiB + 1, at most 2 looks per byte).
    // Through the network: the server answers 431 and closes.
    let running = start(Server::new(Handlers::<()>::new()));
    let mut request = b"GET / HTTP/1.1\r\nHost: x\r\n".to_vec();
    request.extend(std::iter::repeat_n(b"X-Filler: 0123456789\r\n", 2000).flatten());
    let response = raw_exchange(&running, &request);
    assert_eq!(status_of(&response), 431, "{response}");
    running.shutdown().unwrap();
}

#[test]
fn malformed_heads_get_a_clean_4xx_and_never_a_panic() {
    let _exclusive = support::exclusive();
    let running = start(Server::new(Handlers::<()>::new()));
    let upgrade = "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                   Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
    let ten_thousand_headers = format!(
        "GET / HTTP/1.1\r\nHost: x\r\n{}\r\n",
        "X: y\r\n".repeat(10_000)
    );
    let cases: Vec<(&str, String, u16)> = vec![
        ("10,000 headers", ten_thousand_headers, 431),
        (
            "duplicated Sec-WebSocket-Key",
            format!("{upgrade}Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"),
            400,
        ),
        (
            "a header with no colon",
            format!("{upgrade}NoColonHere\r\n\r\n"),
            400,
        ),
        (
            "a NUL in a value",
            format!("{upgrade}X-Nul: a\0b\r\n\r\n"),
            400,
        ),
        (
            "obsolete line folding",
            format!("{upgrade}X-Folded: a\r\n b\r\n\r\n"),
            400,
        ),
        ("a bare CR", format!("{upgrade}X-Cr: a\rb\r\n\r\n"), 400),
        (
            "a request line of garbage",
            "\x16\x03\x01\x02\0\x01\0\r\n\r\n".to_owned(),
            400,
        ),
    ];
    for (name, request, expected) in cases {
        let response = raw_exchange(&running, request.as_bytes());
        assert_eq!(status_of(&response), expected, "{name}: {response}");
    }
    running.shutdown().unwrap();
}

#[test]
fn crlf_injection_through_user_supplied_values_is_refused_when_building() {
    let _exclusive = support::exclusive();
    let config = Config::default();
    let injected = "x\r\nSet-Cookie: stolen=1";
    let requests = [
        ClientRequest::new("host", "/").header("X-User", injected),
        ClientRequest::new("host", "/").header(injected, "v"),
        ClientRequest::new("host", "/").protocol(injected),
        ClientRequest::new("host", format!("/path{injected}")),
        ClientRequest::new(injected, "/"),
        ClientRequest::new("host", "/").header("X-Nul", "a\0b"),
    ];
    for request in requests {
        assert!(
            matches!(
                ClientHandshake::new(&request, &config),
                Err(Error::Usage(rfc6455::UsageError::InvalidInput(_)))
            ),
            "{request:?}"
        );
    }
    assert!(Url::parse(&format!("ws://host/{injected}")).is_err());
    // Server side: extra 101 headers, and plain HTTP responses.
    let head = b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
        Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    let Some(Incoming::Upgrade(upgrade)) = ServerHandshake::new(&config).receive(head).unwrap()
    else {
        panic!("not an upgrade")
    };
    assert!(
        upgrade
            .accept(&Accept::new().header("X-User", injected), &config)
            .is_err()
    );
    assert!(
        HttpResponse::new(200)
            .header("X-User", injected)
            .encode()
            .is_err()
    );
}

#[test]
fn frame_claiming_2_pow_63_minus_1_bytes_is_refused_before_allocation() {
    let _exclusive = support::exclusive();
    let (report, reports) = mpsc::channel();
    let running = start(Server::new(
        Handlers::<()>::new().on_error(move |_, error| report.send(error.to_string()).unwrap()),
    ));
    let mut peer = support::raw_client(running.local_addr().unwrap());
    let before = support::rss_bytes();
    let mut header = vec![0x82, 0xFF];
    header.extend_from_slice(&(u64::MAX >> 1).to_be_bytes());
    header.extend_from_slice(&[1, 2, 3, 4]);
    peer.write_all(&header).unwrap();
    let (opcode, payload) = read_frame(&mut peer).unwrap();
    assert_eq!(opcode, OpCode::Close);
    assert_eq!(&payload[..2], &1009u16.to_be_bytes());
    assert_eq!(read_to_end(&mut peer), 0);
    assert!(
        reports
            .recv_timeout(PATIENCE)
            .unwrap()
            .contains("exceeds the limit")
    );
    assert!(support::rss_bytes() < before + (8 << 20), "memory grew");
    drop(peer);
    running.shutdown().unwrap();
}

#[test]
fn length_with_the_top_bit_set_is_refused_with_1002() {
    let _exclusive = support::exclusive();
    let running = start(Server::new(Handlers::<()>::new()));
    let mut peer = support::raw_client(running.local_addr().unwrap());
    let mut header = vec![0x82, 0xFF];
    header.extend_from_slice(&(1u64 << 63).to_be_bytes());
    header.extend_from_slice(&[1, 2, 3, 4]);
    peer.write_all(&header).unwrap();
    let (opcode, payload) = read_frame(&mut peer).unwrap();
    assert_eq!(opcode, OpCode::Close);
    assert_eq!(&payload[..2], &1002u16.to_be_bytes());
    drop(peer);
    running.shutdown().unwrap();
}

#[test]
fn floods_of_tiny_and_empty_fragments_hit_the_message_and_fragment_limits() {
    let _exclusive = support::exclusive();
    let config = Config {
        max_message_size: 10_000,
        max_fragments: 1_000,
        ..Config::default()
    };
    // 1-byte fragments: each also counts 16 bytes of overhead, so the message limit fires
    // after about 10,000 / 17 fragments, long before 10,000 bytes of payload.
    let mut server = Connection::new(Role::Server, &config);
    let mut fragments = 0;
    let error = loop {
        let opcode = if fragments == 0 { 2 } else { 0 };
        server.receive(&client_frame_no_fin(opcode, b"x"));
        fragments += 1;
        if let Err(error) = server.poll_event() {
            break error;
        }
        assert!(fragments < 100_000, "never refused");
    };
    assert!(matches!(
        error,
        Error::Capacity(CapacityError::MessageTooLarge { .. })
    ));
    assert_eq!(error.close_code(), Some(CloseCode::MESSAGE_TOO_BIG));
    assert!(fragments <= 10_000 / 17 + 1, "{fragments} fragments");
    // Empty fragments: the fragment count limit fires at 1,001.
    let config = Config {
        max_fragments: 1_000,
        ..Config::default()
    };
    let mut server = Connection::new(Role::Server, &config);
    let mut fragments = 0;
    let error = loop {
        let opcode = if fragments == 0 { 2 } else { 0 };
        server.receive(&client_frame_no_fin(opcode, b""));
        fragments += 1;
        if let Err(error) = server.poll_event() {
            break error;
        }
        assert!(fragments < 100_000, "never refused");
    };
    assert!(matches!(
        error,
        Error::Capacity(CapacityError::TooManyFragments { limit: 1_000 })
    ));
    assert_eq!(fragments, 1_001);
    // The failed connection dropped the fragments it had gathered.
    let held = freed_by_dropping(server);
    assert!(held < 4096, "{held} bytes held after failing");
}

/// A masked frame without FIN.
fn client_frame_no_fin(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut frame = client_frame(opcode, payload);
    frame[0] &= 0x7F;
    frame
}

#[test]
fn ping_flood_from_a_peer_that_never_reads_keeps_memory_bounded() {
    let _exclusive = support::exclusive();
    let (sizes, size) = mpsc::channel();
    let running = start(Server::new(Handlers::<()>::new().on_message(
        move |socket, _| {
            sizes.send(socket.buffered_amount()).unwrap();
        },
    )));
    let mut peer = support::raw_client(running.local_addr().unwrap());
    // 100,000 pings of 125 bytes (13 MB) and never a read; then a message to ask the
    // server how much it has queued.
    let ping = client_frame(9, &[7u8; 125]);
    let burst: Vec<u8> = ping
        .iter()
        .copied()
        .cycle()
        .take(ping.len() * 1000)
        .collect();
    let before = support::rss_bytes();
    for _ in 0..100 {
        peer.write_all(&burst).unwrap();
    }
    peer.write_all(&client_frame(1, b"how much?")).unwrap();
    let queued = size.recv_timeout(PATIENCE).unwrap();
    // Pongs are queued up to a 64 KiB backlog; after that only the latest waits for the
    // output to drain, whatever the number of pings.
    assert!(queued <= 64 * 1024 + 127, "{queued} bytes queued");
    let grown = support::rss_bytes().saturating_sub(before);
    assert!(grown < 8 << 20, "memory grew by {} KiB", grown >> 10);
    drop(peer);
    running.shutdown().unwrap();
}

#[test]
fn slowloris_trickling_the_handshake_hits_the_handshake_timeout() {
    let _exclusive = support::exclusive();
    let running = start(Server::new(Handlers::<()>::new()).config(Config {
        handshake_timeout: Duration::from_millis(300),
        close_timeout: Duration::from_millis(300),
        ..Config::default()
    }));
    let mut stream = TcpStream::connect(running.local_addr().unwrap()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    // One byte every 50 ms: each byte is progress, but the deadline does not move.
    let request = b"GET / HTTP/1.1\r\nHost: slow\r\nUpgrade: websocket\r\n";
    let mut closed = false;
    for byte in request {
        if stream.write_all(std::slice::from_ref(byte)).is_err() {
            closed = true;
            break;
        }
        let mut scratch = [0u8; 16];
        match stream.read(&mut scratch) {
            Ok(0) => {
                closed = true;
                break;
            }
            Ok(_) => panic!("the server answered a trickled head"),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(_) => {
                closed = true;
                break;
            }
        }
    }
    assert!(
        closed,
        "still open after {} bytes over {} ms",
        request.len(),
        request.len() * 50
    );
    running.shutdown().unwrap();
}

#[test]
fn invalid_close_codes_and_utf8_reasons_get_1002_and_1007() {
    let _exclusive = support::exclusive();
    let running = start(Server::new(Handlers::<()>::new()));
    for (payload, expected) in [
        (vec![0x03, 0xED], 1002u16),                // 1005 may not be sent
        (vec![0x00, 0x00], 1002),                   // 0
        (vec![0x13, 0x88], 1002),                   // 5000
        (vec![0x03], 1002),                         // one byte
        (vec![0x03, 0xE8, 0xFF, 0xFE], 1007),       // reason not UTF-8
        (vec![0x03, 0xE8, 0xED, 0xA0, 0x80], 1007), // a surrogate
    ] {
        let mut peer = support::raw_client(running.local_addr().unwrap());
        peer.write_all(&client_frame(8, &payload)).unwrap();
        let (opcode, reply) = read_frame(&mut peer).unwrap();
        assert_eq!(opcode, OpCode::Close);
        assert_eq!(&reply[..2], &expected.to_be_bytes(), "{payload:?}");
    }
    running.shutdown().unwrap();
}

#[test]
fn peers_that_announce_large_frames_and_stall_hold_about_what_they_sent() {
    let _exclusive = support::exclusive();
    let running = start(Server::new(Handlers::<()>::new()));
    let addr = running.local_addr().unwrap();
    let before = support::rss_bytes();
    // 200 peers each announce a 1 MiB frame, send 100,000 bytes of it and stop. The server
    // reads them into its large read buffers; a connection must keep about the bytes it
    // got, never pin a read buffer (up to 256 KiB) or memory for the whole frame.
    let sent = 100_000;
    let mut start_of_frame = vec![0x82, 0xFF];
    start_of_frame.extend_from_slice(&(1u64 << 20).to_be_bytes());
    start_of_frame.extend_from_slice(&[1, 2, 3, 4]);
    start_of_frame.resize(start_of_frame.len() + sent, 0);
    let peers: Vec<TcpStream> = (0..200)
        .map(|_| {
            let mut peer = support::raw_client(addr);
            peer.write_all(&start_of_frame).unwrap();
            peer
        })
        .collect();
    // A last peer's ping is answered after the loop has read what was sent before it.
    let mut last = support::raw_client(addr);
    last.write_all(&client_frame(9, b"done?")).unwrap();
    assert_eq!(
        read_frame(&mut last).unwrap(),
        (OpCode::Pong, b"done?".to_vec())
    );
    let grown = support::rss_bytes().saturating_sub(before);
    let per_peer = grown / peers.len();
    println!("{per_peer} bytes of RSS per stalled peer");
    assert!(per_peer < sent * 3 / 2, "{per_peer} bytes per stalled peer");
    drop(peers);
    running.shutdown().unwrap();
}
