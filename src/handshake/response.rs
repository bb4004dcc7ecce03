//! Writing HTTP responses: the 101 that accepts an upgrade, the short responses that refuse
//! one, and [`HttpResponse`] for plain HTTP on the WebSocket port. Every value a caller
//! supplies is checked before it is written (no CR, LF, NUL or other control character can
//! inject a header).

use bytes::Bytes;

use super::head::{is_field_value_byte, is_token_byte};
use crate::error::HandshakeError;

/// A plain HTTP response, for requests on the WebSocket port that are not upgrades (a page,
/// a health check). It always closes the connection after the body.
///
/// ```
/// use rfc6455::handshake::HttpResponse;
/// let response = HttpResponse::new(200)
///     .header("Content-Type", "text/html; charset=utf-8")
///     .body("<h1>hi</h1>");
/// let bytes = response.encode().unwrap();
/// assert!(bytes.starts_with(b"HTTP/1.1 200 OK\r\n"));
/// assert!(bytes.ends_with(b"\r\nContent-Length: 11\r\nConnection: close\r\n\r\n<h1>hi</h1>"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    status: u16,
    headers: Vec<(String, String)>,
    body: Bytes,
}

impl HttpResponse {
    /// A response with `status`, no header and an empty body.
    pub fn new(status: u16) -> HttpResponse {
        HttpResponse {
            status,
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }

    /// A `text/plain` response with `status` and `text` as its body.
    pub fn text(status: u16, text: impl Into<String>) -> HttpResponse {
        HttpResponse::new(status)
            .header("Content-Type", "text/plain; charset=utf-8")
            .body(text.into())
    }

    /// Adds a header. `Content-Length` and `Connection` are written by [`encode`](Self::encode).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> HttpResponse {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Bytes>) -> HttpResponse {
        self.body = body.into();
        self
    }

    /// The status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The whole response as bytes; refuses a status outside 100-999 and headers that are
    /// invalid or that it writes itself.
    pub fn encode(&self) -> Result<Vec<u8>, HandshakeError> {
        if !(100..=999).contains(&self.status) {
            return Err(HandshakeError::InvalidInput("the status code"));
        }
        let mut out = Vec::with_capacity(128 + self.body.len());
        write_status_line(&mut out, self.status);
        for (name, value) in &self.headers {
            check_header(name, value)?;
            if name.eq_ignore_ascii_case("Content-Length")
                || name.eq_ignore_ascii_case("Connection")
            {
                return Err(HandshakeError::InvalidInput("a header the response writes"));
            }
            write_header(&mut out, name, value);
        }
        write_header(&mut out, "Content-Length", &self.body.len().to_string());
        write_header(&mut out, "Connection", "close");
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&self.body);
        Ok(out)
    }
}

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
    fn http_response_refuses_bad_input() {
        assert!(HttpResponse::new(99).encode().is_err());
        assert!(
            HttpResponse::new(200)
                .header("X", "a\r\nb")
                .encode()
                .is_err()
        );
        assert!(
            HttpResponse::new(200)
                .header("content-length", "1")
                .encode()
                .is_err()
        );
        let text = HttpResponse::text(404, "no").encode().unwrap();
        assert!(text.starts_with(b"HTTP/1.1 404 Not Found\r\n"));
        assert!(text.ends_with(b"\r\n\r\nno"));
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
