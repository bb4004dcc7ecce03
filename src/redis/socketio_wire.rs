//! The wire of `@socket.io/redis-adapter` (8.x) and `@socket.io/redis-emitter` (5.x), sans-IO:
//! channel names, broadcasts and requests in, broadcasts, requests and responses out.
//!
//! Channels, for the key `socket.io` and the namespace `/`:
//!
//! | channel | what |
//! | --- | --- |
//! | `socket.io#/#` | broadcasts to every socket, or to several rooms |
//! | `socket.io#/#<room>#` | broadcasts to exactly one room |
//! | `socket.io-request#/#` | requests: join, leave, disconnect, list sockets and rooms |
//! | `socket.io-response#/#` | their answers |
//!
//! A broadcast is `msgpack([uid, packet, opts])`: the sending node's id, the Socket.IO
//! packet as an object (`{type: 2, data: [name, ...args], nsp}`, binary arguments as
//! msgpack bin) and `{rooms: [...], except: [...], flags: {volatile?, ...}}`. Requests
//! and responses are JSON objects with a numeric `type` (`0` SOCKETS to `9`), a
//! `requestId` when an answer is awaited, and the asking node's `uid`; those of broadcasts
//! with acks (the request, and each client's ack) are msgpack maps, binary-safe.

// Input reaches this module: no indexing, unwrap, expect or panic that it could trigger.
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use serde_json::{Number, Value, json};

use super::msgpack::{MsgpackValue, decode_msgpack, encode_msgpack};
use crate::socketio::{Data, Packet, PacketType};

/// The request types of the adapter's protocol (its `RequestType` enum).
pub(super) const SOCKETS: u64 = 0;
pub(super) const ALL_ROOMS: u64 = 1;
pub(super) const REMOTE_JOIN: u64 = 2;
pub(super) const REMOTE_LEAVE: u64 = 3;
pub(super) const REMOTE_DISCONNECT: u64 = 4;
pub(super) const REMOTE_FETCH: u64 = 5;
pub(super) const SERVER_SIDE_EMIT: u64 = 6;
pub(super) const BROADCAST: u64 = 7;
pub(super) const BROADCAST_CLIENT_COUNT: u64 = 8;
pub(super) const BROADCAST_ACK: u64 = 9;

/// The socket.io-parser packet types an event travels as.
const EVENT: i64 = 2;
const BINARY_EVENT: i64 = 5;

/// The channel names of one namespace.
#[derive(Debug, Clone)]
pub(super) struct Channels {
    /// `<key>#<nsp>#`: broadcasts; one room's are `<key>#<nsp>#<room>#`.
    pub(super) broadcast: String,
    pub(super) request: String,
    pub(super) response: String,
}

impl Channels {
    pub(super) fn new(key: &str, namespace: &str) -> Channels {
        Channels {
            broadcast: format!("{key}#{namespace}#"),
            request: format!("{key}-request#{namespace}#"),
            response: format!("{key}-response#{namespace}#"),
        }
    }

    /// The pattern of every broadcast channel of the namespace, Redis' glob characters
    /// in the names escaped so that it matches these channels and no other namespace's.
    /// Where nodes that answer on the asking node's own channel (the reference's
    /// `publishOnSpecificResponseChannel`) send this node's answers.
    pub(super) fn own_response(&self, uid: &str) -> String {
        format!("{}{uid}#", self.response)
    }

    pub(super) fn broadcast_pattern(&self) -> String {
        let mut pattern = String::with_capacity(self.broadcast.len() + 1);
        for character in self.broadcast.chars() {
            if matches!(character, '*' | '?' | '[' | ']' | '\\') {
                pattern.push('\\');
            }
            pattern.push(character);
        }
        pattern.push('*');
        pattern
    }

    /// Where a broadcast to `rooms` goes: one room's channel, or the namespace's.
    pub(super) fn broadcast_to<'a>(&self, mut rooms: impl Iterator<Item = &'a String>) -> String {
        match (rooms.next(), rooms.next()) {
            (Some(room), None) => format!("{}{room}#", self.broadcast),
            _ => self.broadcast.clone(),
        }
    }
}

