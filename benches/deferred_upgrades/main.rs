//! Upgrades answered later must not slow the loop down: 1,000 upgrades arrive at once, and
//! another thread answers each 200 ms after it came (as an authentication lookup would),
//! while an established connection echoes small messages one at a time; its round-trip
//! latencies during the window are the figure.
//!
//! ```text
//! cargo bench --bench deferred_upgrades [-- --upgrades 1000 --wait-ms 200]
//! ```
//!
//! Prints one JSON line: how many upgrades were accepted, when the last one completed, and
//! the echo count and latency (p50, p99, max) while they were outstanding. Server, answering
//! thread and clients share this process; everything is on 127.0.0.1.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use rfc6455::Event;
use rfc6455::blocking::WebSocket;
use rfc6455::events::{Handlers, Server, Upgrade};

/// An upgrade and when to answer it.
struct Due(Instant, usize, Upgrade<()>);

impl PartialEq for Due {
    fn eq(&self, other: &Self) -> bool {
        (self.0, self.1) == (other.0, other.1)
    }
}
impl Eq for Due {}
impl PartialOrd for Due {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Due {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.0, self.1).cmp(&(other.0, other.1))
    }
}

fn option(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map_or(default, |v| v.parse().expect("a number"))
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index].as_secs_f64() * 1e6
}

fn main() {
    let upgrades = option("--upgrades", 1000) as usize;
    let wait = Duration::from_millis(option("--wait-ms", 200));

    // The answering thread: answers each upgrade `wait` after it arrived.
    let (queue, arrivals) = mpsc::channel::<(Instant, Upgrade<()>)>();
    let answerer = thread::spawn(move || {
        let mut heap = BinaryHeap::new();
        let mut serial = 0;
        loop {
            let timeout = heap
                .peek()
                .map(|Reverse(Due(at, _, _))| at.saturating_duration_since(Instant::now()));
            let received = match timeout {
                Some(timeout) => arrivals.recv_timeout(timeout),
                None => arrivals
                    .recv()
                    .map_err(|_| mpsc::RecvTimeoutError::Disconnected),
            };
            match received {
                Ok((arrived, upgrade)) => {
                    serial += 1;
                    heap.push(Reverse(Due(arrived + wait, serial, upgrade)));
                }
                Err(mpsc::RecvTimeoutError::Disconnected) if heap.is_empty() => return,
                Err(_) => {}
            }
            while heap
                .peek()
                .is_some_and(|Reverse(Due(at, _, _))| *at <= Instant::now())
            {
                let Some(Reverse(Due(_, _, upgrade))) = heap.pop() else {
                    break;
                };
                upgrade.accept(());
            }
        }
    });
    let queue = Mutex::new(queue);
    let handlers = Handlers::<()>::new().on_message(|socket, message| {
        let _ = socket.send(message);
    });
    let running = Server::new(handlers)
        .on_upgrade(move |request, upgrade| {
            if request.path() == "/now" {
                upgrade.accept(());
            } else {
                let _ = queue.lock().unwrap().send((Instant::now(), upgrade));
            }
        })
        .bind("127.0.0.1:0")
        .unwrap()
        .spawn()
        .unwrap();
    let address = running.local_addr().unwrap();

    // The established peer echoes one message at a time until told to stop.
    let (mut peer, _) = WebSocket::connect(&format!("ws://{address}/now")).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let peer_stop = stop.clone();
    let echoes = thread::spawn(move || {
        let mut latencies = Vec::new();
        while !peer_stop.load(Ordering::Acquire) {
            let sent = Instant::now();
            peer.send("ping").unwrap();
            loop {
                match peer.read().unwrap() {
                    Event::Message(_) => break,
                    _ => continue,
                }
            }
            latencies.push((sent, sent.elapsed()));
        }
        latencies
    });

    // The upgrades, all at once; then every answer.
    thread::sleep(Duration::from_millis(100));
    let started = Instant::now();
    let head =
        b"GET /auth HTTP/1.1\r\nHost: bench\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
        Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    let mut streams: Vec<TcpStream> = (0..upgrades)
        .map(|_| {
            let mut stream = TcpStream::connect(address).unwrap();
            stream.write_all(head).unwrap();
            stream
        })
        .collect();
    let sent_all = started.elapsed();
    let mut accepted = 0;
    for stream in &mut streams {
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let mut status = [0u8; 12];
        stream.read_exact(&mut status).unwrap();
        if &status[9..12] == b"101" {
            accepted += 1;
        }
    }
    let all_answered = started.elapsed();
    let finished = Instant::now();
    stop.store(true, Ordering::Release);
    // The round trips made while upgrades were outstanding.
    let mut latencies: Vec<Duration> = echoes
        .join()
        .unwrap()
        .into_iter()
        .filter(|(sent, _)| *sent >= started && *sent <= finished)
        .map(|(_, latency)| latency)
        .collect();
    latencies.sort();
    drop(streams);
    running.shutdown().unwrap();
    answerer.join().unwrap();
    println!(
        "{{\"upgrades\":{upgrades},\"wait_ms\":{},\"accepted\":{accepted},\
         \"requests_sent_ms\":{:.1},\"all_answered_ms\":{:.1},\"echoes\":{},\
         \"echo_p50_us\":{:.1},\"echo_p99_us\":{:.1},\"echo_max_us\":{:.1}}}",
        wait.as_millis(),
        sent_all.as_secs_f64() * 1e3,
        all_answered.as_secs_f64() * 1e3,
        latencies.len(),
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
        latencies.last().map_or(0.0, |d| d.as_secs_f64() * 1e6),
    );
}
