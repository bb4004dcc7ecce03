//! Plain HTTP/1.1 on the WebSocket port, through the public API over real sockets:
//! request bodies (Content-Length and chunked, bounded), keep-alive, pipelining, and an
//! upgrade after plain requests on the same connection.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use rfc6455::Config;
use rfc6455::events::{Handlers, Server, Spawned};
use rfc6455::handshake::HttpResponse;
use support::{PATIENCE, start};

/// A server whose `on_http` answers `METHOD PATH BODY`, and echoes WebSocket messages.
fn http_server(config: Config) -> Spawned {
    let handlers = Handlers::<()>::new().on_message(|socket, message| {
        let _ = socket.send(message);
    });
    start(Server::new(handlers).config(config).on_http(|request| {
        let body = String::from_utf8_lossy(request.body()).into_owned();
        HttpResponse::text(
            200,
            format!("{} {} {body}", request.method(), request.path()),
        )
    }))
}

fn connect(server: &Spawned) -> TcpStream {
    let stream = TcpStream::connect(server.local_addr().unwrap()).unwrap();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    stream
}

/// Reads one response: its head and its body (by its Content-Length).
fn read_response(stream: &mut TcpStream) -> (String, String) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).expect("a response head");
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("Content-Length: "))
        .expect("Content-Length")
        .parse()
        .unwrap();
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).unwrap();
    (head, String::from_utf8(body).unwrap())
}

/// True when the server closes the connection (EOF or reset) before `PATIENCE`.
fn closed(stream: &mut TcpStream) -> bool {
    let mut rest = Vec::new();
    match stream.read_to_end(&mut rest) {
        Ok(_) => true,
        Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
    }
}

