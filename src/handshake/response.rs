//! Writing HTTP heads: [`HttpResponse`], the one type for every response that is not a
//! 101 (plain HTTP on the WebSocket port, and every refusal of an upgrade), and the header
//! writers the 101 and the client's request share. Every value a caller supplies is checked
//! before it is written (no CR, LF, NUL or other control character can inject a header).

use bytes::Bytes;

use crate::error::{HandshakeError, UsageError};
use crate::http_syntax::{is_field_value_byte, is_token_byte};

/// An HTTP response other than the 101: the answer to a plain HTTP request on the WebSocket
/// port (a page, a health check) and to every upgrade that is refused, whether by the
/// handshake (`HttpResponse::from(&error)`) or by the application (401, 403, 404...). It
/// always closes the connection after the body.
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
    pub fn encode(&self) -> Result<Vec<u8>, UsageError> {
        self.check()?;
        Ok(self.encode_checked())
    }

    /// Refuses a status outside 100-999 and headers that are invalid or written by us.
    fn check(&self) -> Result<(), UsageError> {
        if !(100..=999).contains(&self.status) {
            return Err(UsageError::InvalidInput("status code"));
        }
        for (name, value) in &self.headers {
            check_header(name, value)?;
            if name.eq_ignore_ascii_case("Content-Length")
                || name.eq_ignore_ascii_case("Connection")
            {
                return Err(UsageError::InvalidInput("header: the response writes it"));
            }
        }
        Ok(())
    }

    /// The response as bytes, when its status and headers are known to be valid: the
    /// crate's own responses, or one [`encode`](Self::encode) has checked.
    pub(crate) fn encode_checked(&self) -> Vec<u8> {
        self.encode_connection(false)
    }

    /// [`encode`](Self::encode) for a connection that stays open after it (HTTP/1.1
    /// keep-alive): `Connection: keep-alive` instead of `close`.
    #[cfg(feature = "server")]
    pub(crate) fn encode_keep_alive(&self) -> Result<Vec<u8>, UsageError> {
        self.check()?;
        Ok(self.encode_connection(true))
    }

    fn encode_connection(&self, keep_alive: bool) -> Vec<u8> {
        let mut out = Vec::with_capacity(128 + self.body.len());
        write_status_line(&mut out, self.status);
        for (name, value) in &self.headers {
            write_header(&mut out, name, value);
        }
        write_header(&mut out, "Content-Length", &self.body.len().to_string());
        let connection = if keep_alive { "keep-alive" } else { "close" };
        write_header(&mut out, "Connection", connection);
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&self.body);
        out
    }

    /// The response for anything that went wrong in the crate's own handling of a request:
    /// 500, with the error as its body. Always encodes.
    #[cfg(any(feature = "blocking", feature = "tokio"))]
    pub(crate) fn internal_error(error: &dyn std::fmt::Display) -> HttpResponse {
        HttpResponse::text(500, error.to_string())
    }
}

/// The refusal of a request that failed the handshake: its status
/// ([`HandshakeError::http_status`]), the headers RFC 6455 asks for (426 names the version
/// we speak, 405 the method we allow), and the error as a plain-text body.
///
/// ```
/// use rfc6455::handshake::{HttpResponse, ServerHandshake};
/// use rfc6455::Config;
///
/// let mut handshake = ServerHandshake::new(&Config::default());
/// let head = b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
///              Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n";
/// let error = handshake.receive(head).unwrap_err();
/// let response = HttpResponse::from(&error).encode().unwrap();
/// assert!(response.starts_with(b"HTTP/1.1 426 Upgrade Required\r\n"));
/// assert!(response.windows(25).any(|w| w == b"Sec-WebSocket-Version: 13"));
/// ```
impl From<&HandshakeError> for HttpResponse {
    fn from(error: &HandshakeError) -> HttpResponse {
        let status = error.http_status();
        let response = HttpResponse::text(status, error.to_string());
        match status {
            426 => response.header("Sec-WebSocket-Version", "13"),
            405 => response.header("Allow", "GET"),
            _ => response,
        }
    }
}

/// The reason phrase we write for a status code.
pub(crate) fn reason_phrase(status: u16) -> &'static str {
    match status {
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Content Too Large",
        414 => "URI Too Long",
        426 => "Upgrade Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
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
pub(crate) fn check_header(name: &str, value: &str) -> Result<(), UsageError> {
    if name.is_empty() || !name.bytes().all(is_token_byte) {
        return Err(UsageError::InvalidInput("header name"));
    }
    if !value.bytes().all(is_field_value_byte) {
        return Err(UsageError::InvalidInput("header value"));
    }
    Ok(())
}

/// Refuses a value that must be a token (a subprotocol, for example).
pub(crate) fn check_token(value: &str, what: &'static str) -> Result<(), UsageError> {
    if value.is_empty() || !value.bytes().all(is_token_byte) {
        return Err(UsageError::InvalidInput(what));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_handshake_error_converts_to_a_well_formed_refusal() {
        let refusal = |error: HandshakeError| {
            String::from_utf8(HttpResponse::from(&error).encode().unwrap()).unwrap()
        };
        let text = refusal(HandshakeError::UnsupportedVersion);
        assert!(text.starts_with("HTTP/1.1 426 Upgrade Required\r\n"));
        assert!(text.contains("\r\nSec-WebSocket-Version: 13\r\n"));
        let body = HandshakeError::UnsupportedVersion.to_string();
        assert!(text.contains(&format!("\r\nContent-Length: {}\r\n", body.len())));
        assert!(text.ends_with(&format!("\r\n\r\n{body}")));
        assert!(refusal(HandshakeError::MethodNotGet).contains("\r\nAllow: GET\r\n"));
        let line = HandshakeError::LineTooLong {
            limit: 8,
            start_line: true,
        };
        assert!(refusal(line).starts_with("HTTP/1.1 414 URI Too Long\r\n"));
        let head = HandshakeError::HeadTooLarge { limit: 8 };
        assert!(refusal(head).starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
        assert!(
            refusal(HandshakeError::AcceptMismatch).starts_with("HTTP/1.1 502 Bad Gateway\r\n")
        );
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
