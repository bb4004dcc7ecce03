use super::*;

const REQUEST: &[u8] = b"GET /chat?x=1 HTTP/1.1\r\nHost: server.example.com\r\n\
    Upgrade: websocket\r\nConnection: Upgrade\r\n\
    Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://example.com\r\n\
    Sec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Version: 13\r\n\
    X-Empty:\r\nX-Spaces: \t padded value \t \r\n\r\n";

fn parser() -> HeadParser {
    HeadParser::new(HeadKind::Request, &Config::default())
}

/// Feeds `data` cut at `cuts`; returns the result and the total of bytes consumed.
fn feed_pieces(
    mut parser: HeadParser,
    data: &[u8],
    cuts: &[usize],
) -> Result<Option<(Head, usize)>, HandshakeError> {
    let mut start = 0;
    for &end in cuts.iter().chain(std::iter::once(&data.len())) {
        if let Some((head, consumed)) = parser.feed(&data[start..end])? {
            return Ok(Some((head, start + consumed)));
        }
        start = end;
    }
    Ok(None)
}

fn parse(data: &[u8]) -> Result<Option<(Head, usize)>, HandshakeError> {
    feed_pieces(parser(), data, &[])
}

fn error_of(data: &[u8]) -> HandshakeError {
    parse(data).expect_err("should be refused")
}

#[test]
fn parses_a_request_head() {
    let (head, consumed) = parse(REQUEST).unwrap().unwrap();
    assert_eq!(consumed, REQUEST.len());
    let StartLine::Request {
        method,
        target,
        minor_version,
    } = &head.start
    else {
        panic!("not a request")
    };
    assert_eq!(
        (head.str(method), head.str(target), *minor_version),
        ("GET", "/chat?x=1", 1)
    );
    assert_eq!(head.header("host"), Some("server.example.com"));
    assert_eq!(head.header("SEC-WEBSOCKET-VERSION"), Some("13"));
    assert_eq!(head.header("X-Empty"), Some(""));
    assert_eq!(head.header("x-spaces"), Some("padded value"));
    assert_eq!(head.header("Missing"), None);
    assert_eq!(head.headers().count(), 9);
    assert_eq!(head.as_bytes(), REQUEST);
}

#[test]
fn every_split_gives_the_same_head() {
    let whole = parse(REQUEST).unwrap().unwrap();
    for cut in 0..=REQUEST.len() {
        assert_eq!(
            feed_pieces(parser(), REQUEST, &[cut]).unwrap().unwrap(),
            whole,
            "cut at {cut}"
        );
    }
    for a in (0..REQUEST.len()).step_by(7) {
        for b in a..=REQUEST.len() {
            assert_eq!(
                feed_pieces(parser(), REQUEST, &[a, b]).unwrap().unwrap(),
                whole
            );
        }
    }
    let every_byte: Vec<usize> = (1..REQUEST.len()).collect();
    assert_eq!(
        feed_pieces(parser(), REQUEST, &every_byte)
            .unwrap()
            .unwrap(),
        whole
    );
}

#[test]
fn every_split_of_a_bad_head_gives_the_same_error() {
    let bad = b"GET / HTTP/1.1\r\nHost: a\r\nX-Bad: a\0b\r\n\r\n";
    let whole = parse(bad).unwrap_err().to_string();
    for cut in 0..=bad.len() {
        let split = feed_pieces(parser(), bad, &[cut]).unwrap_err().to_string();
        assert_eq!(split, whole, "cut at {cut}");
    }
}

#[test]
fn stops_at_the_blank_line() {
    let mut data = REQUEST.to_vec();
    data.extend_from_slice(b"\x81\x80after");
    for cut in 0..=data.len() {
        let (_, consumed) = feed_pieces(parser(), &data, &[cut]).unwrap().unwrap();
        assert_eq!(consumed, REQUEST.len(), "cut at {cut}");
    }
}

