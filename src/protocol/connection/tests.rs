use proptest::prelude::*;

use super::*;
use crate::CloseFrame;
use crate::error::{CapacityError, Error, ProtocolError, UsageError};
use crate::frame::apply_mask;
use crate::protocol::EncodedMessage;
use crate::protocol::{CloseCode, Event, Message, Text};
use std::io::IoSlice;

const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// A frame as a client sends it (masked with `KEY`).
fn client_frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    frame_bytes(fin, 0, opcode, payload, Some(KEY))
}

fn frame_bytes(fin: bool, rsv: u8, opcode: u8, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    let mut out = vec![(u8::from(fin) << 7) | (rsv << 4) | opcode];
    let mask_bit = if mask.is_some() { 0x80 } else { 0 };
    match payload.len() {
        len @ 0..=125 => out.push(mask_bit | len as u8),
        len @ 126..=0xFFFF => {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        len => {
            out.push(mask_bit | 127);
            out.extend_from_slice(&(len as u64).to_be_bytes());
        }
    }
    let start = out.len();
    if let Some(key) = mask {
        out.extend_from_slice(&key);
    }
    let payload_start = out.len();
    out.extend_from_slice(payload);
    if let Some(key) = mask {
        apply_mask(&mut out[payload_start..], key, 0);
    }
    let _ = start;
    out
}

/// Everything pending, in order, without taking it.
fn output(connection: &Connection) -> Vec<u8> {
    let mut slices = [IoSlice::new(&[]); 64];
    let count = connection.output_slices(&mut slices);
    slices[..count]
        .iter()
        .flat_map(|s| s.iter().copied())
        .collect()
}

/// Takes everything pending, as a transport that writes it all would.
fn drain(connection: &mut Connection) -> Vec<u8> {
    let mut all = Vec::new();
    while connection.buffered_amount() > 0 {
        let pending = output(connection);
        connection.advance_output(pending.len());
        all.extend(pending);
    }
    all
}

fn server() -> Connection {
    Connection::new(Role::Server, &Config::default())
}

/// What a connection made of a byte stream: its events (an error ends the list) and the
/// bytes it queued.
#[derive(Debug, PartialEq)]
struct Outcome {
    events: Vec<Event>,
    error: Option<String>,
    close_code: Option<CloseCode>,
    output: Vec<u8>,
}

fn run(mut connection: Connection, data: &[u8], cuts: &[usize]) -> Outcome {
    let mut events = Vec::new();
    let mut error = None;
    let mut close_code = None;
    let mut start = 0;
    'feed: for &end in cuts.iter().chain(std::iter::once(&data.len())) {
        connection.receive(&data[start..end]);
        start = end;
        loop {
            match connection.poll_event() {
                Ok(Some(event)) => events.push(event),
                Ok(None) => break,
                Err(e) => {
                    close_code = e.close_code();
                    error = Some(e.to_string());
                    break 'feed;
                }
            }
        }
    }
    let output = drain(&mut connection);
    Outcome {
        events,
        error,
        close_code,
        output,
    }
}

fn run_server(data: &[u8]) -> Outcome {
    run(server(), data, &[])
}

/// The close frame a server sends with `code` (reason ignored: compare the prefix).
fn close_prefix(code: CloseCode) -> Vec<u8> {
    let mut bytes = vec![0x88];
    bytes.push(0); // length, patched by the caller's comparison
    bytes.extend_from_slice(&code.0.to_be_bytes());
    bytes
}

/// Asserts the output is exactly one close frame carrying `code`.
fn assert_closed_with(output: &[u8], code: CloseCode) {
    let expected = close_prefix(code);
    assert_eq!(output[0], expected[0], "not a close frame: {output:?}");
    assert_eq!(usize::from(output[1]) + 2, output.len(), "one frame only");
    assert_eq!(&output[2..4], &expected[2..4], "close code");
}

fn text(s: &str) -> Event {
    Event::Message(Message::Text(Text::from(s)))
}

fn binary(bytes: impl Into<Bytes>) -> Event {
    Event::Message(Message::Binary(bytes.into()))
}

#[test]
fn receives_messages_of_every_length_encoding() {
    let mut stream = Vec::new();
    let sizes = [0usize, 1, 125, 126, 65535, 65536, 100_000];
    for &size in &sizes {
        stream.extend(client_frame(true, 2, &vec![7u8; size]));
    }
    stream.extend(client_frame(true, 1, "κόσμε".as_bytes()));
    let outcome = run_server(&stream);
    assert_eq!(outcome.error, None);
    let mut expected: Vec<Event> = sizes.iter().map(|&size| binary(vec![7u8; size])).collect();
    expected.push(text("κόσμε"));
    assert_eq!(outcome.events, expected);
    assert!(outcome.output.is_empty());
}

