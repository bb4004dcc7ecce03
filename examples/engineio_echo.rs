//! An Engine.IO v4 echo server: every message (text or binary) of every session comes back
//! as it was sent, over long-polling or WebSocket. It is what the Engine.IO protocol's own
//! test suite (tests/interop/engine.io-protocol/) runs against:
//!
//! ```text
//! cargo run --features socketio --example engineio_echo -- [ADDR] [--workers N]
//!     [--ping-interval MS] [--ping-timeout MS] [--cors]
//! ```
//!
//! `ADDR` defaults to `127.0.0.1:3000`, the suite's. The suite expects a 300 ms ping
//! interval, a 200 ms ping timeout and CORS for any origin:
//! `-- --ping-interval 300 --ping-timeout 200 --cors`. Without flags the timers are the
//! reference's defaults (25 s and 20 s).

use std::time::Duration;

use rfc6455::events::{Handlers, Server};
use rfc6455::handshake::HttpResponse;
use rfc6455::socketio::{Cors, EngineConfig, EngineHandlers, EngineServer};

fn main() {
    if let Err(error) = run() {
        eprintln!("engineio_echo: {error}");
        std::process::exit(1);
    }
}

fn run() -> std::io::Result<()> {
    let args = Args::parse(std::env::args().skip(1))?;
    let config = EngineConfig {
        ping_interval: args.ping_interval,
        ping_timeout: args.ping_timeout,
        cors: args.cors.then(Cors::any),
        ..EngineConfig::default()
    };
    let handlers = EngineHandlers::new().on_message(|connection, message| {
        // Refused only once the session is closing, or when a client that stopped polling
        // let its queue fill: nothing to do then.
        let _ = connection.send(message);
    });
    let engine = EngineServer::new(config, handlers)?;
    // Every other path is the application's: here, one page.
    let server = Server::new(Handlers::<()>::new())
        .workers(args.workers)
        .on_http(|_| HttpResponse::text(404, "Engine.IO lives at /engine.io/"));
    let loops = engine.attach(server).bind(&args.address)?;
    println!(
        "engine.io echo server on http://{}/engine.io/ ({} worker(s))",
        loops.local_addr().map_or(args.address, |a| a.to_string()),
        args.workers
    );
    loops.run()
}

struct Args {
    address: String,
    workers: usize,
    ping_interval: Duration,
    ping_timeout: Duration,
    cors: bool,
}

impl Args {
    fn parse(mut args: impl Iterator<Item = String>) -> std::io::Result<Args> {
        let defaults = EngineConfig::default();
        let mut parsed = Args {
            address: "127.0.0.1:3000".to_owned(),
            workers: 1,
            ping_interval: defaults.ping_interval,
            ping_timeout: defaults.ping_timeout,
            cors: false,
        };
        let invalid = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidInput, what);
        while let Some(arg) = args.next() {
            let mut number = |name: &str| {
                args.next()
                    .and_then(|value| value.parse::<u64>().ok())
                    .ok_or_else(|| invalid(&format!("{name} takes a number")))
            };
            match arg.as_str() {
                "--workers" => parsed.workers = number("--workers")? as usize,
                "--ping-interval" => {
                    parsed.ping_interval = Duration::from_millis(number("--ping-interval")?);
                }
                "--ping-timeout" => {
                    parsed.ping_timeout = Duration::from_millis(number("--ping-timeout")?);
                }
                "--cors" => parsed.cors = true,
                flag if flag.starts_with("--") => {
                    return Err(invalid(&format!("unknown flag {flag}")));
                }
                address => parsed.address = address.to_owned(),
            }
        }
        Ok(parsed)
    }
}
