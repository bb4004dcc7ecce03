//! The Redis pub/sub link (feature `redis`) against a real `redis-server`, which each test
//! starts on a free loopback port and stops (Debian's package; `.ci/run` installs it):
//! messages between two nodes, patterns, a Redis killed and restarted mid-traffic, the
//! publish queue's bound, AUTH, queries beside the publishes.
#![cfg(feature = "redis")]

mod support;

use std::net::TcpListener;
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use bytes::Bytes;
use rfc6455::redis::{PubSub, PubSubConfig, PubSubMessage, PublishError, Reply};
use support::redis::{PATIENCE, RedisServer};

/// A link whose messages come out of the returned channel.
fn link(url: &str, config: PubSubConfig) -> (PubSub, Receiver<PubSubMessage>) {
    let (sender, receiver) = channel();
    let pubsub = PubSub::connect(url, config, move |message| {
        let _ = sender.send(message);
    })
    .unwrap();
    (pubsub, receiver)
}

/// The prefix of the probes [`publish_until_received`] sends.
const PROBE: &[u8] = b"probe:";

/// Publishes probes (`probe:<label>:<n>`) on `channel` from `from` every 50 ms until `to`
/// receives one (a subscription takes effect when Redis has read it); returns it. Later
/// copies of the probe may still arrive: [`next_message`] skips them.
fn publish_until_received(
    from: &PubSub,
    to: &Receiver<PubSubMessage>,
    channel: &str,
    label: &str,
) -> PubSubMessage {
    let deadline = Instant::now() + PATIENCE;
    let prefix = format!("probe:{label}:");
    for n in 0.. {
        from.publish(channel.to_owned(), format!("{prefix}{n}"))
            .unwrap();
        while let Ok(message) = to.recv_timeout(Duration::from_millis(50)) {
            if message.payload.starts_with(prefix.as_bytes()) {
                return message;
            }
        }
        assert!(Instant::now() < deadline, "{label:?} never arrived");
    }
    unreachable!()
}

/// The next message that is not a probe, if one comes within `wait`.
fn next_message(from: &Receiver<PubSubMessage>, wait: Duration) -> Option<PubSubMessage> {
    let deadline = Instant::now() + wait;
    loop {
        let message = from
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .ok()?;
        if !message.payload.starts_with(PROBE) {
            return Some(message);
        }
    }
}

#[test]
#[ignore = "needs redis-server (Debian's package; .ci/run installs it)"]
fn a_message_published_by_one_node_reaches_the_nodes_subscribed_once() {
    let redis = RedisServer::start(&[]);
    let (a, a_messages) = link(&redis.url(), PubSubConfig::default());
    let (b, _b_messages) = link(&redis.url(), PubSubConfig::default());
    a.subscribe("room:lobby");
    a.psubscribe("user:*");
    let message = publish_until_received(&b, &a_messages, "room:lobby", "ready");
    assert_eq!(message.channel, "room:lobby");
    assert_eq!(message.pattern, None);
    // Now subscribed: each publish arrives exactly once, in order, binary-safe.
    let payloads: Vec<Bytes> = (0..100u8)
        .map(|i| Bytes::from(vec![i, b'\r', b'\n', 0, 255]))
        .collect();
    for payload in &payloads {
        b.publish("room:lobby", payload.clone()).unwrap();
    }
    for payload in &payloads {
        let message = next_message(&a_messages, PATIENCE).expect("a message");
        assert_eq!(&message.payload, payload);
    }
    let by_pattern = publish_until_received(&b, &a_messages, "user:42", "direct");
    assert_eq!(by_pattern.pattern.as_deref(), Some(&b"user:*"[..]));
    assert_eq!(by_pattern.channel, "user:42");
    // A channel nobody subscribed to reaches nobody; after UNSUBSCRIBE, neither does the
    // lobby.
    a.unsubscribe("room:lobby");
    std::thread::sleep(Duration::from_millis(200));
    b.publish("room:lobby", "after").unwrap();
    b.publish("room:other", "elsewhere").unwrap();
    publish_until_received(&b, &a_messages, "user:1", "marker");
    let other = next_message(&a_messages, Duration::from_millis(300));
    assert_eq!(other, None, "nothing but probes arrived");
}

