//! Our Rust Socket.IO client (feature `socketio`) against what no one here wrote: the npm
//! `socket.io` server (v4, protocol v5) in Node 20 (tests/interop/socketio_server.mjs),
//! over WebSocket. It checks: two namespaces and a middleware's refusal (its message and
//! data), an event both ways with a Buffer, the client's acks (answered, with a Buffer, and
//! timed out), the server's `emitWithAck` answered, the server's `socket.disconnect()` seen
//! as `io server disconnect` (and not rejoined), and the server closing and coming back on
//! the same port: the client reconnects, rejoins, and sends what it buffered meanwhile.
//!
//! ```text
//! scripts/install-peers.sh
//! cargo test --features socketio --test interop -- --include-ignored socketio_rust_client::
//! ```

use std::io::Write;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use rfc6455::socketio::{AckError, ClientConfig, ClientSocket, Data, SocketIoClient};
use serde_json::json;

use super::PeerServer;
use super::support::PATIENCE;

/// Waits (at most `PATIENCE`) for every line of `expected` from `lines`, in any order.
fn expect_all(lines: &Receiver<String>, expected: &[&str]) {
    let deadline = Instant::now() + PATIENCE;
    let mut seen: Vec<String> = Vec::new();
    while !expected
        .iter()
        .all(|line| seen.iter().any(|seen| seen == line))
    {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => seen.push(line),
            Err(_) => panic!("never saw all of {expected:?}; saw {seen:?}"),
        }
    }
}

fn logging(
    client: &SocketIoClient,
    namespace: &str,
    auth: Data,
    log: &Sender<String>,
) -> ClientSocket {
    let socket = client.socket(namespace, auth);
    let log = Arc::new(Mutex::new(log.clone()));
    let push = move |line: String| drop(log.lock().unwrap().send(line));
    let on = push.clone();
    socket.on_connect(move |socket| on(format!("connect {}", socket.namespace())));
    let on = push.clone();
    socket.on_connect_error(move |socket, error| {
        let data = error.data.clone().and_then(Data::into_json);
        on(format!(
            "connect_error {} {} {data:?}",
            socket.namespace(),
            error.message
        ));
    });
    let on = push.clone();
    socket.on_disconnect(move |socket, reason| {
        on(format!(
            "disconnect {} {}",
            socket.namespace(),
            reason.as_str()
        ));
    });
    let on = push.clone();
    socket.on("relayed", move |socket, args, _| {
        on(format!("relayed {} {args:?}", socket.namespace()));
    });
    socket.on("question", |_, _, ack| {
        ack.unwrap().send(vec![Data::from("answer")]).unwrap();
    });
    socket
}

#[test]
#[ignore = "needs the interop peers: scripts/install-peers.sh"]
fn our_socketio_client_against_the_npm_socketio_server() {
    let mut peer = PeerServer::start("node", "socketio_server.mjs", &[]);
    let config = ClientConfig {
        reconnection_delay: Duration::from_millis(100),
        reconnection_delay_max: Duration::from_millis(400),
        ..ClientConfig::default()
    };
    let client = SocketIoClient::new(&format!("http://127.0.0.1:{}", peer.port), config).unwrap();
    let (log, lines) = channel();
    let main = logging(&client, "/", Data::Null, &log);
    let admin = logging(
        &client,
        "/admin",
        Data::from(json!({"token": "secret"})),
        &log,
    );
    let private = logging(&client, "/private", Data::Null, &log);
    main.connect();
    admin.connect();
    private.connect();
    expect_all(
        &lines,
        &[
            "connect /",
            "connect /admin",
            r#"connect_error /private private Some(Object {"code": Number(7)})"#,
        ],
    );

    // An event both ways, a Buffer each way.
    let blob = Bytes::from_static(&[0, 1, 2, 255]);
    admin
        .emit("relay", vec![Data::from("hi"), Data::from(blob.clone())])
        .unwrap();
    expect_all(
        &lines,
        &[r#"relayed /admin [String("hi"), Binary(b"\0\x01\x02\xff")]"#],
    );

    // The client's acks: answered (with a Buffer), and timed out.
    let answers = Arc::new(Mutex::new(log.clone()));
    let on = answers.clone();
    main.emit_with_ack("echo", vec![Data::from(blob)], PATIENCE, move |answer| {
        drop(on.lock().unwrap().send(format!("client answer {answer:?}")));
    })
    .unwrap();
    expect_all(
        &lines,
        &[r#"client answer Ok([Binary(b"\0\x01\x02\xff")])"#],
    );
    let on = answers;
    main.emit_with_ack(
        "silent",
        vec![],
        Duration::from_millis(200),
        move |answer| {
            drop(on.lock().unwrap().send(format!("client answer {answer:?}")));
        },
    )
    .unwrap();
    expect_all(
        &lines,
        &[&format!(
            "client answer {:?}",
            Err::<(), _>(AckError::Timeout)
        )],
    );

    // The server's emitWithAck, answered.
    main.emit("ask", vec![]).unwrap();
    let report = peer.lines.recv_timeout(PATIENCE).unwrap();
    assert_eq!(report, r#"ANSWER "answer""#);

    // socket.disconnect() on the server: `io server disconnect`, no rejoining.
    main.emit("kick", vec![]).unwrap();
    expect_all(&lines, &["disconnect / io server disconnect"]);

    // The server closes and comes back on the same port.
    let stdin = peer.child.stdin.as_mut().unwrap();
    stdin.write_all(b"bounce\n").unwrap();
    stdin.flush().unwrap();
    expect_all(&lines, &["disconnect /admin transport close"]);
    admin.emit("relay", vec![Data::from("meanwhile")]).unwrap();
    assert_eq!(peer.lines.recv_timeout(PATIENCE).unwrap(), "BOUNCED");
    expect_all(
        &lines,
        &["connect /admin", r#"relayed /admin [String("meanwhile")]"#],
    );
    assert!(!main.connected());
    client.close();
}
