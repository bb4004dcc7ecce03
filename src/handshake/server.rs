//! The server side of the opening handshake: read a request head, tell a WebSocket upgrade
//! from a plain HTTP request, validate the upgrade, and write the 101 that accepts it.
//! Refusing is not done here: every refusal is an [`HttpResponse`](super::HttpResponse).

// Input reaches this module: no indexing, unwrap, expect or panic that it could trigger.
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use bytes::Bytes;

use super::accept_key::{accept_key, is_valid_key};
use super::head::{Head, HeadKind, HeadParser, StartLine};
use super::header_values::{lists_contain, parse_extensions, parse_protocols};
use super::response::{check_header, write_header, write_status_line};
use crate::config::Config;
use crate::error::{HandshakeError, UsageError};
use crate::extension::Extension;
use crate::protocol::{Connection, Role};

/// Reads a request head, in chunks of any size, and classifies it.
///
/// ```
/// use rfc6455::handshake::{Accept, Incoming, ServerHandshake};
/// use rfc6455::Config;
///
/// let config = Config::default();
/// let mut handshake = ServerHandshake::new(&config);
/// let request = b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n\
///     Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
///     Sec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Version: 13\r\n\r\n";
/// let (first, second) = request.split_at(20);
/// assert!(handshake.receive(first).unwrap().is_none()); // not complete yet
/// let Some(Incoming::Upgrade(upgrade)) = handshake.receive(second).unwrap() else { panic!() };
/// assert_eq!(upgrade.path(), "/chat");
/// assert_eq!(upgrade.protocols(), ["chat", "superchat"]);
///
/// let (response, connection) = upgrade.accept(&Accept::new().protocol("chat"), &config).unwrap();
/// let response = String::from_utf8(response).unwrap();
/// assert!(response.starts_with("HTTP/1.1 101 Switching Protocols\r\n"));
/// assert!(response.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
/// assert!(response.contains("Sec-WebSocket-Protocol: chat\r\n"));
/// // Write the response; `connection` now speaks WebSocket.
/// ```
#[derive(Debug)]
pub struct ServerHandshake {
    parser: HeadParser,
}

/// What a complete request head turned out to be.
#[derive(Debug)]
pub enum Incoming {
    /// A valid WebSocket upgrade: accept it or refuse it.
    Upgrade(UpgradeRequest),
    /// A request that asks for no WebSocket upgrade: answer it as plain HTTP.
    Http(HttpRequest),
}

impl ServerHandshake {
    /// A handshake that enforces `config`'s head limits.
    pub fn new(config: &Config) -> ServerHandshake {
        ServerHandshake {
            parser: HeadParser::new(HeadKind::Request, config),
        }
    }

    /// Feeds the next bytes read from the client.
    ///
    /// Returns `Ok(None)` while the head is incomplete, then the classified request; bytes
    /// after the head are kept in [`HttpRequest::remainder`]. A malformed head, a crossed
    /// limit or an invalid upgrade is an error, and `HttpResponse::from(&error)` is the
    /// response to send (400, 405, 414, 426, 431 or 505).
    pub fn receive(&mut self, data: &[u8]) -> Result<Option<Incoming>, HandshakeError> {
        let Some((head, consumed)) = self.parser.feed(data)? else {
            return Ok(None);
        };
        let remainder = Bytes::copy_from_slice(data.get(consumed..).unwrap_or_default());
        let request = HttpRequest {
            head,
            remainder,
            body: Bytes::new(),
        };
        if !lists_contain(request.head.header_values("Upgrade"), "websocket") {
            return Ok(Some(Incoming::Http(request)));
        }
        UpgradeRequest::validate(request).map(|upgrade| Some(Incoming::Upgrade(upgrade)))
    }

    /// Byte inspections so far, to show that parsing is linear.
    #[cfg(test)]
    pub(crate) fn bytes_examined(&self) -> u64 {
        self.parser.bytes_examined()
    }
}

/// A parsed HTTP request head, and the bytes that followed it.
#[derive(Debug, Clone)]
pub struct HttpRequest {
    head: Head,
    remainder: Bytes,
    body: Bytes,
}

impl HttpRequest {
    /// The method, such as `GET`.
    pub fn method(&self) -> &str {
        match &self.head.start {
            StartLine::Request { method, .. } => self.head.str(method),
            StartLine::Response { .. } => "",
        }
    }

    /// The request target as sent, such as `/chat?room=1`.
    pub fn target(&self) -> &str {
        match &self.head.start {
            StartLine::Request { target, .. } => self.head.str(target),
            StartLine::Response { .. } => "",
        }
    }

    /// The target's path, without the query.
    pub fn path(&self) -> &str {
        let target = self.target();
        target.split_once('?').map_or(target, |(path, _)| path)
    }

    /// The target's query (after `?`), if any.
    pub fn query(&self) -> Option<&str> {
        self.target().split_once('?').map(|(_, query)| query)
    }

