//! Echo server on tokio-tungstenite, for scripts/bench.sh: `tokio_tungstenite_echo ADDR`.
//!
//! The library's own echo-server example (split the stream, forward text and binary messages
//! back to the sink; `forward` flushes only when no further message is ready, so pipelined
//! echoes are written together), on a current_thread runtime. tungstenite answers pings and
//! close frames itself. No compression (tungstenite has none); message limit 64 MiB.

use futures_util::{StreamExt, TryStreamExt, future};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

const LIMIT: usize = 64 << 20;

fn main() -> std::io::Result<()> {
    let address = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9303".to_owned());
    let runtime = rfc6455_bench_peers::current_thread_runtime()?;
    runtime.block_on(async move {
        let listener = TcpListener::bind(&address).await?;
        println!("listening on {address}");
        loop {
            let (stream, _) = listener.accept().await?;
            tokio::spawn(serve(stream));
        }
    })
}

async fn serve(stream: TcpStream) {
    // As the other servers (uWS, ws, rfc6455) do: no Nagle delay on echoes.
    let _ = stream.set_nodelay(true);
    let config = WebSocketConfig::default()
        .max_message_size(Some(LIMIT))
        .max_frame_size(Some(LIMIT));
    let Ok(ws) = tokio_tungstenite::accept_async_with_config(stream, Some(config)).await else {
        return;
    };
    let (write, read) = ws.split();
    // Errors (a peer that vanished, a close after the peer's close) just end the connection.
    let _ = read
        .try_filter(|message| future::ready(message.is_text() || message.is_binary()))
        .forward(write)
        .await;
}
