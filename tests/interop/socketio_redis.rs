//! Our Socket.IO server in a cluster with a Node one, through Redis (features `socketio`
//! and `redis`): two of our nodes with `rfc6455::redis::SocketIoAdapter` and one npm
//! `socket.io` server with `@socket.io/redis-adapter` (tests/interop/socketio_redis_server.mjs)
//! share a real `redis-server`, with `@socket.io/redis-emitter` beside them, and our Rust
//! client on each node. It checks that broadcasts from every node (to everyone, to a room,
//! to several rooms, with except, volatile, with a Buffer) and from the emitter reach the
//! matching clients of every node exactly once; that Node's broadcasts with acks get our
//! clients' acks; that Node's `fetchSockets` and `allRooms`
//! see our sockets and rooms and ours see Node's, that Node's `socketsJoin` moves ours,
//! and ours moves Node's.
//!
//! ```text
//! scripts/install-peers.sh
//! cargo test --features redis --test interop -- --include-ignored socketio_redis::
//! ```

use std::io::Write;
use std::sync::mpsc::channel;

use rfc6455::socketio::Data;
use serde_json::{Value, json};

use super::PeerServer;
use super::support::PATIENCE;
use super::support::redis::RedisServer;
use super::support::socketio_cluster::{
    Listener, RustNode, expect_exactly, wait_for_nodes, wait_until,
};

/// Sends one command to the Node node and returns what it answered (`DONE <json>`).
fn command(node: &mut PeerServer, command: Value) -> Value {
    let stdin = node.child.stdin.as_mut().unwrap();
    writeln!(stdin, "{command}").unwrap();
    stdin.flush().unwrap();
    let line = node
        .lines
        .recv_timeout(PATIENCE)
        .expect("the Node node's answer");
    let done = line
        .strip_prefix("DONE ")
        .unwrap_or_else(|| panic!("{line}"));
    let answer: Value = serde_json::from_str(done).unwrap();
    assert!(answer.get("error").is_none(), "{command}: {answer}");
    answer
}