    /// The HTTP minor version: 1 for HTTP/1.1, 0 for HTTP/1.0.
    pub fn minor_version(&self) -> u8 {
        match &self.head.start {
            StartLine::Request { minor_version, .. } => *minor_version,
            StartLine::Response { minor_version, .. } => *minor_version,
        }
    }

    /// The first value of a header (case-insensitive name), if it is valid UTF-8.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.header(name)
    }

    /// The parsed head: every header, raw bytes.
    pub fn head(&self) -> &Head {
        &self.head
    }

    /// Bytes that followed the head in the last chunk (the start of a body, or frames a
    /// client sent before it saw our response).
    pub fn remainder(&self) -> &[u8] {
        &self.remainder
    }

    /// The request's body, as the runtime read it for `on_http` (decoded from
    /// `Content-Length` or chunked framing; see
    /// [`BodyDecoder`](crate::handshake::BodyDecoder)); empty for an upgrade and for
    /// requests parsed by [`ServerHandshake`] alone.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Whether the client keeps the connection open after the response: HTTP/1.1 unless
    /// it sent `Connection: close` (HTTP/1.0 connections are closed).
    pub fn keeps_alive(&self) -> bool {
        let close = self.head.header_values("connection").any(|value| {
            value
                .split(|byte| *byte == b',')
                .any(|token| token.trim_ascii().eq_ignore_ascii_case(b"close"))
        });
        self.minor_version() == 1 && !close
    }

    /// The bytes after the head, shared (not copied).
    #[cfg(feature = "server")]
    pub(crate) fn remainder_shared(&self) -> Bytes {
        self.remainder.clone()
    }

    /// The request with its body, once the runtime has read it.
    #[cfg(feature = "server")]
    pub(crate) fn with_body(mut self, body: Bytes) -> HttpRequest {
        self.body = body;
        self.remainder = Bytes::new();
        self
    }
}

/// A validated WebSocket upgrade request.
#[derive(Debug, Clone)]
pub struct UpgradeRequest {
    request: HttpRequest,
    protocols: Vec<String>,
    extensions: Vec<Extension>,
}

impl std::ops::Deref for UpgradeRequest {
    type Target = HttpRequest;
    fn deref(&self) -> &HttpRequest {
        &self.request
    }
}

impl UpgradeRequest {
    fn validate(request: HttpRequest) -> Result<UpgradeRequest, HandshakeError> {
        let head = &request.head;
        if request.method() != "GET" {
            return Err(HandshakeError::MethodNotGet);
        }
        if request.minor_version() != 1 {
            return Err(HandshakeError::Http10Upgrade);
        }
        single_header(head, "Host")?;
        if !lists_contain(head.header_values("Connection"), "upgrade") {
            return Err(HandshakeError::ConnectionNotUpgrade);
        }
        let key = single_header(head, "Sec-WebSocket-Key")?;
        if !is_valid_key(key) {
            return Err(HandshakeError::InvalidKey);
        }
        let version = single_header(head, "Sec-WebSocket-Version")?;
        if version != b"13" {
            return Err(HandshakeError::UnsupportedVersion);
        }
        let protocols = parse_protocols(head.header_values("Sec-WebSocket-Protocol")).ok_or(
            HandshakeError::MalformedHeaderValue("Sec-WebSocket-Protocol"),
        )?;
        let extensions = parse_extensions(head.header_values("Sec-WebSocket-Extensions")).ok_or(
            HandshakeError::MalformedHeaderValue("Sec-WebSocket-Extensions"),
        )?;
        Ok(UpgradeRequest {
            request,
            protocols,
            extensions,
        })
    }

    /// The request head, remainder included.
    pub fn request(&self) -> &HttpRequest {
        &self.request
    }

    /// The subprotocols the client offers, in its order of preference.
    pub fn protocols(&self) -> &[String] {
        &self.protocols
    }

    /// The extensions the client offers, in its order of preference.
    pub fn extensions(&self) -> &[Extension] {
        &self.extensions
    }

    /// The `Origin` header, which browsers always send.
    pub fn origin(&self) -> Option<&str> {
        self.header("Origin")
    }

    /// The `Sec-WebSocket-Key` the client sent.
    pub fn key(&self) -> &str {
        self.header("Sec-WebSocket-Key").unwrap_or_default()
    }

