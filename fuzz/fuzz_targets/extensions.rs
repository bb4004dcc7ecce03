//! Arbitrary `Sec-WebSocket-Extensions` and `Sec-WebSocket-Protocol` values, through a
//! complete upgrade request.
//!
//! Asserts: no panic; a parsed extension list, written back with `Display`, parses to the
//! same list (what we write, we read); subprotocols are tokens.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rfc6455::Config;
use rfc6455::handshake::{Incoming, ServerHandshake};

fn upgrade(extensions: &[u8], protocols: &[u8]) -> Option<Incoming> {
    let mut head = b"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
        Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
        Sec-WebSocket-Extensions: "
        .to_vec();
    head.extend_from_slice(extensions);
    head.extend_from_slice(b"\r\nSec-WebSocket-Protocol: ");
    head.extend_from_slice(protocols);
    head.extend_from_slice(b"\r\n\r\n");
    ServerHandshake::new(&Config::default())
        .receive(&head)
        .ok()
        .flatten()
}

// Input: the extensions value, a 0xFF byte, the protocols value.
fuzz_target!(|data: &[u8]| {
    let (extensions, protocols) = match data.iter().position(|&b| b == 0xFF) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &b"chat"[..]),
    };
    let Some(Incoming::Upgrade(request)) = upgrade(extensions, protocols) else {
        return;
    };
    for protocol in request.protocols() {
        assert!(!protocol.is_empty());
        assert!(
            !protocol
                .bytes()
                .any(|b| b == b',' || b == b' ' || b.is_ascii_control())
        );
    }
    let written: Vec<String> = request
        .extensions()
        .iter()
        .map(ToString::to_string)
        .collect();
    let again = upgrade(written.join(", ").as_bytes(), b"p");
    let Some(Incoming::Upgrade(again)) = again else {
        panic!("our own extension header does not parse: {written:?}");
    };
    assert_eq!(again.extensions(), request.extensions());
});
