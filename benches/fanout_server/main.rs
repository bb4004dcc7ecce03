//! The broadcast benchmark's server: connections on `/sub` join the room "bench"; every
//! message a connection on `/pub` sends is broadcast to the room, encoded once.
//!
//! ```text
//! cargo bench --bench fanout_server -- 127.0.0.1:9001 [workers]
//! ```
//!
//! Driven by the load generator's broadcast mode (`benches/load`).

use rfc6455::EncodedMessage;
use rfc6455::events::{Handlers, Server};
use rfc6455::{Config, Message};

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    let address = args.next().unwrap_or_else(|| "127.0.0.1:9001".to_owned());
    let workers = args.next().and_then(|n| n.parse().ok()).unwrap_or(1);
    let config = Config {
        // As the other servers in the benchmark: no compression.
        #[cfg(feature = "deflate")]
        deflate: None,
        ..Config::default()
    };
    let runtime = Server::new(
        Handlers::<()>::new()
            .on_open(|socket| {
                if socket.path() == "/sub" {
                    socket.join("bench");
                }
            })
            .on_message(|socket, message| {
                if socket.path() == "/pub" {
                    let frame = match &message {
                        Message::Text(text) => EncodedMessage::text(text),
                        Message::Binary(data) => EncodedMessage::binary(data),
                    };
                    let _ = socket.to("bench").send(&frame);
                }
            }),
    )
    .config(config)
    .workers(workers)
    .bind(&address)?;
    println!("listening on {address}");
    runtime.run()
}
