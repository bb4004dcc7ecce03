//! The crate's one error type, [`Error`], and its precise inner kinds.
//!
//! Every failure is data: a protocol violation says which rule was broken and which close
//! code the connection sent ([`Error::close_code`]); a refused handshake says which HTTP
//! status the peer gets ([`HandshakeError::http_status`]), and converts to the response
//! that tells it so (`HttpResponse::from(&error)`, in [`handshake`](crate::handshake)).

use crate::close_code::CloseCode;

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The peer broke a rule of RFC 6455; the connection was failed with a close frame.
    #[error("protocol error: {0}")]
    Protocol(#[from] ProtocolError),
    /// An opening handshake was malformed or refused.
    #[error("handshake error: {0}")]
    Handshake(#[from] HandshakeError),
    /// A configured limit was crossed.
    #[error("capacity error: {0}")]
    Capacity(#[from] CapacityError),
    /// The caller asked for something the API cannot do (see [`UsageError`]).
    #[error("invalid use: {0}")]
    Usage(#[from] UsageError),
    /// A timer expired: the peer did not complete a handshake, answer a keep-alive ping or
    /// finish the close handshake in time.
    #[error("timed out: {0}")]
    Timeout(#[from] Timeout),
    /// This side's application refused an upgrade; the response with this status was sent.
    #[error("the upgrade was refused with status {0}")]
    Refused(u16),
    /// The connection is closed: the close handshake is over, or the connection failed.
    #[error("the connection is closed")]
    Closed,
    /// An I/O error from the socket (only the drivers outside the core produce it), or
    /// from the operating system's random source.
    #[error("I/O error: {0}")]
    Io(std::io::Error),
    /// TLS failed: a refused certificate, a TLS protocol error, a bad PEM input (feature
    /// `tls`).
    #[cfg(feature = "tls")]
    #[error("TLS error: {0}")]
    Tls(#[from] TlsError),
}

/// An I/O error, or the TLS error a TLS stream's I/O error carries (so that a refused
/// certificate can be told apart from a reset).
impl From<std::io::Error> for Error {
    fn from(error: std::io::Error) -> Error {
        #[cfg(feature = "tls")]
        if let Some(tls) = tls_error_in(&error) {
            return Error::Tls(tls);
        }
        Error::Io(error)
    }
}

impl Error {
    /// The close code sent to the peer when this error failed a connection, if it did.
    ///
    /// ```
    /// use rfc6455::{CloseCode, Error, ProtocolError};
    /// let error = Error::from(ProtocolError::InvalidUtf8);
    /// assert_eq!(error.close_code(), Some(CloseCode::INVALID_PAYLOAD));
    /// ```
    pub fn close_code(&self) -> Option<CloseCode> {
        match self {
            Error::Protocol(e) => Some(e.close_code()),
            Error::Capacity(e) => e.close_code(),
            Error::Timeout(_) => Some(CloseCode::POLICY_VIOLATION),
            _ => None,
        }
    }
}

/// A violation of RFC 6455 by the peer. Each kind maps to one close code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// The opcode is one RFC 6455 reserves (3-7, 0xB-0xF).
    #[error("reserved opcode {0:#x}")]
    ReservedOpcode(u8),
    /// RSV1, RSV2 or RSV3 is set but no negotiated extension claims it.
    #[error("reserved bits {0:#05b} set without an extension that claims them")]
    ReservedBits(u8),
    /// A control frame (close, ping, pong) arrived without FIN.
    #[error("fragmented control frame")]
    FragmentedControlFrame,
    /// A control frame carried more than 125 bytes.
    #[error("control frame payload of {0} bytes (at most 125 are allowed)")]
    ControlFrameTooLong(u64),
    /// The 64-bit payload length had its most significant bit set.
    #[error("payload length with the most significant bit set")]
    LengthMsbSet,
    /// A server received a frame the client did not mask.
    #[error("unmasked frame from a client")]
    UnmaskedFrame,
    /// A client received a masked frame from the server.
    #[error("masked frame from a server")]
    MaskedFrame,
    /// A continuation frame arrived with no fragmented message in progress.
    #[error("continuation frame without a message to continue")]
    UnexpectedContinuation,
    /// A new text or binary frame arrived while a fragmented message was unfinished.
    #[error("new data frame before the fragmented message was finished")]
    ExpectedContinuation,
    /// A text message (or a close reason) was not valid UTF-8.
    #[error("invalid UTF-8 in a text message or close reason")]
    InvalidUtf8,
    /// A close frame carried a one-byte payload (a code needs two).
    #[error("close frame with a one-byte payload")]
    ClosePayloadTooShort,
    /// A message compressed with permessage-deflate did not inflate.
    #[error("invalid compressed data")]
    InvalidCompressedData,
    /// A close frame carried a code that must not appear on the wire.
    #[error("invalid close code {0}")]
    InvalidCloseCode(u16),
}

impl ProtocolError {
    /// The close code this violation is answered with: 1007 for invalid UTF-8, else 1002.
    pub fn close_code(&self) -> CloseCode {
        match self {
            ProtocolError::InvalidUtf8 | ProtocolError::InvalidCompressedData => {
                CloseCode::INVALID_PAYLOAD
            }
            _ => CloseCode::PROTOCOL_ERROR,
        }
    }
}

/// A configured limit was crossed (see [`Config`](crate::Config)).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CapacityError {
    /// A frame announced a payload longer than `max_frame_size`.
    #[error("frame payload of {size} bytes exceeds the limit of {limit}")]
    FrameTooLarge {
        /// The announced payload length.
        size: u64,
        /// The configured limit.
        limit: usize,
    },
    /// A message would grow past `max_message_size`.
    #[error("message of at least {size} bytes exceeds the limit of {limit}")]
    MessageTooLarge {
        /// The size the message would reach.
        size: u64,
        /// The configured limit.
        limit: usize,
    },
    /// A message arrived in more than `max_fragments` frames.
    #[error("message in more than {limit} fragments")]
    TooManyFragments {
        /// The configured limit.
        limit: usize,
    },
    /// A send found `max_write_buffer` bytes or more already queued for a peer that does
    /// not read fast enough.
    #[error("write buffer full: {buffered} bytes queued, limit {limit}")]
    WriteBufferFull {
        /// Bytes queued when the send was refused.
        buffered: usize,
        /// The configured limit.
        limit: usize,
    },
    /// A send from another thread or loop found `max_command_queue` bytes or more waiting
    /// in the channel of the loop that owns the recipients: that loop is not keeping up.
    #[error("command queue full: {queued} bytes waiting, limit {limit}")]
    CommandQueueFull {
        /// Bytes waiting when the send was refused.
        queued: usize,
        /// The configured limit.
        limit: usize,
    },
}

impl CapacityError {
    /// The close code when this limit failed an open connection (1009), if it applies.
    pub fn close_code(&self) -> Option<CloseCode> {
        match self {
            CapacityError::FrameTooLarge { .. }
            | CapacityError::MessageTooLarge { .. }
            | CapacityError::TooManyFragments { .. } => Some(CloseCode::MESSAGE_TOO_BIG),
            CapacityError::WriteBufferFull { .. } => Some(CloseCode::POLICY_VIOLATION),
            _ => None,
        }
    }
}

/// A refused opening handshake: a malformed or oversized HTTP head, an invalid upgrade
/// request (server side), or an unacceptable upgrade response (client side).
///
/// Every kind has the HTTP status a server answers with ([`http_status`](Self::http_status)),
/// and `HttpResponse::from(&error)` is that answer, ready to write.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HandshakeError {
    /// The request line is not `METHOD SP request-target SP HTTP-version`.
    #[error("malformed request line")]
    MalformedRequestLine,
    /// The status line is not `HTTP-version SP 3DIGIT SP reason`.
    #[error("malformed status line")]
    MalformedStatusLine,
    /// The HTTP version is neither HTTP/1.0 nor HTTP/1.1.
    #[error("unsupported HTTP version")]
    UnsupportedHttpVersion,
    /// A header line has no colon, an invalid name, or white space before the colon.
    #[error("malformed header line")]
    MalformedHeader,
    /// A header value holds a control character (NUL, bare CR, ...).
    #[error("control character in a header value")]
    InvalidHeaderValue,
    /// A header line starts with white space (obsolete line folding), which we refuse.
    #[error("obsolete line folding")]
    ObsoleteLineFolding,
    /// A CR that does not end a line.
    #[error("bare carriage return in the head")]
    BareCarriageReturn,
    /// The HTTP head is longer than [`max_head_bytes`](crate::Config::max_head_bytes).
    #[error("HTTP head longer than {limit} bytes")]
    HeadTooLarge {
        /// The configured limit.
        limit: usize,
    },
    /// The HTTP head has more than [`max_headers`](crate::Config::max_headers) fields.
    #[error("more than {limit} header fields")]
    TooManyHeaders {
        /// The configured limit.
        limit: usize,
    },
    /// A line of the HTTP head is longer than
    /// [`max_line_bytes`](crate::Config::max_line_bytes).
    #[error("HTTP head line longer than {limit} bytes")]
    LineTooLong {
        /// The configured limit.
        limit: usize,
        /// True for the request or status line, false for a header line.
        start_line: bool,
    },
    /// A request body longer than the limit (its declared length, or its chunks so far).
    #[error("request body longer than {limit} bytes")]
    BodyTooLarge {
        /// The limit.
        limit: usize,
    },
    /// The body's length cannot be read one way only: a `Content-Length` that is not one
    /// decimal number, several of them, one next to `Transfer-Encoding`, or chunked over
    /// HTTP/1.0 (request smuggling is built on such heads).
    #[error("ambiguous or malformed request body length")]
    InvalidBodyLength,
    /// A transfer coding other than `chunked`.
    #[error("unsupported transfer coding")]
    UnsupportedTransferCoding,
    /// The chunked transfer coding is malformed (a size that is not hex, a missing CRLF,
    /// a chunk-size line over 4 KiB).
    #[error("malformed chunked body")]
    MalformedChunk,
    /// An upgrade request whose method is not GET.
    #[error("the upgrade method must be GET")]
    MethodNotGet,
    /// An upgrade request over HTTP/1.0.
    #[error("a WebSocket upgrade needs HTTP/1.1")]
    Http10Upgrade,
    /// A header the handshake requires is absent.
    #[error("missing header {0}")]
    MissingHeader(&'static str),
    /// A header that must appear once appears several times.
    #[error("duplicate header {0}")]
    DuplicateHeader(&'static str),
    /// `Connection` does not list the `upgrade` token.
    #[error("Connection header does not contain \"upgrade\"")]
    ConnectionNotUpgrade,
    /// `Upgrade` does not list the `websocket` token.
    #[error("Upgrade header does not contain \"websocket\"")]
    UpgradeNotWebSocket,
    /// `Sec-WebSocket-Version` is not 13.
    #[error("unsupported Sec-WebSocket-Version (only 13 is supported)")]
    UnsupportedVersion,
    /// `Sec-WebSocket-Key` does not decode to 16 bytes of base64.
    #[error("Sec-WebSocket-Key is not 16 bytes of base64")]
    InvalidKey,
    /// A `Sec-WebSocket-Protocol` or `Sec-WebSocket-Extensions` value does not parse.
    #[error("malformed {0} header")]
    MalformedHeaderValue(&'static str),
    /// The response status is not 101.
    #[error("the server answered with status {0} instead of 101")]
    UnexpectedStatus(u16),
    /// `Sec-WebSocket-Accept` does not match the key we sent.
    #[error("Sec-WebSocket-Accept does not match the key")]
    AcceptMismatch,
    /// The server chose a subprotocol the client did not offer (or the client offered
    /// none).
    #[error("subprotocol {0:?} was not offered")]
    ProtocolNotOffered(String),
    /// The server accepted an extension the client did not offer.
    #[error("extension {0:?} was not offered")]
    ExtensionNotOffered(String),
    /// The server answered an extension with a parameter we cannot honor.
    #[error("unsupported extension parameter {0}")]
    UnsupportedExtensionParameter(&'static str),
}

impl HandshakeError {
    /// The HTTP status a server refuses with: 400 for a malformed request, 405 for a method
    /// other than GET, 414 for a request line over the limit, 426 for a version other than
    /// 13, 431 for a head over its limits, 505 for an HTTP version other than 1.x; and 502
    /// (bad gateway) for the kinds only an upgrade response can cause, which is what a proxy
    /// built on this crate answers when its upstream's handshake fails.
    ///
    /// ```
    /// use rfc6455::HandshakeError;
    /// assert_eq!(HandshakeError::UnsupportedVersion.http_status(), 426);
    /// assert_eq!(HandshakeError::AcceptMismatch.http_status(), 502);
    /// ```
    pub fn http_status(&self) -> u16 {
        use HandshakeError::*;
        match self {
            MalformedRequestLine
            | MalformedHeader
            | InvalidHeaderValue
            | ObsoleteLineFolding
            | BareCarriageReturn
            | Http10Upgrade
            | MissingHeader(_)
            | DuplicateHeader(_)
            | ConnectionNotUpgrade
            | UpgradeNotWebSocket
            | InvalidKey
            | MalformedHeaderValue(_)
            | InvalidBodyLength
            | MalformedChunk => 400,
            BodyTooLarge { .. } => 413,
            MethodNotGet => 405,
            LineTooLong {
                start_line: true, ..
            } => 414,
            UnsupportedVersion => 426,
            HeadTooLarge { .. } | TooManyHeaders { .. } | LineTooLong { .. } => 431,
            UnsupportedHttpVersion => 505,
            UnsupportedTransferCoding => 501,
            MalformedStatusLine
            | UnexpectedStatus(_)
            | AcceptMismatch
            | ProtocolNotOffered(_)
            | ExtensionNotOffered(_)
            | UnsupportedExtensionParameter(_) => 502,
        }
    }
}

/// A call the API refuses because of the connection's state or the arguments.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UsageError {
    /// A send after our close frame was queued or the connection failed.
    #[error("the connection is closing or closed: nothing more can be sent")]
    SendAfterClose,
    /// A control frame payload (ping, pong, close code and reason) over 125 bytes.
    #[error("control frame payload of {0} bytes (at most 125 are allowed)")]
    ControlPayloadTooLong(usize),
    /// A close code that must not be sent (1005, 1006, 1015, or outside the valid ranges).
    #[error("close code {0} cannot be sent")]
    InvalidCloseCode(u16),
    /// A whole message was sent while a fragmented one is unfinished, or a fragment of
    /// another kind was sent in the middle of one.
    #[error("a fragmented message is in progress")]
    FragmentedMessageInProgress,
    /// Text fragments that do not form valid UTF-8.
    #[error("text fragments are not valid UTF-8")]
    InvalidUtf8,
    /// A value supplied by the caller holds CR, LF, NUL or another character that cannot
    /// appear in that place of an HTTP head (header injection), or a header the handshake
    /// writes itself.
    #[error("invalid {0}")]
    InvalidInput(&'static str),
    /// A `ws://` or `wss://` URL could not be parsed.
    #[error("invalid WebSocket URL: {0}")]
    InvalidUrl(&'static str),
    /// An answer to an upgrade chose a subprotocol or an extension the client did not offer.
    #[error("{0:?} was not offered by the client")]
    NotOffered(String),
}

/// Which timer expired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Timeout {
    /// The opening handshake did not complete within `handshake_timeout`.
    #[error("the opening handshake took longer than the handshake timeout")]
    Handshake,
    /// The peer sent nothing within `pong_timeout` of a keep-alive ping.
    #[error("no answer to a keep-alive ping within the pong timeout")]
    Pong,
    /// The peer did not complete the close handshake within `close_timeout`.
    #[error("the close handshake took longer than the close timeout")]
    Close,
}

/// What went wrong setting up or running TLS.
#[cfg(feature = "tls")]
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// The peer's certificate was refused: an unknown issuer, a name that does not match
    /// the host, an expired one... (a client's `on_error` gets this for a bad server
    /// certificate).
    #[error("the peer's certificate was refused: {0:?}")]
    Certificate(rustls::CertificateError),
    /// The peer sent something TLS forbids, or the handshake failed otherwise (no common
    /// version or cipher suite, an alert from the peer).
    #[error("TLS failed: {0}")]
    Protocol(rustls::Error),
    /// A PEM file or buffer held no usable certificate or key, or could not be read.
    #[error("no usable {what} in the PEM input: {detail}")]
    Pem {
        /// `"certificate"` or `"private key"`.
        what: &'static str,
        /// What the PEM reader said.
        detail: String,
    },
    /// The certificate and key do not form a usable server identity (the key does not
    /// match, or its type is not supported).
    #[error("the certificate and key are not usable: {0}")]
    Identity(rustls::Error),
    /// The URL's host is not a DNS name or IP address a certificate can be checked against.
    #[error("{0:?} is not a name a certificate can be checked against")]
    InvalidServerName(String),
    /// The platform offered no trusted root certificate (no CA bundle installed); use
    /// [`TlsConnector::with_ca_pem`](crate::tls::TlsConnector::with_ca_pem).
    #[error("no trusted root certificates found on this platform: {0}")]
    NoPlatformRoots(String),
}

#[cfg(feature = "tls")]
impl From<rustls::Error> for TlsError {
    fn from(error: rustls::Error) -> Self {
        match error {
            rustls::Error::InvalidCertificate(certificate) => TlsError::Certificate(certificate),
            other => TlsError::Protocol(other),
        }
    }
}

/// The TLS error an I/O error from a TLS stream carries, if it carries one (rustls' own
/// streams and our transport wrap a `rustls::Error`).
#[cfg(feature = "tls")]
pub(crate) fn tls_error_in(error: &std::io::Error) -> Option<TlsError> {
    let tls = error.get_ref()?.downcast_ref::<rustls::Error>()?;
    Some(TlsError::from(tls.clone()))
}
