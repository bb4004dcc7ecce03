//! The blocking driver over real sockets on 127.0.0.1.

#![cfg(feature = "blocking")]

mod support;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

use rfc6455::blocking::WebSocket;
use rfc6455::handshake::{Accept, ClientRequest, Url};
use rfc6455::{CloseCode, Config, Error, Event, HandshakeError, Message};

/// Serves one connection on a fresh port with `serve`; returns the port.
fn one_shot_server<F>(serve: F) -> (u16, thread::JoinHandle<()>)
where
    F: FnOnce(TcpStream) + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        serve(stream);
    });
    (port, handle)
}

fn echo(stream: TcpStream) {
    let mut socket = WebSocket::accept_with(stream, &Config::default(), |upgrade| {
        Ok(match upgrade.protocols().first() {
            Some(protocol) => Accept::new().protocol(protocol.clone()),
            None => Accept::new(),
        })
    })
    .unwrap();
    loop {
        match socket.read() {
            Ok(Event::Message(message)) => socket.send(message).unwrap(),
            Ok(Event::Close(_)) => break,
            Ok(_) => {}
            Err(error) => panic!("server: {error}"),
        }
    }
    socket.shutdown(Duration::from_secs(1)).unwrap();
}

#[test]
fn echoes_over_a_real_socket_and_closes_cleanly() {
    let (port, server) = one_shot_server(echo);
    let url = Url::parse(&format!("ws://127.0.0.1:{port}/echo")).unwrap();
    let request = ClientRequest::from_url(&url).protocol("echo");
    let (mut socket, response) =
        WebSocket::connect_with(&url, &request, &Config::default()).unwrap();
    assert_eq!(response.protocol(), Some("echo"));
    socket.send("hello").unwrap();
    assert!(matches!(socket.read().unwrap(), Event::Message(Message::Text(t)) if t == "hello"));
    let big = vec![0xAB; 1 << 20];
    socket.send(&big).unwrap();
    assert!(
        matches!(socket.read().unwrap(), Event::Message(Message::Binary(b)) if b[..] == big[..])
    );
    socket.close(CloseCode::NORMAL, "done").unwrap();
    assert!(matches!(socket.read(), Err(Error::Closed)));
    server.join().unwrap();
}

#[test]
fn a_refused_handshake_gets_its_http_response() {
    let (port, server) = one_shot_server(|stream| {
        let error = WebSocket::accept(stream, &Config::default()).unwrap_err();
        assert!(matches!(
            error,
            Error::Handshake(HandshakeError::UnsupportedVersion)
        ));
    });
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .write_all(
            b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
              Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 12\r\n\r\n",
        )
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 426 Upgrade Required\r\n"));
    assert!(response.contains("\r\nSec-WebSocket-Version: 13\r\n"));
    server.join().unwrap();
}

#[test]
fn a_protocol_violation_reaches_the_peer_as_a_close_frame() {
    let (port, server) = one_shot_server(|stream| {
        let mut socket = WebSocket::accept(stream, &Config::default()).unwrap();
        let error = socket.read().unwrap_err();
        assert_eq!(error.close_code(), Some(CloseCode::PROTOCOL_ERROR));
        socket.shutdown(Duration::from_secs(1)).unwrap();
    });
    let (mut socket, _) = WebSocket::connect(&format!("ws://127.0.0.1:{port}/")).unwrap();
    // A reserved opcode, written raw past the client's own checks.
    let mut raw = socket.get_ref().tcp().try_clone().unwrap();
    raw.write_all(&[0x83, 0x80, 1, 2, 3, 4]).unwrap();
    match socket.read() {
        Ok(Event::Close(frame)) => assert_eq!(frame.code, CloseCode::PROTOCOL_ERROR),
        other => panic!("expected the server's close frame, got {other:?}"),
    }
    server.join().unwrap();
}

fn short_timers() -> Config {
    Config {
        handshake_timeout: Duration::from_millis(200),
        ping_interval: Some(Duration::from_millis(50)),
        pong_timeout: Duration::from_millis(100),
        close_timeout: Duration::from_millis(100),
        ..Config::default()
    }
}

