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
//!
//! Beside the broadcasts, questions about the nodes' sockets: [`Cluster::sockets_in`] and
//! [`Cluster::count`] list and count a room's members on every node, and
//! [`Cluster::sockets_join`], [`Cluster::sockets_leave`] and
//! [`Cluster::disconnect_sockets`] act on them (their wire: `cluster_requests.rs`).

// Input reaches this module: no indexing, unwrap, expect or panic that it could trigger.
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::sync::{Arc, OnceLock, Weak};
use std::time::{Duration, Instant};

use bytes::{Buf, Bytes};

use super::cluster_requests::{
    Ask, Heard, Pending, Request, Response, decode_request, decode_response, encode_request,
    encode_response,
};
use super::pubsub::{PubSub, PubSubConfig, PubSubMessage};
use super::resp::Reply;
use crate::events::{Fanout, Handle, SocketId};
use crate::protocol::{CloseCode, EncodedMessage, Message, MessageKind, Text};

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
    /// Other nodes' broadcasts that a loop of this node refused (its command queue full).
    refused: AtomicU64,
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
    handle: Handle,
    requests: Bytes,
    pending: Arc<Pending>,
}

/// One socket of a cluster: the node it is on, and its id there.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClusterSocket {
    /// Its node's id ([`Cluster::node_id`]).
    pub node: String,
    /// Its id on that node ([`SocketId::as_u64`]; a [`SocketId`] of this node's when
    /// `node` is this node).
    pub id: u64,
}