#[test]
fn reassembles_fragments_around_control_frames() {
    let mut stream = Vec::new();
    stream.extend(client_frame(false, 1, b"Hel"));
    stream.extend(client_frame(true, 9, b"ping"));
    stream.extend(client_frame(false, 0, b""));
    stream.extend(client_frame(true, 10, b"pong"));
    stream.extend(client_frame(true, 0, b"lo"));
    let outcome = run_server(&stream);
    assert_eq!(
        outcome.events,
        [
            Event::Ping(Bytes::from_static(b"ping")),
            Event::Pong(Bytes::from_static(b"pong")),
            text("Hello"),
        ]
    );
    // The automatic pong carries the ping's payload.
    assert_eq!(outcome.output, [0x8A, 4, b'p', b'i', b'n', b'g']);
}

fn mixed_stream() -> Vec<u8> {
    let mut stream = Vec::new();
    stream.extend(client_frame(true, 1, b"first"));
    stream.extend(client_frame(false, 2, &[1, 2, 3]));
    stream.extend(client_frame(true, 9, b""));
    stream.extend(client_frame(true, 0, &[4; 300]));
    stream.extend(client_frame(false, 1, "héllo wö".as_bytes()[..2].as_ref()));
    stream.extend(client_frame(true, 0, "héllo wö".as_bytes()[2..].as_ref()));
    stream.extend(client_frame(true, 8, &[0x03, 0xE8, b'b', b'y', b'e']));
    stream.extend(client_frame(true, 1, b"ignored after close"));
    stream
}

#[test]
fn every_split_gives_the_same_events_and_output() {
    let stream = mixed_stream();
    let whole = run_server(&stream);
    assert_eq!(whole.events.len(), 5, "{whole:?}");
    assert_eq!(
        whole.events.last(),
        Some(&Event::Close(CloseFrame::new(CloseCode::NORMAL, "bye")))
    );
    for cut in 0..=stream.len() {
        assert_eq!(run(server(), &stream, &[cut]), whole, "cut at {cut}");
    }
    let every_byte: Vec<usize> = (1..stream.len()).collect();
    assert_eq!(run(server(), &stream, &every_byte), whole);
}

#[test]
fn answers_a_close_by_echoing_its_code() {
    let outcome = run_server(&client_frame(true, 8, &[0x0F, 0xA0, b'x']));
    assert_eq!(
        outcome.events,
        [Event::Close(CloseFrame::new(CloseCode(4000), "x"))]
    );
    assert_eq!(outcome.output, [0x88, 2, 0x0F, 0xA0]);
    // An empty close is answered with an empty close and reported as 1005.
    let outcome = run_server(&client_frame(true, 8, b""));
    assert_eq!(
        outcome.events,
        [Event::Close(CloseFrame::new(CloseCode::NO_STATUS, ""))]
    );
    assert_eq!(outcome.output, [0x88, 0]);
}

#[test]
fn close_initiated_here_waits_for_the_reply() {
    let mut connection = server();
    connection.close(CloseCode::GOING_AWAY, "restart").unwrap();
    assert_eq!(connection.state(), State::CloseSent);
    assert!(!connection.is_closed());
    assert!(matches!(
        connection.send("late"),
        Err(Error::Usage(UsageError::SendAfterClose))
    ));
    assert!(matches!(
        connection.close(CloseCode::NORMAL, ""),
        Err(Error::Usage(UsageError::SendAfterClose))
    ));
    let sent = drain(&mut connection);
    assert_eq!(&sent[..], b"\x88\x09\x03\xE9restart");
    // Messages still arrive until the peer's close; pings get no pong after our close.
    connection.receive(&client_frame(true, 1, b"in flight"));
    connection.receive(&client_frame(true, 9, b"p"));
    connection.receive(&client_frame(true, 8, &[0x03, 0xE9]));
    assert_eq!(connection.poll_event().unwrap(), Some(text("in flight")));
    assert!(matches!(
        connection.poll_event().unwrap(),
        Some(Event::Ping(_))
    ));
    assert!(matches!(
        connection.poll_event().unwrap(),
        Some(Event::Close(_))
    ));
    assert_eq!(connection.state(), State::Closed);
    assert!(connection.is_closed());
    assert_eq!(connection.buffered_amount(), 0, "no second close frame");
    assert_eq!(connection.poll_event().unwrap(), None);
}

#[test]
fn nothing_is_sent_after_the_peer_closed() {
    let mut connection = server();
    connection.receive(&client_frame(true, 8, &[0x03, 0xE8]));
    assert!(matches!(connection.poll_event(), Ok(Some(Event::Close(_)))));
    for result in [
        connection.send("x"),
        connection.send(b"x"),
        connection.ping(b""),
        connection.pong(b""),
        connection.send_fragment(MessageKind::Binary, b"x", true),
        connection.close(CloseCode::NORMAL, ""),
    ] {
        assert!(matches!(
            result,
            Err(Error::Usage(UsageError::SendAfterClose))
        ));
    }
    // Bytes after the close are ignored.
    connection.receive(&client_frame(true, 1, b"late"));
    assert_eq!(connection.poll_event().unwrap(), None);
}

