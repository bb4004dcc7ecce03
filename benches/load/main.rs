//! The end-to-end load generator: N WebSocket connections on one mio loop, each keeping K
//! messages of S bytes in flight against an echo server, verifying every echo.
//!
//! ```text
//! cargo bench --bench load -- --url ws://127.0.0.1:9001/ --connections 100 --size 16 \
//!     --in-flight 4 --seconds 5 [--warmup 1] [--server-pid PID]
//! cargo bench --bench load -- --url ws://127.0.0.1:9001/ --connections 10000 --idle \
//!     --server-pid PID
//! ```
//!
//! It prints one JSON object: messages per second, MB/s, latency percentiles, its own CPU
//! time, and, given `--server-pid`, the server's CPU time and messages per server
//! CPU-second over the measured window. `--idle` opens the connections, completes every
//! handshake, and reports the server's resident memory before and after, per connection.
//! Pure `--idle` connections send nothing, so the server's keep-alive pings are the only
//! traffic; they are answered by the client's connection automatically.

use std::collections::VecDeque;
use std::io::{ErrorKind, IoSlice, Read, Write};
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};
use rfc6455::handshake::{ClientHandshake, ClientRequest, Url};
use rfc6455::{Config, Connection, Event, MessageKind};

#[derive(Debug, Clone)]
struct Options {
    url: String,
    connections: usize,
    size: usize,
    in_flight: usize,
    seconds: f64,
    warmup: f64,
    server_pid: Option<u32>,
    idle: bool,
    binary: bool,
}

fn parse_options() -> Options {
    let mut options = Options {
        url: "ws://127.0.0.1:9001/".to_owned(),
        connections: 1,
        size: 16,
        in_flight: 1,
        seconds: 5.0,
        warmup: 1.0,
        server_pid: None,
        idle: false,
        binary: true,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{arg} needs a value"));
        match arg.as_str() {
            "--url" => options.url = value(),
            "--connections" => options.connections = value().parse().expect("a number"),
            "--size" => options.size = value().parse().expect("a number"),
            "--in-flight" => options.in_flight = value().parse().expect("a number"),
            "--seconds" => options.seconds = value().parse().expect("a number"),
            "--warmup" => options.warmup = value().parse().expect("a number"),
            "--server-pid" => options.server_pid = Some(value().parse().expect("a pid")),
            "--idle" => options.idle = true,
            "--text" => options.binary = false,
            "--bench" => {} // added by `cargo bench`
            other => panic!("unknown argument {other}"),
        }
    }
    options
}

/// CPU seconds (user + system) of a process, from /proc.
fn cpu_seconds(pid: Option<u32>) -> f64 {
    let path = match pid {
        Some(pid) => format!("/proc/{pid}/stat"),
        None => "/proc/self/stat".to_owned(),
    };
    let stat = std::fs::read_to_string(path).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of stat, 12 and 13 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

/// Resident memory of a process in bytes.
fn rss_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map_or(0, |kib| kib * 1024)
}

#[allow(
    clippy::large_enum_variant,
    reason = "Open is the steady state; boxing it would cost an indirection per message"
)]
enum Phase {
    Connecting(Box<ClientHandshake>, usize),
    Open(Connection),
}

struct Client {
    stream: TcpStream,
    phase: Phase,
    /// Send times of the messages in flight, oldest first.
    sent: VecDeque<Instant>,
    read_buffer: BytesMut,
}

struct Load {
    options: Options,
    payload: Vec<u8>,
    clients: Vec<Client>,
    open: usize,
    measuring: bool,
    received: u64,
    latencies_ns: Vec<u64>,
    errors: u64,
}

const MAX_PENDING_CONNECTS: usize = 200;

