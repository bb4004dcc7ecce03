//! The Engine.IO v4 server (feature `socketio`) through its public API, over real sockets on
//! 127.0.0.1: raw HTTP/1.1 over `TcpStream` for exact wire checks of long-polling, and the
//! crate's blocking WebSocket client for the WebSocket transport. Each hostile input gets
//! the reference server's response or a clean close, and nothing panics.
//!
//! `cargo test --features socketio --test engineio`

#![cfg(feature = "socketio")]

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use rfc6455::blocking::{ClientStream, WebSocket};
use rfc6455::events::{Handlers, Server, Spawned};
use rfc6455::handshake::HttpResponse;
use rfc6455::socketio::{
    CloseReason, Cors, EngineConfig, EngineConnection, EngineHandlers, EngineSendError,
    EngineServer, EngineTransport,
};
use rfc6455::{Config, Event, HandshakeError, Message};
use support::{PATIENCE, start};

// ----- the server side: what the handlers saw -------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Seen {
    Connected(String),
    Message(String, Message),
    Closed(String, CloseReason),
}

/// Every event of every session, in order, and the connections.
#[derive(Default)]
struct Recorder {
    seen: Mutex<Vec<Seen>>,
    connections: Mutex<Vec<EngineConnection>>,
    changed: Condvar,
}

impl Recorder {
    fn push(&self, seen: Seen) {
        self.seen.lock().unwrap().push(seen);
        self.changed.notify_all();
    }

    /// Waits (at most `PATIENCE`) until `seen` happened; panics otherwise.
    fn wait_for(&self, seen: &Seen) {
        let deadline = Instant::now() + PATIENCE;
        let mut all = self.seen.lock().unwrap();
        while !all.contains(seen) {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "never saw {seen:?}; saw {all:?}");
            all = self.changed.wait_timeout(all, left).unwrap().0;
        }
    }

    fn messages(&self, sid: &str) -> Vec<Message> {
        let all = self.seen.lock().unwrap();
        all.iter()
            .filter_map(|seen| match seen {
                Seen::Message(of, message) if of == sid => Some(message.clone()),
                _ => None,
            })
            .collect()
    }

    fn connection(&self, sid: &str) -> EngineConnection {
        self.wait_for(&Seen::Connected(sid.to_owned()));
        let connections = self.connections.lock().unwrap();
        connections.iter().find(|c| c.sid() == sid).unwrap().clone()
    }

    fn closed(&self, sid: &str, reason: CloseReason) {
        self.wait_for(&Seen::Closed(sid.to_owned(), reason));
    }
}

/// An engine that records everything and echoes every message but `quiet` ones.
struct Fixture {
    engine: EngineServer,
    recorder: Arc<Recorder>,
    server: Spawned,
}

impl Fixture {
    fn new(config: EngineConfig) -> Fixture {
        Fixture::with(
            config,
            Config::default(),
            |handlers| handlers,
            |server| server,
        )
    }

    fn with(
        config: EngineConfig,
        runtime: Config,
        handlers: impl FnOnce(EngineHandlers) -> EngineHandlers,
        server: impl FnOnce(Server<()>) -> Server<()>,
    ) -> Fixture {
        let recorder = Arc::new(Recorder::default());
        let (connected, message, closed) = (recorder.clone(), recorder.clone(), recorder.clone());
        let base = EngineHandlers::new()
            .on_connection(move |connection| {
                connected
                    .connections
                    .lock()
                    .unwrap()
                    .push(connection.clone());
                connected.push(Seen::Connected(connection.sid().to_owned()));
            })
            .on_message(move |connection, received| {
                message.push(Seen::Message(connection.sid().to_owned(), received.clone()));
                if received.as_bytes() != b"quiet" {
                    let _ = connection.send(received);
                }
            })
            .on_close(move |connection, reason| {
                closed.push(Seen::Closed(connection.sid().to_owned(), reason));
            });
        let engine = EngineServer::new(config, handlers(base)).unwrap();
        let built = server(
            Server::new(Handlers::<()>::new())
                .config(runtime)
                .workers(2),
        );
        let server = start(engine.attach(built));
        Fixture {
            engine,
            recorder,
            server,
        }
    }

    fn addr(&self) -> SocketAddr {
        self.server.local_addr().unwrap()
    }

    fn http(&self) -> Http {
        Http::connect(self.addr())
    }