#[test]
fn incomplete_head_asks_for_more() {
    assert!(parse(&REQUEST[..REQUEST.len() - 1]).unwrap().is_none());
    assert!(parse(b"").unwrap().is_none());
}

#[test]
fn accepts_bare_lf_and_leading_blank_lines() {
    let (head, _) = parse(b"\r\n\nGET / HTTP/1.1\nHost: a\n\n")
        .unwrap()
        .unwrap();
    assert_eq!(head.header("Host"), Some("a"));
}

#[test]
fn parses_status_lines() {
    let response = |data: &[u8]| {
        HeadParser::new(HeadKind::Response, &Config::default())
            .feed(data)
            .map(|parsed| parsed.map(|(head, _)| head.start))
    };
    assert!(matches!(
        response(b"HTTP/1.1 101 Switching Protocols\r\n\r\n"),
        Ok(Some(StartLine::Response {
            status: 101,
            minor_version: 1,
            ..
        }))
    ));
    assert!(matches!(
        response(b"HTTP/1.1 404\r\n\r\n"),
        Ok(Some(StartLine::Response { status: 404, .. }))
    ));
    for bad in [
        &b"HTTP/1.1 10 x\r\n\r\n"[..],
        b"HTTP/1.1 1011 x\r\n\r\n",
        b"HTTP/1.1 abc x\r\n\r\n",
        b"HTTP/1.1  101 x\r\n\r\n",
        b"HTTP/1.1101 x\r\n\r\n",
        b"ICY 200 OK\r\n\r\n",
    ] {
        assert!(
            matches!(response(bad), Err(HandshakeError::MalformedStatusLine)),
            "{:?}",
            String::from_utf8_lossy(bad)
        );
    }
}

#[test]
fn refuses_malformed_heads_with_precise_errors() {
    use HandshakeError::*;
    let cases: &[(&[u8], HandshakeError)] = &[
        (
            b"GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n",
            BareCarriageReturn,
        ),
        // A bare CR wherever it is: it is looked for only once a line fails to parse.
        (b"GET /\r HTTP/1.1\r\n\r\n", BareCarriageReturn),
        (b"GET / HTTP/1.1\r\r\n\r\n", BareCarriageReturn),
        (b"\r\r\nGET / HTTP/1.1\r\n\r\n", BareCarriageReturn),
        (b"GET / HTTP/1.1\r\nX\r: a\r\n\r\n", BareCarriageReturn),
        (b"GET / HTTP/1.1\r\nX: a\r\r\n\r\n", BareCarriageReturn),
        (b"GET / HTTP/1.1\r\n \rfolded\r\n\r\n", BareCarriageReturn),
        (b"GET / HTTP/1.1\r\nHost: a\r\n\r\r\n", BareCarriageReturn),
        (
            b"GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n",
            ObsoleteLineFolding,
        ),
        (b"GET / HTTP/1.1\r\nNoColon\r\n\r\n", MalformedHeader),
        (b"GET / HTTP/1.1\r\nHost : a\r\n\r\n", MalformedHeader),
        (b"GET / HTTP/1.1\r\n: a\r\n\r\n", MalformedHeader),
        (b"GET / HTTP/1.1\r\nX(y): a\r\n\r\n", MalformedHeader),
        (b"GET / HTTP/1.1\r\nX: a\0b\r\n\r\n", InvalidHeaderValue),
        (b"GET / HTTP/1.1\r\nX: a\x7fb\r\n\r\n", InvalidHeaderValue),
        (b"GET / HTTP/1.1\r\nX: a\x01\r\n\r\n", InvalidHeaderValue),
        (b"GET / HTTP/2.0\r\n\r\n", UnsupportedHttpVersion),
        (b"GET / HTTP/1.1x\r\n\r\n", MalformedRequestLine),
        (b"GET /\r\n\r\n", MalformedRequestLine),
        (b"GET  / HTTP/1.1\r\n\r\n", MalformedRequestLine),
        (b" GET / HTTP/1.1\r\n\r\n", MalformedRequestLine),
        (b"G(T / HTTP/1.1\r\n\r\n", MalformedRequestLine),
        (b"GET /\x01 HTTP/1.1\r\n\r\n", MalformedRequestLine),
        (b"GET /\xC3\xA9 HTTP/1.1\r\n\r\n", MalformedRequestLine),
    ];
    for (data, expected) in cases {
        let error = error_of(data);
        assert!(
            &error == expected,
            "{:?}: got {error:?}",
            String::from_utf8_lossy(data)
        );
        assert_ne!(
            error.http_status(),
            502,
            "a request error, not a response error"
        );
    }
}