/// Each violation: the input, the error it must produce, the close code sent.
fn violations() -> Vec<(&'static str, Vec<u8>, Error, CloseCode)> {
    let p = |e: ProtocolError| Error::Protocol(e);
    let mut long_length = vec![0x82, 0xFF];
    long_length.extend_from_slice(&(1u64 << 63).to_be_bytes());
    long_length.extend_from_slice(&KEY);
    vec![
        (
            "unmasked frame",
            frame_bytes(true, 0, 1, b"hi", None),
            p(ProtocolError::UnmaskedFrame),
            CloseCode::PROTOCOL_ERROR,
        ),
        (
            "reserved opcode 3",
            client_frame(true, 3, b""),
            p(ProtocolError::ReservedOpcode(3)),
            CloseCode::PROTOCOL_ERROR,
        ),
        (
            "reserved opcode 0xB",
            client_frame(true, 0xB, b""),
            p(ProtocolError::ReservedOpcode(0xB)),
            CloseCode::PROTOCOL_ERROR,
        ),
        (
            "RSV1 without extension",
            frame_bytes(true, 0b100, 1, b"hi", Some(KEY)),
            p(ProtocolError::ReservedBits(0b100)),
            CloseCode::PROTOCOL_ERROR,
        ),
        (
            "RSV3 without extension",
            frame_bytes(true, 0b001, 2, b"", Some(KEY)),
            p(ProtocolError::ReservedBits(0b001)),
            CloseCode::PROTOCOL_ERROR,
        ),
        (
            "fragmented ping",
            client_frame(false, 9, b""),
            p(ProtocolError::FragmentedControlFrame),
            CloseCode::PROTOCOL_ERROR,
        ),
        (
            "ping of 126 bytes",
            client_frame(true, 9, &[0; 126]),
            p(ProtocolError::ControlFrameTooLong(126)),
            CloseCode::PROTOCOL_ERROR,
        ),
        (
            "length with the top bit set",
            long_length,
            p(ProtocolError::LengthMsbSet),
            CloseCode::PROTOCOL_ERROR,
        ),
        (
            "continuation without a message",
            client_frame(true, 0, b"x"),
            p(ProtocolError::UnexpectedContinuation),
            CloseCode::PROTOCOL_ERROR,
        ),
        (
            "new message inside a fragmented one",
            [client_frame(false, 1, b"a"), client_frame(true, 2, b"b")].concat(),
            p(ProtocolError::ExpectedContinuation),
            CloseCode::PROTOCOL_ERROR,
        ),
        (
            "invalid UTF-8",
            client_frame(true, 1, &[b'a', 0xFF]),
            p(ProtocolError::InvalidUtf8),
            CloseCode::INVALID_PAYLOAD,
        ),
        (
            "text ending inside a character",
            client_frame(true, 1, &[b'a', 0xE2, 0x82]),
            p(ProtocolError::InvalidUtf8),
            CloseCode::INVALID_PAYLOAD,
        ),
        (
            "close with one byte",
            client_frame(true, 8, &[0x03]),
            p(ProtocolError::ClosePayloadTooShort),
            CloseCode::PROTOCOL_ERROR,
        ),
        (
            "close code 1005",
            client_frame(true, 8, &[0x03, 0xED]),
            p(ProtocolError::InvalidCloseCode(1005)),
            CloseCode::PROTOCOL_ERROR,
        ),
        (
            "close code 999",
            client_frame(true, 8, &[0x03, 0xE7]),
            p(ProtocolError::InvalidCloseCode(999)),
            CloseCode::PROTOCOL_ERROR,
        ),
        (
            "close code 5000",
            client_frame(true, 8, &[0x13, 0x88]),
            p(ProtocolError::InvalidCloseCode(5000)),
            CloseCode::PROTOCOL_ERROR,
        ),
        (
            "close reason not UTF-8",
            client_frame(true, 8, &[0x03, 0xE8, 0xC0, 0x80]),
            p(ProtocolError::InvalidUtf8),
            CloseCode::INVALID_PAYLOAD,
        ),
    ]
}

#[test]
fn each_violation_fails_with_its_error_and_close_code() {
    for (name, stream, expected, code) in violations() {
        let outcome = run_server(&stream);
        assert_eq!(outcome.error, Some(expected.to_string()), "{name}");
        assert_eq!(outcome.close_code, Some(code), "{name}");
        assert_closed_with(&outcome.output, code);
        // The same at every split.
        for cut in 0..=stream.len() {
            let split = run(server(), &stream, &[cut]);
            assert_eq!(split, outcome, "{name}, cut at {cut}");
        }
    }
}

#[test]
fn a_failed_connection_stays_failed() {
    let mut connection = server();
    connection.receive(&client_frame(true, 3, b""));
    assert!(connection.poll_event().is_err());
    assert_eq!(connection.state(), State::Failed);
    assert!(connection.is_closed());
    connection.receive(&client_frame(true, 1, b"after"));
    assert_eq!(connection.poll_event().unwrap(), None);
    assert!(matches!(
        connection.send("x"),
        Err(Error::Usage(UsageError::SendAfterClose))
    ));
}

