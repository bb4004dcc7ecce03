//! wss:// through the public API (feature `tls`): the runtime's server and client and the
//! blocking driver over TLS on 127.0.0.1, with certificates made at test time.
#![cfg(feature = "tls")]

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::mpsc;
use std::time::Duration;

use rfc6455::blocking::{ClientStream, WebSocket};
use rfc6455::events::{Client, Handlers, Server, Spawned};
use rfc6455::handshake::{ClientRequest, Url};
use rfc6455::tls::{TlsAcceptor, TlsConnector, TlsError};
use rfc6455::{CapacityError, CloseCode, Config, Error, Event, Message};

use support::{PATIENCE, certs};

const KIB: usize = 1024;

fn echo_handlers() -> Handlers<()> {
    Handlers::<()>::new().on_message(|socket, message| {
        let _ = socket.send(message);
    })
}

fn acceptor(certs: &certs::TestCerts) -> TlsAcceptor {
    TlsAcceptor::from_pem(certs.chain.as_bytes(), certs.key.as_bytes()).unwrap()
}

fn tls_server(handlers: Handlers<()>, certs: &certs::TestCerts, config: Config) -> Spawned {
    Server::new(handlers)
        .config(config)
        .bind_tls("127.0.0.1:0", acceptor(certs))
        .unwrap()
        .spawn()
        .unwrap()
}

fn connect(url: &str, connector: &TlsConnector) -> Result<WebSocket<ClientStream>, Error> {
    let url = Url::parse(url)?;
    let request = ClientRequest::from_url(&url);
    let (mut socket, _) = WebSocket::connect_tls(&url, &request, &Config::default(), connector)?;
    socket.set_read_timeout(Some(PATIENCE));
    Ok(socket)
}

fn trusting(certs: &certs::TestCerts) -> TlsConnector {
    TlsConnector::with_ca_pem(certs.ca.as_bytes()).unwrap()
}

/// The next message, past keep-alive pings.
fn next_message(socket: &mut WebSocket<ClientStream>) -> Message {
    loop {
        match socket.read().unwrap() {
            Event::Message(message) => return message,
            Event::Ping(_) | Event::Pong(_) => {}
            other => panic!("{other:?}"),
        }
    }
}

fn echo_round_trips(socket: &mut WebSocket<ClientStream>) {
    for size in [0, 1, 125, 126, 65_535, 65_536, 1 << 20] {
        let payload = vec![b'x'; size];
        socket.send(payload).unwrap();
        match next_message(socket) {
            Message::Binary(echoed) => assert_eq!(echoed.len(), size),
            other => panic!("{other:?}"),
        }
    }
    socket.send("héllo").unwrap();
    assert_eq!(next_message(socket).as_text(), Some("héllo"));
}

/// Round trips, then the close handshake; the socket is dropped (its TCP closed) after.
fn echo_and_close(mut socket: WebSocket<ClientStream>) {
    echo_round_trips(&mut socket);
    socket.close(CloseCode::NORMAL, "").unwrap();
}

#[test]
fn a_blocking_client_echoes_over_wss_by_name_and_by_address() {
    let certs = certs::localhost();
    let server = tls_server(echo_handlers(), &certs, Config::default());
    let port = server.local_addr().unwrap().port();
    for host in ["localhost", "127.0.0.1"] {
        let mut socket = connect(&format!("wss://{host}:{port}/"), &trusting(&certs)).unwrap();
        echo_round_trips(&mut socket);
        socket.close(CloseCode::NORMAL, "bye").unwrap();
    }
    server.shutdown().unwrap();
}

#[test]
fn plain_and_tls_listeners_serve_side_by_side_in_one_server() {
    let certs = certs::localhost();
    let mut loops = Server::new(echo_handlers())
        .workers(2)
        .bind_tls("127.0.0.1:0", acceptor(&certs))
        .unwrap();
    let tls_port = loops.local_addr().unwrap().port();
    let plain = loops.listen("127.0.0.1:0").unwrap();
    let second_tls = loops.listen_tls("127.0.0.1:0", acceptor(&certs)).unwrap();
    let server = loops.spawn().unwrap();
    // Several connections each, so both loops get some.
    for _ in 0..3 {
        let mut secure =
            connect(&format!("wss://localhost:{tls_port}/"), &trusting(&certs)).unwrap();
        let (mut clear, _) = WebSocket::connect(&format!("ws://{plain}/")).unwrap();
        clear.set_read_timeout(Some(PATIENCE));
        let url = format!("wss://localhost:{}/", second_tls.port());
        let mut other = connect(&url, &trusting(&certs)).unwrap();
        echo_round_trips(&mut secure);
        echo_round_trips(&mut clear);
        echo_round_trips(&mut other);
    }
    // TLS on the plain port is not mistaken for HTTP, nor the other way round.
    let error = connect(
        &format!("wss://localhost:{}/", plain.port()),
        &trusting(&certs),
    );
    assert!(error.is_err());
    server.shutdown().unwrap();
}

