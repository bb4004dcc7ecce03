//! Arbitrary bytes into the frame header decoder and into a server connection.
//!
//! Asserts: no panic; a decoded header written with the shortest length encoding comes
//! back as the same bytes; the connection never makes an allocation larger than its limits
//! justify (a header announcing 2^63 bytes allocates nothing for them).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rfc6455::Role;
use rfc6455::frame::{FrameHeader, MAX_HEADER_LEN};
use rfc6455_fuzz::{TrackingAllocator, run, small_limits};

#[global_allocator]
static ALLOCATOR: TrackingAllocator = TrackingAllocator;

fuzz_target!(|data: &[u8]| {
    if let Ok(Some((header, len))) = FrameHeader::decode(data) {
        assert!(len <= MAX_HEADER_LEN && len <= data.len());
        let minimal = match data[1] & 0x7F {
            126 => header.payload_len >= 126,
            127 => header.payload_len > 0xFFFF,
            _ => true,
        };
        let mut encoded = [0u8; MAX_HEADER_LEN];
        let encoded_len = header.encode(&mut encoded);
        if minimal {
            assert_eq!(&encoded[..encoded_len], &data[..len], "re-encoding differs");
        }
        assert_eq!(
            FrameHeader::decode(&encoded[..encoded_len]),
            Ok(Some((header, encoded_len)))
        );
    }
    let config = small_limits();
    TrackingAllocator::reset();
    let outcome = run(Role::Server, &config, &[data]);
    // The input buffer holds what was given; nothing else may grow past the limits.
    let bound = 2 * data.len() + 2 * config.max_message_size + 4096;
    assert!(
        TrackingAllocator::largest() <= bound,
        "allocation of {} bytes",
        TrackingAllocator::largest()
    );
    if let Some(code) = outcome.close_code {
        assert!(matches!(code.0, 1002 | 1007 | 1009), "close code {code}");
    }
});
