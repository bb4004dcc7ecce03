//! The event API of the server over real sockets on 127.0.0.1: handlers, rooms, broadcast,
//! handles from other threads, plain HTTP, refusals, workers, graceful shutdown.

#![cfg(feature = "server")]

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;

use rfc6455::EncodedMessage;
use rfc6455::events::{Handlers, Server, SocketId};
use rfc6455::handshake::{Accept, HttpResponse};
use rfc6455::{CloseCode, Event, Message};
use support::{PATIENCE, client, start};

fn echo_server() -> Server<()> {
    Server::new(Handlers::new().on_message(|socket, message| {
        socket.send(message).unwrap();
    }))
}

#[test]
fn many_clients_at_once_on_two_workers() {
    let _exclusive = support::exclusive();
    let running = start(echo_server().workers(2));
    let url = support::url(&running, "/");
    let threads: Vec<_> = (0..100)
        .map(|n| {
            let url = url.clone();
            thread::spawn(move || {
                let (mut socket, _) = rfc6455::blocking::WebSocket::connect(&url).unwrap();
                socket.set_read_timeout(Some(PATIENCE));
                for i in 0..20 {
                    let text = format!("client {n} message {i}");
                    socket.send(&text).unwrap();
                    match socket.read().unwrap() {
                        Event::Message(Message::Text(echo)) => assert_eq!(echo, text.as_str()),
                        other => panic!("unexpected {other:?}"),
                    }
                }
                socket.send(vec![n as u8; 100_000]).unwrap();
                assert!(matches!(socket.read().unwrap(), Event::Message(Message::Binary(b)) if b.len() == 100_000));
                socket.close(CloseCode::NORMAL, "").unwrap();
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    running.shutdown().unwrap();
}

#[test]
fn handlers_see_open_message_close_and_data() {
    let _exclusive = support::exclusive();
    #[derive(Default)]
    struct Counter {
        messages: usize,
    }
    let (events, seen) = mpsc::channel();
    let on_close_events = events.clone();
    let on_message_events = events.clone();
    let running = start(
        Server::new(
            Handlers::<Counter>::new()
                .on_open(move |socket| {
                    events
                        .send(format!("open {} {:?}", socket.path(), socket.query()))
                        .unwrap();
                })
                .on_message(move |socket, message| {
                    socket.data_mut().messages += 1;
                    let count = socket.data().messages;
                    on_message_events
                        .send(format!("message {} {count}", message.as_text().unwrap()))
                        .unwrap();
                })
                .on_close(move |socket, code, reason| {
                    on_close_events
                        .send(format!("close {code} {reason} {}", socket.data().messages))
                        .unwrap();
                }),
        )
        .on_upgrade(|request, upgrade| {
            assert_eq!(request.path(), "/room");
            // The data the socket starts with comes with the answer.
            upgrade.accept(Counter { messages: 100 });
        }),
    );
    let mut socket = client(&running, "/room?x=1");
    socket.send("a").unwrap();
    socket.send("b").unwrap();
    socket.close(CloseCode(4001), "bye").unwrap();
    let got: Vec<String> = (0..4)
        .map(|_| seen.recv_timeout(PATIENCE).unwrap())
        .collect();
    assert_eq!(
        got,
        [
            "open /room Some(\"x=1\")",
            "message a 101",
            "message b 102",
            "close 4001 bye 102",
        ]
    );
    drop(socket);
    running.shutdown().unwrap();
}

/// A chat-like server: "join:<room>" joins a room; "say:<text>" goes to the sender's rooms
/// except the sender; "mark:<text>" comes back to the sender only.
fn room_server() -> Server<()> {
    Server::new(Handlers::new().on_message(|socket, message| {
        let text = message.as_text().unwrap().to_owned();
        if let Some(room) = text.strip_prefix("join:") {
            socket.join(room);
            socket.send("joined").unwrap();
        } else if let Some(said) = text.strip_prefix("say:") {
            let rooms: Vec<String> = socket.rooms().map(str::to_owned).collect();
            for room in rooms {
                socket.to(&room).except_sender().send(said).unwrap();
            }
        } else if text.starts_with("mark:") {
            socket.send(&text).unwrap();
        }
    }))
}

fn expect_text(
    socket: &mut rfc6455::blocking::WebSocket<rfc6455::blocking::ClientStream>,
    expected: &str,
) {
    match socket.read().unwrap() {
        Event::Message(Message::Text(text)) => assert_eq!(text, expected),
        other => panic!("expected {expected:?}, got {other:?}"),
    }
}

#[test]
fn rooms_are_isolated_across_workers() {
    let _exclusive = support::exclusive();
    let running = start(room_server().workers(2));
    let mut alice = client(&running, "/");
    let mut bob = client(&running, "/");
    let mut carol = client(&running, "/");
    for (socket, room) in [(&mut alice, "one"), (&mut bob, "one"), (&mut carol, "two")] {
        socket.send(format!("join:{room}")).unwrap();
        expect_text(socket, "joined");
    }
    alice.send("say:hello room one").unwrap();
    expect_text(&mut bob, "hello room one");
    // Bob has it, so the broadcast was processed; had carol been a recipient, her copy
    // would be queued before the reply to her marker.
    carol.send("mark:nothing before this").unwrap();
    expect_text(&mut carol, "mark:nothing before this");
    // And the sender was left out.
    alice.send("mark:alice").unwrap();
    expect_text(&mut alice, "mark:alice");
    drop((alice, bob, carol));
    running.shutdown().unwrap();
}

/// A room's members through a `Handle`, every loop's: listed, moved into another room and
/// out of it, closed.
#[test]
fn a_handle_lists_moves_and_closes_a_rooms_members_on_every_loop() {
    let _exclusive = support::exclusive();
    let running = start(room_server().workers(2));
    let handle = running.handle();
    let list = |room: Option<&str>| {
        let (answer, answered) = mpsc::channel();
        handle
            .sockets_in(room, move |ids| answer.send(ids).unwrap())
            .unwrap();
        answered.recv_timeout(PATIENCE).unwrap()
    };
    let mut sockets: Vec<_> = (0..4).map(|_| client(&running, "/")).collect();
    for (n, socket) in sockets.iter_mut().enumerate() {
        let room = if n < 2 { "one" } else { "two" };
        socket.send(format!("join:{room}")).unwrap();
        expect_text(socket, "joined");
    }
    let in_one = list(Some("one"));
    assert_eq!(in_one.len(), 2);
    assert_eq!(list(None).len(), 4);
    assert!(list(Some("nobody")).is_empty());
    handle.sockets_join(Some("one"), "vip").unwrap();
    assert_eq!(list(Some("vip")), in_one);
    handle.to("vip").send("for the vips").unwrap();
    for socket in &mut sockets[..2] {
        expect_text(socket, "for the vips");
    }
    handle.sockets_leave(None, "vip").unwrap();
    assert!(list(Some("vip")).is_empty());
    handle
        .disconnect_sockets(Some("one"), CloseCode(4000), "bye")
        .unwrap();
    assert_eq!(list(None).len(), 2);
    for socket in &mut sockets[..2] {
        match socket.read().unwrap() {
            Event::Close(close) => assert_eq!(
                (close.code, close.reason.as_str()),
                (CloseCode(4000), "bye")
            ),
            other => panic!("expected the close, got {other:?}"),
        }
    }
    drop(sockets);
    running.shutdown().unwrap();
}

#[test]
fn a_handle_reaches_sockets_and_rooms_from_other_threads() {
    let _exclusive = support::exclusive();
    let (ids, id) = mpsc::channel();
    let running = start(
        Server::new(Handlers::<()>::new().on_open(move |socket| {
            socket.join("news");
            ids.send(socket.id()).unwrap();
        }))
        .workers(2),
    );
    let mut first = client(&running, "/");
    let mut second = client(&running, "/");
    let first_id: SocketId = id.recv_timeout(PATIENCE).unwrap();
    let _second_id: SocketId = id.recv_timeout(PATIENCE).unwrap();
    let handle = running.handle();
    let senders: Vec<_> = (0..4)
        .map(|t| {
            let handle = handle.clone();
            thread::spawn(move || {
                for i in 0..50 {
                    handle.send(first_id, format!("{t}:{i}")).unwrap();
                }
            })
        })
        .collect();
    for sender in senders {
        sender.join().unwrap();
    }
    let mut per_thread = [0usize; 4];
    for _ in 0..200 {
        let Event::Message(Message::Text(text)) = first.read().unwrap() else {
            panic!("not text")
        };
        let (t, i) = text.split_once(':').unwrap();
        let (t, i): (usize, usize) = (t.parse().unwrap(), i.parse().unwrap());
        assert_eq!(i, per_thread[t], "each thread's messages arrive in order");
        per_thread[t] += 1;
    }
    handle.to("news").send("to the room").unwrap();
    expect_text(&mut first, "to the room");
    expect_text(&mut second, "to the room");
    handle
        .broadcast()
        .except(first_id)
        .send("to all but first")
        .unwrap();
    expect_text(&mut second, "to all but first");
    first.ping(b"marker").unwrap();
    assert!(matches!(first.read().unwrap(), Event::Pong(p) if &p[..] == b"marker"));
    drop((first, second));
    running.shutdown().unwrap();
}

#[test]
fn graceful_shutdown_sends_1001_to_everyone() {
    let _exclusive = support::exclusive();
    let (opened, open) = mpsc::channel();
    let closes = Arc::new(Mutex::new(Vec::new()));
    let recorded = closes.clone();
    let running = start(
        Server::new(
            Handlers::<()>::new()
                .on_open(move |_| opened.send(()).unwrap())
                .on_close(move |_, code, _| recorded.lock().unwrap().push(code)),
        )
        .workers(2),
    );
    let mut clients: Vec<_> = (0..6).map(|_| client(&running, "/")).collect();
    for _ in 0..6 {
        open.recv_timeout(PATIENCE).unwrap();
    }
    let handle = running.handle();
    let address = running.local_addr().unwrap();
    let stopper = thread::spawn(move || running.shutdown());
    for socket in &mut clients {
        match socket.read().unwrap() {
            Event::Close(frame) => assert_eq!(frame.code, CloseCode::GOING_AWAY),
            other => panic!("expected close, got {other:?}"),
        }
    }
    drop(clients);
    stopper.join().unwrap().unwrap();
    assert!(handle.is_shutting_down());
    assert_eq!(*closes.lock().unwrap(), vec![CloseCode::GOING_AWAY; 6]);
    assert!(
        TcpStream::connect(address).is_err(),
        "the listener is closed after shutdown"
    );
}

/// Sends one HTTP request on a fresh connection; returns everything the server answers
/// until it closes.
fn http_exchange(address: std::net::SocketAddr, request: &str) -> String {
    let mut stream = TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

#[test]
fn plain_http_and_refusals_share_the_port() {
    let _exclusive = support::exclusive();
    let running = start(
        Server::new(Handlers::<()>::new())
            .on_http(|request| match request.path() {
                "/" => HttpResponse::new(200)
                    .header("Content-Type", "text/html")
                    .body("<p>page</p>"),
                _ => HttpResponse::text(404, "nothing here"),
            })
            .on_upgrade(|request, upgrade| match request.header("Origin") {
                Some("http://evil.example") => {
                    upgrade.refuse(HttpResponse::text(403, "origin refused"));
                }
                _ => upgrade.accept(()),
            }),
    );
    let address = running.local_addr().unwrap();
    let get = |request: &str| http_exchange(address, request);
    let page = get("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert!(page.starts_with("HTTP/1.1 200 OK\r\n"), "{page}");
    assert!(page.ends_with("\r\n\r\n<p>page</p>"));
    let missing = get("GET /missing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert!(missing.starts_with("HTTP/1.1 404"));
    let refused = get(
        "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Origin: http://evil.example\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\n\r\n",
    );
    assert!(
        refused.starts_with("HTTP/1.1 403 Forbidden\r\n"),
        "{refused}"
    );
    let bad_version = get(
        "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 7\r\n\r\n",
    );
    assert!(bad_version.starts_with("HTTP/1.1 426 "), "{bad_version}");
    assert!(bad_version.contains("\r\nSec-WebSocket-Version: 13\r\n"));
    running.shutdown().unwrap();
}

#[test]
fn subprotocol_chosen_in_on_upgrade_reaches_both_sides() {
    let _exclusive = support::exclusive();
    let (protocols, protocol) = mpsc::channel();
    let running = start(
        Server::new(Handlers::<()>::new().on_open(move |socket| {
            protocols
                .send(socket.protocol().map(str::to_owned))
                .unwrap();
        }))
        .on_upgrade(|request, upgrade| {
            let chosen = request
                .protocols()
                .iter()
                .find(|p| p.as_str() == "v2.chat")
                .cloned();
            upgrade.accept_with(
                chosen.map_or_else(Accept::new, |p| Accept::new().protocol(p)),
                (),
            );
        }),
    );
    let url = rfc6455::handshake::Url::parse(&support::url(&running, "/")).unwrap();
    let request = rfc6455::handshake::ClientRequest::from_url(&url)
        .protocol("v1.chat")
        .protocol("v2.chat");
    let (socket, response) =
        rfc6455::blocking::WebSocket::connect_with(&url, &request, &Default::default()).unwrap();
    assert_eq!(response.protocol(), Some("v2.chat"));
    assert_eq!(
        protocol.recv_timeout(PATIENCE).unwrap().as_deref(),
        Some("v2.chat")
    );
    drop(socket);
    running.shutdown().unwrap();
}

#[test]
fn a_protocol_violation_is_reported_and_answered_with_its_close_code() {
    let _exclusive = support::exclusive();
    let (errors, error) = mpsc::channel();
    let closes = errors.clone();
    let running = start(Server::new(
        Handlers::<()>::new()
            .on_error(move |_, e| errors.send(format!("error {e}")).unwrap())
            .on_close(move |_, code, _| closes.send(format!("close {code}")).unwrap()),
    ));
    let mut raw = support::raw_client(running.local_addr().unwrap());
    raw.write_all(&support::client_frame(1, &[0xFF, 0xFE]))
        .unwrap();
    let (opcode, payload) = support::read_frame(&mut raw).unwrap();
    assert_eq!(opcode, rfc6455::frame::OpCode::Close);
    assert_eq!(&payload[..2], &1007u16.to_be_bytes());
    assert_eq!(
        support::read_to_end(&mut raw),
        0,
        "then the server closes TCP"
    );
    assert!(error.recv_timeout(PATIENCE).unwrap().contains("UTF-8"));
    assert_eq!(error.recv_timeout(PATIENCE).unwrap(), "close 1007");
    drop(raw);
    running.shutdown().unwrap();
}

#[test]
fn one_encoding_is_shared_by_every_recipient() {
    let _exclusive = support::exclusive();
    // 40 peers that never read; a 4 MiB broadcast. Queued as 40 copies it would add
    // 160 MiB to this process; shared, it adds one copy (plus what the kernel took).
    const PEERS: usize = 40;
    const SIZE: usize = 4 << 20;
    let (opened, open) = mpsc::channel();
    let delivered = Arc::new(AtomicUsize::new(0));
    let config = rfc6455::Config {
        close_timeout: std::time::Duration::from_millis(300),
        ..Default::default()
    };
    let running = start(
        Server::new(Handlers::<()>::new().on_open(move |_| opened.send(()).unwrap()))
            .config(config),
    );
    let address = running.local_addr().unwrap();
    let peers: Vec<TcpStream> = (0..PEERS).map(|_| support::raw_client(address)).collect();
    for _ in 0..PEERS {
        open.recv_timeout(PATIENCE).unwrap();
    }
    let payload = vec![7u8; SIZE];
    let before = support::rss_bytes();
    let message = EncodedMessage::binary(&payload);
    drop(payload);
    running.handle().broadcast().send(&message).unwrap();
    drop(message);
    // Wait until every peer has started receiving it: each has its first bytes.
    for peer in &peers {
        let mut first = [0u8; 10];
        (&*peer).read_exact(&mut first).unwrap();
        assert_eq!(first[0], 0x82);
        delivered.fetch_add(1, Ordering::Relaxed);
    }
    let grown = support::rss_bytes().saturating_sub(before);
    assert_eq!(delivered.load(Ordering::Relaxed), PEERS);
    assert!(
        grown < 3 * SIZE,
        "RSS grew by {} MiB for a {} MiB broadcast to {PEERS} peers",
        grown >> 20,
        SIZE >> 20
    );
    running.shutdown().unwrap();
}

#[test]
fn a_panicking_handler_fails_only_its_own_connection() {
    let _exclusive = support::exclusive();
    let running = start(
        Server::new(Handlers::<()>::new().on_message(|socket, message| {
            if message.as_text() == Some("panic") {
                panic!("test: on_message panics on purpose");
            }
            socket.send(message).unwrap();
        }))
        .on_http(|_| panic!("test: on_http panics on purpose"))
        .on_upgrade(|request, upgrade| {
            if request.path() == "/panic" {
                panic!("test: on_upgrade panics on purpose");
            }
            upgrade.accept(());
        }),
    );
    let mut failing = client(&running, "/");
    let mut other = client(&running, "/");
    failing.send("panic").unwrap();
    match failing.read().unwrap() {
        Event::Close(frame) => assert_eq!(frame.code, CloseCode::INTERNAL_ERROR),
        event => panic!("expected a close frame, got {event:?}"),
    }
    // The loop goes on: the other connection, and new ones, are served.
    other.send("still here").unwrap();
    expect_text(&mut other, "still here");
    let mut later = client(&running, "/");
    later.send("and here").unwrap();
    expect_text(&mut later, "and here");
    // A panic in on_http or on_upgrade answers 500.
    let address = running.local_addr().unwrap();
    let get = |request: &str| http_exchange(address, request);
    let page = get("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert!(page.starts_with("HTTP/1.1 500 "), "{page}");
    let upgrade = get(
        "GET /panic HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    );
    assert!(upgrade.starts_with("HTTP/1.1 500 "), "{upgrade}");
    drop((failing, other, later));
    running.shutdown().unwrap();
}

#[test]
fn pings_and_pongs_reach_the_handlers() {
    let _exclusive = support::exclusive();
    let handlers = Handlers::<()>::new()
        .on_open(|socket| socket.ping(b"from the server").unwrap())
        .on_ping(|socket, payload| {
            let text = format!("ping {}", String::from_utf8_lossy(&payload));
            socket.send(text).unwrap();
        })
        .on_pong(|socket, payload| {
            let text = format!("pong {}", String::from_utf8_lossy(&payload));
            socket.send(text).unwrap();
        });
    let running = start(Server::new(handlers));
    let mut socket = client(&running, "/");
    // The server's ping comes first; reading it answers it (the blocking driver's pong).
    assert!(matches!(socket.read().unwrap(), Event::Ping(p) if &p[..] == b"from the server"));
    expect_text(&mut socket, "pong from the server");
    socket.ping(b"from the client").unwrap();
    assert!(matches!(socket.read().unwrap(), Event::Pong(p) if &p[..] == b"from the client"));
    expect_text(&mut socket, "ping from the client");
    socket.close(CloseCode::NORMAL, "").unwrap();
    running.shutdown().unwrap();
}

#[test]
fn a_broadcast_from_a_handle_and_from_a_handler_is_the_same_builder() {
    let _exclusive = support::exclusive();
    let handlers = Handlers::<()>::new()
        .on_open(|socket| socket.join("news"))
        .on_message(|socket, message| {
            // One builder, one result type, from a handler...
            socket.to("news").except_sender().send(message).unwrap();
        });
    let running = start(Server::new(handlers).workers(2));
    let mut first = client(&running, "/");
    let mut second = client(&running, "/");
    let handle = running.handle();
    // ...and from a handle on another thread (the sockets are on two workers).
    thread::spawn(move || handle.to("news").send("from a thread").unwrap())
        .join()
        .unwrap();
    expect_text(&mut first, "from a thread");
    expect_text(&mut second, "from a thread");
    first.send("from first").unwrap();
    expect_text(&mut second, "from first");
    drop((first, second));
    running.shutdown().unwrap();
}