    /// A long-polling handshake: the session id, and the connection it was made on.
    fn handshake(&self) -> (String, Http) {
        let mut http = self.http();
        let response = http.get("/engine.io/?EIO=4&transport=polling");
        assert_eq!(response.status, 200, "{response:?}");
        let open: serde_json::Value = serde_json::from_slice(&response.body[1..]).unwrap();
        let sid = open["sid"].as_str().unwrap().to_owned();
        self.recorder.wait_for(&Seen::Connected(sid.clone()));
        (sid, http)
    }

    fn ws(&self, query: &str) -> WebSocket<ClientStream> {
        let url = format!("ws://{}/engine.io/?{query}", self.addr());
        let (mut socket, _) = WebSocket::connect(&url).expect("connect");
        socket.set_read_timeout(Some(PATIENCE));
        socket
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        self.server.handle().shutdown();
    }
}

/// Timers short enough for heartbeat tests, generous enough for a loaded machine.
fn fast_heartbeat() -> EngineConfig {
    EngineConfig {
        ping_interval: Duration::from_millis(100),
        ping_timeout: Duration::from_secs(1),
        ..EngineConfig::default()
    }
}

/// No heartbeat during the test (a ping in a payload would change the bytes checked).
fn no_heartbeat() -> EngineConfig {
    EngineConfig {
        ping_interval: Duration::from_secs(3600),
        ..EngineConfig::default()
    }
}

// ----- raw HTTP/1.1 -----------------------------------------------------------------------

#[derive(Debug)]
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap()
    }
}

/// One keep-alive HTTP/1.1 connection.
struct Http {
    stream: TcpStream,
}

impl Http {
    fn connect(addr: SocketAddr) -> Http {
        let stream = TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        Http { stream }
    }

    fn send(&mut self, method: &str, target: &str, headers: &[(&str, &str)], body: &[u8]) {
        let mut request = format!("{method} {target} HTTP/1.1\r\nHost: test\r\n");
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        if method != "GET" || !body.is_empty() {
            request.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        request.push_str("\r\n");
        let mut bytes = request.into_bytes();
        bytes.extend_from_slice(body);
        self.stream.write_all(&bytes).unwrap();
    }

    fn response(&mut self) -> Response {
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            self.stream.read_exact(&mut byte).expect("a response head");
            head.push(byte[0]);
        }
        let head = String::from_utf8(head).unwrap();
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .unwrap()
            .split(' ')
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        let headers: Vec<(String, String)> = lines
            .filter_map(|line| line.split_once(": "))
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
            .collect();
        let length: usize = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .map_or(0, |(_, v)| v.parse().unwrap());
        let mut body = vec![0u8; length];
        self.stream.read_exact(&mut body).unwrap();
        Response {
            status,
            headers,
            body,
        }
    }

    fn get(&mut self, target: &str) -> Response {
        self.send("GET", target, &[], b"");
        self.response()
    }

    fn post(&mut self, target: &str, body: &[u8]) -> Response {
        self.send(
            "POST",
            target,
            &[("Content-Type", "text/plain;charset=UTF-8")],
            body,
        );
        self.response()
    }
}

fn poll_target(sid: &str) -> String {
    format!("/engine.io/?EIO=4&transport=polling&sid={sid}")
}

/// Reads WebSocket messages until a text one.
fn next_text(socket: &mut WebSocket<ClientStream>) -> String {
    loop {
        match socket.read().expect("a message") {
            Event::Message(Message::Text(text)) => return text.as_str().to_owned(),
            Event::Message(other) => panic!("not text: {other:?}"),
            _ => {}
        }
    }
}

/// The sid of a WebSocket session's open packet.
fn ws_open(socket: &mut WebSocket<ClientStream>) -> String {
    let open = next_text(socket);
    assert!(open.starts_with('0'), "{open}");
    let open: serde_json::Value = serde_json::from_str(&open[1..]).unwrap();
    assert_eq!(open["upgrades"], serde_json::json!([]));
    open["sid"].as_str().unwrap().to_owned()
}

/// True once the server closed the WebSocket (a close frame or the end of the stream).
fn ws_closed(socket: &mut WebSocket<ClientStream>) -> bool {
    loop {
        match socket.read() {
            Ok(Event::Close(_)) | Err(_) => return true,
            Ok(_) => {}
        }
    }
}

// ----- long-polling -----------------------------------------------------------------------

