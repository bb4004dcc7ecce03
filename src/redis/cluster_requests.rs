//! What one node of a [`Cluster`](super::Cluster) asks the others about their sockets, and
//! how it answers them: the packets on `<prefix>#request` (every node subscribes) and
//! `<prefix>#response#<node>` (each node its own), and the table of questions waiting for
//! answers.
//!
//! A question is published with `PUBLISH`, whose reply is the number of subscribers that
//! got it: the nodes of the cluster, the asker among them. So the asker knows how many
//! answers to wait for, and a node that died (its connection to Redis closed) is not
//! waited for: its sockets are gone from the next listing at once.
//!
//! | request | bytes |
//! | --- | --- |
//! | header | 1 version (1), 1 kind (1 list, 2 join, 3 leave, 4 disconnect), 16 the asking node, 8 the question's id (big-endian) |
//! | room | 1: 0 every socket, 1 a room, whose name follows as 2 + n (length, big-endian, then UTF-8) |
//! | join, leave | the other room, 2 + n |
//! | disconnect | 2 the close code, then the reason, 2 + n |
//!
//! | response (to a list) | bytes |
//! | --- | --- |
//! | header | 1 version (1), 16 the answering node, 8 the question's id |
//! | sockets | 4 their number, then 8 per socket (its id on that node, [`SocketId::as_u64`](crate::events::SocketId::as_u64)) |
//!
//! Packets that do not parse are dropped and counted with the broadcasts that do not.

// Input reaches this module: no indexing, unwrap, expect or panic that it could trigger.
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Mutex, PoisonError};

use bytes::{Buf, Bytes};

use crate::protocol::CloseCode;

const VERSION: u8 = 1;

/// What a question asks of every node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Ask {
    /// The ids of the sockets in the room.
    List,
    /// The sockets in the room join this one.
    Join(String),
    /// The sockets in the room leave this one.
    Leave(String),
    /// The sockets in the room are closed.
    Disconnect(CloseCode, String),
}

/// A question as it travels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Request {
    pub(crate) node: [u8; 16],
    pub(crate) id: u64,
    pub(crate) room: Option<String>,
    pub(crate) ask: Ask,
}

/// An answer to a [`Ask::List`] as it travels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Response {
    pub(crate) node: [u8; 16],
    pub(crate) id: u64,
    pub(crate) sockets: Vec<u64>,
}

/// What reaches a question waiting in [`Pending`].
#[derive(Debug)]
pub(crate) enum Heard {
    /// How many nodes got the question (`PUBLISH`'s reply), the asker included; or none,
    /// if Redis refused it.
    Nodes(Option<usize>),
    /// This node's own sockets.
    Local(Vec<u64>),
    /// The question came back on this node's own subscription: Redis counted this node
    /// among those that got it.
    Echo,
    /// Another node's.
    Remote([u8; 16], Vec<u64>),
}

/// The questions of this node waiting for answers.
#[derive(Debug, Default)]
pub(crate) struct Pending {
    next: AtomicU64,
    waiting: Mutex<HashMap<u64, Sender<Heard>>>,
}

impl Pending {
    /// A new question's id (never 0, the id of questions that want no answer); what is
    /// heard for it goes to `to`.
    pub(crate) fn open(&self, to: Sender<Heard>) -> u64 {
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        self.lock().insert(id, to);
        id
    }

    /// The question is answered or given up.
    pub(crate) fn close(&self, id: u64) {
        self.lock().remove(&id);
    }