#[test]
fn a_silent_peer_gets_a_keep_alive_ping_then_a_1008_close_and_read_reports_the_timeout() {
    let (port, server) = one_shot_server(|stream| {
        let mut socket = WebSocket::accept(stream, &short_timers()).unwrap();
        let error = socket.read().unwrap_err();
        assert!(
            matches!(error, Error::Timeout(rfc6455::Timeout::Pong)),
            "{error}"
        );
    });
    let mut peer = support::raw_client(([127, 0, 0, 1], port).into());
    peer.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut frames = [0u8; 2];
    peer.read_exact(&mut frames).unwrap();
    assert_eq!(frames, [0x89, 0], "the keep-alive ping");
    let mut close = [0u8; 4];
    peer.read_exact(&mut close).unwrap();
    assert_eq!(close[0], 0x88, "then a close frame");
    assert_eq!(u16::from_be_bytes([close[2], close[3]]), 1008);
    server.join().unwrap();
}

#[test]
fn a_peer_that_answers_keeps_the_connection_through_many_ping_intervals() {
    let (port, server) = one_shot_server(|stream| {
        let mut socket = WebSocket::accept(stream, &short_timers()).unwrap();
        let mut pongs = 0;
        loop {
            match socket.read() {
                Ok(Event::Pong(_)) => pongs += 1,
                Ok(Event::Close(_)) => break,
                Ok(_) => {}
                Err(error) => panic!("server: {error}"),
            }
        }
        assert!(pongs >= 3, "{pongs} keep-alive pings answered");
    });
    // The blocking client answers pings by itself while it reads.
    let (mut client, _) = WebSocket::connect_with(
        &Url::parse(&format!("ws://127.0.0.1:{port}/")).unwrap(),
        &ClientRequest::new(format!("127.0.0.1:{port}"), "/"),
        &Config {
            ping_interval: None,
            ..Config::default()
        },
    )
    .unwrap();
    // Read for 400 ms (8 ping intervals): pings come and are answered, then the read
    // gives up as asked.
    let until = std::time::Instant::now() + Duration::from_millis(400);
    let mut pings = 0;
    loop {
        client.set_read_timeout(Some(
            until.saturating_duration_since(std::time::Instant::now()),
        ));
        match client.read() {
            Ok(Event::Ping(_)) => pings += 1,
            Err(Error::Io(e)) if e.kind() == std::io::ErrorKind::TimedOut => break,
            other => panic!("{other:?}"),
        }
    }
    assert!(pings >= 3, "{pings} pings");
    // The close handshake gets time of its own (the last timeout above ran out).
    client.set_read_timeout(Some(Duration::from_secs(10)));
    client.close(CloseCode::NORMAL, "").unwrap();
    server.join().unwrap();
}

#[test]
fn an_unanswered_close_frame_times_out() {
    let (port, server) = one_shot_server(|stream| {
        let mut socket = WebSocket::accept(stream, &short_timers()).unwrap();
        let error = socket.close(CloseCode::NORMAL, "bye").unwrap_err();
        assert!(
            matches!(error, Error::Timeout(rfc6455::Timeout::Close)),
            "{error}"
        );
    });
    // The peer reads nothing and answers nothing, and keeps its socket open.
    let peer = support::raw_client(([127, 0, 0, 1], port).into());
    server.join().unwrap();
    drop(peer);
}

#[test]
fn a_handshake_that_never_completes_is_cut_by_the_handshake_timeout() {
    let (port, server) = one_shot_server(|stream| {
        let error = WebSocket::accept(stream, &short_timers()).unwrap_err();
        assert!(
            matches!(error, Error::Timeout(rfc6455::Timeout::Handshake)),
            "{error}"
        );
    });
    let mut peer = TcpStream::connect(("127.0.0.1", port)).unwrap();
    peer.write_all(b"GET / HTTP/1.1\r\nHost: slow\r\n").unwrap();
    server.join().unwrap();
}