/// Which sockets: those in any of `rooms` (all when empty), none in `except`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Selection {
    pub(super) rooms: Vec<String>,
    pub(super) except: Vec<String>,
}

/// A broadcast from another node (or an emitter).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct RemoteBroadcast {
    pub(super) uid: String,
    pub(super) namespace: String,
    pub(super) event: String,
    pub(super) args: Vec<Data>,
    pub(super) selection: Selection,
    pub(super) volatile: bool,
}

/// `msgpack([uid, {type, data, nsp}, {rooms, except, flags}])` for an EVENT `packet`.
pub(super) fn encode_broadcast(
    uid: &str,
    packet: &Packet,
    selection: &Selection,
    volatile: bool,
) -> Option<Vec<u8>> {
    let strings = |names: &[String]| {
        MsgpackValue::Array(
            names
                .iter()
                .map(|name| MsgpackValue::from(name.as_str()))
                .collect(),
        )
    };
    let mut flags = Vec::new();
    if volatile {
        flags.push((MsgpackValue::from("volatile"), MsgpackValue::Bool(true)));
    }
    let message = MsgpackValue::Array(vec![
        MsgpackValue::from(uid),
        MsgpackValue::Map(vec![
            (MsgpackValue::from("type"), MsgpackValue::Int(EVENT)),
            (
                MsgpackValue::from("data"),
                packet
                    .data
                    .as_ref()
                    .map_or(MsgpackValue::Nil, data_to_msgpack),
            ),
            (
                MsgpackValue::from("nsp"),
                MsgpackValue::from(packet.namespace.as_str()),
            ),
        ]),
        MsgpackValue::Map(vec![
            (MsgpackValue::from("rooms"), strings(&selection.rooms)),
            (MsgpackValue::from("except"), strings(&selection.except)),
            (MsgpackValue::from("flags"), MsgpackValue::Map(flags)),
        ]),
    ]);
    let mut out = Vec::new();
    encode_msgpack(&message, &mut out).ok()?;
    Some(out)
}

/// A broadcast message, if it is one of an event (none: not msgpack, not the shape, or a
/// packet other than an event).
pub(super) fn decode_broadcast(bytes: Bytes) -> Option<RemoteBroadcast> {
    let MsgpackValue::Array(parts) = decode_msgpack(bytes).ok()? else {
        return None;
    };
    let mut parts = parts.into_iter();
    let (Some(uid), Some(packet), Some(opts)) = (parts.next(), parts.next(), parts.next()) else {
        return None;
    };
    let uid = uid.as_str()?.to_owned();
    let Data::Object(mut packet) = msgpack_to_data(packet)? else {
        return None;
    };
    let Data::Object(opts) = msgpack_to_data(opts)? else {
        return None;
    };
    let namespace = match packet.remove("nsp") {
        None | Some(Data::Null) => crate::socketio::MAIN_NAMESPACE.to_owned(),
        Some(Data::String(namespace)) => namespace,
        Some(_) => return None,
    };
    let (event, args) = event_of(packet)?;
    let volatile = match opts.get("flags") {
        Some(Data::Object(flags)) => matches!(flags.get("volatile"), Some(Data::Bool(true))),
        _ => false,
    };
    Some(RemoteBroadcast {
        uid,
        namespace,
        event,
        args,
        selection: selection(&opts)?,
        volatile,
    })
}

/// The name and arguments of a packet object, if it is an event's (`{type: 2 or 5, data:
/// [name, ...args]}`).
fn event_of(mut packet: BTreeMap<String, Data>) -> Option<(String, Vec<Data>)> {
    let packet_type = match packet.get("type") {
        Some(Data::Number(number)) => number.as_i64(),
        _ => None,
    };
    if !matches!(packet_type, Some(EVENT | BINARY_EVENT)) {
        return None;
    }
    let Some(Data::Array(data)) = packet.remove("data") else {
        return None;
    };
    let mut data = data.into_iter();
    let Some(Data::String(event)) = data.next() else {
        return None;
    };
    Some((event, data.collect()))
}

