//! Writing HTTP response heads: the 101 that accepts an upgrade and the short responses that
//! refuse one. Every value a caller supplies is checked before it is written (no CR, LF,
//! NUL or other control character can inject a header).

use super::head::{is_field_value_byte, is_token_byte};
use crate::error::HandshakeError;

/// The reason phrase we write for a status code.
pub(crate) fn reason_phrase(status: u16) -> &'static str {
    match status {
        101 => "Switching Protocols",
        200 => "OK",
        204 => "No Content",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        414 => "URI Too Long",
        426 => "Upgrade Required",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}

/// A complete response with a plain-text body that closes the connection.
pub(crate) fn simple_response(status: u16, headers: &[(&str, &str)], body: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(128 + body.len());
    write_status_line(&mut out, status);
    for (name, value) in headers {
        write_header(&mut out, name, value);
    }
    write_header(&mut out, "Content-Type", "text/plain; charset=utf-8");
    write_header(&mut out, "Content-Length", &body.len().to_string());
    write_header(&mut out, "Connection", "close");
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body.as_bytes());
    out
}

pub(crate) fn write_status_line(out: &mut Vec<u8>, status: u16) {
    out.extend_from_slice(format!("HTTP/1.1 {status} {}\r\n", reason_phrase(status)).as_bytes());
}

/// Writes `name: value\r\n`; the caller has checked both (see [`check_header`]).
pub(crate) fn write_header(out: &mut Vec<u8>, name: &str, value: &str) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value.as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// Refuses a header whose name is not a token or whose value holds CR, LF, NUL or another
/// control character.
pub(crate) fn check_header(name: &str, value: &str) -> Result<(), HandshakeError> {
    if name.is_empty() || !name.bytes().all(is_token_byte) {
        return Err(HandshakeError::InvalidInput("a header name"));
    }
    if !value.bytes().all(is_field_value_byte) {
        return Err(HandshakeError::InvalidInput("a header value"));
    }
    Ok(())
}

/// Refuses a value that must be a token (a subprotocol, for example).
pub(crate) fn check_token(value: &str, what: &'static str) -> Result<(), HandshakeError> {
    if value.is_empty() || !value.bytes().all(is_token_byte) {
        return Err(HandshakeError::InvalidInput(what));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_response_is_well_formed() {
        let response = simple_response(426, &[("Sec-WebSocket-Version", "13")], "nope");
        let text = String::from_utf8(response).unwrap();
        assert!(text.starts_with("HTTP/1.1 426 Upgrade Required\r\n"));
        assert!(text.contains("\r\nSec-WebSocket-Version: 13\r\n"));
        assert!(text.contains("\r\nContent-Length: 4\r\n"));
        assert!(text.ends_with("\r\n\r\nnope"));
    }

    #[test]
    fn refuses_injection() {
        assert!(check_header("X-Ok", "fine value\twith tab").is_ok());
        for (name, value) in [
            ("X-Bad", "a\r\nSet-Cookie: x"),
            ("X-Bad", "a\nb"),
            ("X-Bad", "a\0b"),
            ("X-Bad", "a\rb"),
            ("X Bad", "a"),
            ("X-Bad:", "a"),
            ("", "a"),
        ] {
            assert!(check_header(name, value).is_err(), "{name:?}: {value:?}");
        }
        assert!(check_token("chat", "a subprotocol").is_ok());
        assert!(check_token("chat\r\n", "a subprotocol").is_err());
        assert!(check_token("a b", "a subprotocol").is_err());
    }
}
