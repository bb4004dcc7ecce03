//! The chat example on Socket.IO: the page at http://127.0.0.1:8080/ talks to our
//! [`SocketIoServer`] through the npm `socket.io-client`, with its default transports
//! (long-polling first, then the upgrade to WebSocket) and its reconnection.
//!
//! ```text
//! scripts/install-peers.sh          # once: socket.io-client in tests/interop/node_modules
//! cargo run --release --example socketio_chat [-- 127.0.0.1:8080 | --port 8080]
//! ```
//!
//! Pick a name and a room; see who is there and which rooms are in use; messages go to the
//! room only and show "delivered" when the server's ack comes; joins and leaves are
//! announced; the page reconnects by itself, and what is typed meanwhile goes out after
//! the rejoin. The page is `examples/socketio_chat/index.html`, embedded in the binary with
//! the stylesheet of `examples/chat/index.html` (one look, written once); the browser bundle `socket.io.min.js` is read at start from
//! `tests/interop/node_modules/socket.io-client/dist/` (or `--client-js PATH`), not kept in
//! this repository.
//!
//! Presence has no directory of ours: a chat room `lobby` is the server's room `#lobby`
//! (`#` keeps it apart from the room of a socket's id), who is in it is
//! `namespace.to("#lobby").sockets()`, each socket's name is its handshake's
//! `auth.name`, and the rooms in use are `namespace.rooms()`.
//!
//! Events. Page to server: the CONNECT's auth `{name, room}` (a middleware checks the name;
//! the socket joins `room` at once, so a reconnection rejoins by itself), `join` (room,
//! ack: `{room, members}`; leaves the previous room), `leave` (ack), `say` (text, ack:
//! `{ok}` or `{error}`). Server to page: `joined` (`{room, members}`, after a CONNECT with a
//! room), `presence` (`{room, members}`, on every change), `rooms` (`[{room, count}]`),
//! `notice` (`{text}`), `message` (`{name, text}`, to the others in the room).

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use rfc6455::events::{Handlers, Server};
use rfc6455::handshake::HttpResponse;
use rfc6455::socketio::{
    AckSender, ConnectError, Data, Namespace, Socket, SocketIoConfig, SocketIoServer,
};
use serde_json::{Value, json};

const PAGE: &str = include_str!("index.html");
/// The chat example's page, whose stylesheet this page shares: the look is the same.
const CHAT_PAGE: &str = include_str!("../chat/index.html");
const STYLE_MARKER: &str =
    "/* the chat example's stylesheet (examples/chat/index.html), put here by main.rs */";
const MAX_NAME: usize = 32;
const MAX_TEXT: usize = 2000;
/// Where `scripts/install-peers.sh` puts the browser bundle, from the crate's root.
const CLIENT_JS: &str = "tests/interop/node_modules/socket.io-client/dist/socket.io.min.js";
const USAGE: &str = "usage: socketio_chat [ADDR | --port PORT] [--client-js PATH]";

fn main() {
    if let Err(error) = run() {
        eprintln!("socketio_chat: {error}");
        std::process::exit(1);
    }
}

fn invalid(text: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidInput, text)
}

