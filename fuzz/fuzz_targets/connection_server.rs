//! An arbitrary byte stream, split at arbitrary points, into a server connection.
//!
//! Asserts: the same events, error and output for every split as for the whole stream;
//! never a panic; any close code sent is one RFC 6455 allows for a failure.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rfc6455::Role;
use rfc6455_fuzz::{Chunked, run, small_limits};

fuzz_target!(|data: &[u8]| {
    let input = Chunked::from_bytes(data);
    let config = small_limits();
    let whole = run(Role::Server, &config, &[&input.data]);
    let split = run(Role::Server, &config, &input.chunks());
    assert_eq!(whole, split);
    if let Some(code) = whole.close_code {
        assert!(matches!(code.0, 1002 | 1007 | 1009), "close code {code}");
    }
});
