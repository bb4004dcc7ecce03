//! [`Cluster`]: an event-API server as one node of several, its broadcasts carried to the
//! others through Redis pub/sub. A broadcast made on any node (from a handler or a
//! `Handle`, to a room or to everyone) reaches the matching sockets of every node once:
//! each node delivers to its own sockets, publishes the broadcast on the cluster's channel,
//! and delivers what the other nodes publish there; what it published itself comes back
//! from Redis and is left out, so its sockets do not get it twice.
//!
//! On the channel `<prefix>#broadcast`, one packet per broadcast:
//!
//! | bytes | what |
//! | --- | --- |
//! | 1 | version, 1 |
//! | 16 | the node that broadcast |
//! | 1 | the message's kind: 1 text, 2 binary |
//! | 1 | 0: to everyone; 1: to a room, whose name follows |
//! | 2 + n | (to a room) the name's length, big-endian, and the name, UTF-8 |
//! | the rest | the message's payload |
//!
//! A broadcast's `except(socket)` names a socket of the broadcasting node: the other nodes'
//! members all get it. Packets that do not parse, or text that is not UTF-8, are dropped
//! and counted ([`Cluster::malformed`]), never delivered.

// Input reaches this module: no indexing, unwrap, expect or panic that it could trigger.
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use bytes::{Buf, Bytes};

use super::pubsub::{PubSub, PubSubConfig, PubSubMessage};
use crate::events::{Fanout, Handle};
use crate::protocol::{EncodedMessage, Message, MessageKind, Text};

const VERSION: u8 = 1;
const TEXT: u8 = 1;
const BINARY: u8 = 2;

/// How a node joins its cluster.
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    /// The start of the cluster's channel names (`<prefix>#broadcast`): nodes with the same
    /// prefix on the same Redis are one cluster. Default `rfc6455`.
    pub prefix: String,
    /// The Redis link's settings (its publish queue bound, its decoder's limits).
    pub pubsub: PubSubConfig,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            prefix: "rfc6455".to_owned(),
            pubsub: PubSubConfig::default(),
        }
    }
}

/// What a node counts.
#[derive(Debug, Default)]
struct Counters {
    /// Broadcasts not published: the link's queue was full (Redis slow or gone).
    dropped: AtomicU64,
    /// Packets from the channel that were not delivered: unparsable, or not UTF-8 text.
    malformed: AtomicU64,
}

/// A server's membership of a cluster: keep it for as long as the server is to be part of
/// it; dropping it leaves the cluster (the Redis link stops; the server's broadcasts stay
/// on it).
///
/// ```no_run
/// use rfc6455::events::{Handlers, Server};
/// use rfc6455::redis::{Cluster, ClusterConfig};
///
/// let handlers = Handlers::<()>::new()
///     .on_open(|socket| socket.join("lobby"))
///     // Reaches the lobby's members on every node of the cluster.
///     .on_message(|socket, message| drop(socket.to("lobby").send(message)));
/// let loops = Server::new(handlers).bind("127.0.0.1:8081")?;
/// let _cluster = Cluster::join("redis://127.0.0.1:6379", &loops.handle(), ClusterConfig::default())?;
/// loops.run()?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Cluster {
    link: Arc<PubSub>,
    node: [u8; 16],
    counters: Arc<Counters>,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("node", &self.node_id())
            .field("connected", &self.is_connected())
            .finish()
    }
}

impl Cluster {
    /// Joins the server of `handle` to the cluster on the Redis server at `url`
    /// (`redis://host:port`): from now on its broadcasts also reach the other nodes, and
    /// theirs reach its sockets. Fails if the URL is not one, or if the server already has
    /// a fanout ([`Handle::set_fanout`]). The link connects in the background; a Redis that
    /// is down is retried.
    pub fn join(url: &str, handle: &Handle, config: ClusterConfig) -> std::io::Result<Cluster> {
        let mut node = [0u8; 16];
        getrandom::fill(&mut node).map_err(std::io::Error::other)?;
        let channel = Bytes::from(format!("{}#broadcast", config.prefix));
        let counters = Arc::new(Counters::default());
        let receiving = Receiving {
            handle: handle.clone(),
            node,
            counters: counters.clone(),
        };
        let link = Arc::new(PubSub::connect(url, config.pubsub, move |message| {
            receiving.deliver(message);
        })?);
        link.subscribe(channel.clone());
        let fanout = Publishing {
            link: Arc::downgrade(&link),
            node,
            channel,
            counters: counters.clone(),
        };
        handle
            .set_fanout(fanout)
            .map_err(|error| std::io::Error::new(std::io::ErrorKind::AlreadyExists, error))?;
        Ok(Cluster {
            link,
            node,
            counters,
        })
    }

    /// This node's id in the cluster (random, 32 hex digits).
    pub fn node_id(&self) -> String {
        self.node.iter().map(|byte| format!("{byte:02x}")).collect()
    }

    /// The Redis link is up (both of its connections, subscriptions sent).
    pub fn is_connected(&self) -> bool {
        self.link.is_connected()
    }

    /// Broadcasts of this node that did not go to the cluster because the link's queue
    /// was full ([`PubSubConfig::max_queued_bytes`]).
    pub fn dropped(&self) -> u64 {
        self.counters.dropped.load(Ordering::Relaxed)
    }

