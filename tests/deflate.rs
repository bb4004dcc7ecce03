//! permessage-deflate through the public API: negotiation, round trips under every
//! combination of parameters, the bomb, misuse of RSV1, memory, and shared broadcasts.

#![cfg(feature = "deflate")]

mod support;

use std::io::IoSlice;

use bytes::Bytes;
use rfc6455::deflate::DeflateConfig;
use rfc6455::frame::{FrameHeader, OpCode, apply_mask};
use rfc6455::handshake::{
    Accept, ClientHandshake, ClientRequest, Extension, Incoming, ServerHandshake,
};
use rfc6455::{
    CapacityError, CloseCode, Config, Connection, EncodedMessage, Error, Event, Message,
    MessageKind, ProtocolError,
};
use support::counting::{Counting, freed_by_dropping, peak_during};
use support::memory::{drain, handshake};

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn config(deflate: Option<DeflateConfig>) -> Config {
    Config {
        deflate,
        ..Config::default()
    }
}

/// A handshake in memory; returns (client, server, the extensions header the server sent).
fn connect(client: &Config, server: &Config) -> (Connection, Connection, Option<String>) {
    let request = ClientRequest::new("localhost", "/");
    let (response, client, server) = handshake(&request, &Accept::new(), client, server);
    let header = response
        .header("Sec-WebSocket-Extensions")
        .map(str::to_owned);
    (client, server, header)
}

/// Moves all of `from`'s output into `to`; returns `to`'s events and the frame headers seen.
fn pump(from: &mut Connection, to: &mut Connection) -> (Vec<Event>, Vec<FrameHeader>) {
    let wire = drain(from);
    let mut headers = Vec::new();
    let mut rest = &wire[..];
    while let Ok(Some((header, len))) = FrameHeader::decode(rest) {
        headers.push(header);
        rest = &rest[len + header.payload_len as usize..];
    }
    to.receive(&wire);
    let mut events = Vec::new();
    while let Some(event) = to.poll_event().expect("no protocol error") {
        events.push(event);
    }
    (events, headers)
}

fn payloads() -> Vec<Vec<u8>> {
    let text = |n: usize| {
        "the quick brown fox jumps over the lazy dog ¡κόσμε! "
            .repeat(n / 40 + 1)
            .into_bytes()
    };
    vec![
        Vec::new(),
        b"short".to_vec(),
        text(1000)[..1023].to_vec(),
        text(1024)[..1024].to_vec(),
        text(5000),
        (0..100_000u32).map(|i| (i * 7 % 256) as u8).collect(),
    ]
}

#[test]
fn round_trips_under_every_combination_of_parameters() {
    let mut combinations = 0;
    for own in [false, true] {
        for peer in [false, true] {
            for bits in [9u8, 12, 15] {
                let settings = DeflateConfig {
                    own_context_takeover: own,
                    peer_context_takeover: peer,
                    max_window_bits: bits,
                    ..DeflateConfig::default()
                };
                let (mut client, mut server, header) = connect(
                    &config(Some(settings.clone())),
                    &config(Some(settings.clone())),
                );
                assert!(
                    client.is_compressed() && server.is_compressed(),
                    "{header:?}"
                );
                exchange(&mut client, &mut server);
                exchange(&mut server, &mut client);
                combinations += 1;
            }
        }
    }
    assert_eq!(combinations, 12);
}

