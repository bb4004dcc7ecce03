//! Incremental UTF-8 validation: text arrives in pieces (fragments, or a frame's payload as
//! it trickles in) and must fail at the first byte that can no longer be valid, not at the
//! end of the message.

// Input reaches this module: no indexing, unwrap, expect or panic that it could trigger.
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

/// Validates a byte stream piece by piece.
///
/// A code point may straddle pieces; up to 3 bytes of it are carried over. Each piece is
/// checked with the standard library's validator, which reports an incomplete sequence at
/// the end only when the bytes present are a valid prefix, so an impossible sequence fails
/// at its first impossible byte.
#[derive(Debug, Default, Clone)]
pub(crate) struct Utf8Validator {
    partial: [u8; 4],
    partial_len: u8,
}

/// The invalid sequence found by [`Utf8Validator::feed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InvalidUtf8;

impl Utf8Validator {
    /// Checks the next piece of the stream.
    pub(crate) fn feed(&mut self, mut input: &[u8]) -> Result<(), InvalidUtf8> {
        if self.partial_len > 0 {
            input = self.complete_partial(input)?;
            if self.partial_len > 0 {
                return Ok(());
            }
        }
        match std::str::from_utf8(input) {
            Ok(_) => Ok(()),
            Err(error) if error.error_len().is_none() => {
                let tail = input.get(error.valid_up_to()..).unwrap_or_default();
                self.keep_partial(tail);
                Ok(())
            }
            Err(_) => Err(InvalidUtf8),
        }
    }

    /// True when the stream so far ends on a code point boundary: a message may end here.
    pub(crate) fn is_complete(&self) -> bool {
        self.partial_len == 0
    }

    /// Forgets any carried bytes, for the next message.
    pub(crate) fn reset(&mut self) {
        self.partial_len = 0;
    }

    /// Adds bytes from `input` to the carried code point; returns the rest of `input`.
    fn complete_partial<'a>(&mut self, input: &'a [u8]) -> Result<&'a [u8], InvalidUtf8> {
        let have = usize::from(self.partial_len);
        let width = sequence_width(self.partial[0]);
        let take = (width - have).min(input.len());
        let (head, rest) = input.split_at(take);
        let now = have + take;
        // have < width <= 4 and take <= width - have, so both ranges are inside the array.
        if let Some(slot) = self.partial.get_mut(have..now) {
            slot.copy_from_slice(head);
        }
        let candidate = self.partial.get(..now).unwrap_or_default();
        match std::str::from_utf8(candidate) {
            Ok(_) => {
                self.partial_len = 0;
                Ok(rest)
            }
            Err(error) if error.error_len().is_none() && now < width => {
                self.partial_len = now as u8;
                Ok(rest)
            }
            Err(_) => Err(InvalidUtf8),
        }
    }

    fn keep_partial(&mut self, tail: &[u8]) {
        // `from_utf8` reports at most 3 trailing bytes as an incomplete sequence.
        let kept = tail.get(..3).unwrap_or(tail);
        if let Some(slot) = self.partial.get_mut(..kept.len()) {
            slot.copy_from_slice(kept);
        }
        self.partial_len = kept.len() as u8;
    }
}

/// The length of the sequence a leading byte starts (only called on valid leading bytes,
/// which is what `from_utf8` leaves in a valid incomplete tail).
fn sequence_width(lead: u8) -> usize {
    match lead {
        0xF0..=0xF4 => 4,
        0xE0..=0xEF => 3,
        _ => 2,
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

    fn validate_in_pieces(bytes: &[u8], cuts: &[usize]) -> Result<bool, InvalidUtf8> {
        let mut validator = Utf8Validator::default();
        let mut start = 0;
        for &cut in cuts.iter().chain(std::iter::once(&bytes.len())) {
            validator.feed(&bytes[start..cut])?;
            start = cut;
        }
        Ok(validator.is_complete())
    }

    #[test]
    fn valid_text_split_at_every_position_is_valid() {
        let text = "κόσμε 🙂 hello \u{10FFFF}\u{FFFF}";
        let bytes = text.as_bytes();
        for a in 0..=bytes.len() {
            for b in a..=bytes.len() {
                assert_eq!(validate_in_pieces(bytes, &[a, b]), Ok(true), "cuts {a} {b}");
            }
        }
    }

    #[test]
    fn incomplete_sequence_at_the_end_is_not_complete() {
        assert_eq!(validate_in_pieces(&[0x61, 0xF0, 0x9F], &[]), Ok(false));
        assert_eq!(validate_in_pieces(&[0xE2, 0x82], &[1]), Ok(false));
    }

    #[test]
    fn fails_at_the_first_impossible_byte() {
        // Autobahn 6.4.1: U+110000 encoded as F4 90 80 80; F4 90 is already impossible.
        let mut validator = Utf8Validator::default();
        validator.feed("κόσμε".as_bytes()).unwrap();
        assert_eq!(validator.feed(&[0xF4]), Ok(()));
        assert_eq!(validator.feed(&[0x90]), Err(InvalidUtf8));
        // A surrogate half (ED A0 80) fails on its second byte.
        let mut validator = Utf8Validator::default();
        validator.feed(&[0xED]).unwrap();
        assert_eq!(validator.feed(&[0xA0]), Err(InvalidUtf8));
        // An overlong encoding (C0 80) fails on its lead byte.
        assert_eq!(Utf8Validator::default().feed(&[0xC0]), Err(InvalidUtf8));
        // A stray continuation byte.
        assert_eq!(Utf8Validator::default().feed(&[0x80]), Err(InvalidUtf8));
    }

    proptest! {
        #[test]
        fn agrees_with_std_for_any_bytes_and_any_split(
            bytes in proptest::collection::vec(any::<u8>(), 0..64),
            mut cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..6),
        ) {
            let mut cuts: Vec<usize> = cuts.drain(..).map(|c| c.index(bytes.len() + 1)).collect();
            cuts.sort();
            let expected = std::str::from_utf8(&bytes).is_ok();
            let got = matches!(validate_in_pieces(&bytes, &cuts), Ok(true));
            prop_assert_eq!(got, expected);
        }

        #[test]
        fn valid_strings_pass_in_any_pieces(
            text in "\\PC{0,40}",
            mut cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..6),
        ) {
            let bytes = text.as_bytes();
            let mut cuts: Vec<usize> = cuts.drain(..).map(|c| c.index(bytes.len() + 1)).collect();
            cuts.sort();
            prop_assert_eq!(validate_in_pieces(bytes, &cuts), Ok(true));
        }
    }
}