#[test]
fn client_refuses_masked_frames_and_reads_unmasked_ones() {
    let client = || Connection::new(Role::Client, &Config::default());
    let outcome = run(client(), &client_frame(true, 1, b"hi"), &[]);
    assert_eq!(
        outcome.error,
        Some(Error::from(ProtocolError::MaskedFrame).to_string())
    );
    assert_eq!(outcome.close_code, Some(CloseCode::PROTOCOL_ERROR));
    // A client's close frame is masked: unmask it to check the code.
    let (header, len) = FrameHeader::decode(&outcome.output).unwrap().unwrap();
    let mut payload = outcome.output[len..].to_vec();
    apply_mask(&mut payload, header.mask.unwrap(), 0);
    assert_eq!(&payload[..2], &[0x03, 0xEA]);
    let outcome = run(client(), &frame_bytes(true, 0, 1, b"hi", None), &[]);
    assert_eq!(outcome.events, [text("hi")]);
}

#[test]
fn invalid_utf8_fails_at_the_fragment_that_holds_it() {
    // Autobahn 6.4.1: valid fragment, then one with U+110000's first bytes, then the rest.
    let mut connection = server();
    connection.receive(&client_frame(false, 1, "κόσμε".as_bytes()));
    assert_eq!(connection.poll_event().unwrap(), None);
    connection.receive(&client_frame(false, 0, &[0xF4, 0x90, 0x80, 0x80]));
    let error = connection.poll_event().unwrap_err();
    assert_eq!(error.close_code(), Some(CloseCode::INVALID_PAYLOAD));
}

#[test]
fn invalid_utf8_fails_before_the_frame_is_complete() {
    // Autobahn 6.4.3: one frame, arriving in pieces; fail on the piece with the bad byte.
    let mut payload = "κόσμε".as_bytes().to_vec();
    payload.extend_from_slice(&[0xF4, 0x90, 0x80, 0x80]);
    payload.extend_from_slice(b"edited");
    let frame = client_frame(true, 1, &payload);
    let header_len = 6;
    let bad_at = header_len + "κόσμε".len() + 1; // the 0x90 byte
    let mut connection = server();
    connection.receive(&frame[..bad_at]);
    assert_eq!(connection.poll_event().unwrap(), None, "valid so far");
    connection.receive(&frame[bad_at..bad_at + 1]);
    let error = connection.poll_event().unwrap_err();
    assert_eq!(error.close_code(), Some(CloseCode::INVALID_PAYLOAD));
}

fn limited(config: Config) -> Connection {
    Connection::new(Role::Server, &config)
}

#[test]
fn frame_size_limit_is_exact_and_checked_before_the_payload() {
    let config = Config {
        max_frame_size: 1000,
        ..Config::default()
    };
    let at_limit = run(
        limited(config.clone()),
        &client_frame(true, 2, &[0; 1000]),
        &[],
    );
    assert_eq!(at_limit.events.len(), 1);
    let frame = client_frame(true, 2, &[0; 1001]);
    // Only the header is given: the refusal must not wait for the payload.
    let header_only = run(limited(config), &frame[..8], &[]);
    assert_eq!(header_only.close_code, Some(CloseCode::MESSAGE_TOO_BIG));
    assert_closed_with(&header_only.output, CloseCode::MESSAGE_TOO_BIG);
}

#[test]
fn a_frame_announcing_2_pow_63_minus_1_bytes_is_refused_before_any_allocation() {
    let mut header = vec![0x82, 0xFF];
    header.extend_from_slice(&(u64::MAX >> 1).to_be_bytes());
    header.extend_from_slice(&KEY);
    let mut connection = server();
    connection.receive(&header);
    let error = connection.poll_event().unwrap_err();
    assert!(matches!(
        error,
        Error::Capacity(CapacityError::FrameTooLarge { size, .. }) if size == u64::MAX >> 1
    ));
    assert_eq!(error.close_code(), Some(CloseCode::MESSAGE_TOO_BIG));
    // Nothing beyond the 14 header bytes (and the close frame) was ever buffered.
    assert!(
        connection.buffer_memory() < 1024,
        "{} bytes held",
        connection.buffer_memory()
    );
}

#[test]
fn message_size_limit_counts_every_fragment_and_its_overhead() {
    let overhead = super::FRAGMENT_OVERHEAD as usize;
    let config = Config {
        max_message_size: 10 + 2 * overhead,
        ..Config::default()
    };
    let mut ok = client_frame(false, 2, &[0; 5]);
    ok.extend(client_frame(true, 0, &[0; 5]));
    assert_eq!(run(limited(config.clone()), &ok, &[]).events.len(), 1);
    let mut over = client_frame(false, 2, &[0; 5]);
    over.extend(client_frame(false, 0, &[0; 5]));
    over.extend(client_frame(true, 0, &[]));
    let outcome = run(limited(config.clone()), &over, &[]);
    assert_eq!(outcome.close_code, Some(CloseCode::MESSAGE_TOO_BIG));
    assert!(outcome.error.unwrap().contains("message"));
    // A single frame over the message limit is refused too.
    let outcome = run(
        limited(config),
        &client_frame(true, 1, &vec![b'a'; 11 + 2 * overhead]),
        &[],
    );
    assert_eq!(outcome.close_code, Some(CloseCode::MESSAGE_TOO_BIG));
}

