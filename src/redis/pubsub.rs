//! [`PubSub`]: one node's link to a Redis server for pub/sub. One thread runs a small mio
//! loop with two connections, a subscriber and a publisher (RESP2 forbids other commands
//! on a subscribed connection), so neither the runtime's loops nor the caller ever wait on
//! Redis: [`PubSub::publish`] queues and returns, messages reach the handler on the link's
//! thread. Other commands (`PUBSUB NUMSUB`, say) go on the publisher with
//! [`PubSub::query`], their replies to a callback.
//!
//! When Redis goes away the link reconnects with backoff (100 ms doubling to 5 s) and
//! subscribes again to every channel and pattern it had. What is lost in between:
//! messages other nodes published while this node was not subscribed (Redis pub/sub keeps
//! nothing), and publishes of this node that were written to the dying connection but not
//! answered (they may or may not have reached Redis). Publishes made while disconnected
//! wait in the queue and go out on reconnection; the queue is bounded
//! ([`PubSubConfig::max_queued_bytes`]: past it, `publish` is refused), and so is what a
//! slow Redis leaves unread in the subscriber's decoder ([`PubSubConfig::limits`]).

use std::collections::{BTreeSet, VecDeque};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token, Waker};

use super::resp::{Reply, ReplyDecoder, RespLimits, encode_command};

/// How a [`PubSub`] link behaves.
#[derive(Debug, Clone)]
pub struct PubSubConfig {
    /// The most bytes of publishes waiting to be written (while Redis is slow or gone);
    /// past it, [`PubSub::publish`] says [`PublishError::QueueFull`]. Default 16 MiB.
    pub max_queued_bytes: usize,
    /// What the decoder of each connection accepts (a message is one reply).
    pub limits: RespLimits,
    /// How often an idle connection is checked with a `PING`, and how long its answer may
    /// take before the connection is dropped and made again. Default 15 s and 10 s.
    pub ping_interval: Duration,
    /// See `ping_interval`.
    pub ping_timeout: Duration,
}

impl Default for PubSubConfig {
    fn default() -> Self {
        PubSubConfig {
            max_queued_bytes: 16 << 20,
            limits: RespLimits::default(),
            ping_interval: Duration::from_secs(15),
            ping_timeout: Duration::from_secs(10),
        }
    }
}

/// A message from a subscribed channel or pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PubSubMessage {
    /// The pattern it matched, for a `PSUBSCRIBE`.
    pub pattern: Option<Bytes>,
    /// The channel it was published to.
    pub channel: Bytes,
    /// What was published.
    pub payload: Bytes,
}

/// Why a publish was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PublishError {
    /// [`PubSubConfig::max_queued_bytes`] are already waiting (Redis is slow or gone).
    #[error("the publish queue is full")]
    QueueFull,
    /// The link was shut down.
    #[error("the Redis link is shut down")]
    Closed,
}

/// Where a Redis server is: `redis://[[user]:password@]host[:port][/db]` (the db does not
/// matter to pub/sub, whose channels span every database).
#[derive(Debug, Clone, PartialEq, Eq)]
struct RedisAddress {
    host: String,
    port: u16,
    username: Option<String>,
    password: Option<String>,
}

impl RedisAddress {
    fn parse(url: &str) -> Result<RedisAddress, std::io::Error> {
        let invalid =
            |why: &str| std::io::Error::new(ErrorKind::InvalidInput, format!("{url}: {why}"));
        let rest = url
            .strip_prefix("redis://")
            .ok_or_else(|| invalid("not a redis:// URL"))?;
        let authority = rest.split('/').next().unwrap_or_default();
        let (credentials, host_port) = match authority.rsplit_once('@') {
            Some((credentials, host_port)) => (Some(credentials), host_port),
            None => (None, authority),
        };
        let (username, password) = match credentials.map(|c| c.split_once(':')) {
            None => (None, None),
            Some(None) => (None, credentials.map(str::to_owned)),
            Some(Some((user, password))) => (
                (!user.is_empty()).then(|| user.to_owned()),
                Some(password.to_owned()),
            ),
        };
        let (host, port) = match host_port.rsplit_once(':') {
            Some((host, port)) if !host.ends_with(']') || host.starts_with('[') => {
                let port = port.parse().map_err(|_| invalid("bad port"))?;
                (host, port)
            }
            _ => (host_port, 6379),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(invalid("no host"));
        }
        Ok(RedisAddress {
            host: host.to_owned(),
            port,
            username,
            password,
        })
    }

