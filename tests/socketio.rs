//! The Socket.IO v5 server (feature `socketio`) through its public API, over raw Engine.IO
//! WebSocket sessions on 127.0.0.1 (the crate's blocking client): exact packets on the
//! wire for CONNECT and its refusals, events and acks both ways, binary attachments, rooms
//! and broadcasts, disconnects, and the reference's answer to packets that break the
//! protocol (the session is closed).
//!
//! `cargo test --features socketio --test socketio`

#![cfg(feature = "socketio")]

mod support;

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use rfc6455::blocking::{ClientStream, WebSocket};
use rfc6455::events::{Handlers, Server, Spawned};
use rfc6455::socketio::{
    AckError, CloseReason, ConnectError, Data, DisconnectReason, EngineConfig, Namespace,
    SocketIoConfig, SocketIoServer,
};
use rfc6455::{Event, Message};
use serde_json::json;
use support::{PATIENCE, start};

/// What the server's handlers saw.
#[derive(Default)]
struct Recorder {
    disconnects: Mutex<Vec<(String, DisconnectReason)>>,
    acks: Mutex<Vec<Result<Vec<Data>, AckError>>>,
    changed: Condvar,
}

impl Recorder {
    /// Waits (at most `PATIENCE`) until socket `id` disconnected; its reason.
    fn disconnected(&self, id: &str) -> DisconnectReason {
        let deadline = Instant::now() + PATIENCE;
        let mut all = self.disconnects.lock().unwrap();
        loop {
            if let Some((_, reason)) = all.iter().find(|(of, _)| of == id) {
                return *reason;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "{id} never disconnected; saw {all:?}");
            all = self.changed.wait_timeout(all, left).unwrap().0;
        }
    }

    fn ack(&self) -> Result<Vec<Data>, AckError> {
        let deadline = Instant::now() + PATIENCE;
        let mut all = self.acks.lock().unwrap();
        while all.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "no ack callback");
            all = self.changed.wait_timeout(all, left).unwrap().0;
        }
        all.remove(0)
    }
}

struct Fixture {
    io: SocketIoServer,
    main: Namespace,
    recorder: Arc<Recorder>,
    server: Spawned,
}

impl Fixture {
    /// `/` and `/admin` (whose middleware wants `{"token":"secret"}`); every socket echoes
    /// `echo` in its ack, joins the room named by `join`, is asked a question with a 200 ms
    /// timeout on `ask`, and answers `sync`.
    fn new() -> Fixture {
        Fixture::with_connect_timeout(Duration::from_secs(45))
    }

    fn with_connect_timeout(connect_timeout: Duration) -> Fixture {
        Fixture::build(connect_timeout, Server::new(Handlers::new()).workers(2))
    }

    /// The fixture's Socket.IO server on `server`.
    fn build(connect_timeout: Duration, server: Server<()>) -> Fixture {
        let config = SocketIoConfig {
            connect_timeout,
            engine: EngineConfig {
                path: "/socket.io/".into(),
                ping_interval: Duration::from_secs(3600),
                ..EngineConfig::default()
            },
            ..SocketIoConfig::default()
        };
        let io = SocketIoServer::new(config).unwrap();
        let recorder = Arc::new(Recorder::default());
        let main = io.of("/");
        let admin = io.of("/admin");
        admin.use_middleware(|_, auth| match auth {
            Data::Object(fields)
                if fields.get("token").and_then(Data::as_str) == Some("secret") =>
            {
                Ok(())
            }
            _ => Err(ConnectError::new("no token").with_data(Data::from(json!({"code": 7})))),
        });
        for namespace in [&main, &admin] {
            let recorder = recorder.clone();
            namespace.on_connection(move |socket| {
                let on_disconnect = recorder.clone();
                socket.on_disconnect(move |socket, reason| {
                    let entry = (socket.id().to_owned(), *reason);
                    on_disconnect.disconnects.lock().unwrap().push(entry);
                    on_disconnect.changed.notify_all();
                });
                socket.on("echo", |_, args, ack| drop(ack.unwrap().send(args)));
                socket.on("sync", |_, _, ack| drop(ack.unwrap().send(Vec::new())));
                socket.on("join", |socket, args, _| {
                    socket.join(args[0].as_str().unwrap());
                });
                let on_ask = recorder.clone();
                socket.on("ask", move |socket, _, _| {
                    let on_ack = on_ask.clone();
                    let timeout = Duration::from_millis(200);
                    socket
                        .emit_with_ack("question", vec![Data::from("?")], timeout, move |answer| {
                            on_ack.acks.lock().unwrap().push(answer);
                            on_ack.changed.notify_all();
                        })
                        .unwrap();
                });
            });
        }
        let server = start(io.attach(server));
        Fixture {
            io,
            main,
            recorder,
            server,
        }
    }

