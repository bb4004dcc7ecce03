//! TLS echo server on tokio-tungstenite over tokio-rustls, for scripts/bench-tls.sh:
//! `tokio_tungstenite_tls_echo ADDR CERT_PEM KEY_PEM`.
//!
//! tokio_tungstenite_echo's server (the library's echo example on a current_thread runtime)
//! behind the way tokio-rustls' own server example accepts: `TlsAcceptor::accept` on each
//! TCP stream, then the WebSocket upgrade over the TLS stream. rustls 0.23 with the *ring*
//! provider, TLS 1.3 and 1.2, ALPN `http/1.1`, its default session settings (as rfc6455's
//! `TlsAcceptor::from_pem_files`). No compression; message limit 64 MiB.

use std::sync::Arc;

use futures_util::{StreamExt, TryStreamExt, future};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::{self, ServerConfig};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

const LIMIT: usize = 64 << 20;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let address = args.next().unwrap_or_else(|| "127.0.0.1:9304".to_owned());
    let (Some(cert), Some(key)) = (args.next(), args.next()) else {
        eprintln!("usage: tokio_tungstenite_tls_echo ADDR CERT_PEM KEY_PEM");
        std::process::exit(2);
    };
    let chain = CertificateDer::pem_file_iter(&cert)
        .and_then(|certificates| certificates.collect::<Result<Vec<_>, _>>())
        .map_err(std::io::Error::other)?;
    let key = PrivateKeyDer::from_pem_file(&key).map_err(std::io::Error::other)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(rustls::DEFAULT_VERSIONS)
        .map_err(std::io::Error::other)?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(std::io::Error::other)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let runtime = rfc6455_bench_peers::current_thread_runtime()?;
    runtime.block_on(async move {
        let listener = TcpListener::bind(&address).await?;
        println!("listening on wss://{address}");
        loop {
            let (stream, _) = listener.accept().await?;
            tokio::spawn(serve(acceptor.clone(), stream));
        }
    })
}

async fn serve(acceptor: TlsAcceptor, stream: TcpStream) {
    // As the other servers do: no Nagle delay on echoes.
    let _ = stream.set_nodelay(true);
    let Ok(stream) = acceptor.accept(stream).await else {
        return;
    };
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
