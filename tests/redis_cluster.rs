//! Servers as nodes of one cluster through a real `redis-server` (feature `redis`): a
//! broadcast to a room, to everyone, or leaving out its sender, made on one node, reaches
//! the matching sockets of every node exactly once; a node's own broadcasts are not
//! delivered twice to its sockets; a node that leaves stops sending and receiving; listings,
//! counts and moves of sockets span the nodes; a node that dies is gone from the next
//! listing; a slow node drops (and counts) what it cannot take.
#![cfg(feature = "redis")]

mod support;

use std::time::{Duration, Instant};

use rfc6455::blocking::{ClientStream, WebSocket};
use rfc6455::events::{Handlers, Server, Spawned};
use rfc6455::redis::{Cluster, ClusterConfig, ClusterError};
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

/// `sockets_in`, `count`, `sockets_join`, `sockets_leave`, `disconnect_sockets` span the
/// nodes: each node answers for its own sockets.
#[test]
#[ignore = "needs redis-server (Debian's package; .ci/run installs it)"]
fn listings_counts_and_moves_span_the_nodes() {
    let redis = RedisServer::start(&[]);
    let (one, two) = (node(), node());
    let cluster_one = Cluster::join(&redis.url(), &one.handle(), ClusterConfig::default()).unwrap();
    let cluster_two = Cluster::join(&redis.url(), &two.handle(), ClusterConfig::default()).unwrap();
    let mut one_in = client(&one, "/?room=r");
    let mut one_out = client(&one, "/?room=elsewhere");
    let mut two_in = client(&two, "/?room=r");
    let _two_out = client(&two, "/");
    wait_for_the_cluster(&one, "r", &mut two_in);
    wait_for_the_cluster(&two, "r", &mut one_in);

    let in_r = cluster_one.sockets_in(Some("r"), PATIENCE).unwrap();
    let nodes: Vec<&str> = in_r.iter().map(|socket| socket.node.as_str()).collect();
    let mut expected = vec![cluster_one.node_id(), cluster_two.node_id()];
    expected.sort();
    assert_eq!(nodes, expected);
    assert_eq!(cluster_two.sockets_in(Some("r"), PATIENCE).unwrap(), in_r);
    assert_eq!(cluster_two.count(None, PATIENCE).unwrap(), 4);
    assert_eq!(cluster_one.count(Some("nobody"), PATIENCE).unwrap(), 0);

    // Moves reach the other node when the question does: wait for them to show.
    let until_count = |room: &str, want: usize| {
        let deadline = Instant::now() + PATIENCE;
        while cluster_two.count(Some(room), PATIENCE).unwrap() != want {
            assert!(Instant::now() < deadline, "{room} never had {want}");
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    cluster_one.sockets_join(Some("r"), "vip").unwrap();
    until_count("vip", 2);
    two.handle().to("vip").send("for the vips").unwrap();
    assert_eq!(next_text(&mut one_in), "for the vips");
    assert_eq!(next_text(&mut two_in), "for the vips");
    cluster_two.sockets_leave(None, "vip").unwrap();
    until_count("vip", 0);
    cluster_two
        .disconnect_sockets(Some("elsewhere"), rfc6455::CloseCode(4001), "bye")
        .unwrap();
    match one_out.read().unwrap() {
        Event::Close(close) => assert_eq!(close.code, rfc6455::CloseCode(4001)),
        other => panic!("expected the close, got {other:?}"),
    }
    until_count("elsewhere", 0);
}

/// A node whose process dies is gone from the next listing: Redis closed its connection,
/// so it no longer counts among the nodes that get a question. A node that is alive but
/// does not answer (stopped) fails the question with a timeout instead of an answer
/// without it.
#[test]
#[ignore = "needs redis-server (Debian's package; .ci/run installs it)"]
fn a_node_that_dies_is_gone_from_the_next_listing() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let redis = RedisServer::start(&[]);
    let one = node();
    let cluster_one = Cluster::join(&redis.url(), &one.handle(), ClusterConfig::default()).unwrap();
    let _one_in = client(&one, "/?room=lobby");
    // The other node: the chat example, in a process of its own.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let exe = std::env::current_exe().unwrap();
    let chat = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples/chat");
    let mut other = Command::new(&chat)
        .args(["--redis", &redis.url(), &format!("127.0.0.1:{port}")])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{} ({e}): cargo build --example chat", chat.display()));
    let mut ready = String::new();
    BufReader::new(other.stdout.take().unwrap())
        .read_line(&mut ready)
        .unwrap();
    assert!(ready.starts_with("chat on http://"), "{ready}");
    let (mut member, _) = WebSocket::connect(&format!("ws://127.0.0.1:{port}/ws")).unwrap();
    member
        .send(r#"{"type":"join","name":"bob","room":"lobby"}"#)
        .unwrap();
    assert!(next_text(&mut member).contains(r#""type":"joined""#));
    let deadline = Instant::now() + PATIENCE;
    while cluster_one.count(Some("lobby"), PATIENCE).unwrap() != 2 {
        assert!(Instant::now() < deadline, "the chat node never joined");
        std::thread::sleep(Duration::from_millis(20));
    }

    // Stopped: it got the question and does not answer.
    let signal = |name: &str| {
        let status = Command::new("kill")
            .args([name, &other.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    };
    signal("-STOP");
    let asked = Instant::now();
    let refused = cluster_one.count(Some("lobby"), Duration::from_millis(300));
    assert_eq!(
        refused,
        Err(ClusterError::Timeout {
            answered: 1,
            expected: 2
        })
    );
    assert!(asked.elapsed() >= Duration::from_millis(300));
    signal("-CONT");
    assert_eq!(cluster_one.count(Some("lobby"), PATIENCE).unwrap(), 2);

    // Killed: the next question counts only the living.
    other.kill().unwrap();
    other.wait().unwrap();
    let killed = Instant::now();
    while cluster_one.count(Some("lobby"), PATIENCE) != Ok(1) {
        assert!(
            killed.elapsed() < Duration::from_secs(2),
            "the dead node still counts"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    println!(
        "the killed node was gone from the listing after {:?}",
        killed.elapsed()
    );
}

/// A slow node (its loop busy) drops what its command queue cannot take from the other
/// nodes' broadcasts and counts it, instead of holding it: bounded by
/// `max_command_queue`, whatever the others send.
#[test]
#[ignore = "needs redis-server (Debian's package; .ci/run installs it)"]
fn a_slow_node_drops_what_it_cannot_take_and_counts_it() {
    use std::sync::mpsc;
    use std::sync::{Arc, Mutex};
    let redis = RedisServer::start(&[]);
    let one = node();
    // Node two: one loop, a 256 KiB command queue, and a handler that holds the loop.
    let (held_to, held) = mpsc::channel();
    let (release, released) = mpsc::channel::<()>();
    let (held_to, released) = (Mutex::new(held_to), Arc::new(Mutex::new(released)));
    let handlers = Handlers::<()>::new()
        .on_open(|socket| socket.join("r"))
        .on_message(move |_, _| {
            held_to.lock().unwrap().send(()).unwrap();
            released.lock().unwrap().recv_timeout(PATIENCE).unwrap();
        });
    let config = rfc6455::Config {
        max_command_queue: 256 << 10,
        ..rfc6455::Config::default()
    };
    let two = support::start(Server::new(handlers).workers(1).config(config));
    let _cluster_one =
        Cluster::join(&redis.url(), &one.handle(), ClusterConfig::default()).unwrap();
    let cluster_two = Cluster::join(&redis.url(), &two.handle(), ClusterConfig::default()).unwrap();
    let mut member = client(&two, "/");
    wait_for_the_cluster(&one, "r", &mut member);
    member.send("hold").unwrap();
    held.recv_timeout(PATIENCE).unwrap();
    // 64 broadcasts of 64 KiB (4 MiB) to a loop that takes in nothing.
    let chunk = "x".repeat(64 << 10);
    for _ in 0..64 {
        one.handle().to("r").send(chunk.as_str()).unwrap();
    }
    let deadline = Instant::now() + PATIENCE;
    while cluster_two.refused() < 60 {
        assert!(
            Instant::now() < deadline,
            "refused {}",
            cluster_two.refused()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let refused = cluster_two.refused();
    release.send(()).unwrap();
    // What was taken in (the queue's 256 KiB: 4 chunks) arrives, then an end marker, sent
    // until one gets through (one sent before the loop drained its queue is refused too).
    member.set_read_timeout(Some(Duration::from_millis(100)));
    let (mut arrived, deadline) = (0, Instant::now() + PATIENCE);
    loop {
        one.handle().to("r").send("end").unwrap();
        match member.read() {
            Ok(Event::Message(Message::Text(text))) if text.as_str() == "end" => break,
            Ok(Event::Message(Message::Text(text))) if text.len() == chunk.len() => arrived += 1,
            _ => assert!(Instant::now() < deadline, "no end marker"),
        }
    }
    assert_eq!((arrived, refused), (4, 60));
}