    /// Hands `heard` to question `id`, if it still waits.
    pub(crate) fn hear(&self, id: u64, heard: Heard) {
        if let Some(to) = self.lock().get(&id) {
            let _ = to.send(heard);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Sender<Heard>>> {
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn put_name(packet: &mut Vec<u8>, name: &str) {
    // Names are the application's; one longer than 64 KiB is cut (it would match nothing).
    let length = u16::try_from(name.len()).unwrap_or(u16::MAX);
    packet.extend_from_slice(&length.to_be_bytes());
    packet.extend_from_slice(
        name.as_bytes()
            .get(..usize::from(length))
            .unwrap_or_default(),
    );
}

fn get_name(bytes: &mut Bytes) -> Option<String> {
    let length = usize::from(bytes.try_get_u16().ok()?);
    if bytes.len() < length {
        return None;
    }
    String::from_utf8(bytes.split_to(length).to_vec()).ok()
}

fn get_node(bytes: &mut Bytes) -> Option<[u8; 16]> {
    let mut node = [0u8; 16];
    if bytes.len() < node.len() {
        return None;
    }
    bytes.copy_to_slice(&mut node);
    Some(node)
}

pub(crate) fn encode_request(request: &Request) -> Vec<u8> {
    let mut packet = Vec::with_capacity(64);
    packet.push(VERSION);
    packet.push(match request.ask {
        Ask::List => 1,
        Ask::Join(_) => 2,
        Ask::Leave(_) => 3,
        Ask::Disconnect(..) => 4,
    });
    packet.extend_from_slice(&request.node);
    packet.extend_from_slice(&request.id.to_be_bytes());
    match &request.room {
        Some(room) => {
            packet.push(1);
            put_name(&mut packet, room);
        }
        None => packet.push(0),
    }
    match &request.ask {
        Ask::List => {}
        Ask::Join(room) | Ask::Leave(room) => put_name(&mut packet, room),
        Ask::Disconnect(code, reason) => {
            packet.extend_from_slice(&code.0.to_be_bytes());
            put_name(&mut packet, reason);
        }
    }
    packet
}

pub(crate) fn decode_request(mut bytes: Bytes) -> Option<Request> {
    if bytes.try_get_u8().ok()? != VERSION {
        return None;
    }
    let kind = bytes.try_get_u8().ok()?;
    let node = get_node(&mut bytes)?;
    let id = bytes.try_get_u64().ok()?;
    let room = match bytes.try_get_u8().ok()? {
        0 => None,
        1 => Some(get_name(&mut bytes)?),
        _ => return None,
    };
    let ask = match kind {
        1 => Ask::List,
        2 => Ask::Join(get_name(&mut bytes)?),
        3 => Ask::Leave(get_name(&mut bytes)?),
        4 => {
            let code = CloseCode(bytes.try_get_u16().ok()?);
            Ask::Disconnect(code, get_name(&mut bytes)?)
        }
        _ => return None,
    };
    bytes.is_empty().then_some(Request {
        node,
        id,
        room,
        ask,
    })
}

pub(crate) fn encode_response(response: &Response) -> Vec<u8> {
    let mut packet = Vec::with_capacity(29 + 8 * response.sockets.len());
    packet.push(VERSION);
    packet.extend_from_slice(&response.node);
    packet.extend_from_slice(&response.id.to_be_bytes());
    let count = u32::try_from(response.sockets.len()).unwrap_or(u32::MAX);
    packet.extend_from_slice(&count.to_be_bytes());
    for socket in response.sockets.iter().take(count as usize) {
        packet.extend_from_slice(&socket.to_be_bytes());
    }
    packet
}

pub(crate) fn decode_response(mut bytes: Bytes) -> Option<Response> {
    if bytes.try_get_u8().ok()? != VERSION {
        return None;
    }
    let node = get_node(&mut bytes)?;
    let id = bytes.try_get_u64().ok()?;
    let count = usize::try_from(bytes.try_get_u32().ok()?).ok()?;
    // The count is the sender's word: the bytes must be there before anything is kept.
    if bytes.len() != count.checked_mul(8)? {
        return None;
    }
    let sockets = (0..count).map(|_| bytes.get_u64()).collect();
    Some(Response { node, id, sockets })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn requests() -> Vec<Request> {
        let node = [3u8; 16];
        let ask = |room: Option<&str>, ask| Request {
            node,
            id: 0x0102_0304_0506_0708,
            room: room.map(str::to_owned),
            ask,
        };
        vec![
            ask(Some("lobby"), Ask::List),
            ask(None, Ask::List),
            ask(Some("a"), Ask::Join("b".into())),
            ask(None, Ask::Leave("é".into())),
            ask(Some("x"), Ask::Disconnect(CloseCode(4000), "bye".into())),
        ]
    }

    #[test]
    fn requests_round_trip_and_every_cut_or_bad_byte_is_refused() {
        for request in requests() {
            let packet = encode_request(&request);
            assert_eq!(decode_request(Bytes::from(packet.clone())), Some(request));
            for cut in 0..packet.len() {
                assert_eq!(decode_request(Bytes::copy_from_slice(&packet[..cut])), None);
            }
            let mut longer = packet.clone();
            longer.push(0);
            assert_eq!(decode_request(Bytes::from(longer)), None, "trailing bytes");
            for (at, bad) in [(0, 2), (1, 9), (26, 7)] {
                let mut wrong = packet.clone();
                wrong[at] = bad;
                assert_eq!(decode_request(Bytes::from(wrong)), None, "{at}");
            }
        }
    }

    #[test]
    fn responses_round_trip_and_a_count_without_its_bytes_is_refused() {
        let response = Response {
            node: [9u8; 16],
            id: 42,
            sockets: vec![1, u64::MAX, 7],
        };
        let packet = encode_response(&response);
        assert_eq!(decode_response(Bytes::from(packet.clone())), Some(response));
        for cut in 0..packet.len() {
            assert_eq!(
                decode_response(Bytes::copy_from_slice(&packet[..cut])),
                None
            );
        }
        // A count of 2^32 - 1 with 24 bytes behind it: refused before any allocation.
        let mut lying = packet.clone();
        lying[25..29].copy_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(decode_response(Bytes::from(lying)), None);
    }
}