#[test]
fn a_server_certificate_from_an_unknown_ca_is_a_certificate_error() {
    let certs = certs::localhost();
    let stranger = certs::localhost(); // another CA altogether
    let server = tls_server(echo_handlers(), &certs, Config::default());
    let port = server.local_addr().unwrap().port();
    let error = connect(&format!("wss://localhost:{port}/"), &trusting(&stranger)).unwrap_err();
    assert!(
        matches!(
            error,
            Error::Tls(TlsError::Certificate(
                rustls::CertificateError::UnknownIssuer
            ))
        ),
        "{error:?}"
    );
    // The server is unharmed.
    let socket = connect(&format!("wss://localhost:{port}/"), &trusting(&certs)).unwrap();
    echo_and_close(socket);
    server.shutdown().unwrap();
}

#[test]
fn a_certificate_for_another_name_is_refused_by_hostname_verification() {
    let certs = certs::issue(&["example.test"]);
    let server = tls_server(echo_handlers(), &certs, Config::default());
    let port = server.local_addr().unwrap().port();
    for host in ["localhost", "127.0.0.1"] {
        let error = connect(&format!("wss://{host}:{port}/"), &trusting(&certs)).unwrap_err();
        let Error::Tls(TlsError::Certificate(reason)) = &error else {
            panic!("{error:?}")
        };
        assert!(
            format!("{reason:?}").starts_with("NotValidForName"),
            "{reason:?}"
        );
    }
    server.shutdown().unwrap();
}

#[test]
fn the_event_api_client_talks_wss_and_reports_a_bad_certificate_to_on_error() {
    let certs = certs::localhost();
    let server = tls_server(echo_handlers(), &certs, Config::default());
    let port = server.local_addr().unwrap().port();
    let (report, reports) = mpsc::channel();
    let on_message = report.clone();
    let handlers = Handlers::<()>::new()
        .on_open(|socket| {
            let _ = socket.send("over tls");
        })
        .on_message(move |socket, message| {
            on_message
                .send(format!("message {}", message.as_text().unwrap_or("?")))
                .unwrap();
            let _ = socket.close(CloseCode::NORMAL, "done");
        });
    let client = Client::new(handlers)
        .tls(trusting(&certs))
        .connect(&format!("wss://localhost:{port}/"))
        .unwrap()
        .spawn()
        .unwrap();
    assert_eq!(reports.recv_timeout(PATIENCE).unwrap(), "message over tls");
    client.join().unwrap();

    let stranger = certs::localhost();
    let handlers = Handlers::<()>::new().on_error(move |_, error| {
        let certificate = matches!(error, Error::Tls(TlsError::Certificate(_)));
        report
            .send(format!("certificate error {certificate}: {error}"))
            .unwrap();
    });
    let client = Client::new(handlers)
        .tls(trusting(&stranger))
        .connect(&format!("wss://localhost:{port}/"))
        .unwrap()
        .spawn()
        .unwrap();
    let said = reports.recv_timeout(PATIENCE).unwrap();
    assert!(said.starts_with("certificate error true"), "{said}");
    client.join().unwrap();
    server.shutdown().unwrap();
}

#[test]
fn a_tls_handshake_that_never_finishes_is_cut_at_the_handshake_timeout() {
    let certs = certs::localhost();
    let config = Config {
        handshake_timeout: Duration::from_millis(200),
        ..Config::default()
    };
    let server = tls_server(echo_handlers(), &certs, config);
    let address = server.local_addr().unwrap();
    // Silence, and half a ClientHello record (a TLS slowloris).
    for opening in [&b""[..], &[0x16, 0x03, 0x01, 0x02, 0x00, 0x01][..]] {
        let mut stream = TcpStream::connect(address).unwrap();
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        stream.write_all(opening).unwrap();
        let mut sink = Vec::new();
        // Ends (FIN or reset) rather than timing out after PATIENCE.
        let ended = match stream.read_to_end(&mut sink) {
            Ok(_) => true,
            Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
        };
        assert!(ended, "the server kept the stalled handshake open");
    }
    server.shutdown().unwrap();
}

