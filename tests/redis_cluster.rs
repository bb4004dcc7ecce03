//! Servers as nodes of one cluster through a real `redis-server` (feature `redis`): a
//! broadcast to a room, to everyone, or leaving out its sender, made on one node, reaches
//! the matching sockets of every node exactly once; a node's own broadcasts are not
//! delivered twice to its sockets; a node that leaves stops sending and receiving.
#![cfg(feature = "redis")]

mod support;

use std::time::{Duration, Instant};

use rfc6455::blocking::{ClientStream, WebSocket};
use rfc6455::events::{Handlers, Server, Spawned};
use rfc6455::redis::{Cluster, ClusterConfig};
use rfc6455::{Event, Message};
use support::redis::{PATIENCE, RedisServer};

/// A node: a socket joins the room named by its query (`?room=r`); a text message
/// `room:x` goes to its room, `all:x` to everyone, `others:x` to its room but itself.
fn node() -> Spawned {
    let handlers = Handlers::<String>::new()
        .on_open(|socket| {
            if let Some(room) = socket.query().and_then(|q| q.strip_prefix("room=")) {
                let room = room.to_owned();
                socket.join(&room);
                *socket.data_mut() = room;
            }
        })
        .on_message(|socket, message| {
            let Message::Text(text) = message else { return };
            let room = socket.data().clone();
            let sent = if let Some(body) = text.strip_prefix("room:") {
                socket.to(&room).send(body.to_owned())
            } else if let Some(body) = text.strip_prefix("all:") {
                socket.broadcast().send(body.to_owned())
            } else if let Some(body) = text.strip_prefix("others:") {
                socket.to(&room).except_sender().send(body.to_owned())
            } else {
                Ok(())
            };
            sent.unwrap();
        });
    support::start(Server::new(handlers))
}

fn client(node: &Spawned, path: &str) -> WebSocket<ClientStream> {
    let mut socket = support::client(node, path);
    socket.set_read_timeout(Some(PATIENCE));
    socket
}

/// The next text message, probes skipped.
fn next_text(socket: &mut WebSocket<ClientStream>) -> String {
    loop {
        match socket.read().expect("a message") {
            Event::Message(Message::Text(text)) if text.as_str() != "probe" => {
                return text.as_str().to_owned();
            }
            _ => {}
        }
    }
}

/// Broadcasts probes to `room` from `from` until `to` (a member on another node) gets one:
/// both nodes' links are up and subscribed.
fn wait_for_the_cluster(from: &Spawned, room: &str, to: &mut WebSocket<ClientStream>) {
    let deadline = Instant::now() + PATIENCE;
    to.set_read_timeout(Some(Duration::from_millis(50)));
    loop {
        let _ = from.handle().to(room).send("probe");
        if let Ok(Event::Message(Message::Text(text))) = to.read()
            && text.as_str() == "probe"
        {
            break;
        }
        assert!(Instant::now() < deadline, "the cluster never formed");
    }
    to.set_read_timeout(Some(PATIENCE));
}

#[test]
#[ignore = "needs redis-server (Debian's package; .ci/run installs it)"]
fn broadcasts_reach_every_matching_socket_of_every_node_exactly_once() {
    let redis = RedisServer::start(&[]);
    let (one, two) = (node(), node());
    let cluster_one = Cluster::join(&redis.url(), &one.handle(), ClusterConfig::default()).unwrap();
    let cluster_two = Cluster::join(&redis.url(), &two.handle(), ClusterConfig::default()).unwrap();
    assert_ne!(cluster_one.node_id(), cluster_two.node_id());
    let mut one_in = client(&one, "/?room=r");
    let mut one_out = client(&one, "/?room=elsewhere");
    let mut two_in = client(&two, "/?room=r");
    let mut two_out = client(&two, "/");
    wait_for_the_cluster(&one, "r", &mut two_in);
    wait_for_the_cluster(&two, "r", &mut one_in);

    // To a room, from a handler on node one: its members on both nodes.
    one_in.send("room:hello").unwrap();
    assert_eq!(next_text(&mut one_in), "hello");
    assert_eq!(next_text(&mut two_in), "hello");
    // To everyone, from a handler on node two.
    two_out.send("all:everyone").unwrap();
    for socket in [&mut one_in, &mut one_out, &mut two_in, &mut two_out] {
        assert_eq!(next_text(socket), "everyone");
    }
    // Leaving out the sender (a socket of node one): node two's members all get it.
    one_in.send("others:not for me").unwrap();
    assert_eq!(next_text(&mut two_in), "not for me");
    // From a handle, to a room.
    two.handle().to("elsewhere").send("from a handle").unwrap();
    assert_eq!(next_text(&mut one_out), "from a handle");

    // Nothing arrived twice or where it should not: the next message each socket gets is
    // the end marker, sent from the other node (so it comes through Redis after anything
    // that node published before it).
    two.handle().broadcast().send("end").unwrap();
    assert_eq!(next_text(&mut one_in), "end");
    assert_eq!(next_text(&mut one_out), "end");
    one.handle().broadcast().send("end").unwrap();
    assert_eq!(next_text(&mut two_in), "end");
    assert_eq!(next_text(&mut two_out), "end");
    assert_eq!((cluster_one.dropped(), cluster_one.malformed()), (0, 0));
    assert_eq!((cluster_two.dropped(), cluster_two.malformed()), (0, 0));
}

#[test]
#[ignore = "needs redis-server (Debian's package; .ci/run installs it)"]
fn a_node_that_leaves_the_cluster_neither_sends_nor_receives() {
    let redis = RedisServer::start(&[]);
    let (one, two) = (node(), node());
    let cluster_one = Cluster::join(&redis.url(), &one.handle(), ClusterConfig::default()).unwrap();
    let _cluster_two =
        Cluster::join(&redis.url(), &two.handle(), ClusterConfig::default()).unwrap();
    let mut one_in = client(&one, "/?room=r");
    let mut two_in = client(&two, "/?room=r");
    wait_for_the_cluster(&one, "r", &mut two_in);
    wait_for_the_cluster(&two, "r", &mut one_in);
    drop(cluster_one);
    // Node one's broadcasts stay on node one, and node two's no longer reach it.
    one_in.send("room:local").unwrap();
    assert_eq!(next_text(&mut one_in), "local");
    two_in.send("room:two only").unwrap();
    assert_eq!(next_text(&mut two_in), "two only");
    one.handle().to("r").send("marker one").unwrap();
    assert_eq!(
        next_text(&mut one_in),
        "marker one",
        "node two's message did not come"
    );
    two.handle().to("r").send("marker two").unwrap();
    assert_eq!(
        next_text(&mut two_in),
        "marker two",
        "node one's message did not come"
    );
    // A second cluster on one server is refused.
    assert!(Cluster::join(&redis.url(), &two.handle(), ClusterConfig::default()).is_err());
}
