//! Socket.IO v5 packets ([`Packet`]): their text encoding, with binary attachments taken
//! out ([`Packet::encode`]), and [`PacketDecoder`], which turns the text and binary parts
//! that arrive (Engine.IO messages) back into whole packets.
//!
//! Written to docs/socket.io-protocol/v5-current.md of the socket.io repository, with the
//! rules of socket.io-parser 4.2.6 and later (`Decoder.decodeString`, `isPayloadValid`,
//! `reconstructPacket`, `maxAttachments`); they are on [`Packet`].

// Input reaches this module: no indexing, unwrap, expect or panic that it could trigger.
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::fmt::Write as _;

use bytes::Bytes;
use serde_json::Value;

use super::data::Data;

/// The namespace a packet without one belongs to.
pub const MAIN_NAMESPACE: &str = "/";

/// Event names a peer must not use: they name events of the Socket.IO API itself
/// (socket.io-parser's `RESERVED_EVENTS`).
pub const RESERVED_EVENT_NAMES: [&str; 6] = [
    "connect",
    "connect_error",
    "disconnect",
    "disconnecting",
    "newListener",
    "removeListener",
];

/// What a Socket.IO packet is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PacketType {
    /// `0`: a client asks to join a namespace (with an optional auth object); the server
    /// grants it (with the socket's `sid`).
    Connect,
    /// `1`: one side leaves a namespace.
    Disconnect,
    /// `2` (`5` with binary arguments): an event: its name and arguments, and an ack id if
    /// the sender wants an answer.
    Event,
    /// `3` (`6` with binary arguments): the answer to an event, with the event's ack id.
    Ack,
    /// `4`: the server refuses a CONNECT (`{"message": ...}`).
    ConnectError,
}

impl PacketType {
    /// The digit that starts the packet on the wire: `5` and `6` for an event or an ack
    /// with attachments.
    fn digit(self, binary: bool) -> char {
        match (self, binary) {
            (PacketType::Connect, _) => '0',
            (PacketType::Disconnect, _) => '1',
            (PacketType::Event, false) => '2',
            (PacketType::Ack, false) => '3',
            (PacketType::ConnectError, _) => '4',
            (PacketType::Event, true) => '5',
            (PacketType::Ack, true) => '6',
        }
    }
}

