//! Arbitrary bytes, fed in arbitrary chunks, as a Redis reply stream to `ReplyDecoder`
//! (feature `redis`), with small limits so that fuzzing reaches them.
//!
//! Asserts: no panic; the replies and the error that ends them are the same as when the
//! bytes are fed whole; no array nests deeper than the limit; what stays buffered never
//! grows past a reply's limit plus the chunk just fed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rfc6455::redis::{Reply, ReplyDecoder, RespError, RespLimits};
use rfc6455_fuzz::Chunked;

const LIMITS: RespLimits = RespLimits {
    max_reply_bytes: 4096,
    max_depth: 4,
    max_line: 64,
};

/// How many arrays with elements `reply` nests (a null or empty array is a leaf: the
/// decoder holds nothing open for it).
fn depth(reply: &Reply) -> usize {
    match reply {
        Reply::Array(Some(items)) if !items.is_empty() => {
            1 + items.iter().map(depth).max().unwrap_or(0)
        }
        _ => 0,
    }
}

fn outcome(chunks: &[&[u8]]) -> (Vec<Reply>, Option<RespError>) {
    let mut decoder = ReplyDecoder::new(LIMITS);
    let mut replies = Vec::new();
    for chunk in chunks {
        decoder.feed(chunk);
        loop {
            match decoder.next_reply() {
                Ok(Some(reply)) => {
                    assert!(depth(&reply) <= LIMITS.max_depth, "{reply:?}");
                    replies.push(reply);
                }
                Ok(None) => break,
                Err(error) => return (replies, Some(error)),
            }
        }
        assert!(
            decoder.buffered() <= LIMITS.max_reply_bytes + chunk.len(),
            "{} bytes buffered",
            decoder.buffered()
        );
    }
    (replies, None)
}

fuzz_target!(|input: &[u8]| {
    let chunked = Chunked::from_bytes(input);
    let whole = outcome(&[&chunked.data[..]]);
    let pieces = outcome(&chunked.chunks());
    assert_eq!(whole, pieces, "the same bytes, split differently");
});
