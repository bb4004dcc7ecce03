use super::*;
use crate::Event;
use crate::handshake::HttpResponse;

const UPGRADE: &str = "GET /chat?room=1 HTTP/1.1\r\nHost: server.example.com\r\n\
    Upgrade: websocket\r\nConnection: Upgrade\r\n\
    Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://example.com\r\n\
    Sec-WebSocket-Protocol: chat, superchat\r\n\
    Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\
    Sec-WebSocket-Version: 13\r\n\r\n";

fn receive(data: &[u8]) -> Result<Option<Incoming>, HandshakeError> {
    ServerHandshake::new(&plain()).receive(data)
}

fn upgrade(data: &str) -> UpgradeRequest {
    match receive(data.as_bytes()) {
        Ok(Some(Incoming::Upgrade(upgrade))) => upgrade,
        other => panic!("not an upgrade: {other:?}"),
    }
}

/// `UPGRADE` with one header line replaced (or removed, with an empty replacement).
fn with_header(name: &str, line: &str) -> String {
    let mut out = String::new();
    for l in UPGRADE.split_inclusive("\r\n") {
        if l.to_ascii_lowercase()
            .starts_with(&format!("{}:", name.to_ascii_lowercase()))
        {
            out.push_str(line);
        } else {
            out.push_str(l);
        }
    }
    out
}

fn refusal(data: &str) -> (HandshakeError, u16) {
    match receive(data.as_bytes()) {
        Err(error) => {
            let status = error.http_status();
            (error, status)
        }
        other => panic!("not refused: {other:?}"),
    }
}

#[test]
fn accepts_the_rfc_example() {
    let upgrade = upgrade(UPGRADE);
    assert_eq!(upgrade.path(), "/chat");
    assert_eq!(upgrade.query(), Some("room=1"));
    assert_eq!(upgrade.origin(), Some("http://example.com"));
    assert_eq!(upgrade.protocols(), ["chat", "superchat"]);
    assert_eq!(upgrade.extensions()[0].name, "permessage-deflate");
    let (response, _) = upgrade
        .accept(&Accept::new().protocol("superchat"), &plain())
        .unwrap();
    assert_eq!(
        String::from_utf8(response).unwrap(),
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\
         Sec-WebSocket-Protocol: superchat\r\n\r\n"
    );
}

#[test]
fn every_split_gives_the_same_outcome() {
    let bad_version = with_header("Sec-WebSocket-Version", "Sec-WebSocket-Version: 8\r\n");
    let http = "GET /index.html HTTP/1.1\r\nHost: a\r\n\r\n";
    for input in [UPGRADE, bad_version.as_str(), http] {
        let whole = format!("{:?}", receive(input.as_bytes()));
        for cut in 0..=input.len() {
            let mut handshake = ServerHandshake::new(&plain());
            let first = handshake.receive(&input.as_bytes()[..cut]);
            let outcome = match first {
                Ok(None) => handshake.receive(&input.as_bytes()[cut..]),
                done => done,
            };
            assert_eq!(format!("{outcome:?}"), whole, "cut at {cut}");
        }
    }
}

#[test]
fn plain_http_is_handed_back_with_its_body_start() {
    let request = b"POST /form HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello";
    let Ok(Some(Incoming::Http(request))) = receive(request) else {
        panic!("not plain HTTP")
    };
    assert_eq!((request.method(), request.path()), ("POST", "/form"));
    assert_eq!(request.header("content-length"), Some("5"));
    assert_eq!(request.remainder(), b"hello");
    // Connection: Upgrade to something else is not ours either.
    let h2c = b"GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n";
    assert!(matches!(receive(h2c), Ok(Some(Incoming::Http(_)))));
    // HTTP/1.0 without upgrade is plain HTTP too.
    let old = b"GET / HTTP/1.0\r\n\r\n";
    let Ok(Some(Incoming::Http(old))) = receive(old) else {
        panic!()
    };
    assert_eq!(old.minor_version(), 0);
}

