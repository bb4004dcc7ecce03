//! Echo server on fastwebsockets, for scripts/bench.sh: `fastwebsockets_echo ADDR`.
//!
//! As the library's echo_server example: hyper 1 serves the HTTP/1.1 upgrade
//! (`fastwebsockets::upgrade`), a `FragmentCollector` reassembles fragmented messages so they
//! are echoed whole, auto-close and auto-pong answer control frames, and the connection task
//! runs `unconstrained`, on a current_thread runtime. No compression (fastwebsockets has
//! none); message limit 64 MiB.

use fastwebsockets::{FragmentCollector, OpCode, WebSocketError, upgrade};
use http_body_util::Empty;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use tokio::net::TcpListener;

const LIMIT: usize = 64 << 20;

async fn handle_client(upgrade: upgrade::UpgradeFut) -> Result<(), WebSocketError> {
    let mut ws = upgrade.await?;
    ws.set_auto_close(true);
    ws.set_auto_pong(true);
    ws.set_max_message_size(LIMIT);
    let mut ws = FragmentCollector::new(ws);
    loop {
        let frame = ws.read_frame().await?;
        match frame.opcode {
            OpCode::Close => break,
            OpCode::Text | OpCode::Binary => ws.write_frame(frame).await?,
            _ => {}
        }
    }
    Ok(())
}

async fn server_upgrade(
    mut request: Request<Incoming>,
) -> Result<Response<Empty<Bytes>>, WebSocketError> {
    let (response, upgrade) = upgrade::upgrade(&mut request)?;
    tokio::spawn(async move {
        // Errors (a peer that vanished mid-message) just end the connection.
        let _ = tokio::task::unconstrained(handle_client(upgrade)).await;
    });
    Ok(response)
}

fn main() -> std::io::Result<()> {
    let address = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9302".to_owned());
    let runtime = rfc6455_bench_peers::current_thread_runtime()?;
    runtime.block_on(async move {
        let listener = TcpListener::bind(&address).await?;
        println!("listening on {address}");
        loop {
            let (stream, _) = listener.accept().await?;
            // As the other servers (uWS, ws, rfc6455) do: no Nagle delay on echoes.
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let io = hyper_util::rt::TokioIo::new(stream);
                let _ = http1::Builder::new()
                    .serve_connection(io, service_fn(server_upgrade))
                    .with_upgrades()
                    .await;
            });
        }
    })
}