    /// Accepts the upgrade: the 101 response to write, then the connection (already fed
    /// with any bytes that followed the request head).
    ///
    /// Refuses a subprotocol or an extension the client did not offer, and extra headers
    /// that are invalid or that the handshake writes itself.
    pub fn accept(
        &self,
        accept: &Accept,
        config: &Config,
    ) -> Result<(Vec<u8>, Connection), UsageError> {
        let mut response = Vec::with_capacity(160);
        write_status_line(&mut response, 101);
        write_header(&mut response, "Upgrade", "websocket");
        write_header(&mut response, "Connection", "Upgrade");
        write_header(
            &mut response,
            "Sec-WebSocket-Accept",
            &accept_key(self.key().as_bytes()),
        );
        if let Some(protocol) = &accept.protocol {
            if !self.protocols.contains(protocol) {
                return Err(UsageError::NotOffered(protocol.clone()));
            }
            write_header(&mut response, "Sec-WebSocket-Protocol", protocol);
        }
        let mut extensions = Vec::with_capacity(accept.extensions.len() + 1);
        for extension in &accept.extensions {
            let offered = self
                .extensions
                .iter()
                .any(|offer| offer.name.eq_ignore_ascii_case(&extension.name));
            if !offered || !extension.is_valid() {
                return Err(UsageError::NotOffered(extension.name.clone()));
            }
            extensions.push(extension.to_string());
        }
        #[cfg(feature = "deflate")]
        let deflate = self.negotiate_deflate(accept, config)?;
        #[cfg(feature = "deflate")]
        if let Some((response, _)) = &deflate {
            extensions.push(response.to_string());
        }
        if !extensions.is_empty() {
            write_header(
                &mut response,
                "Sec-WebSocket-Extensions",
                &extensions.join(", "),
            );
        }
        for (name, value) in &accept.headers {
            check_header(name, value)?;
            if RESERVED_HEADERS
                .iter()
                .any(|reserved| name.eq_ignore_ascii_case(reserved))
            {
                return Err(UsageError::InvalidInput("header: the handshake writes it"));
            }
            write_header(&mut response, name, value);
        }
        response.extend_from_slice(b"\r\n");
        let mut connection = Connection::new(Role::Server, config);
        #[cfg(feature = "deflate")]
        if let (Some((_, agreed)), Some(deflate_config)) = (deflate, &config.deflate) {
            connection.enable_deflate(agreed, deflate_config);
        }
        connection.receive(&self.request.remainder);
        Ok((response, connection))
    }

    /// permessage-deflate, when `config.deflate` asks for it and the client offers it: the
    /// response extension and what was agreed.
    #[cfg(feature = "deflate")]
    fn negotiate_deflate(
        &self,
        accept: &Accept,
        config: &Config,
    ) -> Result<Option<(Extension, crate::deflate::Agreed)>, UsageError> {
        let Some(deflate_config) = &config.deflate else {
            return Ok(None);
        };
        let by_hand = accept
            .extensions
            .iter()
            .any(|e| e.name.eq_ignore_ascii_case(crate::deflate::NAME));
        if by_hand {
            return Err(UsageError::InvalidInput(
                "extension: permessage-deflate is negotiated through Config::deflate",
            ));
        }
        Ok(crate::deflate::server_respond(
            &self.extensions,
            deflate_config,
        ))
    }
}

/// Headers the 101 response writes itself; extra headers may not repeat them.
const RESERVED_HEADERS: [&str; 5] = [
    "Upgrade",
    "Connection",
    "Sec-WebSocket-Accept",
    "Sec-WebSocket-Protocol",
    "Sec-WebSocket-Extensions",
];

/// The only value of a header that must appear exactly once.
fn single_header<'a>(head: &'a Head, name: &'static str) -> Result<&'a [u8], HandshakeError> {
    let mut values = head.header_values(name);
    let first = values.next().ok_or(HandshakeError::MissingHeader(name))?;
    if values.next().is_some() {
        return Err(HandshakeError::DuplicateHeader(name));
    }
    Ok(first)
}

/// What the server answers an upgrade with: the chosen subprotocol, the accepted
/// extensions, extra headers.
#[derive(Debug, Clone, Default)]
pub struct Accept {
    protocol: Option<String>,
    extensions: Vec<Extension>,
    headers: Vec<(String, String)>,
}

impl Accept {
    /// Accept with no subprotocol, no extension, no extra header.
    pub fn new() -> Accept {
        Accept::default()
    }

    /// Chooses one of the subprotocols the client offered.
    pub fn protocol(mut self, protocol: impl Into<String>) -> Accept {
        self.protocol = Some(protocol.into());
        self
    }

    /// Accepts one of the extensions the client offered, with the parameters to answer.
    ///
    /// The connection itself only allows the reserved bits of extensions it implements;
    /// accepting another extension makes every frame that uses it fail with 1002.
    pub fn extension(mut self, extension: Extension) -> Accept {
        self.extensions.push(extension);
        self
    }

    /// The subprotocol this answer chooses, if any.
    pub fn selected_protocol(&self) -> Option<&str> {
        self.protocol.as_deref()
    }

    /// Adds a header to the 101 response (`Set-Cookie`, for example).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Accept {
        self.headers.push((name.into(), value.into()));
        self
    }
}

#[cfg(test)]
#[allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]
mod tests;