    /// Packets from the cluster's channel that were not delivered (not a packet of this
    /// format, or text that is not UTF-8).
    pub fn malformed(&self) -> u64 {
        self.counters.malformed.load(Ordering::Relaxed)
    }
}

/// The fanout set on the server: publishes its broadcasts.
struct Publishing {
    /// Weak: the `Cluster` owns the link, so dropping it stops the link's thread.
    link: Weak<PubSub>,
    node: [u8; 16],
    channel: Bytes,
    counters: Arc<Counters>,
}

impl Fanout for Publishing {
    fn broadcast(&self, room: Option<&str>, message: &EncodedMessage) {
        let Some(link) = self.link.upgrade() else {
            return;
        };
        let packet = encode(self.node, room, message.kind(), &message.payload());
        if link.publish(self.channel.clone(), packet).is_err() {
            self.counters.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// What the link's thread does with the channel's packets.
struct Receiving {
    handle: Handle,
    node: [u8; 16],
    counters: Arc<Counters>,
}

impl Receiving {
    fn deliver(&self, message: PubSubMessage) {
        let Some(packet) = decode(message.payload) else {
            self.counters.malformed.fetch_add(1, Ordering::Relaxed);
            return;
        };
        if packet.node == self.node {
            return; // ours, delivered here when it was made
        }
        let broadcast = match &packet.room {
            Some(room) => self.handle.to(room),
            None => self.handle.broadcast(),
        };
        // A full command queue on a loop drops it there, as for any broadcast.
        let _ = broadcast.this_server_only().send(packet.message);
    }
}

/// A broadcast as it travels between nodes.
#[derive(Debug, PartialEq, Eq)]
struct Packet {
    node: [u8; 16],
    room: Option<String>,
    message: Message,
}

fn encode(node: [u8; 16], room: Option<&str>, kind: MessageKind, payload: &[u8]) -> Vec<u8> {
    let room_bytes = room.map_or(0, |room| 2 + room.len());
    let mut packet = Vec::with_capacity(20 + room_bytes + payload.len());
    packet.push(VERSION);
    packet.extend_from_slice(&node);
    packet.push(match kind {
        MessageKind::Text => TEXT,
        MessageKind::Binary => BINARY,
    });
    match room {
        // Room names are the application's; one longer than 64 KiB is cut (no node
        // would have such a room: the name in the packet would match none).
        Some(room) => {
            let name = room.as_bytes();
            let length = u16::try_from(name.len()).unwrap_or(u16::MAX);
            packet.push(1);
            packet.extend_from_slice(&length.to_be_bytes());
            packet.extend_from_slice(name.get(..usize::from(length)).unwrap_or_default());
        }
        None => packet.push(0),
    }
    packet.extend_from_slice(payload);
    packet
}

fn decode(mut bytes: Bytes) -> Option<Packet> {
    if bytes.len() < 19 || bytes.get_u8() != VERSION {
        return None;
    }
    let mut node = [0u8; 16];
    bytes.copy_to_slice(&mut node);
    let kind = bytes.get_u8();
    let room = match bytes.try_get_u8().ok()? {
        0 => None,
        1 => {
            let length = usize::from(bytes.try_get_u16().ok()?);
            if bytes.len() < length {
                return None;
            }
            let name = bytes.split_to(length);
            Some(String::from_utf8(name.to_vec()).ok()?)
        }
        _ => return None,
    };
    let message = match kind {
        TEXT => Message::Text(Text::from_utf8(bytes).ok()?),
        BINARY => Message::Binary(bytes),
        _ => return None,
    };
    Some(Packet {
        node,
        room,
        message,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn packets_round_trip_and_malformed_ones_are_refused() {
        let node = [7u8; 16];
        let packet = encode(node, Some("room"), MessageKind::Text, "hé".as_bytes());
        assert_eq!(
            decode(Bytes::from(packet.clone())),
            Some(Packet {
                node,
                room: Some("room".into()),
                message: Message::Text(Text::from("hé")),
            })
        );
        let everyone = encode(node, None, MessageKind::Binary, &[0, 255]);
        assert_eq!(
            decode(Bytes::from(everyone.clone())).map(|p| (p.room, p.message)),
            Some((None, Message::Binary(Bytes::from_static(&[0, 255]))))
        );
        // Every cut short of the whole, a wrong version, kind or room flag, bad UTF-8.
        for cut in 0..packet.len() - "hé".len() {
            assert_eq!(
                decode(Bytes::copy_from_slice(&packet[..cut])),
                None,
                "cut at {cut}"
            );
        }
        let mut bad = packet.clone();
        bad[0] = 2;
        assert_eq!(decode(Bytes::from(bad)), None);
        let mut bad = packet.clone();
        bad[17] = 3;
        assert_eq!(decode(Bytes::from(bad)), None);
        let mut bad = packet.clone();
        bad[18] = 9;
        assert_eq!(decode(Bytes::from(bad)), None);
        let mut bad = everyone.clone();
        bad[17] = TEXT;
        assert_eq!(decode(Bytes::from(bad)), None, "0xff is not UTF-8");
    }
}
