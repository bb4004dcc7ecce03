//! Interop over TLS (feature `tls`), with the same peers and exchanges as the plain tests:
//! Node `ws` and Python `websockets` clients against our `wss://` server, our blocking and
//! event-loop clients against their `wss://` servers, and headless Chromium using the chat
//! page over `https://` and `wss://` in two tabs. The certificates are made at test time
//! (`support::certs`) and written to a private temporary directory for the peers, deleted
//! when the test ends.
//!
//! ```text
//! scripts/install-peers.sh
//! cargo build --features tls --example chat    # the Chromium test runs it with --tls
//! cargo test --features tls --test interop -- --include-ignored tls::
//! ```

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use rfc6455::blocking::WebSocket;
use rfc6455::events::{Handlers, Server, Spawned};
use rfc6455::handshake::{ClientRequest, Url};
use rfc6455::tls::{TlsAcceptor, TlsConnector, TlsError};
use rfc6455::{CloseCode, Config, Error, Event};

use super::support::{PATIENCE, certs};
use super::{PeerServer, chromium_chat, exchange, our_client_exchange, run_peer};

/// A fresh test CA and server identity (`localhost`, 127.0.0.1), also as PEM files in a
/// directory only we can read, removed on drop.
struct CertFiles {
    certs: certs::TestCerts,
    dir: PathBuf,
}

impl CertFiles {
    fn new() -> CertFiles {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "rfc6455-tls-interop-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(&dir).expect("a private temporary directory");
        let certs = certs::localhost();
        let end = "-----END CERTIFICATE-----";
        let leaf_end = certs.chain.find(end).expect("a certificate in the chain") + end.len();
        for (name, pem) in [
            ("ca.pem", certs.ca.as_str()),
            ("chain.pem", certs.chain.as_str()),
            ("leaf.pem", &certs.chain[..leaf_end]),
            ("key.pem", certs.key.as_str()),
        ] {
            std::fs::write(dir.join(name), pem).unwrap();
        }
        CertFiles { certs, dir }
    }

    /// The path of one of the files: `ca.pem`, `chain.pem` (the server's certificate, then
    /// the CA's), `leaf.pem` (the server's certificate alone) or `key.pem`.
    fn path(&self, name: &str) -> String {
        self.dir.join(name).to_str().unwrap().to_owned()
    }

    /// A connector that trusts this CA only.
    fn connector(&self) -> TlsConnector {
        TlsConnector::with_ca_pem(self.certs.ca.as_bytes()).unwrap()
    }
}

