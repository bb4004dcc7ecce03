//! What an Engine.IO request asks for, and the responses that are not a session's: the
//! query (`EIO`, `transport`, `sid`), the reference server's checks in its order
//! (`verify` then `handshake` in lib/server.ts), its error responses (`{"code":0,
//! "message":"Transport unknown"}` with 400, codes 0 to 5), and the CORS headers of the
//! `cors` package it uses. No I/O: a request's parts in, a decision or a response out.

// Input reaches this module: no indexing, unwrap, expect or panic that it could trigger.
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use crate::handshake::{HttpRequest, HttpResponse};
use crate::socketio::engine::config::{Cors, CorsOrigin, Transports};
use crate::socketio::engine::session::ErrorCode;

/// The query parameters Engine.IO reads, percent-decoded (as `URLSearchParams` does; the
/// last of a repeated key wins).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Query {
    pub(crate) eio: Option<String>,
    pub(crate) transport: Option<String>,
    pub(crate) sid: Option<String>,
}

impl Query {
    pub(crate) fn parse(query: Option<&str>) -> Query {
        let mut parsed = Query::default();
        for pair in query.unwrap_or_default().split('&') {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let slot = match percent_decode(key).as_str() {
                "EIO" => &mut parsed.eio,
                "transport" => &mut parsed.transport,
                "sid" => &mut parsed.sid,
                _ => continue,
            };
            *slot = Some(percent_decode(value));
        }
        parsed
    }

    /// The session id, unless absent or empty (the reference tests it for truth).
    pub(crate) fn sid(&self) -> Option<&str> {
        self.sid.as_deref().filter(|sid| !sid.is_empty())
    }
}

