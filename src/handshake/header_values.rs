//! The values of the handshake's list headers: `Connection` and `Upgrade` token lists,
//! `Sec-WebSocket-Protocol` and `Sec-WebSocket-Extensions` (tokens, parameters, quoted
//! strings).
//!
//! Every parser here walks its input once, left to right, with no backtracking: time is
//! linear in the header's length whatever it holds (no ReDoS-style blowup).

// Input reaches this module: no indexing, unwrap, expect or panic that it could trigger.
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use crate::extension::Extension;
use crate::http_syntax::is_token_byte;

/// The non-empty elements of a comma-separated list (`#element` in RFC 9110), trimmed.
pub(crate) fn list_items(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|&b| b == b',')
        .map(|item| item.trim_ascii())
        .filter(|item| !item.is_empty())
}

/// True if any value's list holds `token` (ASCII case-insensitive).
pub(crate) fn lists_contain<'a>(mut values: impl Iterator<Item = &'a [u8]>, token: &str) -> bool {
    values.any(|value| list_items(value).any(|item| item.eq_ignore_ascii_case(token.as_bytes())))
}

/// The subprotocols of `Sec-WebSocket-Protocol` values, in order; `None` if one of them is
/// not a token.
pub(crate) fn parse_protocols<'a>(values: impl Iterator<Item = &'a [u8]>) -> Option<Vec<String>> {
    let mut protocols = Vec::new();
    for value in values {
        for item in list_items(value) {
            if !item.iter().all(|&b| is_token_byte(b)) {
                return None;
            }
            protocols.push(String::from_utf8_lossy(item).into_owned());
        }
    }
    Some(protocols)
}

/// Parses `Sec-WebSocket-Extensions` values (RFC 6455 section 9.1); `None` if malformed.
pub(crate) fn parse_extensions<'a>(
    values: impl Iterator<Item = &'a [u8]>,
) -> Option<Vec<Extension>> {
    parse_extensions_counting(values, &mut 0)
}

/// How many bytes the extension parser looks at for `value`: the tests use it to show the
/// work is linear in the header's length, whatever it holds.
#[cfg(test)]
pub(crate) fn extension_parse_steps(value: &[u8]) -> u64 {
    let mut steps = 0;
    let _ = parse_extensions_counting(std::iter::once(value), &mut steps);
    steps
}

fn parse_extensions_counting<'a>(
    values: impl Iterator<Item = &'a [u8]>,
    steps: &mut u64,
) -> Option<Vec<Extension>> {
    let mut extensions = Vec::new();
    for value in values {
        let mut cursor = Cursor {
            bytes: value,
            pos: 0,
            steps: std::cell::Cell::new(0),
        };
        let parsed = parse_value(&mut cursor, &mut extensions);
        *steps += cursor.steps.get();
        parsed?;
    }
    Some(extensions)
}

/// Parses one header value's extensions into `extensions`.
fn parse_value(cursor: &mut Cursor<'_>, extensions: &mut Vec<Extension>) -> Option<()> {
    loop {
        cursor.skip_spaces();
        if cursor.eat(b',') {
            continue; // empty list element
        }
        if cursor.at_end() {
            return Some(());
        }
        let mut extension = Extension::new(cursor.token()?);
        loop {
            cursor.skip_spaces();
            if !cursor.eat(b';') {
                break;
            }
            cursor.skip_spaces();
            let name = cursor.token()?;
            cursor.skip_spaces();
            let value = if cursor.eat(b'=') {
                cursor.skip_spaces();
                Some(cursor.token_or_quoted()?)
            } else {
                None
            };
            extension.params.push((name, value));
        }
        cursor.skip_spaces();
        if !cursor.at_end() && !cursor.eat(b',') {
            return None;
        }
        extensions.push(extension);
    }
}

