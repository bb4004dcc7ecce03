//! An echo server with no runtime: one thread per connection over the blocking driver, the
//! sans-IO core doing all the protocol work. The `echo` example is the same on the event
//! loop; both are Autobahn testees (`scripts/autobahn.sh --server-example echo_blocking`).
//!
//! ```text
//! cargo run --release --example echo_blocking -- 127.0.0.1:9001
//! ```

use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

use rfc6455::blocking::WebSocket;
use rfc6455::{Config, Error, Event};

fn main() -> std::io::Result<()> {
    let address = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9001".to_owned());
    let listener = TcpListener::bind(&address)?;
    println!("blocking echo server listening on ws://{address}");
    for stream in listener.incoming() {
        let stream = match stream {
            Ok(stream) => stream,
            Err(error) => {
                eprintln!("accept failed: {error}");
                continue;
            }
        };
        thread::spawn(move || {
            if let Err(error) = serve(stream) {
                eprintln!("connection ended: {error}");
            }
        });
    }
    Ok(())
}

fn serve(stream: TcpStream) -> Result<(), Error> {
    stream.set_nodelay(true)?;
    let mut socket = WebSocket::accept(stream, &Config::default())?;
    let outcome = loop {
        match socket.read() {
            Ok(Event::Message(message)) => socket.send(message)?,
            Ok(Event::Ping(_) | Event::Pong(_)) => {}
            Ok(Event::Close(_)) => break Ok(()),
            Err(error) => break Err(error),
        }
    };
    // The close frame (ours or the reply) is written by now; a server closes TCP first.
    socket.shutdown(Duration::from_secs(2))?;
    outcome
}
