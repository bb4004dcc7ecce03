use super::*;
use proptest::prelude::*;
use serde_json::json;
use std::collections::BTreeMap;

fn binary(bytes: &'static [u8]) -> Data {
    Data::from(Bytes::from_static(bytes))
}

fn json(value: Value) -> Data {
    Data::from(value)
}

fn packet(packet_type: PacketType, namespace: &str, data: Option<Data>, id: Option<u64>) -> Packet {
    Packet {
        packet_type,
        namespace: namespace.to_owned(),
        id,
        data,
    }
}

/// Feeds a text part and its attachments to a fresh decoder, checking that the packet
/// comes out with the last part and not before.
fn decode_parts(
    text: &str,
    attachments: &[Bytes],
    limits: AttachmentLimits,
) -> Result<Packet, PacketError> {
    let mut decoder = PacketDecoder::new(limits);
    let mut decoded = decoder.receive_text(text)?;
    for (index, attachment) in attachments.iter().enumerate() {
        assert_eq!(decoded, None, "{text}: a packet before its last attachment");
        assert_eq!(decoder.awaiting_attachments(), attachments.len() - index);
        decoded = decoder.receive_binary(attachment.clone())?;
    }
    assert_eq!(decoder.awaiting_attachments(), 0);
    Ok(decoded.unwrap_or_else(|| panic!("{text}: no packet after its parts")))
}

fn decode(text: &str) -> Result<Packet, PacketError> {
    decode_parts(text, &[], AttachmentLimits::default())
}