/// One Socket.IO packet, as the protocol document writes them:
/// `{ type, namespace, data, id }`.
///
/// ```text
/// <type>[<attachments>-][<namespace>,][<ack id>][<JSON payload>]   + one binary part per attachment
/// ```
///
/// - The type is one digit: `0` CONNECT, `1` DISCONNECT, `2` EVENT, `3` ACK,
///   `4` CONNECT_ERROR, `5` BINARY_EVENT, `6` BINARY_ACK. The two binary types are an
///   event or an ack whose payload holds binary values: in memory they are
///   [`PacketType::Event`] and [`PacketType::Ack`] with [`Data::Binary`] inside, and the
///   encoder picks the wire type from the payload, as the reference does.
/// - The attachment count (binary types only) is decimal digits and a `-`, at least 1 and
///   at most [`AttachmentLimits::max_attachments`] (10 by default, as the reference).
/// - The namespace is there if the next byte is `/`, up to a `,` or the end; else it is
///   `/`. The encoder writes it only when it is not `/`, always followed by `,`.
/// - The ack id is the decimal digits that follow (a `u64`).
/// - The rest, if any, is the JSON payload; it must fit the type: CONNECT an object or
///   nothing, DISCONNECT nothing, CONNECT_ERROR an object or a string, EVENT a non-empty
///   array whose first element (the event name) is a number or a string that is not a
///   reserved name, ACK an array. The document makes the EVENT and ACK payloads mandatory,
///   so a packet without one is refused (the reference decoder lets it through).
/// - A binary leaf is `{"_placeholder":true,"num":N}` in the JSON, and attachment `N` is the
///   `N`th binary part that follows the text.
///
/// Where the reference reads numbers with JavaScript's `Number()` (so that `" 1"`, `"1e0"`
/// or `"0x1"` are counts, an empty text is a CONNECT, and `" "` is an ack id), this codec
/// takes ASCII digits only; no encoder writes anything else.
///
/// ```
/// use bytes::Bytes;
/// use rfc6455::socketio::{AttachmentLimits, Data, Packet, PacketDecoder};
///
/// let packet = Packet::event("/admin", "baz", [Data::from(Bytes::from_static(&[1, 2])), Data::from(Bytes::from_static(&[3, 4]))]);
/// let encoded = packet.encode()?;
/// assert_eq!(encoded.text, r#"52-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#);
/// assert_eq!(encoded.attachments, [Bytes::from_static(&[1, 2]), Bytes::from_static(&[3, 4])]);
///
/// let mut decoder = PacketDecoder::new(AttachmentLimits::default());
/// assert_eq!(decoder.receive_text(&encoded.text)?, None); // two attachments to come
/// assert_eq!(decoder.receive_binary(encoded.attachments[0].clone())?, None);
/// assert_eq!(decoder.receive_binary(encoded.attachments[1].clone())?, Some(packet));
/// # Ok::<(), rfc6455::socketio::PacketError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// What the packet is.
    pub packet_type: PacketType,
    /// The namespace, `/` for the main one. It starts with `/` and holds no `,`.
    pub namespace: String,
    /// The acknowledgement id: on an event that asks for an answer, and on the answer.
    pub id: Option<u64>,
    /// The payload; for an event, `[name, args...]`.
    pub data: Option<Data>,
}

impl Packet {
    /// A CONNECT to `namespace`, with the client's auth object or the server's
    /// `{"sid": ...}`.
    pub fn connect(namespace: impl Into<String>, data: Option<Data>) -> Packet {
        Packet::new(PacketType::Connect, namespace, data)
    }

    /// A DISCONNECT from `namespace`.
    pub fn disconnect(namespace: impl Into<String>) -> Packet {
        Packet::new(PacketType::Disconnect, namespace, None)
    }

    /// An EVENT `name` with `args` in `namespace` (binary ones make it a BINARY_EVENT on the
    /// wire). [`Packet::with_id`] asks for an ack.
    pub fn event(
        namespace: impl Into<String>,
        name: &str,
        args: impl IntoIterator<Item = Data>,
    ) -> Packet {
        let data = std::iter::once(Data::from(name)).chain(args).collect();
        Packet::new(PacketType::Event, namespace, Some(Data::Array(data)))
    }

    /// The ACK of event `id` in `namespace`, with `args` (binary ones make it a BINARY_ACK
    /// on the wire).
    pub fn ack(
        namespace: impl Into<String>,
        id: u64,
        args: impl IntoIterator<Item = Data>,
    ) -> Packet {
        let data = Data::Array(args.into_iter().collect());
        Packet::new(PacketType::Ack, namespace, Some(data)).with_id(id)
    }

    /// A CONNECT_ERROR in `namespace`: `data` is an object such as `{"message": "..."}` (or a
    /// string, which the reference also takes).
    pub fn connect_error(namespace: impl Into<String>, data: Data) -> Packet {
        Packet::new(PacketType::ConnectError, namespace, Some(data))
    }

    /// The same packet with the ack id `id`.
    pub fn with_id(mut self, id: u64) -> Packet {
        self.id = Some(id);
        self
    }

    fn new(packet_type: PacketType, namespace: impl Into<String>, data: Option<Data>) -> Packet {
        Packet {
            packet_type,
            namespace: namespace.into(),
            id: None,
            data,
        }
    }

