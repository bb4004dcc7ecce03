//! An echo server on the tokio adapter (feature `tokio`), one task per connection on a
//! `current_thread` runtime: the Autobahn testee and the benchmark server for the adapter.
//!
//! ```text
//! cargo run --release --features tokio --example tokio_echo -- 127.0.0.1:9001
//! ```

use std::sync::Arc;

use rfc6455::Config;
use tokio::net::TcpListener;

fn main() -> std::io::Result<()> {
    let address = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9001".to_owned());
    let config = Arc::new(Config {
        // Autobahn 9.* echoes messages of up to 16 MiB, and a peer that reads them back
        // slowly must not stall the echo.
        max_write_buffer: 64 << 20,
        ..Config::default()
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = TcpListener::bind(&address).await?;
        println!("tokio echo server listening on ws://{address}");
        loop {
            let (tcp, _) = listener.accept().await?;
            tcp.set_nodelay(true)?;
            let config = config.clone();
            tokio::spawn(async move {
                let accepted =
                    rfc6455::tokio::accept_with(tcp, &config, |_| Ok(Default::default())).await;
                let Ok(mut socket) = accepted else {
                    return;
                };
                // `feed` queues without writing: the next `recv` writes everything queued
                // before it waits, so a read that brings many messages is answered with one
                // write.
                while let Some(Ok(message)) = socket.recv().await {
                    if socket.feed(message).await.is_err() {
                        break;
                    }
                }
            });
        }
    })
}
