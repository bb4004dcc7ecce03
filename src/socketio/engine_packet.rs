//! Engine.IO v4 packets ([`EnginePacket`]) and their two encodings: one packet per
//! WebSocket message, and the HTTP long-polling payload, packets joined by the record
//! separator `0x1E` ([`PayloadDecoder`], [`encode_payload`]).
//!
//! Written to docs/engine.io-protocol/v4-current.md of the socket.io repository, with the
//! edge cases of engine.io-parser (`decodePacket`, `decodePayload`, `encodePayload`); the
//! rules are on [`EnginePacket`] and [`PayloadDecoder`].

// Input reaches this module: no indexing, unwrap, expect or panic that it could trigger.
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::{Bytes, BytesMut};

use crate::{Message, Text};

/// The record separator that joins the packets of a long-polling payload.
const RECORD_SEPARATOR: u8 = 0x1E;
/// The prefix of a base64-encoded binary message in a payload (or a text frame).
const BINARY_PREFIX: u8 = b'b';

/// The type of an Engine.IO packet, sent as its decimal digit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EnginePacketType {
    /// `0`: the handshake, from the server: `sid`, `upgrades`, `pingInterval`,
    /// `pingTimeout` and `maxPayload` as JSON.
    Open = 0,
    /// `1`: the transport can be closed.
    Close = 1,
    /// `2`: the heartbeat, from the server (and `2probe` from a client testing an upgrade).
    Ping = 2,
    /// `3`: the answer to a ping (`3probe` to a probe).
    Pong = 3,
    /// `4`: data for the layer above (Socket.IO packets travel in these).
    Message = 4,
    /// `5`: the client completes an upgrade to WebSocket.
    Upgrade = 5,
    /// `6`: nothing, to end a pending long-polling `GET` during an upgrade.
    Noop = 6,
}

impl EnginePacketType {
    /// The ASCII digit that starts the packet on the wire (`b'0'` to `b'6'`).
    pub fn digit(self) -> u8 {
        b'0' + self as u8
    }

    /// The type a digit stands for, if it is `0` to `6`.
    pub fn from_digit(digit: u8) -> Option<EnginePacketType> {
        Some(match digit {
            b'0' => EnginePacketType::Open,
            b'1' => EnginePacketType::Close,
            b'2' => EnginePacketType::Ping,
            b'3' => EnginePacketType::Pong,
            b'4' => EnginePacketType::Message,
            b'5' => EnginePacketType::Upgrade,
            b'6' => EnginePacketType::Noop,
            _ => return None,
        })
    }
}

/// One Engine.IO packet.
///
/// - A packet is `<type digit>[<data>]`, the type `0`-`6`; `b<base64>` is a binary
///   message. Anything else, the empty packet included, is refused (the reference's
///   "parser error").
/// - Over WebSocket, a text message holds one packet; a binary message is a binary
///   packet, its bytes as they are (no type byte in v4). A text message `b<base64>` is a
///   binary packet too, as the reference decodes it.
///
/// Any type may carry text data (the reference decoder keeps whatever follows the digit,
/// empty when nothing does); binary data is only ever a message, so it has a variant of
/// its own and a binary packet of another type cannot be built.
///
/// ```
/// use rfc6455::Message;
/// use rfc6455::socketio::{EnginePacket, EnginePacketType};
///
/// let ping = EnginePacket::decode_websocket(Message::from("2probe"))?;
/// assert_eq!(ping, EnginePacket::text(EnginePacketType::Ping, "probe"));
/// let pong = EnginePacket::text(EnginePacketType::Pong, "probe");
/// assert_eq!(pong.encode_websocket(), Message::from("3probe"));
/// let binary = EnginePacket::decode_websocket(Message::from(vec![1u8, 2]))?;
/// assert_eq!(binary, EnginePacket::binary(vec![1, 2]));
/// # Ok::<(), rfc6455::socketio::EngineError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnginePacket {
    /// A packet with text data (possibly empty): `<digit><data>` on the wire.
    Text {
        /// The packet type.
        packet_type: EnginePacketType,
        /// What follows the digit.
        data: Text,
    },
    /// A message with binary data: a binary WebSocket frame, or `b<base64>` in a payload.
    Binary(Bytes),
}