#[test]
fn fragment_count_limit_is_exact() {
    let config = Config {
        max_fragments: 4,
        ..Config::default()
    };
    let message = |fragments: usize| {
        let mut stream = client_frame(false, 1, b"");
        for _ in 1..fragments - 1 {
            stream.extend(client_frame(false, 0, b""));
        }
        stream.extend(client_frame(true, 0, b"x"));
        stream
    };
    let at_limit = run(limited(config.clone()), &message(4), &[]);
    assert_eq!(at_limit.events, [text("x")]);
    let over = run(limited(config), &message(5), &[]);
    assert_eq!(over.close_code, Some(CloseCode::MESSAGE_TOO_BIG));
    assert!(over.error.unwrap().contains("fragments"));
}

#[test]
fn sends_are_framed_and_checked() {
    let mut connection = server();
    connection.send("hi").unwrap();
    connection.send(&[1, 2]).unwrap();
    connection.ping(&[9; 125]).unwrap();
    connection.pong(b"p").unwrap();
    assert!(matches!(
        connection.ping(&[0; 126]),
        Err(Error::Usage(UsageError::ControlPayloadTooLong(126)))
    ));
    assert!(matches!(
        connection.close(CloseCode::NO_STATUS, ""),
        Err(Error::Usage(UsageError::InvalidCloseCode(1005)))
    ));
    assert!(matches!(
        connection.close(CloseCode::NORMAL, &"r".repeat(124)),
        Err(Error::Usage(UsageError::ControlPayloadTooLong(126)))
    ));
    let mut expected = vec![0x81, 2, b'h', b'i', 0x82, 2, 1, 2, 0x89, 125];
    expected.extend_from_slice(&[9; 125]);
    expected.extend_from_slice(&[0x8A, 1, b'p']);
    assert_eq!(connection.buffered_amount(), expected.len());
    assert_eq!(run(connection, b"", &[]).output, expected);
}

#[test]
fn a_server_frames_every_length_encoding_with_the_shortest_header() {
    // 125 is the last length in the header's own byte (the two-byte fast path), 126 the
    // first with a 16-bit length, 65536 the first with a 64-bit one.
    for size in [0usize, 1, 124, 125, 126, 127, 65535, 65536] {
        let mut connection = server();
        let payload = vec![5u8; size];
        connection.send(payload.as_slice()).unwrap();
        connection
            .send_fragment(MessageKind::Text, &vec![b'a'; size], false)
            .unwrap();
        connection
            .send_fragment(MessageKind::Text, b"", true)
            .unwrap();
        let mut expected = frame_bytes(true, 0, 2, &payload, None);
        expected.extend(frame_bytes(false, 0, 1, &vec![b'a'; size], None));
        expected.extend(frame_bytes(true, 0, 0, b"", None));
        assert_eq!(connection.buffered_amount(), expected.len(), "size {size}");
        assert_eq!(drain(&mut connection), expected, "size {size}");
    }
}

#[test]
fn fragmented_sends_keep_their_order_and_kind() {
    let mut connection = server();
    connection
        .send_fragment(MessageKind::Binary, b"a", false)
        .unwrap();
    assert!(matches!(
        connection.send("no"),
        Err(Error::Usage(UsageError::FragmentedMessageInProgress))
    ));
    assert!(matches!(
        connection.send_fragment(MessageKind::Text, b"no", true),
        Err(Error::Usage(UsageError::FragmentedMessageInProgress))
    ));
    connection.ping(b"").unwrap();
    connection
        .send_fragment(MessageKind::Binary, b"b", true)
        .unwrap();
    connection.send("after").unwrap();
    // Text fragments may split a character but must end whole.
    connection
        .send_fragment(MessageKind::Text, &"é".as_bytes()[..1], false)
        .unwrap();
    assert!(matches!(
        connection.send_fragment(MessageKind::Text, b"x", true),
        Err(Error::Usage(UsageError::InvalidUtf8))
    ));
    connection
        .send_fragment(MessageKind::Text, &"é".as_bytes()[1..], true)
        .unwrap();
    assert!(matches!(
        connection.send_fragment(MessageKind::Text, &[0xE2, 0x82], true),
        Err(Error::Usage(UsageError::InvalidUtf8))
    ));
    let output = run(connection, b"", &[]).output;
    assert_eq!(
        output,
        [
            &[0x02, 1, b'a'][..],
            &[0x89, 0],
            &[0x80, 1, b'b'],
            &[0x81, 5, b'a', b'f', b't', b'e', b'r'],
            &[0x01, 1, 0xC3],
            &[0x80, 1, 0xA9],
        ]
        .concat()
    );
}