fn run() -> std::io::Result<()> {
    let mut address = "127.0.0.1:8080".to_owned();
    let mut client_js = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(CLIENT_JS);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => match args.next().and_then(|p| p.parse::<u16>().ok()) {
                Some(port) => address = format!("127.0.0.1:{port}"),
                None => return Err(invalid(format!("--port needs a port number\n{USAGE}"))),
            },
            "--client-js" => match args.next() {
                Some(path) => client_js = PathBuf::from(path),
                None => return Err(invalid(format!("--client-js needs a path\n{USAGE}"))),
            },
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            _ if arg.starts_with('-') => return Err(invalid(format!("unknown {arg}\n{USAGE}"))),
            _ => address = arg,
        }
    }
    let bundle = Bytes::from(std::fs::read(&client_js).map_err(|error| {
        std::io::Error::new(
            error.kind(),
            format!(
                "cannot read the socket.io-client bundle {}: {error}\n\
                 install it with scripts/install-peers.sh (npm install in tests/interop), \
                 or give its path with --client-js PATH",
                client_js.display()
            ),
        )
    })?);

    let page = Bytes::from(page());
    let io = SocketIoServer::new(SocketIoConfig::default())?;
    let chat = io.of("/");
    chat.use_middleware(|_handshake, auth| {
        if !auth_field(auth, "name").is_some_and(valid) {
            return Err(ConnectError::new("a name is 1 to 32 characters"));
        }
        match auth_field(auth, "room") {
            Some(room) if !valid(room) => Err(ConnectError::new("a room is 1 to 32 characters")),
            _ => Ok(()),
        }
    });
    let namespace = chat.clone();
    chat.on_connection(move |socket| connected(&namespace, socket));

    let server = Server::new(Handlers::<()>::new()).on_http(move |request| match request.path() {
        "/" | "/index.html" => HttpResponse::new(200)
            .header("Content-Type", "text/html; charset=utf-8")
            .header("Cache-Control", "no-store")
            .body(page.clone()),
        "/socket.io.min.js" => HttpResponse::new(200)
            .header("Content-Type", "text/javascript; charset=utf-8")
            .header("Cache-Control", "max-age=3600")
            .body(bundle.clone()),
        _ => HttpResponse::text(404, "not found"),
    });
    let loops = io.attach(server).bind(&address)?;
    let bound = loops.local_addr().map_or(address, |a| a.to_string());
    println!("socket.io chat on http://{bound}/");
    loops.run()
}

/// This example's page with the chat example's stylesheet in it.
fn page() -> String {
    let style = CHAT_PAGE
        .split_once("<style>")
        .and_then(|(_, rest)| rest.split_once("</style>"))
        .map_or("", |(style, _)| style);
    PAGE.replacen(STYLE_MARKER, style, 1)
}

/// A string field of the CONNECT's auth payload, trimmed.
fn auth_field<'a>(auth: &'a Data, field: &str) -> Option<&'a str> {
    match auth {
        Data::Object(fields) => fields.get(field).and_then(Data::as_str).map(str::trim),
        _ => None,
    }
}

/// A name or a room: 1 to 32 characters.
fn valid(text: &str) -> bool {
    !text.is_empty() && text.chars().count() <= MAX_NAME
}

/// The socket's name: its handshake's `auth.name` (the middleware admitted only valid ones).
fn name_of(socket: &Socket) -> String {
    auth_field(socket.handshake().auth(), "name")
        .unwrap_or("?")
        .to_owned()
}

/// The server's room for the chat room `room`: `#` keeps it apart from socket ids.
fn key(room: &str) -> String {
    format!("#{room}")
}

/// The chat room the socket is in, from the server's rooms.
fn room_of(socket: &Socket) -> Option<String> {
    socket
        .rooms()
        .iter()
        .find_map(|room| room.strip_prefix('#').map(str::to_owned))
}

/// Who is in `room`: the names of the sockets in the server's room, sorted.
fn members(namespace: &Namespace, room: &str) -> Vec<String> {
    let mut names: Vec<String> = namespace
        .to(key(room))
        .sockets()
        .iter()
        .map(name_of)
        .collect();
    names.sort();
    names
}

/// The chat rooms in use, with how many are in each.
fn rooms(namespace: &Namespace) -> Value {
    let listing: Vec<Value> = namespace
        .rooms()
        .iter()
        .filter_map(|room| room.strip_prefix('#'))
        .map(|room| json!({"room": room, "count": namespace.to(key(room)).len()}))
        .collect();
    Value::Array(listing)
}

/// Refused only when nothing is to be done: the socket or its session is gone.
fn emit(socket: &Socket, event: &str, value: Value) {
    let _ = socket.emit(event, vec![Data::from(value)]);
}