impl EnginePacket {
    /// A packet of `packet_type` with text `data` (`""` for none, as in `EnginePacket::text(Ping, "")`).
    pub fn text(packet_type: EnginePacketType, data: impl Into<Text>) -> EnginePacket {
        EnginePacket::Text {
            packet_type,
            data: data.into(),
        }
    }

    /// A binary message.
    pub fn binary(data: impl Into<Bytes>) -> EnginePacket {
        EnginePacket::Binary(data.into())
    }

    /// The packet's type ([`EnginePacketType::Message`] for binary data).
    pub fn packet_type(&self) -> EnginePacketType {
        match self {
            EnginePacket::Text { packet_type, .. } => *packet_type,
            EnginePacket::Binary(_) => EnginePacketType::Message,
        }
    }

    /// The packet one WebSocket message holds. A binary message is a binary packet
    /// whatever its bytes (never an error); a text message is decoded as
    /// [`EnginePacket::decode_text`] does.
    pub fn decode_websocket(message: Message) -> Result<EnginePacket, EngineError> {
        match message {
            Message::Text(text) => EnginePacket::decode_text(text),
            Message::Binary(bytes) => Ok(EnginePacket::Binary(bytes)),
        }
    }

    /// The packet a text holds: `<digit><data>`, or `b<base64>` for binary data. The data
    /// is shared with `text`, not copied. Refused: the empty text
    /// ([`EngineError::EmptyPacket`]), a first byte other than `0`-`6` and `b`
    /// ([`EngineError::UnknownPacketType`]), base64 that is not canonical standard base64
    /// with padding ([`EngineError::InvalidBase64`]).
    pub fn decode_text(text: Text) -> Result<EnginePacket, EngineError> {
        let bytes = text.into_bytes();
        let (&first, rest) = bytes.split_first().ok_or(EngineError::EmptyPacket)?;
        if first == BINARY_PREFIX {
            let decoded = STANDARD
                .decode(rest)
                .map_err(|_| EngineError::InvalidBase64)?;
            return Ok(EnginePacket::Binary(Bytes::from(decoded)));
        }
        let packet_type =
            EnginePacketType::from_digit(first).ok_or(EngineError::UnknownPacketType(first))?;
        Ok(EnginePacket::Text {
            packet_type,
            // Only an ASCII digit was cut off: the rest is still valid UTF-8.
            data: Text::from_validated(bytes.slice(1..)),
        })
    }

    /// The WebSocket message that carries this packet: a text message `<digit><data>`, or
    /// the binary data itself as a binary message (shared, not copied).
    pub fn encode_websocket(&self) -> Message {
        match self {
            EnginePacket::Text { packet_type, data } => {
                let mut encoded = Vec::with_capacity(1 + data.len());
                encoded.push(packet_type.digit());
                encoded.extend_from_slice(data.as_bytes());
                Message::Text(Text::from_validated(Bytes::from(encoded)))
            }
            EnginePacket::Binary(bytes) => Message::Binary(bytes.clone()),
        }
    }

    /// The packet's length in a payload, separator excluded.
    fn payload_len(&self) -> usize {
        match self {
            EnginePacket::Text { data, .. } => 1 + data.len(),
            EnginePacket::Binary(bytes) => 1 + base64::encoded_len(bytes.len(), true).unwrap_or(0),
        }
    }
}

