//! Engine.IO interop (feature `socketio`), against what no one here wrote: the npm
//! `engine.io-client` (v6, EIO=4) in Node, with its default transports (long-polling, then
//! the upgrade to WebSocket), WebSocket only and long-polling only, text and binary both
//! ways, heartbeats and the server's close. (The Engine.IO protocol's own test suite is
//! not vendored: scripts/protocol-suites.sh runs it from a copy fetched apart.)
//!
//! ```text
//! scripts/install-peers.sh
//! cargo test --features socketio --test interop -- --include-ignored engineio::
//! ```

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rfc6455::Message;
use rfc6455::events::{Handlers, Server};
use rfc6455::socketio::{CloseReason, EngineConfig, EngineHandlers, EngineServer, EngineTransport};
use serde_json::{Value, json};

use super::peer_result;
use super::support::{PATIENCE, start};

/// One at a time: the suite's heartbeat cases run on 300 ms timers, and four Node peers and
/// their servers at once on a small machine could stretch them.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// What the server side saw of the one session.
#[derive(Debug, Default)]
struct Seen {
    connected_on: Option<EngineTransport>,
    messages: Vec<Message>,
    closed: Option<(CloseReason, EngineTransport)>,
}

/// Runs `engineio_client.mjs` in `mode` against an echo server that greets each session
/// with a text and a binary message and closes it when asked; returns both sides' views.
fn run_client(mode: &str) -> (Value, Seen) {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let seen = Arc::new(Mutex::new(Seen::default()));
    let (on_connect, on_message, on_close) = (seen.clone(), seen.clone(), seen.clone());
    let handlers = EngineHandlers::new()
        .on_connection(move |connection| {
            on_connect.lock().unwrap().connected_on = Some(connection.transport());
            connection.send("welcome").unwrap();
            connection.send(vec![9u8, 8, 7]).unwrap();
        })
        .on_message(move |connection, message| {
            let close = message == Message::from("close me");
            on_message.lock().unwrap().messages.push(message.clone());
            if close {
                connection.close();
            } else {
                connection.send(message).unwrap();
            }
        })
        .on_close(move |connection, reason| {
            on_close.lock().unwrap().closed = Some((reason, connection.transport()));
        });
    let config = EngineConfig {
        // Two heartbeats in well under a second.
        ping_interval: Duration::from_millis(150),
        ping_timeout: Duration::from_secs(5),
        ..EngineConfig::default()
    };
    let engine = EngineServer::new(config, handlers).unwrap();
    let server = start(engine.attach(Server::new(Handlers::<()>::new()).workers(2)));
    let url = format!("http://{}", server.local_addr().unwrap());
    let (result, stderr) = peer_result("engineio_client.mjs", &[url.as_str(), mode]);
    // The close reaches our side as the client sees it; allow the loop a moment to report.
    let deadline = std::time::Instant::now() + PATIENCE;
    while seen.lock().unwrap().closed.is_none() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    server.shutdown().unwrap();
    let seen = std::mem::take(&mut *seen.lock().unwrap());
    assert_eq!(result["timedOut"], json!(false), "{result}\n{stderr}");
    (result, seen)
}

/// The client's view: what it was greeted with and what came back, in order.
fn expected_echoes(after_upgrade: bool) -> Value {
    let mut echoes = vec![
        json!({"text": "welcome"}),
        json!({"binary": [9, 8, 7]}),
        json!({"text": "hello"}),
        json!({"binary": [1, 2, 3]}),
    ];
    if after_upgrade {
        echoes.push(json!({"text": "after upgrade"}));
    }
    Value::Array(echoes)
}

fn check_server_side(seen: &Seen, connected_on: EngineTransport, after_upgrade: bool) {
    assert_eq!(seen.connected_on, Some(connected_on), "{seen:?}");
    let mut messages = vec![Message::from("hello"), Message::from(vec![1u8, 2, 3])];
    if after_upgrade {
        messages.push(Message::from("after upgrade"));
    }
    messages.push(Message::from("close me"));
    // The client sends "after upgrade" as soon as it upgraded, so it may pass "hello".
    let mut received = seen.messages.clone();
    let mut wanted = messages.clone();
    received.sort_by_key(|m| m.as_bytes().to_vec());
    wanted.sort_by_key(|m| m.as_bytes().to_vec());
    assert_eq!(received, wanted, "{seen:?}");
    assert_eq!(seen.messages.last(), Some(&Message::from("close me")));
}

#[test]
#[ignore = "needs the interop peers: scripts/install-peers.sh"]
fn engine_io_client_with_its_default_transports_upgrades_to_websocket() {
    let (result, seen) = run_client("default");
    assert_eq!(result["openedOn"], json!("polling"), "{result}");
    assert_eq!(result["upgradedTo"], json!("websocket"), "{result}");
    let received = result["received"].as_array().unwrap();
    // Greetings and echoes, each in order; "after upgrade" may overtake the first echoes.
    let mut sorted = received.clone();
    let mut wanted = expected_echoes(true).as_array().unwrap().clone();
    sorted.sort_by_key(Value::to_string);
    wanted.sort_by_key(Value::to_string);
    assert_eq!(sorted, wanted, "{result}");
    assert!(result["pings"].as_u64().unwrap() >= 2, "{result}");
    assert_eq!(result["closeReason"], json!("transport close"), "{result}");
    check_server_side(&seen, EngineTransport::Polling, true);
    assert_eq!(
        seen.closed,
        Some((CloseReason::ForcedClose, EngineTransport::WebSocket))
    );
}

/// One transport from start to end: everything in order on both sides.
fn one_transport_only(mode: &str, transport: EngineTransport) {
    let (result, seen) = run_client(mode);
    assert_eq!(result["openedOn"], json!(transport.name()), "{result}");
    assert_eq!(result["upgradedTo"], Value::Null, "{result}");
    assert_eq!(result["received"], expected_echoes(false), "{result}");
    assert!(result["pings"].as_u64().unwrap() >= 2, "{result}");
    assert_eq!(result["closeReason"], json!("transport close"), "{result}");
    check_server_side(&seen, transport, false);
    assert_eq!(
        seen.messages,
        [
            Message::from("hello"),
            Message::from(vec![1u8, 2, 3]),
            Message::from("close me")
        ]
    );
    assert_eq!(seen.closed, Some((CloseReason::ForcedClose, transport)));
}

#[test]
#[ignore = "needs the interop peers: scripts/install-peers.sh"]
fn engine_io_client_over_websocket_only() {
    one_transport_only("websocket", EngineTransport::WebSocket);
}

#[test]
#[ignore = "needs the interop peers: scripts/install-peers.sh"]
fn engine_io_client_over_long_polling_only() {
    one_transport_only("polling", EngineTransport::Polling);
}