#[test]
fn header_names_and_tokens_are_case_insensitive() {
    let shouting = UPGRADE
        .replace("Upgrade: websocket", "UPGRADE: WebSocket")
        .replace("Connection: Upgrade", "connection: keep-alive, UPGRADE");
    assert!(upgrade(&shouting).protocols().len() == 2);
}

#[test]
fn refuses_each_broken_rule_with_its_status() {
    use HandshakeError::*;
    let cases = [
        (UPGRADE.replacen("GET", "POST", 1), MethodNotGet, 405),
        (
            UPGRADE.replacen("HTTP/1.1", "HTTP/1.0", 1),
            Http10Upgrade,
            400,
        ),
        (with_header("Host", ""), MissingHeader("Host"), 400),
        (
            with_header("Host", "Host: a\r\nHost: b\r\n"),
            DuplicateHeader("Host"),
            400,
        ),
        (
            with_header("Connection", "Connection: keep-alive\r\n"),
            ConnectionNotUpgrade,
            400,
        ),
        (
            with_header("Sec-WebSocket-Key", ""),
            MissingHeader("Sec-WebSocket-Key"),
            400,
        ),
        (
            with_header(
                "Sec-WebSocket-Key",
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n",
            ),
            DuplicateHeader("Sec-WebSocket-Key"),
            400,
        ),
        (
            with_header("Sec-WebSocket-Key", "Sec-WebSocket-Key: c2hvcnQ=\r\n"),
            InvalidKey,
            400,
        ),
        (
            with_header("Sec-WebSocket-Version", "Sec-WebSocket-Version: 8\r\n"),
            UnsupportedVersion,
            426,
        ),
        (
            with_header("Sec-WebSocket-Version", ""),
            MissingHeader("Sec-WebSocket-Version"),
            400,
        ),
        (
            with_header("Sec-WebSocket-Protocol", "Sec-WebSocket-Protocol: a b\r\n"),
            MalformedHeaderValue("Sec-WebSocket-Protocol"),
            400,
        ),
        (
            with_header(
                "Sec-WebSocket-Extensions",
                "Sec-WebSocket-Extensions: x;\r\n",
            ),
            MalformedHeaderValue("Sec-WebSocket-Extensions"),
            400,
        ),
    ];
    for (request, expected, status) in cases {
        assert_eq!(refusal(&request), (expected, status), "{request}");
    }
}

