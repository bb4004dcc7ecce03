//! The testee for the official Socket.IO v5 protocol test suite (socketio/socket.io,
//! `docs/socket.io-protocol/v5-test-suite/`, fetched separately: see
//! `scripts/protocol-suites.sh`). It serves what the suite expects of a server:
//!
//! - Engine.IO on `/socket.io/` with a 300 ms ping interval and a 200 ms ping timeout;
//! - the namespaces `/` and `/custom` (any other is refused: "Invalid namespace");
//! - on each connection, an `auth` event carrying the handshake's auth payload;
//! - `message` answered with `message-back` and the same arguments (binary ones too);
//! - `message-with-ack` answered with an ack of the same arguments;
//! - a session that joins no namespace closed after 1 s, within the suite's 2 s per case.
//!
//! ```text
//! cargo run --features socketio --example socketio_protocol_suite -- [ADDR]
//! scripts/protocol-suites.sh [DIR]    # builds this, runs the suite against it
//! ```
//!
//! `ADDR` defaults to `127.0.0.1:3000`, where the suite looks (`http://localhost:3000`).
//! One worker, as the reference is one thread: the suite's "forcefully close the session"
//! sends a long-polling `GET` and `POST` at once and expects them handled in that order.

use std::time::Duration;

use rfc6455::events::{Handlers, Server};
use rfc6455::handshake::HttpResponse;
use rfc6455::socketio::{EngineConfig, Namespace, SocketIoConfig, SocketIoServer};

fn main() {
    if let Err(error) = run() {
        eprintln!("socketio_protocol_suite: {error}");
        std::process::exit(1);
    }
}

/// What the suite expects of every socket of `namespace`. Sends are refused only once the
/// socket or its session is gone: nothing to do then.
fn serve(namespace: &Namespace) {
    namespace.on_connection(|socket| {
        let auth = socket.handshake().auth().clone();
        let _ = socket.emit("auth", vec![auth]);
        socket.on("message", |socket, args, _ack| {
            let _ = socket.emit("message-back", args);
        });
        socket.on("message-with-ack", |_socket, args, ack| {
            if let Some(ack) = ack {
                let _ = ack.send(args);
            }
        });
    });
}

fn run() -> std::io::Result<()> {
    let address = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:3000".to_owned());
    let defaults = SocketIoConfig::default();
    let config = SocketIoConfig {
        engine: EngineConfig {
            ping_interval: Duration::from_millis(300),
            ping_timeout: Duration::from_millis(200),
            ..defaults.engine
        },
        connect_timeout: Duration::from_secs(1),
        ..defaults
    };
    let io = SocketIoServer::new(config)?;
    serve(&io.of("/"));
    serve(&io.of("/custom"));
    let server = Server::new(Handlers::<()>::new())
        .workers(1)
        .on_http(|_| HttpResponse::text(404, "Socket.IO lives at /socket.io/"));
    let loops = io.attach(server).bind(&address)?;
    println!(
        "socket.io protocol suite testee on http://{}/socket.io/",
        loops.local_addr().map_or(address, |a| a.to_string())
    );
    loops.run()
}