#[test]
fn tls_garbage_gets_an_alert_and_the_server_keeps_serving() {
    let certs = certs::localhost();
    let server = tls_server(echo_handlers(), &certs, Config::default());
    let address = server.local_addr().unwrap();
    let garbage: [&[u8]; 3] = [
        b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
        // A handshake record holding a ClientHello of length 0.
        &[0x16, 0x03, 0x01, 0x00, 0x04, 0x01, 0x00, 0x00, 0x00],
        // Application data before any handshake.
        &[0x17, 0x03, 0x03, 0x00, 0x03, 1, 2, 3],
    ];
    for bytes in garbage {
        let mut stream = TcpStream::connect(address).unwrap();
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        stream.write_all(bytes).unwrap();
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        // A TLS alert record (content type 21), then the end.
        assert_eq!(answer.first(), Some(&0x15), "{answer:?} after {bytes:?}");
    }
    let socket = connect(
        &format!("wss://localhost:{}/", address.port()),
        &trusting(&certs),
    )
    .unwrap();
    echo_and_close(socket);
    server.shutdown().unwrap();
}

#[test]
fn a_peer_that_never_reads_hits_the_same_write_queue_bound_over_tls() {
    let certs = certs::localhost();
    let (report, reports) = mpsc::channel();
    let handlers = Handlers::<()>::new().on_open(move |socket| {
        let chunk = vec![0u8; KIB];
        let mut accepted = 0usize;
        let error = loop {
            match socket.send(&chunk) {
                Ok(()) => accepted += 1,
                Err(error) => break error,
            }
            assert!(accepted < 100_000, "the bound never applied");
        };
        let full = matches!(
            error,
            Error::Capacity(CapacityError::WriteBufferFull { .. })
        );
        report
            .send((accepted, socket.buffered_amount(), full))
            .unwrap();
    });
    let config = Config {
        max_write_buffer: 256 * KIB,
        ..Config::default()
    };
    let server = tls_server(handlers, &certs, config);
    let port = server.local_addr().unwrap().port();
    let peer = connect(&format!("wss://localhost:{port}/"), &trusting(&certs)).unwrap();
    let (accepted, queued, full) = reports.recv_timeout(PATIENCE).unwrap();
    assert!(full, "the send was refused for another reason");
    assert!(
        (256 * KIB..=257 * KIB + 16).contains(&queued),
        "queued {queued}"
    );
    // The rest of what was accepted went out: into the kernel's socket buffers (at most
    // their maximum sizes) and the TLS session's one write of at most 64 KiB, no further.
    let sysctl = |name: &str| -> usize {
        let text = std::fs::read_to_string(format!("/proc/sys/net/ipv4/{name}")).unwrap();
        text.split_whitespace().nth(2).unwrap().parse().unwrap()
    };
    let kernel = sysctl("tcp_rmem") + sysctl("tcp_wmem");
    assert!(
        accepted * KIB <= queued + kernel + 64 * KIB,
        "accepted {accepted} KiB, kernel buffers {kernel}"
    );
    drop(peer);
    server.shutdown().unwrap();
}

#[test]
fn keep_alive_pings_run_over_tls() {
    let certs = certs::localhost();
    let config = Config {
        ping_interval: Some(Duration::from_millis(100)),
        ..Config::default()
    };
    let server = tls_server(echo_handlers(), &certs, config);
    let port = server.local_addr().unwrap().port();
    let mut socket = connect(&format!("wss://localhost:{port}/"), &trusting(&certs)).unwrap();
    // Silence from us: the server's keep-alive ping arrives (our driver answers it).
    assert!(matches!(socket.read().unwrap(), Event::Ping(_)));
    assert!(matches!(socket.read().unwrap(), Event::Ping(_)));
    echo_round_trips(&mut socket);
    drop(socket);
    server.shutdown().unwrap();
}

