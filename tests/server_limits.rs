//! The runtime's bounds over real sockets: the write-queue bound against a peer that never
//! reads, and the handshake, keep-alive and close timeouts (short configured values; the
//! tests wait for events, never for fixed sleeps).

#![cfg(feature = "server")]

mod support;

use std::io::Write;
use std::net::TcpStream;
use std::sync::{Mutex, mpsc};
use std::time::Duration;

use rfc6455::events::{Handlers, Server};
use rfc6455::frame::OpCode;
use rfc6455::{Backpressure, CapacityError, Config, Error, Timeout};
use support::{PATIENCE, read_frame, read_to_end, start};

const KIB: usize = 1024;

fn config() -> Config {
    Config {
        max_write_buffer: 256 * KIB,
        close_timeout: Duration::from_millis(300),
        ..Config::default()
    }
}

/// On open, the server queues 1 KiB messages until a send fails; it reports how many
/// went in and what the error was.
fn flooding_server(config: Config) -> (Server<()>, mpsc::Receiver<String>) {
    let (report, reports) = mpsc::channel();
    let on_error = report.clone();
    let on_close = report.clone();
    let server = Server::new(
        Handlers::<()>::new()
            .on_open(move |socket| {
                let chunk = vec![0u8; KIB];
                let mut accepted = 0usize;
                let error = loop {
                    match socket.send(&chunk) {
                        Ok(()) => accepted += 1,
                        Err(error) => break error,
                    }
                    assert!(accepted < 100_000, "the bound never applied");
                };
                let queued = socket.buffered_amount();
                report
                    .send(format!("accepted {accepted} queued {queued} error {error}"))
                    .unwrap();
            })
            .on_error(move |_, error| on_error.send(format!("on_error {error}")).unwrap())
            .on_close(move |_, code, _| on_close.send(format!("on_close {code}")).unwrap()),
    )
    .config(config);
    (server, reports)
}

#[test]
fn a_peer_that_never_reads_hits_the_write_queue_bound_and_is_closed() {
    let _exclusive = support::exclusive();
    let (server, reports) = flooding_server(config());
    let running = start(server);
    let _peer = support::raw_client(running.local_addr().unwrap());
    let report = reports.recv_timeout(PATIENCE).unwrap();
    // "accepted N queued Q error ...": the queue never holds more than the bound plus one
    // message, whatever the kernel's socket buffers took.
    let numbers: Vec<usize> = report
        .split_whitespace()
        .filter_map(|word| word.parse().ok())
        .collect();
    let (accepted, queued) = (numbers[0], numbers[1]);
    assert!(queued <= 256 * KIB + KIB + 16, "{report}");
    assert!(queued >= 256 * KIB, "{report}");
    // What was accepted is the queue plus what the kernel's socket buffers took (a few MiB).
    assert!(accepted * KIB < 256 * KIB + (8 << 20), "{report}");
    assert!(report.contains("write buffer full"), "{report}");
    // The default policy fails the connection: on_error, then (no close reply comes from
    // a peer that does not read) on_close after the close timeout.
    let on_error = reports.recv_timeout(PATIENCE).unwrap();
    assert!(
        on_error.starts_with("on_error") && on_error.contains("write buffer full"),
        "{on_error}"
    );
    let timeout = reports.recv_timeout(PATIENCE).unwrap();
    assert!(
        timeout.starts_with("on_error timed out") && timeout.contains("close"),
        "{timeout}"
    );
    assert_eq!(reports.recv_timeout(PATIENCE).unwrap(), "on_close 1006");
    running.shutdown().unwrap();
}

