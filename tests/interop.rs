//! Interop with real peers, in both directions: Node `ws` and Python `websockets` clients
//! against our server, our event-loop client against their servers, and headless Chromium
//! using the chat page in two tabs.
//!
//! The peers are installed by `scripts/install-peers.sh` (`.ci/run` does it), so these
//! tests are ignored by a bare `cargo test`; run them with
//! `cargo test --test interop -- --include-ignored`.
//!
//! The same over TLS is in `tests/interop/tls.rs` (feature `tls`):
//! `cargo build --features tls --example chat &&
//! cargo test --features tls --test interop -- --include-ignored tls::`.
//!
//! Engine.IO (feature `socketio`: the npm `engine.io-client` and the protocol's own test
//! suite) is in `tests/interop/engineio.rs`:
//! `cargo build --features socketio --example engineio_echo &&
//! cargo test --features socketio --test interop -- --include-ignored engineio::`.
//!
//! Socket.IO (feature `socketio`: the npm `socket.io-client`) is in
//! `tests/interop/socketio.rs`:
//! `cargo test --features socketio --test interop -- --include-ignored socketio::`.
//!
//! Our Rust Socket.IO client against the npm `socket.io` server (feature `socketio`) is in
//! `tests/interop/socketio_rust_client.rs`:
//! `cargo test --features socketio --test interop -- --include-ignored socketio_rust_client::`.
//!
//! Our Socket.IO server in a Redis cluster with the npm `socket.io` server and
//! `@socket.io/redis-adapter` (features `socketio` and `redis`) is in
//! `tests/interop/socketio_redis.rs`:
//! `cargo test --features socketio,redis --test interop -- --include-ignored socketio_redis::`.
//!
//! The Socket.IO chat example in headless Chromium (feature `socketio`) is in
//! `tests/interop/socketio_chat.rs`:
//! `cargo build --features socketio --example socketio_chat &&
//! cargo test --features socketio --test interop -- --include-ignored socketio_chat::`.

#![cfg(feature = "server")]

#[cfg(feature = "redis")]
#[path = "interop/chat_redis.rs"]
mod chat_redis;
#[cfg(feature = "socketio")]
#[path = "interop/engineio.rs"]
mod engineio;
#[cfg(feature = "socketio")]
#[path = "interop/socketio.rs"]
mod socketio;
#[cfg(feature = "socketio")]
#[path = "interop/socketio_chat.rs"]
mod socketio_chat;
#[cfg(all(feature = "socketio", feature = "redis"))]
#[path = "interop/socketio_redis.rs"]
mod socketio_redis;
#[cfg(feature = "socketio")]
#[path = "interop/socketio_rust_client.rs"]
mod socketio_rust_client;
mod support;
#[cfg(feature = "tls")]
#[path = "interop/tls.rs"]
mod tls;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;

use rfc6455::events::{Client, Handlers, Server};
use rfc6455::{CloseCode, Message};
use support::{PATIENCE, start};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn interop(file: &str) -> PathBuf {
    repo().join("tests/interop").join(file)
}

/// Runs a peer script to completion; it must print "ok" and exit 0.
fn run_peer(program: &str, script: &str, args: &[&str]) {
    let output = Command::new(program)
        .arg(interop(script))
        .args(args)
        .current_dir(interop(""))
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.lines().any(|l| l.trim() == "ok"),
        "{script} failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
}

/// Runs the node peer script `script` with `args` to completion; returns the JSON of the
/// `RESULT <json>` line it prints, and what it wrote to stderr.
#[cfg(feature = "socketio")]
fn peer_result(script: &str, args: &[&str]) -> (serde_json::Value, String) {
    let output = Command::new("node")
        .arg(interop(script))
        .args(args)
        .current_dir(interop(""))
        .output()
        .expect("node");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let result = stdout
        .lines()
        .find_map(|line| line.strip_prefix("RESULT "))
        .unwrap_or_else(|| panic!("no RESULT line ({}):\n{stdout}\n{stderr}", output.status));
    (serde_json::from_str(result).unwrap(), stderr)
}

fn echo_server() -> rfc6455::events::Spawned {
    start(Server::new(Handlers::<()>::new().on_message(
        |socket, message| {
            socket.send(message).unwrap();
        },
    )))
}

