//! An echo server on the event loop: every text and binary message comes back as it was
//! sent. It is the Autobahn testsuite's server testee and the benchmark's server:
//!
//! ```text
//! cargo run --release --example echo -- 127.0.0.1:9001 [workers]
//! cargo run --release --features tls --example echo -- 127.0.0.1:9001 --tls cert.pem key.pem
//! ```
//!
//! With `--tls CERT_PEM KEY_PEM` (feature `tls`) it serves `wss://` instead of `ws://`:
//! `CERT_PEM` is the certificate chain (the server's certificate first), `KEY_PEM` its key.

use rfc6455::Config;
use rfc6455::events::{Handlers, Server};

fn main() {
    if let Err(error) = run() {
        eprintln!("echo: {error}");
        std::process::exit(1);
    }
}

fn run() -> std::io::Result<()> {
    let Args { positional, tls } = parse_args(std::env::args().skip(1))?;
    let mut positional = positional.into_iter();
    let address = positional
        .next()
        .unwrap_or_else(|| "127.0.0.1:9001".to_owned());
    let workers = positional.next().and_then(|n| n.parse().ok()).unwrap_or(1);
    let config = Config {
        // Autobahn 9.* echoes messages of up to 16 MiB, and a peer that reads them back
        // slowly must not trip the write-queue bound.
        max_write_buffer: 64 << 20,
        ..Config::default()
    };
    let server = Server::new(Handlers::<()>::new().on_message(|socket, message| {
        // A send fails only once the socket is closing; nothing to do then.
        let _ = socket.send(message);
    }))
    .config(config)
    .workers(workers);
    let (runtime, scheme) = match tls {
        None => (server.bind(&address)?, "ws"),
        Some((cert, key)) => (bind_tls(server, &address, &cert, &key)?, "wss"),
    };
    println!("echo server listening on {scheme}://{address} with {workers} worker(s)");
    runtime.run()
}

/// The command line: `[ADDR] [workers]`, and `--tls CERT_PEM KEY_PEM` anywhere.
#[derive(Default)]
struct Args {
    positional: Vec<String>,
    /// The certificate chain and key files.
    tls: Option<(String, String)>,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> std::io::Result<Args> {
    let mut parsed = Args::default();
    while let Some(arg) = args.next() {
        if arg == "--tls" {
            match (args.next(), args.next()) {
                (Some(cert), Some(key)) => parsed.tls = Some((cert, key)),
                _ => return Err(usage("--tls needs CERT_PEM KEY_PEM")),
            }
        } else {
            parsed.positional.push(arg);
        }
    }
    Ok(parsed)
}

fn usage(problem: &str) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        format!("{problem}\nusage: echo [ADDR] [workers] [--tls CERT_PEM KEY_PEM]"),
    )
}

#[cfg(feature = "tls")]
fn bind_tls(
    server: Server<()>,
    address: &str,
    cert: &str,
    key: &str,
) -> std::io::Result<rfc6455::events::Loops> {
    let acceptor = rfc6455::tls::TlsAcceptor::from_pem_files(cert, key)
        .map_err(|error| std::io::Error::other(format!("--tls {cert} {key}: {error}")))?;
    server.bind_tls(address, acceptor)
}

#[cfg(not(feature = "tls"))]
fn bind_tls(
    _server: Server<()>,
    _address: &str,
    _cert: &str,
    _key: &str,
) -> std::io::Result<rfc6455::events::Loops> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "--tls needs the feature tls: cargo run --features tls --example echo -- ...",
    ))
}
