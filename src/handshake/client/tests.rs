use super::*;
use crate::Event;

const NONCE: [u8; 16] = *b"the sample nonce";
const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

fn handshake(request: &ClientRequest) -> ClientHandshake {
    ClientHandshake::with_nonce(request, &plain(), NONCE).unwrap()
}

fn response(extra: &str) -> String {
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {ACCEPT}\r\n{extra}\r\n"
    )
}

fn outcome(
    request: &ClientRequest,
    response: &str,
) -> Result<Option<(UpgradeResponse, Connection)>, HandshakeError> {
    handshake(request).receive(response.as_bytes())
}

fn refusal(request: &ClientRequest, response: &str) -> HandshakeError {
    match outcome(request, response) {
        Err(error) => error,
        other => panic!("accepted: {other:?}"),
    }
}

#[test]
fn writes_the_request() {
    let request = ClientRequest::new("example.com:8080", "/chat?x=1")
        .protocol("chat")
        .protocol("superchat")
        .extension(Extension::new("permessage-deflate").with_param("client_max_window_bits", None))
        .header("Origin", "http://example.com");
    let text = String::from_utf8(handshake(&request).request().to_vec()).unwrap();
    assert_eq!(
        text,
        "GET /chat?x=1 HTTP/1.1\r\nHost: example.com:8080\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat, superchat\r\n\
         Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\
         Origin: http://example.com\r\n\r\n"
    );
}

#[test]
fn random_keys_differ() {
    let request = ClientRequest::new("a", "/");
    let a = ClientHandshake::new(&request, &plain()).unwrap();
    let b = ClientHandshake::new(&request, &plain()).unwrap();
    assert_ne!(a.request(), b.request());
}

#[test]
fn refuses_injection_in_everything_the_caller_supplies() {
    let config = plain();
    let bad = [
        ClientRequest::new("a\r\nX: y", "/"),
        ClientRequest::new("a b", "/"),
        ClientRequest::new("", "/"),
        ClientRequest::new("a", "/x\r\nX: y"),
        ClientRequest::new("a", "/x\0"),
        ClientRequest::new("a", "/x y"),
        ClientRequest::new("a", "no-slash"),
        ClientRequest::new("a", "/").protocol("chat\r\nX: y"),
        ClientRequest::new("a", "/").protocol("a,b"),
        ClientRequest::new("a", "/").protocol(""),
        ClientRequest::new("a", "/").extension(Extension::new("x\r\n")),
        ClientRequest::new("a", "/").extension(Extension::new("x").with_param("p", Some("v\n"))),
        ClientRequest::new("a", "/").header("X", "v\r\nInjected: 1"),
        ClientRequest::new("a", "/").header("X", "v\0"),
        ClientRequest::new("a", "/").header("X\r\nY", "v"),
        ClientRequest::new("a", "/").header("Sec-WebSocket-Key", "forged"),
    ];
    for request in bad {
        let error = ClientHandshake::new(&request, &config).unwrap_err();
        assert!(
            matches!(error, Error::Usage(UsageError::InvalidInput(_))),
            "{request:?}: {error:?}"
        );
    }
}

#[test]
fn accepts_a_valid_response_at_every_split() {
    let request = ClientRequest::new("a", "/").protocol("chat");
    let mut data = response("Sec-WebSocket-Protocol: chat\r\n").into_bytes();
    data.extend_from_slice(&[0x81, 0x02, b'h', b'i']);
    for cut in 0..=data.len() {
        let mut handshake = handshake(&request);
        let ((response, mut connection), rest) = match handshake.receive(&data[..cut]).unwrap() {
            Some(connected) => (connected, &data[cut..]),
            None => (handshake.receive(&data[cut..]).unwrap().unwrap(), &[][..]),
        };
        assert_eq!(response.protocol(), Some("chat"), "cut at {cut}");
        connection.receive(rest);
        assert!(
            matches!(connection.poll_event(), Ok(Some(Event::Message(m))) if m.as_text() == Some("hi")),
            "cut at {cut}"
        );
    }
}

