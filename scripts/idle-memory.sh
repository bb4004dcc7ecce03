#!/usr/bin/env bash
# Measures the echo server's resident memory per idle connection: starts
# `examples/echo` on one loop, opens N connections with the load generator (every
# handshake completed, then silence), and reports the server's RSS growth per connection.
#
# usage: scripts/idle-memory.sh [connections (default 10000)]
set -euo pipefail
cd "$(dirname "$0")/.."
connections=${1:-10000}
port=${PORT:-9311}
ulimit -n "$(ulimit -Hn)"
cargo build --release --example echo --bench load >/dev/null 2>&1 || cargo build --release --example echo --bench load
target/release/examples/echo "127.0.0.1:$port" >/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do
  python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null && break
  sleep 0.1
done
load=$(ls -t target/release/deps/load-* | grep -v '\.d$' | head -1)
"$load" --url "ws://127.0.0.1:$port/" --connections "$connections" --idle --server-pid "$server"