    /// The packet's text part and its attachments: one Engine.IO message with the text,
    /// then one binary message per attachment, in order.
    ///
    /// Refused, before anything is written: a namespace that does not start with `/` or
    /// holds a `,` ([`PacketError::InvalidNamespace`]), a payload the type does not allow
    /// (the rules of the decoder, see [`PacketError`]), a binary value in a CONNECT or
    /// CONNECT_ERROR ([`PacketError::BinaryNotAllowed`]), and, in a packet with attachments,
    /// an object the peer would take for a placeholder
    /// ([`PacketError::AmbiguousPlaceholder`]).
    pub fn encode(&self) -> Result<EncodedPacket, PacketError> {
        let mut text = String::new();
        let attachments = self.encode_into(&mut text)?;
        Ok(EncodedPacket { text, attachments })
    }

    /// [`Packet::encode`], appending the text to `out` (after an Engine.IO `4`, say, to
    /// make the WebSocket message in one buffer) and returning the attachments.
    pub fn encode_into(&self, out: &mut String) -> Result<Vec<Bytes>, PacketError> {
        let namespace = &self.namespace;
        if !namespace.starts_with('/') || namespace.contains(',') {
            return Err(PacketError::InvalidNamespace(namespace.clone()));
        }
        check_payload(self.packet_type, self.data.as_ref())?;
        let binaries = self.data.as_ref().map_or(0, Data::binary_count);
        if binaries > 0 {
            if !matches!(self.packet_type, PacketType::Event | PacketType::Ack) {
                return Err(PacketError::BinaryNotAllowed(self.packet_type));
            }
            if self.data.as_ref().is_some_and(Data::has_placeholder_shape) {
                return Err(PacketError::AmbiguousPlaceholder);
            }
        }
        // Writing to a String cannot fail.
        out.push(self.packet_type.digit(binaries > 0));
        if binaries > 0 {
            let _ = write!(out, "{binaries}-");
        }
        if namespace != MAIN_NAMESPACE {
            out.push_str(namespace);
            out.push(',');
        }
        if let Some(id) = self.id {
            let _ = write!(out, "{id}");
        }
        let mut attachments = Vec::with_capacity(binaries);
        if let Some(data) = &self.data {
            data.write_json(out, &mut attachments);
        }
        Ok(attachments)
    }
}

/// An encoded packet: the text part, then the binary parts it announces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedPacket {
    /// The text part (without the Engine.IO `4` that carries it).
    pub text: String,
    /// The attachments, in placeholder order: one binary message each, after the text.
    pub attachments: Vec<Bytes>,
}

/// The bounds of a packet's binary attachments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttachmentLimits {
    /// The most attachments one packet may announce. Default 10, socket.io-parser's
    /// `maxAttachments`.
    pub max_attachments: usize,
    /// The most attachment bytes one packet may gather. Default 10,000,000: ten
    /// attachments of the reference's 1,000,000-byte `maxHttpBufferSize`, which bounds each
    /// binary message, so what the reference allows implicitly.
    pub max_attachment_bytes: usize,
}

impl Default for AttachmentLimits {
    fn default() -> AttachmentLimits {
        AttachmentLimits {
            max_attachments: 10,
            max_attachment_bytes: 10_000_000,
        }
    }
}

/// Turns the parts of received packets back into packets, sans-IO: hand it each
/// Engine.IO message in order, text ([`PacketDecoder::receive_text`]) or binary
/// ([`PacketDecoder::receive_binary`]), and take each packet when it is whole.
///
/// A packet without attachments is whole with its text; a BINARY_EVENT or BINARY_ACK when
/// the last attachment it announced arrives. Its placeholders are checked when the text
/// arrives (each must number an announced attachment), so a bad one is refused before any
/// attachment is gathered, and the gathered bytes are bounded by
/// [`AttachmentLimits::max_attachment_bytes`]. After an error the decoder is empty again;
/// the reference closes the connection then, and so should the caller.
#[derive(Debug, Clone)]
pub struct PacketDecoder {
    limits: AttachmentLimits,
    partial: Option<PartialPacket>,
}

