//! Arbitrary bytes through the Socket.IO codecs: as a long-polling payload cut into
//! arbitrary chunks (`PayloadDecoder`), each chunk as a WebSocket message
//! (`EnginePacket::decode_websocket`), and the Engine.IO messages that come out, and the
//! chunks themselves, as text and binary parts into `PacketDecoder`.
//!
//! Asserts: no panic; the payload decoder gives the same packets and error for every split
//! as for the whole, never more packet bytes than its limit, and the packets it decodes
//! encode back to a payload that decodes to the same packets; every Engine.IO packet
//! encodes back to a WebSocket message that decodes to the same packet; every Socket.IO
//! packet decoded encodes (what we read, we can write), and its encoding decodes to the
//! same packet.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use rfc6455::Message;
use rfc6455::socketio::{
    AttachmentLimits, EngineError, EnginePacket, EnginePacketType, Packet, PacketDecoder,
    PayloadDecoder, PayloadLimits, encode_payload,
};
use rfc6455_fuzz::Chunked;

/// Small limits, so that fuzzing reaches them.
const PAYLOAD_LIMITS: PayloadLimits = PayloadLimits {
    max_payload_bytes: 4096,
    max_packets: 64,
};
const ATTACHMENT_LIMITS: AttachmentLimits = AttachmentLimits {
    max_attachments: 4,
    max_attachment_bytes: 1024,
};

/// The packets of a payload fed in `chunks`, and the error that stopped it, if one did.
fn decode_payload(chunks: &[&[u8]]) -> (Vec<EnginePacket>, Option<EngineError>) {
    let mut decoder = PayloadDecoder::new(PAYLOAD_LIMITS);
    let mut packets = Vec::new();
    for chunk in chunks {
        if let Err(error) = decoder.decode(chunk, &mut packets) {
            return (packets, Some(error));
        }
    }
    let error = decoder.finish(&mut packets).err();
    (packets, error)
}

/// A Socket.IO packet that came out of the decoder: it encodes, and its encoding decodes
/// to the same packet (with no limit, since a placeholder named twice is two attachments
/// when encoded).
fn check_round_trip(packet: &Packet) {
    let encoded = packet
        .encode()
        .unwrap_or_else(|error| panic!("{packet:?} decoded but does not encode: {error}"));
    let mut decoder = PacketDecoder::new(AttachmentLimits {
        max_attachments: usize::MAX,
        max_attachment_bytes: usize::MAX,
    });
    let mut decoded = decoder.receive_text(&encoded.text);
    for attachment in encoded.attachments {
        assert_eq!(decoded, Ok(None), "{packet:?}: out before its attachments");
        decoded = decoder.receive_binary(attachment);
    }
    assert_eq!(decoded, Ok(Some(packet.clone())), "{:?}", encoded.text);
}

/// Feeds a Socket.IO decoder one Engine.IO packet: messages are its parts.
fn feed(decoder: &mut PacketDecoder, packet: &EnginePacket) -> bool {
    let decoded = match packet {
        EnginePacket::Text {
            packet_type: EnginePacketType::Message,
            data,
        } => decoder.receive_text(data),
        EnginePacket::Binary(bytes) => decoder.receive_binary(bytes.clone()),
        EnginePacket::Text { .. } => return true,
    };
    match decoded {
        Ok(packet) => {
            if let Some(packet) = packet {
                check_round_trip(&packet);
            }
            true
        }
        Err(_) => false,
    }
}

fn check_websocket_round_trip(message: Message) {
    if let Ok(packet) = EnginePacket::decode_websocket(message) {
        assert_eq!(
            EnginePacket::decode_websocket(packet.encode_websocket()),
            Ok(packet.clone())
        );
    }
}

fuzz_target!(|input: &[u8]| {
    let chunked = Chunked::from_bytes(input);
    let chunks = chunked.chunks();

    // The payload decoder: the same outcome for every split, within its limits.
    let whole = decode_payload(&[&chunked.data[..]]);
    assert_eq!(
        whole,
        decode_payload(&chunks),
        "the same bytes, split differently"
    );
    let (packets, error) = whole;
    let data: usize = packets
        .iter()
        .map(|packet| match packet {
            EnginePacket::Text { data, .. } => data.len(),
            EnginePacket::Binary(bytes) => bytes.len(),
        })
        .sum();
    assert!(data <= PAYLOAD_LIMITS.max_payload_bytes);
    assert!(packets.len() <= PAYLOAD_LIMITS.max_packets);
    if error.is_none() {
        let mut payload = Vec::new();
        encode_payload(&packets, &mut payload).expect("decoded packets hold no separator");
        let unbounded = PayloadLimits {
            max_payload_bytes: usize::MAX,
            max_packets: usize::MAX,
        };
        assert_eq!(
            rfc6455::socketio::decode_payload(&payload, unbounded),
            Ok(packets.clone())
        );
    }

    // Its packets through a Socket.IO decoder, until one is refused.
    let mut decoder = PacketDecoder::new(ATTACHMENT_LIMITS);
    for packet in &packets {
        check_websocket_round_trip(packet.encode_websocket());
        if !feed(&mut decoder, packet) {
            break;
        }
    }

    // Each chunk as a WebSocket message, and as a Socket.IO part (text if it is UTF-8).
    let mut decoder = PacketDecoder::new(ATTACHMENT_LIMITS);
    for chunk in &chunks {
        check_websocket_round_trip(Message::from(*chunk));
        let part = match std::str::from_utf8(chunk) {
            Ok(text) => {
                check_websocket_round_trip(Message::from(text));
                decoder.receive_text(text)
            }
            Err(_) => decoder.receive_binary(Bytes::copy_from_slice(chunk)),
        };
        if let Ok(Some(packet)) = part {
            check_round_trip(&packet);
        }
    }
});