#[test]
fn output_drains_by_slices_and_chunks() {
    let mut connection = server();
    connection.send("abc").unwrap();
    connection.send("def").unwrap();
    let mut slices = [IoSlice::new(&[]); 4];
    let n = connection.output_slices(&mut slices);
    let total: usize = slices[..n].iter().map(|s| s.len()).sum();
    assert_eq!(total, connection.buffered_amount());
    connection.advance_output(3);
    assert_eq!(
        output(&connection),
        &[b'b', b'c', 0x81, 3, b'd', b'e', b'f']
    );
    connection.advance_output(7);
    assert_eq!(connection.buffered_amount(), 0);
    connection.release_memory();
    assert_eq!(connection.buffer_memory(), 0);
}

/// One message and how to send it: fragment sizes, and pings to put between fragments.
#[derive(Debug, Clone)]
struct PlannedMessage {
    kind: MessageKind,
    data: Vec<u8>,
    cuts: Vec<usize>,
    ping_after_fragment: Option<usize>,
}

fn planned_message() -> impl Strategy<Value = PlannedMessage> {
    let text = "\\PC{0,80}".prop_map(|s: String| (MessageKind::Text, s.into_bytes()));
    let binary =
        proptest::collection::vec(any::<u8>(), 0..300).prop_map(|data| (MessageKind::Binary, data));
    (
        prop_oneof![text, binary],
        proptest::collection::vec(any::<prop::sample::Index>(), 0..4),
        proptest::option::of(0usize..4),
    )
        .prop_map(|((kind, data), cuts, ping_after_fragment)| {
            // Cut text only at character boundaries in half the cases, anywhere otherwise:
            // fragments may split characters.
            let mut cuts: Vec<usize> = cuts.iter().map(|c| c.index(data.len() + 1)).collect();
            cuts.sort();
            cuts.dedup();
            PlannedMessage {
                kind,
                data,
                cuts,
                ping_after_fragment,
            }
        })
}

/// Sends the messages from one side, returns the bytes on the wire.
fn send_all(sender: &mut Connection, messages: &[PlannedMessage]) -> Vec<u8> {
    for message in messages {
        let mut bounds = message.cuts.clone();
        bounds.push(message.data.len());
        let mut start = 0;
        for (i, &end) in bounds.iter().enumerate() {
            let last = i + 1 == bounds.len();
            sender
                .send_fragment(message.kind, &message.data[start..end], last)
                .unwrap();
            if message.ping_after_fragment == Some(i) {
                sender.ping(b"between").unwrap();
            }
            start = end;
        }
    }
    drain(sender)
}

fn expected_events(messages: &[PlannedMessage]) -> Vec<Event> {
    let mut events = Vec::new();
    let ping = || Event::Ping(Bytes::from_static(b"between"));
    for message in messages {
        let last_fragment = message.cuts.len();
        if message
            .ping_after_fragment
            .is_some_and(|i| i < last_fragment)
        {
            events.push(ping());
        }
        events.push(match message.kind {
            MessageKind::Text => text(std::str::from_utf8(&message.data).unwrap()),
            MessageKind::Binary => binary(message.data.clone()),
        });
        if message.ping_after_fragment == Some(last_fragment) {
            events.push(ping());
        }
    }
    events
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Messages of any size, fragmentation and interleaved pings sent by one side come out
    /// of the other side unchanged, in both directions.
    #[test]
    fn round_trip_in_both_directions(messages in proptest::collection::vec(planned_message(), 0..6)) {
        for (sender_role, receiver_role) in [(Role::Client, Role::Server), (Role::Server, Role::Client)] {
            let mut sender = Connection::new(sender_role, &Config::default());
            let wire = send_all(&mut sender, &messages);
            let outcome = run(Connection::new(receiver_role, &Config::default()), &wire, &[]);
            prop_assert_eq!(outcome.error, None);
            prop_assert_eq!(&outcome.events, &expected_events(&messages));
        }
    }

    /// Any chunking of a byte stream gives identical events and output.
    #[test]
    fn random_chunking_gives_identical_events(
        messages in proptest::collection::vec(planned_message(), 0..6),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..12),
    ) {
        let mut sender = Connection::new(Role::Client, &Config::default());
        let wire = send_all(&mut sender, &messages);
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c.index(wire.len() + 1)).collect();
        cuts.sort();
        let whole = run(server(), &wire, &[]);
        let chunked = run(server(), &wire, &cuts);
        prop_assert_eq!(chunked, whole);
    }

    /// Arbitrary bytes never panic, and any close code sent is one the RFC allows.
    #[test]
    fn arbitrary_input_never_panics(
        data in proptest::collection::vec(any::<u8>(), 0..200),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..6),
    ) {
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c.index(data.len() + 1)).collect();
        cuts.sort();
        let outcome = run(server(), &data, &cuts);
        if let Some(code) = outcome.close_code {
            prop_assert!(matches!(code.0, 1002 | 1007 | 1009));
        }
    }
}

