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
    let key = rotate(key, offset);
    #[cfg(target_arch = "x86_64")]
    if buf.len() >= WIDE_FROM && std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2 (checked just above), the only requirement of
        // `mask_avx2` beyond safe Rust.
        #[allow(unsafe_code)]
        unsafe {
            mask_avx2(buf, key)
        };
        return;
    }
    mask_u64(buf, key);
}

/// 8 bytes a step as `u64` XORs: the fastest form for short payloads and the portable
/// fallback.
#[inline(always)]
fn mask_u64(buf: &mut [u8], key: [u8; 4]) {
    let word = u32::from_ne_bytes(key);
    let wide = u64::from(word) | (u64::from(word) << 32);
    let (words, tail) = buf.as_chunks_mut::<8>();
    for chunk in words {
        *chunk = (u64::from_ne_bytes(*chunk) ^ wide).to_ne_bytes();
    }
    for (byte, mask) in tail.iter_mut().zip(key.iter().cycle()) {
        *byte ^= mask;
    }
}

/// From this length on, the wide versions are worth the feature check.
#[cfg(target_arch = "x86_64")]
const WIDE_FROM: usize = 64;

/// The key rotated so that `buf[0]` meets key byte `offset % 4`.
#[inline(always)]
fn rotate(key: [u8; 4], offset: usize) -> [u8; 4] {
    // Byte 0 of a little-endian word is its low byte: rotating right by 8k bits brings
    // key byte k there (and left on a big-endian machine).
    let word = u32::from_ne_bytes(key);
    let shift = (offset % 4) as u32 * 8;
    let rotated = if cfg!(target_endian = "little") {
        word.rotate_right(shift)
    } else {
        word.rotate_left(shift)
    };
    rotated.to_ne_bytes()
}

/// XORs `N` bytes at a time with the repeated key (`N` a multiple of 4), then the tail
/// as words. The fixed-size inner loop is what the compiler turns into vector code of
/// the width the enclosing function's target features allow.
#[inline(always)]
fn mask_words<const N: usize>(buf: &mut [u8], key: [u8; 4]) {
    let pattern: [u8; N] = std::array::from_fn(|i| key.get(i & 3).copied().unwrap_or(0));
    let (chunks, tail) = buf.as_chunks_mut::<N>();
    for chunk in chunks {
        for (byte, mask) in chunk.iter_mut().zip(pattern.iter()) {
            *byte ^= mask;
        }
    }
    mask_u64(tail, key);
}

/// 32 bytes a step with AVX2. The micro bench (`cargo bench --bench micro -- unmask`)
/// shows why: with the baseline's 16-byte vectors a 1 KiB payload unmasks at 0.4× the
/// speed of memcpy; with these, at 0.8×. (AVX-512 was slower than AVX2 at 1 KiB on the
/// bench machine, so it is not used.)
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn mask_avx2(buf: &mut [u8], key: [u8; 4]) {
    mask_words::<32>(buf, key);
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
    fn every_width_matches_the_bytewise_definition() {
        let key = [0x12, 0x34, 0x56, 0x78];
        let data: Vec<u8> = (0..=300u32).map(|i| (i * 7 + 3) as u8).collect();
        type Mask = fn(&mut [u8], [u8; 4]);
        let mut widths: Vec<(&str, Mask)> =
            vec![("u64", mask_u64), ("64 portable", mask_words::<64>)];
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: AVX2 is available on this CPU (checked).
                #[allow(unsafe_code)]
                widths.push(("avx2", |b, k| unsafe { mask_avx2(b, k) }));
            }
        }
        for (name, mask) in widths {
            for start in 0..8 {
                for len in 0..=(300 - start) {
                    let mut fast = data.clone();
                    let mut slow = data.clone();
                    mask(&mut fast[start..start + len], key);
                    mask_bytewise(&mut slow[start..start + len], key, 0);
                    assert_eq!(fast, slow, "{name}: start {start} len {len}");
                }
            }
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