#[test]
fn a_polling_handshake_answers_the_open_packet_and_messages_go_both_ways() {
    let fixture = Fixture::new(no_heartbeat());
    let mut http = fixture.http();
    http.send(
        "GET",
        "/engine.io/?EIO=4&transport=polling&t=abc",
        &[("User-Agent", "test-agent")],
        b"",
    );
    let response = http.response();
    assert_eq!(response.status, 200);
    assert_eq!(
        response.header("Content-Type"),
        Some("text/plain; charset=UTF-8")
    );
    assert_eq!(response.header("Cache-Control"), Some("no-store"));
    let text = response.text();
    let sid = text
        .strip_prefix(r#"0{"sid":""#)
        .and_then(|rest| rest.split('"').next())
        .unwrap();
    assert_eq!(sid.len(), 20, "{text}");
    assert!(
        sid.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    assert_eq!(
        text,
        format!(
            r#"0{{"sid":"{sid}","upgrades":["websocket"],"pingInterval":3600000,"pingTimeout":20000,"maxPayload":1000000}}"#
        )
    );
    // The connection event knows the request and the client.
    let connection = fixture.recorder.connection(sid);
    assert_eq!(
        connection.request().header("User-Agent"),
        Some("test-agent")
    );
    assert_eq!(
        connection.request().query(),
        Some("EIO=4&transport=polling&t=abc")
    );
    assert_eq!(connection.remote_addr(), http.stream.local_addr().unwrap());
    assert_eq!(connection.transport(), EngineTransport::Polling);
    assert_eq!(fixture.engine.connection(sid), Some(connection.clone()));
    assert_eq!(fixture.engine.connection_count(), 1);

    // A POST answers "ok"; its packets arrive in order, binary ones decoded from base64.
    let response = http.post(
        &poll_target(sid),
        b"4hello\x1ebAQIDBA==\x1e4\xc3\xa9t\xc3\xa9",
    );
    assert_eq!((response.status, response.text()), (200, "ok"));
    assert_eq!(response.header("Content-Type"), Some("text/html"));
    assert_eq!(
        fixture.recorder.messages(sid),
        [
            Message::from("hello"),
            Message::from(vec![1u8, 2, 3, 4]),
            Message::from("été")
        ]
    );
    // The echoes wait in the queue and go out in one payload, binary as base64.
    let response = http.get(&poll_target(sid));
    assert_eq!(response.body, b"4hello\x1ebAQIDBA==\x1e4\xc3\xa9t\xc3\xa9");
}

#[test]
fn refusals_are_the_references_error_responses() {
    let fixture = Fixture::new(no_heartbeat());
    let (sid, _http) = fixture.handshake();
    let unknown_transport = r#"{"code":0,"message":"Transport unknown"}"#;
    let unknown_sid = r#"{"code":1,"message":"Session ID unknown"}"#;
    let bad_method = r#"{"code":2,"message":"Bad handshake method"}"#;
    let bad_request = r#"{"code":3,"message":"Bad request"}"#;
    let old_protocol = r#"{"code":5,"message":"Unsupported protocol version"}"#;
    let cases: Vec<(&str, String, &str)> = vec![
        ("GET", "/engine.io/?EIO=4".into(), unknown_transport),
        (
            "GET",
            "/engine.io/?EIO=4&transport=flashsocket".into(),
            unknown_transport,
        ),
        ("GET", "/engine.io/".into(), unknown_transport),
        (
            "GET",
            "/engine.io/?EIO=4&transport=polling&sid=nope".into(),
            unknown_sid,
        ),
        (
            "POST",
            "/engine.io/?EIO=4&transport=polling&sid=nope".into(),
            unknown_sid,
        ),
        (
            "POST",
            "/engine.io/?EIO=4&transport=polling".into(),
            bad_method,
        ),
        (
            "PUT",
            "/engine.io/?EIO=4&transport=polling".into(),
            bad_method,
        ),
        (
            "GET",
            "/engine.io/?EIO=3&transport=polling".into(),
            old_protocol,
        ),
        ("GET", "/engine.io/?transport=polling".into(), old_protocol),
        (
            "GET",
            "/engine.io/?EIO=abc&transport=polling".into(),
            old_protocol,
        ),
        // A WebSocket handshake without the upgrade, and a sid on the other transport.
        (
            "GET",
            "/engine.io/?EIO=4&transport=websocket".into(),
            bad_request,
        ),
        (
            "GET",
            format!("/engine.io/?EIO=4&transport=websocket&sid={sid}"),
            bad_request,
        ),
    ];
    let mut http = fixture.http();
    for (method, target, body) in cases {
        http.send(method, &target, &[], b"");
        let response = http.response();
        assert_eq!(
            (response.status, response.text()),
            (400, body),
            "{method} {target}"
        );
        assert_eq!(response.header("Content-Type"), Some("application/json"));
    }
    // Other paths are not Engine.IO's.
    assert_eq!(http.get("/engine.io").status, 426);
    // The session was not harmed by any of it.
    assert_eq!(http.post(&poll_target(&sid), b"4still here").status, 200);
    fixture
        .recorder
        .wait_for(&Seen::Message(sid, Message::from("still here")));
}

#[test]
fn a_held_get_is_answered_when_a_message_is_sent_from_another_thread() {
    let fixture = Fixture::new(no_heartbeat());
    let (sid, mut http) = fixture.handshake();
    http.send("GET", &poll_target(&sid), &[], b"");
    let connection = fixture.recorder.connection(&sid);
    let sender = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        connection.send("news").unwrap();
        connection.send(vec![0xFFu8]).unwrap();
    });
    let response = http.response();
    sender.join().unwrap();
    // The first send answers the held GET; the second waits for the next.
    assert_eq!(response.body, b"4news");
    assert_eq!(http.get(&poll_target(&sid)).body, b"b/w==");
}

