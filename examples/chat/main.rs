//! A chat server: a page at http://127.0.0.1:8080/ and its WebSocket on the same port.
//!
//! ```text
//! cargo run --release --example chat [-- 127.0.0.1:8080]
//! cargo run --release --features tls --example chat -- 127.0.0.1:8443 --tls cert.pem key.pem
//! ```
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
//! (joins and leaves), `message` (`name`, `text`), `error`.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

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

/// Every room's members, by socket id (shared by all workers).
type Directory = Arc<Mutex<HashMap<String, BTreeMap<SocketId, String>>>>;

fn main() {
    if let Err(error) = run() {
        eprintln!("chat: {error}");
        std::process::exit(1);
    }
}

fn run() -> std::io::Result<()> {
    let mut positional = Vec::new();
    let mut tls = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--tls" {
            match (args.next(), args.next()) {
                (Some(cert), Some(key)) => tls = Some((cert, key)),
                _ => {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidInput,
                        "--tls needs CERT_PEM KEY_PEM\nusage: chat [ADDR] [--tls CERT_PEM KEY_PEM]",
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
    println!("chat on {scheme}://{address}/");
    loops.run()
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
                let mut rooms = directory.lock().unwrap_or_else(PoisonError::into_inner);
                let members = rooms.entry(room.clone()).or_default();
                members.insert(socket.id(), name.clone());
                member_names(members)
            };
            send(
                socket,
                json!({"type": "joined", "room": room, "name": name, "members": members}),
            );
            let notice = json!({"type": "notice", "text": format!("{name} joined")});
            let _ = socket.to(&room).except_sender().send(notice.to_string());
            let presence = json!({"type": "presence", "room": room, "members": members});
            let _ = socket.to(&room).send(presence.to_string());
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
        let mut rooms = directory.lock().unwrap_or_else(PoisonError::into_inner);
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
    let presence = json!({"type": "presence", "room": room, "members": members});
    let _ = socket.to(&room).except_sender().send(presence.to_string());
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