/// Sends every payload from `sender` to `receiver`, whole and in fragments, twice, and
/// checks what arrives and where RSV1 is set.
fn exchange(sender: &mut Connection, receiver: &mut Connection) {
    for payload in payloads() {
        let is_text = std::str::from_utf8(&payload).is_ok();
        // Whole, then in three fragments, twice each (context takeover has
        // history to use the second time).
        for _ in 0..2 {
            let kind = if is_text {
                MessageKind::Text
            } else {
                MessageKind::Binary
            };
            if is_text {
                sender.send(std::str::from_utf8(&payload).unwrap()).unwrap();
            } else {
                sender.send(&payload).unwrap();
            }
            let third = payload.len() / 3;
            sender
                .send_fragment(kind, &payload[..third], false)
                .unwrap();
            sender
                .send_fragment(kind, &payload[third..2 * third], false)
                .unwrap();
            sender
                .send_fragment(kind, &payload[2 * third..], true)
                .unwrap();
            let (events, headers) = pump(sender, receiver);
            assert_eq!(events.len(), 2);
            for event in events {
                let got = match event {
                    Event::Message(Message::Text(text)) => text.into_bytes(),
                    Event::Message(Message::Binary(bytes)) => bytes,
                    other => panic!("{other:?}"),
                };
                assert_eq!(got, Bytes::from(payload.clone()));
            }
            // RSV1 on the first frame of a compressed message only. A whole message is
            // compressed from the threshold on; a fragmented one when its first fragment
            // reaches it (the rest of its size is not known yet).
            let expected = [payload.len() >= 1024, third >= 1024, false, false];
            assert_eq!(headers.len(), 4);
            for (index, header) in headers.iter().enumerate() {
                assert_eq!(header.rsv != 0, expected[index], "frame {index}");
            }
        }
    }
}

#[test]
fn compression_actually_shrinks_text() {
    let (mut client, mut server, _) = connect(
        &config(Some(DeflateConfig::default())),
        &config(Some(DeflateConfig::default())),
    );
    let text = "{\"type\":\"message\",\"name\":\"alice\",\"text\":\"hello\"}".repeat(100);
    server.send(&text).unwrap();
    let sent = server.buffered_amount();
    assert!(sent < text.len() / 10, "{sent} bytes for {}", text.len());
    let (events, _) = pump(&mut server, &mut client);
    assert!(matches!(&events[..], [Event::Message(Message::Text(t))] if *t == *text));
}

#[test]
fn negotiation_table() {
    // (client settings, server settings, expected response header)
    let default = DeflateConfig::default();
    let takeover = DeflateConfig {
        own_context_takeover: true,
        peer_context_takeover: true,
        ..DeflateConfig::default()
    };
    let small_window = DeflateConfig {
        max_window_bits: 10,
        ..takeover.clone()
    };
    let cases = [
        (
            Some(default.clone()),
            Some(default.clone()),
            Some("permessage-deflate; server_no_context_takeover; client_no_context_takeover"),
        ),
        (
            Some(takeover.clone()),
            Some(takeover.clone()),
            Some("permessage-deflate"),
        ),
        // The client asks the server to reset; the server agrees though it would not have.
        (
            Some(default.clone()),
            Some(takeover.clone()),
            Some("permessage-deflate; server_no_context_takeover; client_no_context_takeover"),
        ),
        // The server's own window is its business: no parameter needed.
        (
            Some(takeover.clone()),
            Some(small_window),
            Some("permessage-deflate"),
        ),
        // Either side without deflate: nothing negotiated.
        (None, Some(default.clone()), None),
        (Some(default.clone()), None, None),
    ];
    for (client, server, expected) in cases {
        let (client_connection, server_connection, header) =
            connect(&config(client.clone()), &config(server.clone()));
        assert_eq!(header.as_deref(), expected, "{client:?} / {server:?}");
        assert_eq!(client_connection.is_compressed(), expected.is_some());
        assert_eq!(server_connection.is_compressed(), expected.is_some());
    }
}

/// An upgrade request with `extensions`, answered by a default server.
fn server_answer(extensions: &str) -> Option<String> {
    let head = format!(
        "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Extensions: {extensions}\r\n\r\n"
    );
    let server = config(Some(DeflateConfig {
        own_context_takeover: true,
        peer_context_takeover: true,
        ..DeflateConfig::default()
    }));
    let Some(Incoming::Upgrade(upgrade)) = ServerHandshake::new(&server)
        .receive(head.as_bytes())
        .unwrap()
    else {
        panic!("not an upgrade")
    };
    let (response, _) = upgrade.accept(&Accept::new(), &server).unwrap();
    String::from_utf8(response)
        .unwrap()
        .lines()
        .find_map(|line| line.strip_prefix("Sec-WebSocket-Extensions: "))
        .map(str::to_owned)
}

