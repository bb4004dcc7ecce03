//! Upgrades answered later, from another thread: the loop goes on serving while answers
//! are outstanding, each client gets its answer (101, or the refusal with its body), and an
//! accepted socket carries the data it was accepted with and, when kept, its request.

#![cfg(feature = "server")]

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use rfc6455::events::{Handlers, Server, Upgrade};
use rfc6455::frame::OpCode;
use rfc6455::handshake::HttpResponse;
use rfc6455::{Event, Message};
use support::{PATIENCE, client, client_frame, read_frame, start};

#[derive(Default)]
struct User {
    name: String,
}

/// Upgrades waiting for the "authentication" thread, with the token each one sent.
type Pending = Arc<Mutex<Vec<(String, Upgrade<User>)>>>;

/// A server that answers `/now` at once and holds every other upgrade in `pending`; its
/// sockets echo, and answer "who" with their user and the `X-Forwarded-For` they came with.
fn held_upgrades_server(pending: &Pending, seen: &Arc<AtomicUsize>) -> Server<User> {
    let (pending, seen) = (pending.clone(), seen.clone());
    let handlers = Handlers::<User>::new().on_message(|socket, message| {
        if message.as_text() == Some("who") {
            let forwarded = socket
                .request()
                .and_then(|request| request.header("X-Forwarded-For"))
                .unwrap_or("?")
                .to_owned();
            let reply = format!("{} from {forwarded}", socket.data().name);
            socket.send(reply).unwrap();
        } else {
            socket.send(message).unwrap();
        }
    });
    Server::new(handlers)
        .keep_request(true)
        .on_upgrade(move |request, upgrade| {
            if request.path() == "/now" {
                return upgrade.accept(User {
                    name: "direct".to_owned(),
                });
            }
            let token = request.header("Authorization").unwrap_or("").to_owned();
            pending.lock().unwrap().push((token, upgrade));
            seen.fetch_add(1, Ordering::SeqCst);
        })
}

fn upgrade_request(token: &str, forwarded_for: &str) -> String {
    format!(
        "GET /chat HTTP/1.1\r\nHost: test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Authorization: {token}\r\nX-Forwarded-For: {forwarded_for}\r\n\r\n"
    )
}

/// Reads a response: its status and, for a refusal, its body.
fn read_response(stream: &mut TcpStream) -> (u16, String) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).expect("a response head");
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    let status = head[9..12].parse().unwrap();
    let length = head
        .lines()
        .find_map(|line| line.strip_prefix("Content-Length: "))
        .map_or(0, |n| n.parse().unwrap());
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).unwrap();
    (status, String::from_utf8(body).unwrap())
}

#[test]
fn a_thousand_upgrades_answered_later_do_not_block_the_loop() {
    let _exclusive = support::exclusive();
    const UPGRADES: usize = 1_000;
    let pending = Pending::default();
    let seen = Arc::new(AtomicUsize::new(0));
    let running = start(held_upgrades_server(&pending, &seen));
    let address = running.local_addr().unwrap();
    let mut peer = client(&running, "/now");

    let mut streams: Vec<TcpStream> = (0..UPGRADES)
        .map(|i| {
            let mut stream = TcpStream::connect(address).unwrap();
            stream.set_read_timeout(Some(PATIENCE)).unwrap();
            let token = if i % 10 == 0 {
                "Bearer nobody".to_owned()
            } else {
                format!("Bearer user{i}")
            };
            let forwarded = format!("10.0.{}.{}", i / 256, i % 256);
            stream
                .write_all(upgrade_request(&token, &forwarded).as_bytes())
                .unwrap();
            stream
        })
        .collect();
    // The loop takes in every request while none is answered...
    let deadline = Instant::now() + PATIENCE;
    while seen.load(Ordering::SeqCst) < UPGRADES {
        assert!(
            Instant::now() < deadline,
            "the loop stopped taking requests"
        );
        thread::sleep(Duration::from_millis(5));
    }
    // ...and goes on serving the open connection. Were it blocked by the outstanding
    // answers, these echoes would never come (and the reads would time out).
    for n in 0..100 {
        let text = format!("message {n}");
        peer.send(&text).unwrap();
        match peer.read().unwrap() {
            Event::Message(Message::Text(echo)) => assert_eq!(echo, text.as_str()),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(
        pending.lock().unwrap().len(),
        UPGRADES,
        "nothing answered yet"
    );

    // Another thread answers them all: unknown users are refused with 401 and a body.
    let answers = std::mem::take(&mut *pending.lock().unwrap());
    thread::spawn(move || {
        for (token, upgrade) in answers {
            match token.strip_prefix("Bearer ") {
                Some(name) if name != "nobody" => upgrade.accept(User {
                    name: name.to_owned(),
                }),
                _ => upgrade.refuse(HttpResponse::text(401, "unknown user")),
            }
        }
    })
    .join()
    .unwrap();
    for (i, stream) in streams.iter_mut().enumerate() {
        let (status, body) = read_response(stream);
        if i % 10 == 0 {
            assert_eq!((status, body.as_str()), (401, "unknown user"), "client {i}");
        } else {
            assert_eq!(status, 101, "client {i}");
        }
    }
    // An accepted socket has the data it was accepted with, and its request's headers.
    for i in [1, 517, 999] {
        let stream = &mut streams[i];
        stream.write_all(&client_frame(1, b"who")).unwrap();
        let (opcode, reply) = read_frame(stream).unwrap();
        assert_eq!(opcode, OpCode::Text);
        let expected = format!("user{i} from 10.0.{}.{}", i / 256, i % 256);
        assert_eq!(String::from_utf8(reply).unwrap(), expected);
    }
    drop((streams, peer));
    running.shutdown().unwrap();
}

#[test]
fn an_upgrade_left_unanswered_is_refused_with_500_and_one_never_answered_times_out() {
    let _exclusive = support::exclusive();
    let kept = Arc::new(Mutex::new(Vec::new()));
    let keep = kept.clone();
    let running = start(
        Server::new(Handlers::<()>::new())
            .config(rfc6455::Config {
                handshake_timeout: Duration::from_millis(300),
                ..rfc6455::Config::default()
            })
            .on_upgrade(move |request, upgrade| match request.path() {
                "/drop" => drop(upgrade),
                "/now" => upgrade.accept(()),
                _ => keep.lock().unwrap().push(upgrade),
            }),
    );
    let address = running.local_addr().unwrap();
    let head =
        |path: &str| upgrade_request("none", "-").replacen("GET /chat", &format!("GET {path}"), 1);
    let mut dropped = TcpStream::connect(address).unwrap();
    dropped.set_read_timeout(Some(PATIENCE)).unwrap();
    dropped.write_all(head("/drop").as_bytes()).unwrap();
    assert_eq!(read_response(&mut dropped).0, 500);
    // Kept and never answered: the handshake timeout drops the connection.
    let mut forgotten = TcpStream::connect(address).unwrap();
    forgotten.set_read_timeout(Some(PATIENCE)).unwrap();
    forgotten.write_all(head("/keep").as_bytes()).unwrap();
    let mut rest = Vec::new();
    assert_eq!(
        forgotten.read_to_end(&mut rest).unwrap(),
        0,
        "closed, no answer"
    );
    // An answer that comes after that finds no connection, and harms nothing.
    for upgrade in kept.lock().unwrap().drain(..) {
        upgrade.accept(());
    }
    let mut later = client(&running, "/now");
    later.ping(b"still serving").unwrap();
    assert!(matches!(later.read().unwrap(), Event::Pong(p) if &p[..] == b"still serving"));
    drop((later, dropped, forgotten));
    running.shutdown().unwrap();
}