/// Appends the long-polling payload of `packets` to `out`: each packet as
/// `<digit><data>`, binary ones as `b` + base64, joined by `0x1E`. An empty list writes
/// nothing (which no decoder takes back: there is no empty payload).
///
/// A text holding `0x1E` is refused ([`EngineError::RecordSeparatorInText`]) before
/// anything is written, since it would split into two packets on the other side (the
/// protocol assumes the separator never appears in data; JSON escapes it).
pub fn encode_payload(packets: &[EnginePacket], out: &mut Vec<u8>) -> Result<(), EngineError> {
    let mut len = packets.len().saturating_sub(1);
    for packet in packets {
        if let EnginePacket::Text { data, .. } = packet
            && data.as_bytes().contains(&RECORD_SEPARATOR)
        {
            return Err(EngineError::RecordSeparatorInText);
        }
        len += packet.payload_len();
    }
    out.reserve(len);
    for (index, packet) in packets.iter().enumerate() {
        if index > 0 {
            out.push(RECORD_SEPARATOR);
        }
        match packet {
            EnginePacket::Text { packet_type, data } => {
                out.push(packet_type.digit());
                out.extend_from_slice(data.as_bytes());
            }
            EnginePacket::Binary(bytes) => {
                out.push(BINARY_PREFIX);
                let start = out.len();
                out.resize(start + packet.payload_len() - 1, 0);
                let written = out
                    .get_mut(start..)
                    .and_then(|tail| STANDARD.encode_slice(bytes, tail).ok());
                // The tail was sized for the encoding, so `written` is all of it.
                out.truncate(start + written.unwrap_or(0));
            }
        }
    }
    Ok(())
}

/// The bounds of a long-polling payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PayloadLimits {
    /// The most bytes one payload may have (the reference server's `maxHttpBufferSize`,
    /// which it also announces as `maxPayload` in the handshake). Default 1,000,000, the
    /// reference's default.
    pub max_payload_bytes: usize,
    /// The most packets one payload may hold. The reference sets no such bound (only the
    /// bytes); this one caps the work and the packet list of one request far above what a
    /// client batches between two polls. Default 10,000.
    pub max_packets: usize,
}

impl Default for PayloadLimits {
    fn default() -> PayloadLimits {
        PayloadLimits {
            max_payload_bytes: 1_000_000,
            max_packets: 10_000,
        }
    }
}

/// A long-polling payload being decoded: feed it the request body in pieces of any size
/// ([`PayloadDecoder::decode`]), then say where the body ends ([`PayloadDecoder::finish`]).
///
/// A payload is packets joined by the record separator `0x1E`, binary ones as `b` + base64
/// (standard alphabet, padded), each one as [`EnginePacket::decode_text`] reads it. Since
/// the separator only separates, an empty payload and a leading, doubled or trailing
/// separator each make an empty packet, which is refused.
///
/// ```
/// use rfc6455::socketio::{EnginePacket, EnginePacketType, PayloadDecoder, PayloadLimits, encode_payload};
///
/// let mut decoder = PayloadDecoder::new(PayloadLimits::default());
/// let mut packets = Vec::new();
/// decoder.decode(b"4hello\x1eb", &mut packets)?; // a request body, as it arrives
/// decoder.decode(b"AQIDBA==", &mut packets)?;
/// decoder.finish(&mut packets)?;
/// let message = EnginePacket::text(EnginePacketType::Message, "hello");
/// assert_eq!(packets, [message, EnginePacket::binary(vec![1, 2, 3, 4])]);
///
/// let mut body = Vec::new();
/// encode_payload(&packets, &mut body)?;
/// assert_eq!(body, b"4hello\x1ebAQIDBA==");
/// # Ok::<(), rfc6455::socketio::EngineError>(())
/// ```
///
/// Each packet is handed out as soon as the separator after it arrives; its data shares one
/// buffer with the others, without a copy per packet. The outcome is the same for every
/// split of the payload: the same packets, and the same error after the same packets.
/// Packets decoded before an error are left in the list, as the reference hands them on
/// before its parser error (after which the session is closed). After an error, every
/// call returns that error again.
#[derive(Debug, Clone)]
pub struct PayloadDecoder {
    limits: PayloadLimits,
    /// The bytes of the packet being read.
    current: BytesMut,
    /// Payload bytes taken so far.
    received: usize,
    /// Separators seen so far: the payload has at least one packet more.
    separators: usize,
    failed: Option<EngineError>,
}

