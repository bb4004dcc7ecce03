//! A chat server: a page at http://127.0.0.1:8080/ and its WebSocket on the same port.
//!
//! ```text
//! cargo run --release --example chat [-- 127.0.0.1:8080]
//! cargo run --release --features tls --example chat -- 127.0.0.1:8443 --tls cert.pem key.pem
//! cargo run --release --example chat -- --redis redis://127.0.0.1:6379 127.0.0.1:8081
//! ```
//!
//! With `--redis URL` the server is one node of a chat spread over several processes (or
//! machines), each with its own port: run it twice, on 8081 and 8082, and a page on one
//! chats with a page on the other. The rooms' broadcasts go through Redis pub/sub
//! (`rfc6455::redis::Cluster`). Presence is per node: each node announces its own members
//! of a room (`presence` with its `node`) when they change and again every 2 s, and the
//! page shows the union of the nodes' lists, dropping a node's that has not been announced
//! for 6 s (a node that died).
//!
//! With `--tls CERT_PEM KEY_PEM` (feature `tls`) the page is served over `https://` and the
//! chat runs over `wss://` (the page picks `wss:` when it was loaded over `https:`).
//!
//! Pick a name and a room; see who is there; messages go to the room only; joins and leaves
//! are announced; the page reconnects by itself when the server restarts. The page is
//! `examples/chat/index.html`, embedded in the binary.
//!
//! Protocol (text frames, JSON). Page to server: `{"type":"join","name","room"}` (joining a
//! room leaves the previous one), `{"type":"say","text"}`. Server to page: `joined` (to the
//! joiner, with the members), `presence` (the room's members, on every change), `notice`
//! (joins and leaves), `message` (`name`, `text`), `error`. `joined` and `presence` name the
//! `node` whose members they list (`""` without `--redis`); `joined` also gives
//! `refresh_ms`, how often a node announces its members (0: never, there is one node).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use rfc6455::events::{Handlers, Server, Socket, SocketId};
use rfc6455::handshake::HttpResponse;
use rfc6455::{Config, Message};
use serde_json::{Value, json};

const PAGE: &str = include_str!("index.html");
const MAX_NAME: usize = 32;
const MAX_TEXT: usize = 2000;

/// Who a connection is, once it has joined.
#[derive(Default)]
struct Member {
    name: String,
    room: Option<String>,
}

/// How often a node of a cluster announces its members of each room.
const PRESENCE_REFRESH: Duration = Duration::from_secs(2);

/// Every room's members on this node, by socket id (shared by all workers), and the node's
/// id in its cluster (`""` alone).
#[derive(Default)]
struct Presence {
    rooms: Mutex<HashMap<String, BTreeMap<SocketId, String>>>,
    node: OnceLock<String>,
}

impl Presence {
    fn node(&self) -> &str {
        self.node.get().map_or("", String::as_str)
    }

    /// How often the page hears again from each node (0: alone, only on changes).
    fn refresh_ms(&self) -> u128 {
        match self.node.get() {
            Some(_) => PRESENCE_REFRESH.as_millis(),
            None => 0,
        }
    }

    /// This node's members of `room`, as a `presence` message.
    fn announcement(&self, room: &str, members: Vec<String>) -> String {
        let node = self.node();
        json!({"type": "presence", "room": room, "node": node, "members": members}).to_string()
    }
}

type Directory = Arc<Presence>;

fn main() {
    if let Err(error) = run() {
        eprintln!("chat: {error}");
        std::process::exit(1);
    }
}

fn run() -> std::io::Result<()> {
    let mut positional = Vec::new();
    let mut tls = None;
    let mut redis = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--redis" {
            redis = Some(args.next().ok_or_else(|| {
                std::io::Error::new(std::io::ErrorKind::InvalidInput, "--redis needs a URL")
            })?);
        } else if arg == "--tls" {
            match (args.next(), args.next()) {
                (Some(cert), Some(key)) => tls = Some((cert, key)),
                _ => {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidInput,
                        "--tls needs CERT_PEM KEY_PEM\n\
                         usage: chat [ADDR] [--tls CERT_PEM KEY_PEM] [--redis URL]",
                    ));
                }
            }
        } else {
            positional.push(arg);
        }
    }
    let address = positional
        .into_iter()
        .next()
        .unwrap_or_else(|| "127.0.0.1:8080".to_owned());
    let directory = Directory::default();
    let presence = directory.clone();
    let on_message_directory = directory.clone();
    let server = Server::new(
        Handlers::<Member>::new()
            .on_message(move |socket, message| on_message(&on_message_directory, socket, message))
            .on_close(move |socket, _code, _reason| leave_room(&directory, socket)),
    )
    .config(Config {
        max_message_size: 64 * 1024,
        ..Config::default()
    })
    .on_http(|request| match request.path() {
        "/" | "/index.html" => HttpResponse::new(200)
            .header("Content-Type", "text/html; charset=utf-8")
            .header("Cache-Control", "no-store")
            .body(PAGE),
        _ => HttpResponse::text(404, "not found"),
    })
    .on_upgrade(|request, upgrade| {
        if request.path() == "/ws" {
            upgrade.accept(Member::default());
        } else {
            upgrade.refuse(HttpResponse::text(404, "the chat socket is at /ws"));
        }
    });
    let (loops, scheme) = match tls {
        None => (server.bind(&address)?, "http"),
        Some((cert, key)) => (bind_tls(server, &address, &cert, &key)?, "https"),
    };
    // Kept for as long as the server runs: dropping it leaves the cluster.
    let _cluster = match redis {
        Some(url) => Some(join_cluster(&url, &loops.handle(), &presence)?),
        None => None,
    };
    println!("chat on {scheme}://{address}/");
    loops.run()
}