#[test]
fn encoded_messages_are_shared_and_checked() {
    let message = EncodedMessage::binary(&[5; 300]);
    let mut connection = server();
    connection.send("before").unwrap();
    connection.send(&message).unwrap();
    connection.send("after").unwrap();
    let output = run(connection, b"", &[]).output;
    let mut expected = vec![0x81, 6];
    expected.extend_from_slice(b"before");
    expected.extend_from_slice(message.frame());
    expected.extend_from_slice(&[0x81, 5]);
    expected.extend_from_slice(b"after");
    assert_eq!(output, expected);
    // A client receives it as a normal message.
    let outcome = run(
        Connection::new(Role::Client, &Config::default()),
        message.frame(),
        &[],
    );
    assert_eq!(outcome.events, [binary(vec![5; 300])]);

    // A client sends it as an ordinary message, masked, which a server reads back.
    let mut client = Connection::new(Role::Client, &Config::default());
    client.send(&message).unwrap();
    let sent = run(client, b"", &[]).output;
    assert_ne!(sent[1] & 0x80, 0, "masked");
    assert_eq!(run_server(&sent).events, [binary(vec![5; 300])]);
    let mut fragmenting = server();
    fragmenting
        .send_fragment(MessageKind::Text, b"a", false)
        .unwrap();
    assert!(matches!(
        fragmenting.send(&message),
        Err(Error::Usage(UsageError::FragmentedMessageInProgress))
    ));
    let mut closing = server();
    closing.close(CloseCode::NORMAL, "").unwrap();
    assert!(matches!(
        closing.send(&message),
        Err(Error::Usage(UsageError::SendAfterClose))
    ));
}

#[test]
fn a_single_frame_message_may_use_the_whole_message_limit() {
    let config = Config {
        max_message_size: 100,
        ..Config::default()
    };
    let outcome = run(limited(config), &client_frame(true, 2, &[0; 100]), &[]);
    assert_eq!(outcome.events.len(), 1);
}

#[test]
fn a_ping_flood_without_reads_stops_queueing_pongs_at_the_backlog() {
    let mut connection = server();
    for i in 0..100_000u32 {
        connection.receive(&client_frame(true, 9, &i.to_be_bytes()));
    }
    let mut pings = 0;
    while let Some(event) = connection.poll_event().unwrap() {
        assert!(matches!(event, Event::Ping(_)));
        pings += 1;
    }
    assert_eq!(pings, 100_000, "every ping is reported");
    // Pongs (6 bytes each) were queued up to the backlog; the rest wait for the output to
    // drain, and only the latest is kept.
    let queued = connection.buffered_amount();
    assert!(
        (super::PONG_BACKLOG..super::PONG_BACKLOG + 6).contains(&queued),
        "{queued}"
    );
    connection.advance_output(queued);
    assert_eq!(output(&connection), &[0x8A, 4, 0, 1, 0x86, 0x9F]);
    connection.advance_output(6);
    assert_eq!(connection.buffered_amount(), 0);
}

#[test]
fn each_ping_gets_its_pong_while_the_output_is_short() {
    let mut connection = server();
    for i in 0..10u8 {
        connection.receive(&client_frame(true, 9, &[i; 125]));
    }
    while connection.poll_event().unwrap().is_some() {}
    let output = run(connection, b"", &[]).output;
    assert_eq!(output.len(), 10 * 127);
    for (i, pong) in output.chunks(127).enumerate() {
        assert_eq!(&pong[..2], &[0x8A, 125]);
        assert!(pong[2..].iter().all(|&b| b == i as u8));
    }
}

#[test]
fn frame_bytes_missing_counts_down_to_the_end_of_the_frame_at_every_split() {
    let frame = client_frame(true, 2, &[9; 300]);
    let header_len = frame.len() - 300;
    for cut in 0..frame.len() {
        let mut connection = server();
        assert_eq!(connection.frame_bytes_missing(), 0);
        connection.receive(&frame[..cut]);
        assert_eq!(connection.poll_event().unwrap(), None);
        let expected = if cut < header_len {
            0
        } else {
            frame.len() - cut
        };
        assert_eq!(connection.frame_bytes_missing(), expected, "cut at {cut}");
        connection.receive(&frame[cut..]);
        assert!(matches!(
            connection.poll_event().unwrap(),
            Some(Event::Message(Message::Binary(_)))
        ));
        assert_eq!(connection.frame_bytes_missing(), 0, "cut at {cut}");
    }
}

fn timed(ping: u64, pong: u64, close: u64) -> Config {
    Config {
        ping_interval: Some(std::time::Duration::from_millis(ping)),
        pong_timeout: std::time::Duration::from_millis(pong),
        close_timeout: std::time::Duration::from_millis(close),
        ..Config::default()
    }
}

fn after(start: std::time::Instant, millis: u64) -> std::time::Instant {
    start + std::time::Duration::from_millis(millis)
}

