//! An axum app with a WebSocket route served by the tokio adapter (feature `tokio`): the
//! handler checks the upgrade with the crate's own handshake, answers it through axum,
//! and hands the upgraded connection to `WebSocketStream::from_connection`. This is how a
//! service that already runs axum or hyper mounts the crate.
//!
//! ```text
//! cargo run --release --features tokio --example axum_echo -- 127.0.0.1:3000
//! # then: ws://127.0.0.1:3000/ws echoes; http://127.0.0.1:3000/ is a plain page
//! ```

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use axum::routing::get;
use hyper_util::rt::TokioIo;
use rfc6455::Config;
use rfc6455::handshake::{Accept, HttpResponse, Incoming, ServerHandshake};
use rfc6455::tokio::WebSocketStream;

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let address = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:3000".to_owned());
    let app = Router::new()
        .route("/", get(|| async { "the WebSocket echo is at /ws" }))
        .route("/ws", get(websocket));
    let listener = tokio::net::TcpListener::bind(&address).await?;
    println!("axum on http://{address}/, WebSocket echo on ws://{address}/ws");
    axum::serve(listener, app).await
}

/// Upgrades `/ws` into an echo.
pub async fn websocket(request: Request) -> Response {
    let config = Config::default();
    // The crate's handshake checks the request, from its head as it came.
    let mut head = format!("{} {} HTTP/1.1\r\n", request.method(), request.uri()).into_bytes();
    for (name, value) in request.headers() {
        head.extend_from_slice(name.as_str().as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(b"\r\n");
    let upgrade = match ServerHandshake::new(&config).receive(&head) {
        Ok(Some(Incoming::Upgrade(upgrade))) => upgrade,
        Ok(_) => return response(&encode(&HttpResponse::text(426, "WebSocket only"))),
        Err(error) => return response(&encode(&HttpResponse::from(&error))),
    };
    let (switching, connection) = match upgrade.accept(&Accept::new(), &config) {
        Ok(accepted) => accepted,
        Err(error) => return response(&encode(&HttpResponse::text(500, error.to_string()))),
    };
    // Once axum has written the 101, the connection is ours.
    tokio::spawn(async move {
        let upgraded = match hyper::upgrade::on(request).await {
            Ok(upgraded) => upgraded,
            Err(error) => return eprintln!("upgrade failed: {error}"),
        };
        let transport = TokioIo::new(upgraded);
        let mut socket = WebSocketStream::from_connection(transport, connection, &config);
        while let Some(Ok(message)) = socket.recv().await {
            if socket.send(message).await.is_err() {
                break;
            }
        }
    });
    response(&switching)
}

fn encode(response: &HttpResponse) -> Vec<u8> {
    response.encode().unwrap_or_default()
}

/// An HTTP response the crate wrote (the 101, or a refusal), as axum's.
fn response(bytes: &[u8]) -> Response {
    let text = String::from_utf8_lossy(bytes);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse::<u16>().ok())
        .unwrap_or(500);
    let mut builder = Response::builder().status(status);
    for line in lines {
        if let Some((name, value)) = line.split_once(": ") {
            // hyper writes these itself.
            if !name.eq_ignore_ascii_case("content-length") {
                builder = builder.header(name, value);
            }
        }
    }
    builder
        .body(Body::from(body.to_owned()))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}
