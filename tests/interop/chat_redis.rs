//! The chat example as two nodes of one cluster through a real redis-server (feature
//! `redis`): `chat --redis URL` on two ports, and headless Chromium with a tab on each
//! (tests/interop/chat_redis_browser.mjs). Checks that the tabs see each other in the
//! room's members and chat across the nodes, that a third tab in another room gets none of
//! it, and that when one node dies its members leave the other tab's list.
//!
//! ```text
//! scripts/install-peers.sh
//! cargo test --test interop -- --include-ignored chat_redis::
//! ```

use super::RunningExample;
use super::run_peer;
use super::support::redis::RedisServer;

#[test]
#[ignore = "needs the interop peers: scripts/install-peers.sh"]
fn two_chat_nodes_through_redis_in_chromium() {
    let redis = RedisServer::start(&[]);
    let url = redis.url();
    let first = RunningExample::start("chat", &["--redis", &url], "chat on http://");
    let second = RunningExample::start("chat", &["--redis", &url], "chat on http://");
    let pages = [first.port, second.port].map(|port| format!("http://127.0.0.1:{port}/"));
    // The browser script kills the second node itself (SIGKILL to this pid) to see its
    // members go from the first node's page.
    let second_pid = second.child.id().to_string();
    run_peer(
        "node",
        "chat_redis_browser.mjs",
        &[&pages[0], &pages[1], &second_pid],
    );
}