    /// `AUTH [user] password`, if there are credentials.
    fn auth(&self, out: &mut Vec<u8>) {
        match (&self.username, &self.password) {
            (Some(user), Some(password)) => {
                encode_command(&[b"AUTH", user.as_bytes(), password.as_bytes()], out);
            }
            (None, Some(password)) => encode_command(&[b"AUTH", password.as_bytes()], out),
            _ => {}
        }
    }
}

/// What is done with the reply to a [`PubSub::query`].
type QueryCallback = Box<dyn FnOnce(Reply) + Send>;

/// A command for the publisher connection, in the order it was asked for.
enum Outgoing {
    Publish(Bytes, Bytes),
    /// An encoded command and what its reply goes to.
    Query(Vec<u8>, QueryCallback),
}

impl Outgoing {
    fn size(&self) -> usize {
        match self {
            Outgoing::Publish(channel, payload) => channel.len() + payload.len(),
            Outgoing::Query(command, _) => command.len(),
        }
    }
}

/// A reply the publisher connection waits for, in the order of its commands.
enum Awaited {
    /// This many replies that nothing waits for (AUTH, PING, PUBLISH).
    Ignored(usize),
    Query(QueryCallback),
}

/// What other threads ask of the link's thread.
#[derive(Default)]
struct Requests {
    channels: BTreeSet<Bytes>,
    patterns: BTreeSet<Bytes>,
    /// Subscription commands not yet written (they are also remembered above, for
    /// reconnection).
    subscription_changes: Vec<u8>,
    publishes: VecDeque<Outgoing>,
    queued_bytes: usize,
}

/// What the link's thread and its handles share.
struct Shared {
    requests: Mutex<Requests>,
    waker: Waker,
    stop: AtomicBool,
    /// Both connections are up and the subscriptions sent.
    connected: AtomicBool,
}

impl Shared {
    fn requests(&self) -> MutexGuard<'_, Requests> {
        self.requests.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A node's pub/sub link to Redis; dropping it stops the link's thread.
pub struct PubSub {
    shared: Arc<Shared>,
    max_queued_bytes: usize,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for PubSub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PubSub")
            .field("connected", &self.is_connected())
            .finish()
    }
}

type MessageHandler = Box<dyn FnMut(PubSubMessage) + Send>;

impl PubSub {
    /// Starts a link to the Redis server at `url` (`redis://host:port`, with
    /// `user:password@` if it wants `AUTH`); `on_message` gets every message of the
    /// channels and patterns subscribed, on the link's thread (it must not block). The
    /// link connects in the background: a server that is not up yet is retried.
    pub fn connect(
        url: &str,
        config: PubSubConfig,
        on_message: impl FnMut(PubSubMessage) + Send + 'static,
    ) -> std::io::Result<PubSub> {
        let address = RedisAddress::parse(url)?;
        let poll = Poll::new()?;
        let waker = Waker::new(poll.registry(), WAKER)?;
        let shared = Arc::new(Shared {
            requests: Mutex::new(Requests::default()),
            waker,
            stop: AtomicBool::new(false),
            connected: AtomicBool::new(false),
        });
        let max_queued_bytes = config.max_queued_bytes;
        let mut link = Link {
            poll,
            address,
            config,
            shared: shared.clone(),
            on_message: Box::new(on_message),
            subscriber: Side::new(),
            publisher: Side::new(),
            backoff: MIN_BACKOFF,
        };
        let thread = std::thread::Builder::new()
            .name("rfc6455-redis".into())
            .spawn(move || link.run())?;
        Ok(PubSub {
            shared,
            max_queued_bytes,
            thread: Some(thread),
        })
    }

    /// Subscribes to `channel` (now, and again after every reconnection).
    pub fn subscribe(&self, channel: impl Into<Bytes>) {
        self.change(b"SUBSCRIBE", channel.into(), |r| &mut r.channels, true);
    }

    /// Unsubscribes from `channel`.
    pub fn unsubscribe(&self, channel: impl Into<Bytes>) {
        self.change(b"UNSUBSCRIBE", channel.into(), |r| &mut r.channels, false);
    }

