//! The Socket.IO v5 client (feature `socketio`) against our own `SocketIoServer`, over
//! real sockets on 127.0.0.1: namespaces and a refused CONNECT, events and acks both ways
//! (with timeouts), binary arguments, the server's disconnect (no reconnection), and the
//! server going away and coming back on the same port (reconnection, the namespaces joined
//! again, a message sent meanwhile delivered after it).
//!
//! `cargo test --features socketio --test socketio_client`

#![cfg(feature = "socketio")]

mod support;

use std::net::SocketAddr;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use rfc6455::events::{Handlers, Server, Spawned};
use rfc6455::socketio::{
    AckError, ClientConfig, ClientSocket, ConnectError, Data, EngineConfig, SocketIoClient,
    SocketIoConfig, SocketIoServer,
};
use serde_json::json;
use support::PATIENCE;

/// A log of what happened, one line per event, from any thread.
#[derive(Clone)]
struct Log(Arc<Mutex<Sender<String>>>);

impl Log {
    fn new() -> (Log, Receiver<String>) {
        let (sender, receiver) = channel();
        (Log(Arc::new(Mutex::new(sender))), receiver)
    }

    fn push(&self, line: impl Into<String>) {
        let _ = self.0.lock().unwrap().send(line.into());
    }
}

/// Waits (at most `PATIENCE`) for the line `expected`, skipping others; the ones skipped.
fn expect(log: &Receiver<String>, expected: &str) -> Vec<String> {
    let deadline = Instant::now() + PATIENCE;
    let mut skipped = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match log.recv_timeout(left) {
            Ok(line) if line == expected => return skipped,
            Ok(line) => skipped.push(line),
            Err(_) => panic!("never saw {expected:?}; saw {skipped:?}"),
        }
    }
}

/// Waits (at most `PATIENCE`) for every line of `expected`, in any order; all it saw.
fn expect_all(log: &Receiver<String>, expected: &[&str]) -> Vec<String> {
    let deadline = Instant::now() + PATIENCE;
    let mut seen = Vec::new();
    while !expected
        .iter()
        .all(|line| seen.iter().any(|seen: &String| seen == line))
    {
        let left = deadline.saturating_duration_since(Instant::now());
        match log.recv_timeout(left) {
            Ok(line) => seen.push(line),
            Err(_) => panic!("never saw all of {expected:?}; saw {seen:?}"),
        }
    }
    seen
}

/// The server: `/`, `/admin` (wants `{"token":"secret"}`) and `/private` (refuses all).
/// Each socket answers `echo` with its arguments, emits `relayed` back on `relay`, asks a
/// `question` (200 ms to answer, answer logged to `log`) on `ask`, ignores `silent`, and
/// leaves on `kick`.
fn serve(address: &str, log: &Log) -> (SocketIoServer, Spawned) {
    let config = SocketIoConfig {
        engine: EngineConfig {
            path: "/socket.io/".into(),
            ping_interval: Duration::from_secs(3600),
            ..EngineConfig::default()
        },
        ..SocketIoConfig::default()
    };
    let io = SocketIoServer::new(config).unwrap();
    let admin = io.of("/admin");
    admin.use_middleware(|_, auth| match auth {
        Data::Object(fields) if fields.get("token").and_then(Data::as_str) == Some("secret") => {
            Ok(())
        }
        _ => Err(ConnectError::new("no token")),
    });
    let private = io.of("/private");
    private.use_middleware(|_, _| {
        Err(ConnectError::new("private").with_data(Data::from(json!({"code": 7}))))
    });
    for namespace in [io.of("/"), admin] {
        let log = log.clone();
        namespace.on_connection(move |socket| {
            socket.on("echo", |_, args, ack| drop(ack.unwrap().send(args)));
            socket.on("relay", |socket, args, _| {
                socket.emit("relayed", args).unwrap();
            });
            socket.on("silent", |_, _, _| {});
            socket.on("kick", |socket, _, _| socket.disconnect(false));
            let log = log.clone();
            socket.on("ask", move |socket, _, _| {
                let log = log.clone();
                let timeout = Duration::from_millis(200);
                let namespace = socket.namespace().to_owned();
                socket
                    .emit_with_ack("question", vec![], timeout, move |answer| {
                        log.push(format!("server {namespace} answer {answer:?}"));
                    })
                    .unwrap();
            });
        });
    }
    let server = io
        .attach(Server::new(Handlers::<()>::new()))
        .bind(address)
        .unwrap()
        .spawn()
        .unwrap();
    (io, server)
}