/// A request another node (or an emitter) made of every node.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Request {
    /// SOCKETS: the ids of the sockets in `rooms`.
    Sockets {
        request_id: String,
        rooms: Vec<String>,
    },
    /// ALL_ROOMS: every room.
    AllRooms { request_id: String },
    /// REMOTE_JOIN: the sockets selected join `rooms`.
    Join { target: Target, rooms: Vec<String> },
    /// REMOTE_LEAVE: the sockets selected leave `rooms`.
    Leave { target: Target, rooms: Vec<String> },
    /// REMOTE_DISCONNECT: the sockets selected are disconnected.
    Disconnect { target: Target, close: bool },
    /// REMOTE_FETCH: the sockets selected, described.
    Fetch {
        request_id: String,
        selection: Selection,
    },
    /// BROADCAST: a broadcast whose every recipient's ack is awaited (the reference's
    /// `io.timeout(ms).emit(..., callback)`), for `timeout`.
    BroadcastWithAck {
        request_id: String,
        event: String,
        args: Vec<Data>,
        selection: Selection,
        timeout: Duration,
    },
    /// SERVER_SIDE_EMIT: an event for the namespace's server-side handlers (the
    /// reference's `serverSideEmit`), with an answer awaited when it has a request id.
    ServerSideEmit {
        request_id: Option<String>,
        event: String,
        args: Vec<Data>,
    },
    /// A type this node does not know.
    Unsupported { request_type: u64 },
}

/// The sockets a join, leave or disconnect is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Target {
    /// Those selected (`opts`); nothing is answered.
    Matching(Selection),
    /// One socket by id (the adapter's older form), answered with `{requestId}`.
    Socket { sid: String, request_id: String },
}

/// A request with the id of the node that made it (none from an emitter).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Incoming {
    pub(super) uid: Option<String>,
    pub(super) request: Request,
}

/// A request from the request channel: JSON if it starts with `{`, msgpack if not (none:
/// neither, or not an object with a numeric `type`).
pub(super) fn decode_request(bytes: Bytes) -> Option<Incoming> {
    let Data::Object(request) = decode_object(bytes)? else {
        return None;
    };
    let text = |key: &str| match request.get(key) {
        Some(Data::String(text)) => Some(text.clone()),
        _ => None,
    };
    let request_type = match request.get("type") {
        Some(Data::Number(number)) => number.as_u64()?,
        _ => return None,
    };
    let request_id = text("requestId");
    let rooms = || strings(request.get("rooms"));
    let target = || match request.get("opts") {
        Some(Data::Object(opts)) => selection(opts).map(Target::Matching),
        _ => Some(Target::Socket {
            sid: text("sid")?,
            request_id: request_id.clone()?,
        }),
    };
    let request = match request_type {
        SOCKETS => Request::Sockets {
            request_id: request_id.clone()?,
            rooms: rooms()?,
        },
        ALL_ROOMS => Request::AllRooms {
            request_id: request_id.clone()?,
        },
        REMOTE_JOIN | REMOTE_LEAVE => {
            let target = target()?;
            // The older one-socket form names one `room`.
            let rooms = match &target {
                Target::Socket { .. } => vec![text("room")?],
                Target::Matching(_) => rooms()?,
            };
            match request_type {
                REMOTE_JOIN => Request::Join { target, rooms },
                _ => Request::Leave { target, rooms },
            }
        }
        REMOTE_DISCONNECT => Request::Disconnect {
            target: target()?,
            close: matches!(request.get("close"), Some(Data::Bool(true))),
        },
        REMOTE_FETCH => {
            let Some(Data::Object(opts)) = request.get("opts") else {
                return None;
            };
            Request::Fetch {
                request_id: request_id.clone()?,
                selection: selection(opts)?,
            }
        }
        BROADCAST => {
            let (Some(Data::Object(packet)), Some(Data::Object(opts))) =
                (request.get("packet"), request.get("opts"))
            else {
                return None;
            };
            let (event, args) = event_of(packet.clone())?;
            let timeout = match opts.get("flags") {
                Some(Data::Object(flags)) => match flags.get("timeout") {
                    Some(Data::Number(ms)) => ms.as_f64(),
                    _ => None,
                },
                _ => None,
            };
            Request::BroadcastWithAck {
                request_id: request_id.clone()?,
                event,
                args,
                selection: selection(opts)?,
                // The reference always sets one; a broadcast without is answered at once.
                timeout: Duration::from_secs_f64(
                    timeout.unwrap_or(0.0).clamp(0.0, 86_400_000.0) / 1000.0,
                ),
            }
        }
        SERVER_SIDE_EMIT => {
            let Some(Data::Array(data)) = request.get("data") else {
                return None;
            };
            let mut data = data.iter().cloned();
            let Some(Data::String(event)) = data.next() else {
                return None;
            };
            Request::ServerSideEmit {
                request_id: request_id.clone(),
                event,
                args: data.collect(),
            }
        }
        request_type => Request::Unsupported { request_type },
    };
    Some(Incoming {
        uid: text("uid"),
        request,
    })
}

