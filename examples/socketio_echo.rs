//! A Socket.IO v5 echo server: every event a client emits, on `/` or `/admin`, comes back
//! as it was sent (binary arguments too): in the ack when the client asked for one
//! (`socket.emitWithAck(...)` resolves with it), else as the same event. But the event
//! `bcast` is broadcast, with its arguments, to every socket of the namespace it came on,
//! its sender included (what scripts/bench-socketio.sh --broadcast measures).
//!
//! ```text
//! cargo run --features socketio --example socketio_echo -- [ADDR]
//! ```
//!
//! `ADDR` defaults to `127.0.0.1:3000`. With Node and socket.io-client v4:
//! `const s = io("http://127.0.0.1:3000"); await s.emitWithAck("hi", 1)` gives `1`.

use rfc6455::events::{Handlers, Server};
use rfc6455::handshake::HttpResponse;
use rfc6455::socketio::{Namespace, SocketIoConfig, SocketIoServer};

fn main() {
    if let Err(error) = run() {
        eprintln!("socketio_echo: {error}");
        std::process::exit(1);
    }
}

/// Echoes every event of every socket of `namespace`, but broadcasts `bcast` to all of them.
fn echo(namespace: &Namespace) {
    let everyone = namespace.clone();
    namespace.on_connection(move |socket| {
        println!("{} joined {}", socket.id(), socket.namespace());
        let everyone = everyone.clone();
        socket.on("bcast", move |_, args, _| {
            // Refused only for arguments that cannot be encoded: none come from the wire.
            let _ = everyone.emit("bcast", args);
        });
        socket.on_fallback(|socket, event, args, ack| {
            // Refused only once the socket or its session is gone: nothing to do then.
            let _ = match ack {
                Some(ack) => ack.send(args),
                None => socket.emit(event, args),
            };
        });
        socket.on_disconnect(|socket, reason| println!("{} left: {reason}", socket.id()));
    });
}

fn run() -> std::io::Result<()> {
    let address = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:3000".to_owned());
    let io = SocketIoServer::new(SocketIoConfig::default())?;
    echo(&io.of("/"));
    echo(&io.of("/admin"));
    let server = Server::new(Handlers::<()>::new())
        .on_http(|_| HttpResponse::text(404, "Socket.IO lives at /socket.io/"));
    let loops = io.attach(server).bind(&address)?;
    println!(
        "socket.io echo server on http://{}/socket.io/",
        loops.local_addr().map_or(address, |a| a.to_string())
    );
    loops.run()
}
