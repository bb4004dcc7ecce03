//! Arbitrary bytes as one MessagePack message to `decode_msgpack` (feature `redis`), the
//! wire of the Socket.IO Redis adapter's broadcasts.
//!
//! Asserts: no panic (nesting is bounded, lengths past the input are refused); a value
//! that decodes encodes again, and that encoding decodes to a value that encodes the
//! same (the shortest forms are a fixed point); cuts of that encoding short of the whole
//! (about 64 of them, spread over it) are refused as truncated, never read as another
//! value.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use rfc6455::redis::{MsgpackError, decode_msgpack, encode_msgpack};

fuzz_target!(|input: &[u8]| {
    let Ok(value) = decode_msgpack(Bytes::copy_from_slice(input)) else {
        return;
    };
    let mut encoded = Vec::new();
    encode_msgpack(&value, &mut encoded).expect("a decoded value encodes");
    let again = decode_msgpack(Bytes::from(encoded.clone())).expect("its encoding decodes");
    let mut encoded_again = Vec::new();
    encode_msgpack(&again, &mut encoded_again).expect("and encodes again");
    assert_eq!(encoded, encoded_again, "shortest forms are a fixed point");
    for cut in (0..encoded.len()).step_by((encoded.len() / 64).max(1)) {
        let short = decode_msgpack(Bytes::copy_from_slice(&encoded[..cut]));
        assert!(
            matches!(short, Err(MsgpackError::Truncated { .. })),
            "cut at {cut}: {short:?}"
        );
    }
});