impl PayloadDecoder {
    /// A decoder for one payload within `limits`.
    pub fn new(limits: PayloadLimits) -> PayloadDecoder {
        PayloadDecoder {
            limits,
            current: BytesMut::new(),
            received: 0,
            separators: 0,
            failed: None,
        }
    }

    /// Decodes the next piece of the payload, appending each packet it completes to
    /// `packets`. Refused: a payload growing past
    /// [`max_payload_bytes`](PayloadLimits::max_payload_bytes) (at the byte that crosses
    /// it, [`EngineError::PayloadTooLarge`]), a separator that starts a packet past
    /// [`max_packets`](PayloadLimits::max_packets) ([`EngineError::TooManyPackets`]), a
    /// packet that is not UTF-8 ([`EngineError::InvalidUtf8`]), and what
    /// [`EnginePacket::decode_text`] refuses.
    pub fn decode(
        &mut self,
        chunk: &[u8],
        packets: &mut Vec<EnginePacket>,
    ) -> Result<(), EngineError> {
        self.run(|decoder| decoder.take(chunk, packets))
    }

    /// Ends the payload (the body is complete) and appends its last packet.
    pub fn finish(mut self, packets: &mut Vec<EnginePacket>) -> Result<(), EngineError> {
        self.run(|decoder| {
            // Only a limit of zero packets is crossed here: separators stay below the limit.
            if decoder.separators >= decoder.limits.max_packets {
                return Err(decoder.too_many_packets());
            }
            decoder.end_packet(packets)
        })
    }

    /// Runs `step` unless an error came before, and remembers the error it returns.
    fn run(
        &mut self,
        step: impl FnOnce(&mut PayloadDecoder) -> Result<(), EngineError>,
    ) -> Result<(), EngineError> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        let result = step(self);
        if let Err(error) = &result {
            self.failed = Some(error.clone());
        }
        result
    }

    fn take(&mut self, chunk: &[u8], packets: &mut Vec<EnginePacket>) -> Result<(), EngineError> {
        let room = self.limits.max_payload_bytes.saturating_sub(self.received);
        let within = chunk.get(..room).unwrap_or(chunk);
        self.received += within.len();
        // One buffer for every packet of the chunk (the separators are not kept).
        self.current.reserve(within.len());
        let mut pieces = within.split(|&byte| byte == RECORD_SEPARATOR);
        if let Some(first) = pieces.next() {
            self.current.extend_from_slice(first);
        }
        for piece in pieces {
            self.end_packet(packets)?;
            self.separators += 1;
            // The separator starts packet number `separators + 1`.
            if self.separators >= self.limits.max_packets {
                return Err(self.too_many_packets());
            }
            self.current.extend_from_slice(piece);
        }
        if within.len() < chunk.len() {
            return Err(EngineError::PayloadTooLarge {
                limit: self.limits.max_payload_bytes,
            });
        }
        Ok(())
    }

    fn too_many_packets(&self) -> EngineError {
        EngineError::TooManyPackets {
            limit: self.limits.max_packets,
        }
    }

    /// The packet in `current` is complete: decodes it.
    fn end_packet(&mut self, packets: &mut Vec<EnginePacket>) -> Result<(), EngineError> {
        let bytes = self.current.split().freeze();
        let text = Text::from_utf8(bytes).map_err(|_| EngineError::InvalidUtf8)?;
        packets.push(EnginePacket::decode_text(text)?);
        Ok(())
    }
}