/// A client with a fast reconnection, its sockets logging what they hear.
fn client(address: SocketAddr) -> SocketIoClient {
    let config = ClientConfig {
        reconnection_delay: Duration::from_millis(100),
        reconnection_delay_max: Duration::from_millis(400),
        ..ClientConfig::default()
    };
    SocketIoClient::new(&format!("http://{address}"), config).unwrap()
}

fn socket(client: &SocketIoClient, namespace: &str, auth: Data, log: &Log) -> ClientSocket {
    let socket = client.socket(namespace, auth);
    let on = log.clone();
    socket.on_connect(move |socket| on.push(format!("connect {}", socket.namespace())));
    let on = log.clone();
    socket.on_connect_error(move |socket, error| {
        on.push(format!(
            "connect_error {} {} {:?}",
            socket.namespace(),
            error.message,
            error.data.clone().and_then(Data::into_json)
        ));
    });
    let on = log.clone();
    socket.on_disconnect(move |socket, reason| {
        on.push(format!(
            "disconnect {} {}",
            socket.namespace(),
            reason.as_str()
        ));
    });
    let on = log.clone();
    socket.on("relayed", move |socket, args, _| {
        on.push(format!("relayed {} {args:?}", socket.namespace()));
    });
    socket.on("question", |_, _, ack| {
        ack.unwrap().send(vec![Data::from("answer")]).unwrap();
    });
    socket
}

fn admin_auth() -> Data {
    Data::from(json!({"token": "secret"}))
}