#[test]
fn an_unanswered_keep_alive_ping_fails_the_connection_with_1008_on_a_fake_clock() {
    let t0 = std::time::Instant::now();
    let mut connection = Connection::new(Role::Server, &timed(100, 50, 30));
    assert_eq!(connection.poll_timeout(), None, "no time handed in yet");
    connection.handle_timeout(t0);
    assert_eq!(connection.poll_timeout(), Some(after(t0, 100)));
    connection.handle_timeout(after(t0, 99));
    assert_eq!(connection.buffered_amount(), 0);
    connection.handle_timeout(after(t0, 100));
    assert_eq!(drain(&mut connection), [0x89, 0], "the keep-alive ping");
    assert_eq!(connection.poll_timeout(), Some(after(t0, 150)));
    connection.handle_timeout(after(t0, 150));
    assert_eq!(connection.state(), State::Failed);
    assert_closed_with(&drain(&mut connection), CloseCode::POLICY_VIOLATION);
    let error = connection.poll_event().unwrap_err();
    assert!(
        matches!(error, Error::Timeout(crate::Timeout::Pong)),
        "{error}"
    );
    assert_eq!(connection.poll_event().unwrap(), None, "reported once");
    assert_eq!(connection.poll_timeout(), None);
}

#[test]
fn bytes_from_the_peer_restart_the_keep_alive_and_answer_the_ping() {
    let t0 = std::time::Instant::now();
    let mut connection = Connection::new(Role::Server, &timed(100, 50, 30));
    connection.handle_timeout(t0);
    // Half a frame is still news from the peer.
    connection.receive(&client_frame(true, 1, b"hello")[..3]);
    assert_eq!(
        connection.poll_timeout(),
        Some(t0),
        "due now: the bytes need a time"
    );
    connection.handle_timeout(after(t0, 60));
    assert_eq!(connection.poll_timeout(), Some(after(t0, 160)));
    connection.handle_timeout(after(t0, 160));
    assert_eq!(drain(&mut connection), [0x89, 0]);
    // Any byte after the ping counts as the answer, a pong or not.
    connection.receive(&client_frame(true, 1, b"hello")[3..]);
    connection.handle_timeout(after(t0, 200));
    assert_eq!(connection.poll_event().unwrap(), Some(text("hello")));
    connection.handle_timeout(after(t0, 260));
    assert_eq!(connection.state(), State::Open);
    assert_eq!(connection.poll_timeout(), Some(after(t0, 300)));
}

#[test]
fn an_unanswered_close_frame_times_out() {
    let t0 = std::time::Instant::now();
    let mut connection = Connection::new(Role::Server, &timed(100, 50, 30));
    connection.handle_timeout(t0);
    connection.close(CloseCode::NORMAL, "bye").unwrap();
    drain(&mut connection);
    connection.handle_timeout(after(t0, 10));
    assert_eq!(connection.poll_timeout(), Some(after(t0, 40)));
    // Data still arrives while closing, and does not move the close timer.
    connection.receive(&client_frame(true, 1, b"late"));
    connection.handle_timeout(after(t0, 39));
    assert_eq!(connection.poll_event().unwrap(), Some(text("late")));
    connection.handle_timeout(after(t0, 40));
    assert_eq!(connection.state(), State::Failed);
    assert_eq!(
        connection.buffered_amount(),
        0,
        "our close frame was sent already"
    );
    assert!(matches!(
        connection.poll_event(),
        Err(Error::Timeout(crate::Timeout::Close))
    ));
}

#[test]
fn timers_stop_once_the_close_handshake_is_over() {
    let t0 = std::time::Instant::now();
    let mut connection = Connection::new(Role::Server, &timed(100, 50, 30));
    connection.handle_timeout(t0);
    connection.close(CloseCode::NORMAL, "").unwrap();
    connection.receive(&client_frame(true, 8, &[0x03, 0xE8]));
    assert!(matches!(
        connection.poll_event().unwrap(),
        Some(Event::Close(_))
    ));
    assert_eq!(connection.poll_timeout(), None);
    connection.handle_timeout(after(t0, 1_000_000));
    assert_eq!(connection.state(), State::Closed);
}

#[test]
fn an_idle_connection_frees_its_buffers_when_the_keep_alive_fires() {
    let t0 = std::time::Instant::now();
    let mut connection = Connection::new(Role::Server, &timed(100, 50, 30));
    connection.handle_timeout(t0);
    connection.receive(&client_frame(true, 2, &[7; 3000]));
    assert!(connection.poll_event().unwrap().is_some());
    connection.send(vec![1u8; 3000]).unwrap();
    drain(&mut connection);
    assert!(connection.buffer_memory() > 0, "buffers kept for traffic");
    connection.handle_timeout(after(t0, 100));
    connection.handle_timeout(after(t0, 200));
    // Only the ping's own bytes are held until they are written.
    drain(&mut connection);
    assert!(
        connection.buffer_memory() <= 64,
        "{}",
        connection.buffer_memory()
    );
}
