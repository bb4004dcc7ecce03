//! The client side of the opening handshake: write the upgrade request, read and check the
//! server's response.

// Input reaches this module: no indexing, unwrap, expect or panic that it could trigger.
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use super::accept_key::{accept_key, encode_key, generate_key};
use super::head::{Head, HeadKind, HeadParser, StartLine};
use super::header_values::{lists_contain, parse_extensions, parse_protocols};
use super::response::{check_header, check_token, write_header};
use super::url::Url;
use crate::config::Config;
use crate::error::{Error, HandshakeError, UsageError};
use crate::extension::Extension;
use crate::protocol::{Connection, Role};

/// What a client asks for: where, which subprotocols and extensions, extra headers.
///
/// ```
/// use rfc6455::handshake::{ClientRequest, Url};
/// let request = ClientRequest::from_url(&Url::parse("ws://localhost:9001/chat").unwrap())
///     .protocol("chat")
///     .header("Origin", "http://localhost:9001");
/// assert_eq!(request.host(), "localhost:9001");
/// ```
#[derive(Debug, Clone)]
pub struct ClientRequest {
    host: String,
    resource: String,
    protocols: Vec<String>,
    extensions: Vec<Extension>,
    headers: Vec<(String, String)>,
}

impl ClientRequest {
    /// A request for `resource` (a path and query, such as `/chat?room=1`) on `host` (the
    /// `Host` header: a host name and, unless it is the default, a port).
    pub fn new(host: impl Into<String>, resource: impl Into<String>) -> ClientRequest {
        ClientRequest {
            host: host.into(),
            resource: resource.into(),
            protocols: Vec::new(),
            extensions: Vec::new(),
            headers: Vec::new(),
        }
    }

    /// A request for the host and resource of a `ws://` URL.
    pub fn from_url(url: &Url) -> ClientRequest {
        ClientRequest::new(url.host_header(), url.resource())
    }

    /// The `Host` header value.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Offers a subprotocol (call again for more, in order of preference).
    pub fn protocol(mut self, protocol: impl Into<String>) -> ClientRequest {
        self.protocols.push(protocol.into());
        self
    }

    /// Offers an extension (call again for more, in order of preference).
    pub fn extension(mut self, extension: Extension) -> ClientRequest {
        self.extensions.push(extension);
        self
    }

    /// Adds a header (`Origin`, `Authorization`, `Cookie`...).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> ClientRequest {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The request head for `key`, after checking every value the caller supplied.
    fn encode(&self, key: &str) -> Result<Vec<u8>, UsageError> {
        if self.host.is_empty() || !self.host.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(UsageError::InvalidInput("host"));
        }
        if !self.resource.starts_with('/') || !self.resource.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(UsageError::InvalidInput("path"));
        }
        let mut out = Vec::with_capacity(256);
        out.extend_from_slice(b"GET ");
        out.extend_from_slice(self.resource.as_bytes());
        out.extend_from_slice(b" HTTP/1.1\r\n");
        write_header(&mut out, "Host", &self.host);
        write_header(&mut out, "Upgrade", "websocket");
        write_header(&mut out, "Connection", "Upgrade");
        write_header(&mut out, "Sec-WebSocket-Key", key);
        write_header(&mut out, "Sec-WebSocket-Version", "13");
        if !self.protocols.is_empty() {
            for protocol in &self.protocols {
                check_token(protocol, "subprotocol")?;
            }
            write_header(
                &mut out,
                "Sec-WebSocket-Protocol",
                &self.protocols.join(", "),
            );
        }
        if !self.extensions.is_empty() {
            if !self.extensions.iter().all(Extension::is_valid) {
                return Err(UsageError::InvalidInput("extension"));
            }
            let offers: Vec<String> = self.extensions.iter().map(ToString::to_string).collect();
            write_header(&mut out, "Sec-WebSocket-Extensions", &offers.join(", "));
        }
        for (name, value) in &self.headers {
            check_header(name, value)?;
            if RESERVED_HEADERS
                .iter()
                .any(|reserved| name.eq_ignore_ascii_case(reserved))
            {
                return Err(UsageError::InvalidInput("header: the handshake writes it"));
            }
            write_header(&mut out, name, value);
        }
        out.extend_from_slice(b"\r\n");
        Ok(out)
    }
}

/// Headers the request writes itself; extra headers may not repeat them.
const RESERVED_HEADERS: [&str; 7] = [
    "Host",
    "Upgrade",
    "Connection",
    "Sec-WebSocket-Key",
    "Sec-WebSocket-Version",
    "Sec-WebSocket-Protocol",
    "Sec-WebSocket-Extensions",
];

/// The client's handshake: the request to write, then the response to read.
///
/// ```
/// use rfc6455::handshake::{ClientHandshake, ClientRequest};
/// use rfc6455::Config;
///
/// let config = Config::default();
/// let request = ClientRequest::new("server.example.com", "/chat").protocol("chat");
/// let mut handshake = ClientHandshake::with_nonce(&request, &config, *b"the sample nonce").unwrap();
/// assert!(handshake.request().starts_with(b"GET /chat HTTP/1.1\r\n"));
///
/// let response = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
///     Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\
///     Sec-WebSocket-Protocol: chat\r\n\r\n";
/// let (response, _connection) = handshake.receive(response).unwrap().unwrap();
/// assert_eq!(response.protocol(), Some("chat"));
/// ```
#[derive(Debug)]
pub struct ClientHandshake {
    request: Vec<u8>,
    expected_accept: String,
    protocols: Vec<String>,
    extensions: Vec<Extension>,
    parser: HeadParser,
    config: Config,
}