#[test]
#[ignore = "needs the interop peers: scripts/install-peers.sh"]
fn node_ws_client_against_our_server() {
    let server = echo_server();
    run_peer("node", "node_client.mjs", &[&support::url(&server, "/")]);
    server.shutdown().unwrap();
}

#[test]
#[ignore = "needs the interop peers: scripts/install-peers.sh"]
fn python_websockets_client_against_our_server() {
    let server = echo_server();
    run_peer(
        "python3",
        "python_client.py",
        &[&support::url(&server, "/")],
    );
    server.shutdown().unwrap();
}

#[test]
#[ignore = "needs the interop peers: scripts/install-peers.sh"]
fn node_ws_client_with_permessage_deflate_against_our_server() {
    let server = echo_server();
    let url = support::url(&server, "/");
    run_peer("node", "node_client.mjs", &[&url, "--deflate"]);
    server.shutdown().unwrap();
}

#[test]
#[ignore = "needs the interop peers: scripts/install-peers.sh"]
fn python_websockets_client_with_permessage_deflate_against_our_server() {
    let server = echo_server();
    let url = support::url(&server, "/");
    run_peer("python3", "python_client.py", &[&url, "--deflate"]);
    server.shutdown().unwrap();
}

/// A peer echo server: a child process that printed `PORT n`.
struct PeerServer {
    child: Child,
    port: u16,
    lines: mpsc::Receiver<String>,
}

impl PeerServer {
    fn start(program: &str, script: &str, args: &[&str]) -> PeerServer {
        let mut child = Command::new(program)
            .arg(interop(script))
            .args(args)
            .current_dir(interop(""))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
        let (sender, lines) = mpsc::channel();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let first = lines.recv_timeout(PATIENCE).expect("the peer's PORT line");
        let port = first
            .strip_prefix("PORT ")
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"));
        PeerServer { child, port, lines }
    }
}

impl Drop for PeerServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The exchange our clients run against a peer echo server, the same as the peers'
/// clients run against ours: two texts, 64 KiB and 1 MiB of binary, 100 small texts.
fn exchange() -> Vec<Message> {
    let mut messages: Vec<Message> = vec![Message::from("hello"), Message::from("κόσμε 🙂")];
    messages.push(Message::from(
        (0..65536u32).map(|i| (i * 7) as u8).collect::<Vec<u8>>(),
    ));
    messages.push(Message::from(
        (0..1 << 20)
            .map(|i: u32| (i * 13) as u8)
            .collect::<Vec<u8>>(),
    ));
    messages.extend((0..100).map(|i| Message::from(format!("m{i}"))));
    messages
}

/// Our event-loop client runs the same exchange as the peers' clients against a peer
/// echo server, then closes with 1000 "done"; the peer must report that close.
fn our_client_against(program: &str, script: &str, deflate: bool) {
    let args: &[&str] = if deflate { &["--deflate"] } else { &[] };
    let peer = PeerServer::start(program, script, args);
    let url = format!("ws://127.0.0.1:{}/", peer.port);
    our_client_exchange(&peer, &url, deflate, |client| client);
}

/// Our event-loop client, set up by `setup` (TLS...), runs [`exchange`] against `peer` at
/// `url`, then closes with 1000 "done"; the peer must report that close.
fn our_client_exchange(
    peer: &PeerServer,
    url: &str,
    deflate: bool,
    setup: impl FnOnce(Client<()>) -> Client<()>,
) {
    let expected = exchange();
    let to_send = expected.clone();
    let (received, messages) = mpsc::channel();
    let (closes, close) = mpsc::channel();
    let (opened, open) = mpsc::channel();
    let config = rfc6455::Config {
        // The whole exchange (1.1 MiB) is queued at once.
        max_write_buffer: 8 << 20,
        ..Default::default()
    };
    let client = setup(Client::new(
        Handlers::<()>::new()
            .on_open(move |socket| {
                assert_eq!(
                    socket.is_compressed(),
                    deflate,
                    "permessage-deflate negotiated"
                );
                for message in &to_send {
                    socket.send(message.clone()).unwrap();
                }
                opened.send(socket.id()).unwrap();
            })
            .on_message(move |_, message| received.send(message).unwrap())
            .on_close(move |_, code, reason| closes.send((code, reason.to_owned())).unwrap()),
    ))
    .config(config)
    .connect(url)
    .unwrap()
    .spawn()
    .unwrap();
    let id = open.recv_timeout(PATIENCE).unwrap();
    for (index, want) in expected.iter().enumerate() {
        let got = messages.recv_timeout(PATIENCE).unwrap();
        assert_eq!(&got, want, "message {index}");
    }
    client
        .handle()
        .close(id, CloseCode::NORMAL, "done")
        .unwrap();
    let (code, _) = close.recv_timeout(PATIENCE).unwrap();
    assert_eq!(code, CloseCode::NORMAL);
    let report = peer.lines.recv_timeout(PATIENCE).unwrap();
    assert_eq!(report, "CLOSED 1000 done");
    client.join().unwrap();
}

