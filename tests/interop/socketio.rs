//! Socket.IO interop (feature `socketio`), against what no one here wrote: the npm
//! `socket.io-client` (v4, protocol v5) in Node, with its default transports (long-polling,
//! then the upgrade to WebSocket) and WebSocket only. One script
//! (tests/interop/socketio_client.mjs) checks, from both sides: two namespaces over one
//! session, a middleware's refusal and an unknown namespace seen as `connect_error`, an
//! event and its ack (a Buffer round-trips; `emitWithAck` resolves), the server's
//! `emit_with_ack` answered and timed out, a room broadcast a non-member does not get, a
//! room's size, and the disconnect reasons of both sides.
//!
//! ```text
//! scripts/install-peers.sh
//! cargo test --features socketio --test interop -- --include-ignored socketio::
//! ```

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rfc6455::events::{Handlers, Server};
use rfc6455::socketio::{
    AckError, CloseReason, ConnectError, Data, DisconnectReason, Namespace, Socket, SocketIoConfig,
    SocketIoServer,
};
use serde_json::{Value, json};

use super::peer_result;
use super::support::{PATIENCE, start};

/// One at a time: the server's ack timeout is short, and several Node peers at once on a
/// small machine could stretch the script.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// What the server saw, by the client's `auth.name`.
#[derive(Debug, Default)]
struct Seen {
    connections: Vec<(String, String)>,
    answers: Vec<(String, Result<Vec<Data>, AckError>)>,
    disconnects: Vec<(String, String, DisconnectReason)>,
}

type Shared = Arc<Mutex<Seen>>;

fn name_of(socket: &Socket) -> String {
    match socket.handshake().auth() {
        Data::Object(fields) => fields
            .get("name")
            .and_then(Data::as_str)
            .unwrap_or("?")
            .to_owned(),
        _ => "?".to_owned(),
    }
}

