//! The two codecs together: the protocol document's sample session, and Socket.IO packets
//! in long-polling payloads split anywhere.

use bytes::Bytes;
use serde_json::json;

use super::*;
use crate::Message;

/// What a run of Engine.IO packets carries: the Socket.IO packets of its messages, and the
/// other Engine.IO packets, in order.
#[derive(Debug, Clone, PartialEq)]
enum Received {
    SocketIo(Packet),
    Engine(EnginePacket),
}

fn receive(
    decoder: &mut PacketDecoder,
    packet: EnginePacket,
) -> Result<Option<Received>, PacketError> {
    Ok(match packet {
        EnginePacket::Text {
            packet_type: EnginePacketType::Message,
            data,
        } => decoder.receive_text(&data)?.map(Received::SocketIo),
        EnginePacket::Binary(bytes) => decoder.receive_binary(bytes)?.map(Received::SocketIo),
        other => Some(Received::Engine(other)),
    })
}

/// Decodes a long-polling payload fed in `pieces`, through both decoders.
fn receive_payload(pieces: &[&[u8]]) -> (Vec<Received>, Option<String>) {
    let mut payload = PayloadDecoder::new(PayloadLimits::default());
    let mut decoder = PacketDecoder::new(AttachmentLimits::default());
    let mut received = Vec::new();
    let mut engine_packets = Vec::new();
    let mut outcome = Ok(());
    for piece in pieces {
        outcome = payload.decode(piece, &mut engine_packets);
        if outcome.is_err() {
            break;
        }
    }
    if outcome.is_ok() {
        outcome = payload.finish(&mut engine_packets);
    }
    for packet in engine_packets {
        match receive(&mut decoder, packet) {
            Ok(packet) => received.extend(packet),
            Err(error) => return (received, Some(error.to_string())),
        }
    }
    (received, outcome.err().map(|error| error.to_string()))
}

fn event(namespace: &str, value: serde_json::Value) -> Received {
    Received::SocketIo(Packet {
        packet_type: PacketType::Event,
        namespace: namespace.to_owned(),
        id: None,
        data: Some(Data::from(value)),
    })
}