/// A binary packet whose attachments are still arriving.
#[derive(Debug, Clone)]
struct PartialPacket {
    /// The packet, placeholders still in its payload.
    packet: Packet,
    /// How many attachments it announced.
    announced: usize,
    attachments: Vec<Bytes>,
    /// Attachment bytes gathered so far.
    bytes: usize,
}

impl PacketDecoder {
    /// A decoder within `limits`.
    pub fn new(limits: AttachmentLimits) -> PacketDecoder {
        PacketDecoder {
            limits,
            partial: None,
        }
    }

    /// How many attachments the packet being gathered still waits for (0: none is).
    pub fn awaiting_attachments(&self) -> usize {
        self.partial
            .as_ref()
            .map_or(0, |partial| partial.announced - partial.attachments.len())
    }

    /// Decodes a text part: the packet, if it has no attachments, or `None` if it waits
    /// for them. Refused: a text while attachments are awaited
    /// ([`PacketError::UnexpectedText`]), and every malformed packet (see [`PacketError`]).
    pub fn receive_text(&mut self, text: &str) -> Result<Option<Packet>, PacketError> {
        if let Some(partial) = self.partial.take() {
            return Err(PacketError::UnexpectedText {
                awaiting: partial.announced - partial.attachments.len(),
            });
        }
        let (packet, announced) = decode_text(text, &self.limits)?;
        if announced == 0 {
            return Ok(Some(packet));
        }
        self.partial = Some(PartialPacket {
            packet,
            announced,
            attachments: Vec::with_capacity(announced),
            bytes: 0,
        });
        Ok(None)
    }

    /// Takes a binary part: the next attachment of the packet being gathered, and the
    /// packet if it was the last. Refused: a binary part when no packet awaits one
    /// ([`PacketError::UnexpectedAttachment`]), attachments past
    /// [`max_attachment_bytes`](AttachmentLimits::max_attachment_bytes)
    /// ([`PacketError::AttachmentsTooLarge`]).
    pub fn receive_binary(&mut self, attachment: Bytes) -> Result<Option<Packet>, PacketError> {
        let Some(mut partial) = self.partial.take() else {
            return Err(PacketError::UnexpectedAttachment);
        };
        let bytes = partial.bytes.saturating_add(attachment.len());
        if bytes > self.limits.max_attachment_bytes {
            return Err(PacketError::AttachmentsTooLarge {
                limit: self.limits.max_attachment_bytes,
            });
        }
        partial.bytes = bytes;
        partial.attachments.push(attachment);
        if partial.attachments.len() < partial.announced {
            self.partial = Some(partial);
            return Ok(None);
        }
        let mut packet = partial.packet;
        if let Some(data) = &mut packet.data {
            data.resolve_placeholders(&partial.attachments);
        }
        Ok(Some(packet))
    }
}

