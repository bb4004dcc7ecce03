//! An echo server on the event loop: every text and binary message comes back as it was
//! sent. It is the Autobahn testsuite's server testee and the benchmark's server:
//!
//! ```text
//! cargo run --release --example echo -- 127.0.0.1:9001 [workers]
//! ```

use rfc6455::Config;
use rfc6455::events::{Handlers, Server};

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let address = args.next().unwrap_or_else(|| "127.0.0.1:9001".to_owned());
    let workers = args.next().and_then(|n| n.parse().ok()).unwrap_or(1);
    let config = Config {
        // Autobahn 9.* echoes messages of up to 16 MiB, and a peer that reads them back
        // slowly must not trip the write-queue bound.
        max_write_buffer: 64 << 20,
        ..Config::default()
    };
    let runtime = Server::new(Handlers::<()>::new().on_message(|socket, message| {
        // A send fails only once the socket is closing; nothing to do then.
        let _ = socket.send(message);
    }))
    .config(config)
    .workers(workers)
    .bind(&address)?;
    println!("echo server listening on ws://{address} with {workers} worker(s)");
    runtime.run()
}
