//! Our Socket.IO server in a cluster with a Node one, through Redis (features `socketio`
//! and `redis`): two of our nodes with `rfc6455::redis::SocketIoAdapter` and one npm
//! `socket.io` server with `@socket.io/redis-adapter` (tests/interop/socketio_redis_server.mjs)
//! share a real `redis-server`, with `@socket.io/redis-emitter` beside them, and our Rust
//! client on each node. It checks that broadcasts from every node (to everyone, to a room,
//! to several rooms, with except, volatile, with a Buffer) and from the emitter reach the
//! matching clients of every node exactly once; that Node's `fetchSockets` and `allRooms`
//! see our sockets and rooms and ours see Node's, that Node's `socketsJoin` moves ours,
//! and ours moves Node's.
//!
//! ```text
//! scripts/install-peers.sh
//! cargo test --features socketio,redis --test interop -- --include-ignored socketio_redis::
//! ```

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use rfc6455::events::{Handlers, Server, Spawned};
use rfc6455::redis::{
    Reply, ReplyDecoder, RespLimits, SocketIoAdapter, SocketIoAdapterConfig, encode_command,
};
use rfc6455::socketio::{
    ClientConfig, ClientSocket, Data, Namespace, SocketIoClient, SocketIoConfig, SocketIoServer,
};
use serde_json::{Value, json};

use super::PeerServer;
use super::support::redis::RedisServer;
use super::support::{PATIENCE, start};

/// One of our nodes: its server, its adapter, its main namespace.
struct RustNode {
    main: Namespace,
    adapter: SocketIoAdapter,
    server: Spawned,
}

impl RustNode {
    fn start(redis: &str) -> RustNode {
        let io = SocketIoServer::new(SocketIoConfig::default()).unwrap();
        let main = io.of("/");
        main.on_connection(|socket| {
            if let Data::Object(auth) = socket.handshake().auth()
                && let Some(Data::Array(rooms)) = auth.get("rooms")
            {
                for room in rooms.iter().filter_map(Data::as_str) {
                    socket.join(room);
                }
            }
        });
        let adapter =
            SocketIoAdapter::attach(redis, &io, SocketIoAdapterConfig::default()).unwrap();
        let server = start(io.attach(Server::new(Handlers::<()>::new())));
        RustNode {
            main,
            adapter,
            server,
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.server.local_addr().unwrap())
    }
}

/// One client: its socket, and the labels (first argument) of the `news` it got.
struct Listener {
    socket: ClientSocket,
    _client: SocketIoClient,
}