/// A position in a header value.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// Bytes looked at, to show the parse is linear (see [`extension_parse_steps`]).
    steps: std::cell::Cell<u64>,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.steps.set(self.steps.get() + 1);
        self.bytes.get(self.pos).copied()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    fn eat(&mut self, byte: u8) -> bool {
        let found = self.peek() == Some(byte);
        if found {
            self.pos += 1;
        }
        found
    }

    fn skip_spaces(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    fn token(&mut self) -> Option<String> {
        let start = self.pos;
        while self.peek().is_some_and(is_token_byte) {
            self.pos += 1;
        }
        let token = self.bytes.get(start..self.pos)?;
        (!token.is_empty()).then(|| String::from_utf8_lossy(token).into_owned())
    }

    /// A token, or a quoted string whose unescaped content is a token (RFC 6455 9.1).
    fn token_or_quoted(&mut self) -> Option<String> {
        if !self.eat(b'"') {
            return self.token();
        }
        let mut content = Vec::new();
        loop {
            match self.peek()? {
                b'"' => {
                    self.pos += 1;
                    break;
                }
                b'\\' => {
                    self.pos += 1;
                    content.push(self.peek()?);
                    self.pos += 1;
                }
                byte => {
                    content.push(byte);
                    self.pos += 1;
                }
            }
        }
        let is_token = !content.is_empty() && content.iter().all(|&b| is_token_byte(b));
        is_token.then(|| String::from_utf8_lossy(&content).into_owned())
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

    fn extensions(value: &str) -> Option<Vec<Extension>> {
        parse_extensions(std::iter::once(value.as_bytes()))
    }

    #[test]
    fn token_lists_are_case_insensitive_and_comma_separated() {
        let values = [&b"keep-alive, Upgrade"[..]];
        assert!(lists_contain(values.iter().copied(), "upgrade"));
        let values = [&b"keep-alive"[..], &b" ,UPGRADE ,"[..]];
        assert!(lists_contain(values.iter().copied(), "upgrade"));
        let values = [&b"upgrade-insecure"[..]];
        assert!(!lists_contain(values.iter().copied(), "upgrade"));
    }

    #[test]
    fn parses_protocol_lists() {
        let values = [&b"chat, superchat"[..], &b"v2.json"[..]];
        assert_eq!(
            parse_protocols(values.iter().copied()).unwrap(),
            ["chat", "superchat", "v2.json"]
        );
        let values = [&b"chat, super chat"[..]];
        assert_eq!(parse_protocols(values.iter().copied()), None);
    }

    #[test]
    fn parses_extension_offers() {
        let parsed = extensions(
            "permessage-deflate; client_max_window_bits; server_max_window_bits=\"10\", \
             permessage-deflate ,x-webkit-deflate-frame",
        )
        .unwrap();
        assert_eq!(parsed.len(), 3);
        assert_eq!(parsed[0].name, "permessage-deflate");
        assert_eq!(parsed[0].param("client_max_window_bits"), Some(None));
        assert_eq!(parsed[0].param("server_max_window_bits"), Some(Some("10")));
        assert_eq!(parsed[1], Extension::new("permessage-deflate"));
        assert_eq!(parsed[2].name, "x-webkit-deflate-frame");
        assert_eq!(extensions("").unwrap(), []);
        assert_eq!(extensions(" , ,").unwrap(), []);
    }

    #[test]
    fn refuses_malformed_extensions() {
        for bad in [
            "a;",
            "a; =1",
            "a; b=",
            "a; b=\"unterminated",
            "a; b=\"not a token\"",
            "a; b=\"\"",
            "a b",
            ";a",
            "a; b=c d",
            "a; b=\"\\",
        ] {
            assert_eq!(extensions(bad), None, "{bad:?}");
        }
        assert_eq!(
            extensions("a; b=\"c\\d\"").unwrap()[0].param("b"),
            Some(Some("cd"))
        );
    }

    #[test]
    fn display_round_trips() {
        let offer = Extension::new("permessage-deflate")
            .with_param("client_no_context_takeover", None)
            .with_param("server_max_window_bits", Some("12"));
        assert!(offer.is_valid());
        assert_eq!(extensions(&offer.to_string()).unwrap(), [offer]);
        assert!(!Extension::new("bad\r\nname").is_valid());
        assert!(!Extension::new("a").with_param("b", Some("c\n")).is_valid());
    }

    /// The ReDoS class: values built to make a backtracking parser explode. The parser
    /// makes one pass: at most a few looks per byte, whatever the shape.
    #[test]
    fn extension_values_of_every_hostile_shape_parse_in_linear_time() {
        let megabyte = 1 << 20;
        let shapes: Vec<Vec<u8>> = vec![
            b"a;".repeat(megabyte / 2),
            b"a; b=\""
                .iter()
                .copied()
                .chain(std::iter::repeat_n(b'\\', megabyte))
                .collect(),
            b", ".repeat(megabyte / 2),
            b"a".repeat(megabyte),
            b"a; b=c, ".repeat(megabyte / 8),
            b"a; b=\"c\\d\"".repeat(megabyte / 10),
        ];
        for value in shapes {
            let steps = extension_parse_steps(&value);
            assert!(
                steps <= 4 * value.len() as u64 + 16,
                "{steps} looks for {} bytes",
                value.len()
            );
        }
    }
}