#[test]
fn pem_files_load_alpn_says_http_1_1_and_a_wrong_key_is_refused() {
    let certs = certs::localhost();
    let dir = std::env::temp_dir().join(format!("rfc6455-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (chain, key) = (dir.join("chain.pem"), dir.join("key.pem"));
    std::fs::write(&chain, &certs.chain).unwrap();
    std::fs::write(&key, &certs.key).unwrap();
    let acceptor = TlsAcceptor::from_pem_files(&chain, &key).unwrap();
    // Another identity's key does not go with this chain.
    let other = certs::localhost();
    std::fs::write(&key, &other.key).unwrap();
    let mismatch = TlsAcceptor::from_pem_files(&chain, &key);
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(
        matches!(mismatch, Err(TlsError::Identity(_))),
        "{mismatch:?}"
    );
    let missing = TlsAcceptor::from_pem_files(dir.join("none.pem"), dir.join("none.pem"));
    assert!(matches!(missing, Err(TlsError::Pem { .. })), "{missing:?}");

    let server = Server::new(echo_handlers())
        .bind_tls("127.0.0.1:0", acceptor)
        .unwrap()
        .spawn()
        .unwrap();
    let port = server.local_addr().unwrap().port();
    let socket = connect(&format!("wss://localhost:{port}/"), &trusting(&certs)).unwrap();
    let ClientStream::Tls(tls) = socket.get_ref() else {
        panic!("not TLS")
    };
    assert_eq!(tls.conn.alpn_protocol(), Some(&b"http/1.1"[..]));
    echo_and_close(socket);
    server.shutdown().unwrap();
}

/// A certificate resolver that remembers the names clients asked for (SNI).
#[derive(Debug)]
struct RecordingResolver {
    key: std::sync::Arc<rustls::sign::CertifiedKey>,
    asked: std::sync::Mutex<Vec<Option<String>>>,
}

impl rustls::server::ResolvesServerCert for RecordingResolver {
    fn resolve(
        &self,
        hello: rustls::server::ClientHello<'_>,
    ) -> Option<std::sync::Arc<rustls::sign::CertifiedKey>> {
        let name = hello.server_name().map(str::to_owned);
        self.asked.lock().unwrap().push(name);
        Some(self.key.clone())
    }
}

#[test]
fn a_server_config_of_ones_own_works_and_the_client_sends_sni() {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs = certs::localhost();
    let chain: Vec<_> = CertificateDer::pem_slice_iter(certs.chain.as_bytes())
        .map(Result::unwrap)
        .collect();
    let key = PrivateKeyDer::from_pem_slice(certs.key.as_bytes()).unwrap();
    // The crate's provider (see src/tls.rs for why *ring*, deprecated or not).
    #[allow(deprecated)]
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let signer = provider.key_provider.load_private_key(key).unwrap();
    let resolver = std::sync::Arc::new(RecordingResolver {
        key: std::sync::Arc::new(rustls::sign::CertifiedKey::new(chain, signer)),
        asked: Default::default(),
    });
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_cert_resolver(resolver.clone());
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let acceptor = TlsAcceptor::from_config(std::sync::Arc::new(config));
    let server = Server::new(echo_handlers())
        .bind_tls("127.0.0.1:0", acceptor)
        .unwrap()
        .spawn()
        .unwrap();
    let port = server.local_addr().unwrap().port();
    for host in ["localhost", "127.0.0.1"] {
        let mut socket = connect(&format!("wss://{host}:{port}/"), &trusting(&certs)).unwrap();
        echo_round_trips(&mut socket);
        socket.close(CloseCode::NORMAL, "").unwrap();
    }
    // SNI carries a DNS name; for an IP address there is none to send (RFC 6066).
    let asked = resolver.asked.lock().unwrap().clone();
    assert_eq!(asked, [Some("localhost".to_owned()), None]);
    server.shutdown().unwrap();
}

#[test]
fn the_platform_roots_load_where_the_system_has_a_ca_bundle() {
    let has_bundle = std::path::Path::new("/etc/ssl/certs/ca-certificates.crt").exists();
    match TlsConnector::platform() {
        Ok(_) => {}
        Err(TlsError::NoPlatformRoots(why)) => assert!(!has_bundle, "bundle present: {why}"),
        Err(other) => panic!("{other}"),
    }
}

#[test]
fn connect_tls_refuses_a_ws_url() {
    let url = Url::parse("ws://localhost:1/").unwrap();
    let request = ClientRequest::from_url(&url);
    let connector = trusting(&certs::localhost());
    let error = WebSocket::connect_tls(&url, &request, &Config::default(), &connector);
    assert!(
        matches!(error, Err(Error::Usage(rfc6455::UsageError::InvalidUrl(_)))),
        "{error:?}"
    );
}
