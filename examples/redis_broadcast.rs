//! The plain event API as one node of a cluster through Redis (`rfc6455::redis::Cluster`):
//! every text or binary message a client sends is broadcast, encoded once, to every socket
//! of every node, its sender included (what scripts/bench-redis.sh measures beside the
//! Socket.IO nodes).
//!
//! ```text
//! cargo run --release --features redis --example redis_broadcast -- ADDR redis://127.0.0.1:6379
//! ```

use rfc6455::events::{Handlers, Server};
use rfc6455::redis::{Cluster, ClusterConfig};
use rfc6455::{Config, EncodedMessage, Message};

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let address = args.next().unwrap_or_else(|| "127.0.0.1:9001".to_owned());
    let redis = args
        .next()
        .unwrap_or_else(|| "redis://127.0.0.1:6379".to_owned());
    let config = Config {
        // As the Socket.IO nodes it is compared with: no compression.
        #[cfg(feature = "deflate")]
        deflate: None,
        ..Config::default()
    };
    let handlers = Handlers::<()>::new().on_message(|socket, message| {
        let frame = match &message {
            Message::Text(text) => EncodedMessage::text(text),
            Message::Binary(data) => EncodedMessage::binary(data),
        };
        // Refused only once the loop is gone: nothing to do then.
        let _ = socket.broadcast().send(&frame);
    });
    let loops = Server::new(handlers).config(config).bind(&address)?;
    // Kept until the server stops: dropping it would leave the cluster.
    let _cluster = Cluster::join(&redis, &loops.handle(), ClusterConfig::default())?;
    println!("broadcast node on ws://{address}/, cluster on {redis}");
    loops.run()
}