fn main() {
    let options = parse_options();
    let url = Url::parse(&options.url).expect("a ws:// URL");
    let address: SocketAddr = url
        .authority()
        .to_socket_addrs()
        .expect("resolvable")
        .next()
        .expect("an address");
    let config = Config {
        max_write_buffer: usize::MAX,
        ..Config::default()
    };
    let payload: Vec<u8> = (0..options.size).map(|i| b'a' + (i % 26) as u8).collect();
    let mut poll = Poll::new().expect("poll");
    let mut events = Events::with_capacity(4096);
    let mut load = Load {
        options: options.clone(),
        payload,
        clients: Vec::with_capacity(options.connections),
        open: 0,
        measuring: false,
        received: 0,
        latencies_ns: Vec::new(),
        errors: 0,
    };
    let rss_before = options.server_pid.map(rss_bytes);
    let request = ClientRequest::from_url(&url);

    // Connect, at most MAX_PENDING_CONNECTS handshakes at a time.
    let connect_started = Instant::now();
    let mut started = 0;
    while load.open < options.connections {
        while started < options.connections && started - load.open < MAX_PENDING_CONNECTS {
            let mut stream = TcpStream::connect(address).expect("connect");
            stream.set_nodelay(true).expect("nodelay");
            poll.registry()
                .register(
                    &mut stream,
                    Token(started),
                    Interest::READABLE | Interest::WRITABLE,
                )
                .expect("register");
            let handshake = ClientHandshake::new(&request, &config).expect("request");
            load.clients.push(Client {
                stream,
                phase: Phase::Connecting(Box::new(handshake), 0),
                sent: VecDeque::new(),
                read_buffer: BytesMut::new(),
            });
            started += 1;
        }
        poll.poll(&mut events, Some(Duration::from_secs(1)))
            .expect("poll");
        for event in events.iter() {
            load.service(event.token().0, event.is_readable(), event.is_writable());
        }
        assert!(
            connect_started.elapsed() < Duration::from_secs(120),
            "connecting took too long: {} of {} open",
            load.open,
            options.connections
        );
    }
    let connect_seconds = connect_started.elapsed().as_secs_f64();

    if options.idle {
        // Let the server settle, then measure.
        let settle = Instant::now();
        while settle.elapsed() < Duration::from_secs(2) {
            poll.poll(&mut events, Some(Duration::from_millis(100)))
                .expect("poll");
            for event in events.iter() {
                load.service(event.token().0, event.is_readable(), event.is_writable());
            }
        }
        let rss_after = options.server_pid.map(rss_bytes);
        let per_connection = match (rss_before, rss_after) {
            (Some(before), Some(after)) => {
                Some((after.saturating_sub(before)) as f64 / options.connections as f64)
            }
            _ => None,
        };
        println!(
            "{{\"mode\":\"idle\",\"connections\":{},\"connect_seconds\":{connect_seconds:.2},\
             \"server_rss_before\":{},\"server_rss_after\":{},\"server_rss_per_connection\":{}}}",
            options.connections,
            json_opt(rss_before.map(|v| v as f64)),
            json_opt(rss_after.map(|v| v as f64)),
            json_opt(per_connection),
        );
        return;
    }

    // Prime every connection with K messages in flight.
    for index in 0..load.clients.len() {
        for _ in 0..options.in_flight {
            load.send_one(index);
        }
        load.flush(index);
    }
    let start = Instant::now();
    let warmup = Duration::from_secs_f64(options.warmup);
    let total = warmup + Duration::from_secs_f64(options.seconds);
    let mut window_start = None;
    let mut cpu_start = (0.0, 0.0);
    while start.elapsed() < total {
        if !load.measuring && start.elapsed() >= warmup {
            load.measuring = true;
            load.received = 0;
            load.latencies_ns.clear();
            window_start = Some(Instant::now());
            cpu_start = (cpu_seconds(None), cpu_seconds(options.server_pid));
        }
        poll.poll(&mut events, Some(Duration::from_millis(100)))
            .expect("poll");
        for event in events.iter() {
            load.service(event.token().0, event.is_readable(), event.is_writable());
        }
    }
    let elapsed = window_start.map_or(0.0, |t| t.elapsed().as_secs_f64());
    let client_cpu = cpu_seconds(None) - cpu_start.0;
    let server_cpu = options
        .server_pid
        .map(|pid| cpu_seconds(Some(pid)) - cpu_start.1);
    load.latencies_ns.sort_unstable();
    let percentile = |p: f64| {
        let n = load.latencies_ns.len();
        if n == 0 {
            return 0.0;
        }
        let index = ((n as f64 * p).ceil() as usize).clamp(1, n) - 1;
        load.latencies_ns[index] as f64 / 1000.0
    };
    let msgs_per_s = load.received as f64 / elapsed;
    println!(
        "{{\"mode\":\"echo\",\"connections\":{},\"size\":{},\"in_flight\":{},\"seconds\":{elapsed:.2},\
         \"messages\":{},\"msgs_per_s\":{msgs_per_s:.0},\"mb_per_s\":{:.2},\"p50_us\":{:.1},\
         \"p99_us\":{:.1},\"p999_us\":{:.1},\"client_cpu_s\":{client_cpu:.2},\"server_cpu_s\":{},\
         \"msgs_per_server_cpu_s\":{},\"errors\":{}}}",
        options.connections,
        options.size,
        options.in_flight,
        load.received,
        msgs_per_s * options.size as f64 / 1e6,
        percentile(0.50),
        percentile(0.99),
        percentile(0.999),
        json_opt(server_cpu),
        json_opt(server_cpu.map(|cpu| load.received as f64 / cpu)),
        load.errors,
    );
    if load.errors > 0 {
        std::process::exit(1);
    }
}