fn small_limits() -> Config {
    Config {
        max_head_bytes: 100,
        max_headers: 3,
        max_line_bytes: 40,
        ..Config::default()
    }
}

#[test]
fn head_limit_is_exact() {
    let config = small_limits();
    // Three headers of 24 bytes, and a request line padded so the head is exactly 100.
    let headers = "X: 0123456789abcdef01\r\n".repeat(3);
    let line_len = 100 - headers.len() - 2;
    let target = format!("/{}", "t".repeat(line_len - "GET  HTTP/1.1\r\n".len() - 1));
    let exact = format!("GET {target} HTTP/1.1\r\n{headers}\r\n");
    assert_eq!(exact.len(), 100);
    let mut at_limit = HeadParser::new(HeadKind::Request, &config);
    assert!(at_limit.feed(exact.as_bytes()).unwrap().is_some());
    let over = exact.replacen("GET /", "GET /x", 1);
    let mut over_limit = HeadParser::new(HeadKind::Request, &config);
    let error = over_limit.feed(over.as_bytes()).unwrap_err();
    assert!(matches!(error, HandshakeError::HeadTooLarge { limit: 100 }));
    assert_eq!(error.http_status(), 431);
}

#[test]
fn header_count_limit_is_exact() {
    let config = small_limits();
    let three = b"GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
    assert!(
        HeadParser::new(HeadKind::Request, &config)
            .feed(three)
            .unwrap()
            .is_some()
    );
    let four = b"GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n";
    let error = HeadParser::new(HeadKind::Request, &config)
        .feed(four)
        .unwrap_err();
    assert!(matches!(error, HandshakeError::TooManyHeaders { limit: 3 }));
    assert_eq!(error.http_status(), 431);
}

#[test]
fn line_limit_is_exact_and_names_the_line() {
    let config = small_limits();
    // A header line of exactly 40 bytes with its CRLF.
    let line = format!("X: {}\r\n", "v".repeat(35));
    assert_eq!(line.len(), 40);
    let ok = format!("GET / HTTP/1.1\r\n{line}\r\n");
    assert!(
        HeadParser::new(HeadKind::Request, &config)
            .feed(ok.as_bytes())
            .unwrap()
            .is_some()
    );
    let long = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "v".repeat(36));
    let error = HeadParser::new(HeadKind::Request, &config)
        .feed(long.as_bytes())
        .unwrap_err();
    assert_eq!(error.http_status(), 431);
    let long_target = format!("GET /{} HTTP/1.1\r\n\r\n", "p".repeat(40));
    let error = HeadParser::new(HeadKind::Request, &config)
        .feed(long_target.as_bytes())
        .unwrap_err();
    assert!(matches!(
        error,
        HandshakeError::LineTooLong {
            start_line: true,
            ..
        }
    ));
    assert_eq!(error.http_status(), 414);
}

