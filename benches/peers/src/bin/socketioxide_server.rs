//! Socket.IO server on socketioxide, for scripts/bench-socketio-broadcast.sh and
//! scripts/bench-socketio.sh: `socketioxide_server ADDR`.
//!
//! What examples/socketio_echo.rs and socketio_echo.mjs do on namespace `/`: an event
//! `bcast` is emitted, with its argument, to every socket of the namespace; an event `echo`
//! comes back as it was sent, as the same event (acks are not answered: the library's
//! `AckSender` does not tell whether the client asked for one). As the library's
//! hyper example: its service served by hyper 1 with upgrades, here on a current_thread
//! runtime like the other peers, WebSocket transport only, the common (JSON) parser, no
//! per-message compression, default heartbeat.

use hyper::server::conn::http1;
use serde_json::Value;
use socketioxide::extract::{Data, SocketRef};
use socketioxide::{SocketIo, TransportType};
use tokio::net::TcpListener;

async fn on_connect(socket: SocketRef) {
    socket.on("bcast", async |io: SocketIo, Data::<Value>(argument)| {
        // Refused only while the server shuts down: nothing to do then.
        let _ = io.emit("bcast", &argument).await;
    });
    socket.on(
        "echo",
        async |socket: SocketRef, Data::<Value>(argument)| {
            // Refused only once the socket is gone or its buffer full: the load sees that.
            let _ = socket.emit("echo", &argument);
        },
    );
}

fn main() -> std::io::Result<()> {
    let address = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:3000".to_owned());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let (service, io) = SocketIo::builder()
            .transports([TransportType::Websocket])
            .build_svc();
        io.ns("/", on_connect);
        let listener = TcpListener::bind(&address).await?;
        println!("socketioxide server on http://{address}/socket.io/");
        loop {
            let (stream, _) = listener.accept().await?;
            // As the other servers: no Nagle delay.
            let _ = stream.set_nodelay(true);
            let service = service.clone();
            tokio::spawn(async move {
                let io = hyper_util::rt::TokioIo::new(stream);
                let _ = http1::Builder::new()
                    .serve_connection(io, service)
                    .with_upgrades()
                    .await;
            });
        }
    })
}