/// Joins the cluster at `url`, and announces this node's members of every room every
/// [`PRESENCE_REFRESH`], so that the other nodes' pages know them (and forget them when
/// this node dies).
#[cfg(feature = "redis")]
fn join_cluster(
    url: &str,
    handle: &rfc6455::events::Handle,
    presence: &Directory,
) -> std::io::Result<rfc6455::redis::Cluster> {
    let cluster = rfc6455::redis::Cluster::join(url, handle, Default::default())?;
    let _ = presence.node.set(cluster.node_id());
    let (handle, presence) = (handle.clone(), presence.clone());
    std::thread::Builder::new()
        .name("chat-presence".into())
        .spawn(move || {
            while !handle.is_shutting_down() {
                std::thread::sleep(PRESENCE_REFRESH);
                let rooms: Vec<(String, Vec<String>)> = {
                    let rooms = presence
                        .rooms
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner);
                    rooms
                        .iter()
                        .map(|(room, members)| (room.clone(), member_names(members)))
                        .collect()
                };
                for (room, members) in rooms {
                    // Refused only when the loops are gone or far behind: next time, then.
                    let _ = handle.to(&room).send(presence.announcement(&room, members));
                }
            }
        })?;
    Ok(cluster)
}

#[cfg(not(feature = "redis"))]
fn join_cluster(
    _url: &str,
    _handle: &rfc6455::events::Handle,
    _presence: &Directory,
) -> std::io::Result<()> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "--redis needs the feature redis (on by default)",
    ))
}

#[cfg(feature = "tls")]
fn bind_tls(
    server: Server<Member>,
    address: &str,
    cert: &str,
    key: &str,
) -> std::io::Result<rfc6455::events::Loops> {
    let acceptor = rfc6455::tls::TlsAcceptor::from_pem_files(cert, key)
        .map_err(|error| std::io::Error::other(format!("--tls {cert} {key}: {error}")))?;
    server.bind_tls(address, acceptor)
}

#[cfg(not(feature = "tls"))]
fn bind_tls(
    _server: Server<Member>,
    _address: &str,
    _cert: &str,
    _key: &str,
) -> std::io::Result<rfc6455::events::Loops> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "--tls needs the feature tls: cargo run --features tls --example chat -- ...",
    ))
}

fn on_message(directory: &Directory, socket: &mut Socket<'_, Member>, message: Message) {
    let request: Value = match message.as_text().map(serde_json::from_str) {
        Some(Ok(value)) => value,
        _ => {
            return send(
                socket,
                json!({"type": "error", "text": "expected a JSON text message"}),
            );
        }
    };
    let field = |name: &str| {
        request
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or("")
            .trim()
    };
    match field("type") {
        "join" => {
            let (name, room) = (field("name"), field("room"));
            if name.is_empty() || name.chars().count() > MAX_NAME {
                return send(
                    socket,
                    json!({"type": "error", "text": "a name is 1 to 32 characters"}),
                );
            }
            if room.is_empty() || room.chars().count() > MAX_NAME {
                return send(
                    socket,
                    json!({"type": "error", "text": "a room is 1 to 32 characters"}),
                );
            }
            let (name, room) = (name.to_owned(), room.to_owned());
            leave_room(directory, socket);
            socket.join(&room);
            socket.data_mut().name = name.clone();
            socket.data_mut().room = Some(room.clone());
            let members = {
                let mut rooms = directory
                    .rooms
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                let members = rooms.entry(room.clone()).or_default();
                members.insert(socket.id(), name.clone());
                member_names(members)
            };
            let (node, refresh_ms) = (directory.node(), directory.refresh_ms());
            send(
                socket,
                json!({"type": "joined", "room": room, "name": name, "members": members,
                       "node": node, "refresh_ms": refresh_ms}),
            );
            let notice = json!({"type": "notice", "text": format!("{name} joined")});
            let _ = socket.to(&room).except_sender().send(notice.to_string());
            let presence = directory.announcement(&room, members);
            let _ = socket.to(&room).send(presence);
        }
        "say" => {
            let Some(room) = socket.data().room.clone() else {
                return send(
                    socket,
                    json!({"type": "error", "text": "join a room first"}),
                );
            };
            let text = field("text");
            if text.is_empty() {
                return;
            }
            let text: String = text.chars().take(MAX_TEXT).collect();
            let said = json!({"type": "message", "name": socket.data().name, "text": text});
            let _ = socket.to(&room).send(said.to_string());
        }
        other => send(
            socket,
            json!({"type": "error", "text": format!("unknown type {other:?}")}),
        ),
    }
}

/// Takes the socket out of its room, telling the others.
fn leave_room(directory: &Directory, socket: &mut Socket<'_, Member>) {
    let Some(room) = socket.data_mut().room.take() else {
        return;
    };
    socket.leave(&room);
    let members = {
        let mut rooms = directory
            .rooms
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let members = rooms.entry(room.clone()).or_default();
        members.remove(&socket.id());
        let names = member_names(members);
        if members.is_empty() {
            rooms.remove(&room);
        }
        names
    };
    let name = socket.data().name.clone();
    let notice = json!({"type": "notice", "text": format!("{name} left")});
    let _ = socket.to(&room).except_sender().send(notice.to_string());
    let presence = directory.announcement(&room, members);
    let _ = socket.to(&room).except_sender().send(presence);
}

fn member_names(members: &BTreeMap<SocketId, String>) -> Vec<String> {
    let mut names: Vec<String> = members.values().cloned().collect();
    names.sort();
    names
}

fn send(socket: &mut Socket<'_, Member>, value: Value) {
    // Fails only when the socket is closing: nothing to tell it then.
    let _ = socket.send(value.to_string());
}
