//! The end-to-end load generator: N WebSocket connections on one mio loop against a server,
//! built to cost the server's peer as little as possible, so that it is not the bottleneck.
//!
//! ```text
//! # echo: K messages of S bytes in flight per connection, every echo checked
//! cargo bench --bench load -- --url ws://127.0.0.1:9001/ --connections 100 --size 16 \
//!     --in-flight 4 --seconds 5 [--warmup 1] [--server-pid PID] [--text]
//! # the same with permessage-deflate: chat-like text, compressed once here, inflated and
//! # compressed again by the server for every message (a workload where the server works)
//! cargo bench --bench load -- --url ws://127.0.0.1:9001/ --connections 100 --size 16384 \
//!     --in-flight 1 --seconds 5 --deflate
//! # idle: N connections, every handshake completed, then silence; server RSS per connection
//! # (--idle-echo: each connection first sends one message of --size bytes and takes its
//! # echo, to show what buffers that traffic left behind)
//! cargo bench --bench load -- --url ws://127.0.0.1:9001/ --connections 10000 --idle \
//!     [--idle-echo --size 16384] [--hold SECONDS] --server-pid PID
//! # (--hold: keep the connections that long after the report, to look at the server)
//! # broadcast: N subscribers on /sub, one publisher on /pub, deliveries per second
//! cargo bench --bench load -- --broadcast --subscribers 10000 --url ws://127.0.0.1:9001/sub \
//!     --publish-url ws://127.0.0.1:9001/pub --size 64 --seconds 5 --server-pid PID
//! # handshakes: C connections at a time, each opened (TCP, TLS for wss://, the upgrade) and
//! # closed (our close frame, the server's, then the end of the stream), again and again
//! cargo bench --bench load -- --handshakes --url ws://127.0.0.1:9001/ --connections 16 \
//!     --seconds 5 --server-pid PID
//! # any mode over TLS (feature `tls`): a wss:// URL and the CA that signed the server's
//! # certificate; TLS session resumption is off, so every handshake is a full one
//! cargo bench --features tls --bench load -- --url wss://127.0.0.1:9001/ --tls-ca ca.pem ...
//! ```
//!
//! Each mode prints one JSON line. Given `--server-pid`, it reads the server's CPU time from
//! /proc over the measured window and reports messages (or deliveries) per server
//! CPU-second: the efficiency figure, independent of how fast the load generator is. It also
//! reports its own CPU time, to show whether it was the limit.
//!
//! How it stays cheap: the handshake uses the crate's client handshake; after that, frames go
//! out pre-encoded (one masked frame built once and copied K times per batch; the masking key
//! is fixed per run, which a server cannot tell from a random one) and echoes are parsed with
//! a minimal header decoder and compared with the expected payload. One clock read per
//! read and per write batch stamps every message in it. Over TLS the same bytes go through
//! a rustls client session per connection (*ring* provider, resumption disabled); over
//! plain TCP the only addition is one branch per read and write.

use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};
use rfc6455::Config;
use rfc6455::handshake::{ClientHandshake, ClientRequest, Url};

#[derive(Debug, Clone)]
struct Options {
    url: String,
    publish_url: Option<String>,
    connections: usize,
    size: usize,
    in_flight: usize,
    seconds: f64,
    warmup: f64,
    server_pid: Option<u32>,
    idle: bool,
    broadcast: bool,
    text: bool,
    deflate: bool,
    handshakes: bool,
    tls_ca: Option<String>,
    idle_echo: bool,
    hold: f64,
}

