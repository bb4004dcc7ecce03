//! Our Socket.IO nodes in a Redis cluster (features `redis` and `socketio`): a node with
//! its adapter, clients that record the `news` they get, and the waits the cluster tests
//! share (tests/socketio_redis.rs, tests/interop/socketio_redis.rs).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rfc6455::events::{Handlers, Server, Spawned};
use rfc6455::redis::{
    Reply, ReplyDecoder, RespLimits, SocketIoAdapter, SocketIoAdapterConfig, encode_command,
};
use rfc6455::socketio::{
    ClientConfig, ClientSocket, Data, Namespace, SocketIoClient, SocketIoConfig, SocketIoServer,
};
use serde_json::json;

use super::{PATIENCE, start};

/// A client's name and the arguments of one `news` it got.
pub type News = (&'static str, Vec<Data>);

/// One of our nodes: its server, its adapter, its main namespace, whose sockets join the
/// rooms named in their auth's `rooms`.
pub struct RustNode {
    pub main: Namespace,
    pub adapter: SocketIoAdapter,
    pub server: Spawned,
}

impl RustNode {
    pub fn start(redis: &str) -> RustNode {
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

    pub fn url(&self) -> String {
        format!("http://{}", self.server.local_addr().unwrap())
    }
}

/// One client of `/` (our Rust client), in `rooms`, sending each `news` it gets to `news`
/// and answering each `question` with its name.
pub struct Listener {
    pub socket: ClientSocket,
    _client: SocketIoClient,
}

impl Listener {
    pub fn connect(name: &'static str, url: &str, rooms: &[&str], news: &Sender<News>) -> Self {
        let client = SocketIoClient::new(url, ClientConfig::default()).unwrap();
        let socket = client.socket("/", Data::from(json!({ "rooms": rooms })));
        let news = Arc::new(Mutex::new(news.clone()));
        socket.on("news", move |_, args, _| {
            let _ = news.lock().unwrap().send((name, args));
        });
        socket.on("question", move |_, _, ack| {
            if let Some(ack) = ack {
                let _ = ack.send(vec![Data::from(name)]);
            }
        });
        socket.connect();
        Listener {
            socket,
            _client: client,
        }
    }

    pub fn id(&self) -> String {
        self.socket.id().expect("connected")
    }
}

/// One command to the Redis server on `port`, its reply.
pub fn redis_command(port: u16, args: &[&[u8]]) -> Reply {
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

/// Waits until `nodes` nodes subscribe to the main namespace's request channel of the
/// Redis on `port` (each node subscribes to its broadcast pattern just before).
pub fn wait_for_nodes(port: u16, nodes: i64) {
    wait_until("every node subscribed", || {
        let reply = redis_command(port, &[b"PUBSUB", b"NUMSUB", b"socket.io-request#/#"]);
        reply.as_array().and_then(|items| items.get(1)) == Some(&Reply::Integer(nodes))
    });
}

pub fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !done() {
        assert!(Instant::now() < deadline, "never: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A `news`'s label: its first argument, and `+bin<bytes>` for each binary one.
fn label(args: &[Data]) -> String {
    let mut label = args
        .first()
        .and_then(Data::as_str)
        .unwrap_or("?")
        .to_owned();
    for bytes in args.iter().filter_map(Data::as_binary) {
        label.push_str(&format!("+bin{:?}", &bytes[..]));
    }
    label
}

/// Waits until each client named in `expected` got as many `news` as listed (at most
/// `PATIENCE`), and a moment more for any copy that would come late; then checks that each
/// got exactly its list, once each (in any order), and nobody else anything.
pub fn expect_exactly(news: &Receiver<News>, expected: &[(&str, &[&str])], context: &str) {
    let mut got: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let complete = |got: &BTreeMap<String, Vec<String>>| {
        expected
            .iter()
            .all(|(name, labels)| got.get(*name).map_or(0, Vec::len) >= labels.len())
    };
    let deadline = Instant::now() + PATIENCE;
    while !complete(&got) {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok((name, args)) = news.recv_timeout(left) else {
            break;
        };
        got.entry(name.to_owned()).or_default().push(label(&args));
    }
    while let Ok((name, args)) = news.recv_timeout(Duration::from_millis(300)) {
        got.entry(name.to_owned()).or_default().push(label(&args));
    }
    let mut want: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, labels) in expected {
        let labels: Vec<String> = labels.iter().map(|label| label.to_string()).collect();
        want.entry(name.to_string()).or_default().extend(labels);
    }
    for labels in got.values_mut().chain(want.values_mut()) {
        labels.sort();
    }
    want.retain(|_, labels| !labels.is_empty());
    assert_eq!(
        got, want,
        "{context}: what each client got, exactly once each"
    );
}
