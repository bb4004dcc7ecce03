//! Our Socket.IO nodes in one cluster through a real `redis-server` (features `redis` and
//! `socketio`; Debian's package, which `.ci/run` installs), no Node needed: broadcasts,
//! rooms, except, joins and questions between two of our nodes, and what happens while
//! Redis is down and after it is back. The same with a Node node beside ours is
//! tests/interop/socketio_redis.rs.
#![cfg(all(feature = "redis", feature = "socketio"))]

mod support;

use std::sync::mpsc::channel;
use std::time::{Duration, Instant};

use rfc6455::socketio::Data;
use support::PATIENCE;
use support::redis::RedisServer;
use support::socketio_cluster::{Listener, RustNode, expect_exactly, wait_for_nodes, wait_until};

#[test]
#[ignore = "needs redis-server (Debian's package; .ci/run installs it)"]
fn two_of_our_nodes_share_broadcasts_rooms_joins_and_questions() {
    let redis = RedisServer::start(&[]);
    let a = RustNode::start(&redis.url());
    let b = RustNode::start(&redis.url());
    wait_for_nodes(redis.port, 2);
    let (news, received) = channel();
    let a1 = Listener::connect("a1", &a.url(), &["red"], &news);
    let a2 = Listener::connect("a2", &a.url(), &["blue"], &news);
    let b1 = Listener::connect("b1", &b.url(), &["red"], &news);
    let b2 = Listener::connect("b2", &b.url(), &["blue", "vip"], &news);
    wait_until("every socket in its rooms", || {
        [&a1, &a2, &b1, &b2]
            .iter()
            .all(|client| client.socket.connected())
            && a.main.to("red").to("blue").len() == 2
            && b.main.to("red").to("blue").len() == 2
    });

    a.main.emit("news", vec![Data::from("A-all")]).unwrap();
    b.main
        .to("red")
        .emit("news", vec![Data::from("B-red")])
        .unwrap();
    a.main
        .except("vip")
        .emit("news", vec![Data::from("A-not-vip")])
        .unwrap();
    let multi = b.main.to("red").to("vip").except("blue");
    multi
        .emit("news", vec![Data::from("B-red-or-vip-not-blue")])
        .unwrap();
    a.main
        .local()
        .emit("news", vec![Data::from("A-local")])
        .unwrap();
    let binary = vec![Data::from("B-bin"), Data::Binary(vec![0u8, 255].into())];
    b.main.to("blue").emit("news", binary).unwrap();
    expect_exactly(
        &received,
        &[
            (
                "a1",
                &[
                    "A-all",
                    "B-red",
                    "A-not-vip",
                    "B-red-or-vip-not-blue",
                    "A-local",
                ],
            ),
            (
                "a2",
                &["A-all", "A-not-vip", "A-local", "B-bin+bin[0, 255]"],
            ),
            (
                "b1",
                &["A-all", "B-red", "A-not-vip", "B-red-or-vip-not-blue"],
            ),
            ("b2", &["A-all", "B-bin+bin[0, 255]"]),
        ],
        "broadcasts between two of our nodes",
    );

    // A join asked on one node is done on both; so is a leave.
    a.main.to("blue").sockets_join("gold");
    wait_until("b2 in gold", || b.main.to("gold").len() == 1);
    b.main
        .to("gold")
        .emit("news", vec![Data::from("B-gold")])
        .unwrap();
    expect_exactly(
        &received,
        &[("a2", &["B-gold"]), ("b2", &["B-gold"])],
        "joined",
    );
    b.main.local().to("vip").sockets_leave("gold");
    b.main
        .to("gold")
        .emit("news", vec![Data::from("B-gold-after")])
        .unwrap();
    expect_exactly(&received, &[("a2", &["B-gold-after"])], "left on B alone");

    // Questions.
    assert_eq!(a.adapter.server_count("/"), Ok(2));
    let mut red: Vec<String> = a
        .adapter
        .fetch_sockets(&a.main.to("red"))
        .unwrap()
        .into_iter()
        .map(|socket| socket.id)
        .collect();
    red.sort();
    let mut want = vec![a1.id(), b1.id()];
    want.sort();
    assert_eq!(red, want);
    let described = b.adapter.fetch_sockets(&b.main.to(a2.id())).unwrap();
    assert_eq!(described.len(), 1);
    assert!(described[0].rooms.contains(&"gold".to_owned()));
    let rooms = a.adapter.all_rooms("/").unwrap();
    assert!(
        rooms.contains("vip") && rooms.contains(&b2.id()),
        "{rooms:?}"
    );
    // A remote disconnect.
    a.main.to("vip").disconnect_sockets(false);
    wait_until("b2 disconnected", || !b2.socket.connected());
    assert_eq!(b.main.sockets().len(), 1);
    assert_eq!((a.adapter.malformed(), b.adapter.malformed()), (0, 0));
}