/// A server-side emit of this node (`{uid, type: 6, data: [event, ...args]}`, JSON, and
/// `requestId` when answers are awaited); none if an argument is binary (the reference's
/// JSON has no place for it).
pub(super) fn encode_server_side_emit(
    uid: &str,
    request_id: Option<&str>,
    event: &str,
    args: Vec<Data>,
) -> Option<Vec<u8>> {
    let mut data = vec![Value::from(event)];
    for arg in args {
        data.push(arg.into_json()?);
    }
    let mut request = json!({"uid": uid, "type": SERVER_SIDE_EMIT, "data": data});
    if let (Value::Object(fields), Some(request_id)) = (&mut request, request_id) {
        fields.insert("requestId".to_owned(), Value::from(request_id));
    }
    Some(request.to_string().into_bytes())
}

/// A JSON request of this node to every node: a join, leave (`rooms`) or disconnect
/// (`close`) of the sockets `selection` picks, which no node answers.
pub(super) fn encode_selection_request(
    uid: &str,
    request_type: u64,
    selection: &Selection,
    rooms: &[String],
    close: bool,
) -> Vec<u8> {
    let mut request = json!({
        "uid": uid,
        "type": request_type,
        "opts": {"rooms": selection.rooms, "except": selection.except},
    });
    if let Value::Object(fields) = &mut request {
        match request_type {
            REMOTE_DISCONNECT => fields.insert("close".to_owned(), Value::Bool(close)),
            _ => fields.insert("rooms".to_owned(), json!(rooms)),
        };
    }
    request.to_string().into_bytes()
}

/// A JSON request of this node that every other node answers: REMOTE_FETCH of the
/// sockets `selection` picks, or ALL_ROOMS.
pub(super) fn encode_question(
    uid: &str,
    request_id: &str,
    request_type: u64,
    selection: &Selection,
) -> Vec<u8> {
    let mut request = json!({"uid": uid, "requestId": request_id, "type": request_type});
    if let (Value::Object(fields), REMOTE_FETCH) = (&mut request, request_type) {
        let opts = json!({"rooms": selection.rooms, "except": selection.except});
        fields.insert("opts".to_owned(), opts);
    }
    request.to_string().into_bytes()
}

/// A response from the response channel: its `requestId` and the whole object (none:
/// not an object with a string `requestId`).
pub(super) fn decode_response(bytes: Bytes) -> Option<(String, BTreeMap<String, Data>)> {
    let Data::Object(response) = decode_object(bytes)? else {
        return None;
    };
    match response.get("requestId") {
        Some(Data::String(request_id)) => Some((request_id.clone(), response)),
        _ => None,
    }
}