    /// A raw Engine.IO WebSocket session, its open packet read.
    fn session(&self) -> Raw {
        let url = format!(
            "ws://{}/socket.io/?EIO=4&transport=websocket",
            self.server.local_addr().unwrap()
        );
        let (mut socket, _) = WebSocket::connect(&url).expect("connect");
        socket.set_read_timeout(Some(PATIENCE));
        let mut raw = Raw { socket };
        let open = raw.message();
        assert!(open.as_text().unwrap().starts_with("0{"), "{open:?}");
        raw
    }

    /// A session connected to `/`: the session and the socket id.
    fn connected(&self) -> (Raw, String) {
        let mut raw = self.session();
        raw.send("0");
        let id = raw.connect_reply("");
        (raw, id)
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        self.server.handle().shutdown();
    }
}

struct Raw {
    socket: WebSocket<ClientStream>,
}

impl Raw {
    /// Sends a Socket.IO text part in an Engine.IO message packet.
    fn send(&mut self, packet: &str) {
        self.socket.send(format!("4{packet}")).unwrap();
    }

    fn message(&mut self) -> Message {
        loop {
            match self.socket.read().expect("a message") {
                Event::Message(message) => return message,
                Event::Close(close) => panic!("closed: {close:?}"),
                _ => {}
            }
        }
    }

    /// The next Socket.IO text part.
    fn text(&mut self) -> String {
        let message = self.message();
        let text = message.as_text().expect("text");
        text.strip_prefix('4').expect("a message packet").to_owned()
    }

    /// The `sid` of a CONNECT reply in `namespace` (`""` for `/`, `"/admin,"`).
    fn connect_reply(&mut self, namespace: &str) -> String {
        let reply = self.text();
        let payload = reply
            .strip_prefix(&format!("0{namespace}"))
            .unwrap_or_else(|| panic!("not a CONNECT reply: {reply}"));
        let payload: serde_json::Value = serde_json::from_str(payload).unwrap();
        let id = payload["sid"].as_str().unwrap().to_owned();
        assert_eq!(id.len(), 20, "{reply}");
        assert_eq!(payload.as_object().unwrap().len(), 1, "{reply}");
        id
    }

    /// Waits until the server answered everything sent before.
    fn sync(&mut self, id: u64) {
        self.send(&format!("2{id}[\"sync\"]"));
        assert_eq!(self.text(), format!("3{id}[]"));
    }

    /// True once the server closed the WebSocket (a close frame or the end of the stream).
    fn closed(&mut self) -> bool {
        loop {
            match self.socket.read() {
                Ok(Event::Close(_)) | Err(_) => return true,
                Ok(_) => {}
            }
        }
    }
}