#[test]
fn the_refuse_policy_keeps_the_connection_and_refuses_sends() {
    let _exclusive = support::exclusive();
    let config = Config {
        backpressure: Backpressure::Refuse,
        ..config()
    };
    let (server, reports) = flooding_server(config);
    let running = start(server);
    let mut peer = support::raw_client(running.local_addr().unwrap());
    let report = reports.recv_timeout(PATIENCE).unwrap();
    assert!(report.contains("write buffer full"), "{report}");
    // The connection is still open: the peer can read everything that was queued.
    let numbers: Vec<usize> = report
        .split_whitespace()
        .filter_map(|word| word.parse().ok())
        .collect();
    for _ in 0..numbers[0] {
        let (opcode, payload) = read_frame(&mut peer).unwrap();
        assert_eq!((opcode, payload.len()), (OpCode::Binary, KIB));
    }
    assert!(
        reports.try_recv().is_err(),
        "no error and no close under the refuse policy"
    );
    running.shutdown().unwrap();
}

/// Under the refuse policy, a handler floods until refused, stops, and resumes when
/// `on_drain` says the queue was written down to its low-water mark: the peer gets every
/// message, in order, and each drain comes at or below the mark. (The kernel's socket
/// buffers take some of the queue before the peer reads anything, so drains may come
/// before the peer reads.)
#[test]
fn on_drain_resumes_a_refused_sender_once_the_queue_falls_to_the_low_water_mark() {
    let _exclusive = support::exclusive();
    const TOTAL: usize = 20_000;
    fn send_until_refused(socket: &mut rfc6455::events::Socket<'_, usize>) -> bool {
        while *socket.data() < TOTAL {
            let next = *socket.data();
            if socket.send(next.to_be_bytes().repeat(KIB / 8)).is_err() {
                return false;
            }
            *socket.data_mut() += 1;
        }
        true
    }
    let (report, reports) = mpsc::channel();
    let on_drain_report = report.clone();
    let config = Config {
        backpressure: Backpressure::Refuse,
        max_write_buffer: 64 * KIB,
        write_buffer_low_water: 16 * KIB,
        ..config()
    };
    let handlers = Handlers::<usize>::new()
        .on_open(move |socket| {
            let done = send_until_refused(socket);
            report
                .send(format!("open sent {} done {done}", socket.data()))
                .unwrap();
        })
        .on_drain(move |socket| {
            let queued = socket.buffered_amount();
            let done = send_until_refused(socket);
            on_drain_report
                .send(format!(
                    "drain at {queued} sent {} done {done}",
                    socket.data()
                ))
                .unwrap();
        });
    let running = start(Server::new(handlers).config(config));
    let mut peer = support::raw_client(running.local_addr().unwrap());
    let first = reports.recv_timeout(PATIENCE).unwrap();
    assert!(first.ends_with("done false"), "{first}");
    for expected in 0..TOTAL {
        let (opcode, payload) = read_frame(&mut peer).unwrap();
        assert_eq!(opcode, OpCode::Binary);
        assert_eq!(payload[..8], expected.to_be_bytes(), "message {expected}");
    }
    let drains: Vec<String> = reports.try_iter().collect();
    assert!(!drains.is_empty(), "no drain came");
    for drain in &drains {
        let queued: usize = drain.split_whitespace().nth(2).unwrap().parse().unwrap();
        assert!(queued <= 16 * KIB, "{drain}");
    }
    assert!(drains.last().unwrap().ends_with("done true"), "{drains:?}");
    drop(peer);
    running.shutdown().unwrap();
}

#[test]
fn the_write_queue_error_is_precise() {
    let _exclusive = support::exclusive();
    let error = Error::from(CapacityError::WriteBufferFull {
        buffered: 10,
        limit: 5,
    });
    assert_eq!(
        error.close_code(),
        Some(rfc6455::CloseCode::POLICY_VIOLATION)
    );
}

/// Handlers that report every timeout and close.
fn timeout_handlers() -> (Handlers<()>, mpsc::Receiver<String>) {
    let (report, reports) = mpsc::channel();
    let on_close = report.clone();
    let handlers = Handlers::<()>::new()
        .on_error(move |_, error| {
            let kind = match error {
                Error::Timeout(Timeout::Handshake) => "handshake timeout",
                Error::Timeout(Timeout::Pong) => "pong timeout",
                Error::Timeout(Timeout::Close) => "close timeout",
                _ => "other error",
            };
            report.send(kind.to_owned()).unwrap();
        })
        .on_close(move |_, code, _| on_close.send(format!("close {code}")).unwrap());
    (handlers, reports)
}