#[test]
#[ignore = "needs the interop peers: scripts/install-peers.sh"]
fn our_nodes_and_a_node_socketio_server_share_a_cluster_through_redis() {
    let redis = RedisServer::start(&[]);
    let a = RustNode::start(&redis.url());
    let b = RustNode::start(&redis.url());
    let mut node = PeerServer::start("node", "socketio_redis_server.mjs", &[&redis.url()]);
    wait_for_nodes(redis.port, 3);
    let node_url = format!("http://127.0.0.1:{}", node.port);

    let (news, received) = channel();
    let a1 = Listener::connect("a1", &a.url(), &["red", "vip"], &news);
    let a2 = Listener::connect("a2", &a.url(), &["blue"], &news);
    let b1 = Listener::connect("b1", &b.url(), &["red"], &news);
    let n1 = Listener::connect("n1", &node_url, &["red"], &news);
    let n2 = Listener::connect("n2", &node_url, &["blue"], &news);
    let clients = [&a1, &a2, &b1, &n1, &n2];
    wait_until("every client connected", || {
        clients.iter().all(|client| client.socket.connected())
    });
    // Sockets join their rooms in the connection handler, after the CONNECT reply.
    wait_until("our sockets in their rooms", || {
        a.main.to("red").len() == 1 && a.main.to("blue").len() == 1 && b.main.to("red").len() == 1
    });
    wait_until("Node's sockets in their rooms", || {
        let answer = command(&mut node, json!({"op": "fetch", "to": ["red", "blue"]}));
        answer.as_array().is_some_and(|ids| ids.len() == 5)
    });
    let ids = |clients: &[&Listener]| {
        let mut ids: Vec<String> = clients.iter().map(|client| client.id()).collect();
        ids.sort();
        ids
    };

    // From our nodes, from the Node node, from the emitter.
    a.main.emit("news", vec![Data::from("A-all")]).unwrap();
    b.main
        .to("red")
        .emit("news", vec![Data::from("B-red")])
        .unwrap();
    let multi = a.main.to("red").to("blue").except("vip");
    multi.emit("news", vec![Data::from("A-multi")]).unwrap();
    for emit in [
        json!({"op": "emit", "to": ["blue"], "args": ["N-blue"]}),
        json!({"op": "emit", "except": ["red"], "args": ["N-not-red"]}),
        json!({"op": "emit", "to": ["red", "blue"], "except": ["vip"], "args": ["N-multi"]}),
        json!({"op": "emit", "args": ["N-bin", {"$bin": [1, 2, 3]}]}),
        json!({"op": "emitter", "to": ["red"], "args": ["E-red"]}),
        json!({"op": "emitter", "except": ["blue"], "args": ["E-not-blue"]}),
    ] {
        command(&mut node, emit);
    }
    let bin = "N-bin+bin[1, 2, 3]";
    let red_labels = ["A-all", "B-red", "N-multi", bin, "E-red", "E-not-blue"];
    expect_exactly(
        &received,
        &[
            ("a1", &["A-all", "B-red", bin, "E-red", "E-not-blue"]),
            (
                "a2",
                &["A-all", "A-multi", "N-blue", "N-not-red", "N-multi", bin],
            ),
            ("b1", &[&red_labels[..], &["A-multi"]].concat()),
            ("n1", &[&red_labels[..], &["A-multi"]].concat()),
            (
                "n2",
                &["A-all", "A-multi", "N-blue", "N-not-red", "N-multi", bin],
            ),
        ],
        "broadcasts from every node and the emitter",
    );

    // Node asks every node: fetchSockets, allRooms.
    assert_eq!(
        command(&mut node, json!({"op": "fetch"})),
        json!(ids(&clients))
    );
    let red = ids(&[&a1, &b1, &n1]);
    assert_eq!(
        command(&mut node, json!({"op": "fetch", "to": ["red"]})),
        json!(red)
    );
    assert_eq!(
        command(&mut node, json!({"op": "ask"})),
        json!(["a1", "a2", "b1", "n1", "n2"]),
        "a broadcast with acks from Node: every socket's answer, ours included"
    );
    assert_eq!(a.adapter.unsupported() + b.adapter.unsupported(), 0);
    let rooms = command(&mut node, json!({"op": "rooms"}));
    assert!(rooms.as_array().unwrap().contains(&json!("vip")), "{rooms}");

    // Node's socketsJoin moves our sockets; our sockets_join moves Node's.
    command(
        &mut node,
        json!({"op": "join", "to": ["blue"], "room": "gold"}),
    );
    wait_until("a2 in gold", || a.main.to("gold").len() == 1);
    a.main
        .to("gold")
        .emit("news", vec![Data::from("A-gold")])
        .unwrap();
    a.main.to("red").sockets_join("silver");
    wait_until("every red socket in silver", || {
        command(&mut node, json!({"op": "fetch", "to": ["silver"]})) == json!(red)
    });
    command(
        &mut node,
        json!({"op": "emit", "to": ["silver"], "args": ["N-silver"]}),
    );
    expect_exactly(
        &received,
        &[
            ("a1", &["N-silver"]),
            ("a2", &["A-gold"]),
            ("b1", &["N-silver"]),
            ("n1", &["N-silver"]),
            ("n2", &["A-gold"]),
        ],
        "after the joins",
    );

    // Volatile: dropped for a client whose transport is busy (even with the volatile
    // packet just before), so each is sent when every client is idle.
    let everyone =
        |labels: &'static [&'static str]| ["a1", "a2", "b1", "n1", "n2"].map(|name| (name, labels));
    command(
        &mut node,
        json!({"op": "emit", "volatile": true, "args": ["N-volatile"]}),
    );
    expect_exactly(&received, &everyone(&["N-volatile"]), "volatile from Node");
    a.main
        .volatile()
        .emit("news", vec![Data::from("A-volatile")])
        .unwrap();
    expect_exactly(&received, &everyone(&["A-volatile"]), "volatile from A");

    // Our node asks every node: serverCount, fetchSockets, allRooms.
    assert_eq!(a.adapter.server_count("/"), Ok(3));
    let fetched = a.adapter.fetch_sockets(&a.main.to("red")).unwrap();
    let mut fetched: Vec<String> = fetched.into_iter().map(|socket| socket.id).collect();
    fetched.sort();
    assert_eq!(fetched, red, "the red sockets of every node");
    let local = b
        .adapter
        .fetch_sockets(&b.main.local().to("blue").to("red"));
    assert_eq!(local.map(|sockets| sockets.len()), Ok(1), "local: B's own");
    let fetched_n2 = a.adapter.fetch_sockets(&a.main.to(n2.id())).unwrap();
    assert!(
        fetched_n2[0].rooms.contains(&"gold".to_owned()),
        "{fetched_n2:?}"
    );
    let rooms = b.adapter.all_rooms("/").unwrap();
    for room in ["red", "blue", "vip", "gold", "silver"] {
        assert!(rooms.contains(room), "{room} in {rooms:?}");
    }
    assert!(rooms.contains(&n1.id()), "Node's sockets' own rooms");

    // Server-side emits both ways: Node's serverSideEmitWithAck answered by both of ours,
    // ours answered by the other of ours and by Node.
    for (node_of_ours, name) in [(&a, "a"), (&b, "b")] {
        node_of_ours.main.on_server_side("hello", move |args, ack| {
            if let Some(ack) = ack {
                ack.send(Data::from(json!({"from": name, "got": args.len()})));
            }
        });
    }
    let mut answers = command(&mut node, json!({"op": "server-side"}))
        .as_array()
        .cloned()
        .unwrap_or_default();
    answers.sort_by_key(|answer| answer["from"].to_string());
    assert_eq!(
        answers,
        vec![
            json!({"from": "a", "got": 1}),
            json!({"from": "b", "got": 1})
        ],
        "Node's serverSideEmitWithAck"
    );
    let mut ours: Vec<Value> = a
        .adapter
        .server_side_emit_with_ack("/", "hello", vec![Data::from("from a")])
        .unwrap()
        .into_iter()
        .map(|answer| answer.into_json().unwrap())
        .collect();
    ours.sort_by_key(|answer| answer["from"].to_string());
    assert_eq!(
        ours,
        vec![
            json!({"from": "b", "got": 1}),
            json!({"from": "node", "got": ["from a"]})
        ],
        "our server_side_emit_with_ack"
    );
    assert_eq!((a.adapter.unsupported(), b.adapter.unsupported()), (0, 0));

    assert_eq!((a.adapter.malformed(), b.adapter.malformed()), (0, 0));
    assert_eq!((a.adapter.dropped(), b.adapter.dropped()), (0, 0));
}
