//! Arbitrary request heads and bodies, fed in arbitrary chunks, through the server
//! handshake and then `BodyDecoder` (what the runtime does for `on_http`).
//!
//! Asserts: no panic; the outcome (the body, where it ended, or the error) is the same as
//! when the bytes are fed whole; the body never grows past the limit; what is consumed is
//! never more than what was fed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rfc6455::Config;
use rfc6455::handshake::{BodyDecoder, Incoming, ServerHandshake};
use rfc6455_fuzz::Chunked;

/// The limit the decoder runs with: small, so that fuzzing reaches it.
const LIMIT: usize = 4096;

/// The body, how many bytes of the stream the head and body took, or the error.
fn outcome(chunks: &[&[u8]]) -> Option<Result<(Vec<u8>, usize), String>> {
    let mut handshake = ServerHandshake::new(&Config::default());
    let mut fed = 0;
    let mut chunks = chunks.iter();
    let (request, mut pending) = loop {
        let chunk = chunks.next()?;
        fed += chunk.len();
        match handshake.receive(chunk) {
            Ok(None) => {}
            Ok(Some(Incoming::Http(request))) => {
                let remainder = request.remainder().to_vec();
                fed -= remainder.len();
                break (request, remainder);
            }
            Ok(Some(Incoming::Upgrade(_))) => return None,
            Err(error) => return Some(Err(format!("head: {error}"))),
        }
    };
    let mut decoder = match BodyDecoder::new(&request, LIMIT) {
        Ok(decoder) => decoder,
        Err(error) => return Some(Err(format!("framing: {error}"))),
    };
    let mut body = Vec::new();
    loop {
        let progress = match decoder.decode(&pending, &mut body) {
            Ok(progress) => progress,
            Err(error) => return Some(Err(format!("body: {error}"))),
        };
        assert!(progress.consumed <= pending.len());
        assert!(
            body.len() <= LIMIT,
            "a body of {} past the limit",
            body.len()
        );
        fed += progress.consumed;
        if progress.done {
            return Some(Ok((body, fed)));
        }
        assert_eq!(
            progress.consumed,
            pending.len(),
            "input left before the end"
        );
        pending = chunks.next()?.to_vec();
    }
}

fuzz_target!(|input: &[u8]| {
    let chunked = Chunked::from_bytes(input);
    let chunks = chunked.chunks();
    let whole = outcome(&[&chunked.data[..]]);
    let pieces = outcome(&chunks);
    assert_eq!(whole, pieces, "the same bytes, split differently");
});