/// Why a question to the cluster got no full answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClusterError {
    /// The question could not be published (the link's queue is full, or it stopped).
    #[error("the question could not be published: {0}")]
    Publish(#[from] super::PublishError),
    /// Redis did not say how many nodes got it (it is down, or refused the `PUBLISH`).
    #[error("Redis did not say how many nodes got the question")]
    NoNodeCount,
    /// Not every node answered in time: `answered` of `expected` did (this one included).
    #[error("{answered} of {expected} nodes answered in time")]
    Timeout {
        /// Nodes that answered, this one included.
        answered: usize,
        /// Nodes that got the question, this one included.
        expected: usize,
    },
    /// This server's loops are gone.
    #[error("this server has stopped")]
    Stopped,
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
        let requests = Bytes::from(format!("{}#request", config.prefix));
        let responses = response_channel(&config.prefix, &node);
        let counters = Arc::new(Counters::default());
        let pending = Arc::new(Pending::default());
        let answering = Arc::new(OnceLock::new());
        let receiving = Receiving {
            handle: handle.clone(),
            node,
            counters: counters.clone(),
            broadcasts: channel.clone(),
            requests: requests.clone(),
            prefix: config.prefix.clone(),
            pending: pending.clone(),
            link: answering.clone(),
        };
        let link = Arc::new(PubSub::connect(url, config.pubsub, move |message| {
            receiving.deliver(message);
        })?);
        let _ = answering.set(Arc::downgrade(&link));
        link.subscribe(channel.clone());
        link.subscribe(requests.clone());
        link.subscribe(responses);
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
            handle: handle.clone(),
            requests,
            pending,
        })
    }

    /// The sockets in `room` (every socket when `None`) on every node of the cluster, this
    /// one included, sorted by node and id. The question goes to every node through
    /// Redis, whose `PUBLISH` reply says how many nodes got it; the call waits (at most
    /// `timeout`) for each to answer, so call it from a thread of the application's, not
    /// from a handler. A node that died is not waited for: its connection to Redis closed,
    /// so it no longer counts (at once when its process dies; for a machine that vanishes
    /// without closing its connections, once Redis drops them: see Redis's `timeout` and
    /// `tcp-keepalive` settings). Fails when a node that got the question did not answer in
    /// time ([`ClusterError::Timeout`]), or Redis is away.
    pub fn sockets_in(
        &self,
        room: Option<&str>,
        timeout: Duration,
    ) -> Result<Vec<ClusterSocket>, ClusterError> {
        let deadline = Instant::now() + timeout;
        let (heard_to, heard) = channel();
        let id = self.pending.open(heard_to.clone());
        let asked = self.ask(id, room, Ask::List, heard_to);
        let answer = asked.and_then(|()| self.gather(&heard, deadline));
        self.pending.close(id);
        answer
    }

    /// How many sockets are in `room` (every socket when `None`) on every node: the length
    /// of [`sockets_in`](Self::sockets_in), with its waits and errors.
    pub fn count(&self, room: Option<&str>, timeout: Duration) -> Result<usize, ClusterError> {
        self.sockets_in(room, timeout).map(|sockets| sockets.len())
    }

    /// Makes every socket in `room` (every socket when `None`) on every node join `to`:
    /// this node's at once, the others' when the question reaches them (nothing waits
    /// for them; a node away from Redis meanwhile misses it).
    pub fn sockets_join(&self, room: Option<&str>, to: &str) -> Result<(), ClusterError> {
        self.handle
            .sockets_join(room, to)
            .map_err(|_| ClusterError::Stopped)?;
        self.tell(room, Ask::Join(to.to_owned()))
    }

    /// Makes every socket in `room` (every socket when `None`) on every node leave `from`,
    /// as [`sockets_join`](Self::sockets_join) does.
    pub fn sockets_leave(&self, room: Option<&str>, from: &str) -> Result<(), ClusterError> {
        self.handle
            .sockets_leave(room, from)
            .map_err(|_| ClusterError::Stopped)?;
        self.tell(room, Ask::Leave(from.to_owned()))
    }

    /// Closes every socket in `room` (every socket when `None`) on every node with `code`
    /// and `reason`, as [`sockets_join`](Self::sockets_join) does.
    pub fn disconnect_sockets(
        &self,
        room: Option<&str>,
        code: CloseCode,
        reason: &str,
    ) -> Result<(), ClusterError> {
        self.handle
            .disconnect_sockets(room, code, reason)
            .map_err(|_| ClusterError::Stopped)?;
        self.tell(room, Ask::Disconnect(code, reason.to_owned()))
    }

    /// Publishes a question that needs no answer.
    fn tell(&self, room: Option<&str>, ask: Ask) -> Result<(), ClusterError> {
        let request = Request {
            node: self.node,
            id: 0,
            room: room.map(str::to_owned),
            ask,
        };
        Ok(self
            .link
            .publish(self.requests.clone(), encode_request(&request))?)
    }

    /// Publishes question `id` (learning from the reply how many nodes got it) and lists
    /// this node's own sockets, both heard through `heard_to`.
    fn ask(
        &self,
        id: u64,
        room: Option<&str>,
        ask: Ask,
        heard_to: std::sync::mpsc::Sender<Heard>,
    ) -> Result<(), ClusterError> {
        let request = Request {
            node: self.node,
            id,
            room: room.map(str::to_owned),
            ask,
        };
        let packet = encode_request(&request);
        let nodes_to = heard_to.clone();
        self.link
            .query(&[b"PUBLISH", &self.requests, &packet], move |reply| {
                let nodes = match reply {
                    Reply::Integer(nodes) => usize::try_from(nodes).ok(),
                    _ => None,
                };
                let _ = nodes_to.send(Heard::Nodes(nodes));
            })?;
        self.handle
            .sockets_in(room, move |ids| {
                let ids = ids.into_iter().map(SocketId::as_u64).collect();
                let _ = heard_to.send(Heard::Local(ids));
            })
            .map_err(|_| ClusterError::Stopped)
    }

    /// Waits until every node that got the question answered, or `deadline`.
    fn gather(
        &self,
        heard: &std::sync::mpsc::Receiver<Heard>,
        deadline: Instant,
    ) -> Result<Vec<ClusterSocket>, ClusterError> {
        let me = self.node_id();
        let mut nodes: Option<usize> = None;
        let (mut local, mut echo) = (false, false);
        let mut answered: std::collections::BTreeMap<[u8; 16], Vec<u64>> = Default::default();
        loop {
            // Redis's count has this node in it once its own subscription got the question
            // (the echo); until then, for all this node knows, every counted node is
            // another one that will answer.
            let others = answered.len() - usize::from(local);
            if let Some(nodes) = nodes
                && local
                && others + usize::from(echo) >= nodes
            {
                break;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match heard.recv_timeout(left) {
                Ok(Heard::Nodes(Some(count))) => nodes = Some(count),
                Ok(Heard::Nodes(None)) => return Err(ClusterError::NoNodeCount),
                Ok(Heard::Local(ids)) => {
                    local = true;
                    answered.insert(self.node, ids);
                }
                Ok(Heard::Echo) => echo = true,
                Ok(Heard::Remote(node, ids)) => {
                    answered.insert(node, ids);
                }
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => {
                    let Some(expected) = nodes else {
                        return Err(ClusterError::NoNodeCount);
                    };
                    // This node's own entry is in `answered` once its loops answered.
                    return Err(ClusterError::Timeout {
                        answered: answered.len(),
                        expected,
                    });
                }
            }
        }
        let mut sockets: Vec<ClusterSocket> = answered
            .into_iter()
            .flat_map(|(node, ids)| {
                let node = match node == self.node {
                    true => me.clone(),
                    false => hex(&node),
                };
                ids.into_iter().map(move |id| ClusterSocket {
                    node: node.clone(),
                    id,
                })
            })
            .collect();
        sockets.sort();
        Ok(sockets)
    }

    /// This node's id in the cluster (random, 32 hex digits).
    pub fn node_id(&self) -> String {
        hex(&self.node)
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

    /// Packets from the cluster's channels that were not delivered (not a packet of this
    /// format, or text that is not UTF-8).
    pub fn malformed(&self) -> u64 {
        self.counters.malformed.load(Ordering::Relaxed)
    }

    /// Other nodes' broadcasts that did not reach some of this node's sockets because a
    /// loop of this node was so far behind that its command queue was full
    /// ([`Config::max_command_queue`](crate::Config::max_command_queue)): a slow node
    /// drops what it cannot take rather than holding it, so its memory stays bounded.
    pub fn refused(&self) -> u64 {
        self.counters.refused.load(Ordering::Relaxed)
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

fn hex(node: &[u8; 16]) -> String {
    node.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The channel where `node` hears the answers to its questions.
fn response_channel(prefix: &str, node: &[u8; 16]) -> Bytes {
    Bytes::from(format!("{prefix}#response#{}", hex(node)))
}

/// What the link's thread does with the channels' packets.
struct Receiving {
    handle: Handle,
    node: [u8; 16],
    counters: Arc<Counters>,
    broadcasts: Bytes,
    requests: Bytes,
    prefix: String,
    pending: Arc<Pending>,
    /// The link, to answer questions on (set once it exists).
    link: Arc<OnceLock<Weak<PubSub>>>,
}

impl Receiving {
    fn deliver(&self, message: PubSubMessage) {
        if message.channel == self.broadcasts {
            self.broadcast(message.payload);
        } else if message.channel == self.requests {
            self.answer(message.payload);
        } else {
            match decode_response(message.payload) {
                Some(Response { node, id, sockets }) => {
                    self.pending.hear(id, Heard::Remote(node, sockets));
                }
                None => {
                    self.counters.malformed.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }

    /// Another node's question: done to this node's sockets, and for a list answered on
    /// the asker's response channel (from the last loop's thread, when all have looked).
    fn answer(&self, payload: Bytes) {
        let Some(request) = decode_request(payload) else {
            self.counters.malformed.fetch_add(1, Ordering::Relaxed);
            return;
        };
        if request.node == self.node {
            // Ours: this node answered itself when it asked; Redis counted it.
            self.pending.hear(request.id, Heard::Echo);
            return;
        }
        let room = request.room.as_deref();
        // A loop gone means the server is stopping: nothing to answer with then.
        let _ = match request.ask {
            Ask::List => {
                let Some(link) = self.link.get().cloned() else {
                    return;
                };
                let channel = response_channel(&self.prefix, &request.node);
                let (node, id) = (self.node, request.id);
                self.handle.sockets_in(room, move |ids| {
                    let sockets = ids.into_iter().map(SocketId::as_u64).collect();
                    let response = encode_response(&Response { node, id, sockets });
                    if let Some(link) = link.upgrade() {
                        // A full queue: the asker times out, as for a node that is slow.
                        let _ = link.publish(channel, response);
                    }
                })
            }
            Ask::Join(to) => self.handle.sockets_join(room, &to),
            Ask::Leave(from) => self.handle.sockets_leave(room, &from),
            Ask::Disconnect(code, reason) => self.handle.disconnect_sockets(room, code, &reason),
        };
    }

    fn broadcast(&self, payload: Bytes) {
        let Some(packet) = decode(payload) else {
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
        // A loop whose command queue is full (it is far behind: a slow node) drops it
        // there, as for any broadcast: counted, so that the loss is seen.
        if broadcast.this_server_only().send(packet.message).is_err() {
            self.counters.refused.fetch_add(1, Ordering::Relaxed);
        }
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
