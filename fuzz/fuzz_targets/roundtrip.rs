//! Arbitrary messages (any size, fragmentation, interleaved pings) sent by one side and
//! received by the other, in both directions, through arbitrary chunking of the wire.
//!
//! Asserts: the receiver reports exactly the messages and pings that were sent, in order.
#![no_main]

use arbitrary::Arbitrary;
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use rfc6455::{Config, Connection, Event, Message, MessageKind, Role, Text};
use rfc6455_fuzz::run;

#[derive(Debug, Arbitrary)]
enum Step {
    /// A text message sent in pieces of the given sizes (pieces may split characters).
    Text(String, Vec<u8>),
    /// A binary message sent in pieces of the given sizes.
    Binary(Vec<u8>, Vec<u8>),
    /// A ping; when inside a fragmented message, it goes between two fragments.
    Ping(Vec<u8>),
}

#[derive(Debug, Arbitrary)]
struct Plan {
    steps: Vec<Step>,
    cuts: Vec<u16>,
    server_sends: bool,
}

/// The pieces of `data` cut after each size in `sizes` (0 means an empty fragment).
fn pieces<'a>(data: &'a [u8], sizes: &[u8]) -> Vec<&'a [u8]> {
    let mut pieces = Vec::new();
    let mut rest = data;
    for &size in sizes {
        let take = usize::from(size).min(rest.len());
        let (piece, after) = rest.split_at(take);
        pieces.push(piece);
        rest = after;
    }
    pieces.push(rest);
    pieces
}

fuzz_target!(|plan: Plan| {
    let config = Config::default();
    let (sender_role, receiver_role) = if plan.server_sends {
        (Role::Server, Role::Client)
    } else {
        (Role::Client, Role::Server)
    };
    let mut sender = Connection::new(sender_role, &config);
    let mut expected = Vec::new();
    for step in &plan.steps {
        match step {
            Step::Text(text, sizes) => {
                let parts = pieces(text.as_bytes(), sizes);
                let last = parts.len() - 1;
                for (i, part) in parts.into_iter().enumerate() {
                    sender
                        .send_fragment(MessageKind::Text, part, i == last)
                        .unwrap();
                }
                expected.push(Event::Message(Message::Text(Text::from(text.as_str()))));
            }
            Step::Binary(data, sizes) => {
                let parts = pieces(data, sizes);
                let last = parts.len() - 1;
                for (i, part) in parts.into_iter().enumerate() {
                    sender
                        .send_fragment(MessageKind::Binary, part, i == last)
                        .unwrap();
                    if i == 0 && last > 0 {
                        sender.ping(b"mid").unwrap();
                        expected.push(Event::Ping(Bytes::from_static(b"mid")));
                    }
                }
                expected.push(Event::Message(Message::Binary(Bytes::copy_from_slice(
                    data,
                ))));
            }
            Step::Ping(payload) => {
                let payload = &payload[..payload.len().min(125)];
                sender.ping(payload).unwrap();
                expected.push(Event::Ping(Bytes::copy_from_slice(payload)));
            }
        }
    }
    let wire = rfc6455_fuzz::drain_output(&mut sender);
    let chunked = rfc6455_fuzz::Chunked {
        cuts: plan.cuts,
        data: wire,
    };
    let outcome = run(receiver_role, &config, &chunked.chunks());
    assert_eq!(outcome.error, None);
    assert_eq!(outcome.events, expected);
});
