//! Payload masking (RFC 6455 section 5.3): XOR with a 4-byte key, a word at a time.

// Input reaches this module: no indexing, unwrap, expect or panic that it could trigger.
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

/// XORs `buf` with `key`, where `buf` starts `offset` bytes into the masked payload.
///
/// Masking is its own inverse, so this both masks and unmasks. The offset lets a payload
/// be unmasked piece by piece as it arrives: byte `i` of the payload is XORed with
/// `key[i % 4]`.
///
/// ```
/// use rfc6455::frame::apply_mask;
/// let key = [0x37, 0xfa, 0x21, 0x3d];
/// let mut payload = *b"Hello";
/// apply_mask(&mut payload, key, 0);
/// assert_eq!(payload, [0x7f, 0x9f, 0x4d, 0x51, 0x58]);
/// // Unmask in two pieces: the second starts 2 bytes into the payload.
/// let (head, tail) = payload.split_at_mut(2);
/// apply_mask(head, key, 0);
/// apply_mask(tail, key, 2);
/// assert_eq!(&payload, b"Hello");
/// ```
#[inline]
pub fn apply_mask(buf: &mut [u8], key: [u8; 4], offset: usize) {
    let key = u32::from_ne_bytes(key);
    // Rotate the key so that buf[0] meets key byte `offset % 4`. On a little-endian
    // machine byte 0 of the word is its low byte, so rotating right moves byte k to 0.
    let shift = (offset % 4) as u32 * 8;
    let key = if cfg!(target_endian = "little") {
        key.rotate_right(shift)
    } else {
        key.rotate_left(shift)
    };
    let key_bytes = key.to_ne_bytes();
    let wide = u64::from(key) | (u64::from(key) << 32);
    let (words, tail) = buf.as_chunks_mut::<8>();
    for word in words {
        *word = (u64::from_ne_bytes(*word) ^ wide).to_ne_bytes();
    }
    for (byte, key_byte) in tail.iter_mut().zip(key_bytes.iter().cycle()) {
        *byte ^= key_byte;
    }
}

#[cfg(test)]
#[allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn mask_bytewise(buf: &mut [u8], key: [u8; 4], offset: usize) {
        for (i, byte) in buf.iter_mut().enumerate() {
            *byte ^= key[(offset + i) % 4];
        }
    }

    #[test]
    fn matches_the_bytewise_definition_for_every_length_alignment_and_offset() {
        let key = [0x12, 0x34, 0x56, 0x78];
        let data: Vec<u8> = (0..=300u32).map(|i| (i * 7 + 3) as u8).collect();
        for start in 0..8 {
            for len in 0..=(300 - start) {
                for offset in 0..4 {
                    let mut fast = data.clone();
                    let mut slow = data.clone();
                    apply_mask(&mut fast[start..start + len], key, offset);
                    mask_bytewise(&mut slow[start..start + len], key, offset);
                    assert_eq!(fast, slow, "start {start} len {len} offset {offset}");
                }
            }
        }
    }

    proptest! {
        #[test]
        fn mask_then_unmask_is_identity(
            data in proptest::collection::vec(any::<u8>(), 0..=300),
            align in 0usize..16,
            key in any::<[u8; 4]>(),
            split in any::<prop::sample::Index>(),
        ) {
            let mut buf = vec![0u8; align];
            buf.extend_from_slice(&data);
            let payload = &mut buf[align..];
            apply_mask(payload, key, 0);
            // Unmask in two pieces at an arbitrary point.
            let at = split.index(payload.len() + 1);
            let (head, tail) = payload.split_at_mut(at);
            apply_mask(head, key, 0);
            apply_mask(tail, key, at);
            prop_assert_eq!(&buf[align..], &data[..]);
        }
    }
}