#[test]
fn refuses_bad_responses() {
    use HandshakeError::*;
    let plain = ClientRequest::new("a", "/");
    let chat = ClientRequest::new("a", "/").protocol("chat");
    assert_eq!(
        refusal(&plain, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
        UnexpectedStatus(200)
    );
    assert_eq!(
        refusal(
            &plain,
            &response("").replace("Upgrade: websocket", "Upgrade: h2c")
        ),
        UpgradeNotWebSocket
    );
    assert_eq!(
        refusal(
            &plain,
            &response("").replace("Connection: Upgrade", "Connection: close")
        ),
        ConnectionNotUpgrade
    );
    assert_eq!(
        refusal(
            &plain,
            &response("").replace(ACCEPT, "AAAAAAAAAAAAAAAAAAAAAAAAAAA=")
        ),
        AcceptMismatch
    );
    assert_eq!(
        refusal(
            &plain,
            &response("").replace(&format!("Sec-WebSocket-Accept: {ACCEPT}\r\n"), "")
        ),
        MissingHeader("Sec-WebSocket-Accept")
    );
    assert_eq!(
        refusal(
            &plain,
            &response(&format!("Sec-WebSocket-Accept: {ACCEPT}\r\n"))
        ),
        DuplicateHeader("Sec-WebSocket-Accept")
    );
    assert_eq!(
        refusal(&plain, &response("Sec-WebSocket-Protocol: chat\r\n")),
        ProtocolNotOffered("chat".into())
    );
    assert_eq!(
        refusal(&chat, &response("Sec-WebSocket-Protocol: other\r\n")),
        ProtocolNotOffered("other".into())
    );
    assert_eq!(
        refusal(&chat, &response("Sec-WebSocket-Protocol: chat, chat\r\n")),
        DuplicateHeader("Sec-WebSocket-Protocol")
    );
    assert_eq!(
        refusal(
            &plain,
            &response("Sec-WebSocket-Extensions: permessage-deflate\r\n")
        ),
        ExtensionNotOffered("permessage-deflate".into())
    );
    assert_eq!(
        refusal(&plain, &response("Sec-WebSocket-Extensions: ;\r\n")),
        MalformedHeaderValue("Sec-WebSocket-Extensions")
    );
}

#[test]
fn a_declined_protocol_and_an_accepted_extension_are_reported() {
    let request = ClientRequest::new("a", "/")
        .protocol("chat")
        .extension(Extension::new("permessage-deflate"));
    let (response, _) = outcome(
        &request,
        &response("Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n"),
    )
    .unwrap()
    .unwrap();
    assert_eq!(response.protocol(), None);
    assert_eq!(
        response.extensions()[0].param("server_no_context_takeover"),
        Some(None)
    );
    assert_eq!(response.status(), 101);
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

/// With `Config::deflate` set, permessage-deflate is the configuration's to offer: one
/// offered by hand as well would be offered twice, with settings the connection would not
/// follow. (The `handshake_response` fuzz target offered it by hand and panicked on every
/// input when this refusal came in.)
#[cfg(feature = "deflate")]
#[test]
fn permessage_deflate_offered_by_hand_is_refused_when_the_config_offers_it() {
    let request = ClientRequest::new("a", "/").extension(Extension::new("PerMessage-Deflate"));
    let error = ClientHandshake::with_nonce(&request, &Config::default(), NONCE).unwrap_err();
    assert!(
        matches!(error, Error::Usage(UsageError::InvalidInput(_))),
        "{error:?}"
    );
    let other = ClientRequest::new("a", "/").extension(Extension::new("x-example"));
    let handshake = ClientHandshake::with_nonce(&other, &Config::default(), NONCE).unwrap();
    let head = String::from_utf8_lossy(handshake.request()).to_ascii_lowercase();
    assert!(head.contains("x-example"), "{head}");
    assert!(head.contains("permessage-deflate"), "{head}");
    // Without the configuration's offer, it is an extension like any other.
    assert!(ClientHandshake::with_nonce(&request, &plain(), NONCE).is_ok());
}