#[test]
#[ignore = "needs redis-server (Debian's package; .ci/run installs it)"]
fn a_redis_killed_and_restarted_is_reconnected_and_subscriptions_are_made_again() {
    let mut redis = RedisServer::start(&[]);
    let config = PubSubConfig::default();
    let (a, a_messages) = link(&redis.url(), config.clone());
    let (b, _b_messages) = link(&redis.url(), config);
    a.subscribe("room");
    publish_until_received(&b, &a_messages, "room", "before");
    redis.kill();
    let deadline = Instant::now() + PATIENCE;
    while a.is_connected() || b.is_connected() {
        assert!(Instant::now() < deadline, "the links did not notice");
        std::thread::sleep(Duration::from_millis(20));
    }
    // Publishes while Redis is down wait in the queue (bounded) instead of failing.
    b.publish("room", "during").unwrap();
    redis.restart();
    // Resubscribed: messages published after the reconnection arrive.
    publish_until_received(&b, &a_messages, "room", "after");
    assert!(a.is_connected() && b.is_connected());
}

#[test]
#[ignore = "needs redis-server (Debian's package; .ci/run installs it)"]
fn publishes_past_the_queue_bound_are_refused_while_redis_is_away() {
    // Nothing listens on this port: the link keeps retrying, publishes queue.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = PubSubConfig {
        max_queued_bytes: 100,
        ..PubSubConfig::default()
    };
    let (link, _messages) = link(&format!("redis://127.0.0.1:{port}"), config);
    // Channel and payload count: 9 + 90 = 99, then 1 more is exactly the bound.
    link.publish("channel:1", vec![b'x'; 90]).unwrap();
    link.publish("", vec![b'x'; 1]).unwrap();
    assert_eq!(
        link.publish("", vec![b'x'; 1]),
        Err(PublishError::QueueFull)
    );
    assert!(!link.is_connected());
}

#[test]
#[ignore = "needs redis-server (Debian's package; .ci/run installs it)"]
fn a_password_protected_redis_is_reached_with_auth() {
    let redis = RedisServer::start(&["--requirepass", "s3cret"]);
    let url = format!("redis://:s3cret@127.0.0.1:{}", redis.port);
    let (a, a_messages) = link(&url, PubSubConfig::default());
    let (b, _) = link(&url, PubSubConfig::default());
    a.subscribe("private");
    let message = publish_until_received(&b, &a_messages, "private", "authenticated");
    assert_eq!(message.channel, "private");
}

#[test]
#[ignore = "needs redis-server (Debian's package; .ci/run installs it)"]
fn queries_get_their_replies_in_order_with_publishes_between_them() {
    let redis = RedisServer::start(&["--requirepass", "pw"]);
    let url = format!("redis://:pw@127.0.0.1:{}", redis.port);
    let (a, a_messages) = link(&url, PubSubConfig::default());
    let (b, _) = link(&url, PubSubConfig::default());
    a.subscribe("counted");
    publish_until_received(&b, &a_messages, "counted", "ready");
    let (replies, answers) = channel();
    for (label, channel) in [("first", "counted"), ("second", "nobody")] {
        let replies = replies.clone();
        b.publish("counted", "between").unwrap();
        b.query(&[b"PUBSUB", b"NUMSUB", channel.as_bytes()], move |reply| {
            let _ = replies.send((label, reply));
        })
        .unwrap();
    }
    let count = |reply: &Reply| reply.as_array().and_then(|items| items.get(1)).cloned();
    let (label, reply) = answers.recv_timeout(PATIENCE).unwrap();
    assert_eq!((label, count(&reply)), ("first", Some(Reply::Integer(1))));
    let (label, reply) = answers.recv_timeout(PATIENCE).unwrap();
    assert_eq!((label, count(&reply)), ("second", Some(Reply::Integer(0))));
    // An error reply is a reply too.
    b.query(&[b"NO-SUCH-COMMAND"], move |reply| {
        drop(replies.send(("error", reply)))
    })
    .unwrap();
    let (label, reply) = answers.recv_timeout(PATIENCE).unwrap();
    assert!(
        label == "error" && matches!(reply, Reply::Error(_)),
        "{reply:?}"
    );
}