/// The answers to a broadcast with acks: how many of this node's sockets got it
/// (`{type: 8, requestId, clientCount}`, JSON), and one client's ack, its first argument
/// (`{type: 9, requestId, packet}`, msgpack, as the reference sends it, binary and all).
pub(super) fn encode_client_count(request_id: &str, count: usize) -> Vec<u8> {
    let response = json!({
        "type": BROADCAST_CLIENT_COUNT,
        "requestId": request_id,
        "clientCount": count,
    });
    response.to_string().into_bytes()
}

/// See [`encode_client_count`].
pub(super) fn encode_broadcast_ack(request_id: &str, answer: &Data) -> Option<Vec<u8>> {
    let response = MsgpackValue::Map(vec![
        (
            MsgpackValue::from("type"),
            MsgpackValue::UInt(BROADCAST_ACK),
        ),
        (
            MsgpackValue::from("requestId"),
            MsgpackValue::from(request_id),
        ),
        (MsgpackValue::from("packet"), data_to_msgpack(answer)),
    ]);
    let mut out = Vec::new();
    encode_msgpack(&response, &mut out).ok()?;
    Some(out)
}

/// A response: `{"requestId": ..., <key>: <value>}` (no key: a bare acknowledgement).
pub(super) fn encode_response(request_id: &str, field: Option<(&str, Value)>) -> Vec<u8> {
    let mut response = serde_json::Map::new();
    response.insert("requestId".to_owned(), Value::String(request_id.to_owned()));
    if let Some((key, value)) = field {
        response.insert(key.to_owned(), value);
    }
    Value::Object(response).to_string().into_bytes()
}

fn decode_object(bytes: Bytes) -> Option<Data> {
    match bytes.first() {
        Some(b'{') => serde_json::from_slice::<Value>(&bytes).ok().map(Data::from),
        _ => msgpack_to_data(decode_msgpack(bytes).ok()?),
    }
}

fn selection(opts: &BTreeMap<String, Data>) -> Option<Selection> {
    Some(Selection {
        rooms: strings(opts.get("rooms"))?,
        except: strings(opts.get("except"))?,
    })
}

