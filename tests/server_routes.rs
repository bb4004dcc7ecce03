//! Routes ([`Route`], mounted with `Server::route`) and what a held request and a pending
//! upgrade tell about their client, through the public API over real sockets: requests,
//! upgrades and socket events go to the route with the longest matching prefix, the rest to
//! the server's own handlers; a held request whose client goes away is cancelled.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rfc6455::events::{Handlers, HttpReply, Route, Server, SocketId};
use rfc6455::handshake::HttpResponse;
use rfc6455::{Config, Event, Message};
use support::{PATIENCE, start};

fn get(address: std::net::SocketAddr, target: &str) -> String {
    let mut stream = TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    write!(
        stream,
        "GET {target} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

fn text_of(socket: &mut rfc6455::blocking::WebSocket<rfc6455::blocking::ClientStream>) -> String {
    loop {
        if let Event::Message(Message::Text(text)) = socket.read().unwrap() {
            return text.as_str().to_owned();
        }
    }
}

#[test]
fn requests_upgrades_and_socket_events_go_to_the_longest_matching_route() {
    let tag = |name: &'static str| {
        Handlers::<()>::new().on_message(move |socket, message| {
            let text = format!("{name}:{}", message.as_text().unwrap_or_default());
            let _ = socket.send(text.as_str());
        })
    };
    let upgrades = Arc::new(Mutex::new(Vec::new()));
    let seen = upgrades.clone();
    let api = Route::new(tag("api"))
        .on_http(|request| HttpResponse::text(200, format!("api {}", request.path())))
        .on_upgrade(move |request, upgrade| {
            seen.lock().unwrap().push((
                request.path().to_owned(),
                upgrade.id(),
                upgrade.peer_addr(),
            ));
            upgrade.accept(());
        });
    let admin = Route::new(tag("admin")).on_http(|_| HttpResponse::text(200, "admin"));
    let server = start(
        Server::new(tag("root"))
            .workers(2)
            .on_http(|request| HttpResponse::text(404, format!("root {}", request.path())))
            .route("/api/", api)
            .route("/api/admin/", admin),
    );
    let address = server.local_addr().unwrap();
    assert!(get(address, "/api/users?x=1").ends_with("api /api/users"));
    assert!(get(address, "/api/admin/panel").ends_with("\r\n\r\nadmin"));
    let root = get(address, "/api");
    assert!(
        root.starts_with("HTTP/1.1 404 ") && root.ends_with("root /api"),
        "{root}"
    );

    for (path, name) in [
        ("/api/ws", "api"),
        ("/api/admin/ws", "admin"),
        ("/other", "root"),
    ] {
        let mut socket = support::client(&server, path);
        socket.send("hi").unwrap();
        assert_eq!(text_of(&mut socket), format!("{name}:hi"), "{path}");
    }
    // The api route's upgrade decision saw the socket's id and the client's address.
    let upgrades = upgrades.lock().unwrap().clone();
    assert_eq!(upgrades.len(), 1);
    let (path, _id, peer): (String, SocketId, _) = upgrades[0].clone();
    assert_eq!(path, "/api/ws");
    assert!(peer.ip().is_loopback());
    server.shutdown().unwrap();
}

#[test]
fn a_held_request_whose_client_leaves_is_cancelled_and_tells_its_address() {
    let (sender, held) = mpsc::channel::<HttpReply>();
    let sender = Mutex::new(sender);
    let server = start(
        Server::new(Handlers::<()>::new()).on_http_reply(move |_, reply| {
            sender.lock().unwrap().send(reply).unwrap();
        }),
    );
    let address = server.local_addr().unwrap();
    let mut client = TcpStream::connect(address).unwrap();
    client
        .write_all(b"GET /poll HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    let reply = held.recv_timeout(PATIENCE).unwrap();
    assert_eq!(reply.peer_addr(), client.local_addr().unwrap());
    let (cancelled, told) = mpsc::channel();
    reply.on_cancel(move || cancelled.send("cancelled").unwrap());
    drop(client);
    assert_eq!(told.recv_timeout(PATIENCE), Ok("cancelled"));
    // Answering it now goes nowhere, and harms nothing.
    reply.send(HttpResponse::text(200, "too late"));

    // A request answered in time is not cancelled, even when its client leaves after.
    let mut client = TcpStream::connect(address).unwrap();
    client.set_read_timeout(Some(PATIENCE)).unwrap();
    client
        .write_all(b"GET /poll HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .unwrap();
    let reply = held.recv_timeout(PATIENCE).unwrap();
    let (cancelled, told) = mpsc::channel();
    reply.on_cancel(move || cancelled.send("cancelled").unwrap());
    reply.send(HttpResponse::text(200, "in time"));
    let mut response = String::new();
    client.read_to_string(&mut response).unwrap();
    assert!(response.ends_with("in time"));
    drop(client);
    assert!(told.recv_timeout(Duration::from_millis(200)).is_err());
    server.shutdown().unwrap();
}

#[test]
fn a_held_request_past_its_answer_timeout_is_cancelled() {
    let (sender, held) = mpsc::channel::<HttpReply>();
    let sender = Mutex::new(sender);
    let config = Config {
        http_answer_timeout: Duration::from_millis(100),
        ..Config::default()
    };
    let server = start(
        Server::new(Handlers::<()>::new())
            .config(config)
            .on_http_reply(move |_, reply| {
                sender.lock().unwrap().send(reply).unwrap();
            }),
    );
    let mut client = TcpStream::connect(server.local_addr().unwrap()).unwrap();
    client
        .write_all(b"GET /poll HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    let reply = held.recv_timeout(PATIENCE).unwrap();
    let (cancelled, told) = mpsc::channel();
    reply.on_cancel(move || cancelled.send(()).unwrap());
    assert_eq!(told.recv_timeout(PATIENCE), Ok(()));
    drop(client);
    server.shutdown().unwrap();
}
