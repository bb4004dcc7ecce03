//! A Socket.IO v5 echo server: every event a client emits, on `/` or `/admin`, comes back
//! as it was sent (binary arguments too): in the ack when the client asked for one
//! (`socket.emitWithAck(...)` resolves with it), else as the same event. But the event
//! `bcast` is broadcast, with its arguments, to every socket of the namespace it came on,
//! its sender included (what scripts/bench-socketio.sh --broadcast measures).
//!
//! ```text
//! cargo run --features socketio --example socketio_echo -- [ADDR]
//! cargo run --features socketio,redis --example socketio_echo -- ADDR --redis redis://127.0.0.1:6379
//! ```
//!
//! `ADDR` defaults to `127.0.0.1:3000`. With Node and socket.io-client v4:
//! `const s = io("http://127.0.0.1:3000"); await s.emitWithAck("hi", 1)` gives `1`.
//!
//! With `--redis URL` (feature `redis`) the server is one node of a Socket.IO cluster on
//! that Redis (`rfc6455::redis::SocketIoAdapter`): a `bcast` made on any node reaches every
//! socket of every node (what scripts/bench-redis.sh measures).

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
    let mut address = "127.0.0.1:3000".to_owned();
    let mut redis = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--redis" {
            redis = Some(args.next().ok_or_else(|| {
                std::io::Error::new(std::io::ErrorKind::InvalidInput, "--redis needs a URL")
            })?);
        } else {
            address = arg;
        }
    }
    let io = SocketIoServer::new(SocketIoConfig::default())?;
    echo(&io.of("/"));
    echo(&io.of("/admin"));
    // Kept until the server stops: dropping it would leave the cluster.
    let _cluster = join_cluster(redis.as_deref(), &io)?;
    let server = Server::new(Handlers::<()>::new())
        .on_http(|_| HttpResponse::text(404, "Socket.IO lives at /socket.io/"));
    let loops = io.attach(server).bind(&address)?;
    println!(
        "socket.io echo server on http://{}/socket.io/",
        loops.local_addr().map_or(address, |a| a.to_string())
    );
    loops.run()
}

/// Makes `io` a node of the Socket.IO cluster on the Redis at `url`, if one is given.
#[cfg(feature = "redis")]
fn join_cluster(
    url: Option<&str>,
    io: &SocketIoServer,
) -> std::io::Result<Option<rfc6455::redis::SocketIoAdapter>> {
    use rfc6455::redis::{SocketIoAdapter, SocketIoAdapterConfig};
    url.map(|url| SocketIoAdapter::attach(url, io, SocketIoAdapterConfig::default()))
        .transpose()
}

/// Without the feature `redis` there is no cluster to join.
#[cfg(not(feature = "redis"))]
fn join_cluster(url: Option<&str>, _io: &SocketIoServer) -> std::io::Result<Option<()>> {
    match url {
        Some(_) => Err(std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            "--redis needs the feature redis",
        )),
        None => Ok(None),
    }
}
