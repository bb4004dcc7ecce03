//! Arbitrary response heads, fed in arbitrary chunks, into the client handshake.
//!
//! Asserts: the outcome (accepted response, error) is the same as when the bytes are fed
//! whole, and the frames after the head reach the connection whatever the split (the
//! events they make are the same).
//! permessage-deflate is offered through `Config::deflate` (on by default), `x-example` by
//! the request, so responses can accept either, both or neither.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rfc6455::Config;
use rfc6455::handshake::{ClientHandshake, ClientRequest, Extension};
use rfc6455_fuzz::Chunked;

fn outcome(config: &Config, chunks: &[&[u8]]) -> Result<Option<(String, Vec<String>)>, String> {
    let request = ClientRequest::new("example.com", "/chat")
        .protocol("chat")
        .extension(Extension::new("x-example"));
    let mut handshake =
        ClientHandshake::with_nonce(&request, config, *b"the sample nonce").expect("request");
    for (index, chunk) in chunks.iter().enumerate() {
        match handshake.receive(chunk) {
            Ok(None) => {}
            Ok(Some((response, mut connection))) => {
                for later in &chunks[index + 1..] {
                    connection.receive(later);
                }
                let summary = format!(
                    "{} {:?} {:?} {:?}",
                    response.status(),
                    response.protocol(),
                    response.extensions(),
                    response.head().as_bytes(),
                );
                let mut events = Vec::new();
                loop {
                    let event = connection.poll_event();
                    let done = !matches!(event, Ok(Some(_)));
                    events.push(format!("{event:?}"));
                    if done {
                        break;
                    }
                }
                return Ok(Some((summary, events)));
            }
            Err(error) => return Err(error.to_string()),
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
    assert_eq!(
        outcome(&config, &[&input.data]),
        outcome(&config, &input.chunks())
    );
});