    /// Subscribes to the channels matching `pattern` (Redis' glob-style patterns).
    pub fn psubscribe(&self, pattern: impl Into<Bytes>) {
        self.change(b"PSUBSCRIBE", pattern.into(), |r| &mut r.patterns, true);
    }

    /// Unsubscribes from `pattern`.
    pub fn punsubscribe(&self, pattern: impl Into<Bytes>) {
        self.change(b"PUNSUBSCRIBE", pattern.into(), |r| &mut r.patterns, false);
    }

    fn change(
        &self,
        command: &[u8],
        name: Bytes,
        set: impl FnOnce(&mut Requests) -> &mut BTreeSet<Bytes>,
        add: bool,
    ) {
        let mut requests = self.shared.requests();
        let changed = if add {
            set(&mut requests).insert(name.clone())
        } else {
            set(&mut requests).remove(&name)
        };
        if changed {
            encode_command(&[command, &name], &mut requests.subscription_changes);
            drop(requests);
            let _ = self.shared.waker.wake();
        }
    }

    /// Queues `payload` for `channel`: it goes out in order with this node's other
    /// publishes, at once if Redis is up, on reconnection if not.
    pub fn publish(
        &self,
        channel: impl Into<Bytes>,
        payload: impl Into<Bytes>,
    ) -> Result<(), PublishError> {
        self.send(Outgoing::Publish(channel.into(), payload.into()))
    }

    /// Queues `command` (`[b"PUBSUB", b"NUMSUB", channel]`, say: not one that subscribes,
    /// which would stop the publisher) for the publisher connection, in order with the
    /// publishes; `on_reply` gets its reply on the link's thread (it must not block). If
    /// the connection drops before the reply, or the link stops, `on_reply` is dropped
    /// uncalled. Refused like a publish when the queue is full.
    pub fn query(
        &self,
        command: &[&[u8]],
        on_reply: impl FnOnce(Reply) + Send + 'static,
    ) -> Result<(), PublishError> {
        let mut encoded = Vec::new();
        encode_command(command, &mut encoded);
        self.send(Outgoing::Query(encoded, Box::new(on_reply)))
    }

    fn send(&self, outgoing: Outgoing) -> Result<(), PublishError> {
        if self.shared.stop.load(Ordering::Relaxed) {
            return Err(PublishError::Closed);
        }
        let size = outgoing.size();
        let mut requests = self.shared.requests();
        if requests.queued_bytes + size > self.max_queued_bytes {
            return Err(PublishError::QueueFull);
        }
        requests.queued_bytes += size;
        let first = requests.publishes.is_empty();
        requests.publishes.push_back(outgoing);
        drop(requests);
        if first {
            let _ = self.shared.waker.wake();
        }
        Ok(())
    }

    /// Both connections are up and every subscription was sent.
    pub fn is_connected(&self) -> bool {
        self.shared.connected.load(Ordering::Relaxed)
    }
}

impl Drop for PubSub {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        let _ = self.shared.waker.wake();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

const SUBSCRIBER: Token = Token(0);
const PUBLISHER: Token = Token(1);
const WAKER: Token = Token(2);
const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// One connection of the link: its socket (while connected), what it has to write, its
/// decoder, and its heartbeat.
struct Side {
    stream: Option<TcpStream>,
    /// The TCP connection is established.
    ready: bool,
    output: Vec<u8>,
    written: usize,
    decoder: Option<ReplyDecoder>,
    /// The replies its commands are owed, in order (the publisher's only: the subscriber's
    /// are pushes).
    awaited: VecDeque<Awaited>,
    /// When it is next due something: a ping, the ping's answer, a reconnection.
    next_ping: Instant,
    ping_sent: Option<Instant>,
    retry_at: Option<Instant>,
}

impl Side {
    fn new() -> Side {
        Side {
            stream: None,
            ready: false,
            output: Vec::new(),
            written: 0,
            decoder: None,
            awaited: VecDeque::new(),
            next_ping: Instant::now(),
            ping_sent: None,
            retry_at: Some(Instant::now()),
        }
    }

    /// One more reply that nothing waits for.
    fn ignore_reply(&mut self) {
        match self.awaited.back_mut() {
            Some(Awaited::Ignored(count)) => *count += 1,
            _ => self.awaited.push_back(Awaited::Ignored(1)),
        }
    }