#[test]
fn server_negotiation_parameter_by_parameter() {
    let cases = [
        ("permessage-deflate", Some("permessage-deflate")),
        (
            "permessage-deflate; server_no_context_takeover",
            Some("permessage-deflate; server_no_context_takeover"),
        ),
        (
            "permessage-deflate; client_no_context_takeover",
            Some("permessage-deflate; client_no_context_takeover"),
        ),
        (
            "permessage-deflate; server_max_window_bits=11",
            Some("permessage-deflate; server_max_window_bits=11"),
        ),
        (
            "permessage-deflate; client_max_window_bits",
            Some("permessage-deflate"),
        ),
        (
            "permessage-deflate; client_max_window_bits=9",
            Some("permessage-deflate"),
        ),
        // Refused: the window-8 quirk, bad values, unknown parameters...
        ("permessage-deflate; server_max_window_bits=8", None),
        ("permessage-deflate; server_max_window_bits=16", None),
        ("permessage-deflate; server_max_window_bits", None),
        ("permessage-deflate; client_max_window_bits=7", None),
        ("permessage-deflate; mystery", None),
        ("x-webkit-deflate-frame", None),
        // ...and then the next offer is taken.
        (
            "permessage-deflate; server_max_window_bits=8, permessage-deflate; server_max_window_bits=9",
            Some("permessage-deflate; server_max_window_bits=9"),
        ),
        (
            "permessage-deflate; mystery, permessage-deflate",
            Some("permessage-deflate"),
        ),
    ];
    for (offer, expected) in cases {
        assert_eq!(server_answer(offer).as_deref(), expected, "{offer}");
    }
}

#[test]
fn the_client_refuses_an_answer_it_did_not_ask_for() {
    let client = config(Some(DeflateConfig::default()));
    let respond = |extensions: &str| {
        let mut handshake = ClientHandshake::with_nonce(
            &ClientRequest::new("h", "/"),
            &client,
            *b"the sample nonce",
        )
        .unwrap();
        let response = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\
             Sec-WebSocket-Extensions: {extensions}\r\n\r\n"
        );
        handshake
            .receive(response.as_bytes())
            .map(|c| c.unwrap().1.is_compressed())
    };
    assert!(respond("permessage-deflate; server_no_context_takeover").unwrap());
    assert!(respond("permessage-deflate; client_max_window_bits=12").unwrap());
    for bad in [
        "permessage-deflate; client_max_window_bits=8",
        "permessage-deflate; client_max_window_bits",
        "permessage-deflate; server_max_window_bits=99",
        "permessage-deflate; mystery",
        "permessage-deflate, permessage-deflate",
        "x-unknown",
    ] {
        assert!(respond(bad).is_err(), "{bad}");
    }
    // Offering it by hand while Config::deflate negotiates it is a mistake, refused.
    let by_hand = ClientRequest::new("h", "/").extension(Extension::new("permessage-deflate"));
    assert!(ClientHandshake::new(&by_hand, &client).is_err());
}

/// A compressed frame as a client sends it (masked), RSV1 on.
fn compressed_client_frame(opcode: u8, payload: &[u8], fin: bool, rsv1: bool) -> Vec<u8> {
    let header = FrameHeader {
        fin,
        rsv: if rsv1 { 0b100 } else { 0 },
        opcode: OpCode::from_bits(opcode).unwrap(),
        mask: Some([9, 8, 7, 6]),
        payload_len: payload.len() as u64,
    };
    let mut out = [0u8; 14];
    let len = header.encode(&mut out);
    let mut frame = out[..len].to_vec();
    let start = frame.len();
    frame.extend_from_slice(payload);
    apply_mask(&mut frame[start..], [9, 8, 7, 6], 0);
    frame
}