fn first_str(args: &[Data]) -> String {
    args.first()
        .and_then(Data::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// The handlers every socket gets: the script's events, and the record of its life.
fn on_socket(socket: &Socket, seen: &Shared, main: &Namespace) {
    seen.lock()
        .unwrap()
        .connections
        .push((name_of(socket), socket.namespace().to_owned()));
    let on_disconnect = seen.clone();
    socket.on_disconnect(move |socket, reason| {
        let entry = (name_of(socket), socket.namespace().to_owned(), *reason);
        on_disconnect.lock().unwrap().disconnects.push(entry);
    });
    socket.on("echo", |_, args, ack| {
        ack.unwrap().send(args).unwrap();
    });
    socket.on("sync", |_, _, ack| ack.unwrap().send(Vec::new()).unwrap());
    socket.on("join", |socket, args, ack| {
        socket.join(first_str(&args));
        ack.unwrap().send(Vec::new()).unwrap();
    });
    let namespace = main.clone();
    socket.on("announce", move |_, args, ack| {
        let news = args.get(1).cloned().unwrap_or_default();
        namespace
            .to(first_str(&args))
            .emit("news", vec![news])
            .unwrap();
        ack.unwrap().send(Vec::new()).unwrap();
    });
    let namespace = main.clone();
    socket.on("room-size", move |_, args, ack| {
        let size = namespace.to(first_str(&args)).len();
        ack.unwrap().send(vec![Data::from(json!(size))]).unwrap();
    });
    let on_ask = seen.clone();
    socket.on("ask", move |socket, _, _| {
        let answered = on_ask.clone();
        socket
            .emit_with_ack(
                "question",
                vec![Data::from("life")],
                PATIENCE,
                move |answer| {
                    answered
                        .lock()
                        .unwrap()
                        .answers
                        .push(("question".into(), answer));
                },
            )
            .unwrap();
        let unanswered = on_ask.clone();
        let asker = socket.clone();
        socket
            .emit_with_ack(
                "unanswered",
                Vec::new(),
                Duration::from_millis(300),
                move |answer| {
                    let error = answer.as_ref().err().map(ToString::to_string);
                    unanswered
                        .lock()
                        .unwrap()
                        .answers
                        .push(("unanswered".into(), answer));
                    let error = Data::from(error.unwrap_or_default());
                    asker.emit("timed-out", vec![error]).unwrap();
                },
            )
            .unwrap();
    });
    socket.on("kick-me", |socket, _, _| socket.disconnect(false));
}

fn run_client(mode: &str) -> (Value, Seen) {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let seen: Shared = Arc::default();
    let io = SocketIoServer::new(SocketIoConfig::default()).unwrap();
    let main = io.of("/");
    let admin = io.of("/admin");
    admin.use_middleware(|_, auth| match auth {
        Data::Object(fields) if fields.get("token").and_then(Data::as_str) == Some("secret") => {
            Ok(())
        }
        _ => {
            Err(ConnectError::new("not authorized")
                .with_data(Data::from(json!({"hint": "a token"}))))
        }
    });
    for namespace in [&main, &admin] {
        let (seen, main) = (seen.clone(), main.clone());
        namespace.on_connection(move |socket| on_socket(socket, &seen, &main));
    }
    let server = start(io.attach(Server::new(Handlers::<()>::new()).workers(2)));
    let url = format!("http://{}", server.local_addr().unwrap());
    let (result, stderr) = peer_result("socketio_client.mjs", &[url.as_str(), mode]);
    // The transport close reaches our side as the client sees it: allow a moment.
    let deadline = std::time::Instant::now() + PATIENCE;
    while seen.lock().unwrap().disconnects.len() < 3 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    server.shutdown().unwrap();
    let seen = std::mem::take(&mut *seen.lock().unwrap());
    assert_eq!(result["timedOut"], json!(false), "{result}\n{stderr}");
    assert_eq!(result["error"], Value::Null, "{result}");
    (result, seen)
}

fn check(mode: &str) {
    let (result, mut seen) = run_client(mode);
    // Client side.
    assert_eq!(result["sameSession"], json!(true), "{result}");
    assert_eq!(
        result["refused"],
        json!({"message": "not authorized", "data": {"hint": "a token"}}),
        "{result}"
    );
    assert_eq!(
        result["unknown"],
        json!({"message": "Invalid namespace", "data": null}),
        "{result}"
    );
    assert_eq!(
        result["echo"],
        json!(["hi", {"binary": [1, 2, 3]}, {"n": 1}]),
        "{result}"
    );
    assert_eq!(result["echoWithAck"], json!({"binary": [4, 5]}), "{result}");
    assert_eq!(result["news"], json!("hello blue"), "{result}");
    assert_eq!(result["otherNews"], json!(0), "{result}");
    assert_eq!(result["roomSize"], json!(1), "{result}");
    if mode == "websocket" {
        assert_eq!(result["transport"], json!("websocket"), "{result}");
    }
    assert_eq!(
        result["serverAckError"],
        json!("operation has timed out"),
        "{result}"
    );
    assert_eq!(
        result["clientAckError"],
        json!("operation has timed out"),
        "the client's emitWithAck timeout: {result}"
    );
    assert_eq!(
        result["disconnects"],
        json!({
            "admin": "io client disconnect",
            "main": "io server disconnect",
            // socket.io-client's own reason when it closes its transport itself.
            "other": "forced close",
        }),
        "{result}"
    );
    // Server side.
    seen.connections.sort();
    assert_eq!(
        seen.connections,
        [
            ("admin".to_owned(), "/admin".to_owned()),
            ("main".to_owned(), "/".to_owned()),
            ("other".to_owned(), "/".to_owned()),
        ],
        "{seen:?}"
    );
    assert_eq!(
        seen.answers,
        [
            (
                "question".to_owned(),
                Ok(vec![Data::from("answer to life")])
            ),
            ("unanswered".to_owned(), Err(AckError::Timeout)),
        ],
        "{seen:?}"
    );
    seen.disconnects.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        seen.disconnects,
        [
            (
                "admin".to_owned(),
                "/admin".to_owned(),
                DisconnectReason::ClientNamespaceDisconnect
            ),
            (
                "main".to_owned(),
                "/".to_owned(),
                DisconnectReason::ServerNamespaceDisconnect
            ),
            (
                "other".to_owned(),
                "/".to_owned(),
                DisconnectReason::Transport(CloseReason::TransportClose)
            ),
        ],
        "{seen:?}"
    );
}

#[test]
#[ignore = "needs the interop peers: scripts/install-peers.sh"]
fn socket_io_client_with_its_default_transports() {
    check("default");
}

#[test]
#[ignore = "needs the interop peers: scripts/install-peers.sh"]
fn socket_io_client_over_websocket_only() {
    check("websocket");
}