    /// The reply that came goes to what waits for it, if anything does.
    fn replied(&mut self, reply: Reply) {
        match self.awaited.pop_front() {
            Some(Awaited::Ignored(count)) if count > 1 => {
                self.awaited.push_front(Awaited::Ignored(count - 1));
            }
            Some(Awaited::Query(on_reply)) => on_reply(reply),
            _ => {}
        }
    }

    /// Writes what it can of its output.
    fn flush(&mut self) -> std::io::Result<()> {
        let Some(stream) = self.stream.as_mut().filter(|_| self.ready) else {
            return Ok(());
        };
        while self.written < self.output.len() {
            match stream.write(self.output.get(self.written..).unwrap_or_default()) {
                Ok(0) => return Err(ErrorKind::WriteZero.into()),
                Ok(n) => self.written += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if self.written == self.output.len() {
            self.output.clear();
            self.written = 0;
        }
        Ok(())
    }

    /// Reads what arrived into its decoder.
    fn read(&mut self) -> std::io::Result<()> {
        let (Some(stream), Some(decoder)) = (self.stream.as_mut(), self.decoder.as_mut()) else {
            return Ok(());
        };
        let mut buffer = [0u8; 16 * 1024];
        loop {
            match stream.read(&mut buffer) {
                Ok(0) => return Err(ErrorKind::UnexpectedEof.into()),
                Ok(n) => decoder.feed(buffer.get(..n).unwrap_or_default()),
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

/// The link's thread: its poll, both connections, and what it calls.
struct Link {
    poll: Poll,
    address: RedisAddress,
    config: PubSubConfig,
    shared: Arc<Shared>,
    on_message: MessageHandler,
    subscriber: Side,
    publisher: Side,
    backoff: Duration,
}

impl Link {
    fn run(&mut self) {
        let mut events = Events::with_capacity(16);
        while !self.shared.stop.load(Ordering::Relaxed) {
            let now = Instant::now();
            self.on_deadlines(now);
            let timeout = self
                .next_deadline()
                .map(|at| at.saturating_duration_since(now));
            if self.poll.poll(&mut events, timeout).is_err() {
                std::thread::sleep(MIN_BACKOFF);
                continue;
            }
            for event in events.iter() {
                let token = event.token();
                if token == SUBSCRIBER || token == PUBLISHER {
                    let result = self.on_socket(token, event.is_writable());
                    if result.is_err() {
                        self.drop_connection(token);
                    }
                }
            }
            self.take_requests();
        }
    }

    fn side(&mut self, token: Token) -> &mut Side {
        if token == SUBSCRIBER {
            &mut self.subscriber
        } else {
            &mut self.publisher
        }
    }

    /// Readiness on one connection: established, readable, writable.
    fn on_socket(&mut self, token: Token, writable: bool) -> std::io::Result<()> {
        let side = self.side(token);
        if !side.ready {
            let Some(stream) = side.stream.as_ref() else {
                return Ok(());
            };
            if !writable {
                return Ok(());
            }
            if let Some(error) = stream.take_error()? {
                return Err(error);
            }
            match stream.peer_addr() {
                Ok(_) => side.ready = true,
                Err(e) if e.kind() == ErrorKind::NotConnected => return Ok(()),
                Err(e) => return Err(e),
            }
        }
        side.read()?;
        self.take_replies(token)?;
        let side = self.side(token);
        side.flush()?;
        self.update_connected();
        Ok(())
    }

    /// Handles every whole reply a connection has.
    fn take_replies(&mut self, token: Token) -> std::io::Result<()> {
        loop {
            let side = self.side(token);
            let Some(decoder) = side.decoder.as_mut() else {
                return Ok(());
            };
            let reply = decoder
                .next_reply()
                .map_err(|error| std::io::Error::new(ErrorKind::InvalidData, error))?;
            let Some(reply) = reply else {
                return Ok(());
            };
            side.ping_sent = None;
            if token == PUBLISHER {
                // PUBLISH answers with the number of subscribers it reached, AUTH with
                // +OK, PING with +PONG; an error reply refuses one command. Queries get
                // theirs.
                side.replied(reply);
                continue;
            }
            if let Some(message) = message_in(reply) {
                (self.on_message)(message);
            }
        }
    }

    /// Connects what is due to reconnect, pings what is due a ping, drops what did not
    /// answer its ping.
    fn on_deadlines(&mut self, now: Instant) {
        for token in [SUBSCRIBER, PUBLISHER] {
            let ping_interval = self.config.ping_interval;
            let ping_timeout = self.config.ping_timeout;
            let side = self.side(token);
            if side.retry_at.is_some_and(|at| at <= now) {
                side.retry_at = None;
                if self.open(token).is_err() {
                    self.drop_connection(token);
                }
                continue;
            }
            if side
                .ping_sent
                .is_some_and(|sent| now >= sent + ping_timeout)
            {
                self.drop_connection(token);
                continue;
            }
            if side.ready && side.ping_sent.is_none() && now >= side.next_ping {
                encode_command(&[b"PING"], &mut side.output);
                if token == PUBLISHER {
                    side.ignore_reply();
                }
                side.ping_sent = Some(now);
                side.next_ping = now + ping_interval;
                if side.flush().is_err() {
                    self.drop_connection(token);
                }
            }
        }
    }

    fn next_deadline(&self) -> Option<Instant> {
        [&self.subscriber, &self.publisher]
            .iter()
            .flat_map(|side| {
                let heartbeat = if side.ready {
                    Some(match side.ping_sent {
                        Some(sent) => sent + self.config.ping_timeout,
                        None => side.next_ping,
                    })
                } else {
                    None
                };
                [side.retry_at, heartbeat]
            })
            .flatten()
            .min()
    }

    /// Starts connecting `token`'s connection and queues what it must say first.
    fn open(&mut self, token: Token) -> std::io::Result<()> {
        let address = resolve(&self.address)?;
        let mut stream = TcpStream::connect(address)?;
        self.poll.registry().register(
            &mut stream,
            token,
            Interest::READABLE | Interest::WRITABLE,
        )?;
        let limits = self.config.limits;
        let ping_interval = self.config.ping_interval;
        let mut hello = Vec::new();
        self.address.auth(&mut hello);
        let side = self.side(token);
        side.stream = Some(stream);
        side.ready = false;
        side.decoder = Some(ReplyDecoder::new(limits));
        side.next_ping = Instant::now() + ping_interval;
        side.ping_sent = None;
        side.awaited.clear();
        if !hello.is_empty() {
            side.ignore_reply();
        }
        side.output = hello;
        side.written = 0;
        if token == SUBSCRIBER {
            // Every subscription again: the changes queued so far are in the sets.
            let mut requests = self.shared.requests();
            requests.subscription_changes.clear();
            let channels: Vec<&[u8]> = requests.channels.iter().map(|c| &c[..]).collect();
            let patterns: Vec<&[u8]> = requests.patterns.iter().map(|c| &c[..]).collect();
            let side = &mut self.subscriber;
            if !channels.is_empty() {
                encode_command(
                    &[&[&b"SUBSCRIBE"[..]], &channels[..]].concat(),
                    &mut side.output,
                );
            }
            if !patterns.is_empty() {
                encode_command(
                    &[&[&b"PSUBSCRIBE"[..]], &patterns[..]].concat(),
                    &mut side.output,
                );
            }
        }
        Ok(())
    }

    /// Closes `token`'s connection and schedules its reconnection.
    fn drop_connection(&mut self, token: Token) {
        let backoff = self.backoff;
        self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
        let side = self.side(token);
        if let Some(mut stream) = side.stream.take() {
            let _ = self.poll.registry().deregister(&mut stream);
        }
        let side = self.side(token);
        side.ready = false;
        side.decoder = None;
        // Queries written to the dying connection get no reply: their callbacks go.
        side.awaited.clear();
        side.output.clear();
        side.written = 0;
        side.ping_sent = None;
        side.retry_at = Some(Instant::now() + backoff);
        self.shared.connected.store(false, Ordering::Relaxed);
    }

    /// Moves what other threads asked for into the connections' output.
    fn take_requests(&mut self) {
        let mut requests = self.shared.requests();
        if self.subscriber.ready && !requests.subscription_changes.is_empty() {
            self.subscriber
                .output
                .extend_from_slice(&requests.subscription_changes);
            requests.subscription_changes.clear();
        }
        if self.publisher.ready {
            while let Some(outgoing) = requests.publishes.pop_front() {
                requests.queued_bytes -= outgoing.size();
                let publisher = &mut self.publisher;
                match outgoing {
                    Outgoing::Publish(channel, payload) => {
                        encode_command(&[b"PUBLISH", &channel, &payload], &mut publisher.output);
                        publisher.ignore_reply();
                    }
                    Outgoing::Query(command, on_reply) => {
                        publisher.output.extend_from_slice(&command);
                        publisher.awaited.push_back(Awaited::Query(on_reply));
                    }
                }
            }
        }
        drop(requests);
        for token in [SUBSCRIBER, PUBLISHER] {
            if self.side(token).flush().is_err() {
                self.drop_connection(token);
            }
        }
        self.update_connected();
    }

    fn update_connected(&mut self) {
        let up = self.subscriber.ready && self.publisher.ready;
        if up {
            self.backoff = MIN_BACKOFF;
        }
        self.shared.connected.store(up, Ordering::Relaxed);
    }
}

/// The first address `address` resolves to.
fn resolve(address: &RedisAddress) -> std::io::Result<SocketAddr> {
    (address.host.as_str(), address.port)
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| std::io::Error::new(ErrorKind::NotFound, "no address for the Redis host"))
}

/// A `message` or `pmessage` push, as a [`PubSubMessage`]; `None` for the rest
/// (subscription confirmations, `pong`).
fn message_in(reply: Reply) -> Option<PubSubMessage> {
    let Reply::Array(Some(items)) = reply else {
        return None;
    };
    let mut items = items.into_iter().map(|item| match item {
        Reply::Bulk(Some(bytes)) => Some(bytes),
        _ => None,
    });
    let kind = items.next()??;
    match &kind[..] {
        b"message" => Some(PubSubMessage {
            pattern: None,
            channel: items.next()??,
            payload: items.next()??,
        }),
        b"pmessage" => Some(PubSubMessage {
            pattern: Some(items.next()??),
            channel: items.next()??,
            payload: items.next()??,
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_urls_give_host_port_and_credentials() {
        let parse = |url| RedisAddress::parse(url).unwrap();
        assert_eq!(
            parse("redis://127.0.0.1:6380"),
            RedisAddress {
                host: "127.0.0.1".into(),
                port: 6380,
                username: None,
                password: None
            }
        );
        let full = parse("redis://app:s3cret@cache.internal/2");
        assert_eq!((full.host.as_str(), full.port), ("cache.internal", 6379));
        assert_eq!(full.username.as_deref(), Some("app"));
        assert_eq!(full.password.as_deref(), Some("s3cret"));
        let password_only = parse("redis://:pw@[::1]:7000");
        assert_eq!(
            (password_only.host.as_str(), password_only.port),
            ("::1", 7000)
        );
        assert_eq!(password_only.username, None);
        assert_eq!(password_only.password.as_deref(), Some("pw"));
        for bad in [
            "http://x",
            "redis://",
            "redis://host:port",
            "redis://host:99999",
        ] {
            assert!(RedisAddress::parse(bad).is_err(), "{bad}");
        }
        let mut auth = Vec::new();
        full.auth(&mut auth);
        assert_eq!(auth, b"*3\r\n$4\r\nAUTH\r\n$3\r\napp\r\n$6\r\ns3cret\r\n");
    }

    #[test]
    fn pushes_become_messages_and_the_rest_is_left() {
        let bulk = |text: &'static str| Reply::Bulk(Some(Bytes::from(text)));
        let push = |items: Vec<Reply>| Reply::Array(Some(items));
        assert_eq!(
            message_in(push(vec![bulk("message"), bulk("room"), bulk("hi")])),
            Some(PubSubMessage {
                pattern: None,
                channel: Bytes::from("room"),
                payload: Bytes::from("hi")
            })
        );
        assert_eq!(
            message_in(push(vec![
                bulk("pmessage"),
                bulk("r*"),
                bulk("room"),
                bulk("hi")
            ]))
            .and_then(|m| m.pattern),
            Some(Bytes::from("r*"))
        );
        assert_eq!(
            message_in(push(vec![
                bulk("subscribe"),
                bulk("room"),
                Reply::Integer(1)
            ])),
            None
        );
        assert_eq!(message_in(push(vec![bulk("message"), bulk("room")])), None);
        assert_eq!(message_in(Reply::Integer(3)), None);
    }
}