/// `application/x-www-form-urlencoded` decoding: `+` is a space, `%XX` a byte; a `%` not
/// followed by two hex digits stays as it is. Bytes that are not UTF-8 become U+FFFD.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        let escaped = (byte == b'%')
            .then(|| bytes.get(index + 1..index + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match (byte, escaped) {
            (_, Some(decoded)) => {
                out.push(decoded);
                index += 3;
            }
            (b'+', None) => {
                out.push(b' ');
                index += 1;
            }
            (other, None) => {
                out.push(other);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What a request is, once the checks that need no session passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// A new session on this transport (its handshake).
    Handshake,
    /// A request of the existing session `sid` (to look up; it may be unknown).
    Session(String),
    /// Refused with this code.
    Refuse(ErrorCode),
    /// A WebSocket upgrade for a transport that does not take upgrades (`polling`): the
    /// reference's WebSocket server accepts it, then closes it at once.
    Close,
}

/// The reference's `verify` and the protocol check of its `handshake`, in their order:
/// the transport, then with a `sid` nothing more here (the session decides), without one a
/// `GET`, no WebSocket without an upgrade, then `EIO=4` (the caller's `allow_request`
/// runs between the two, as the reference's `allowRequest` does: see
/// [`check_protocol`]).
pub(crate) fn verify(
    method: &str,
    query: &Query,
    transports: Transports,
    upgrade: bool,
) -> Verdict {
    let transport = query.transport.as_deref().unwrap_or_default();
    if !transports.allows(transport) {
        return Verdict::Refuse(ErrorCode::UnknownTransport);
    }
    if let Some(sid) = query.sid() {
        // Only the WebSocket transport takes an upgrade.
        if upgrade && transport != "websocket" {
            return Verdict::Close;
        }
        return Verdict::Session(sid.to_owned());
    }
    if method != "GET" {
        return Verdict::Refuse(ErrorCode::BadHandshakeMethod);
    }
    if transport == "websocket" && !upgrade {
        return Verdict::Refuse(ErrorCode::BadRequest);
    }
    if transport != "websocket" && upgrade {
        return Verdict::Close;
    }
    Verdict::Handshake
}

/// A new session must speak revision 4 (`EIO=4`): the reference takes anything else for
/// revision 3, which it refuses unless told otherwise.
pub(crate) fn check_protocol(query: &Query) -> Result<(), ErrorCode> {
    if query.eio.as_deref() == Some("4") {
        Ok(())
    } else {
        Err(ErrorCode::UnsupportedProtocolVersion)
    }
}

/// The reference's refusal of an HTTP request (`abortRequest`): 403 for `Forbidden`, else
/// 400, with `{"code":<code>,"message":<message>}` as JSON.
pub(crate) fn refusal(code: ErrorCode, message: Option<&str>) -> HttpResponse {
    let status = if code == ErrorCode::Forbidden {
        403
    } else {
        400
    };
    let body = serde_json::json!({
        "code": code as u8,
        "message": message.unwrap_or(code.message()),
    });
    HttpResponse::new(status)
        .header("Content-Type", "application/json")
        .body(body.to_string())
}

/// The reference's refusal of a WebSocket upgrade (`abortUpgrade`): 400 whatever the code,
/// the message as a `text/html` body.
pub(crate) fn upgrade_refusal(code: ErrorCode, message: Option<&str>) -> HttpResponse {
    HttpResponse::new(400)
        .header("Content-Type", "text/html")
        .body(message.unwrap_or(code.message()).to_owned())
}

/// The headers every long-polling response carries (the reference's `headers()`): no
/// caching, and no XSS filter for the old Internet Explorer that needs it off.
pub(crate) fn polling_headers(request: &HttpRequest, response: HttpResponse) -> HttpResponse {
    let response = response.header("Cache-Control", "no-store");
    let user_agent = request.header("User-Agent").unwrap_or_default();
    if user_agent.contains(";MSIE") || user_agent.contains("Trident/") {
        response.header("X-XSS-Protection", "0")
    } else {
        response
    }
}

/// Adds the CORS headers of an actual (not preflight) request, if CORS is on.
pub(crate) fn with_cors(
    cors: Option<&Cors>,
    request: &HttpRequest,
    response: HttpResponse,
) -> HttpResponse {
    let Some(cors) = cors else {
        return response;
    };
    let mut vary = Vec::new();
    let response = origin_headers(cors, request, response, &mut vary);
    let response = exposed_headers(cors, response);
    with_vary(response, &vary)
}

/// The answer to a preflight `OPTIONS`: 204 with the CORS headers, an empty body.
pub(crate) fn preflight(cors: &Cors, request: &HttpRequest) -> HttpResponse {
    let mut vary = Vec::new();
    let mut response = origin_headers(cors, request, HttpResponse::new(204), &mut vary);
    response = response.header("Access-Control-Allow-Methods", cors.methods.join(","));
    let allowed = match &cors.allowed_headers {
        Some(headers) => Some(headers.join(",")),
        None => {
            vary.push("Access-Control-Request-Headers");
            request
                .header("Access-Control-Request-Headers")
                .map(str::to_owned)
        }
    };
    if let Some(allowed) = allowed.filter(|allowed| !allowed.is_empty()) {
        response = response.header("Access-Control-Allow-Headers", allowed);
    }
    if let Some(max_age) = cors.max_age {
        response = response.header("Access-Control-Max-Age", max_age.as_secs().to_string());
    }
    let response = exposed_headers(cors, response);
    with_vary(response, &vary)
}

fn origin_headers(
    cors: &Cors,
    request: &HttpRequest,
    mut response: HttpResponse,
    vary: &mut Vec<&'static str>,
) -> HttpResponse {
    match &cors.origin {
        CorsOrigin::Any => response = response.header("Access-Control-Allow-Origin", "*"),
        CorsOrigin::List(origins) => {
            vary.push("Origin");
            if let Some(origin) = request
                .header("Origin")
                .filter(|origin| origins.iter().any(|allowed| allowed == origin))
            {
                response = response.header("Access-Control-Allow-Origin", origin);
            }
        }
    }
    if cors.credentials {
        response = response.header("Access-Control-Allow-Credentials", "true");
    }
    response
}

fn exposed_headers(cors: &Cors, response: HttpResponse) -> HttpResponse {
    if cors.exposed_headers.is_empty() {
        response
    } else {
        response.header(
            "Access-Control-Expose-Headers",
            cors.exposed_headers.join(","),
        )
    }
}

fn with_vary(response: HttpResponse, vary: &[&str]) -> HttpResponse {
    if vary.is_empty() {
        response
    } else {
        response.header("Vary", vary.join(", "))
    }
}

#[cfg(test)]
#[allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]
mod tests {
    use super::*;
    use crate::Config;
    use crate::handshake::{Incoming, ServerHandshake};

    fn request(head: &str) -> HttpRequest {
        let mut handshake = ServerHandshake::new(&Config::default());
        match handshake.receive(head.as_bytes()).unwrap() {
            Some(Incoming::Http(request)) => request,
            other => panic!("{other:?}"),
        }
    }

    fn encoded(response: &HttpResponse) -> String {
        String::from_utf8(response.encode().unwrap()).unwrap()
    }

    fn query(text: &str) -> Query {
        Query::parse(Some(text))
    }

    #[test]
    fn the_query_is_percent_decoded_and_the_last_key_wins() {
        let parsed = query("EIO=4&transport=polling&t=Nx&sid=a%2Db_c&sid=x%2By+z%");
        assert_eq!(parsed.eio.as_deref(), Some("4"));
        assert_eq!(parsed.transport.as_deref(), Some("polling"));
        assert_eq!(parsed.sid(), Some("x+y z%"));
        assert_eq!(Query::parse(None), Query::default());
        assert_eq!(query("sid=").sid(), None);
        assert_eq!(query("sid=%E2%82%AC%ff").sid(), Some("€\u{fffd}"));
    }

    #[test]
    fn the_checks_of_the_reference_in_its_order() {
        let all = Transports::default();
        let cases: [(&str, &str, bool, Verdict); 11] = [
            ("GET", "EIO=4&transport=polling", false, Verdict::Handshake),
            ("GET", "EIO=4&transport=websocket", true, Verdict::Handshake),
            (
                "GET",
                "EIO=4",
                false,
                Verdict::Refuse(ErrorCode::UnknownTransport),
            ),
            (
                "GET",
                "EIO=4&transport=abc",
                false,
                Verdict::Refuse(ErrorCode::UnknownTransport),
            ),
            (
                "POST",
                "EIO=4&transport=polling",
                false,
                Verdict::Refuse(ErrorCode::BadHandshakeMethod),
            ),
            (
                "PUT",
                "EIO=4&transport=polling",
                false,
                Verdict::Refuse(ErrorCode::BadHandshakeMethod),
            ),
            (
                "GET",
                "EIO=4&transport=websocket",
                false,
                Verdict::Refuse(ErrorCode::BadRequest),
            ),
            ("GET", "EIO=4&transport=polling", true, Verdict::Close),
            (
                "POST",
                "EIO=4&transport=polling&sid=s1",
                false,
                Verdict::Session("s1".into()),
            ),
            (
                "GET",
                "transport=websocket&sid=s1",
                true,
                Verdict::Session("s1".into()),
            ),
            ("GET", "transport=polling&sid=s1", true, Verdict::Close),
        ];
        for (method, text, upgrade, verdict) in cases {
            assert_eq!(
                verify(method, &query(text), all, upgrade),
                verdict,
                "{method} {text}"
            );
        }
        let polling_only = Transports {
            polling: true,
            websocket: false,
        };
        assert_eq!(
            verify(
                "GET",
                &query("EIO=4&transport=websocket"),
                polling_only,
                true
            ),
            Verdict::Refuse(ErrorCode::UnknownTransport)
        );
        assert_eq!(check_protocol(&query("EIO=4")), Ok(()));
        for text in ["", "EIO=3", "EIO=abc", "EIO=40"] {
            assert_eq!(
                check_protocol(&query(text)),
                Err(ErrorCode::UnsupportedProtocolVersion)
            );
        }
    }

    #[test]
    fn refusals_are_the_references_json_and_upgrade_refusals_its_text() {
        let response = encoded(&refusal(ErrorCode::UnknownTransport, None));
        assert!(
            response.starts_with("HTTP/1.1 400 Bad Request\r\n"),
            "{response}"
        );
        assert!(response.contains("Content-Type: application/json\r\n"));
        assert!(response.ends_with("\r\n\r\n{\"code\":0,\"message\":\"Transport unknown\"}"));
        let response = encoded(&refusal(ErrorCode::Forbidden, Some("no \"you\"")));
        assert!(response.starts_with("HTTP/1.1 403 Forbidden\r\n"));
        assert!(response.ends_with("{\"code\":4,\"message\":\"no \\\"you\\\"\"}"));
        let codes = [
            (ErrorCode::UnknownSid, 1, "Session ID unknown"),
            (ErrorCode::BadHandshakeMethod, 2, "Bad handshake method"),
            (ErrorCode::BadRequest, 3, "Bad request"),
            (
                ErrorCode::UnsupportedProtocolVersion,
                5,
                "Unsupported protocol version",
            ),
        ];
        for (code, number, message) in codes {
            let response = encoded(&refusal(code, None));
            assert!(
                response.ends_with(&format!("{{\"code\":{number},\"message\":\"{message}\"}}"))
            );
        }
        let response = encoded(&upgrade_refusal(ErrorCode::UnknownSid, None));
        assert!(response.starts_with("HTTP/1.1 400 Bad Request\r\n"));
        assert!(response.ends_with("\r\n\r\nSession ID unknown"));
    }

    #[test]
    fn cors_any_list_credentials_and_preflight() {
        let from = |origin: &str| {
            request(&format!(
                "OPTIONS /engine.io/ HTTP/1.1\r\nHost: a\r\nOrigin: {origin}\r\n\
                 Access-Control-Request-Headers: content-type\r\n\r\n"
            ))
        };
        let ok = || HttpResponse::new(200);
        let any = Cors::any();
        let response = encoded(&with_cors(Some(&any), &from("https://x"), ok()));
        assert!(
            response.contains("Access-Control-Allow-Origin: *\r\n"),
            "{response}"
        );
        assert!(!response.contains("Vary"));
        assert_eq!(
            encoded(&with_cors(None, &from("https://x"), ok())),
            encoded(&ok())
        );

        let list = Cors::origins(["https://good"]).credentials(true);
        let response = encoded(&with_cors(Some(&list), &from("https://good"), ok()));
        assert!(response.contains("Access-Control-Allow-Origin: https://good\r\n"));
        assert!(response.contains("Access-Control-Allow-Credentials: true\r\n"));
        assert!(response.contains("Vary: Origin\r\n"));
        let response = encoded(&with_cors(Some(&list), &from("https://evil"), ok()));
        assert!(
            !response.contains("Access-Control-Allow-Origin"),
            "{response}"
        );

        let response = encoded(&preflight(&any, &from("https://x")));
        assert!(response.starts_with("HTTP/1.1 204 "), "{response}");
        assert!(
            response.contains("Access-Control-Allow-Methods: GET,HEAD,PUT,PATCH,POST,DELETE\r\n")
        );
        assert!(response.contains("Access-Control-Allow-Headers: content-type\r\n"));
        assert!(response.contains("Vary: Access-Control-Request-Headers\r\n"));
        assert!(response.contains("Content-Length: 0\r\n"));
        let mut fixed = Cors::origins(["https://x"]);
        fixed.allowed_headers = Some(vec!["a".into(), "b".into()]);
        fixed.max_age = Some(std::time::Duration::from_secs(600));
        fixed.exposed_headers = vec!["x-id".into()];
        let response = encoded(&preflight(&fixed, &from("https://x")));
        assert!(response.contains("Access-Control-Allow-Headers: a,b\r\n"));
        assert!(response.contains("Access-Control-Max-Age: 600\r\n"));
        assert!(response.contains("Access-Control-Expose-Headers: x-id\r\n"));
        assert!(response.contains("Vary: Origin\r\n"));
    }

    #[test]
    fn old_internet_explorer_gets_its_xss_filter_off() {
        let ie =
            request("GET / HTTP/1.1\r\nHost: a\r\nUser-Agent: Mozilla/5.0 (Trident/7.0)\r\n\r\n");
        let response = encoded(&polling_headers(&ie, HttpResponse::new(200)));
        assert!(response.contains("Cache-Control: no-store\r\n"));
        assert!(response.contains("X-XSS-Protection: 0\r\n"));
        let other = request("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        assert!(!encoded(&polling_headers(&other, HttpResponse::new(200))).contains("X-XSS"));
    }
}