fn timeout_server(config: Config) -> (Server<()>, mpsc::Receiver<String>) {
    let (handlers, reports) = timeout_handlers();
    (Server::new(handlers).config(config), reports)
}

#[test]
fn a_slow_handshake_is_dropped_at_the_handshake_timeout() {
    let _exclusive = support::exclusive();
    let (server, _) = timeout_server(Config {
        handshake_timeout: Duration::from_millis(200),
        ..config()
    });
    let running = start(server);
    let mut stream = TcpStream::connect(running.local_addr().unwrap()).unwrap();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    // Slowloris: one byte, then nothing.
    stream.write_all(b"G").unwrap();
    assert_eq!(read_to_end(&mut stream), 0, "closed without a response");
    running.shutdown().unwrap();
}

#[test]
fn a_silent_peer_gets_a_ping_then_is_closed_at_the_pong_timeout() {
    let _exclusive = support::exclusive();
    let (server, reports) = timeout_server(Config {
        ping_interval: Some(Duration::from_millis(100)),
        pong_timeout: Duration::from_millis(200),
        ..config()
    });
    let running = start(server);
    let mut peer = support::raw_client(running.local_addr().unwrap());
    let (opcode, _) = read_frame(&mut peer).unwrap();
    assert_eq!(opcode, OpCode::Ping, "a keep-alive ping comes first");
    let (opcode, payload) = read_frame(&mut peer).unwrap();
    assert_eq!(opcode, OpCode::Close);
    assert_eq!(&payload[..2], &1008u16.to_be_bytes());
    assert_eq!(read_to_end(&mut peer), 0);
    assert_eq!(reports.recv_timeout(PATIENCE).unwrap(), "pong timeout");
    assert_eq!(reports.recv_timeout(PATIENCE).unwrap(), "close 1006");
    running.shutdown().unwrap();
}

#[test]
fn a_peer_that_answers_pings_stays_connected() {
    let _exclusive = support::exclusive();
    let (server, reports) = timeout_server(Config {
        ping_interval: Some(Duration::from_millis(50)),
        pong_timeout: Duration::from_millis(100),
        ..config()
    });
    let running = start(server);
    let mut peer = support::raw_client(running.local_addr().unwrap());
    // Answer five pings: the connection outlives several pong timeouts.
    for _ in 0..5 {
        let (opcode, payload) = read_frame(&mut peer).unwrap();
        assert_eq!(opcode, OpCode::Ping);
        peer.write_all(&support::client_frame(0xA, &payload))
            .unwrap();
    }
    assert!(
        reports.try_recv().is_err(),
        "no timeout while pongs come back"
    );
    running.shutdown().unwrap();
}

#[test]
fn a_peer_that_never_answers_our_close_is_dropped_at_the_close_timeout() {
    let _exclusive = support::exclusive();
    let (handlers, reports) = timeout_handlers();
    let (ids, id) = mpsc::channel();
    let handlers = handlers.on_open(move |socket| ids.send(socket.id()).unwrap());
    let running = start(Server::new(handlers).config(config()));
    let mut peer = support::raw_client(running.local_addr().unwrap());
    let socket = id.recv_timeout(PATIENCE).unwrap();
    running
        .handle()
        .close(socket, rfc6455::CloseCode::NORMAL, "bye")
        .unwrap();
    let (opcode, _) = read_frame(&mut peer).unwrap();
    assert_eq!(opcode, OpCode::Close);
    // We do not answer; the server gives up after the close timeout.
    assert_eq!(read_to_end(&mut peer), 0);
    assert_eq!(reports.recv_timeout(PATIENCE).unwrap(), "close timeout");
    assert_eq!(reports.recv_timeout(PATIENCE).unwrap(), "close 1006");
    running.shutdown().unwrap();
}