impl Drop for CertFiles {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Our echo server on `wss://127.0.0.1:port` with this identity.
fn tls_echo_server(files: &CertFiles) -> Spawned {
    let acceptor =
        TlsAcceptor::from_pem(files.certs.chain.as_bytes(), files.certs.key.as_bytes()).unwrap();
    Server::new(Handlers::<()>::new().on_message(|socket, message| {
        socket.send(message).unwrap();
    }))
    .bind_tls("127.0.0.1:0", acceptor)
    .unwrap()
    .spawn()
    .unwrap()
}

/// A peer's client runs its exchange against our TLS echo server at `host`, trusting the
/// test CA only.
fn peer_client_against_our_tls_server(program: &str, script: &str, host: &str, deflate: bool) {
    let files = CertFiles::new();
    let server = tls_echo_server(&files);
    let url = format!("wss://{host}:{}/", server.local_addr().unwrap().port());
    let ca = files.path("ca.pem");
    let mut args = vec![url.as_str(), "--ca", ca.as_str()];
    if deflate {
        args.push("--deflate");
    }
    run_peer(program, script, &args);
    server.shutdown().unwrap();
}

#[test]
#[ignore = "needs the interop peers: scripts/install-peers.sh"]
fn node_ws_client_against_our_tls_server() {
    peer_client_against_our_tls_server("node", "node_client.mjs", "localhost", false);
}

#[test]
#[ignore = "needs the interop peers: scripts/install-peers.sh"]
fn node_ws_client_with_permessage_deflate_against_our_tls_server() {
    peer_client_against_our_tls_server("node", "node_client.mjs", "127.0.0.1", true);
}

#[test]
#[ignore = "needs the interop peers: scripts/install-peers.sh"]
fn python_websockets_client_against_our_tls_server() {
    peer_client_against_our_tls_server("python3", "python_client.py", "127.0.0.1", false);
}

#[test]
#[ignore = "needs the interop peers: scripts/install-peers.sh"]
fn python_websockets_client_with_permessage_deflate_against_our_tls_server() {
    peer_client_against_our_tls_server("python3", "python_client.py", "localhost", true);
}

/// A peer's echo server on `wss://`, with this identity.
fn peer_tls_server(program: &str, script: &str, files: &CertFiles) -> PeerServer {
    let (chain, key) = (files.path("chain.pem"), files.path("key.pem"));
    PeerServer::start(program, script, &["--tls", &chain, &key])
}

/// Our blocking client runs the exchange against a peer's `wss://` echo server, by name
/// (`localhost`: SNI and a DNS name to check), then closes with 1000 "done"; the peer must
/// report that close.
fn our_blocking_client_against(program: &str, script: &str) {
    let files = CertFiles::new();
    let peer = peer_tls_server(program, script, &files);
    let url = Url::parse(&format!("wss://localhost:{}/", peer.port)).unwrap();
    let request = ClientRequest::from_url(&url);
    let (mut socket, _) =
        WebSocket::connect_tls(&url, &request, &Config::default(), &files.connector()).unwrap();
    socket.set_read_timeout(Some(PATIENCE));
    // One message at a time: a blocking client that wrote 1 MiB before reading any echo
    // could fill both directions' buffers against a peer that echoes as it reads.
    for (index, message) in exchange().into_iter().enumerate() {
        socket.send(message.clone()).unwrap();
        match socket.read().unwrap() {
            Event::Message(echoed) => assert_eq!(echoed, message, "message {index}"),
            other => panic!("message {index}: {other:?}"),
        }
    }
    socket.close(CloseCode::NORMAL, "done").unwrap();
    // As a client should (RFC 6455 section 7.1.1): wait for the server to end the TCP
    // connection (it reports the close once both sides did), then end it.
    socket.shutdown(PATIENCE).unwrap();
    let report = peer.lines.recv_timeout(PATIENCE).unwrap();
    assert_eq!(report, "CLOSED 1000 done");
}

#[test]
#[ignore = "needs the interop peers: scripts/install-peers.sh"]
fn our_blocking_client_against_a_node_ws_tls_server() {
    our_blocking_client_against("node", "node_server.mjs");
}

#[test]
#[ignore = "needs the interop peers: scripts/install-peers.sh"]
fn our_blocking_client_against_a_python_websockets_tls_server() {
    our_blocking_client_against("python3", "python_server.py");
}

/// Our event-loop client runs the exchange against a peer's `wss://` echo server, by
/// address (127.0.0.1: an IP address to check against the certificate).
fn our_event_client_against(program: &str, script: &str) {
    let files = CertFiles::new();
    let peer = peer_tls_server(program, script, &files);
    let url = format!("wss://127.0.0.1:{}/", peer.port);
    let connector = files.connector();
    our_client_exchange(&peer, &url, false, |client| client.tls(connector));
}

#[test]
#[ignore = "needs the interop peers: scripts/install-peers.sh"]
fn our_event_client_against_a_node_ws_tls_server() {
    our_event_client_against("node", "node_server.mjs");
}

#[test]
#[ignore = "needs the interop peers: scripts/install-peers.sh"]
fn our_event_client_against_a_python_websockets_tls_server() {
    our_event_client_against("python3", "python_server.py");
}

#[test]
#[ignore = "needs the interop peers: scripts/install-peers.sh"]
fn our_client_refuses_a_peer_certificate_from_another_ca() {
    let files = CertFiles::new();
    let peer = peer_tls_server("node", "node_server.mjs", &files);
    let stranger = CertFiles::new();
    let url = Url::parse(&format!("wss://localhost:{}/", peer.port)).unwrap();
    let request = ClientRequest::from_url(&url);
    let refused = WebSocket::connect_tls(&url, &request, &Config::default(), &stranger.connector());
    match refused {
        Err(Error::Tls(TlsError::Certificate(rustls::CertificateError::UnknownIssuer))) => {}
        Err(other) => panic!("expected an unknown issuer, got {other}"),
        Ok(_) => panic!("a certificate from another CA was accepted"),
    }
}

#[test]
#[ignore = "needs the interop peers: scripts/install-peers.sh"]
fn chromium_uses_the_chat_page_over_https_in_two_tabs() {
    let files = CertFiles::new();
    let (chain, key, leaf) = (
        files.path("chain.pem"),
        files.path("key.pem"),
        files.path("leaf.pem"),
    );
    chromium_chat(
        &["--tls", &chain, &key],
        "chat on https://",
        |port| format!("https://localhost:{port}/"),
        &["--trust-cert", &leaf],
    );
}