/// Decodes a packet's text part: the packet (placeholders still in its payload) and how
/// many attachments it announced.
fn decode_text(text: &str, limits: &AttachmentLimits) -> Result<(Packet, usize), PacketError> {
    let bytes = text.as_bytes();
    let (&first, _) = bytes.split_first().ok_or(PacketError::EmptyPacket)?;
    let (packet_type, binary) = match first {
        b'0' => (PacketType::Connect, false),
        b'1' => (PacketType::Disconnect, false),
        b'2' => (PacketType::Event, false),
        b'3' => (PacketType::Ack, false),
        b'4' => (PacketType::ConnectError, false),
        b'5' => (PacketType::Event, true),
        b'6' => (PacketType::Ack, true),
        other => return Err(PacketError::UnknownPacketType(other)),
    };
    let mut at = 1;

    let mut announced = 0;
    if binary {
        let (count, digits) = leading_number(bytes.get(at..).unwrap_or_default());
        at += digits;
        if digits == 0 || bytes.get(at) != Some(&b'-') {
            return Err(PacketError::MalformedAttachmentCount);
        }
        at += 1;
        announced = match count.map(usize::try_from) {
            Some(Ok(0)) => return Err(PacketError::NoAttachments),
            Some(Ok(count)) if count <= limits.max_attachments => count,
            _ => {
                return Err(PacketError::TooManyAttachments {
                    limit: limits.max_attachments,
                });
            }
        };
    }

    let mut namespace = MAIN_NAMESPACE;
    if bytes.get(at) == Some(&b'/') {
        let rest = text.get(at..).unwrap_or_default();
        let end = rest.find(',').unwrap_or(rest.len());
        namespace = rest.get(..end).unwrap_or_default();
        // Past the comma, if there is one.
        at += (end + 1).min(rest.len());
    }

    let (id, digits) = leading_number(bytes.get(at..).unwrap_or_default());
    let id = match digits {
        0 => None,
        _ => Some(id.ok_or(PacketError::AckIdOverflow)?),
    };
    at += digits;

    let data = match text.get(at..).filter(|json| !json.is_empty()) {
        None => None,
        Some(json) => {
            let value =
                serde_json::from_str::<Value>(json).map_err(|error| PacketError::InvalidJson {
                    line: error.line(),
                    column: error.column(),
                })?;
            Some(Data::from(value))
        }
    };
    check_payload(packet_type, data.as_ref())?;
    if let Some(data) = &data
        && binary
    {
        data.check_placeholders(announced)?;
    }
    let packet = Packet {
        packet_type,
        namespace: namespace.to_owned(),
        id,
        data,
    };
    Ok((packet, announced))
}

/// The decimal number the bytes start with (`None` if it overflows a `u64`) and how many
/// digits it has.
fn leading_number(bytes: &[u8]) -> (Option<u64>, usize) {
    let digits = bytes
        .iter()
        .take_while(|byte| byte.is_ascii_digit())
        .count();
    let number = bytes.iter().take(digits).try_fold(0u64, |number, digit| {
        number.checked_mul(10)?.checked_add(u64::from(digit - b'0'))
    });
    (number, digits)
}

/// Checks that `data` is a payload `packet_type` allows (socket.io-parser's
/// `isPayloadValid`, with the EVENT and ACK payloads mandatory as the document says).
fn check_payload(packet_type: PacketType, data: Option<&Data>) -> Result<(), PacketError> {
    match (packet_type, data) {
        (PacketType::Connect, None | Some(Data::Object(_))) => Ok(()),
        (PacketType::Connect, Some(_)) => Err(PacketError::ConnectPayloadNotObject),
        (PacketType::Disconnect, None) => Ok(()),
        (PacketType::Disconnect, Some(_)) => Err(PacketError::DisconnectWithPayload),
        (PacketType::ConnectError, Some(Data::Object(_) | Data::String(_))) => Ok(()),
        (PacketType::ConnectError, Some(_)) => Err(PacketError::InvalidConnectErrorPayload),
        (PacketType::Event | PacketType::Ack | PacketType::ConnectError, None) => {
            Err(PacketError::MissingPayload(packet_type))
        }
        (PacketType::Event | PacketType::Ack, Some(data)) => {
            let Data::Array(items) = data else {
                return Err(PacketError::PayloadNotArray(packet_type));
            };
            if packet_type == PacketType::Ack {
                return Ok(());
            }
            match items.first() {
                Some(Data::Number(_)) => Ok(()),
                Some(Data::String(name)) if RESERVED_EVENT_NAMES.contains(&name.as_str()) => {
                    Err(PacketError::ReservedEventName(name.clone()))
                }
                Some(Data::String(_)) => Ok(()),
                _ => Err(PacketError::MissingEventName),
            }
        }
    }
}