#[test]
fn memory_stays_bounded_while_a_peer_that_never_reads_is_flooded() {
    let _exclusive = support::exclusive();
    // Under the refuse policy the connection stays open while the application keeps
    // sending: 200,000 attempts of 1 KiB (200 MiB) must leave the process within the
    // 1 MiB queue bound plus a few MiB, not 200 MiB larger.
    let config = Config {
        max_write_buffer: 1 << 20,
        backpressure: Backpressure::Refuse,
        ..config()
    };
    let (report, reports) = mpsc::channel();
    let running = start(
        Server::new(Handlers::<()>::new().on_open(move |socket| {
            let before = support::rss_bytes();
            let chunk = vec![1u8; KIB];
            let mut accepted = 0usize;
            for _ in 0..200_000 {
                if socket.send(&chunk).is_ok() {
                    accepted += 1;
                }
            }
            let grown = support::rss_bytes().saturating_sub(before);
            report
                .send((accepted, socket.buffered_amount(), grown))
                .unwrap();
        }))
        .config(config),
    );
    let _peer = support::raw_client(running.local_addr().unwrap());
    let (accepted, queued, grown) = reports.recv_timeout(PATIENCE).unwrap();
    println!(
        "accepted {accepted} of 200000 sends of 1 KiB; queued {queued} bytes; RSS grew {} KiB",
        grown / 1024
    );
    assert!(queued <= (1 << 20) + KIB + 16, "queued {queued}");
    assert!(grown < 8 << 20, "RSS grew by {} KiB", grown / 1024);
    running.shutdown().unwrap();
}

#[test]
fn a_loop_that_falls_behind_refuses_handle_sends_at_the_command_queue_bound() {
    let _exclusive = support::exclusive();
    // The loop's thread is held in a handler while this thread sends through a Handle: the
    // loop's channel fills to max_command_queue, then sends are refused. Once the loop takes
    // them in, every accepted message arrives, and sends are accepted again.
    let config = Config {
        max_command_queue: 4 * KIB,
        #[cfg(feature = "deflate")]
        deflate: None,
        ..config()
    };
    let (held, ids) = mpsc::channel();
    let (release, released) = mpsc::channel::<()>();
    let released = Mutex::new(released);
    let running = start(
        Server::new(Handlers::<()>::new().on_message(move |socket, _| {
            held.send(socket.id()).unwrap();
            released.lock().unwrap().recv_timeout(PATIENCE).unwrap();
        }))
        .config(config),
    );
    let mut peer = support::raw_client(running.local_addr().unwrap());
    peer.write_all(&support::client_frame(0x1, b"hold"))
        .unwrap();
    let id = ids.recv_timeout(PATIENCE).unwrap();
    let handle = running.handle();
    let chunk = [7u8; 1020]; // a frame of 1 KiB (4 header bytes)
    let mut accepted = 0;
    let error = loop {
        match handle.send(id, &chunk) {
            Ok(()) => accepted += 1,
            Err(error) => break error,
        }
        assert!(accepted < 100, "the bound never applied");
    };
    // With 0, 1, 2 and 3 KiB waiting, a send is accepted; with 4 KiB, the fifth is refused.
    assert_eq!(accepted, 4);
    assert!(
        matches!(
            error,
            Error::Capacity(CapacityError::CommandQueueFull {
                queued: 4096,
                limit: 4096
            })
        ),
        "{error}"
    );
    let refused = handle.broadcast().send(&chunk);
    assert!(
        matches!(
            refused,
            Err(Error::Capacity(CapacityError::CommandQueueFull { .. }))
        ),
        "{refused:?}"
    );
    // A volatile send finds the channel full too: dropped at once, which is no error.
    handle.send_volatile(id, b"dropped").unwrap();
    release.send(()).unwrap();
    for _ in 0..accepted {
        assert_eq!(
            read_frame(&mut peer).unwrap(),
            (OpCode::Binary, chunk.to_vec())
        );
    }
    // The loop took the messages off its channel before sending them: there is room again.
    handle.send(id, &chunk).unwrap();
    assert_eq!(
        read_frame(&mut peer).unwrap(),
        (OpCode::Binary, chunk.to_vec())
    );
    // Everything written: a volatile send to the idle socket goes (and the dropped one
    // never came).
    handle.send_volatile(id, b"idle").unwrap();
    assert_eq!(
        read_frame(&mut peer).unwrap(),
        (OpCode::Binary, b"idle".to_vec())
    );
    running.shutdown().unwrap();
}

