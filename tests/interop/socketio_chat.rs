//! The socketio_chat example (feature `socketio`) in headless Chromium: its page on the npm
//! `socket.io-client` bundle the example serves, with the default transports (long-polling,
//! then the upgrade to WebSocket), in three tabs (tests/interop/socketio_chat_browser.mjs):
//! presence from the server's rooms, room broadcasts that another room does not get, acks
//! shown as "delivered", joining and leaving a room, a closed tab leaving the list.
//!
//! ```text
//! scripts/install-peers.sh
//! cargo build --features socketio --example socketio_chat
//! cargo test --features socketio --test interop -- --include-ignored socketio_chat::
//! ```

use super::chromium_example;

#[test]
#[ignore = "needs the interop peers: scripts/install-peers.sh"]
fn chromium_uses_the_socketio_chat_page_in_three_tabs() {
    chromium_example(
        "socketio_chat",
        "socketio_chat_browser.mjs",
        &[],
        "socket.io chat on http://",
        |port| format!("http://127.0.0.1:{port}/"),
        &[],
    );
}