fn answer(ack: Option<AckSender>, value: Value) {
    if let Some(ack) = ack {
        let _ = ack.send(vec![Data::from(value)]);
    }
}

/// Tells `room` who is in it, and everyone which rooms are in use.
fn announce(namespace: &Namespace, room: &str) {
    let presence = json!({"room": room, "members": members(namespace, room)});
    let _ = namespace
        .to(key(room))
        .emit("presence", vec![Data::from(presence)]);
    let _ = namespace.emit("rooms", vec![Data::from(rooms(namespace))]);
}

fn notice(socket: &Socket, room: &str, text: String) {
    let _ = socket
        .to(key(room))
        .emit("notice", vec![Data::from(json!({"text": text}))]);
}

/// Puts the socket in `room` (out of its previous one): `{room, members}`.
fn join(namespace: &Namespace, socket: &Socket, room: &str) -> Value {
    if room_of(socket).as_deref() != Some(room) {
        leave(namespace, socket);
        socket.join(key(room));
        notice(socket, room, format!("{} joined", name_of(socket)));
        announce(namespace, room);
    }
    json!({"room": room, "members": members(namespace, room)})
}

/// Takes the socket out of its room, if any, telling the others.
fn leave(namespace: &Namespace, socket: &Socket) {
    if let Some(room) = room_of(socket) {
        socket.leave(&key(&room));
        left(namespace, socket, &room);
    }
}

/// The others in `room` hear that the socket left.
fn left(namespace: &Namespace, socket: &Socket, room: &str) {
    notice(socket, room, format!("{} left", name_of(socket)));
    announce(namespace, room);
}

fn first_str(args: &[Data]) -> &str {
    args.first().and_then(Data::as_str).unwrap_or("").trim()
}

fn connected(namespace: &Namespace, socket: &Socket) {
    // The room the socket was last in: the server has already taken a socket out of its
    // rooms when its disconnect handler runs, so the handler needs to know which to tell.
    let last_room: Arc<Mutex<Option<String>>> = Arc::default();
    let remember = |cell: &Arc<Mutex<Option<String>>>, socket: &Socket| {
        *cell.lock().unwrap_or_else(PoisonError::into_inner) = room_of(socket);
    };

    // The middleware admitted only a valid room, if any.
    match auth_field(socket.handshake().auth(), "room") {
        Some(room) => {
            let joined = join(namespace, socket, room);
            remember(&last_room, socket);
            emit(socket, "joined", joined);
        }
        None => emit(socket, "rooms", rooms(namespace)),
    }

    let (ns, cell) = (namespace.clone(), last_room.clone());
    socket.on("join", move |socket, args, ack| {
        let room = first_str(&args);
        if !valid(room) {
            return answer(ack, json!({"error": "a room is 1 to 32 characters"}));
        }
        let joined = join(&ns, socket, room);
        remember(&cell, socket);
        answer(ack, joined);
    });

    let (ns, cell) = (namespace.clone(), last_room.clone());
    socket.on("leave", move |socket, _args, ack| {
        leave(&ns, socket);
        remember(&cell, socket);
        answer(ack, json!({"ok": true}));
    });

    socket.on("say", |socket, args, ack| {
        let Some(room) = room_of(socket) else {
            return answer(ack, json!({"error": "join a room first"}));
        };
        let text: String = first_str(&args).chars().take(MAX_TEXT).collect();
        if text.is_empty() {
            return answer(ack, json!({"error": "empty message"}));
        }
        let said = json!({"name": name_of(socket), "text": text});
        let _ = socket
            .to(key(&room))
            .emit("message", vec![Data::from(said)]);
        answer(ack, json!({"ok": true}));
    });

    let ns = namespace.clone();
    socket.on_disconnect(move |socket, _reason| {
        let room = last_room
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(room) = room {
            left(&ns, socket, &room);
        }
    });
}