/// What is wrong with a Socket.IO packet, received or to be sent. The reference answers
/// every one it checks by closing the connection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PacketError {
    /// An empty text part.
    #[error("empty Socket.IO packet")]
    EmptyPacket,
    /// The first byte is not a type digit `0`-`6`.
    #[error("unknown Socket.IO packet type {0:#04x}")]
    UnknownPacketType(u8),
    /// A BINARY_EVENT or BINARY_ACK without its count: decimal digits and a `-`.
    #[error("malformed attachment count")]
    MalformedAttachmentCount,
    /// A BINARY_EVENT or BINARY_ACK announcing 0 attachments.
    #[error("a binary packet announcing no attachment")]
    NoAttachments,
    /// A packet announcing more than
    /// [`max_attachments`](AttachmentLimits::max_attachments) attachments.
    #[error("more than {limit} attachments announced")]
    TooManyAttachments {
        /// The limit.
        limit: usize,
    },
    /// An ack id too large for a `u64`.
    #[error("ack id out of range")]
    AckIdOverflow,
    /// The payload is not JSON (or JSON followed by something else).
    #[error("invalid JSON payload at line {line}, column {column}")]
    InvalidJson {
        /// The line of the error in the payload, from 1.
        line: usize,
        /// The column of the error in that line, from 1.
        column: usize,
    },
    /// A CONNECT whose payload is not an object.
    #[error("CONNECT payload that is not an object")]
    ConnectPayloadNotObject,
    /// A DISCONNECT with a payload.
    #[error("DISCONNECT with a payload")]
    DisconnectWithPayload,
    /// A CONNECT_ERROR whose payload is neither an object nor a string.
    #[error("CONNECT_ERROR payload that is neither an object nor a string")]
    InvalidConnectErrorPayload,
    /// An EVENT, ACK or CONNECT_ERROR without a payload.
    #[error("{0:?} packet without a payload")]
    MissingPayload(PacketType),
    /// An EVENT or ACK whose payload is not an array.
    #[error("{0:?} payload that is not an array")]
    PayloadNotArray(PacketType),
    /// An EVENT whose array is empty or starts with something other than a string or a
    /// number.
    #[error("EVENT without an event name")]
    MissingEventName,
    /// An EVENT named by one of [`RESERVED_EVENT_NAMES`].
    #[error("reserved event name {0:?}")]
    ReservedEventName(String),
    /// A placeholder whose `num` is not a non-negative integer.
    #[error("placeholder without a valid attachment number")]
    InvalidPlaceholder,
    /// A placeholder numbering an attachment the packet did not announce.
    #[error("placeholder for attachment {num} of a packet announcing {attachments}")]
    PlaceholderOutOfRange {
        /// The placeholder's `num`.
        num: u64,
        /// The attachments the packet announced.
        attachments: usize,
    },
    /// A binary part when no packet awaits an attachment.
    #[error("binary part when no attachment is awaited")]
    UnexpectedAttachment,
    /// A text part while a packet still awaits attachments.
    #[error("text part while {awaiting} attachments are awaited")]
    UnexpectedText {
        /// The attachments still awaited.
        awaiting: usize,
    },
    /// A packet's attachments add up to more than
    /// [`max_attachment_bytes`](AttachmentLimits::max_attachment_bytes).
    #[error("attachments longer than {limit} bytes")]
    AttachmentsTooLarge {
        /// The limit.
        limit: usize,
    },
    /// A namespace to send that does not start with `/` or holds a `,`.
    #[error("invalid namespace {0:?}")]
    InvalidNamespace(String),
    /// A binary value in a packet of a type that cannot carry attachments.
    #[error("binary data in a {0:?} packet")]
    BinaryNotAllowed(PacketType),
    /// A packet to send with attachments holds an object with `"_placeholder": true`,
    /// which the peer would take for a placeholder.
    #[error("an object shaped like a placeholder in a packet with attachments")]
    AmbiguousPlaceholder,
}

#[cfg(test)]
#[allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]
mod tests;
