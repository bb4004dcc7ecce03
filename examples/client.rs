//! A command-line client on the event loop: lines typed on stdin are sent as text messages,
//! messages received are printed; it reconnects by itself if the server goes away, and
//! lines typed while it is away are sent once it is back.
//!
//! ```text
//! cargo run --release --example client [-- ws://127.0.0.1:9001/]
//! ```

use std::io::BufRead;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;

use rfc6455::events::{Client, Handlers, Reconnect, SocketId};

/// The current connection (it changes on every reconnection) and the lines waiting for one.
#[derive(Default)]
struct Link {
    id: Option<SocketId>,
    pending: Vec<String>,
}

fn main() -> Result<(), rfc6455::Error> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "ws://127.0.0.1:9001/".to_owned());
    let link: Arc<Mutex<Link>> = Arc::default();
    let on_open = link.clone();
    let on_close = link.clone();
    let runtime = Client::new(
        Handlers::<()>::new()
            .on_open(move |socket| {
                eprintln!("connected to {}", socket.peer_addr());
                let mut link = on_open.lock().unwrap_or_else(PoisonError::into_inner);
                link.id = Some(socket.id());
                for line in link.pending.drain(..) {
                    let _ = socket.send(&line);
                }
            })
            .on_message(|_socket, message| match message.as_text() {
                Some(text) => println!("{text}"),
                None => println!("<{} bytes of binary>", message.len()),
            })
            .on_error(|_socket, error| eprintln!("error: {error}"))
            .on_close(move |_socket, code, reason| {
                eprintln!("closed: {code} {reason}");
                on_close.lock().unwrap_or_else(PoisonError::into_inner).id = None;
            }),
    )
    .reconnect(Reconnect::default())
    .connect(&url)?;
    let handle = runtime.handle();
    thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            let mut link = link.lock().unwrap_or_else(PoisonError::into_inner);
            match link.id {
                Some(id) if handle.send(id, &line).is_ok() => {}
                _ => link.pending.push(line),
            }
        }
        handle.shutdown();
    });
    runtime.run()?;
    Ok(())
}