#[test]
fn namespaces_events_acks_binary_and_the_servers_disconnect() {
    let (log, lines) = Log::new();
    let (_io, server) = serve("127.0.0.1:0", &log);
    let client = client(server.local_addr().unwrap());
    let main = socket(&client, "/", Data::Null, &log);
    let admin = socket(&client, "admin", admin_auth(), &log);
    let private = socket(&client, "/private", Data::Null, &log);
    main.connect();
    admin.connect();
    private.connect();
    expect_all(
        &lines,
        &[
            "connect /",
            "connect /admin",
            r#"connect_error /private private Some(Object {"code": Number(7)})"#,
        ],
    );
    assert!(main.id().is_some() && admin.id().is_some() && main.id() != admin.id());
    assert!(!private.connected());

    // An event both ways, with a binary argument (a Buffer) each way.
    let blob = Bytes::from_static(&[0, 1, 2, 255]);
    admin
        .emit("relay", vec![Data::from("hi"), Data::from(blob.clone())])
        .unwrap();
    expect(
        &lines,
        r#"relayed /admin [String("hi"), Binary(b"\0\x01\x02\xff")]"#,
    );

    // The client's acks: one answered (binary inside), one timing out.
    let answers = log.clone();
    let args = vec![Data::from(json!({"n": 1})), Data::from(blob)];
    main.emit_with_ack("echo", args, PATIENCE, move |answer| {
        answers.push(format!("client answer {answer:?}"));
    })
    .unwrap();
    expect(
        &lines,
        r#"client answer Ok([Object({"n": Number(Number(1))}), Binary(b"\0\x01\x02\xff")])"#,
    );
    let answers = log.clone();
    let short = Duration::from_millis(200);
    main.emit_with_ack("silent", vec![], short, move |answer| {
        answers.push(format!("client answer {answer:?}"));
    })
    .unwrap();
    expect(
        &lines,
        &format!("client answer {:?}", Err::<(), _>(AckError::Timeout)),
    );

    // The server's ack, answered by the client's handler.
    main.emit("ask", vec![]).unwrap();
    expect(&lines, r#"server / answer Ok([String("answer")])"#);

    // The server disconnects `/`: `io server disconnect`, and no reconnection of it.
    main.emit("kick", vec![]).unwrap();
    expect(&lines, "disconnect / io server disconnect");
    std::thread::sleep(Duration::from_millis(600));
    assert!(!main.connected());
    assert!(admin.connected() && client.is_open());
    let seen: Vec<String> = lines.try_iter().collect();
    assert!(
        !seen.iter().any(|line| line.starts_with("connect ")),
        "{seen:?}"
    );

    // The client's own disconnect, then its close.
    admin.disconnect();
    expect(&lines, "disconnect /admin io client disconnect");
    client.close();
    assert_eq!(
        main.emit("relay", vec![]),
        Err(rfc6455::socketio::ClientEmitError::Closed)
    );
}

#[test]
fn reconnects_rejoins_and_flushes_the_send_buffer() {
    let (log, lines) = Log::new();
    let (_io, server) = serve("127.0.0.1:0", &log);
    let address = server.local_addr().unwrap();
    let client = client(address);
    let main = socket(&client, "/", Data::Null, &log);
    let admin = socket(&client, "/admin", admin_auth(), &log);
    main.connect();
    admin.connect();
    expect_all(&lines, &["connect /", "connect /admin"]);
    let first = main.id().unwrap();

    // The server goes away: both namespaces see `transport close`.
    server.shutdown().unwrap();
    expect_all(
        &lines,
        &[
            "disconnect / transport close",
            "disconnect /admin transport close",
        ],
    );
    assert!(!main.connected());
    // Sent while disconnected: buffered.
    main.emit("relay", vec![Data::from("meanwhile")]).unwrap();

    // It comes back on the same port; the client reconnects, joins both again, flushes.
    let (_io, server) = serve(&address.to_string(), &log);
    let seen = expect_all(
        &lines,
        &[
            "connect /",
            "connect /admin",
            r#"relayed / [String("meanwhile")]"#,
        ],
    );
    let connected = seen.iter().position(|line| line == "connect /");
    let relayed = seen.iter().position(|line| line.starts_with("relayed /"));
    assert!(connected < relayed, "{seen:?}");
    assert!(main.id().is_some_and(|id| id != first));

    // And works as before.
    admin.emit("relay", vec![Data::from("after")]).unwrap();
    expect(&lines, r#"relayed /admin [String("after")]"#);
    client.close();
    server.shutdown().unwrap();
}

/// A server that opens Engine.IO sessions with a 500 ms heartbeat window, joins `/`, then
/// never pings: the client sees `ping timeout`, and reconnects.
#[test]
fn silence_beyond_the_heartbeat_window_is_a_ping_timeout() {
    use rfc6455::blocking::WebSocket;
    use rfc6455::{Config, Event, Message};

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            std::thread::spawn(move || {
                let mut socket = WebSocket::accept(stream, &Config::default()).unwrap();
                let open = r#"0{"sid":"s","upgrades":[],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000}"#;
                socket.send(open).unwrap();
                // Answer the CONNECT, then say nothing (a read keeps the socket open).
                while let Ok(event) = socket.read() {
                    if let Event::Message(Message::Text(text)) = event
                        && text.as_str() == "40"
                    {
                        socket.send(r#"40{"sid":"a"}"#).unwrap();
                    }
                }
            });
        }
    });
    let (log, lines) = Log::new();
    let client = client(address);
    let main = socket(&client, "/", Data::Null, &log);
    main.connect();
    expect(&lines, "connect /");
    let started = Instant::now();
    expect(&lines, "disconnect / ping timeout");
    assert!(started.elapsed() >= Duration::from_millis(300));
    expect(&lines, "connect /");
    client.close();
}

/// The send buffer of a namespace not connected is bounded; what cannot be encoded is
/// refused at once.
#[test]
fn the_send_buffer_is_bounded() {
    let config = ClientConfig {
        send_buffer: 2,
        ..ClientConfig::default()
    };
    let client = SocketIoClient::new("http://127.0.0.1:9", config).unwrap();
    let main = client.socket("/", Data::Null);
    main.emit("a", vec![]).unwrap();
    main.emit_with_ack("b", vec![], PATIENCE, |_| {}).unwrap();
    assert_eq!(
        main.emit("c", vec![]),
        Err(rfc6455::socketio::ClientEmitError::BufferFull)
    );
    assert!(matches!(
        main.emit("connect", vec![]),
        Err(rfc6455::socketio::ClientEmitError::Packet(_))
    ));
    assert!(SocketIoClient::new("ftp://127.0.0.1:9", ClientConfig::default()).is_err());
    client.close();
}
