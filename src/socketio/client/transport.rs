//! One WebSocket connection of the client, on the crate's blocking driver, on a thread of
//! its own: it connects, hands every message it reads to the manager, and writes what the
//! manager queues. A read waits at most [`POLL`] so that queued messages go out within it;
//! when the manager drops its end of the queue, the connection sends what is left, closes
//! and ends.

use std::sync::mpsc::{Receiver, Sender, TryRecvError};
use std::time::Duration;

use crate::blocking::{ClientStream, WebSocket};
use crate::config::Config;
use crate::error::Error;
use crate::handshake::{ClientRequest, Url};
use crate::{CloseCode, Event, Message};

/// The longest a queued message waits for the connection thread.
pub(crate) const POLL: Duration = Duration::from_millis(5);

/// What a connection tells the manager, tagged with its attempt's generation.
pub(crate) enum Heard {
    /// A message.
    Message(u64, Message),
    /// The connection closed, or could not be made.
    Closed(u64),
}

/// Starts connection attempt `generation` to `url`, the WebSocket handshake bounded by
/// `timeout`.
pub(crate) fn spawn(
    url: &str,
    generation: u64,
    timeout: Duration,
    heard: impl Fn(Heard) + Send + 'static,
    outgoing: Receiver<Message>,
) -> Result<(), Error> {
    let url = Url::parse(url)?;
    std::thread::Builder::new()
        .name("socket.io-client-connection".to_owned())
        .spawn(move || {
            let config = Config {
                handshake_timeout: timeout,
                ..Config::default()
            };
            if let Ok((mut socket, _)) =
                WebSocket::connect_with(&url, &ClientRequest::from_url(&url), &config)
            {
                socket.set_read_timeout(Some(POLL));
                run(&mut socket, generation, &heard, &outgoing);
            }
            heard(Heard::Closed(generation));
        })?;
    Ok(())
}

fn run(
    socket: &mut WebSocket<ClientStream>,
    generation: u64,
    heard: &impl Fn(Heard),
    outgoing: &Receiver<Message>,
) {
    loop {
        loop {
            match outgoing.try_recv() {
                Ok(message) => {
                    if socket.send(message).is_err() {
                        return;
                    }
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    socket.set_read_timeout(Some(Duration::from_secs(1)));
                    let _ = socket.close(CloseCode::NORMAL, "");
                    return;
                }
            }
        }
        match socket.read() {
            Ok(Event::Message(message)) => heard(Heard::Message(generation, message)),
            Ok(Event::Close(_)) => return,
            Ok(_) => {}
            Err(Error::Io(error)) if error.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => return,
        }
    }
}

/// A sender to the manager, usable from the connection thread.
pub(crate) fn forward<T: Send + 'static>(
    sender: Sender<T>,
    wrap: impl Fn(Heard) -> T + Send + 'static,
) -> impl Fn(Heard) + Send + 'static {
    move |heard| {
        let _ = sender.send(wrap(heard));
    }
}