/// Server-side emits between two of our nodes: one heard by the other's handler, one
/// answered by it; one with no handler there times out; a binary argument is refused.
#[test]
#[ignore = "needs redis-server (Debian's package; .ci/run installs it)"]
fn server_side_emits_between_two_of_our_nodes() {
    use rfc6455::redis::RequestError;
    use serde_json::json;
    let redis = RedisServer::start(&[]);
    let a = RustNode::start(&redis.url());
    let b = RustNode::start(&redis.url());
    wait_for_nodes(redis.port, 2);
    let (heard_to, heard) = channel();
    let heard_to = std::sync::Mutex::new(heard_to);
    b.main.on_server_side("hello", move |args, ack| {
        let answered = ack.is_some();
        heard_to
            .lock()
            .unwrap()
            .send((args.clone(), answered))
            .unwrap();
        if let Some(ack) = ack {
            ack.send(Data::from(json!({"from": "b", "got": args.len()})));
        }
    });
    a.adapter
        .server_side_emit("/", "hello", vec![Data::from("world")])
        .unwrap();
    assert_eq!(
        heard.recv_timeout(PATIENCE).unwrap(),
        (vec![Data::from("world")], false)
    );
    let answers = a
        .adapter
        .server_side_emit_with_ack(
            "/",
            "hello",
            vec![Data::from(json!(1)), Data::from(json!(2))],
        )
        .unwrap();
    assert_eq!(answers, vec![Data::from(json!({"from": "b", "got": 2}))]);
    assert!(heard.recv_timeout(PATIENCE).unwrap().1, "with an ack");
    // No handler for it on b: never answered, the question times out.
    let config_timeout = Instant::now();
    assert_eq!(
        b.adapter.server_side_emit_with_ack("/", "nobody", vec![]),
        Err(RequestError::Timeout {
            answered: 0,
            expected: 1
        })
    );
    assert!(config_timeout.elapsed() >= Duration::from_secs(4));
    assert_eq!(
        a.adapter
            .server_side_emit("/", "hello", vec![Data::Binary(vec![1u8].into())]),
        Err(RequestError::BinaryArguments)
    );
}

#[test]
#[ignore = "needs redis-server (Debian's package; .ci/run installs it)"]
fn while_redis_is_down_a_node_reaches_its_own_sockets_and_after_it_every_node_again() {
    let mut redis = RedisServer::start(&[]);
    let a = RustNode::start(&redis.url());
    let b = RustNode::start(&redis.url());
    wait_for_nodes(redis.port, 2);
    let (news, received) = channel();
    let a1 = Listener::connect("a1", &a.url(), &[], &news);
    let b1 = Listener::connect("b1", &b.url(), &[], &news);
    wait_until("connected", || {
        a1.socket.connected() && b1.socket.connected()
    });

    redis.kill();
    wait_until("both links down", || {
        !a.adapter.is_connected() && !b.adapter.is_connected()
    });
    a.main.emit("news", vec![Data::from("during")]).unwrap();
    expect_exactly(
        &received,
        &[("a1", &["during"])],
        "Redis down: A's own sockets only",
    );

    redis.restart();
    wait_for_nodes(redis.port, 2);
    wait_until("both links up", || {
        a.adapter.is_connected() && b.adapter.is_connected()
    });
    a.main.emit("news", vec![Data::from("after-A")]).unwrap();
    b.main.emit("news", vec![Data::from("after-B")]).unwrap();
    // The publish queued while Redis was down went out on reconnection: B got it only if
    // it had subscribed again by then, and never twice.
    let mut got: Vec<(&str, String)> = Vec::new();
    let deadline = Instant::now() + PATIENCE;
    while got
        .iter()
        .filter(|(_, label)| label.starts_with("after"))
        .count()
        < 4
    {
        let left = deadline.saturating_duration_since(Instant::now());
        let (name, args) = received.recv_timeout(left).expect("the broadcasts after");
        got.push((name, args[0].as_str().unwrap().to_owned()));
    }
    while let Ok((name, args)) = received.recv_timeout(Duration::from_millis(300)) {
        got.push((name, args[0].as_str().unwrap().to_owned()));
    }
    let late = ("b1", "during".to_owned());
    let late_copies = got.iter().filter(|entry| **entry == late).count();
    assert!(late_copies <= 1, "{got:?}");
    let mut after: Vec<(&str, String)> = got.into_iter().filter(|entry| *entry != late).collect();
    after.sort();
    let want: Vec<(&str, String)> = [
        ("a1", "after-A"),
        ("a1", "after-B"),
        ("b1", "after-A"),
        ("b1", "after-B"),
    ]
    .map(|(name, label)| (name, label.to_owned()))
    .into();
    assert_eq!(after, want, "every node again, once each");
}

