//! The Autobahn testsuite's client testee: it runs every case of a `wstest -m
//! fuzzingserver`, echoing each message, then asks the server to write its reports.
//!
//! ```text
//! cargo run --release --example autobahn_client -- ws://127.0.0.1:9001 rfc6455
//! ```

use std::time::Duration;

use rfc6455::blocking::WebSocket;
use rfc6455::handshake::{ClientRequest, Url};
use rfc6455::{Config, Error, Event, Message};

fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let base = args
        .next()
        .unwrap_or_else(|| "ws://127.0.0.1:9001".to_owned());
    let agent = args.next().unwrap_or_else(|| "rfc6455".to_owned());
    let base = base.trim_end_matches('/');

    let count = case_count(base)?;
    println!("running {count} cases as agent {agent}");
    for case in 1..=count {
        let url = format!("{base}/runCase?case={case}&agent={agent}");
        if let Err(error) = run_case(&url) {
            println!("case {case}: {error}");
        }
    }
    let (mut socket, _) = WebSocket::connect(&format!("{base}/updateReports?agent={agent}"))?;
    socket.close(rfc6455::CloseCode::NORMAL, "")?;
    println!("reports updated");
    Ok(())
}

fn case_count(base: &str) -> Result<u32, Error> {
    let (mut socket, _) = WebSocket::connect(&format!("{base}/getCaseCount"))?;
    let count = match socket.read()? {
        Event::Message(Message::Text(text)) => text.parse().unwrap_or(0),
        _ => 0,
    };
    socket.close(rfc6455::CloseCode::NORMAL, "")?;
    Ok(count)
}

fn run_case(url: &str) -> Result<(), Error> {
    let url = Url::parse(url)?;
    let (mut socket, _) =
        WebSocket::connect_with(&url, &ClientRequest::from_url(&url), &Config::default())?;
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