fn json_opt(value: Option<f64>) -> String {
    value.map_or_else(|| "null".to_owned(), |v| format!("{v:.1}"))
}

impl Load {
    fn service(&mut self, index: usize, readable: bool, writable: bool) {
        if writable {
            self.flush(index);
        }
        if readable {
            self.read(index);
        }
    }

    fn send_one(&mut self, index: usize) {
        let kind = if self.options.binary {
            MessageKind::Binary
        } else {
            MessageKind::Text
        };
        let client = &mut self.clients[index];
        if let Phase::Open(connection) = &mut client.phase {
            connection
                .send_fragment(kind, &self.payload, true)
                .expect("send");
            client.sent.push_back(Instant::now());
        }
    }

    fn flush(&mut self, index: usize) {
        let client = &mut self.clients[index];
        match &mut client.phase {
            Phase::Connecting(handshake, written) => {
                let request = handshake.request();
                while *written < request.len() {
                    match client.stream.write(&request[*written..]) {
                        Ok(n) => *written += n,
                        Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                        Err(e) if e.kind() == ErrorKind::NotConnected => return,
                        Err(e) => panic!("write: {e}"),
                    }
                }
            }
            Phase::Open(connection) => {
                while connection.buffered_amount() > 0 {
                    let mut slices = [IoSlice::new(&[]); 64];
                    let count = connection.output_slices(&mut slices);
                    match client.stream.write_vectored(&slices[..count]) {
                        Ok(n) => connection.advance_output(n),
                        Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                        Err(e) => panic!("write: {e}"),
                    }
                }
            }
        }
    }

    fn read(&mut self, index: usize) {
        loop {
            let client = &mut self.clients[index];
            let buffer = &mut client.read_buffer;
            buffer.reserve(64 * 1024);
            let start = buffer.len();
            buffer.resize(buffer.capacity(), 0);
            let result = client.stream.read(&mut buffer[start..]);
            let n = match result {
                Ok(0) => panic!("connection {index} closed by the server"),
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    buffer.truncate(start);
                    return;
                }
                Err(e) if e.kind() == ErrorKind::NotConnected => {
                    buffer.truncate(start);
                    return;
                }
                Err(e) => panic!("read: {e}"),
            };
            buffer.truncate(start + n);
            let data = buffer.split();
            match &mut client.phase {
                Phase::Connecting(handshake, _) => {
                    if let Some(connected) = handshake.receive(&data).expect("handshake") {
                        client.phase = Phase::Open(connected.connection);
                        self.open += 1;
                    }
                }
                Phase::Open(connection) => {
                    connection.receive(&data);
                    let mut echoes = 0;
                    while let Some(event) = connection.poll_event().expect("protocol") {
                        match event {
                            Event::Binary(bytes) => {
                                echoes += 1;
                                if bytes[..] != self.payload[..] {
                                    self.errors += 1;
                                }
                            }
                            Event::Text(text) => {
                                echoes += 1;
                                if text.as_bytes()[..] != self.payload[..] {
                                    self.errors += 1;
                                }
                            }
                            _ => {}
                        }
                    }
                    let now = Instant::now();
                    for _ in 0..echoes {
                        if let Some(sent) = self.clients[index].sent.pop_front()
                            && self.measuring
                        {
                            self.latencies_ns
                                .push(now.duration_since(sent).as_nanos() as u64);
                            self.received += 1;
                        }
                    }
                    if !self.options.idle {
                        for _ in 0..echoes {
                            self.send_one(index);
                        }
                    }
                    self.flush(index);
                }
            }
        }
    }
}