impl ClientHandshake {
    /// Prepares the request with a fresh random key. Refuses CR, LF, NUL and other
    /// characters that cannot appear where the caller put them.
    pub fn new(request: &ClientRequest, config: &Config) -> Result<ClientHandshake, Error> {
        let key = generate_key()?;
        Self::with_key(request, config, key)
    }

    /// Prepares the request with a chosen 16-byte nonce instead of a random one (for tests;
    /// a real client must use [`new`](Self::new)).
    pub fn with_nonce(
        request: &ClientRequest,
        config: &Config,
        nonce: [u8; 16],
    ) -> Result<ClientHandshake, Error> {
        Self::with_key(request, config, encode_key(&nonce))
    }

    fn with_key(
        request: &ClientRequest,
        config: &Config,
        key: String,
    ) -> Result<ClientHandshake, Error> {
        #[cfg(feature = "deflate")]
        let request = &Self::with_deflate_offer(request, config)?;
        Ok(ClientHandshake {
            request: request.encode(&key)?,
            expected_accept: accept_key(key.as_bytes()),
            protocols: request.protocols.clone(),
            extensions: request.extensions.clone(),
            parser: HeadParser::new(HeadKind::Response, config),
            config: config.clone(),
        })
    }

    /// The request with a permessage-deflate offer added when `config.deflate` asks for it.
    #[cfg(feature = "deflate")]
    fn with_deflate_offer(
        request: &ClientRequest,
        config: &Config,
    ) -> Result<ClientRequest, UsageError> {
        let Some(deflate) = &config.deflate else {
            return Ok(request.clone());
        };
        if request
            .extensions
            .iter()
            .any(|e| e.name.eq_ignore_ascii_case(crate::deflate::NAME))
        {
            return Err(UsageError::InvalidInput(
                "extension: permessage-deflate is negotiated through Config::deflate",
            ));
        }
        Ok(request
            .clone()
            .extension(crate::deflate::client_offer(deflate)))
    }

    /// The request head to write to the server.
    pub fn request(&self) -> &[u8] {
        &self.request
    }

    /// Feeds the next bytes read from the server.
    ///
    /// Returns `Ok(None)` while the response head is incomplete, then the checked response
    /// and the connection, already fed with any frames that followed the head.
    pub fn receive(
        &mut self,
        data: &[u8],
    ) -> Result<Option<(UpgradeResponse, Connection)>, HandshakeError> {
        let Some((head, consumed)) = self.parser.feed(data)? else {
            return Ok(None);
        };
        let response = self.check(head)?;
        let mut connection = Connection::new(Role::Client, &self.config);
        #[cfg(feature = "deflate")]
        if let Some(deflate) = &self.config.deflate
            && let Some(agreed) = crate::deflate::client_accept(response.extensions(), deflate)?
        {
            connection.enable_deflate(agreed, deflate);
        }
        connection.receive(data.get(consumed..).unwrap_or_default());
        Ok(Some((response, connection)))
    }

    fn check(&self, head: Head) -> Result<UpgradeResponse, HandshakeError> {
        let status = match head.start {
            StartLine::Response { status, .. } => status,
            StartLine::Request { .. } => return Err(HandshakeError::MalformedStatusLine),
        };
        if status != 101 {
            return Err(HandshakeError::UnexpectedStatus(status));
        }
        if !lists_contain(head.header_values("Upgrade"), "websocket") {
            return Err(HandshakeError::UpgradeNotWebSocket);
        }
        if !lists_contain(head.header_values("Connection"), "upgrade") {
            return Err(HandshakeError::ConnectionNotUpgrade);
        }
        match head.header_values("Sec-WebSocket-Accept").count() {
            0 => return Err(HandshakeError::MissingHeader("Sec-WebSocket-Accept")),
            1 => {}
            _ => return Err(HandshakeError::DuplicateHeader("Sec-WebSocket-Accept")),
        }
        if head.header_bytes("Sec-WebSocket-Accept") != Some(self.expected_accept.as_bytes()) {
            return Err(HandshakeError::AcceptMismatch);
        }
        let chosen = parse_protocols(head.header_values("Sec-WebSocket-Protocol")).ok_or(
            HandshakeError::MalformedHeaderValue("Sec-WebSocket-Protocol"),
        )?;
        let protocol = match chosen.as_slice() {
            [] => None,
            [one] if self.protocols.contains(one) => Some(one.clone()),
            [one] => return Err(HandshakeError::ProtocolNotOffered(one.clone())),
            _ => return Err(HandshakeError::DuplicateHeader("Sec-WebSocket-Protocol")),
        };
        let extensions = parse_extensions(head.header_values("Sec-WebSocket-Extensions")).ok_or(
            HandshakeError::MalformedHeaderValue("Sec-WebSocket-Extensions"),
        )?;
        for extension in &extensions {
            let offered = self
                .extensions
                .iter()
                .any(|offer| offer.name.eq_ignore_ascii_case(&extension.name));
            if !offered {
                return Err(HandshakeError::ExtensionNotOffered(extension.name.clone()));
            }
        }
        Ok(UpgradeResponse {
            head,
            status,
            protocol,
            extensions,
        })
    }
}

/// The server's answer to a client's upgrade request: a 101, checked against what was
/// asked.
#[derive(Debug, Clone)]
pub struct UpgradeResponse {
    head: Head,
    status: u16,
    protocol: Option<String>,
    extensions: Vec<Extension>,
}

impl UpgradeResponse {
    /// The status code (101).
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The subprotocol the server chose, if any.
    pub fn protocol(&self) -> Option<&str> {
        self.protocol.as_deref()
    }

    /// The extensions the server accepted.
    pub fn extensions(&self) -> &[Extension] {
        &self.extensions
    }

    /// The first value of a header (case-insensitive name), if it is valid UTF-8.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.header(name)
    }

    /// The parsed head.
    pub fn head(&self) -> &Head {
        &self.head
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