#[test]
fn connect_to_namespaces_with_auth_middleware_and_unknown_namespace() {
    let fixture = Fixture::new();
    let mut raw = fixture.session();
    raw.send("0");
    let main_id = raw.connect_reply("");
    raw.send(r#"0/admin,{"token":"secret"}"#);
    let admin_id = raw.connect_reply("/admin,");
    assert_ne!(main_id, admin_id);
    // One session, two sockets, each in its namespace and in the room of its id.
    let main_socket = fixture.main.socket(&main_id).unwrap();
    let admin_socket = fixture.io.of("/admin").socket(&admin_id).unwrap();
    assert_eq!(main_socket.connection(), admin_socket.connection());
    assert_eq!(main_socket.rooms(), vec![main_id.clone()]);
    assert_eq!(
        admin_socket.handshake().auth(),
        &Data::from(json!({"token": "secret"}))
    );
    // Refusals: the middleware's message and data, and an unknown namespace.
    let mut other = fixture.session();
    other.send(r#"0/admin,{"token":"nope"}"#);
    assert_eq!(
        other.text(),
        r#"4/admin,{"data":{"code":7},"message":"no token"}"#
    );
    other.send("0/admin,");
    assert_eq!(
        other.text(),
        r#"4/admin,{"data":{"code":7},"message":"no token"}"#
    );
    other.send("0/nope,");
    assert_eq!(other.text(), r#"4/nope,{"message":"Invalid namespace"}"#);
    // The session goes on: the client may still join `/`.
    other.send("0");
    other.connect_reply("");
    assert_eq!(fixture.main.sockets().len(), 2);
}

#[test]
fn events_and_acks_both_ways_with_binary_attachments() {
    let fixture = Fixture::new();
    let (mut raw, id) = fixture.connected();
    // The client's ack ids are answered; an event without one gets nothing.
    raw.send(r#"27["echo","a",{"n":1}]"#);
    assert_eq!(raw.text(), r#"37["a",{"n":1}]"#);
    // A binary argument: the text, then its attachment; it comes back the same way.
    raw.send(r#"51-8["echo",{"_placeholder":true,"num":0}]"#);
    raw.socket.send(vec![1u8, 2, 3]).unwrap();
    assert_eq!(raw.text(), r#"61-8[{"_placeholder":true,"num":0}]"#);
    assert_eq!(raw.message(), Message::from(vec![1u8, 2, 3]));
    // The server emits, with and without binary, in the namespace.
    let socket = fixture.main.socket(&id).unwrap();
    socket
        .emit(
            "hello",
            vec![Data::from(Bytes::from_static(&[9])), Data::from("x")],
        )
        .unwrap();
    assert_eq!(
        raw.text(),
        r#"51-["hello",{"_placeholder":true,"num":0},"x"]"#
    );
    assert_eq!(raw.message(), Message::from(vec![9u8]));
    // The server's ack: answered...
    raw.send(r#"2["ask"]"#);
    assert_eq!(raw.text(), r#"20["question","?"]"#);
    raw.send(r#"30["forty-two"]"#);
    assert_eq!(fixture.recorder.ack(), Ok(vec![Data::from("forty-two")]));
    // ...then not: the timeout calls back with an error, and a late answer is ignored.
    raw.send(r#"2["ask"]"#);
    assert_eq!(raw.text(), r#"21["question","?"]"#);
    assert_eq!(fixture.recorder.ack(), Err(AckError::Timeout));
    raw.send(r#"31["late"]"#);
    raw.sync(2);
    assert!(fixture.recorder.acks.lock().unwrap().is_empty());
    // A reserved event name is refused before anything is sent.
    assert!(socket.emit("disconnect", Vec::new()).is_err());
}

#[test]
fn rooms_union_except_and_counts() {
    let fixture = Fixture::new();
    let (mut a, a_id) = fixture.connected();
    let (mut b, b_id) = fixture.connected();
    let (mut c, c_id) = fixture.connected();
    a.send(r#"2["join","red"]"#);
    b.send(r#"2["join","blue"]"#);
    a.sync(0);
    b.sync(0);
    let ids = |operator: rfc6455::socketio::BroadcastOperator| {
        let mut ids: Vec<String> = operator
            .sockets()
            .iter()
            .map(|s| s.id().to_owned())
            .collect();
        ids.sort();
        ids
    };
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    let main = &fixture.main;
    assert_eq!(ids(main.to("red")), vec![a_id.clone()]);
    assert_eq!(
        ids(main.to("red").to("blue")),
        sorted(vec![a_id.clone(), b_id.clone()])
    );
    assert_eq!(
        ids(main.except("red")),
        sorted(vec![b_id.clone(), c_id.clone()])
    );
    assert_eq!(main.to("red").to("blue").except("blue").len(), 1);
    assert!(main.to("green").is_empty());
    assert!(main.rooms().contains(&"red".to_owned()));
    // A broadcast reaches the members only; a socket's own broadcast skips itself.
    main.to("red")
        .to("blue")
        .emit("news", vec![Data::from(true)])
        .unwrap();
    assert_eq!(a.text(), r#"2["news",true]"#);
    assert_eq!(b.text(), r#"2["news",true]"#);
    // Binary in a broadcast: the same text and attachment to each.
    let bytes = Data::from(Bytes::from_static(&[7, 7]));
    main.to("red").to("blue").emit("blob", vec![bytes]).unwrap();
    for raw in [&mut a, &mut b] {
        assert_eq!(raw.text(), r#"51-["blob",{"_placeholder":true,"num":0}]"#);
        assert_eq!(raw.message(), Message::from(vec![7u8, 7]));
    }
    let a_socket = main.socket(&a_id).unwrap();
    a_socket.broadcast().emit("all-but-a", Vec::new()).unwrap();
    assert_eq!(b.text(), r#"2["all-but-a"]"#);
    assert_eq!(c.text(), r#"2["all-but-a"]"#);
    // c got neither news nor its own: the next thing it gets is its sync answer.
    c.sync(5);
    // socketsJoin and socketsLeave: every socket reached joins or leaves.
    main.to("red").to("blue").sockets_join("green");
    assert_eq!(
        ids(main.to("green")),
        sorted(vec![a_id.clone(), b_id.clone()])
    );
    main.to("blue").sockets_leave("green");
    assert_eq!(ids(main.to("green")), vec![a_id.clone()]);
    main.to("green").sockets_leave("green");
    assert!(main.to("green").is_empty());
    a_socket.leave("red");
    assert!(main.to("red").is_empty());
    assert!(!main.rooms().contains(&"red".to_owned()));
    // Disconnected from the server side: a DISCONNECT packet, its rooms left.
    main.to("blue").disconnect_sockets(false);
    assert_eq!(b.text(), "1");
    assert_eq!(
        fixture.recorder.disconnected(&b_id),
        DisconnectReason::ServerNamespaceDisconnect
    );
    assert!(main.to("blue").is_empty());
    assert!(main.socket(&b_id).is_none());
    // The session goes on without the socket: a packet for `/` is now a protocol error.
    b.send(r#"2["echo"]"#);
    assert!(b.closed());
}

#[test]
fn disconnect_reasons() {
    let fixture = Fixture::new();
    // The client leaves the namespace.
    let (mut raw, id) = fixture.connected();
    raw.send("1");
    assert_eq!(
        fixture.recorder.disconnected(&id),
        DisconnectReason::ClientNamespaceDisconnect
    );
    // The client closes its session.
    let (mut raw, id) = fixture.connected();
    raw.socket.send("1").unwrap();
    assert_eq!(
        fixture.recorder.disconnected(&id),
        DisconnectReason::Transport(CloseReason::TransportClose)
    );
    // The server closes the socket and the session: `disconnect(true)`.
    let (mut raw, id) = fixture.connected();
    raw.send(r#"0/admin,{"token":"secret"}"#);
    let admin_id = raw.connect_reply("/admin,");
    fixture.main.socket(&id).unwrap().disconnect(true);
    let mut disconnects = vec![raw.text(), raw.text()];
    disconnects.sort();
    assert_eq!(disconnects, ["1", "1/admin,"]);
    assert!(raw.closed());
    assert_eq!(
        fixture.recorder.disconnected(&id),
        DisconnectReason::ServerNamespaceDisconnect
    );
    assert_eq!(
        fixture.recorder.disconnected(&admin_id),
        DisconnectReason::ServerNamespaceDisconnect
    );
    // A pending ack is called back when its socket leaves.
    let (mut raw, id) = fixture.connected();
    raw.send(r#"2["ask"]"#);
    assert_eq!(raw.text(), r#"20["question","?"]"#);
    raw.send("1");
    assert_eq!(
        fixture.recorder.disconnected(&id),
        DisconnectReason::ClientNamespaceDisconnect
    );
    assert_eq!(fixture.recorder.ack(), Err(AckError::Disconnected));
}

/// Packets that do not decode: the reference (client.ts `onerror`) closes the session,
/// and its sockets leave with the session's reason, `forced close`.
#[test]
fn a_malformed_packet_closes_the_session() {
    let fixture = Fixture::new();
    let malformed: [&dyn Fn(&mut Raw); 6] = [
        &|raw| raw.send("x"),                  // no such packet type
        &|raw| raw.send("2"),                  // an EVENT without a payload
        &|raw| raw.send(r#"2["echo""#),        // not JSON
        &|raw| raw.send(r#"2["disconnect"]"#), // a reserved event name
        &|raw| raw.send(r#"51-["a",{"_placeholder":true,"num":3}]"#), // no attachment 3
        &|raw| raw.socket.send(vec![1u8]).unwrap(), // an attachment nobody announced
    ];
    for (case, send) in malformed.iter().enumerate() {
        let (mut raw, id) = fixture.connected();
        send(&mut raw);
        assert_eq!(
            fixture.recorder.disconnected(&id),
            DisconnectReason::Transport(CloseReason::ForcedClose),
            "case {case}"
        );
        assert!(raw.closed(), "case {case}");
    }
    // Before any namespace: the session closes all the same.
    let mut raw = fixture.session();
    raw.send("9");
    assert!(raw.closed());
}

/// Packets that decode but break the protocol: the reference (client.ts `ondecoded`)
/// closes the session, its sockets leaving with `forced server close`.
#[test]
fn a_packet_out_of_place_closes_the_session() {
    let fixture = Fixture::new();
    for packet in ["0", r#"2/admin,["echo"]"#, r#"4{"message":"x"}"#] {
        let (mut raw, id) = fixture.connected();
        raw.send(packet);
        assert_eq!(
            fixture.recorder.disconnected(&id),
            DisconnectReason::ForcedServerClose,
            "{packet}"
        );
        assert!(raw.closed(), "{packet}");
    }
}

/// The reference's `connectTimeout`: a session that joins no namespace in time is closed;
/// one that joined stays.
#[test]
fn a_session_that_joins_no_namespace_in_time_is_closed() {
    let fixture = Fixture::with_connect_timeout(Duration::from_millis(200));
    let (mut joined, _) = fixture.connected();
    let mut idle = fixture.session();
    assert!(idle.closed());
    joined.sync(0);
    assert_eq!(fixture.main.sockets().len(), 1);
}

/// `use_async_middleware`: the answer comes later from another thread (the session's other
/// namespaces go on meanwhile), events sent at once after the CONNECT reply wait for the
/// connection handler's handlers, a refusal or a dropped `Admission` is a CONNECT_ERROR, a
/// synchronous refusal first stops the chain, and a packet to the namespace before the
/// answer closes the session.
#[test]
fn an_async_middleware_answers_later_from_any_thread() {
    let fixture = Fixture::new();
    let (admit, admissions) = std::sync::mpsc::channel();
    let admit = Mutex::new(admit);
    let later = fixture.io.of("/later");
    later.use_middleware(|_, auth| match auth == &Data::from(json!({"bad": true})) {
        true => Err(ConnectError::new("refused at once")),
        false => Ok(()),
    });
    later.use_async_middleware(move |handshake, admission| {
        let auth = handshake.auth().clone();
        admit.lock().unwrap().send((auth, admission)).unwrap();
    });
    later.on_connection(|socket| {
        // Slow: the client's first events come before the handler exists, and wait for it.
        std::thread::sleep(Duration::from_millis(200));
        socket.on("echo", |_, args, ack| drop(ack.unwrap().send(args)));
    });
    let (mut raw, _) = fixture.connected();
    raw.send(r#"0/later,{"n":1}"#);
    let (auth, admission) = admissions.recv_timeout(PATIENCE).unwrap();
    assert_eq!(auth, Data::from(json!({"n": 1})));
    raw.sync(1);
    let allow = std::thread::spawn(move || admission.allow());
    let id = raw.connect_reply("/later,");
    for n in 0..3 {
        raw.send(&format!(r#"2/later,{n}["echo",{n}]"#));
    }
    for n in 0..3 {
        assert_eq!(raw.text(), format!("3/later,{n}[{n}]"));
    }
    allow.join().unwrap();
    assert!(later.socket(&id).is_some());

    let mut other = fixture.session();
    other.send(r#"0/later,{"n":2}"#);
    let (_, admission) = admissions.recv_timeout(PATIENCE).unwrap();
    admission.refuse(ConnectError::new("later: no"));
    assert_eq!(other.text(), r#"4/later,{"message":"later: no"}"#);
    other.send(r#"0/later,{"n":3}"#);
    drop(admissions.recv_timeout(PATIENCE).unwrap());
    assert_eq!(
        other.text(),
        r#"4/later,{"message":"middleware gave no answer"}"#
    );
    other.send(r#"0/later,{"bad":true}"#);
    assert_eq!(other.text(), r#"4/later,{"message":"refused at once"}"#);
    assert!(admissions.try_recv().is_err(), "the chain stopped");
    other.send(r#"0/later,{"n":4}"#);
    let _unanswered = admissions.recv_timeout(PATIENCE).unwrap();
    other.send(r#"2/later,["echo"]"#);
    assert!(other.closed());
}

/// The packets a client sends between the CONNECT reply and the end of the connection
/// handler wait for it, 64 at most: one more closes the session.
#[test]
fn early_packets_beyond_the_bound_close_the_session() {
    let fixture = Fixture::new();
    let slow = fixture.io.of("/slow");
    slow.use_async_middleware(|_, admission| drop(std::thread::spawn(|| admission.allow())));
    slow.on_connection(|_| std::thread::sleep(Duration::from_millis(300)));
    let mut raw = fixture.session();
    raw.send("0/slow,");
    raw.connect_reply("/slow,");
    for _ in 0..65 {
        raw.send(r#"2/slow,["early"]"#);
    }
    assert!(raw.closed());
}

/// A volatile emit goes when the transport can take it and is dropped while the socket's
/// write queue holds bytes: 14 MiB that do not compress, which the client does not read,
/// keep it full (more than loopback's buffers take).
#[test]
fn volatile_emits_are_dropped_while_the_transport_is_busy() {
    let fixture = Fixture::new();
    let (mut raw, id) = fixture.connected();
    let socket = fixture.main.socket(&id).unwrap();
    socket.emit_volatile("v", vec![Data::from("idle")]).unwrap();
    assert_eq!(raw.text(), r#"2["v","idle"]"#);
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let big: String = std::iter::repeat_with(|| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        char::from(
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"[(seed % 62) as usize],
        )
    })
    .take(14 << 20)
    .collect();
    socket.emit("big", vec![Data::from(big.as_str())]).unwrap();
    for _ in 0..100 {
        socket.emit_volatile("v", vec![Data::from("busy")]).unwrap();
        fixture
            .main
            .volatile()
            .emit("v", vec![Data::from("busy")])
            .unwrap();
    }
    assert_eq!(raw.text(), format!(r#"2["big","{big}"]"#));
    // Read to the end: the queue is empty again, and the next volatile emit goes.
    socket
        .broadcast()
        .volatile()
        .emit("v", vec![Data::from("not to the sender")])
        .unwrap();
    socket
        .emit_volatile("v", vec![Data::from("drained")])
        .unwrap();
    assert_eq!(raw.text(), r#"2["v","drained"]"#);
}

/// The typed API: a handler reads the argument list as a tuple of derived types (a binary
/// field from an attachment), answers with `send_typed`, emits with `emit_typed` (bytes
/// become an attachment); arguments that do not fit reach the handler as an `Err` that
/// says why; an emit whose arguments are no list is refused.
#[test]
fn typed_handlers_and_emits_through_serde() {
    #[derive(Debug, serde::Deserialize, serde::Serialize, PartialEq)]
    struct Move {
        x: i32,
        y: i32,
        tag: Option<String>,
        blob: Bytes,
    }
    let fixture = Fixture::new();
    let (errors_to, errors) = std::sync::mpsc::channel();
    let errors_to = Mutex::new(errors_to);
    fixture.main.on_connection(move |socket| {
        let errors_to = errors_to.lock().unwrap().clone();
        socket.on_typed("move", move |socket, args: Result<(Move, u32), _>, ack| {
            let (mut step, times) = match args {
                Ok(args) => args,
                Err(error) => return errors_to.send(error.to_string()).unwrap(),
            };
            step.x *= times as i32;
            socket.emit_typed("moved", &(&step,)).unwrap();
            ack.unwrap().send_typed(&("ok", times)).unwrap();
        });
        socket.on("sync", |_, _, ack| drop(ack.unwrap().send(Vec::new())));
    });
    let (mut raw, id) = fixture.connected();
    raw.send(r#"51-1["move",{"x":2,"y":3,"blob":{"_placeholder":true,"num":0}},5]"#);
    raw.socket.send(Message::from(vec![9u8, 8])).unwrap();
    assert_eq!(
        raw.text(),
        r#"51-["moved",{"blob":{"_placeholder":true,"num":0},"tag":null,"x":10,"y":3}]"#
    );
    assert_eq!(raw.message(), Message::from(vec![9u8, 8]));
    assert_eq!(raw.text(), r#"31["ok",5]"#);
    raw.send(r#"22["move",{"x":"left","y":3},5]"#);
    let error = errors.recv_timeout(PATIENCE).unwrap();
    assert!(error.contains("invalid type: string \"left\""), "{error}");
    raw.sync(3);
    let socket = fixture.main.socket(&id).unwrap();
    assert!(matches!(
        socket.emit_typed("moved", &7),
        Err(rfc6455::socketio::EmitError::Arguments(_))
    ));
}

/// A broadcast is framed once and handed to each loop in one command for all its
/// recipients: what it holds in the loop's channel is one copy, not one per recipient.
/// The one loop is held (a plain WebSocket's handler blocks) while four 1 KiB broadcasts go
/// to 200 sockets: with a 64 KiB command queue, counted per recipient (800 KB) they would
/// be refused; as they are, every socket gets all four, in order.
#[test]
fn a_broadcast_to_many_is_framed_once_and_reaches_every_socket() {
    let (held_to, held) = std::sync::mpsc::channel();
    let (release, released) = std::sync::mpsc::channel::<()>();
    let (held_to, released) = (Mutex::new(held_to), Mutex::new(released));
    let handlers = Handlers::<()>::new().on_message(move |_, _| {
        held_to.lock().unwrap().send(()).unwrap();
        released.lock().unwrap().recv_timeout(PATIENCE).unwrap();
    });
    let runtime = rfc6455::Config {
        max_command_queue: 64 << 10,
        ..rfc6455::Config::default()
    };
    let server = Server::new(handlers).workers(1).config(runtime);
    let fixture = Fixture::build(Duration::from_secs(45), server);
    let mut sessions: Vec<Raw> = (0..200).map(|_| fixture.connected().0).collect();
    let url = format!("ws://{}/hold", fixture.server.local_addr().unwrap());
    let (mut holder, _) = WebSocket::connect(&url).unwrap();
    holder.send("hold the loop").unwrap();
    held.recv_timeout(PATIENCE).unwrap();
    let text = "x".repeat(1024);
    for n in 0..4 {
        let args = vec![Data::from(json!(n)), Data::from(text.as_str())];
        fixture.main.emit("news", args).unwrap();
    }
    release.send(()).unwrap();
    for raw in &mut sessions {
        for n in 0..4 {
            assert_eq!(raw.text(), format!(r#"2["news",{n},"{text}"]"#));
        }
    }
}