#[test]
fn every_refusal_comes_with_a_response() {
    let bad_version = with_header("Sec-WebSocket-Version", "Sec-WebSocket-Version: 7\r\n");
    let error = receive(bad_version.as_bytes()).unwrap_err();
    let response = String::from_utf8(HttpResponse::from(&error).encode().unwrap()).unwrap();
    assert!(response.starts_with("HTTP/1.1 426 Upgrade Required\r\n"));
    assert!(response.contains("\r\nSec-WebSocket-Version: 13\r\n"));
    let too_many = format!("GET / HTTP/1.1\r\n{}\r\n", "X: y\r\n".repeat(101));
    let error = receive(too_many.as_bytes()).unwrap_err();
    let response = String::from_utf8(HttpResponse::from(&error).encode().unwrap()).unwrap();
    assert!(response.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
    let post = UPGRADE.replacen("GET", "PUT", 1);
    let error = receive(post.as_bytes()).unwrap_err();
    let response = String::from_utf8(HttpResponse::from(&error).encode().unwrap()).unwrap();
    assert!(response.starts_with("HTTP/1.1 405 Method Not Allowed\r\n"));
    assert!(response.contains("\r\nAllow: GET\r\n"));
}

#[test]
fn accept_refuses_what_was_not_offered_or_is_unsafe() {
    let upgrade = upgrade(UPGRADE);
    let config = plain();
    let refused = |accept: Accept| upgrade.accept(&accept, &config).unwrap_err();
    assert!(matches!(
        refused(Accept::new().protocol("other")),
        UsageError::NotOffered(p) if p == "other"
    ));
    assert!(matches!(
        refused(Accept::new().extension(Extension::new("x-unknown"))),
        UsageError::NotOffered(_)
    ));
    assert!(matches!(
        refused(Accept::new().header("Set-Cookie", "a=b\r\nX-Injected: 1")),
        UsageError::InvalidInput(_)
    ));
    assert!(matches!(
        refused(Accept::new().header("Bad Name", "x")),
        UsageError::InvalidInput(_)
    ));
    assert!(matches!(
        refused(Accept::new().header("sec-websocket-accept", "forged")),
        UsageError::InvalidInput(_)
    ));
    let (response, _) = upgrade
        .accept(
            &Accept::new()
                .extension(Extension::new("permessage-deflate"))
                .header("Set-Cookie", "id=1"),
            &config,
        )
        .unwrap();
    let response = String::from_utf8(response).unwrap();
    assert!(response.contains("\r\nSec-WebSocket-Extensions: permessage-deflate\r\n"));
    assert!(response.ends_with("\r\nSet-Cookie: id=1\r\n\r\n"));
}

#[test]
fn frames_after_the_head_reach_the_connection() {
    let mut data = UPGRADE.as_bytes().to_vec();
    data.extend_from_slice(&[0x81, 0x82, 1, 2, 3, 4, b'h' ^ 1, b'i' ^ 2]);
    let Ok(Some(Incoming::Upgrade(upgrade))) = receive(&data) else {
        panic!()
    };
    let (_, mut connection) = upgrade.accept(&Accept::new(), &plain()).unwrap();
    assert!(
        matches!(connection.poll_event(), Ok(Some(Event::Message(m))) if m.as_text() == Some("hi"))
    );
}

/// The default configuration without permessage-deflate negotiation: these tests are about
/// the handshake's own extension handling.
fn plain() -> Config {
    Config {
        #[cfg(feature = "deflate")]
        deflate: None,
        ..Config::default()
    }
}

/// The hostile-input class of the same name (tests/hostile_inputs.rs sends it over the
/// network): 20 MB offered one byte at a time is refused at 16 KiB + 1 with 431, and the
/// parser looked at no more than 2 bytes per byte fed.
#[test]
fn huge_request_head_fed_byte_by_byte_is_refused_at_the_limit_in_linear_work() {
    let mut handshake = ServerHandshake::new(&Config::default());
    handshake.receive(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap();
    let mut fed = 26u64;
    let line = b"X-Filler: 0123456789\r\n";
    let error = 'feeding: loop {
        for byte in line {
            fed += 1;
            if let Err(error) = handshake.receive(std::slice::from_ref(byte)) {
                break 'feeding error;
            }
            assert!(fed < 20_000_000, "never refused");
        }
    };
    assert_eq!(error.http_status(), 431);
    assert!(fed <= 16 * 1024 + 1, "refused after {fed} bytes");
    assert!(handshake.bytes_examined() <= 2 * fed);
}

/// The ReDoS class, through a whole handshake (header_values.rs counts the extension
/// parser's looks): long subprotocol and extension lists with raised limits complete, and
/// the head parser stays linear.
#[test]
fn long_protocol_and_extension_values_parse_in_linear_time() {
    let megabyte = 1 << 20;
    let config = Config {
        max_head_bytes: 4 << 20,
        max_line_bytes: 4 << 20,
        ..Config::default()
    };
    let mut head = b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
        Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
        Sec-WebSocket-Protocol: "
        .to_vec();
    head.extend(b"p, ".repeat(megabyte / 3));
    head.extend_from_slice(b"\r\nSec-WebSocket-Extensions: ");
    head.extend(b"x; y=z, ".repeat(megabyte / 8));
    head.extend_from_slice(b"\r\n\r\n");
    let mut handshake = ServerHandshake::new(&config);
    let Some(Incoming::Upgrade(upgrade)) = handshake.receive(&head).unwrap() else {
        panic!("not an upgrade")
    };
    assert_eq!(upgrade.protocols().len(), megabyte / 3);
    assert!(handshake.bytes_examined() <= 2 * head.len() as u64);
}
