//! The tokio adapter over real sockets on 127.0.0.1: messages both ways, the close
//! handshake, split halves in two tasks, backpressure, permessage-deflate, refusals, the
//! core's timers on tokio's (paused) clock, and an axum route upgrading into the stream.

#![cfg(feature = "tokio")]

use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use futures_util::{Sink, SinkExt, StreamExt};
use rfc6455::handshake::{Accept, HttpResponse};
use rfc6455::tokio::{WebSocketStream, accept_with};
use rfc6455::{CloseCode, Config, Error, Message, State, Timeout};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const UPGRADE: &[u8] =
    b"GET / HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
    Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

/// A listener, and a task that accepts one connection with `config` and hands the socket
/// (or the handshake's error) to `serve`.
async fn one_server<F, Fut>(config: Config, serve: F) -> (String, tokio::task::JoinHandle<()>)
where
    F: FnOnce(Result<WebSocketStream<TcpStream>, Error>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        serve(accept_with(tcp, &config, |_| Ok(Accept::new())).await).await;
    });
    (url, task)
}

async fn echo(socket: Result<WebSocketStream<TcpStream>, Error>) {
    let mut socket = socket.unwrap();
    while let Some(message) = socket.recv().await {
        socket.feed(message.unwrap()).await.unwrap();
    }
    assert_eq!(socket.connection().state(), State::Closed);
}