/// A 20 MB head fed one byte at a time is refused at the limit, and the parser looks at
/// each byte a bounded number of times however it is chunked.
#[test]
fn a_20_mb_head_fed_byte_by_byte_is_refused_at_the_limit_in_linear_work() {
    const TOTAL: usize = 20_000_000;
    let line = b"X-Filler: abcdefghijklmnopqrstuvwxyz0123456789\r\n";
    let mut fed = 0usize;
    let mut parser = parser();
    let mut outcome = None;
    parser.feed(b"GET / HTTP/1.1\r\n").unwrap();
    fed += 16;
    'feeding: while fed < TOTAL {
        for byte in line {
            match parser.feed(std::slice::from_ref(byte)) {
                Ok(_) => fed += 1,
                Err(error) => {
                    fed += 1;
                    outcome = Some(error);
                    break 'feeding;
                }
            }
        }
    }
    let error = outcome.expect("the head must be refused");
    // Header count (100) or head size (16 KiB) stops it, whichever comes first; with
    // 48-byte lines the 16 KiB head limit is crossed after 341 lines, past 100 headers.
    assert!(matches!(error, HandshakeError::TooManyHeaders { .. }));
    assert!(fed <= 16 * 1024 + 1, "refused after {fed} bytes");
    assert!(parser.bytes_examined() <= 2 * fed as u64);

    // With limits raised above 20 MB, the whole 20 MB goes through one byte at a time:
    // the work stays within twice the bytes fed (quadratic re-scanning would be ~10^14).
    let huge = Config {
        max_head_bytes: 32 << 20,
        max_line_bytes: 32 << 20,
        max_headers: 1 << 20,
        ..Config::default()
    };
    let mut parser = HeadParser::new(HeadKind::Request, &huge);
    let mut fed = 0u64;
    parser.feed(b"GET / HTTP/1.1\r\nX-Long: ").unwrap();
    fed += 24;
    while fed < TOTAL as u64 {
        assert!(parser.feed(b"a").unwrap().is_none());
        fed += 1;
    }
    assert!(parser.feed(b"\r\n\r\n").unwrap().is_some());
    fed += 4;
    assert!(
        parser.bytes_examined() <= 2 * fed,
        "{} inspections for {fed} bytes",
        parser.bytes_examined()
    );

    // And the default limit refuses a single 20 MB line at 8 KiB.
    let mut parser = parser_with_default_limits();
    parser.feed(b"GET / HTTP/1.1\r\nX-Long: ").unwrap();
    let mut fed = 24usize;
    let error = loop {
        fed += 1;
        if let Err(error) = parser.feed(b"a") {
            break error;
        }
    };
    assert_eq!(error.http_status(), 431);
    assert_eq!(fed, 16 + Config::default().max_line_bytes + 1);
}

fn parser_with_default_limits() -> HeadParser {
    parser()
}

#[test]
fn a_huge_chunk_is_refused_without_scanning_past_the_limit() {
    let mut data = b"GET / HTTP/1.1\r\nX: ".to_vec();
    data.resize(20_000_000, b'a');
    let mut parser = parser();
    assert!(parser.feed(&data).is_err());
    assert!(parser.bytes_examined() <= 2 * (Config::default().max_line_bytes as u64 + 32));
}

#[test]
fn finds_a_newline_at_every_position_and_in_every_word() {
    for len in 0..40 {
        let mut bytes = vec![b'a'; len];
        assert_eq!(find_newline(&bytes), None, "none in {len} bytes");
        for at in 0..len {
            bytes[at] = b'\n';
            assert_eq!(find_newline(&bytes), Some(at), "{len} bytes, first at {at}");
            // A second one further on changes nothing.
            if at + 3 < len {
                bytes[at + 3] = b'\n';
                assert_eq!(find_newline(&bytes), Some(at));
                bytes[at + 3] = b'a';
            }
            bytes[at] = b'a';
        }
    }
    // Bytes one bit away from '\n' are not it (0x0A ^ 0x80, 0x0B, 0x09, 0x8A).
    assert_eq!(
        find_newline(&[0x8A, 0x0B, 0x09, 0x0E, 0x2A, 0x0A ^ 0x01, 0x4A, 0xFF, 0]),
        None
    );
}