/// A list of room names (absent: none). Numbers are rooms too in the reference (a Node
/// room may be any key of a Map); they are named by their decimal digits here.
pub(super) fn strings(value: Option<&Data>) -> Option<Vec<String>> {
    match value {
        None | Some(Data::Null) => Some(Vec::new()),
        Some(Data::Array(items)) => items
            .iter()
            .map(|item| match item {
                Data::String(text) => Some(text.clone()),
                Data::Number(number) => Some(number.to_string()),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

/// A value of an event's arguments as msgpack, as notepack.io writes JavaScript values.
pub(super) fn data_to_msgpack(data: &Data) -> MsgpackValue {
    match data {
        Data::Null => MsgpackValue::Nil,
        Data::Bool(value) => MsgpackValue::Bool(*value),
        Data::Number(number) => match (number.as_i64(), number.as_u64(), number.as_f64()) {
            (Some(number), _, _) => MsgpackValue::Int(number),
            (None, Some(number), _) => MsgpackValue::UInt(number),
            (None, None, Some(number)) => MsgpackValue::Float(number),
            (None, None, None) => MsgpackValue::Nil,
        },
        Data::String(text) => MsgpackValue::Str(text.clone()),
        Data::Binary(bytes) => MsgpackValue::Bin(bytes.clone()),
        Data::Array(items) => MsgpackValue::Array(items.iter().map(data_to_msgpack).collect()),
        Data::Object(fields) => MsgpackValue::Map(
            fields
                .iter()
                .map(|(key, value)| (MsgpackValue::from(key.as_str()), data_to_msgpack(value)))
                .collect(),
        ),
    }
}

/// A msgpack value as event data (none: a map key that is not a string or an integer).
/// Floats that JSON cannot hold (NaN, infinities) become `null`, as `JSON.stringify` makes
/// them.
pub(super) fn msgpack_to_data(value: MsgpackValue) -> Option<Data> {
    Some(match value {
        MsgpackValue::Nil => Data::Null,
        MsgpackValue::Bool(value) => Data::Bool(value),
        MsgpackValue::Int(number) => Data::Number(Number::from(number)),
        MsgpackValue::UInt(number) => Data::Number(Number::from(number)),
        MsgpackValue::Float(number) => Number::from_f64(number).map_or(Data::Null, Data::Number),
        MsgpackValue::Str(text) => Data::String(text),
        MsgpackValue::Bin(bytes) => Data::Binary(bytes),
        MsgpackValue::Array(items) => Data::Array(
            items
                .into_iter()
                .map(msgpack_to_data)
                .collect::<Option<_>>()?,
        ),
        MsgpackValue::Map(pairs) => Data::Object(
            pairs
                .into_iter()
                .map(|(key, value)| {
                    let key = match key {
                        MsgpackValue::Str(key) => key,
                        MsgpackValue::Int(number) => number.to_string(),
                        MsgpackValue::UInt(number) => number.to_string(),
                        _ => return None,
                    };
                    Some((key, msgpack_to_data(value)?))
                })
                .collect::<Option<_>>()?,
        ),
    })
}

/// Whether `packet` is an event this wire can carry (no ack id: acks across nodes are
/// not spoken).
pub(super) fn is_plain_event(packet: &Packet) -> bool {
    packet.packet_type == PacketType::Event && packet.id.is_none()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn broadcasts_round_trip_with_their_rooms_flags_and_binary() {
        let args = vec![
            Data::from("hé"),
            Data::Binary(Bytes::from_static(&[0, 255])),
            Data::Number(Number::from(-3)),
            Data::Number(Number::from_f64(0.5).unwrap()),
            Data::Object(BTreeMap::from([("k".to_owned(), Data::Null)])),
        ];
        let packet = Packet::event("/admin", "news", args.clone());
        let selection = Selection {
            rooms: vec!["a".into(), "b".into()],
            except: vec!["c".into()],
        };
        let bytes = encode_broadcast("node1", &packet, &selection, true).unwrap();
        assert_eq!(
            decode_broadcast(Bytes::from(bytes)),
            Some(RemoteBroadcast {
                uid: "node1".into(),
                namespace: "/admin".into(),
                event: "news".into(),
                args,
                selection,
                volatile: true,
            })
        );
    }

    #[test]
    fn the_emitters_message_decodes() {
        // notepack.encode(["emitter", {type: 2, data: ["hi", 1], nsp: "/"},
        //   {rooms: ["r"], flags: {}, except: []}]), as @socket.io/redis-emitter sends it.
        let bytes: &[u8] = &[
            0x93, 0xa7, b'e', b'm', b'i', b't', b't', b'e', b'r', 0x83, 0xa4, b't', b'y', b'p',
            b'e', 0x02, 0xa4, b'd', b'a', b't', b'a', 0x92, 0xa2, b'h', b'i', 0x01, 0xa3, b'n',
            b's', b'p', 0xa1, b'/', 0x83, 0xa5, b'r', b'o', b'o', b'm', b's', 0x91, 0xa1, b'r',
            0xa5, b'f', b'l', b'a', b'g', b's', 0x80, 0xa6, b'e', b'x', b'c', b'e', b'p', b't',
            0x90,
        ];
        let broadcast = decode_broadcast(Bytes::from_static(bytes)).unwrap();
        assert_eq!(broadcast.uid, "emitter");
        assert_eq!(broadcast.namespace, "/");
        assert_eq!(broadcast.event, "hi");
        assert_eq!(broadcast.args, vec![Data::Number(Number::from(1))]);
        assert_eq!(broadcast.selection.rooms, vec!["r".to_owned()]);
        assert!(!broadcast.volatile);
    }

    #[test]
    fn what_is_not_an_event_broadcast_is_refused() {
        let encode = |value: &Value| {
            let mut out = Vec::new();
            let data = Data::from(value.clone());
            encode_msgpack(&data_to_msgpack(&data), &mut out).unwrap();
            Bytes::from(out)
        };
        for message in [
            json!(["u", {"type": 1, "data": ["x"], "nsp": "/"}, {}]),
            json!(["u", {"type": 2, "data": [7], "nsp": "/"}, {}]),
            json!(["u", {"type": 2, "data": "x", "nsp": "/"}, {}]),
            json!(["u", {"type": 2, "data": ["x"], "nsp": 3}, {}]),
            json!(["u", {"type": 2, "data": ["x"]}, {"rooms": [true]}]),
            json!(["u", {"type": 2, "data": ["x"]}]),
            json!({"u": 1}),
        ] {
            assert_eq!(decode_broadcast(encode(&message)), None, "{message}");
        }
        assert_eq!(decode_broadcast(Bytes::from_static(b"\xc1")), None);
        // No nsp is the main namespace, as the reference reads it.
        let main = decode_broadcast(encode(&json!(["u", {"type": 2, "data": ["x"]}, {}])));
        assert_eq!(main.unwrap().namespace, "/");
    }

    #[test]
    fn requests_decode_in_both_forms_and_encodings() {
        let decode = |value: Value| decode_request(Bytes::from(value.to_string())).unwrap();
        let matching = Target::Matching(Selection {
            rooms: vec!["r".into()],
            except: vec!["x".into()],
        });
        let opts = json!({"rooms": ["r"], "except": ["x"]});
        assert_eq!(
            decode(json!({"type": 2, "opts": opts, "rooms": ["j"]})),
            Incoming {
                uid: None,
                request: Request::Join {
                    target: matching.clone(),
                    rooms: vec!["j".into()]
                },
            }
        );
        assert_eq!(
            decode(json!({"uid": "n", "type": 3, "sid": "s", "room": "j", "requestId": "q"}))
                .request,
            Request::Leave {
                target: Target::Socket {
                    sid: "s".into(),
                    request_id: "q".into()
                },
                rooms: vec!["j".into()]
            }
        );
        assert_eq!(
            decode(json!({"type": 4, "opts": opts, "close": true})).request,
            Request::Disconnect {
                target: matching,
                close: true
            }
        );
        assert_eq!(
            decode(json!({"uid": "n", "requestId": "q", "type": 0, "rooms": []})),
            Incoming {
                uid: Some("n".into()),
                request: Request::Sockets {
                    request_id: "q".into(),
                    rooms: vec![]
                }
            }
        );
        assert_eq!(
            decode(json!({"requestId": "q", "type": 5, "opts": opts})).request,
            Request::Fetch {
                request_id: "q".into(),
                selection: Selection {
                    rooms: vec!["r".into()],
                    except: vec!["x".into()]
                }
            }
        );
        assert_eq!(
            decode(json!({"type": 6, "data": ["e"]})).request,
            Request::ServerSideEmit {
                request_id: None,
                event: "e".into(),
                args: vec![]
            }
        );
        assert_eq!(
            decode(json!({"type": 6, "requestId": "q", "data": ["e", 1, "two"]})).request,
            Request::ServerSideEmit {
                request_id: Some("q".into()),
                event: "e".into(),
                args: vec![Data::from(json!(1)), Data::from("two")]
            }
        );
        assert_eq!(
            decode(json!({"type": 42})).request,
            Request::Unsupported { request_type: 42 }
        );
        // A server-side emit without an event name is no request.
        assert_eq!(decode_request(Bytes::from(r#"{"type":6,"data":[]}"#)), None);
        // Ours encode to what decodes back; binary has no JSON form.
        let ours = encode_server_side_emit("n", Some("q"), "e", vec![Data::from("a")]).unwrap();
        assert_eq!(
            decode_request(Bytes::from(ours)).unwrap().request,
            Request::ServerSideEmit {
                request_id: Some("q".into()),
                event: "e".into(),
                args: vec![Data::from("a")]
            }
        );
        assert_eq!(
            encode_server_side_emit("n", None, "e", vec![Data::Binary(vec![1u8].into())]),
            None
        );
        // The adapter's msgpack requests (broadcasts with acks).
        let mut bytes = Vec::new();
        let mut request = Data::from(json!({
            "uid": "n", "requestId": "q", "type": 7,
            "packet": {"type": 2, "data": ["ask"], "nsp": "/", "id": 3},
            "opts": {"rooms": [], "except": [], "flags": {"timeout": 1500}},
        }));
        if let Data::Object(fields) = &mut request
            && let Some(Data::Object(packet)) = fields.get_mut("packet")
            && let Some(Data::Array(data)) = packet.get_mut("data")
        {
            data.push(Data::Binary(Bytes::from_static(&[1])));
        }
        encode_msgpack(&data_to_msgpack(&request), &mut bytes).unwrap();
        assert_eq!(
            decode_request(Bytes::from(bytes)).unwrap(),
            Incoming {
                uid: Some("n".into()),
                request: Request::BroadcastWithAck {
                    request_id: "q".into(),
                    event: "ask".into(),
                    args: vec![Data::Binary(Bytes::from_static(&[1]))],
                    selection: Selection::default(),
                    timeout: Duration::from_millis(1500),
                },
            }
        );
        let count: Value = serde_json::from_slice(&encode_client_count("q", 2)).unwrap();
        assert_eq!(
            count,
            json!({"type": 8, "requestId": "q", "clientCount": 2})
        );
        let ack = encode_broadcast_ack("q", &Data::from("yes")).unwrap();
        let (request_id, fields) = decode_response(Bytes::from(ack)).unwrap();
        assert_eq!(request_id, "q");
        assert_eq!(fields.get("packet"), Some(&Data::from("yes")));
        for bad in [
            &b"{"[..],
            b"{\"type\": \"2\"}",
            b"{\"type\": 0}",
            b"{\"type\": 2, \"opts\": {\"rooms\": 1}}",
            b"[]",
            b"",
        ] {
            assert_eq!(decode_request(Bytes::from_static(bad)), None, "{bad:?}");
        }
    }

    #[test]
    fn questions_and_their_responses() {
        let selection = Selection {
            rooms: vec!["r".into()],
            except: vec![],
        };
        let fetch: Value =
            serde_json::from_slice(&encode_question("n", "q", REMOTE_FETCH, &selection)).unwrap();
        assert_eq!(
            fetch,
            json!({"uid": "n", "requestId": "q", "type": 5, "opts": {"rooms": ["r"], "except": []}})
        );
        let rooms: Value =
            serde_json::from_slice(&encode_question("n", "q", ALL_ROOMS, &selection)).unwrap();
        assert_eq!(rooms, json!({"uid": "n", "requestId": "q", "type": 1}));
        let response = encode_response("q", Some(("rooms", json!(["a"]))));
        let (request_id, fields) = decode_response(Bytes::from(response)).unwrap();
        assert_eq!(request_id, "q");
        assert_eq!(strings(fields.get("rooms")), Some(vec!["a".to_owned()]));
        assert_eq!(
            decode_response(Bytes::from_static(b"{\"requestId\": 1}")),
            None
        );
        assert_eq!(decode_response(Bytes::from_static(b"nope")), None);
    }

    #[test]
    fn channels_are_the_adapters() {
        let channels = Channels::new("socket.io", "/a*");
        assert_eq!(channels.broadcast, "socket.io#/a*#");
        assert_eq!(channels.request, "socket.io-request#/a*#");
        assert_eq!(channels.response, "socket.io-response#/a*#");
        assert_eq!(channels.own_response("u1"), "socket.io-response#/a*#u1#");
        assert_eq!(channels.broadcast_pattern(), "socket.io#/a\\*#*");
        let rooms = ["r".to_owned(), "s".to_owned()];
        assert_eq!(channels.broadcast_to(rooms[..1].iter()), "socket.io#/a*#r#");
        assert_eq!(channels.broadcast_to(rooms.iter()), "socket.io#/a*#");
        assert_eq!(channels.broadcast_to([].iter()), "socket.io#/a*#");
    }
}
