//! Socket.IO v5 over Engine.IO v4: the wire codecs (feature `socketio`).
//!
//! Socket.IO is the protocol of the socket.io JavaScript library: what a browser running
//! socket.io-client speaks. It has two levels, and this module has a codec for each:
//!
//! - **Engine.IO v4**, the session: a handshake, a heartbeat (the server pings), HTTP
//!   long-polling first and an upgrade to WebSocket, and message packets. [`EnginePacket`]
//!   is one packet; over WebSocket each travels in its own message
//!   ([`EnginePacket::decode_websocket`], [`EnginePacket::encode_websocket`]); over
//!   long-polling a request or response body holds several ([`PayloadDecoder`],
//!   [`encode_payload`]).
//! - **Socket.IO v5**, inside Engine.IO messages: namespaces over one connection, events
//!   with arguments, acknowledgements, and binary arguments sent as attachments after the
//!   packet's text. [`Packet`] is one packet, [`Packet::encode`] gives its text and
//!   attachments, [`PacketDecoder`] puts received ones back together.
//!
//! Like the core, the codecs do no I/O and keep no clock: bytes and messages in, packets
//! out, every input bounded ([`PayloadLimits`], [`AttachmentLimits`]) and every refusal a
//! precise error ([`EngineError`], [`PacketError`]).
//!
//! On them, on the event API: [`EngineServer`], the Engine.IO v4 server (long-polling,
//! WebSocket, the upgrade, the heartbeat), mounted on an [`events::Server`] at its path
//! beside the application's own routes; and on it [`SocketIoServer`], the Socket.IO v5
//! server (namespaces, middlewares, events and acks, rooms and broadcasts; see
//! docs/socketio.md). And [`SocketIoClient`], the Socket.IO v5 client over WebSocket with
//! the reference client's reconnection (see docs/socketio-client.md).
//!
//! [`events::Server`]: crate::events::Server
//!
//! ```
//! use bytes::Bytes;
//! use rfc6455::Message;
//! use rfc6455::socketio::{AttachmentLimits, Data, EnginePacket, EnginePacketType, Packet, PacketDecoder};
//!
//! // A client's BINARY_ACK, as the WebSocket messages carry it: the text, then the attachment.
//! let messages = [Message::from(r#"461-/admin,1[{"_placeholder":true,"num":0}]"#), Message::from(vec![1u8, 2])];
//! let mut decoder = PacketDecoder::new(AttachmentLimits::default());
//! let mut received = Vec::new();
//! for message in messages {
//!     let packet = match EnginePacket::decode_websocket(message)? {
//!         EnginePacket::Text { packet_type: EnginePacketType::Message, data } => decoder.receive_text(&data)?,
//!         EnginePacket::Binary(bytes) => decoder.receive_binary(bytes)?,
//!         _ => None, // ping, pong, close...: the session's business
//!     };
//!     received.extend(packet);
//! }
//! let ack = Packet::ack("/admin", 1, [Data::from(Bytes::from_static(&[1, 2]))]);
//! assert_eq!(received, [ack]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Why arguments are [`Data`]
//!
//! A payload in memory is [`Data`]: the shape of `serde_json::Value` plus a `Binary` leaf
//! wherever a binary argument is, at any depth. The wire form (placeholders in the JSON, a
//! list of attachments beside it) exists only inside the codec. The other choice, a
//! `Value` holding the placeholders and a `Vec<Bytes>` beside it, was set aside:
//!
//! - A binary value stays where the sender put it: no index to keep in step with a list,
//!   no placeholder that can point nowhere, and a packet can be forwarded or broadcast as it
//!   is. An object that merely looks like a placeholder is an object.
//! - The raw API reads and builds arguments by matching on one enum, with `json!` for the
//!   JSON parts (`Data::from(json!(...))`) and `Data::from(bytes)` for the binary ones.
//! - The typed API maps one to one: serde's bytes (`serialize_bytes`, `visit_bytes`,
//!   `serde_bytes` fields) are `Data::Binary`, everything else is the JSON serde_json
//!   already maps; a serde `Serializer`/`Deserializer` over `Data` is all it needs:
//!   [`to_data`] and [`from_data`] (`Data` is itself a `Deserializer`, and `Serialize` and
//!   `Deserialize`, so it can sit inside a typed struct). Without binary they give what
//!   `serde_json::to_value` and `serde_json::from_value` give.
//! - The cost: a received payload is parsed into a `Value` and moved into `Data` (one walk;
//!   strings are moved, not copied); a sent one is written as JSON straight from `Data`.

mod client;
mod data;
mod data_serde;
mod engine;
mod engine_packet;
mod packet;
mod server;

pub use client::{
    ClientAck, ClientConfig, ClientConnectError, ClientDisconnectReason, ClientEmitError,
    ClientSocket, SocketIoClient,
};
pub use data::Data;
pub use data_serde::{DataError, from_data, to_data};
pub use engine::{
    CloseReason, Cors, CorsOrigin, EngineConfig, EngineConnection, EngineHandlers, EngineSendError,
    EngineServer, EngineTransport, Transports,
};
pub use engine_packet::{
    EngineError, EnginePacket, EnginePacketType, PayloadDecoder, PayloadLimits, decode_payload,
    encode_payload,
};
pub use packet::{
    AttachmentLimits, EncodedPacket, MAIN_NAMESPACE, Packet, PacketDecoder, PacketError,
    PacketType, RESERVED_EVENT_NAMES,
};
pub use server::{
    AckError, AckSender, Admission, BroadcastOperator, ClusterAdapter, ConnectError,
    DisconnectReason, EmitError, Handshake, Namespace, ServerSideAck, Socket, SocketIoConfig,
    SocketIoServer,
};

/// The examples of docs/socketio.md, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../docs/socketio.md")]
pub struct SocketIoGuideDoctests;

/// The example of docs/socketio-client.md, compiled as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../../docs/socketio-client.md")]
pub struct SocketIoClientGuideDoctests;

#[cfg(test)]
#[allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]
mod tests;