#[test]
fn a_second_get_on_one_sid_closes_the_session_and_a_flood_is_refused() {
    let fixture = Fixture::new(no_heartbeat());
    let (sid, mut held) = fixture.handshake();
    held.send("GET", &poll_target(&sid), &[], b"");
    // Make sure the first is held before the second comes.
    std::thread::sleep(Duration::from_millis(50));
    let mut second = fixture.http();
    let response = second.get(&poll_target(&sid));
    assert_eq!((response.status, response.text()), (400, ""));
    // The held GET gets the close packet.
    let response = held.response();
    assert_eq!((response.status, response.text()), (200, "1"));
    fixture.recorder.closed(&sid, CloseReason::TransportError);
    // A flood on the dead sid: every request refused, over one keep-alive connection.
    for _ in 0..200 {
        second.send("GET", &poll_target(&sid), &[], b"");
    }
    for _ in 0..200 {
        assert_eq!(second.response().status, 400);
    }
    assert_eq!(fixture.engine.connection_count(), 0);
}

#[test]
fn a_malformed_payload_closes_the_session_with_parse_error() {
    let fixture = Fixture::new(no_heartbeat());
    for body in [
        &b"abc"[..],
        b"4ok\x1e",
        b"4ok\x1e\x1e4b",
        b"bAQ=",
        b"4\xff\xfe",
        b"",
    ] {
        let (sid, mut http) = fixture.handshake();
        let response = http.post(&poll_target(&sid), body);
        assert_eq!(
            (response.status, response.text()),
            (400, r#"{"code":3,"message":"Bad request"}"#),
            "{body:?}"
        );
        fixture.recorder.closed(&sid, CloseReason::ParseError);
        assert_eq!(http.get(&poll_target(&sid)).status, 400);
    }
}

#[test]
fn a_post_over_max_http_buffer_size_is_413_and_the_session_goes_on() {
    let config = EngineConfig {
        max_http_buffer_size: 100,
        ..no_heartbeat()
    };
    // The runtime's own bound on bodies, below which the engine's is checked.
    let runtime = Config {
        max_http_body: 1000,
        ..Config::default()
    };
    let fixture = Fixture::with(config, runtime, |h| h, |s| s);
    let (sid, mut http) = fixture.handshake();
    let within = [b"4".as_slice(), &[b'x'; 99]].concat();
    assert_eq!(http.post(&poll_target(&sid), &within).status, 200);
    let over = [b"4".as_slice(), &[b'x'; 100]].concat();
    assert_eq!(http.post(&poll_target(&sid), &over).status, 413);
    // Over the runtime's bound the runtime answers 413 itself, before reading the body.
    let mut other = fixture.http();
    let huge = vec![b'4'; 5000];
    assert_eq!(other.post(&poll_target(&sid), &huge).status, 413);
    assert_eq!(http.post(&poll_target(&sid), b"4after").status, 200);
    fixture
        .recorder
        .wait_for(&Seen::Message(sid.clone(), Message::from("after")));
    assert_eq!(fixture.recorder.messages(&sid).len(), 2);
    assert!(fixture.engine.connection(&sid).unwrap().is_open());
}

#[test]
fn a_binary_post_is_a_transport_error() {
    let fixture = Fixture::new(no_heartbeat());
    let (sid, mut http) = fixture.handshake();
    http.send(
        "POST",
        &poll_target(&sid),
        &[("Content-Type", "application/octet-stream")],
        &[4, 1, 2],
    );
    assert_eq!(http.response().status, 400);
    fixture.recorder.closed(&sid, CloseReason::TransportError);
}

#[test]
fn a_client_that_never_pongs_times_out() {
    let fixture = Fixture::new(fast_heartbeat());
    // Long-polling: the ping waits in the queue, nobody answers it.
    let (sid, _http) = fixture.handshake();
    fixture.recorder.closed(&sid, CloseReason::PingTimeout);
    assert_eq!(fixture.http().get(&poll_target(&sid)).status, 400);
    // WebSocket: the ping arrives, nobody answers it, the server closes the WebSocket.
    let mut socket = fixture.ws("EIO=4&transport=websocket");
    let sid = ws_open(&mut socket);
    assert_eq!(next_text(&mut socket), "2");
    fixture.recorder.closed(&sid, CloseReason::PingTimeout);
    assert!(ws_closed(&mut socket));
}

#[test]
fn heartbeats_keep_a_session_that_answers_alive() {
    let fixture = Fixture::new(fast_heartbeat());
    let mut socket = fixture.ws("EIO=4&transport=websocket");
    let sid = ws_open(&mut socket);
    for _ in 0..3 {
        assert_eq!(next_text(&mut socket), "2");
        socket.send("3").unwrap();
    }
    assert!(fixture.engine.connection(&sid).unwrap().is_open());
    drop(socket);
    fixture.recorder.closed(&sid, CloseReason::TransportClose);
    // Over long-polling too: the held GET gets the ping, the POST carries the pong.
    let (polling, mut http) = fixture.handshake();
    for _ in 0..3 {
        let response = http.get(&poll_target(&polling));
        assert_eq!(response.text(), "2");
        assert_eq!(http.post(&poll_target(&polling), b"3").status, 200);
    }
    assert!(fixture.engine.connection(&polling).unwrap().is_open());
}

#[test]
fn a_cancelled_long_poll_closes_the_session() {
    let fixture = Fixture::new(no_heartbeat());
    let (sid, http) = fixture.handshake();
    let mut held = fixture.http();
    held.send("GET", &poll_target(&sid), &[], b"");
    std::thread::sleep(Duration::from_millis(50));
    drop(held);
    fixture.recorder.closed(&sid, CloseReason::TransportError);
    drop(http);
}

#[test]
fn the_clients_close_packet_ends_the_session_and_a_held_get_gets_a_noop() {
    let fixture = Fixture::new(no_heartbeat());
    let (sid, mut held) = fixture.handshake();
    held.send("GET", &poll_target(&sid), &[], b"");
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(fixture.http().post(&poll_target(&sid), b"1").text(), "ok");
    assert_eq!(held.response().text(), "6");
    fixture.recorder.closed(&sid, CloseReason::TransportClose);
}

#[test]
fn the_server_closes_a_session_over_either_transport() {
    let fixture = Fixture::new(no_heartbeat());
    // Long-polling: the next GET takes what is queued and the close packet.
    let (sid, mut http) = fixture.handshake();
    let connection = fixture.recorder.connection(&sid);
    connection.send("last words").unwrap();
    connection.close();
    assert!(!connection.is_open());
    assert_eq!(connection.send("too late"), Err(EngineSendError::Closed));
    assert_eq!(http.get(&poll_target(&sid)).body, b"4last words\x1e1");
    fixture.recorder.closed(&sid, CloseReason::ForcedClose);
    // WebSocket: closed at once.
    let mut socket = fixture.ws("EIO=4&transport=websocket");
    let sid = ws_open(&mut socket);
    fixture.recorder.connection(&sid).close();
    assert!(ws_closed(&mut socket));
    fixture.recorder.closed(&sid, CloseReason::ForcedClose);
    // And every session at once.
    let (first, _a) = fixture.handshake();
    let (second, _b) = fixture.handshake();
    fixture.engine.close_all();
    let mut http = fixture.http();
    assert_eq!(http.get(&poll_target(&first)).text(), "1");
    assert_eq!(http.get(&poll_target(&second)).text(), "1");
    fixture.recorder.closed(&first, CloseReason::ForcedClose);
    fixture.recorder.closed(&second, CloseReason::ForcedClose);
}

#[test]
fn the_outgoing_queue_of_a_client_that_does_not_poll_is_bounded() {
    let config = EngineConfig {
        max_queued_bytes: 4096,
        ..no_heartbeat()
    };
    let fixture = Fixture::with(config, Config::default(), |h| h, |s| s);
    let (sid, mut http) = fixture.handshake();
    let connection = fixture.recorder.connection(&sid);
    let chunk = "x".repeat(1000);
    let mut sent = 0;
    let refused = loop {
        match connection.send(chunk.as_str()) {
            Ok(()) => sent += 1,
            Err(error) => break error,
        }
        assert!(sent < 100, "never refused");
    };
    assert_eq!(refused, EngineSendError::QueueFull { limit: 4096 });
    assert!(
        connection.is_open(),
        "a full queue does not end the session"
    );
    // The next GET takes it all, and the queue takes sends again.
    let response = http.get(&poll_target(&sid));
    assert_eq!(response.body.len(), sent * 1001 + sent - 1);
    connection.send("again").unwrap();
    assert_eq!(http.get(&poll_target(&sid)).body, b"4again");
    assert_eq!(
        connection.send("a\u{1e}b"),
        Err(EngineSendError::RecordSeparatorInText)
    );
}

#[test]
fn cors_preflight_and_headers() {
    let mut cors = Cors::origins(["https://app.example"]).credentials(true);
    cors.max_age = Some(Duration::from_secs(600));
    let config = EngineConfig {
        cors: Some(cors),
        ..no_heartbeat()
    };
    let fixture = Fixture::with(config, Config::default(), |h| h, |s| s);
    let mut http = fixture.http();
    http.send(
        "OPTIONS",
        "/engine.io/?EIO=4&transport=polling",
        &[
            ("Origin", "https://app.example"),
            ("Access-Control-Request-Method", "POST"),
            ("Access-Control-Request-Headers", "content-type"),
        ],
        b"",
    );
    let preflight = http.response();
    assert_eq!(preflight.status, 204);
    assert_eq!(
        preflight.header("Access-Control-Allow-Origin"),
        Some("https://app.example")
    );
    assert_eq!(
        preflight.header("Access-Control-Allow-Credentials"),
        Some("true")
    );
    assert_eq!(
        preflight.header("Access-Control-Allow-Methods"),
        Some("GET,HEAD,PUT,PATCH,POST,DELETE")
    );
    assert_eq!(
        preflight.header("Access-Control-Allow-Headers"),
        Some("content-type")
    );
    assert_eq!(preflight.header("Access-Control-Max-Age"), Some("600"));
    // Every response carries them, refusals included; other origins get none.
    http.send(
        "GET",
        "/engine.io/?EIO=4&transport=polling",
        &[("Origin", "https://app.example")],
        b"",
    );
    let handshake = http.response();
    assert_eq!(handshake.status, 200);
    assert_eq!(
        handshake.header("Access-Control-Allow-Origin"),
        Some("https://app.example")
    );
    assert_eq!(handshake.header("Vary"), Some("Origin"));
    http.send(
        "GET",
        "/engine.io/?EIO=4",
        &[("Origin", "https://evil.example")],
        b"",
    );
    let refused = http.response();
    assert_eq!(refused.status, 400);
    assert_eq!(refused.header("Access-Control-Allow-Origin"), None);
    assert_eq!(refused.header("Vary"), Some("Origin"));
}

#[test]
fn allow_request_refuses_a_handshake_with_403() {
    let fixture = Fixture::with(
        no_heartbeat(),
        Config::default(),
        |handlers| {
            handlers.allow_request(|request| match request.header("Authorization") {
                Some("Bearer ok") => Ok(()),
                _ => Err("no token".to_owned()),
            })
        },
        |s| s,
    );
    let mut http = fixture.http();
    let response = http.get("/engine.io/?EIO=4&transport=polling");
    assert_eq!(
        (response.status, response.text()),
        (403, r#"{"code":4,"message":"no token"}"#)
    );
    http.send(
        "GET",
        "/engine.io/?EIO=4&transport=polling",
        &[("Authorization", "Bearer ok")],
        b"",
    );
    assert_eq!(http.response().status, 200);
    let url = format!(
        "ws://{}/engine.io/?EIO=4&transport=websocket",
        fixture.addr()
    );
    assert!(WebSocket::connect(&url).is_err(), "refused before the 101");
}

// ----- WebSocket --------------------------------------------------------------------------

#[test]
fn a_websocket_session_carries_text_and_binary_and_ends_on_a_close_packet() {
    let fixture = Fixture::new(no_heartbeat());
    let mut socket = fixture.ws("EIO=4&transport=websocket");
    let sid = ws_open(&mut socket);
    let connection = fixture.recorder.connection(&sid);
    assert_eq!(connection.transport(), EngineTransport::WebSocket);
    socket.send("4hello").unwrap();
    assert_eq!(next_text(&mut socket), "4hello");
    socket.send(vec![1u8, 2, 3]).unwrap();
    match socket.read().unwrap() {
        Event::Message(Message::Binary(bytes)) => assert_eq!(&bytes[..], [1, 2, 3]),
        other => panic!("{other:?}"),
    }
    // A text frame `b<base64>` is a binary message too, as the reference decodes it.
    socket.send("bAQID").unwrap();
    fixture
        .recorder
        .wait_for(&Seen::Message(sid.clone(), Message::from(vec![1u8, 2, 3])));
    socket.send("1").unwrap();
    fixture.recorder.closed(&sid, CloseReason::TransportClose);
    assert!(ws_closed(&mut socket));
}

#[test]
fn a_malformed_websocket_frame_closes_with_parse_error() {
    let fixture = Fixture::new(no_heartbeat());
    for frame in ["abc", "", "bAQ"] {
        let mut socket = fixture.ws("EIO=4&transport=websocket");
        let sid = ws_open(&mut socket);
        socket.send(frame).unwrap();
        fixture.recorder.closed(&sid, CloseReason::ParseError);
        assert!(ws_closed(&mut socket));
    }
    // A ping from the client breaks the v4 heartbeat's direction.
    let mut socket = fixture.ws("EIO=4&transport=websocket");
    let sid = ws_open(&mut socket);
    socket.send("2").unwrap();
    fixture.recorder.closed(&sid, CloseReason::TransportError);
}

#[test]
fn a_websocket_message_over_max_http_buffer_size_fails_the_transport() {
    let config = EngineConfig {
        max_http_buffer_size: 100,
        ..no_heartbeat()
    };
    let fixture = Fixture::with(config, Config::default(), |h| h, |s| s);
    let mut socket = fixture.ws("EIO=4&transport=websocket");
    let sid = ws_open(&mut socket);
    socket.send(format!("4{}", "x".repeat(99))).unwrap();
    assert_eq!(next_text(&mut socket).len(), 100);
    socket.send(format!("4{}", "x".repeat(100))).unwrap();
    fixture.recorder.closed(&sid, CloseReason::TransportError);
    assert!(ws_closed(&mut socket));
}

#[test]
fn websocket_refusals_and_closes() {
    let fixture = Fixture::new(no_heartbeat());
    let addr = fixture.addr();
    // Refused before the 101 (the reference's abortUpgrade): a 400 and its message.
    for query in [
        "EIO=4",
        "EIO=4&transport=abc",
        "EIO=3&transport=websocket",
        "EIO=4&transport=websocket&sid=nope",
    ] {
        let url = format!("ws://{addr}/engine.io/?{query}");
        match WebSocket::connect(&url) {
            Err(rfc6455::Error::Handshake(HandshakeError::UnexpectedStatus(400))) => {}
            other => panic!("{query}: {:?}", other.map(|_| ())),
        }
    }
    // Accepted, then closed (the reference's WebSocket server does so): an upgrade for the
    // polling transport.
    let (sid, _http) = fixture.handshake();
    let mut socket = fixture.ws(&format!("EIO=4&transport=polling&sid={sid}"));
    assert!(ws_closed(&mut socket));
    assert!(fixture.engine.connection(&sid).unwrap().is_open());
}

#[test]
fn the_upgrade_dance_over_raw_sockets() {
    let fixture = Fixture::new(no_heartbeat());
    let (sid, mut held) = fixture.handshake();
    held.send("GET", &poll_target(&sid), &[], b"");
    std::thread::sleep(Duration::from_millis(50));
    let mut socket = fixture.ws(&format!("EIO=4&transport=websocket&sid={sid}"));
    // A second WebSocket while upgrading is closed.
    let mut second = fixture.ws(&format!("EIO=4&transport=websocket&sid={sid}"));
    assert!(ws_closed(&mut second));
    socket.send("2probe").unwrap();
    assert_eq!(next_text(&mut socket), "3probe");
    // The held GET is ended with a noop, and so is one sent while upgrading.
    assert_eq!(held.response().text(), "6");
    assert_eq!(held.get(&poll_target(&sid)).text(), "6");
    let connection = fixture.recorder.connection(&sid);
    assert_eq!(connection.transport(), EngineTransport::Polling);
    connection.send("sent while upgrading").unwrap();
    socket.send("5").unwrap();
    // What waited goes over the WebSocket, and the session lives there now.
    assert_eq!(next_text(&mut socket), "4sent while upgrading");
    assert_eq!(connection.transport(), EngineTransport::WebSocket);
    socket.send("4over the websocket").unwrap();
    assert_eq!(next_text(&mut socket), "4over the websocket");
    // Long-polling is refused for it now, and so is another WebSocket.
    let response = held.get(&poll_target(&sid));
    assert_eq!(
        (response.status, response.text()),
        (400, r#"{"code":3,"message":"Bad request"}"#)
    );
    let mut third = fixture.ws(&format!("EIO=4&transport=websocket&sid={sid}"));
    assert!(ws_closed(&mut third));
    socket.send("4still fine").unwrap();
    assert_eq!(next_text(&mut socket), "4still fine");
    // Its end is the WebSocket's.
    drop(socket);
    fixture.recorder.closed(&sid, CloseReason::TransportClose);
}

#[test]
fn an_upgrade_that_is_not_completed_leaves_the_session_on_polling() {
    let config = EngineConfig {
        upgrade_timeout: Duration::from_millis(100),
        ..no_heartbeat()
    };
    let fixture = Fixture::with(config, Config::default(), |h| h, |s| s);
    let (sid, mut http) = fixture.handshake();
    let mut socket = fixture.ws(&format!("EIO=4&transport=websocket&sid={sid}"));
    assert!(ws_closed(&mut socket), "closed at the upgrade timeout");
    // A probe answered with something else than the upgrade is closed too.
    let mut socket = fixture.ws(&format!("EIO=4&transport=websocket&sid={sid}"));
    socket.send("4not an upgrade").unwrap();
    assert!(ws_closed(&mut socket));
    assert_eq!(http.post(&poll_target(&sid), b"4polling still").status, 200);
    assert_eq!(http.get(&poll_target(&sid)).body, b"4polling still");
}

#[test]
fn upgrades_off_announces_none_and_closes_a_probe() {
    let config = EngineConfig {
        allow_upgrades: false,
        ..no_heartbeat()
    };
    let fixture = Fixture::with(config, Config::default(), |h| h, |s| s);
    let response = fixture.http().get("/engine.io/?EIO=4&transport=polling");
    let open: serde_json::Value = serde_json::from_slice(&response.body[1..]).unwrap();
    assert_eq!(open["upgrades"], serde_json::json!([]));
    let sid = open["sid"].as_str().unwrap();
    let mut socket = fixture.ws(&format!("EIO=4&transport=websocket&sid={sid}"));
    assert!(ws_closed(&mut socket));
}

// ----- beside the application's own routes ------------------------------------------------

#[test]
fn the_engine_shares_the_port_with_the_applications_pages_and_websockets() {
    let fixture = Fixture::with(
        EngineConfig {
            path: "/realtime".to_owned(),
            ..no_heartbeat()
        },
        Config::default(),
        |h| h,
        |_| {
            Server::new(Handlers::<()>::new().on_message(|socket, message| {
                let _ = socket.send(message); // the application's own echo
            }))
            .workers(2)
            .on_http(|request| HttpResponse::text(200, format!("page {}", request.path())))
        },
    );
    let mut http = fixture.http();
    let page = http.get("/index.html");
    assert_eq!((page.status, page.text()), (200, "page /index.html"));
    let response = http.get("/realtime/?EIO=4&transport=polling");
    assert_eq!(response.status, 200);
    assert!(response.text().starts_with(r#"0{"sid":"#));
    let url = format!("ws://{}/chat", fixture.addr());
    let (mut own, _) = WebSocket::connect(&url).unwrap();
    own.set_read_timeout(Some(PATIENCE));
    own.send("not engine.io").unwrap();
    assert_eq!(next_text(&mut own), "not engine.io");
    let url = format!(
        "ws://{}/realtime/?EIO=4&transport=websocket",
        fixture.addr()
    );
    let (mut engine, _) = WebSocket::connect(&url).unwrap();
    engine.set_read_timeout(Some(PATIENCE));
    ws_open(&mut engine);
    engine.send("4engine.io").unwrap();
    assert_eq!(next_text(&mut engine), "4engine.io");
}

#[test]
fn a_handler_that_panics_closes_only_its_session() {
    let fixture = Fixture::with(
        no_heartbeat(),
        Config::default(),
        |handlers| {
            handlers.on_message(|connection, message| {
                if message.as_bytes() == b"panic" {
                    panic!("a handler's bug");
                }
                let _ = connection.send(message);
            })
        },
        |s| s,
    );
    let mut first = fixture.ws("EIO=4&transport=websocket");
    ws_open(&mut first);
    let mut second = fixture.ws("EIO=4&transport=websocket");
    ws_open(&mut second);
    first.send("4panic").unwrap();
    assert!(ws_closed(&mut first));
    second.send("4fine").unwrap();
    assert_eq!(next_text(&mut second), "4fine");
}
