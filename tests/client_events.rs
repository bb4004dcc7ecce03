//! The event-loop client over real sockets: the same handlers as a server, and automatic
//! reconnection when the server goes away and comes back.

#![cfg(feature = "server")]

mod support;

use std::sync::mpsc;
use std::time::Duration;

use rfc6455::events::{Client, Handlers, Reconnect, Server};
use rfc6455::{CloseCode, Config, Message};
use support::{PATIENCE, start};

fn echo_server() -> Server<()> {
    Server::new(Handlers::new().on_message(|socket, message| {
        socket.send(message).unwrap();
    }))
}

#[test]
fn a_client_exchanges_messages_and_closes() {
    let server = start(echo_server());
    let (events, seen) = mpsc::channel();
    let on_message = events.clone();
    let on_close = events.clone();
    let client = Client::new(
        Handlers::<usize>::new()
            .on_open(move |socket| {
                events.send(format!("open {}", socket.path())).unwrap();
                socket.send("one").unwrap();
                socket.send(&[2; 70_000]).unwrap();
            })
            .on_message(move |socket, message| {
                *socket.data_mut() += 1;
                match &message {
                    Message::Text(text) => on_message.send(format!("text {text}")).unwrap(),
                    Message::Binary(data) => {
                        on_message.send(format!("binary {}", data.len())).unwrap()
                    }
                }
                if *socket.data() == 2 {
                    socket.close(CloseCode::NORMAL, "done").unwrap();
                }
            })
            .on_close(move |_, code, reason| {
                on_close.send(format!("close {code} {reason}")).unwrap()
            }),
    )
    .connect(&support::url(&server, "/path"))
    .unwrap()
    .spawn()
    .unwrap();
    let got: Vec<String> = (0..4)
        .map(|_| seen.recv_timeout(PATIENCE).unwrap())
        .collect();
    assert_eq!(
        got,
        ["open /path", "text one", "binary 70000", "close 1000 "]
    );
    // The server echoes the code (not the reason). Closed by the application: no reconnection, so the client's loop ends by itself.
    client.join().unwrap();
    server.shutdown().unwrap();
}

#[test]
fn a_client_reconnects_when_the_server_comes_back() {
    let first = start(echo_server());
    let address = first.local_addr().unwrap();
    let (opens, open) = mpsc::channel();
    let (closes, close) = mpsc::channel();
    let client = Client::new(
        Handlers::<()>::new()
            .on_open(move |socket| opens.send(socket.id()).unwrap())
            .on_close(move |_, code, _| closes.send(code).unwrap()),
    )
    .reconnect(Reconnect {
        initial_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(200),
        max_attempts: None,
    })
    .connect(&format!("ws://{address}/"))
    .unwrap()
    .spawn()
    .unwrap();
    open.recv_timeout(PATIENCE).unwrap();
    first.shutdown().unwrap();
    assert_eq!(close.recv_timeout(PATIENCE).unwrap(), CloseCode::GOING_AWAY);
    // The client keeps trying (each failed attempt reports 1006) until a server is back.
    let second = Server::new(Handlers::<()>::new())
        .config(Config::default())
        .bind(address)
        .unwrap()
        .spawn()
        .unwrap();
    open.recv_timeout(PATIENCE).unwrap();
    client.shutdown().unwrap();
    second.shutdown().unwrap();
}

#[test]
fn a_refused_connection_is_reported_and_retried_up_to_the_limit() {
    // Nothing listens on this port once the listener is dropped.
    let address = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let (errors, error) = mpsc::channel();
    let client = Client::new(
        Handlers::<()>::new().on_error(move |_, e| errors.send(e.to_string()).unwrap()),
    )
    .reconnect(Reconnect {
        initial_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        max_attempts: Some(3),
    })
    .connect(&format!("ws://{address}/"))
    .unwrap()
    .spawn()
    .unwrap();
    // The first connection and 3 retries fail, then the loop ends by itself.
    client.join().unwrap();
    let reported: Vec<String> = error.try_iter().collect();
    assert_eq!(reported.len(), 4, "{reported:?}");
    assert!(
        reported.iter().all(|e| e.contains("refused")),
        "{reported:?}"
    );
}

#[test]
fn a_malformed_url_or_header_fails_at_once() {
    assert!(
        Client::new(Handlers::<()>::new())
            .connect("http://x/")
            .is_err()
    );
    assert!(
        Client::new(Handlers::<()>::new())
            .header("X-Bad", "a\r\nb")
            .connect("ws://127.0.0.1:1/")
            .is_err()
    );
}

#[test]
fn a_handle_sends_and_broadcasts_to_a_client_socket_from_another_thread() {
    let server = start(echo_server());
    let (ids, id) = mpsc::channel();
    let (texts, text) = mpsc::channel();
    let client = Client::new(
        Handlers::<()>::new()
            .on_open(move |socket| {
                socket.join("mine");
                ids.send(socket.id()).unwrap();
            })
            .on_message(move |_, message| {
                if let Message::Text(echoed) = message {
                    texts.send(echoed.as_str().to_owned()).unwrap();
                }
            }),
    )
    .connect(&support::url(&server, "/"))
    .unwrap()
    .spawn()
    .unwrap();
    let id = id.recv_timeout(PATIENCE).unwrap();
    // From this thread, not a handler: the client masks what the handle hands it, the
    // server echoes it back.
    client.handle().send(id, "by the handle").unwrap();
    assert_eq!(text.recv_timeout(PATIENCE).unwrap(), "by the handle");
    client.handle().to("mine").send("to the room").unwrap();
    assert_eq!(text.recv_timeout(PATIENCE).unwrap(), "to the room");
    client.shutdown().unwrap();
    server.shutdown().unwrap();
}