#[test]
fn the_sample_session_of_the_protocol_document() {
    let open = r#"{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":5000,"maxPayload":1000000}"#;
    let sid = |sid: &str| Some(Data::from(json!({ "sid": sid })));
    // Long-polling: the response and request bodies, each a payload.
    let open_body = format!("0{open}");
    let bodies: [(&[u8], Vec<Received>); 5] = [
        (
            open_body.as_bytes(),
            vec![Received::Engine(EnginePacket::text(
                EnginePacketType::Open,
                open,
            ))],
        ),
        (b"40", vec![Received::SocketIo(Packet::connect("/", None))]),
        (
            br#"40{"sid":"wZX3oN0bSVIhsaknAAAI"}"#,
            vec![Received::SocketIo(Packet::connect(
                "/",
                sid("wZX3oN0bSVIhsaknAAAI"),
            ))],
        ),
        (
            br#"42["hey","Jude"]"#,
            vec![event("/", json!(["hey", "Jude"]))],
        ),
        (
            b"42[\"hello\"]\x1e42[\"world\"]",
            vec![event("/", json!(["hello"])), event("/", json!(["world"]))],
        ),
    ];
    for (body, expected) in bodies {
        assert_eq!(receive_payload(&[body]), (expected, None), "{body:?}");
    }

    // WebSocket: one message per packet, the binary attachment in a message of its own.
    let attachment = Bytes::from_static(&[0xDE, 0xAD]);
    let frames: Vec<(Message, Option<Received>)> = vec![
        (
            Message::from("2probe"),
            Some(Received::Engine(EnginePacket::text(
                EnginePacketType::Ping,
                "probe",
            ))),
        ),
        (
            Message::from("3probe"),
            Some(Received::Engine(EnginePacket::text(
                EnginePacketType::Pong,
                "probe",
            ))),
        ),
        (
            Message::from("5"),
            Some(Received::Engine(EnginePacket::text(
                EnginePacketType::Upgrade,
                "",
            ))),
        ),
        (
            Message::from(r#"42["hello"]"#),
            Some(event("/", json!(["hello"]))),
        ),
        (
            Message::from(r#"42["world"]"#),
            Some(event("/", json!(["world"]))),
        ),
        (
            Message::from("40/admin,"),
            Some(Received::SocketIo(Packet::connect("/admin", None))),
        ),
        (
            Message::from(r#"40/admin,{"sid":"-G5j-67EZFp-q59rADQM"}"#),
            Some(Received::SocketIo(Packet::connect(
                "/admin",
                sid("-G5j-67EZFp-q59rADQM"),
            ))),
        ),
        (
            Message::from(r#"42/admin,1["tellme"]"#),
            Some(Received::SocketIo(
                Packet::event("/admin", "tellme", []).with_id(1),
            )),
        ),
        (
            Message::from(r#"461-/admin,1[{"_placeholder":true,"num":0}]"#),
            None,
        ),
        (
            Message::Binary(attachment.clone()),
            Some(Received::SocketIo(Packet::ack(
                "/admin",
                1,
                [Data::Binary(attachment)],
            ))),
        ),
        (
            Message::from("2"),
            Some(Received::Engine(EnginePacket::text(
                EnginePacketType::Ping,
                "",
            ))),
        ),
        (
            Message::from("3"),
            Some(Received::Engine(EnginePacket::text(
                EnginePacketType::Pong,
                "",
            ))),
        ),
        (
            Message::from("1"),
            Some(Received::Engine(EnginePacket::text(
                EnginePacketType::Close,
                "",
            ))),
        ),
    ];
    let mut decoder = PacketDecoder::new(AttachmentLimits::default());
    let mut sent = Vec::new();
    for (frame, expected) in &frames {
        let packet = EnginePacket::decode_websocket(frame.clone()).unwrap();
        let received = receive(&mut decoder, packet).unwrap();
        assert_eq!(&received, expected, "{frame:?}");
        // And what each side sends, encoded back, is the same frames.
        match received {
            Some(Received::SocketIo(packet)) => {
                let mut text = String::from("4");
                let attachments = packet.encode_into(&mut text).unwrap();
                sent.push(Message::from(text));
                sent.extend(attachments.into_iter().map(Message::Binary));
            }
            Some(Received::Engine(packet)) => sent.push(packet.encode_websocket()),
            None => {}
        }
    }
    let wire: Vec<Message> = frames.into_iter().map(|(frame, _)| frame).collect();
    assert_eq!(sent, wire);
}

#[test]
fn an_event_is_sent_as_a_message_packet() {
    // "{ type: EVENT, namespace: "/", data: ["foo"] } will be sent as 42["foo"]"
    let encoded = Packet::event("/", "foo", []).encode().unwrap();
    let packet = EnginePacket::text(EnginePacketType::Message, encoded.text);
    assert_eq!(packet.encode_websocket(), Message::from(r#"42["foo"]"#));
    let mut body = Vec::new();
    encode_payload(&[packet.clone(), packet], &mut body).unwrap();
    assert_eq!(body, b"42[\"foo\"]\x1e42[\"foo\"]");
}

#[test]
fn binary_packets_in_a_payload_decode_the_same_at_every_split() {
    let packets = [
        Packet::event("/", "baz", [Data::from(Bytes::from_static(&[1, 2, 3, 4]))]),
        Packet::ack("/admin", 13, [Data::from("x")]),
        Packet::event(
            "/admin",
            "two",
            [
                Data::from(Bytes::from_static(&[1, 2])),
                Data::from(Bytes::from_static(&[3, 4])),
            ],
        )
        .with_id(7),
    ];
    let mut engine_packets = Vec::new();
    for packet in &packets {
        let encoded = packet.encode().unwrap();
        engine_packets.push(EnginePacket::text(EnginePacketType::Message, encoded.text));
        engine_packets.extend(encoded.attachments.into_iter().map(EnginePacket::Binary));
    }
    engine_packets.push(EnginePacket::text(EnginePacketType::Ping, ""));
    let mut payload = Vec::new();
    encode_payload(&engine_packets, &mut payload).unwrap();
    assert_eq!(
        payload,
        b"451-[\"baz\",{\"_placeholder\":true,\"num\":0}]\x1ebAQIDBA==\x1e43/admin,13[\"x\"]\x1e\
          452-/admin,7[\"two\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]\
          \x1ebAQI=\x1ebAwQ=\x1e2"
    );
    let mut expected: Vec<Received> = packets.into_iter().map(Received::SocketIo).collect();
    expected.push(Received::Engine(EnginePacket::text(
        EnginePacketType::Ping,
        "",
    )));
    for split in 0..=payload.len() {
        let (first, second) = payload.split_at(split);
        assert_eq!(receive_payload(&[first, second]), (expected.clone(), None));
    }
    let bytes: Vec<&[u8]> = payload.chunks(1).collect();
    assert_eq!(receive_payload(&bytes), (expected, None));

    // A payload whose Socket.IO content is bad fails at the same packet for every split.
    let bad = b"42[\"a\"]\x1e451-[\"b\",{\"_placeholder\":true,\"num\":0}]\x1e42[\"c\"]";
    let whole = receive_payload(&[bad]);
    assert_eq!(
        whole,
        (
            vec![event("/", json!(["a"]))],
            Some(PacketError::UnexpectedText { awaiting: 1 }.to_string())
        )
    );
    for split in 0..=bad.len() {
        let (first, second) = bad.split_at(split);
        assert_eq!(receive_payload(&[first, second]), whole.clone());
    }
}