fn raw_deflate(data: &[u8]) -> Vec<u8> {
    let mut compressor = flate2::Compress::new(flate2::Compression::best(), false);
    let mut out = Vec::with_capacity(data.len() / 100 + 1024);
    loop {
        let before = compressor.total_in() as usize;
        compressor
            .compress_vec(&data[before..], &mut out, flate2::FlushCompress::Sync)
            .unwrap();
        if compressor.total_in() as usize == data.len() && out.len() < out.capacity() {
            break;
        }
        out.reserve(out.capacity());
    }
    out.truncate(out.len() - 4);
    out
}

#[test]
fn a_deflate_bomb_is_refused_at_the_limit_with_bounded_memory() {
    let limit = 1 << 20;
    let server_config = Config {
        max_message_size: limit,
        ..config(Some(DeflateConfig::default()))
    };
    let (_, mut server, _) = connect(&config(Some(DeflateConfig::default())), &server_config);
    // 64 MiB of zeros deflate to about 64 KiB.
    let bomb = raw_deflate(&vec![0u8; 64 << 20]);
    assert!(bomb.len() < 100 * 1024, "{} bytes", bomb.len());
    let frame = compressed_client_frame(2, &bomb, true, true);
    let (error, peak) = peak_during(|| {
        server.receive(&frame);
        server.poll_event().unwrap_err()
    });
    assert!(matches!(
        error,
        Error::Capacity(CapacityError::MessageTooLarge { limit: l, .. }) if l == limit
    ));
    assert_eq!(error.close_code(), Some(CloseCode::MESSAGE_TOO_BIG));
    // Never more than the limit inflated, plus the compressed input and the codec.
    println!("peak heap while refusing the bomb: {peak} bytes (limit {limit})");
    assert!(
        peak < (limit + 2 * bomb.len() + 128 * 1024) as isize,
        "{peak} bytes at the peak"
    );
}

#[test]
fn rsv1_is_refused_where_it_cannot_be() {
    let (_, mut server, _) = connect(
        &config(Some(DeflateConfig::default())),
        &config(Some(DeflateConfig::default())),
    );
    // On a continuation frame.
    server.receive(&compressed_client_frame(2, b"", false, false));
    server.receive(&compressed_client_frame(0, b"", true, true));
    assert!(matches!(
        server.poll_event(),
        Err(Error::Protocol(ProtocolError::ReservedBits(0b100)))
    ));
    // On a control frame.
    let (_, mut server, _) = connect(
        &config(Some(DeflateConfig::default())),
        &config(Some(DeflateConfig::default())),
    );
    server.receive(&compressed_client_frame(9, b"", true, true));
    assert!(matches!(
        server.poll_event(),
        Err(Error::Protocol(ProtocolError::ReservedBits(_)))
    ));
    // Without the extension.
    let (_, mut server, _) = connect(&config(None), &config(None));
    server.receive(&compressed_client_frame(1, &raw_deflate(b"hi"), true, true));
    assert!(matches!(
        server.poll_event(),
        Err(Error::Protocol(ProtocolError::ReservedBits(_)))
    ));
}

#[test]
fn corrupt_data_and_invalid_utf8_inside_compression_get_1007() {
    let fresh = || {
        connect(
            &config(Some(DeflateConfig::default())),
            &config(Some(DeflateConfig::default())),
        )
        .1
    };
    let mut server = fresh();
    server.receive(&compressed_client_frame(2, &[0xFF; 16], true, true));
    let error = server.poll_event().unwrap_err();
    assert_eq!(error.close_code(), Some(CloseCode::INVALID_PAYLOAD));
    let mut server = fresh();
    server.receive(&compressed_client_frame(
        1,
        &raw_deflate(&[b'a', 0xFF, b'b']),
        true,
        true,
    ));
    let error = server.poll_event().unwrap_err();
    assert!(matches!(error, Error::Protocol(ProtocolError::InvalidUtf8)));
    assert_eq!(error.close_code(), Some(CloseCode::INVALID_PAYLOAD));
}