#[test]
fn keep_alive_serves_several_requests_on_one_connection() {
    let server = http_server(Config::default());
    let mut stream = connect(&server);
    for path in ["/one", "/two", "/three"] {
        write!(stream, "GET {path} HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
        let (head, body) = read_response(&mut stream);
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
        assert!(head.contains("Connection: keep-alive\r\n"), "{head}");
        assert_eq!(body, format!("GET {path} "));
    }
    // `Connection: close` is answered, then the connection ends.
    stream
        .write_all(b"GET /last HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .unwrap();
    let (head, body) = read_response(&mut stream);
    assert!(
        head.contains("Connection: close\r\n") && body == "GET /last ",
        "{head}"
    );
    assert!(closed(&mut stream));
    drop(stream);
    server.shutdown().unwrap();
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let server = http_server(Config::default());
    let mut stream = connect(&server);
    // Three requests in one write, the second with a body: the later ones are in the
    // socket (or read with the first) before the first is answered.
    stream
        .write_all(
            b"GET /a HTTP/1.1\r\nHost: t\r\n\r\n\
              POST /b HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello\
              GET /c HTTP/1.1\r\nHost: t\r\n\r\n",
        )
        .unwrap();
    for expected in ["GET /a ", "POST /b hello", "GET /c "] {
        assert_eq!(read_response(&mut stream).1, expected);
    }
    server.shutdown().unwrap();
}

#[test]
fn bodies_arrive_whole_however_they_are_split() {
    let server = http_server(Config::default());
    let body = "x".repeat(10_000) + "end";
    let requests = [
        format!(
            "POST /length HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ),
        format!(
            "POST /chunked HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n\
             1000\r\n{}\r\n{:x}\r\n{}\r\n0\r\n\r\n",
            &body[..0x1000],
            body.len() - 0x1000,
            &body[0x1000..]
        ),
    ];
    for request in &requests {
        let path = if request.contains("chunked") {
            "/chunked"
        } else {
            "/length"
        };
        // Whole, and in pieces with pauses between them.
        for piece in [request.len(), 97, 1000] {
            let mut stream = connect(&server);
            for chunk in request.as_bytes().chunks(piece) {
                stream.write_all(chunk).unwrap();
                if piece < request.len() {
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
            let (_, answer) = read_response(&mut stream);
            assert_eq!(answer, format!("POST {path} {body}"), "pieces of {piece}");
        }
    }
    server.shutdown().unwrap();
}

#[test]
fn a_body_over_the_limit_and_ambiguous_framing_are_refused() {
    let server = http_server(Config {
        max_http_body: 1000,
        ..Config::default()
    });
    let cases = [
        ("Content-Length: 1001\r\n", "413"),
        ("Transfer-Encoding: chunked\r\n\r\n3e9", "413"),
        ("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", "400"),
        ("Transfer-Encoding: gzip\r\n", "501"),
    ];
    for (headers, status) in cases {
        let mut stream = connect(&server);
        let (headers, rest) = headers.split_once("\r\n\r\n").unwrap_or((headers, ""));
        let headers = headers.trim_end_matches("\r\n");
        write!(
            stream,
            "POST / HTTP/1.1\r\nHost: t\r\n{headers}\r\n\r\n{rest}\r\n"
        )
        .unwrap();
        let (head, _) = read_response(&mut stream);
        assert!(
            head.starts_with(&format!("HTTP/1.1 {status} ")),
            "{headers}: {head}"
        );
        assert!(closed(&mut stream), "{headers}: still open");
    }
    // Exactly at the limit is fine.
    let mut stream = connect(&server);
    let body = "y".repeat(1000);
    write!(
        stream,
        "POST /max HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n{body}"
    )
    .unwrap();
    assert_eq!(read_response(&mut stream).1, format!("POST /max {body}"));
    server.shutdown().unwrap();
}

#[test]
fn http_1_0_is_answered_and_closed() {
    let server = http_server(Config::default());
    let mut stream = connect(&server);
    stream.write_all(b"GET /old HTTP/1.0\r\n\r\n").unwrap();
    let (head, body) = read_response(&mut stream);
    assert!(
        head.contains("Connection: close\r\n") && body == "GET /old ",
        "{head}"
    );
    assert!(closed(&mut stream));
    drop(stream);
    server.shutdown().unwrap();
}

#[test]
fn an_upgrade_may_follow_plain_requests_on_the_same_connection() {
    let server = http_server(Config::default());
    let mut stream = connect(&server);
    stream
        .write_all(b"GET /page HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    assert_eq!(read_response(&mut stream).1, "GET /page ");
    stream
        .write_all(
            b"GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
              Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        )
        .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).unwrap();
        head.push(byte[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 101 "));
    stream
        .write_all(&support::client_frame(0x1, b"after http"))
        .unwrap();
    let (opcode, payload) = support::read_frame(&mut stream).unwrap();
    assert_eq!(
        (opcode, payload.as_slice()),
        (rfc6455::frame::OpCode::Text, &b"after http"[..])
    );
    drop(stream);
    server.shutdown().unwrap();
}

#[test]
fn an_idle_keep_alive_connection_is_closed_at_the_handshake_timeout() {
    let server = http_server(Config {
        handshake_timeout: Duration::from_millis(200),
        ..Config::default()
    });
    let mut stream = connect(&server);
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    read_response(&mut stream);
    // Nothing more: the wait for the next head is bounded like any head.
    assert!(closed(&mut stream));
    server.shutdown().unwrap();
}

/// A server whose `/poll?ms=N` is answered N ms later from another thread, `/forget`
/// drops its reply, `/never` keeps it unanswered, and anything else at once; WebSocket
/// messages are echoed meanwhile.
fn long_poll_server(config: Config) -> Spawned {
    let kept = std::sync::Mutex::new(Vec::new());
    let handlers = Handlers::<()>::new().on_message(|socket, message| {
        let _ = socket.send(message);
    });
    start(
        Server::new(handlers)
            .config(config)
            .on_http_reply(move |request, reply| match request.path() {
                "/poll" => {
                    let ms: u64 = request
                        .query()
                        .and_then(|query| query.strip_prefix("ms="))
                        .and_then(|ms| ms.parse().ok())
                        .unwrap_or(0);
                    std::thread::spawn(move || {
                        std::thread::sleep(Duration::from_millis(ms));
                        reply.send(HttpResponse::text(200, format!("after {ms} ms")));
                    });
                }
                "/forget" => drop(reply),
                "/never" => kept.lock().unwrap().push(reply),
                _ => reply.send(HttpResponse::text(200, "at once")),
            }),
    )
}

#[test]
fn held_requests_are_answered_later_from_other_threads_while_the_loop_serves_others() {
    let server = long_poll_server(Config::default());
    // Two polls held at once on two connections, answered in the other order.
    let mut slow = connect(&server);
    let mut quick = connect(&server);
    slow.write_all(b"GET /poll?ms=400 HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    quick
        .write_all(b"GET /poll?ms=100 HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    // Meanwhile a WebSocket is served (the loop is not waiting on either poll).
    let mut socket = support::client(&server, "/");
    socket.send("while polls wait").unwrap();
    match socket.read().unwrap() {
        rfc6455::Event::Message(message) => assert_eq!(message.as_text(), Some("while polls wait")),
        other => panic!("{other:?}"),
    }
    assert_eq!(read_response(&mut quick).1, "after 100 ms");
    assert_eq!(read_response(&mut slow).1, "after 400 ms");
    // Keep-alive goes on after a held request.
    slow.write_all(b"GET /now HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    assert_eq!(read_response(&mut slow).1, "at once");
    socket.close(rfc6455::CloseCode::NORMAL, "").unwrap();
    drop((socket, slow, quick));
    server.shutdown().unwrap();
}

#[test]
fn a_dropped_reply_is_a_500_and_one_never_sent_times_out() {
    let server = long_poll_server(Config {
        http_answer_timeout: Duration::from_millis(200),
        ..Config::default()
    });
    let mut stream = connect(&server);
    stream
        .write_all(b"GET /forget HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    let (head, _) = read_response(&mut stream);
    assert!(head.starts_with("HTTP/1.1 500 "), "{head}");
    stream
        .write_all(b"GET /never HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    assert!(closed(&mut stream), "the held request outlived its timeout");
    drop(stream);
    server.shutdown().unwrap();
}

#[test]
fn a_head_or_body_refused_in_a_later_read_is_still_answered() {
    let server = http_server(Config {
        max_http_body: 10,
        ..Config::default()
    });
    // The refusal comes from bytes that arrive after the socket was last writable: the
    // response must go out all the same.
    let cases: [(&[u8], &[u8], &str); 2] = [
        (
            b"GET / HTTP/1.1\r\nHost: t\r\n",
            b"no colon here\r\n\r\n",
            "400",
        ),
        (
            b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"ff\r\n",
            "413",
        ),
    ];
    for (first, later, status) in cases {
        let mut stream = connect(&server);
        stream.write_all(first).unwrap();
        std::thread::sleep(Duration::from_millis(100));
        stream.write_all(later).unwrap();
        let (head, _) = read_response(&mut stream);
        assert!(head.starts_with(&format!("HTTP/1.1 {status} ")), "{head}");
    }
    server.shutdown().unwrap();
}