#[test]
fn a_flood_of_handle_sends_does_not_starve_the_loop() {
    let _exclusive = support::exclusive();
    // Four threads send through a Handle as fast as they can, so the loop's channel is
    // never empty. The loop must still get back to its sockets: another peer's ping is
    // answered while the flood goes on.
    let config = Config {
        backpressure: Backpressure::Refuse,
        ..config()
    };
    let (ids, id) = mpsc::channel();
    let running = start(
        Server::new(Handlers::<()>::new().on_open(move |socket| ids.send(socket.id()).unwrap()))
            .config(config),
    );
    let _flooded = support::raw_client(running.local_addr().unwrap());
    let flooded_id = id.recv_timeout(PATIENCE).unwrap();
    let mut pinging = support::raw_client(running.local_addr().unwrap());
    let _pinging_id = id.recv_timeout(PATIENCE).unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (started, flooding) = mpsc::channel();
    let producers: Vec<_> = (0..4)
        .map(|_| {
            let handle = running.handle();
            let stop = stop.clone();
            let started = started.clone();
            std::thread::spawn(move || {
                let mut sent = 0u64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let _ = handle.send(flooded_id, b"0123456789abcdef");
                    sent += 1;
                    if sent == 10_000 {
                        started.send(()).unwrap();
                    }
                }
            })
        })
        .collect();
    for _ in 0..4 {
        flooding.recv_timeout(PATIENCE).unwrap();
    }
    pinging
        .write_all(&support::client_frame(0x9, b"still there?"))
        .unwrap();
    let answer = read_frame(&mut pinging);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for producer in producers {
        producer.join().unwrap();
    }
    assert_eq!(answer.unwrap(), (OpCode::Pong, b"still there?".to_vec()));
    running.shutdown().unwrap();
}

#[test]
fn a_peer_that_sends_without_pause_does_not_starve_the_others() {
    let _exclusive = support::exclusive();
    // One peer writes small messages as fast as loopback takes them, so its socket is
    // never drained. The loop must still serve the other sockets: a second peer's ping is
    // answered while the flood goes on.
    let running = start(Server::new(Handlers::<()>::new()).config(config()));
    let address = running.local_addr().unwrap();
    let mut flooding = support::raw_client(address);
    let mut pinging = support::raw_client(address);
    // 64 KiB of 16-byte messages per write: handling them costs the loop more than
    // writing them costs the peer, so every read finds the socket full again.
    let frame: Vec<u8> = support::client_frame(0x2, &[0x5A; 16])
        .into_iter()
        .cycle()
        .take(22 * 64 * 46)
        .collect();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (started, flooding_now) = mpsc::channel();
    let flooder = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut sent = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                if flooding.write_all(&frame).is_err() {
                    break;
                }
                sent += 1;
                if sent == 64 {
                    started.send(()).unwrap();
                }
            }
        })
    };
    flooding_now.recv_timeout(PATIENCE).unwrap();
    pinging
        .write_all(&support::client_frame(0x9, b"still there?"))
        .unwrap();
    let answer = read_frame(&mut pinging);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    flooder.join().unwrap();
    assert_eq!(answer.unwrap(), (OpCode::Pong, b"still there?".to_vec()));
    running.shutdown().unwrap();
}

/// The request every connection of `accepting_resumes_when_file_descriptors_free_up` sends.
const UPGRADE: &[u8] = b"GET / HTTP/1.1\r\nHost: test\r\nUpgrade: websocket\r\n\
    Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
    Sec-WebSocket-Version: 13\r\n\r\n";

