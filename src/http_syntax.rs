//! The byte classes of HTTP/1.1 (RFC 9110 section 5.6): which bytes make a token and which
//! may appear in a field value. A leaf: the head parser, the header writers and
//! [`Extension`](crate::handshake::Extension) share it, and it imports nothing.

/// `tchar` of RFC 9110: the characters of a token.
pub(crate) fn is_token_byte(byte: u8) -> bool {
    matches!(byte,
        b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z'
        | b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.' | b'^' | b'_'
        | b'`' | b'|' | b'~')
}

/// Whether every byte of `value` may appear in a field value. Looks at every byte, with no
/// early exit, so the compiler checks many at once (values are most of a head's bytes).
pub(crate) fn is_field_value(value: &[u8]) -> bool {
    value
        .iter()
        .fold(true, |valid, &byte| valid & is_field_value_byte(byte))
}

/// Bytes allowed in a field value: visible ASCII, space, tab, and obs-text (0x80-0xFF).
pub(crate) fn is_field_value_byte(byte: u8) -> bool {
    matches!(byte, b'\t' | b' '..=b'~' | 0x80..=0xFF)
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn field_value_bytes_are_tab_visible_ascii_space_and_obs_text() {
        for byte in 0..=255u8 {
            let allowed = byte == b'\t' || (0x20..0x7F).contains(&byte) || byte >= 0x80;
            assert_eq!(is_field_value_byte(byte), allowed, "{byte:#04x}");
            // In the middle of a long valid value, the one byte decides.
            let mut value = vec![b'v'; 37];
            value[20] = byte;
            assert_eq!(is_field_value(&value), allowed, "{byte:#04x}");
        }
        let token = |byte: u8| byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte);
        for byte in 0..=255u8 {
            assert_eq!(is_token_byte(byte), token(byte), "{byte:#04x}");
        }
    }
}