/// Checks that `packet` encodes to `text` and `attachments`, and decodes back from them.
fn assert_wire(packet: &Packet, text: &str, attachments: &[&'static [u8]]) {
    let attachments: Vec<Bytes> = attachments.iter().map(|b| Bytes::from_static(b)).collect();
    let encoded = packet.encode().unwrap();
    assert_eq!(encoded.text, text);
    assert_eq!(encoded.attachments, attachments, "{text}");
    assert_eq!(
        decode_parts(text, &attachments, AttachmentLimits::default()).as_ref(),
        Ok(packet),
        "{text}"
    );
}

#[test]
fn the_encoding_examples_of_the_protocol_document() {
    use PacketType::*;
    let cases: [(Packet, &str, &[&[u8]]); 12] = [
        // Connection to a namespace.
        (packet(Connect, "/", None, None), "0", &[]),
        (
            packet(
                Connect,
                "/admin",
                Some(json(json!({"sid": "oSO0OpakMV_3jnilAAAA"}))),
                None,
            ),
            r#"0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}"#,
            &[],
        ),
        (
            packet(
                ConnectError,
                "/",
                Some(json(json!({"message": "Not authorized"}))),
                None,
            ),
            r#"4{"message":"Not authorized"}"#,
            &[],
        ),
        // Sending and receiving data.
        (
            packet(Event, "/", Some(json(json!(["foo"]))), None),
            r#"2["foo"]"#,
            &[],
        ),
        (
            packet(Event, "/admin", Some(json(json!(["bar"]))), None),
            r#"2/admin,["bar"]"#,
            &[],
        ),
        (
            packet(
                Event,
                "/",
                Some(Data::Array(vec![Data::from("baz"), binary(&[1, 2, 3, 4])])),
                None,
            ),
            r#"51-["baz",{"_placeholder":true,"num":0}]"#,
            &[&[1, 2, 3, 4]],
        ),
        (
            packet(
                Event,
                "/admin",
                Some(Data::Array(vec![
                    Data::from("baz"),
                    binary(&[1, 2]),
                    binary(&[3, 4]),
                ])),
                None,
            ),
            r#"52-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#,
            &[&[1, 2], &[3, 4]],
        ),
        // Acknowledgement.
        (
            packet(Event, "/", Some(json(json!(["foo"]))), Some(12)),
            r#"212["foo"]"#,
            &[],
        ),
        // The document's `3/admin,13["bar"]` ends with a stray backtick, a typo.
        (
            packet(Ack, "/admin", Some(json(json!(["bar"]))), Some(13)),
            r#"3/admin,13["bar"]"#,
            &[],
        ),
        (
            packet(
                Ack,
                "/",
                Some(Data::Array(vec![Data::from("bar"), binary(&[1, 2, 3, 4])])),
                Some(15),
            ),
            r#"61-15["bar",{"_placeholder":true,"num":0}]"#,
            &[&[1, 2, 3, 4]],
        ),
        // Disconnection from a namespace.
        (packet(Disconnect, "/", None, None), "1", &[]),
        (packet(Disconnect, "/admin", None, None), "1/admin,", &[]),
    ];
    for (packet, text, attachments) in &cases {
        assert_wire(packet, text, attachments);
    }
}

#[test]
fn the_exchange_examples_of_the_protocol_document() {
    // The packets of "Exchange protocol" and "History", in the encoding the format gives.
    let buffer = || binary(&[1, 2, 3, 4]);
    let cases: [(Packet, &str, &[&[u8]]); 18] = [
        (Packet::connect("/", None), "0", &[]),
        (
            Packet::connect("/", Some(json(json!({"sid": "wZX3oN0bSVIhsaknAAAI"})))),
            r#"0{"sid":"wZX3oN0bSVIhsaknAAAI"}"#,
            &[],
        ),
        (Packet::connect("/admin", None), "0/admin,", &[]),
        (
            Packet::connect("/admin", Some(json(json!({"token": "123"})))),
            r#"0/admin,{"token":"123"}"#,
            &[],
        ),
        (
            Packet::connect("/admin", Some(json(json!({"sid": "iLnRaVGHY4B75TeVAAAB"})))),
            r#"0/admin,{"sid":"iLnRaVGHY4B75TeVAAAB"}"#,
            &[],
        ),
        (
            Packet::connect("/admin", Some(json(json!({"sid": "CjdVH4TQvovi1VvgAC5Z"})))),
            r#"0/admin,{"sid":"CjdVH4TQvovi1VvgAC5Z"}"#,
            &[],
        ),
        (
            Packet::connect_error("/", json(json!({"message": "Not authorized"}))),
            r#"4{"message":"Not authorized"}"#,
            &[],
        ),
        (Packet::event("/", "foo", []), r#"2["foo"]"#, &[]),
        (Packet::event("/", "bar", []), r#"2["bar"]"#, &[]),
        (
            Packet::event("/admin", "bar", []),
            r#"2/admin,["bar"]"#,
            &[],
        ),
        (
            Packet::event("/", "baz", [buffer()]),
            r#"51-["baz",{"_placeholder":true,"num":0}]"#,
            &[&[1, 2, 3, 4]],
        ),
        (
            Packet::ack("/", 12, [Data::from("bar")]),
            r#"312["bar"]"#,
            &[],
        ),
        (Packet::ack("/", 12, []), "312[]", &[]),
        (
            Packet::event("/admin", "foo", []).with_id(13),
            r#"2/admin,13["foo"]"#,
            &[],
        ),
        (
            Packet::event("/", "foo", [buffer()]).with_id(14),
            r#"51-14["foo",{"_placeholder":true,"num":0}]"#,
            &[&[1, 2, 3, 4]],
        ),
        (
            Packet::ack("/", 14, [Data::from("bar")]),
            r#"314["bar"]"#,
            &[],
        ),
        (
            Packet::ack("/", 15, [Data::from("bar"), buffer()]),
            r#"61-15["bar",{"_placeholder":true,"num":0}]"#,
            &[&[1, 2, 3, 4]],
        ),
        (Packet::disconnect("/"), "1", &[]),
    ];
    for (packet, text, attachments) in &cases {
        assert_wire(packet, text, attachments);
    }
}

#[test]
fn what_the_reference_decoder_takes_beyond_what_its_encoder_writes() {
    // A namespace without its comma, ending the text.
    assert_eq!(decode("1/admin"), Ok(Packet::disconnect("/admin")));
    assert_eq!(decode("0/admin"), Ok(Packet::connect("/admin", None)));
    // The main namespace written out.
    assert_eq!(decode(r#"2/,["a"]"#), Ok(Packet::event("/", "a", [])));
    // A number as the event name.
    assert_eq!(
        decode("2[1,2]"),
        Ok(packet(
            PacketType::Event,
            "/",
            Some(json(json!([1, 2]))),
            None
        ))
    );
    // An ACK without an id, and ids on any packet type.
    assert_eq!(
        decode("3[]"),
        Ok(packet(PacketType::Ack, "/", Some(json(json!([]))), None))
    );
    assert_eq!(decode("17"), Ok(Packet::disconnect("/").with_id(7)));
    // A CONNECT_ERROR with a string (the v4 form).
    assert_eq!(
        decode(r#"4"Not authorized""#),
        Ok(Packet::connect_error("/", Data::from("Not authorized")))
    );
    // Leading zeros in counts and ids; whitespace around the JSON, as JSON.parse allows.
    assert_eq!(
        decode_parts(
            "501-007 [\"a\",{\"_placeholder\":true,\"num\":0}] ",
            &[Bytes::from_static(b"x")],
            AttachmentLimits::default()
        ),
        Ok(Packet::event("/", "a", [binary(b"x")]).with_id(7))
    );
    // A namespace holding anything but a comma.
    assert_eq!(
        decode(r#"2/a b/é["x"]1,["y"]"#).map(|p| p.namespace),
        Ok(r#"/a b/é["x"]1"#.to_owned())
    );
    // Placeholders: any number of times, in any order, in any place; and attachments a
    // placeholder never names are dropped.
    let text = r#"53-["e",{"_placeholder":true,"num":2},[{"_placeholder":true,"num":0,"extra":1}],{"k":{"_placeholder":true,"num":0}}]"#;
    let parts = [b"a", b"b", b"c"].map(|b| Bytes::from_static(b));
    assert_eq!(
        decode_parts(text, &parts, AttachmentLimits::default()).map(|p| p.data),
        Ok(Some(Data::Array(vec![
            Data::from("e"),
            binary(b"c"),
            Data::Array(vec![binary(b"a")]),
            Data::Object(BTreeMap::from([("k".to_owned(), binary(b"a"))])),
        ])))
    );
    // In a packet without attachments a placeholder-shaped object is an object.
    let plain = r#"2["e",{"_placeholder":true,"num":0}]"#;
    assert_eq!(
        decode(plain).map(|p| p.data),
        Ok(Some(json(json!(["e", {"_placeholder": true, "num": 0}]))))
    );
    assert_eq!(decode(plain).unwrap().encode().unwrap().text, plain);
}

#[test]
fn malformed_packets_are_refused_with_their_cause() {
    use PacketError::*;
    let cases: Vec<(&str, PacketError)> = vec![
        ("", EmptyPacket),
        ("7", UnknownPacketType(b'7')),
        ("a", UnknownPacketType(b'a')),
        (" 0", UnknownPacketType(b' ')),
        ("5", MalformedAttachmentCount),
        ("5-[\"a\"]", MalformedAttachmentCount),
        ("51[\"a\"]", MalformedAttachmentCount),
        ("5x-[\"a\"]", MalformedAttachmentCount),
        ("5 1-[\"a\"]", MalformedAttachmentCount),
        ("5+1-[\"a\"]", MalformedAttachmentCount),
        ("61", MalformedAttachmentCount),
        ("50-[\"a\"]", NoAttachments),
        ("600-[]", NoAttachments),
        (
            "518446744073709551616-[\"a\"]",
            TooManyAttachments { limit: 10 },
        ),
        ("218446744073709551616[\"a\"]", AckIdOverflow),
        ("2[\"a\"", InvalidJson { line: 1, column: 4 }),
        ("2[\"a\"]x", InvalidJson { line: 1, column: 6 }),
        ("2admin,[\"a\"]", InvalidJson { line: 1, column: 1 }),
        ("2/admin[\"a\"]", MissingPayload(PacketType::Event)),
        ("0[]", ConnectPayloadNotObject),
        ("0\"token\"", ConnectPayloadNotObject),
        ("0null", ConnectPayloadNotObject),
        ("1{}", DisconnectWithPayload),
        ("1/admin,{}", DisconnectWithPayload),
        ("1null", DisconnectWithPayload),
        ("4", MissingPayload(PacketType::ConnectError)),
        ("4[]", InvalidConnectErrorPayload),
        ("41", MissingPayload(PacketType::ConnectError)),
        ("4true", InvalidConnectErrorPayload),
        ("2", MissingPayload(PacketType::Event)),
        ("212", MissingPayload(PacketType::Event)),
        ("3", MissingPayload(PacketType::Ack)),
        ("2{}", PayloadNotArray(PacketType::Event)),
        ("2\"foo\"", PayloadNotArray(PacketType::Event)),
        ("3{}", PayloadNotArray(PacketType::Ack)),
        ("2[]", MissingEventName),
        ("2[{}]", MissingEventName),
        ("2[null]", MissingEventName),
        ("2[[\"a\"]]", MissingEventName),
        ("51-[{\"_placeholder\":true,\"num\":0}]", MissingEventName),
        (
            "51-[\"a\",{\"_placeholder\":true,\"num\":1}]",
            PlaceholderOutOfRange {
                num: 1,
                attachments: 1,
            },
        ),
        (
            "52-[\"a\",{\"x\":[{\"_placeholder\":true,\"num\":18446744073709551615}]}]",
            PlaceholderOutOfRange {
                num: u64::MAX,
                attachments: 2,
            },
        ),
        ("51-[\"a\",{\"_placeholder\":true}]", InvalidPlaceholder),
        (
            "61-[{\"_placeholder\":true,\"num\":-1}]",
            InvalidPlaceholder,
        ),
        (
            "61-[{\"_placeholder\":true,\"num\":0.0}]",
            InvalidPlaceholder,
        ),
    ];
    // u64::MAX itself is an id.
    assert_eq!(
        decode("218446744073709551615[\"a\"]").map(|p| p.id),
        Ok(Some(u64::MAX))
    );
    for (text, error) in cases {
        let mut decoder = PacketDecoder::new(AttachmentLimits::default());
        assert_eq!(decoder.receive_text(text), Err(error), "{text:?}");
        assert_eq!(decoder.awaiting_attachments(), 0, "{text:?}");
    }
    for name in RESERVED_EVENT_NAMES {
        let text = format!(r#"2["{name}",1]"#);
        assert_eq!(decode(&text), Err(ReservedEventName(name.to_owned())));
        let text = format!(r#"51-["{name}",{{"_placeholder":true,"num":0}}]"#);
        assert_eq!(
            PacketDecoder::new(AttachmentLimits::default()).receive_text(&text),
            Err(ReservedEventName(name.to_owned()))
        );
    }
    // Reserved names are reserved as event names only.
    assert_eq!(
        decode(r#"3["connect"]"#).map(|p| p.data),
        Ok(Some(json(json!(["connect"]))))
    );
    assert!(decode(r#"2["Connect"]"#).is_ok());
}

#[test]
fn parts_out_of_order_are_refused_and_leave_the_decoder_empty() {
    let mut decoder = PacketDecoder::new(AttachmentLimits::default());
    assert_eq!(
        decoder.receive_binary(Bytes::from_static(b"x")),
        Err(PacketError::UnexpectedAttachment)
    );
    assert_eq!(
        decoder.receive_text(r#"52-["a",{"_placeholder":true,"num":0}]"#),
        Ok(None)
    );
    assert_eq!(decoder.awaiting_attachments(), 2);
    decoder.receive_binary(Bytes::from_static(b"x")).unwrap();
    assert_eq!(decoder.awaiting_attachments(), 1);
    assert_eq!(
        decoder.receive_text(r#"2["b"]"#),
        Err(PacketError::UnexpectedText { awaiting: 1 })
    );
    // Empty again: the next packet decodes, and a stray attachment is refused.
    assert_eq!(decoder.awaiting_attachments(), 0);
    assert_eq!(
        decoder.receive_text(r#"2["b"]"#),
        Ok(Some(Packet::event("/", "b", [])))
    );
    assert_eq!(
        decoder.receive_binary(Bytes::from_static(b"x")),
        Err(PacketError::UnexpectedAttachment)
    );
}

#[test]
fn packets_come_out_at_the_part_that_completes_them_in_any_sequence() {
    // Several packets, binary and not, back to back: each comes out with its last part.
    let packets = [
        Packet::event("/", "a", [binary(b"1"), binary(b"")]),
        Packet::event("/", "b", []),
        Packet::ack(
            "/x",
            3,
            [Data::Object(BTreeMap::from([(
                "f".to_owned(),
                binary(b"2"),
            )]))],
        ),
        Packet::connect("/y", None),
        Packet::event("/", "c", [binary(b"3")]),
    ];
    let mut parts: Vec<(bool, Bytes)> = Vec::new();
    let mut ends = Vec::new();
    for packet in &packets {
        let encoded = packet.encode().unwrap();
        parts.push((true, Bytes::from(encoded.text)));
        parts.extend(encoded.attachments.into_iter().map(|a| (false, a)));
        ends.push(parts.len() - 1);
    }
    let mut decoder = PacketDecoder::new(AttachmentLimits::default());
    let mut decoded = Vec::new();
    for (index, (is_text, part)) in parts.into_iter().enumerate() {
        let packet = if is_text {
            decoder.receive_text(std::str::from_utf8(&part).unwrap())
        } else {
            decoder.receive_binary(part)
        }
        .unwrap();
        assert_eq!(packet.is_some(), ends.contains(&index), "part {index}");
        decoded.extend(packet);
    }
    assert_eq!(decoded, packets);
}

#[test]
fn the_attachment_count_limit_is_crossed_by_one() {
    let text = |count: usize| {
        let placeholders: String = (0..count)
            .map(|num| format!(r#",{{"_placeholder":true,"num":{num}}}"#))
            .collect();
        format!(r#"5{count}-["e"{placeholders}]"#)
    };
    let parts = |count: usize| vec![Bytes::from_static(b"z"); count];
    let default = AttachmentLimits::default();
    let decoded = decode_parts(&text(10), &parts(10), default).unwrap();
    assert_eq!(decoded.data.unwrap().binary_count(), 10);
    assert_eq!(
        decode_parts(&text(11), &parts(11), default),
        Err(PacketError::TooManyAttachments { limit: 10 })
    );
    let two = AttachmentLimits {
        max_attachments: 2,
        ..default
    };
    assert!(decode_parts(&text(2), &parts(2), two).is_ok());
    assert_eq!(
        decode_parts(&text(3), &parts(3), two),
        Err(PacketError::TooManyAttachments { limit: 2 })
    );
}

#[test]
fn the_attachment_bytes_limit_is_crossed_by_one_byte() {
    let text = r#"52-["e",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#;
    let limits = AttachmentLimits {
        max_attachment_bytes: 4,
        ..AttachmentLimits::default()
    };
    let at_limit = [Bytes::from_static(&[1, 2]), Bytes::from_static(&[3, 4])];
    assert!(decode_parts(text, &at_limit, limits).is_ok());
    let mut decoder = PacketDecoder::new(limits);
    decoder.receive_text(text).unwrap();
    decoder.receive_binary(Bytes::from_static(&[1, 2])).unwrap();
    assert_eq!(
        decoder.receive_binary(Bytes::from_static(&[3, 4, 5])),
        Err(PacketError::AttachmentsTooLarge { limit: 4 })
    );
    assert_eq!(decoder.awaiting_attachments(), 0);
    // One attachment alone over the limit.
    let mut decoder = PacketDecoder::new(limits);
    decoder.receive_text(text).unwrap();
    assert_eq!(
        decoder.receive_binary(Bytes::from(vec![0; 5])),
        Err(PacketError::AttachmentsTooLarge { limit: 4 })
    );
}

#[test]
fn packets_that_cannot_be_sent_are_refused_before_anything_is_written() {
    use PacketError::*;
    let ambiguous = Data::Object(BTreeMap::from([(
        "_placeholder".to_owned(),
        Data::Bool(true),
    )]));
    let cases: Vec<(Packet, PacketError)> = vec![
        (
            Packet::event("admin", "e", []),
            InvalidNamespace("admin".to_owned()),
        ),
        (Packet::event("", "e", []), InvalidNamespace(String::new())),
        (
            Packet::event("/a,b", "e", []),
            InvalidNamespace("/a,b".to_owned()),
        ),
        (
            Packet::connect("/", Some(Data::from("x"))),
            ConnectPayloadNotObject,
        ),
        (
            Packet::connect(
                "/",
                Some(Data::Object(BTreeMap::from([(
                    "b".to_owned(),
                    binary(b"x"),
                )]))),
            ),
            BinaryNotAllowed(PacketType::Connect),
        ),
        (
            Packet::connect_error(
                "/",
                Data::Object(BTreeMap::from([("b".to_owned(), binary(b"x"))])),
            ),
            BinaryNotAllowed(PacketType::ConnectError),
        ),
        (
            Packet::connect_error("/", Data::Null),
            InvalidConnectErrorPayload,
        ),
        (
            packet(PacketType::Disconnect, "/", Some(json(json!({}))), None),
            DisconnectWithPayload,
        ),
        (
            packet(PacketType::Event, "/", None, None),
            MissingPayload(PacketType::Event),
        ),
        (
            packet(PacketType::Ack, "/", Some(json(json!({}))), Some(1)),
            PayloadNotArray(PacketType::Ack),
        ),
        (
            packet(PacketType::Event, "/", Some(json(json!([]))), None),
            MissingEventName,
        ),
        (
            Packet::event("/", "disconnect", []),
            ReservedEventName("disconnect".to_owned()),
        ),
        (
            Packet::event("/", "e", [binary(b"x"), ambiguous.clone()]),
            AmbiguousPlaceholder,
        ),
    ];
    for (packet, error) in cases {
        let mut out = String::from("4");
        assert_eq!(packet.encode_into(&mut out), Err(error), "{packet:?}");
        assert_eq!(out, "4");
    }
    // A placeholder-shaped object is fine where there is no attachment for it to mean.
    assert!(Packet::event("/", "e", [ambiguous]).encode().is_ok());
}

#[test]
fn encode_into_appends_after_what_the_buffer_holds() {
    let mut out = String::from("4");
    let attachments = Packet::event("/", "baz", [binary(&[1])])
        .encode_into(&mut out)
        .unwrap();
    assert_eq!(out, r#"451-["baz",{"_placeholder":true,"num":0}]"#);
    assert_eq!(attachments, [Bytes::from_static(&[1])]);
}

/// Any payload: JSON values (integers, a few exact floats, any strings) and binary leaves,
/// nested; object keys never `_placeholder`.
fn any_data(binary: bool) -> impl Strategy<Value = Data> {
    let mut leaves = vec![
        Just(Data::Null).boxed(),
        any::<bool>().prop_map(Data::Bool).boxed(),
        any::<i64>().prop_map(|n| Data::from(json!(n))).boxed(),
        any::<u64>().prop_map(|n| Data::from(json!(n))).boxed(),
        // Floats that JSON text carries exactly both ways.
        prop::sample::select(vec![0.5, -1.25, 1e20, 3.0])
            .prop_map(|n| Data::from(json!(n)))
            .boxed(),
        ".{0,8}".prop_map(Data::String).boxed(),
    ];
    if binary {
        let bytes = proptest::collection::vec(any::<u8>(), 0..6);
        leaves.push(
            bytes
                .prop_map(|bytes| Data::Binary(Bytes::from(bytes)))
                .boxed(),
        );
    }
    prop::strategy::Union::new(leaves).prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Data::Array),
            proptest::collection::btree_map("[a-z]{0,3}", inner, 0..4).prop_map(Data::Object),
        ]
    })
}

fn any_object(binary: bool) -> impl Strategy<Value = Data> {
    proptest::collection::btree_map("[a-z]{0,3}", any_data(binary), 0..4).prop_map(Data::Object)
}

fn any_packet() -> impl Strategy<Value = Packet> {
    let args = || proptest::collection::vec(any_data(true), 0..4);
    let name = prop_oneof![
        "[a-z]{0,6}"
            .prop_filter("not reserved", |name| !RESERVED_EVENT_NAMES
                .contains(&name.as_str()))
            .prop_map(Data::String),
        any::<u32>().prop_map(|n| Data::from(json!(n))),
    ];
    let payload = prop_oneof![
        proptest::option::of(any_object(false)).prop_map(|data| (PacketType::Connect, data)),
        Just((PacketType::Disconnect, None)),
        (name, args()).prop_map(|(name, args)| {
            let data = std::iter::once(name).chain(args).collect();
            (PacketType::Event, Some(Data::Array(data)))
        }),
        args().prop_map(|args| (PacketType::Ack, Some(Data::Array(args)))),
        prop_oneof![any_object(false), ".{0,8}".prop_map(Data::String)]
            .prop_map(|data| (PacketType::ConnectError, Some(data))),
    ];
    (
        payload,
        prop_oneof![Just("/".to_owned()), "/[^,]{0,6}"],
        proptest::option::of(any::<u64>()),
    )
        .prop_map(|((packet_type, data), namespace, id)| Packet {
            packet_type,
            namespace,
            id,
            data,
        })
}

proptest! {
    #[test]
    fn every_valid_packet_round_trips(packet in any_packet()) {
        let encoded = packet.encode().unwrap();
        let limits = AttachmentLimits { max_attachments: usize::MAX, ..AttachmentLimits::default() };
        prop_assert_eq!(decode_parts(&encoded.text, &encoded.attachments, limits), Ok(packet));
    }

    #[test]
    fn every_finite_float_keeps_its_bits(number in any::<f64>().prop_filter("finite", |n| n.is_finite())) {
        let packet = Packet::event("/", "n", [Data::from(json!(number))]);
        let decoded = decode(&packet.encode().unwrap().text).unwrap();
        let Some(Data::Array(items)) = decoded.data else { panic!("{decoded:?}") };
        let Some(Data::Number(decoded)) = items.get(1) else { panic!("{items:?}") };
        prop_assert_eq!(decoded.as_f64().map(f64::to_bits), Some(number.to_bits()));
    }
}