/// Reads a response head within `patience`; true if it is a 101.
fn upgraded_within(stream: &mut TcpStream, patience: Duration) -> bool {
    use std::io::Read;
    stream.set_read_timeout(Some(patience)).unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read_exact(&mut byte).is_err() {
            return false;
        }
        head.push(byte[0]);
    }
    head.starts_with(b"HTTP/1.1 101 ")
}

#[test]
fn accepting_resumes_when_file_descriptors_free_up() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    const CHILD: &str = "RFC6455_TEST_FD_LIMITED_SERVER";
    if std::env::var_os(CHILD).is_some() {
        // The child: a server in a process that may hold 40 file descriptors. It prints
        // its port and serves until its stdin closes.
        let running = start(Server::new(Handlers::<()>::new()));
        println!("port {}", running.local_addr().unwrap().port());
        let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
        running.shutdown().unwrap();
        return;
    }
    let _exclusive = support::exclusive();
    let mut child = Command::new("sh")
        .args(["-c", "ulimit -n 40 && exec \"$0\" \"$@\""])
        .arg(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "accepting_resumes_when_file_descriptors_free_up",
            "--nocapture",
        ])
        .env(CHILD, "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut output = BufReader::new(child.stdout.take().unwrap()).lines();
    let port: u16 = output
        .by_ref()
        .map_while(Result::ok)
        .find_map(|line| line.strip_prefix("port ").map(|port| port.parse().unwrap()))
        .expect("the child's port");
    let address = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    // Open connections until the server cannot accept more: those wait in the backlog.
    let (mut open, mut waiting) = (Vec::new(), Vec::new());
    while waiting.len() < 3 {
        assert!(open.len() < 40, "the descriptor limit never applied");
        let mut stream = TcpStream::connect(address).unwrap();
        stream.write_all(UPGRADE).unwrap();
        if upgraded_within(&mut stream, Duration::from_millis(300)) {
            open.push(stream);
        } else {
            waiting.push(stream);
        }
    }
    assert!(
        open.len() >= 10,
        "only {} connections before the limit",
        open.len()
    );
    // Closing some frees descriptors: the waiting ones are accepted, with no new connection
    // arriving to wake the listener.
    open.truncate(open.len() - 5);
    for stream in &mut waiting {
        assert!(
            upgraded_within(stream, PATIENCE),
            "a waiting connection was never accepted"
        );
    }
    drop((open, waiting));
    drop(child.stdin.take());
    let rest: Vec<String> = output.map_while(Result::ok).collect();
    assert!(child.wait().unwrap().success(), "{rest:?}");
}

#[test]
fn a_refused_peer_that_keeps_sending_is_cut_off_after_64_kib_not_at_the_close_timeout() {
    let _exclusive = support::exclusive();
    // Only the byte cap can end the lingering read here: the close timeout is a minute.
    let (server, _) = timeout_server(Config {
        close_timeout: Duration::from_secs(60),
        ..config()
    });
    let running = start(server);
    let mut stream = TcpStream::connect(running.local_addr().unwrap()).unwrap();
    stream.set_write_timeout(Some(PATIENCE)).unwrap();
    // A head the server refuses (400: no key), then junk without end.
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\n\r\n")
        .unwrap();
    let junk = vec![b'j'; 16 * KIB];
    let mut sent = 0usize;
    let cut_off = loop {
        match stream.write(&junk) {
            Ok(n) => sent += n,
            Err(e) => break e,
        }
        // Without the cap the server reads on for a minute and this goes on for ever.
        assert!(sent < 256 << 20, "still accepted after {sent} bytes");
    };
    assert!(
        matches!(
            cut_off.kind(),
            std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe
        ),
        "{cut_off} after {sent} bytes"
    );
    println!("cut off after {sent} bytes: {cut_off}");
    running.shutdown().unwrap();
}
