#!/usr/bin/env bash
# The tokio adapter against the other tokio WebSocket libraries, each an echo server on the
# same current_thread runtime, I/O and timer drivers on (what
# `#[tokio::main(flavor = "current_thread")]` builds; the adapter's keep-alive needs the
# timer): benches/peers' rfc6455_tokio_echo (examples/tokio_echo.rs, built there without the
# crate's dev-dependencies, as a user's build), fastwebsockets_echo and
# tokio_tungstenite_echo, loaded in turn by scripts/bench-ab.sh: messages per server
# CPU-second over every echo scenario.
#
#   scripts/bench-tokio.sh [--runs N] [--scenarios LIST]
#
# PEERS_TOKIO_ENABLE=io runs the two peers without the timer driver instead, as their own
# examples do (benches/peers/src/lib.rs).
set -euo pipefail
cd "$(dirname "$0")/.."
export PEERS_TOKIO_ENABLE=${PEERS_TOKIO_ENABLE:-all}
(cd benches/peers && cargo build --release --bins >/dev/null 2>&1 || cargo build --release --bins)
peers=benches/peers/target/release
exec scripts/bench-ab.sh "$@" \
  rfc6455-tokio "$peers/rfc6455_tokio_echo" \
  fastwebsockets "$peers/fastwebsockets_echo" \
  tokio-tungstenite "$peers/tokio_tungstenite_echo"