#[tokio::test]
async fn messages_go_both_ways_and_the_close_handshake_ends_both_streams() {
    let (url, server) = one_server(Config::default(), echo).await;
    let (mut client, response) = rfc6455::tokio::connect(&url).await.unwrap();
    assert_eq!(response.status(), 101);
    client.send("hello").await.unwrap();
    assert_eq!(
        client.recv().await.unwrap().unwrap().as_text(),
        Some("hello")
    );
    let big = vec![7u8; 3 << 20];
    client.send(big.clone()).await.unwrap();
    match client.recv().await.unwrap().unwrap() {
        Message::Binary(echoed) => assert!(echoed[..] == big[..]),
        other => panic!("{other:?}"),
    }
    // Through the Sink and Stream traits, too.
    client
        .send_all(&mut futures_util::stream::iter(
            (0..100).map(|n| Ok(Message::from(format!("m{n}")))),
        ))
        .await
        .unwrap();
    for n in 0..100 {
        let message = client.next().await.unwrap().unwrap();
        assert_eq!(message.as_text(), Some(format!("m{n}").as_str()));
    }
    client.close(CloseCode::NORMAL, "bye").await.unwrap();
    assert!(
        client.recv().await.is_none(),
        "the server's close reply ends the stream"
    );
    assert_eq!(client.connection().state(), State::Closed);
    server.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn split_halves_send_and_receive_from_two_tasks() {
    let (url, server) = one_server(Config::default(), echo).await;
    let (client, _) = rfc6455::tokio::connect(&url).await.unwrap();
    let (mut sink, mut stream) = client.split();
    let sender = tokio::spawn(async move {
        for n in 0..2_000 {
            sink.send(Message::from(format!("{n}"))).await.unwrap();
        }
        sink
    });
    for n in 0..2_000 {
        let message = stream.recv().await.unwrap().unwrap();
        assert_eq!(message.as_text(), Some(n.to_string().as_str()));
    }
    let mut sink = sender.await.unwrap();
    sink.close().await.unwrap();
    assert!(stream.recv().await.is_none());
    server.await.unwrap();
}

#[tokio::test]
async fn poll_ready_waits_once_max_write_buffer_bytes_are_queued() {
    let config = Config {
        max_write_buffer: 64 * 1024,
        ..Config::default()
    };
    let (url, server) = one_server(config, |socket| async move {
        let mut socket = socket.unwrap();
        let waker = Waker::noop();
        let mut cx = Context::from_waker(waker);
        let mut sent = 0usize;
        // The peer reads nothing: once the kernel's buffers are full, the queue grows to
        // the bound, and poll_ready says to wait.
        loop {
            match Pin::new(&mut socket).poll_ready(&mut cx) {
                Poll::Ready(Ok(())) => {
                    Pin::new(&mut socket)
                        .start_send(Message::from(vec![0u8; 1024]))
                        .unwrap();
                    sent += 1;
                    let _ = Pin::new(&mut socket).poll_flush(&mut cx);
                }
                Poll::Ready(Err(error)) => panic!("{error}"),
                Poll::Pending => break,
            }
            assert!(sent < 1_000_000, "never pending");
        }
        let queued = socket.connection().buffered_amount();
        assert!(
            (64 * 1024..64 * 1024 + 2048).contains(&queued),
            "{queued} queued"
        );
    })
    .await;
    let address = url
        .trim_start_matches("ws://")
        .trim_end_matches('/')
        .to_owned();
    let mut peer = TcpStream::connect(address).await.unwrap();
    peer.write_all(UPGRADE).await.unwrap();
    server.await.unwrap();
    drop(peer);
}

#[tokio::test]
async fn permessage_deflate_is_negotiated_and_used() {
    let (url, server) = one_server(Config::default(), echo).await;
    let (mut client, response) = rfc6455::tokio::connect(&url).await.unwrap();
    assert!(response.header("Sec-WebSocket-Extensions").is_some());
    assert!(client.connection().is_compressed());
    let text = "compressible text ".repeat(1000);
    client.send(text.as_str()).await.unwrap();
    assert_eq!(
        client.recv().await.unwrap().unwrap().as_text(),
        Some(text.as_str())
    );
    client.close(CloseCode::NORMAL, "").await.unwrap();
    assert!(client.recv().await.is_none());
    server.await.unwrap();
}

#[tokio::test]
async fn a_refusal_is_written_and_reported() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let refused = accept_with(tcp, &Config::default(), |_| {
            Err(HttpResponse::text(401, "a token is required"))
        })
        .await;
        assert!(matches!(refused, Err(Error::Refused(401))), "{refused:?}");
    });
    let mut peer = TcpStream::connect(address).await.unwrap();
    peer.write_all(UPGRADE).await.unwrap();
    let mut response = String::new();
    peer.read_to_string(&mut response).await.unwrap();
    assert!(
        response.starts_with("HTTP/1.1 401 Unauthorized\r\n"),
        "{response}"
    );
    assert!(response.ends_with("\r\n\r\na token is required"));
    server.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_silent_peer_gets_a_ping_then_fails_the_pong_timeout_on_a_paused_clock() {
    let config = Config {
        ping_interval: Some(Duration::from_secs(25)),
        pong_timeout: Duration::from_secs(20),
        ..Config::default()
    };
    let (url, server) = one_server(config, |socket| async move {
        let mut socket = socket.unwrap();
        let started = tokio::time::Instant::now();
        let error = socket.recv().await.unwrap().unwrap_err();
        assert!(matches!(error, Error::Timeout(Timeout::Pong)), "{error}");
        // 25 s of silence, then 20 more after the ping: on tokio's paused clock.
        assert_eq!(started.elapsed().as_secs(), 45);
    })
    .await;
    let address = url
        .trim_start_matches("ws://")
        .trim_end_matches('/')
        .to_owned();
    let mut peer = TcpStream::connect(address).await.unwrap();
    peer.write_all(UPGRADE).await.unwrap();
    let mut received = Vec::new();
    peer.read_to_end(&mut received).await.unwrap();
    let frames = &received[received.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4..];
    assert_eq!(&frames[..2], &[0x89, 0], "the keep-alive ping");
    assert_eq!(frames[2], 0x88, "then a close frame");
    assert_eq!(u16::from_be_bytes([frames[4], frames[5]]), 1008);
    server.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_handshake_that_never_completes_times_out() {
    let config = Config {
        handshake_timeout: Duration::from_secs(10),
        ..Config::default()
    };
    let (url, server) = one_server(config, |socket| async move {
        assert!(matches!(socket, Err(Error::Timeout(Timeout::Handshake))));
    })
    .await;
    let address = url
        .trim_start_matches("ws://")
        .trim_end_matches('/')
        .to_owned();
    let mut peer = TcpStream::connect(address).await.unwrap();
    peer.write_all(b"GET / HTTP/1.1\r\nHost: slow\r\n")
        .await
        .unwrap();
    server.await.unwrap();
}

/// The axum example's route, run here against a real client.
#[allow(dead_code)]
#[path = "../examples/axum_echo.rs"]
mod axum_echo;

#[tokio::test]
async fn an_axum_route_upgrades_into_the_stream() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let app = axum::Router::new().route("/ws", axum::routing::get(axum_echo::websocket));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let (mut client, response) = rfc6455::tokio::connect(&format!("ws://{address}/ws"))
        .await
        .unwrap();
    assert_eq!(response.status(), 101);
    assert!(
        client.connection().is_compressed(),
        "deflate negotiated through axum"
    );
    client.send("through axum").await.unwrap();
    assert_eq!(
        client.recv().await.unwrap().unwrap().as_text(),
        Some("through axum")
    );
    client.close(CloseCode::NORMAL, "").await.unwrap();
    assert!(client.recv().await.is_none());
}
