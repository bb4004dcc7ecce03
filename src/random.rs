//! Random bytes for handshake keys and client masking keys, from the operating system.
//!
//! Masking keys must be unpredictable (RFC 6455 section 10.3). One `getrandom` call per
//! frame would cost a system call per message, so each thread keeps a small pool that is
//! refilled from the operating system when empty.

use std::cell::RefCell;

const POOL_SIZE: usize = 256;

struct Pool {
    bytes: [u8; POOL_SIZE],
    used: usize,
}

thread_local! {
    static POOL: RefCell<Pool> = const {
        RefCell::new(Pool { bytes: [0; POOL_SIZE], used: POOL_SIZE })
    };
}

/// Fills `dst` with bytes from the operating system's secure random source.
pub(crate) fn fill(dst: &mut [u8]) -> Result<(), std::io::Error> {
    getrandom::fill(dst).map_err(std::io::Error::other)
}

/// A random number, for jitter.
#[cfg(feature = "server")]
pub(crate) fn u16() -> Result<u16, std::io::Error> {
    let key = mask_key()?;
    Ok(u16::from_ne_bytes([key[0], key[1]]))
}

/// A fresh masking key.
pub(crate) fn mask_key() -> Result<[u8; 4], std::io::Error> {
    POOL.with(|pool| {
        let mut pool = pool.borrow_mut();
        if pool.used + 4 > POOL_SIZE {
            fill(&mut pool.bytes)?;
            pool.used = 0;
        }
        let start = pool.used;
        pool.used += 4;
        let mut key = [0u8; 4];
        key.copy_from_slice(&pool.bytes[start..start + 4]);
        Ok(key)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_keys_differ() {
        let keys: std::collections::HashSet<[u8; 4]> =
            (0..1000).map(|_| mask_key().unwrap()).collect();
        // 1000 draws from 2^32 values: a collision is astronomically unlikely.
        assert!(keys.len() > 990, "{} distinct keys", keys.len());
    }
}