fn parse_options() -> Options {
    let mut options = Options {
        url: "ws://127.0.0.1:9001/".to_owned(),
        publish_url: None,
        connections: 1,
        size: 16,
        in_flight: 1,
        seconds: 5.0,
        warmup: 1.0,
        server_pid: None,
        idle: false,
        broadcast: false,
        text: false,
        deflate: false,
        handshakes: false,
        tls_ca: None,
        idle_echo: false,
        hold: 0.0,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{arg} needs a value"));
        match arg.as_str() {
            "--url" => options.url = value(),
            "--publish-url" => options.publish_url = Some(value()),
            "--connections" | "--subscribers" => {
                options.connections = value().parse().expect("a number")
            }
            "--size" => options.size = value().parse().expect("a number"),
            "--in-flight" => options.in_flight = value().parse().expect("a number"),
            "--seconds" => options.seconds = value().parse().expect("a number"),
            "--warmup" => options.warmup = value().parse().expect("a number"),
            "--server-pid" => options.server_pid = Some(value().parse().expect("a pid")),
            "--idle" => options.idle = true,
            "--idle-echo" => options.idle_echo = true,
            "--hold" => options.hold = value().parse().expect("seconds"),
            "--broadcast" => options.broadcast = true,
            "--text" => options.text = true,
            "--deflate" => options.deflate = true,
            "--handshakes" => options.handshakes = true,
            "--tls-ca" => options.tls_ca = Some(value()),
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
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
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

fn json_opt(value: Option<f64>) -> String {
    value.map_or_else(|| "null".to_owned(), |v| format!("{v:.1}"))
}

/// `"tls":"...",` over TLS, nothing otherwise (the plain runs print what they always did).
fn tls_field(summary: Option<&str>) -> String {
    summary.map_or_else(String::new, |v| format!("\"tls\":\"{v}\","))
}

const MASK: [u8; 4] = [0x12, 0x34, 0x56, 0x78];

/// A final, masked frame carrying `payload`.
fn masked_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut frame = vec![0x80 | opcode];
    match payload.len() {
        n if n < 126 => frame.push(0x80 | n as u8),
        n if n < 65536 => {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            frame.push(0x80 | 127);
            frame.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    frame.extend_from_slice(&MASK);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ MASK[i % 4]));
    frame
}

/// `size` bytes of chat-like JSON text (a fixed pseudo-random sequence of messages), which
/// compresses about as real chat traffic does.
fn chat_text(size: usize) -> Vec<u8> {
    const WORDS: [&str; 16] = [
        "hello", "world", "message", "room", "lobby", "player", "score", "update", "the", "a",
        "is", "ready", "joined", "left", "42", "ok",
    ];
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut text = Vec::with_capacity(size + 64);
    while text.len() < size {
        let words: Vec<&str> = (0..3 + next() % 6)
            .map(|_| WORDS[(next() % 16) as usize])
            .collect();
        let line = format!(
            "{{\"user\":\"u{}\",\"ts\":{},\"text\":\"{}\"}}\n",
            next() % 1000,
            1_700_000_000 + next() % 100_000,
            words.join(" ")
        );
        text.extend_from_slice(line.as_bytes());
    }
    text.truncate(size);
    text
}

/// A final, masked, compressed text frame (RSV1) for a peer that agreed to
/// permessage-deflate without context takeover: raw deflate, sync flush, the trailing
/// `00 00 ff ff` removed (RFC 7692 7.2.1).
fn compressed_frame(text: &[u8]) -> Vec<u8> {
    use flate2::{Compress, Compression, FlushCompress};
    let mut compressor = Compress::new(Compression::new(6), false);
    let mut compressed = Vec::with_capacity(text.len() + 64);
    compressor
        .compress_vec(text, &mut compressed, FlushCompress::Sync)
        .expect("deflate");
    while compressor.total_in() < text.len() as u64 || compressed.capacity() == compressed.len() {
        compressed.reserve(text.len());
        let done = compressor.total_in() as usize;
        compressor
            .compress_vec(&text[done..], &mut compressed, FlushCompress::Sync)
            .expect("deflate");
    }
    assert!(compressed.ends_with(&[0, 0, 0xff, 0xff]));
    compressed.truncate(compressed.len() - 4);
    let mut frame = masked_frame(1, &compressed);
    frame[0] |= 0x40;
    frame
}

/// Inflates a compressed message's payload (the `00 00 ff ff` tail put back).
fn inflate(payload: &[u8]) -> Vec<u8> {
    let mut input = payload.to_vec();
    input.extend_from_slice(&[0, 0, 0xff, 0xff]);
    let mut output = Vec::new();
    let mut decoder = flate2::read::DeflateDecoder::new(&input[..]);
    // The input ends without a final block: reading stops with what it holds.
    let _ = std::io::Read::read_to_end(&mut decoder, &mut output);
    output
}

/// An unmasked frame's header: (opcode, header length, payload length), if complete.
fn frame_header(buf: &[u8]) -> Option<(u8, usize, usize)> {
    let (&b0, &b1) = (buf.first()?, buf.get(1)?);
    let opcode = b0 & 0x0F;
    match b1 & 0x7F {
        126 => Some((
            opcode,
            4,
            u16::from_be_bytes([*buf.get(2)?, *buf.get(3)?]) as usize,
        )),
        127 => {
            let len = buf.get(2..10)?;
            Some((
                opcode,
                10,
                u64::from_be_bytes(len.try_into().ok()?) as usize,
            ))
        }
        n => Some((opcode, 2, n as usize)),
    }
}

/// A connection's byte stream: TCP, or TLS over it (with a `wss://` URL). Reads and writes
/// behave as a non-blocking socket's: `WouldBlock` when TCP has nothing or no room, `Ok(0)`
/// at the end of the stream.
struct Stream {
    tcp: TcpStream,
    #[cfg(feature = "tls")]
    tls: Option<Box<rustls::ClientConnection>>,
}

impl Stream {
    /// Sends what the TLS session holds (handshake flights, records, close_notify), as far
    /// as TCP takes it; nothing over plain TCP.
    fn push(&mut self) -> std::io::Result<()> {
        #[cfg(feature = "tls")]
        if let Some(tls) = &mut self.tls {
            send_records(tls, &mut self.tcp)?;
        }
        Ok(())
    }

    /// Ends the TLS session with a close_notify (over plain TCP, nothing).
    fn close_notify(&mut self) {
        #[cfg(feature = "tls")]
        if let Some(tls) = &mut self.tls {
            tls.send_close_notify();
            let _ = send_records(tls, &mut self.tcp);
        }
    }
}

impl Read for Stream {
    #[inline]
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        #[cfg(feature = "tls")]
        if let Some(tls) = &mut self.tls {
            return tls_read(tls, &mut self.tcp, buffer);
        }
        self.tcp.read(buffer)
    }
}

impl Write for Stream {
    #[inline]
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        #[cfg(feature = "tls")]
        if let Some(tls) = &mut self.tls {
            return tls_write(tls, &mut self.tcp, bytes);
        }
        self.tcp.write(bytes)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Writes the session's records until it holds none (true) or TCP would block (false).
#[cfg(feature = "tls")]
fn send_records(tls: &mut rustls::ClientConnection, tcp: &mut TcpStream) -> std::io::Result<bool> {
    while tls.wants_write() {
        match tls.write_tls(tcp) {
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(false),
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

/// Plaintext out of the session, reading and processing records from TCP until there is
/// some, TCP would block, or the stream ended.
#[cfg(feature = "tls")]
#[inline(never)]
fn tls_read(
    tls: &mut rustls::ClientConnection,
    tcp: &mut TcpStream,
    buffer: &mut [u8],
) -> std::io::Result<usize> {
    loop {
        match tls.reader().read(buffer) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            // TCP ended without a close_notify: the end of the stream all the same.
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => return Ok(0),
            Err(e) => return Err(e),
        }
        let eof = tls.read_tls(tcp)? == 0;
        let plaintext = match tls.process_new_packets() {
            Ok(state) => state.plaintext_bytes_to_read(),
            Err(error) => {
                let _ = send_records(tls, tcp);
                return Err(std::io::Error::new(ErrorKind::InvalidData, error));
            }
        };
        // Our handshake flight, once the server's is in.
        send_records(tls, tcp)?;
        if eof && plaintext == 0 {
            return Ok(0);
        }
    }
}

/// Encrypts what of `bytes` the session takes, after sending what it held.
#[cfg(feature = "tls")]
#[inline(never)]
fn tls_write(
    tls: &mut rustls::ClientConnection,
    tcp: &mut TcpStream,
    bytes: &[u8],
) -> std::io::Result<usize> {
    if !send_records(tls, tcp)? {
        return Err(ErrorKind::WouldBlock.into());
    }
    let taken = tls.writer().write(bytes)?;
    send_records(tls, tcp)?;
    if taken == 0 && !bytes.is_empty() {
        return Err(ErrorKind::WouldBlock.into());
    }
    Ok(taken)
}

/// The client TLS configuration for `wss://` URLs: trusts only `--tls-ca`, and never resumes
/// a session, so every connection pays for a full handshake.
#[cfg(feature = "tls")]
fn tls_config(options: &Options) -> Option<std::sync::Arc<rustls::ClientConfig>> {
    let path = options.tls_ca.as_deref()?;
    let pem = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let connector = rfc6455::tls::TlsConnector::with_ca_pem(&pem).expect("a CA certificate");
    let mut config = (**connector.config()).clone();
    config.resumption = rustls::client::Resumption::disabled();
    Some(std::sync::Arc::new(config))
}

enum Phase {
    Connecting(Box<ClientHandshake>, usize),
    Open,
    /// Handshake mode: our close frame is queued; waiting for the server's.
    Closing,
    /// Handshake mode: both close frames seen; waiting for the end of the stream.
    Closed,
    /// Handshake mode: ended (or failed), to be replaced.
    Done,
}

struct Client {
    stream: Stream,
    phase: Phase,
    /// Bytes to write (frames), from `written` on.
    out: Vec<u8>,
    written: usize,
    /// Bytes read and not parsed yet, from `parsed` on.
    input: Vec<u8>,
    parsed: usize,
    /// Send times of the messages in flight, oldest first.
    sent: VecDeque<Instant>,
    /// Broadcast: the sequence number the next message should carry.
    expected_sequence: u64,
    /// When the TCP connect was started.
    started: Instant,
}

/// Everything the run shares.
struct Load {
    options: Options,
    frame: Vec<u8>,
    payload: Vec<u8>,
    /// With --deflate: the server's compressed echo, checked once by inflating it; with
    /// no context takeover every later echo of the same text must be these bytes.
    expected_echo: Option<Vec<u8>>,
    clients: Vec<Client>,
    open: usize,
    measuring: bool,
    received: u64,
    latencies_ns: Vec<u64>,
    errors: u64,
    /// Broadcast: the publisher's index, and deliveries per sequence in a ring.
    publisher: Option<usize>,
    published: u64,
    completed: u64,
    ring: Vec<u32>,
    /// Handshake mode: connections whose close handshake has ended (or failed), to be
    /// replaced by new ones; handshakes completed in the measured window.
    finished: Vec<usize>,
    handshakes: u64,
    /// Handshake mode: of those, the ones the server ended with a reset after the close
    /// handshake (instead of the end of the stream).
    resets: u64,
    /// The negotiated TLS version, cipher suite and key exchange, once known.
    tls_summary: Option<String>,
    dialer: Dialer,
}

/// What opening a connection needs.
struct Dialer {
    config: Config,
    /// Over TLS: the client configuration and the server's name (the URL's host).
    #[cfg(feature = "tls")]
    tls: Option<(
        std::sync::Arc<rustls::ClientConfig>,
        rustls::pki_types::ServerName<'static>,
    )>,
}

impl Dialer {
    fn new(options: &Options, url: &Url, config: Config) -> Dialer {
        #[cfg(feature = "tls")]
        {
            let tls = url.is_secure().then(|| {
                let config = tls_config(options).expect("a wss:// URL needs --tls-ca FILE");
                let host = url.host().trim_start_matches('[').trim_end_matches(']');
                let name = rustls::pki_types::ServerName::try_from(host.to_owned())
                    .expect("a host name or IP address");
                (config, name)
            });
            Dialer { config, tls }
        }
        #[cfg(not(feature = "tls"))]
        {
            assert!(
                !url.is_secure() && options.tls_ca.is_none(),
                "wss:// and --tls-ca need the load generator built with --features tls"
            );
            Dialer { config }
        }
    }

    /// Starts a connection (TCP connect, and the TLS session's first flight queued) whose
    /// WebSocket request the first flush writes.
    fn dial(
        &self,
        poll: &Poll,
        token: Token,
        address: SocketAddr,
        request: &ClientRequest,
    ) -> Client {
        let mut tcp = TcpStream::connect(address).expect("connect");
        tcp.set_nodelay(true).expect("nodelay");
        poll.registry()
            .register(&mut tcp, token, Interest::READABLE | Interest::WRITABLE)
            .expect("register");
        let stream = Stream {
            tcp,
            #[cfg(feature = "tls")]
            tls: self.tls.as_ref().map(|(config, name)| {
                Box::new(
                    rustls::ClientConnection::new(config.clone(), name.clone())
                        .expect("a TLS session"),
                )
            }),
        };
        let handshake = ClientHandshake::new(request, &self.config).expect("request");
        Client {
            stream,
            phase: Phase::Connecting(Box::new(handshake), 0),
            out: Vec::new(),
            written: 0,
            input: Vec::new(),
            parsed: 0,
            sent: VecDeque::new(),
            expected_sequence: 0,
            started: Instant::now(),
        }
    }
}

const MAX_PENDING_CONNECTS: usize = 200;
const BROADCAST_WINDOW: u64 = 8;

fn main() {
    let options = parse_options();
    let url = Url::parse(&options.url).expect("a ws:// URL");
    let address = resolve(&url);
    let config = Config {
        max_write_buffer: usize::MAX,
        // Compression only when asked for: it makes the run measure zlib.
        #[cfg(feature = "deflate")]
        deflate: options.deflate.then(Default::default),
        ..Config::default()
    };
    let (payload, frame) = if options.deflate {
        let text = chat_text(options.size);
        let frame = compressed_frame(&text);
        (text, frame)
    } else {
        let payload: Vec<u8> = (0..options.size).map(|i| b'a' + (i % 26) as u8).collect();
        let frame = masked_frame(if options.text { 1 } else { 2 }, &payload);
        (payload, frame)
    };
    let mut poll = Poll::new().expect("poll");
    let mut events = Events::with_capacity(4096);
    let dialer = Dialer::new(&options, &url, config);
    let mut load = Load {
        options: options.clone(),
        frame,
        payload,
        expected_echo: None,
        clients: Vec::with_capacity(options.connections + 1),
        open: 0,
        measuring: false,
        received: 0,
        latencies_ns: Vec::with_capacity(1 << 20),
        errors: 0,
        publisher: None,
        published: 0,
        completed: 0,
        ring: vec![0; BROADCAST_WINDOW as usize * 2],
        finished: Vec::new(),
        handshakes: 0,
        resets: 0,
        tls_summary: None,
        dialer,
    };
    let rss_before = options.server_pid.map(rss_bytes);
    let request = ClientRequest::from_url(&url);
    if options.handshakes {
        handshakes(&mut load, &mut poll, address, &request);
        return;
    }

    // Connect, at most MAX_PENDING_CONNECTS handshakes at a time.
    let connect_started = Instant::now();
    let mut started = 0;
    let mut targets: Vec<(SocketAddr, ClientRequest)> =
        vec![(address, request); options.connections];
    if options.broadcast {
        let publish = Url::parse(options.publish_url.as_deref().expect("--publish-url"))
            .expect("a ws:// URL");
        targets.push((resolve(&publish), ClientRequest::from_url(&publish)));
        load.publisher = Some(options.connections);
    }
    while load.open < targets.len() {
        while started < targets.len() && started - load.open < MAX_PENDING_CONNECTS {
            let (address, request) = &targets[started];
            let client = load.dialer.dial(&poll, Token(started), *address, request);
            load.clients.push(client);
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
            targets.len()
        );
    }
    let connect_seconds = connect_started.elapsed().as_secs_f64();
    let tls_json = tls_field(load.tls_summary.as_deref());

    if options.idle {
        if options.idle_echo {
            let now = Instant::now();
            for index in 0..load.clients.len() {
                load.queue_message(index, now);
                load.flush(index);
            }
            load.measuring = true;
            let echoing = Instant::now();
            while load.received < load.clients.len() as u64 {
                poll.poll(&mut events, Some(Duration::from_millis(100)))
                    .expect("poll");
                for event in events.iter() {
                    load.service(event.token().0, event.is_readable(), event.is_writable());
                }
                assert!(
                    echoing.elapsed() < Duration::from_secs(120),
                    "echoes took too long: {} of {}",
                    load.received,
                    load.clients.len()
                );
            }
            load.measuring = false;
        }
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
                Some(after.saturating_sub(before) as f64 / options.connections as f64)
            }
            _ => None,
        };
        let echo_json = if options.idle_echo {
            format!("\"idle_echo_size\":{},", options.size)
        } else {
            String::new()
        };
        println!(
            "{{\"mode\":\"idle\",\"connections\":{},{tls_json}{echo_json}\"connect_seconds\":{connect_seconds:.2},\
             \"server_rss_before\":{},\"server_rss_after\":{},\"server_rss_per_connection\":{}}}",
            options.connections,
            json_opt(rss_before.map(|v| v as f64)),
            json_opt(rss_after.map(|v| v as f64)),
            json_opt(per_connection),
        );
        let held = Instant::now();
        while held.elapsed().as_secs_f64() < options.hold {
            poll.poll(&mut events, Some(Duration::from_millis(100)))
                .expect("poll");
            for event in events.iter() {
                load.service(event.token().0, event.is_readable(), event.is_writable());
            }
        }
        return;
    }

    // Start the traffic.
    match load.publisher {
        Some(publisher) => {
            for _ in 0..BROADCAST_WINDOW {
                load.publish(publisher);
            }
            load.flush(publisher);
        }
        None => {
            let now = Instant::now();
            for index in 0..load.clients.len() {
                for _ in 0..options.in_flight {
                    load.queue_message(index, now);
                }
                load.flush(index);
            }
        }
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
    if options.broadcast {
        let per_s = load.received as f64 / elapsed;
        println!(
            "{{\"mode\":\"broadcast\",\"subscribers\":{},{tls_json}\"size\":{},\"seconds\":{elapsed:.2},\
             \"messages\":{},\"deliveries\":{},\"deliveries_per_s\":{per_s:.0},\
             \"client_cpu_s\":{client_cpu:.2},\"server_cpu_s\":{},\
             \"deliveries_per_server_cpu_s\":{},\"errors\":{}}}",
            options.connections,
            options.size,
            load.completed,
            load.received,
            json_opt(server_cpu),
            json_opt(server_cpu.map(|cpu| load.received as f64 / cpu)),
            load.errors,
        );
    } else {
        load.latencies_ns.sort_unstable();
        let percentile = |p: f64| percentile_us(&load.latencies_ns, p);
        let msgs_per_s = load.received as f64 / elapsed;
        println!(
            "{{\"mode\":\"echo\",\"connections\":{},{tls_json}\"size\":{},\"in_flight\":{},\"seconds\":{elapsed:.2},\
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
    }
    if load.errors > 0 {
        std::process::exit(1);
    }
}

/// The `p` quantile of sorted nanoseconds, in microseconds.
fn percentile_us(sorted_ns: &[u64], p: f64) -> f64 {
    let n = sorted_ns.len();
    if n == 0 {
        return 0.0;
    }
    let index = ((n as f64 * p).ceil() as usize).clamp(1, n) - 1;
    sorted_ns[index] as f64 / 1000.0
}

/// Handshake mode: `--connections` connections at a time, each opened (TCP, TLS, the
/// upgrade), closed (our close frame, the server's, the end of the stream) and replaced at
/// once, for the warm-up and the measured seconds; then the last ones are closed the same
/// way. Prints new connections per second and per server CPU-second, and the time from the
/// TCP connect to the upgrade's answer.
fn handshakes(load: &mut Load, poll: &mut Poll, address: SocketAddr, request: &ClientRequest) {
    const STUCK: Duration = Duration::from_secs(10);
    let options = load.options.clone();
    let mut events = Events::with_capacity(4096);
    for index in 0..options.connections {
        let client = load.dialer.dial(poll, Token(index), address, request);
        load.clients.push(client);
    }
    let start = Instant::now();
    let warmup = Duration::from_secs_f64(options.warmup);
    let total = warmup + Duration::from_secs_f64(options.seconds);
    let mut window: Option<(Instant, f64, f64)> = None;
    let mut result = None;
    let mut last_check = Instant::now();
    let mut live = options.connections;
    while live > 0 {
        let elapsed = start.elapsed();
        if window.is_none() && elapsed >= warmup {
            load.measuring = true;
            load.handshakes = 0;
            load.resets = 0;
            load.latencies_ns.clear();
            window = Some((
                Instant::now(),
                cpu_seconds(None),
                cpu_seconds(options.server_pid),
            ));
        }
        if let Some((since, client_cpu, server_cpu)) = window
            && result.is_none()
            && elapsed >= total
        {
            // The end of the window: count no more, open no more, close what is open.
            load.measuring = false;
            result = Some((
                since.elapsed().as_secs_f64(),
                load.handshakes,
                cpu_seconds(None) - client_cpu,
                options
                    .server_pid
                    .map(|pid| cpu_seconds(Some(pid)) - server_cpu),
            ));
        }
        poll.poll(&mut events, Some(Duration::from_millis(100)))
            .expect("poll");
        for event in events.iter() {
            load.service(event.token().0, event.is_readable(), event.is_writable());
        }
        for index in std::mem::take(&mut load.finished) {
            if result.is_none() {
                // The old stream is dropped here, which closes its socket.
                load.clients[index] = load.dialer.dial(poll, Token(index), address, request);
            } else {
                live -= 1;
            }
        }
        if last_check.elapsed() >= Duration::from_secs(1) {
            last_check = Instant::now();
            for (index, client) in load.clients.iter().enumerate() {
                let stuck =
                    !matches!(client.phase, Phase::Done) && client.started.elapsed() > STUCK;
                assert!(
                    !stuck,
                    "connection {index} has not finished its handshakes in {STUCK:?}"
                );
            }
        }
    }
    let (seconds, count, client_cpu, server_cpu) = result.expect("a measured window");
    load.latencies_ns.sort_unstable();
    println!(
        "{{\"mode\":\"handshakes\",\"connections\":{},{}\"seconds\":{seconds:.2},\
         \"handshakes\":{count},\"handshakes_per_s\":{:.0},\"p50_us\":{:.1},\"p99_us\":{:.1},\
         \"client_cpu_s\":{client_cpu:.2},\"server_cpu_s\":{},\
         \"handshakes_per_server_cpu_s\":{},\"resets_after_close\":{},\"errors\":{}}}",
        options.connections,
        tls_field(load.tls_summary.as_deref()),
        count as f64 / seconds,
        percentile_us(&load.latencies_ns, 0.50),
        percentile_us(&load.latencies_ns, 0.99),
        json_opt(server_cpu),
        json_opt(server_cpu.map(|cpu| count as f64 / cpu)),
        load.resets,
        load.errors,
    );
    if load.errors > 0 {
        std::process::exit(1);
    }
}

fn resolve(url: &Url) -> SocketAddr {
    url.authority()
        .to_socket_addrs()
        .expect("resolvable")
        .next()
        .expect("an address")
}

impl Load {
    fn service(&mut self, index: usize, readable: bool, writable: bool) {
        if self.options.handshakes && matches!(self.clients[index].phase, Phase::Done) {
            return;
        }
        if writable {
            self.flush(index);
        }
        if readable {
            self.read(index);
        }
    }

    /// Appends one echo-mode message to a connection's output.
    fn queue_message(&mut self, index: usize, now: Instant) {
        let client = &mut self.clients[index];
        client.out.extend_from_slice(&self.frame);
        client.sent.push_back(now);
    }

    /// Appends the next broadcast message (its sequence number in the first 8 bytes).
    fn publish(&mut self, publisher: usize) {
        let mut payload = self.payload.clone();
        let sequence = self.published.to_be_bytes();
        let n = payload.len().min(8);
        payload[..n].copy_from_slice(&sequence[..n]);
        let frame = masked_frame(2, &payload);
        self.clients[publisher].out.extend_from_slice(&frame);
        self.published += 1;
    }

    fn flush(&mut self, index: usize) {
        let client = &mut self.clients[index];
        if let Phase::Connecting(handshake, written) = &mut client.phase {
            let request = handshake.request();
            while *written < request.len() {
                match client.stream.write(&request[*written..]) {
                    Ok(n) => *written += n,
                    Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                    Err(e) if e.kind() == ErrorKind::NotConnected => return,
                    Err(e) => return self.fail(index, format!("write: {e}")),
                }
            }
            // A write error shows on the next read.
            let _ = client.stream.push();
            return;
        }
        while client.written < client.out.len() {
            match client.stream.write(&client.out[client.written..]) {
                Ok(n) => client.written += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) => return self.fail(index, format!("write: {e}")),
            }
        }
        if client.written == client.out.len() {
            client.out.clear();
            client.written = 0;
        }
        // Over TLS, the records of the last write if TCP did not take them all.
        #[cfg(feature = "tls")]
        if let Err(e) = client.stream.push() {
            self.fail(index, format!("write: {e}"));
        }
    }

    /// A connection failed: the end of the run, except in handshake mode, where it counts
    /// as an error and is replaced.
    fn fail(&mut self, index: usize, what: String) {
        assert!(self.options.handshakes, "connection {index}: {what}");
        if self.errors == 0 {
            eprintln!("connection {index}: {what} (and every later error uncounted here)");
        }
        self.errors += 1;
        self.clients[index].phase = Phase::Done;
        self.finished.push(index);
    }

    fn read(&mut self, index: usize) {
        loop {
            let client = &mut self.clients[index];
            if client.parsed > 0 {
                // Keep only the incomplete frame at the end (usually nothing).
                client.input.drain(..client.parsed);
                client.parsed = 0;
            }
            let room = 64 * 1024;
            let start = client.input.len();
            client.input.resize(start + room, 0);
            let result = client.stream.read(&mut client.input[start..]);
            let n = match result {
                Ok(0) if matches!(client.phase, Phase::Closed) => {
                    // The close handshake is over, and the server ended the stream.
                    client.input.truncate(start);
                    if self.measuring {
                        self.handshakes += 1;
                    }
                    client.phase = Phase::Done;
                    self.finished.push(index);
                    return;
                }
                Ok(0) => {
                    client.input.truncate(start);
                    return self.fail(index, "closed by the server".to_owned());
                }
                Ok(n) => n,
                Err(e)
                    if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::NotConnected =>
                {
                    client.input.truncate(start);
                    return;
                }
                Err(e)
                    if e.kind() == ErrorKind::ConnectionReset
                        && matches!(client.phase, Phase::Closed) =>
                {
                    // Both close frames went through, then the server closed its socket
                    // with our close_notify unread, which makes its kernel answer with a
                    // reset: the handshakes are done, the teardown was the server's.
                    client.input.truncate(start);
                    if self.measuring {
                        self.handshakes += 1;
                        self.resets += 1;
                    }
                    client.phase = Phase::Done;
                    self.finished.push(index);
                    return;
                }
                Err(e) => {
                    client.input.truncate(start);
                    return self.fail(index, format!("read: {e}"));
                }
            };
            client.input.truncate(start + n);
            if let Phase::Connecting(handshake, _) = &mut client.phase {
                let data = std::mem::take(&mut client.input);
                match handshake.receive(&data).expect("handshake") {
                    Some((_, mut early)) => {
                        client.phase = Phase::Open;
                        // The server sends nothing before our first message.
                        assert!(early.poll_event().expect("frames").is_none());
                        client.input.clear();
                        client.parsed = 0;
                        self.open += 1;
                        self.opened(index);
                    }
                    None => client.input.clear(),
                }
                continue;
            }
            self.parse(index);
        }
    }

    /// A connection's upgrade is done: note what TLS negotiated; in handshake mode, note
    /// how long the handshakes took and start the close handshake at once.
    fn opened(&mut self, index: usize) {
        #[cfg(feature = "tls")]
        if self.tls_summary.is_none()
            && let Some(tls) = &self.clients[index].stream.tls
        {
            let version = tls.protocol_version().map(|v| format!("{v:?}"));
            let suite = tls
                .negotiated_cipher_suite()
                .map(|s| format!("{:?}", s.suite()));
            let group = tls
                .negotiated_key_exchange_group()
                .map(|g| format!("{:?}", g.name()));
            self.tls_summary = Some(format!(
                "{} {} {}",
                version.unwrap_or_default(),
                suite.unwrap_or_default(),
                group.unwrap_or_default()
            ));
        }
        if !self.options.handshakes {
            return;
        }
        let client = &mut self.clients[index];
        if self.measuring {
            let took = client.started.elapsed().as_nanos() as u64;
            self.latencies_ns.push(took);
        }
        client.phase = Phase::Closing;
        client
            .out
            .extend_from_slice(&masked_frame(8, &1000u16.to_be_bytes()));
        self.flush(index);
    }

    /// Takes every complete frame out of a connection's input.
    fn parse(&mut self, index: usize) {
        let now = Instant::now();
        let mut echoes = 0usize;
        let broadcast = self.options.broadcast;
        let client = &mut self.clients[index];
        loop {
            let rest = &client.input[client.parsed..];
            let Some((opcode, header_len, len)) = frame_header(rest) else {
                break;
            };
            if rest.len() < header_len + len {
                break;
            }
            let payload = &rest[header_len..header_len + len];
            match opcode {
                1 | 2 if broadcast => {
                    let mut sequence = [0u8; 8];
                    let n = payload.len().min(8);
                    sequence[..n].copy_from_slice(&payload[..n]);
                    let sequence = u64::from_be_bytes(sequence);
                    if sequence != client.expected_sequence || len != self.payload.len() {
                        self.errors += 1;
                    }
                    client.expected_sequence = sequence + 1;
                    let slot = (sequence % self.ring.len() as u64) as usize;
                    self.ring[slot] += 1;
                    if self.ring[slot] as usize == self.options.connections {
                        self.ring[slot] = 0;
                        self.completed += 1;
                    }
                    if self.measuring {
                        self.received += 1;
                    }
                }
                1 | 2 if self.options.deflate => {
                    let compressed = rest[0] & 0x40 != 0;
                    let expected = self.expected_echo.get_or_insert_with(|| {
                        assert!(compressed, "the server did not compress its echo");
                        assert_eq!(inflate(payload), self.payload, "the echo inflates wrong");
                        payload.to_vec()
                    });
                    if !compressed || payload != expected.as_slice() {
                        self.errors += 1;
                    }
                    echoes += 1;
                }
                1 | 2 => {
                    if payload != self.payload {
                        self.errors += 1;
                    }
                    echoes += 1;
                }
                9 => {
                    // A keep-alive ping: answer it.
                    let pong = masked_frame(0xA, payload);
                    client.out.extend_from_slice(&pong);
                }
                8 if matches!(client.phase, Phase::Closing) => {
                    // The server's answer to our close: end TLS too, then wait for the
                    // end of the stream.
                    client.phase = Phase::Closed;
                    client.stream.close_notify();
                }
                8 => panic!("connection {index} closed by the server"),
                _ => {}
            }
            client.parsed += header_len + len;
        }
        for _ in 0..echoes {
            if let Some(sent) = client.sent.pop_front()
                && self.measuring
            {
                self.latencies_ns
                    .push(now.duration_since(sent).as_nanos() as u64);
                self.received += 1;
            }
        }
        if broadcast {
            // Keep the publisher BROADCAST_WINDOW messages ahead of the slowest subscriber.
            if let Some(publisher) = self.publisher {
                let mut queued = false;
                while self.published < self.completed + BROADCAST_WINDOW {
                    self.publish(publisher);
                    queued = true;
                }
                if queued {
                    self.flush(publisher);
                }
            }
        } else if !self.options.idle {
            for _ in 0..echoes {
                client.out.extend_from_slice(&self.frame);
                client.sent.push_back(now);
            }
        }
        self.flush(index);
    }
}
