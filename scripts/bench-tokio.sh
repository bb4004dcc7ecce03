#!/usr/bin/env bash
# The tokio adapter against the other tokio WebSocket libraries, each an echo server on a
# current_thread runtime (examples/tokio_echo, benches/peers' fastwebsockets_echo and
# tokio_tungstenite_echo), loaded in turn by scripts/bench-ab.sh: messages per server
# CPU-second over every echo scenario.
#
#   scripts/bench-tokio.sh [--runs N] [--scenarios LIST]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --features tokio --example tokio_echo >/dev/null 2>&1 \
  || cargo build --release --features tokio --example tokio_echo
(cd benches/peers && cargo build --release --bins >/dev/null 2>&1 || cargo build --release --bins)
exec scripts/bench-ab.sh "$@" \
  rfc6455-tokio target/release/examples/tokio_echo \
  fastwebsockets benches/peers/target/release/fastwebsockets_echo \
  tokio-tungstenite benches/peers/target/release/tokio_tungstenite_echo
