//! A ticker: a background thread pushes the time to a room through a `Handle`, once a
//! second, to every connection that joined it.
//!
//! ```text
//! cargo run --release --example ticker [-- 127.0.0.1:9002]
//! ```
//!
//! Connect with any WebSocket client to ws://127.0.0.1:9002/ and receive a tick each
//! second; send "stop" to leave the room, "start" to join it again.

use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rfc6455::events::{Handlers, Server};

fn main() -> std::io::Result<()> {
    let address = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9002".to_owned());
    let runtime = Server::new(
        Handlers::<()>::new()
            .on_open(|socket| {
                socket.join("ticks");
                let _ = socket.send("joined the ticks room; send \"stop\" or \"start\"");
            })
            .on_message(|socket, message| match message.as_text() {
                Some("stop") => socket.leave("ticks"),
                Some("start") => socket.join("ticks"),
                _ => {}
            }),
    )
    .bind(&address)?;
    let handle = runtime.handle();
    thread::spawn(move || {
        while !handle.is_shutting_down() {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default();
            // Fails only if the loop is gone or far behind: then this tick is skipped.
            let _ = handle
                .to("ticks")
                .send(format!("{{\"tick\":{}}}", now.as_millis()));
            thread::sleep(Duration::from_secs(1));
        }
    });
    println!("ticker on ws://{address}/");
    runtime.run()
}
