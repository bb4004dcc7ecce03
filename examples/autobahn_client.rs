//! The Autobahn testsuite's client testee: it runs every case of a `wstest -m
//! fuzzingserver`, echoing each message, then asks the server to write its reports.
//!
//! ```text
//! cargo run --release --example autobahn_client -- ws://127.0.0.1:9001 rfc6455
//! cargo run --release --features tls --example autobahn_client -- wss://127.0.0.1:9001 rfc6455 --ca ca.pem
//! ```
//!
//! With `--ca CA_PEM` (feature `tls`) and a `wss://` base URL, the server's certificate is
//! checked against the CA certificates in `CA_PEM` only (a test CA); a `wss://` base URL
//! without it trusts the platform's roots.

use std::time::Duration;

use rfc6455::blocking::{ClientStream, WebSocket};
use rfc6455::handshake::{ClientRequest, Url};
use rfc6455::{Config, Error, Event, Message};

fn main() -> Result<(), Error> {
    let mut positional = Vec::new();
    let mut ca = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--ca" {
            ca = Some(args.next().unwrap_or_else(|| usage("--ca needs CA_PEM")));
        } else {
            positional.push(arg);
        }
    }
    let mut positional = positional.into_iter();
    let base = positional
        .next()
        .unwrap_or_else(|| "ws://127.0.0.1:9001".to_owned());
    let agent = positional.next().unwrap_or_else(|| "rfc6455".to_owned());
    let base = base.trim_end_matches('/');
    let dialer = Dialer::new(base, ca.as_deref());

    let count = case_count(&dialer, base)?;
    println!("running {count} cases as agent {agent}");
    for case in 1..=count {
        let url = format!("{base}/runCase?case={case}&agent={agent}");
        if let Err(error) = run_case(&dialer, &url) {
            println!("case {case}: {error}");
        }
    }
    let mut socket = dialer.connect(&format!("{base}/updateReports?agent={agent}"))?;
    socket.close(rfc6455::CloseCode::NORMAL, "")?;
    println!("reports updated");
    Ok(())
}

fn usage(problem: &str) -> ! {
    eprintln!(
        "autobahn_client: {problem}\nusage: autobahn_client [BASE_URL] [AGENT] [--ca CA_PEM]"
    );
    std::process::exit(2);
}

/// Opens the connections: plain, `wss://` with the platform's roots, or `wss://` trusting
/// only the CA given with `--ca`.
struct Dialer {
    #[cfg(feature = "tls")]
    tls: Option<rfc6455::tls::TlsConnector>,
}

impl Dialer {
    fn new(base: &str, ca: Option<&str>) -> Dialer {
        let Some(ca) = ca else {
            return Dialer {
                #[cfg(feature = "tls")]
                tls: None,
            };
        };
        if !base.starts_with("wss://") {
            usage("--ca is for a wss:// base URL");
        }
        Self::with_ca(ca)
    }

    #[cfg(feature = "tls")]
    fn with_ca(ca: &str) -> Dialer {
        let pem = std::fs::read(ca).unwrap_or_else(|error| usage(&format!("--ca {ca}: {error}")));
        let connector = rfc6455::tls::TlsConnector::with_ca_pem(&pem)
            .unwrap_or_else(|error| usage(&format!("--ca {ca}: {error}")));
        Dialer {
            tls: Some(connector),
        }
    }

    #[cfg(not(feature = "tls"))]
    fn with_ca(_ca: &str) -> Dialer {
        usage(
            "--ca needs the feature tls: cargo run --features tls --example autobahn_client -- ...",
        )
    }

    fn connect(&self, url: &str) -> Result<WebSocket<ClientStream>, Error> {
        let url = Url::parse(url)?;
        let request = ClientRequest::from_url(&url);
        let config = Config::default();
        #[cfg(feature = "tls")]
        if let Some(connector) = &self.tls {
            return WebSocket::connect_tls(&url, &request, &config, connector).map(|(s, _)| s);
        }
        WebSocket::connect_with(&url, &request, &config).map(|(socket, _)| socket)
    }
}

fn case_count(dialer: &Dialer, base: &str) -> Result<u32, Error> {
    let mut socket = dialer.connect(&format!("{base}/getCaseCount"))?;
    let count = match socket.read()? {
        Event::Message(Message::Text(text)) => text.parse().unwrap_or(0),
        _ => 0,
    };
    socket.close(rfc6455::CloseCode::NORMAL, "")?;
    Ok(count)
}

fn run_case(dialer: &Dialer, url: &str) -> Result<(), Error> {
    let mut socket = dialer.connect(url)?;
    let outcome = loop {
        match socket.read() {
            Ok(Event::Message(message)) => socket.send(message)?,
            Ok(Event::Ping(_) | Event::Pong(_)) => {}
            Ok(Event::Close(_)) => break Ok(()),
            Err(error) => break Err(error),
        }
    };
    // A client waits for the server to close TCP first (RFC 6455 section 7.1.1), briefly.
    socket.shutdown(Duration::from_secs(2))?;
    outcome
}