/// Decodes a whole long-polling payload at once (see [`PayloadDecoder`]).
pub fn decode_payload(
    payload: &[u8],
    limits: PayloadLimits,
) -> Result<Vec<EnginePacket>, EngineError> {
    let mut decoder = PayloadDecoder::new(limits);
    let mut packets = Vec::new();
    decoder.decode(payload, &mut packets)?;
    decoder.finish(&mut packets)?;
    Ok(packets)
}

/// What is wrong with an Engine.IO packet or payload. Each is the reference's "parser
/// error" (it closes the session), told apart.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// A packet with no byte at all: an empty text frame or payload, or a leading, doubled
    /// or trailing separator in a payload.
    #[error("empty Engine.IO packet")]
    EmptyPacket,
    /// The packet starts with a byte other than a type digit `0`-`6` or the binary prefix `b`.
    #[error("unknown Engine.IO packet type {0:#04x}")]
    UnknownPacketType(u8),
    /// The data after `b` is not standard base64 with canonical padding.
    #[error("invalid base64 in a binary Engine.IO packet")]
    InvalidBase64,
    /// A packet of a long-polling payload is not UTF-8 text.
    #[error("an Engine.IO payload packet is not valid UTF-8")]
    InvalidUtf8,
    /// A long-polling payload is longer than
    /// [`max_payload_bytes`](PayloadLimits::max_payload_bytes).
    #[error("Engine.IO payload longer than {limit} bytes")]
    PayloadTooLarge {
        /// The limit.
        limit: usize,
    },
    /// A long-polling payload holds more than [`max_packets`](PayloadLimits::max_packets)
    /// packets.
    #[error("Engine.IO payload with more than {limit} packets")]
    TooManyPackets {
        /// The limit.
        limit: usize,
    },
    /// A text packet to encode in a payload holds the record separator `0x1E`.
    #[error("the record separator 0x1e in the text of a payload packet")]
    RecordSeparatorInText,
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
    use EnginePacketType::*;
    use proptest::prelude::*;

    fn text(packet_type: EnginePacketType, data: &str) -> EnginePacket {
        EnginePacket::text(packet_type, data)
    }

    fn limits(max_payload_bytes: usize, max_packets: usize) -> PayloadLimits {
        PayloadLimits {
            max_payload_bytes,
            max_packets,
        }
    }

    /// Decodes `payload` in the given pieces, returning the packets decoded and the error
    /// that stopped the decoding, if one did.
    fn decode_pieces(
        pieces: &[&[u8]],
        limits: PayloadLimits,
    ) -> (Vec<EnginePacket>, Option<EngineError>) {
        let mut decoder = PayloadDecoder::new(limits);
        let mut packets = Vec::new();
        for piece in pieces {
            if let Err(error) = decoder.decode(piece, &mut packets) {
                return (packets, Some(error));
            }
        }
        let error = decoder.finish(&mut packets).err();
        (packets, error)
    }

    /// The outcome of decoding `payload` whole, after checking that it is the same for
    /// every split into two pieces and for one byte at a time.
    fn decode_every_split(
        payload: &[u8],
        limits: PayloadLimits,
    ) -> (Vec<EnginePacket>, Option<EngineError>) {
        let whole = decode_pieces(&[payload], limits);
        for split in 0..=payload.len() {
            let (first, second) = payload.split_at(split);
            assert_eq!(
                decode_pieces(&[first, second], limits),
                whole,
                "{payload:?} split at {split}"
            );
        }
        let bytes: Vec<&[u8]> = payload.chunks(1).collect();
        assert_eq!(
            decode_pieces(&bytes, limits),
            whole,
            "{payload:?} byte by byte"
        );
        whole
    }

    fn encode(packets: &[EnginePacket]) -> Vec<u8> {
        let mut out = Vec::new();
        encode_payload(packets, &mut out).unwrap();
        out
    }

    #[test]
    fn the_long_polling_examples_of_the_protocol_document() {
        // "4hello\x1e2\x1e4world": message "hello", ping, message "world".
        let payload = b"4hello\x1e2\x1e4world";
        let packets = vec![
            text(Message, "hello"),
            text(Ping, ""),
            text(Message, "world"),
        ];
        assert_eq!(
            decode_every_split(payload, PayloadLimits::default()),
            (packets.clone(), None)
        );
        assert_eq!(encode(&packets), payload);
        // "4hello\x1ebAQIDBA==": message "hello", then the buffer <01 02 03 04> as base64.
        let payload = b"4hello\x1ebAQIDBA==";
        let packets = vec![
            text(Message, "hello"),
            EnginePacket::binary(vec![1, 2, 3, 4]),
        ];
        assert_eq!(
            decode_every_split(payload, PayloadLimits::default()),
            (packets.clone(), None)
        );
        assert_eq!(encode(&packets), payload);
    }

    #[test]
    fn the_websocket_examples_of_the_protocol_document() {
        // "4hello" in a text frame; binary payloads sent as is.
        assert_eq!(
            EnginePacket::decode_websocket(crate::Message::from("4hello")),
            Ok(text(Message, "hello"))
        );
        assert_eq!(
            text(Message, "hello").encode_websocket(),
            crate::Message::from("4hello")
        );
        let binary = crate::Message::from(vec![1u8, 2, 3, 4]);
        assert_eq!(
            EnginePacket::decode_websocket(binary.clone()),
            Ok(EnginePacket::binary(vec![1, 2, 3, 4]))
        );
        assert_eq!(
            EnginePacket::binary(vec![1, 2, 3, 4]).encode_websocket(),
            binary
        );
        // The heartbeat ("2", "3") and the upgrade ("2probe", "3probe", "5"), and the open
        // packet of the sample session.
        let frames = [
            ("2", text(Ping, "")),
            ("3", text(Pong, "")),
            ("2probe", text(Ping, "probe")),
            ("3probe", text(Pong, "probe")),
            ("5", text(Upgrade, "")),
            ("6", text(Noop, "")),
            ("1", text(Close, "")),
            (
                r#"0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":5000,"maxPayload":1000000}"#,
                text(
                    Open,
                    r#"{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":5000,"maxPayload":1000000}"#,
                ),
            ),
        ];
        for (frame, packet) in frames {
            assert_eq!(
                EnginePacket::decode_websocket(crate::Message::from(frame)),
                Ok(packet.clone())
            );
            assert_eq!(packet.encode_websocket(), crate::Message::from(frame));
        }
    }

    #[test]
    fn every_type_digit_round_trips_and_carries_data() {
        for packet_type in [Open, Close, Ping, Pong, Message, Upgrade, Noop] {
            assert_eq!(
                EnginePacketType::from_digit(packet_type.digit()),
                Some(packet_type)
            );
            let packet = text(packet_type, "data é");
            assert_eq!(packet.packet_type(), packet_type);
            let frame = packet.encode_websocket();
            assert_eq!(frame.as_bytes()[0], b'0' + packet_type as u8);
            assert_eq!(EnginePacket::decode_websocket(frame), Ok(packet));
        }
        assert_eq!(EnginePacketType::from_digit(b'7'), None);
        assert_eq!(EnginePacket::binary(Bytes::new()).packet_type(), Message);
    }

    #[test]
    fn binary_in_a_text_frame_is_a_base64_message_as_in_the_reference() {
        assert_eq!(
            EnginePacket::decode_text(Text::from("bAQIDBA==")),
            Ok(EnginePacket::binary(vec![1, 2, 3, 4]))
        );
        assert_eq!(
            EnginePacket::decode_text(Text::from("b")),
            Ok(EnginePacket::binary(Bytes::new()))
        );
        // An empty binary frame is an empty binary message.
        assert_eq!(
            EnginePacket::decode_websocket(crate::Message::from(Vec::new())),
            Ok(EnginePacket::binary(Bytes::new()))
        );
    }

    #[test]
    fn malformed_packets_are_refused_with_their_cause() {
        let cases: [(&str, EngineError); 10] = [
            ("", EngineError::EmptyPacket),
            ("7", EngineError::UnknownPacketType(b'7')),
            ("x4", EngineError::UnknownPacketType(b'x')),
            (" 4", EngineError::UnknownPacketType(b' ')),
            ("é", EngineError::UnknownPacketType(0xC3)),
            ("B", EngineError::UnknownPacketType(b'B')),
            ("bAQIDBA", EngineError::InvalidBase64), // no padding
            ("bAQIDBA=", EngineError::InvalidBase64), // short padding
            ("bAQ-DBA==", EngineError::InvalidBase64), // URL-safe alphabet
            ("bAR==", EngineError::InvalidBase64),   // non-canonical trailing bits
        ];
        for (input, error) in cases {
            assert_eq!(
                EnginePacket::decode_text(Text::from(input)),
                Err(error.clone()),
                "{input:?}"
            );
            assert_eq!(
                decode_every_split(input.as_bytes(), PayloadLimits::default()),
                (Vec::new(), Some(error)),
                "{input:?} as a payload"
            );
        }
    }

    #[test]
    fn malformed_payloads_keep_the_packets_before_the_error() {
        let cases: [(&[u8], usize, EngineError); 7] = [
            (b"4a\x1e", 1, EngineError::EmptyPacket),
            (b"\x1e4a", 0, EngineError::EmptyPacket),
            (b"4a\x1e\x1e4b", 1, EngineError::EmptyPacket),
            (b"\x1e", 0, EngineError::EmptyPacket),
            (b"4a\x1e4\xff\x1e4b", 1, EngineError::InvalidUtf8),
            (b"4a\x1e9\x1e4b", 1, EngineError::UnknownPacketType(b'9')),
            (b"4a\x1e2\x1ebAQ=\x1e4b", 2, EngineError::InvalidBase64),
        ];
        for (payload, kept, error) in cases {
            let (packets, got) = decode_every_split(payload, PayloadLimits::default());
            assert_eq!(
                (packets.len(), got),
                (kept, Some(error)),
                "{payload:?}: {packets:?}"
            );
        }
        // A multi-byte character split between two pieces is still one character.
        let (packets, error) = decode_every_split("4é€\x1e4ü".as_bytes(), PayloadLimits::default());
        assert_eq!(
            (packets, error),
            (vec![text(Message, "é€"), text(Message, "ü")], None)
        );
    }

    #[test]
    fn a_decoder_that_failed_keeps_failing_with_the_same_error() {
        let mut decoder = PayloadDecoder::new(PayloadLimits::default());
        let mut packets = Vec::new();
        assert_eq!(
            decoder.decode(b"x\x1e", &mut packets),
            Err(EngineError::UnknownPacketType(b'x'))
        );
        assert_eq!(
            decoder.decode(b"4ok", &mut packets),
            Err(EngineError::UnknownPacketType(b'x'))
        );
        assert_eq!(
            decoder.finish(&mut packets),
            Err(EngineError::UnknownPacketType(b'x'))
        );
        assert!(packets.is_empty());
    }

    #[test]
    fn the_payload_size_limit_is_crossed_by_one_byte() {
        let payload = b"4hello\x1e4world"; // 13 bytes
        let at_limit = decode_every_split(payload, limits(13, 10));
        assert_eq!(
            at_limit,
            (vec![text(Message, "hello"), text(Message, "world")], None)
        );
        // One byte short: refused at the byte that crosses, after the packets before it.
        let (packets, error) = decode_every_split(payload, limits(12, 10));
        assert_eq!(
            (packets, error),
            (
                vec![text(Message, "hello")],
                Some(EngineError::PayloadTooLarge { limit: 12 })
            )
        );
        // The bytes past the limit are not kept.
        let mut decoder = PayloadDecoder::new(limits(4, 10));
        let mut packets = Vec::new();
        assert!(decoder.decode(&[b'4'; 1 << 16], &mut packets).is_err());
        assert!(decoder.current.len() <= 4);
        assert_eq!(
            decode_payload(b"4\x1e4", limits(3, 10)),
            Ok(vec![text(Message, ""), text(Message, "")])
        );
    }

    #[test]
    fn the_packet_count_limit_is_crossed_by_one_packet() {
        let payload = b"2\x1e3\x1e4x"; // 3 packets
        let (packets, error) = decode_every_split(payload, limits(1000, 3));
        assert_eq!((packets.len(), error), (3, None));
        let (packets, error) = decode_every_split(payload, limits(1000, 2));
        assert_eq!(
            (packets.len(), error),
            (2, Some(EngineError::TooManyPackets { limit: 2 }))
        );
        assert_eq!(
            decode_payload(b"2", limits(1000, 0)),
            Err(EngineError::TooManyPackets { limit: 0 })
        );
        let many = b"6\x1e".repeat(10_000);
        assert_eq!(
            decode_payload(&many[..many.len() - 1], PayloadLimits::default()).map(|p| p.len()),
            Ok(10_000)
        );
        assert_eq!(
            decode_payload(&[&many[..], b"6"].concat(), PayloadLimits::default()),
            Err(EngineError::TooManyPackets { limit: 10_000 })
        );
    }

    #[test]
    fn encoding_refuses_a_separator_in_text_and_writes_nothing() {
        let mut out = b"kept".to_vec();
        assert_eq!(
            encode_payload(&[text(Message, "a"), text(Message, "b\x1ec")], &mut out),
            Err(EngineError::RecordSeparatorInText)
        );
        assert_eq!(out, b"kept");
        // An empty list is an empty payload, which is not a payload anyone decodes.
        encode_payload(&[], &mut out).unwrap();
        assert_eq!(out, b"kept");
        assert_eq!(
            decode_payload(b"", PayloadLimits::default()),
            Err(EngineError::EmptyPacket)
        );
    }

    #[test]
    fn payload_packets_share_the_decoded_buffer() {
        let mut decoder = PayloadDecoder::new(PayloadLimits::default());
        let mut packets = Vec::new();
        decoder
            .decode(b"4first\x1e4second\x1e", &mut packets)
            .unwrap();
        let [
            EnginePacket::Text { data: first, .. },
            EnginePacket::Text { data: second, .. },
        ] = &packets[..]
        else {
            panic!("{packets:?}")
        };
        // Slices of one buffer, the second's digit right after the first's data: one
        // copy of the chunk, not one per packet.
        let first_end = first.as_bytes().as_ptr() as usize + first.len();
        assert_eq!(first_end + 1, second.as_bytes().as_ptr() as usize);
    }

    fn any_packet() -> impl Strategy<Value = EnginePacket> {
        prop_oneof![
            (0u8..7, "[^\u{1e}]{0,12}").prop_map(|(digit, data)| EnginePacket::text(
                EnginePacketType::from_digit(b'0' + digit).unwrap(),
                data
            )),
            proptest::collection::vec(any::<u8>(), 0..12).prop_map(EnginePacket::binary),
        ]
    }

    proptest! {
        #[test]
        fn payloads_round_trip_whatever_the_split(
            packets in proptest::collection::vec(any_packet(), 1..8),
            cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..4),
        ) {
            let payload = encode(&packets);
            let mut cuts: Vec<usize> = cuts.iter().map(|cut| cut.index(payload.len() + 1)).collect();
            cuts.sort_unstable();
            let mut pieces = Vec::new();
            let mut start = 0;
            for cut in cuts.into_iter().chain([payload.len()]) {
                pieces.push(&payload[start..cut]);
                start = cut;
            }
            prop_assert_eq!(decode_pieces(&pieces, PayloadLimits::default()), (packets.clone(), None));
            for packet in packets {
                prop_assert_eq!(EnginePacket::decode_websocket(packet.encode_websocket()), Ok(packet));
            }
        }
    }
}