#[test]
fn memory_per_connection_follows_the_settings() {
    let no_takeover = DeflateConfig::default();
    assert_eq!(no_takeover.memory_per_connection(), 0);
    let takeover = DeflateConfig {
        own_context_takeover: true,
        peer_context_takeover: true,
        ..DeflateConfig::default()
    };
    let small = DeflateConfig {
        max_window_bits: 9,
        ..takeover.clone()
    };
    println!(
        "compression memory per connection: {} bytes (no takeover), {} (takeover, 15 bits), {} (takeover, 9 bits)",
        no_takeover.memory_per_connection(),
        takeover.memory_per_connection(),
        small.memory_per_connection()
    );
    assert!(takeover.memory_per_connection() > 256 * 1024);
    assert!(small.memory_per_connection() < takeover.memory_per_connection());
    // After a compressed message each way, a connection without context takeover holds
    // no compression state (its codecs went back to the thread's pool); one with it holds
    // its compressor and inflater.
    for (settings, holds) in [(no_takeover, false), (takeover, true)] {
        let (mut client, mut server, _) = connect(
            &config(Some(settings.clone())),
            &config(Some(settings.clone())),
        );
        let text = "x".repeat(4096);
        client.send(&text).unwrap();
        pump(&mut client, &mut server);
        server.send(&text).unwrap();
        pump(&mut server, &mut client);
        let held = freed_by_dropping(server);
        assert_eq!(held > 100_000, holds, "{settings:?}: {held} bytes");
    }
}

#[test]
fn a_broadcast_is_compressed_once_and_shared_where_the_context_allows() {
    let server_config = config(Some(DeflateConfig::default()));
    let takeover_config = config(Some(DeflateConfig {
        own_context_takeover: true,
        peer_context_takeover: true,
        ..DeflateConfig::default()
    }));
    let text = "breaking news ".repeat(200);
    let message = EncodedMessage::new(MessageKind::Text, text.as_bytes(), &server_config);
    let (mut a_client, mut a, _) = connect(&server_config, &server_config);
    let (_, mut b, _) = connect(&server_config, &server_config);
    let (mut c_client, mut c, _) = connect(&takeover_config, &takeover_config);
    for connection in [&mut a, &mut b, &mut c] {
        connection.send(&message).unwrap();
    }
    // Each takes its one frame, as one slice: where its bytes are, and what they are.
    let take_frame = |connection: &mut Connection| {
        let mut slices = [IoSlice::new(&[]); 2];
        assert_eq!(
            connection.output_slices(&mut slices),
            1,
            "one frame, one slice"
        );
        let taken = (slices[0].as_ptr(), slices[0].to_vec());
        connection.advance_output(taken.1.len());
        taken
    };
    let ((a_at, a_out), (b_at, _), (_, c_out)) =
        (take_frame(&mut a), take_frame(&mut b), take_frame(&mut c));
    // a and b reset their context: the same compressed bytes, shared, not copied.
    assert_eq!(a_at, b_at);
    assert!(a_out.len() < text.len() / 5);
    assert_eq!(a_out[0] & 0x40, 0x40, "RSV1");
    // c keeps its context: it gets the plain frame, which leaves that context intact.
    assert_eq!(c_out.len(), message.frame().len());
    assert_eq!(c_out[0] & 0x40, 0);
    for (bytes, client) in [(a_out, &mut a_client), (c_out, &mut c_client)] {
        client.receive(&bytes);
        assert!(
            matches!(client.poll_event().unwrap(), Some(Event::Message(Message::Text(t))) if *t == *text)
        );
    }
    // And c's own compressed messages still decode after the broadcast.
    c.send(&text).unwrap();
    let (events, _) = pump(&mut c, &mut c_client);
    assert!(matches!(&events[..], [Event::Message(Message::Text(t))] if *t == *text));
}