#[test]
#[ignore = "needs the interop peers: scripts/install-peers.sh"]
fn our_client_against_a_node_ws_server() {
    our_client_against("node", "node_server.mjs", false);
}

#[test]
#[ignore = "needs the interop peers: scripts/install-peers.sh"]
fn our_client_with_permessage_deflate_against_a_node_ws_server() {
    our_client_against("node", "node_server.mjs", true);
}

#[test]
#[ignore = "needs the interop peers: scripts/install-peers.sh"]
fn our_client_against_a_python_websockets_server() {
    our_client_against("python3", "python_server.py", false);
}

#[test]
#[ignore = "needs the interop peers: scripts/install-peers.sh"]
fn our_client_with_permessage_deflate_against_a_python_websockets_server() {
    our_client_against("python3", "python_server.py", true);
}

/// The chat example, built by `cargo test` with the other examples.
fn chat_binary() -> PathBuf {
    let deps = std::env::current_exe().unwrap();
    let profile = deps.parent().and_then(Path::parent).unwrap();
    profile.join("examples").join("chat")
}

/// Runs the chat example on a free port of 127.0.0.1 with `chat_args`, waits for its
/// first line to start with `ready`, then runs `chat_browser.mjs` with the page's URL
/// (`page(port)`) and `browser_args`; the chat server is stopped either way.
fn chromium_chat(
    chat_args: &[&str],
    ready: &str,
    page: impl Fn(u16) -> String,
    browser_args: &[&str],
) {
    chromium_example(
        "chat",
        "chat_browser.mjs",
        chat_args,
        ready,
        page,
        browser_args,
    );
}

/// An example server (built beside `chat`) on a free port of 127.0.0.1, stopped when
/// dropped.
struct RunningExample {
    child: std::process::Child,
    port: u16,
}

impl RunningExample {
    /// Starts `example` with the address and `args`, and waits for its first line to start
    /// with `ready` (its stderr is drained all along, and shown if it does not).
    fn start(example: &str, args: &[&str], ready: &str) -> RunningExample {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = Command::new(chat_binary().with_file_name(example))
            .arg(format!("127.0.0.1:{port}"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "the {example} example ({e}): `cargo build --example {example}` with its features"
                )
            });
        // Drained all along, so that a chatty server never blocks on a full pipe.
        let mut stderr = child.stderr.take().unwrap();
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = std::io::Read::read_to_string(&mut stderr, &mut text);
            text
        });
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let running = RunningExample { child, port };
        if !first.starts_with(ready) {
            drop(running);
            let stderr = stderr.join().unwrap_or_default();
            panic!("the {example} example said {first:?}, not {ready:?}...: {stderr}");
        }
        running
    }
}

impl Drop for RunningExample {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the example `example` (built beside `chat`) on a free port of 127.0.0.1 with
/// `chat_args`, waits for its first line to start with `ready`, then runs the browser
/// script `script` with the page's URL (`page(port)`) and `browser_args`; the example is
/// stopped either way.
fn chromium_example(
    example: &str,
    script: &str,
    chat_args: &[&str],
    ready: &str,
    page: impl Fn(u16) -> String,
    browser_args: &[&str],
) {
    let server = RunningExample::start(example, chat_args, ready);
    let url = page(server.port);
    let mut args = vec![url.as_str()];
    args.extend_from_slice(browser_args);
    run_peer("node", script, &args);
}

#[test]
#[ignore = "needs the interop peers: scripts/install-peers.sh"]
fn chromium_uses_the_chat_page_in_two_tabs() {
    let screenshot = repo().join("docs/chat.png");
    chromium_chat(
        &[],
        "chat on http://",
        |port| format!("http://127.0.0.1:{port}/"),
        &[screenshot.to_str().unwrap()],
    );
}