/// A Socket.IO node whose process dies is gone from the next `fetch_sockets`: Redis closed
/// its connections, so `PUBSUB NUMSUB` no longer counts it among the nodes to wait for.
#[test]
#[ignore = "needs redis-server (Debian's package; .ci/run installs it)"]
fn a_socketio_node_that_dies_is_gone_from_the_next_fetch() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let redis = RedisServer::start(&[]);
    let a = RustNode::start(&redis.url());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let exe = std::env::current_exe().unwrap();
    let echo = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples/socketio_echo");
    let mut other = Command::new(&echo)
        .args([&format!("127.0.0.1:{port}"), "--redis", &redis.url()])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "{} ({e}): cargo build --example socketio_echo",
                echo.display()
            )
        });
    let mut banner = String::new();
    let mut lines = BufReader::new(other.stdout.take().unwrap());
    lines.read_line(&mut banner).unwrap();
    assert!(banner.contains("socket.io echo server"), "{banner}");
    // Drained, so that the example never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines.lines() {});
    wait_for_nodes(redis.port, 2);
    let (news, _received) = channel();
    let remote = Listener::connect("r1", &format!("http://127.0.0.1:{port}"), &[], &news);
    wait_until("the other node's socket", || remote.socket.connected());
    let remote_id = remote.id();
    let fetched = a
        .adapter
        .fetch_sockets(&a.main.to(remote_id.clone()))
        .unwrap();
    assert_eq!(fetched.len(), 1, "listed while its node lives");
    other.kill().unwrap();
    other.wait().unwrap();
    let killed = Instant::now();
    loop {
        match a.adapter.fetch_sockets(&a.main.to(remote_id.clone())) {
            Ok(sockets) if sockets.is_empty() => break,
            _ => assert!(
                killed.elapsed() < Duration::from_secs(2),
                "the dead node still counts"
            ),
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    println!(
        "the killed node was gone from fetch_sockets after {:?}",
        killed.elapsed()
    );
    assert_eq!(a.adapter.server_count("/"), Ok(1));
}

/// A slow Socket.IO node (its one loop held) drops the other nodes' broadcasts its command
/// queue cannot take and counts them (`SocketIoAdapter::refused`): bounded by
/// `max_command_queue`, whatever the others send.
#[test]
#[ignore = "needs redis-server (Debian's package; .ci/run installs it)"]
fn a_slow_socketio_node_drops_what_it_cannot_take_and_counts_it() {
    use rfc6455::events::{Handlers, Server};
    use rfc6455::redis::{SocketIoAdapter, SocketIoAdapterConfig};
    use rfc6455::socketio::{SocketIoConfig, SocketIoServer};
    use std::sync::{Arc, Mutex};
    let redis = RedisServer::start(&[]);
    let a = RustNode::start(&redis.url());
    // Node b: one loop, a 256 KiB command queue, a plain WebSocket whose handler holds it.
    let (held_to, held) = channel();
    let (release, released) = channel::<()>();
    let (held_to, released) = (Mutex::new(held_to), Arc::new(Mutex::new(released)));
    let handlers = Handlers::<()>::new().on_message(move |_, _| {
        held_to.lock().unwrap().send(()).unwrap();
        released.lock().unwrap().recv_timeout(PATIENCE).unwrap();
    });
    let config = rfc6455::Config {
        max_command_queue: 256 << 10,
        ..rfc6455::Config::default()
    };
    let io = SocketIoServer::new(SocketIoConfig::default()).unwrap();
    let b_adapter =
        SocketIoAdapter::attach(&redis.url(), &io, SocketIoAdapterConfig::default()).unwrap();
    let b = support::start(io.attach(Server::new(handlers).workers(1).config(config)));
    wait_for_nodes(redis.port, 2);
    let (news, received) = channel();
    let member = Listener::connect(
        "b1",
        &format!("http://{}", b.local_addr().unwrap()),
        &[],
        &news,
    );
    wait_until("b1 connected", || member.socket.connected());
    a.main.emit("news", vec![Data::from("ready?")]).unwrap();
    assert_eq!(received.recv_timeout(PATIENCE).unwrap().0, "b1");
    let url = format!("ws://{}/hold", b.local_addr().unwrap());
    let (mut holder, _) = rfc6455::blocking::WebSocket::connect(&url).unwrap();
    holder.send("hold the loop").unwrap();
    held.recv_timeout(PATIENCE).unwrap();
    let chunk = "x".repeat(64 << 10);
    for _ in 0..64 {
        a.main
            .emit("news", vec![Data::from(chunk.as_str())])
            .unwrap();
    }
    wait_until("b refused most", || b_adapter.refused() >= 59);
    let refused = b_adapter.refused();
    release.send(()).unwrap();
    // What b took in before its queue filled (at most the queue's 256 KiB) arrives.
    let mut arrived = 0;
    loop {
        a.main.emit("news", vec![Data::from("end")]).unwrap();
        let (_, args) = received.recv_timeout(PATIENCE).unwrap();
        if args == [Data::from("end")] {
            break;
        }
        arrived += 1;
    }
    assert!(
        arrived <= 5 && arrived + refused as usize >= 64,
        "{arrived} + {refused}"
    );
}