fn listener(
    name: &'static str,
    url: &str,
    rooms: &[&str],
    news: &Sender<(&'static str, Vec<Data>)>,
) -> Listener {
    let client = SocketIoClient::new(url, ClientConfig::default()).unwrap();
    let socket = client.socket("/", Data::from(json!({ "rooms": rooms })));
    let news = Arc::new(Mutex::new(news.clone()));
    socket.on("news", move |_, args, _| {
        let _ = news.lock().unwrap().send((name, args));
    });
    socket.connect();
    Listener {
        socket,
        _client: client,
    }
}

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

/// One command to a Redis server, its reply.
fn redis_command(port: u16, args: &[&[u8]]) -> Reply {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    let mut out = Vec::new();
    encode_command(args, &mut out);
    stream.write_all(&out).unwrap();
    let mut decoder = ReplyDecoder::new(RespLimits::default());
    let mut buffer = [0u8; 4096];
    loop {
        if let Some(reply) = decoder.next_reply().unwrap() {
            return reply;
        }
        let read = stream.read(&mut buffer).unwrap();
        assert!(read > 0, "redis closed");
        decoder.feed(&buffer[..read]);
    }
}

/// Waits until `nodes` nodes subscribe to the main namespace's request channel (each
/// node subscribes to its broadcast pattern just before).
fn wait_for_subscribers(redis: &RedisServer, nodes: i64) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let reply = redis_command(redis.port, &[b"PUBSUB", b"NUMSUB", b"socket.io-request#/#"]);
        if reply.as_array().and_then(|items| items.get(1)) == Some(&Reply::Integer(nodes)) {
            return;
        }
        assert!(Instant::now() < deadline, "subscribers: {reply:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !done() {
        assert!(Instant::now() < deadline, "never: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The labels each client got, once each has all of `expected` (and a moment more, for
/// any copy that would come late).
fn collect(
    news: &Receiver<(&'static str, Vec<Data>)>,
    expected: &BTreeMap<&str, Vec<&str>>,
) -> BTreeMap<&'static str, Vec<String>> {
    let mut got: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    let record = |got: &mut BTreeMap<&'static str, Vec<String>>,
                  (name, args): (&'static str, Vec<Data>)| {
        let label = args
            .first()
            .and_then(Data::as_str)
            .unwrap_or("?")
            .to_owned();
        if label == "N-bin" {
            assert_eq!(
                args.get(1).and_then(Data::as_binary),
                Some(&Bytes::from_static(&[1, 2, 3])),
                "{name}"
            );
        }
        got.entry(name).or_default().push(label);
    };
    let complete = |got: &BTreeMap<&'static str, Vec<String>>| {
        expected
            .iter()
            .all(|(name, labels)| got.get(name).map_or(0, Vec::len) >= labels.len())
    };
    let deadline = Instant::now() + PATIENCE;
    while !complete(&got) {
        let left = deadline.saturating_duration_since(Instant::now());
        match news.recv_timeout(left) {
            Ok(item) => record(&mut got, item),
            Err(_) => break,
        }
    }
    while let Ok(item) = news.recv_timeout(Duration::from_millis(300)) {
        record(&mut got, item);
    }
    for labels in got.values_mut() {
        labels.sort();
    }
    got
}

#[test]
#[ignore = "needs the interop peers: scripts/install-peers.sh"]
fn our_nodes_and_a_node_socketio_server_share_a_cluster_through_redis() {
    let redis = RedisServer::start(&[]);
    let a = RustNode::start(&redis.url());
    let b = RustNode::start(&redis.url());
    let mut node = PeerServer::start("node", "socketio_redis_server.mjs", &[&redis.url()]);
    wait_for_subscribers(&redis, 3);
    assert!(a.adapter.is_connected() && b.adapter.is_connected());
    let node_url = format!("http://127.0.0.1:{}", node.port);

    let (news, received) = channel();
    let clients = [
        ("a1", listener("a1", &a.url(), &["red", "vip"], &news)),
        ("a2", listener("a2", &a.url(), &["blue"], &news)),
        ("b1", listener("b1", &b.url(), &["red"], &news)),
        ("n1", listener("n1", &node_url, &["red"], &news)),
        ("n2", listener("n2", &node_url, &["blue"], &news)),
    ];
    wait_until("every client connected", || {
        clients.iter().all(|(_, client)| client.socket.connected())
    });
    let id = |name: &str| {
        let (_, client) = clients.iter().find(|(n, _)| *n == name).unwrap();
        client.socket.id().unwrap()
    };
    // Our sockets join their rooms in the connection handler, after the CONNECT reply.
    wait_until("our sockets in their rooms", || {
        a.main.to("red").len() == 1 && a.main.to("blue").len() == 1 && b.main.to("red").len() == 1
    });
    wait_until("Node's sockets in their rooms", || {
        let answer = command(&mut node, json!({"op": "fetch", "to": ["red", "blue"]}));
        answer.as_array().is_some_and(|ids| ids.len() == 5)
    });

    // From our nodes.
    a.main.emit("news", vec![Data::from("A-all")]).unwrap();
    b.main
        .to("red")
        .emit("news", vec![Data::from("B-red")])
        .unwrap();
    a.main
        .to("red")
        .to("blue")
        .except("vip")
        .emit("news", vec![Data::from("A-multi")])
        .unwrap();
    // From the Node node.
    command(
        &mut node,
        json!({"op": "emit", "to": ["blue"], "args": ["N-blue"]}),
    );
    command(
        &mut node,
        json!({"op": "emit", "except": ["red"], "args": ["N-not-red"]}),
    );
    command(
        &mut node,
        json!({"op": "emit", "to": ["red", "blue"], "except": ["vip"], "args": ["N-multi"]}),
    );
    command(
        &mut node,
        json!({"op": "emit", "args": ["N-bin", {"$bin": [1, 2, 3]}]}),
    );
    // From the emitter.
    command(
        &mut node,
        json!({"op": "emitter", "to": ["red"], "args": ["E-red"]}),
    );
    command(
        &mut node,
        json!({"op": "emitter", "except": ["blue"], "args": ["E-not-blue"]}),
    );

    let every = ["a1", "a2", "b1", "n1", "n2"];
    let mut expected: BTreeMap<&'static str, Vec<&'static str>> =
        every.iter().map(|name| (*name, Vec::new())).collect();
    let mut expect = |label: &'static str, names: &[&'static str]| {
        for name in names {
            expected.get_mut(name).unwrap().push(label);
        }
    };
    expect("A-all", &every);
    expect("B-red", &["a1", "b1", "n1"]);
    expect("A-multi", &["a2", "b1", "n1", "n2"]);
    expect("N-blue", &["a2", "n2"]);
    expect("N-not-red", &["a2", "n2"]);
    expect("N-multi", &["a2", "b1", "n1", "n2"]);
    expect("N-bin", &every);
    expect("E-red", &["a1", "b1", "n1"]);
    expect("E-not-blue", &["a1", "b1", "n1"]);
    for labels in expected.values_mut() {
        labels.sort();
    }
    let got = collect(&received, &expected);
    for (name, labels) in &expected {
        assert_eq!(
            got.get(name).cloned().unwrap_or_default(),
            *labels,
            "what {name} got, exactly once each"
        );
    }

    // Node asks every node: fetchSockets, allRooms.
    let mut all: Vec<String> = every.iter().map(|name| id(name)).collect();
    all.sort();
    assert_eq!(command(&mut node, json!({"op": "fetch"})), json!(all));
    let mut red: Vec<String> = ["a1", "b1", "n1"].iter().map(|name| id(name)).collect();
    red.sort();
    assert_eq!(
        command(&mut node, json!({"op": "fetch", "to": ["red"]})),
        json!(red)
    );
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
    let mut silver: Vec<String> = ["a1", "b1", "n1"].iter().map(|name| id(name)).collect();
    silver.sort();
    wait_until("every red socket in silver", || {
        command(&mut node, json!({"op": "fetch", "to": ["silver"]})) == json!(silver)
    });
    command(
        &mut node,
        json!({"op": "emit", "to": ["silver"], "args": ["N-silver"]}),
    );
    let expected = BTreeMap::from([
        ("a1", vec!["N-silver"]),
        ("a2", vec!["A-gold"]),
        ("b1", vec!["N-silver"]),
        ("n1", vec!["N-silver"]),
        ("n2", vec!["A-gold"]),
    ]);
    let got = collect(&received, &expected);
    for (name, labels) in &expected {
        assert_eq!(
            got.get(name).cloned().unwrap_or_default(),
            *labels,
            "what {name} got after the joins"
        );
    }

    // Volatile: dropped for a client whose transport is busy (even with the volatile
    // packet just before), so each is sent when every client is idle.
    let volatile_from = |label: &'static str| {
        let expected: BTreeMap<&str, Vec<&str>> =
            every.iter().map(|name| (*name, vec![label])).collect();
        let got = collect(&received, &expected);
        for (name, labels) in &expected {
            assert_eq!(
                got.get(name).cloned().unwrap_or_default(),
                *labels,
                "{name}"
            );
        }
    };
    command(
        &mut node,
        json!({"op": "emit", "volatile": true, "args": ["N-volatile"]}),
    );
    volatile_from("N-volatile");
    a.main
        .volatile()
        .emit("news", vec![Data::from("A-volatile")])
        .unwrap();
    volatile_from("A-volatile");

    // Our node asks every node: serverCount, fetchSockets, allRooms.
    assert_eq!(a.adapter.server_count("/"), Ok(3));
    let mut fetched: Vec<String> = a
        .adapter
        .fetch_sockets(&a.main.to("red"))
        .unwrap()
        .into_iter()
        .map(|socket| socket.id)
        .collect();
    fetched.sort();
    assert_eq!(fetched, red, "the red sockets of every node");
    let blue_or_red = b
        .adapter
        .fetch_sockets(&b.main.local().to("blue").to("red"));
    assert_eq!(
        blue_or_red.map(|sockets| sockets.len()),
        Ok(1),
        "local: B's own"
    );
    let n2 = a
        .adapter
        .fetch_sockets(&a.main.to(id("n2")))
        .unwrap()
        .pop()
        .unwrap();
    assert!(n2.rooms.contains(&"gold".to_owned()), "{n2:?}");
    let rooms = b.adapter.all_rooms("/").unwrap();
    for room in ["red", "blue", "vip", "gold", "silver"] {
        assert!(rooms.contains(room), "{room} in {rooms:?}");
    }
    assert!(rooms.contains(&id("n1")), "Node's sockets' own rooms");

    assert_eq!((a.adapter.malformed(), b.adapter.malformed()), (0, 0));
    assert_eq!((a.adapter.dropped(), b.adapter.dropped()), (0, 0));
}
