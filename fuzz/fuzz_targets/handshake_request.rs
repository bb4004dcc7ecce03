//! Arbitrary request heads, fed in arbitrary chunks, into the server handshake.
//!
//! Asserts: the outcome (classification, parsed head, error) is the same as when the bytes
//! are fed whole, and the bytes after the head are handed back exactly; an accepted upgrade
//! answers with the right Sec-WebSocket-Accept; every refusal comes with an HTTP response.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rfc6455::Config;
use rfc6455::handshake::{Accept, HttpResponse, Incoming, ServerHandshake, accept_key};
use rfc6455_fuzz::Chunked;

/// What the head was, its bytes, and the bytes after it.
type Parsed = (String, Vec<u8>, Vec<u8>);

fn outcome(config: &Config, chunks: &[&[u8]]) -> Result<Option<Parsed>, String> {
    let mut handshake = ServerHandshake::new(config);
    for (index, chunk) in chunks.iter().enumerate() {
        match handshake.receive(chunk) {
            Ok(None) => {}
            Ok(Some(incoming)) => {
                let (kind, request) = match &incoming {
                    Incoming::Upgrade(upgrade) => {
                        let (response, _) = upgrade.accept(&Accept::new(), config).expect("accept");
                        let expected = accept_key(upgrade.key().as_bytes());
                        let response = String::from_utf8(response).expect("ASCII");
                        assert!(
                            response.contains(&format!("Sec-WebSocket-Accept: {expected}\r\n"))
                        );
                        ("upgrade", upgrade.request())
                    }
                    Incoming::Http(request) => ("http", request),
                };
                let mut rest = request.remainder().to_vec();
                for later in &chunks[index + 1..] {
                    rest.extend_from_slice(later);
                }
                let head = request.head().as_bytes().to_vec();
                return Ok(Some((
                    format!("{kind} {} {}", request.method(), request.target()),
                    head,
                    rest,
                )));
            }
            Err(error) => {
                let response = HttpResponse::from(&error)
                    .encode()
                    .expect("every refusal encodes");
                let status = format!("HTTP/1.1 {} ", error.http_status());
                assert!(response.starts_with(status.as_bytes()));
                return Err(error.to_string());
            }
        }
    }
    Ok(None)
}

fuzz_target!(|data: &[u8]| {
    let input = Chunked::from_bytes(data);
    let config = Config {
        max_head_bytes: 2048,
        max_headers: 16,
        max_line_bytes: 512,
        ..Config::default()
    };
    let whole = outcome(&config, &[&input.data]);
    let split = outcome(&config, &input.chunks());
    assert_eq!(whole, split);
});
