#!/usr/bin/env bash
# Measures the echo server's resident memory per idle connection: starts
# `examples/echo` on one loop, opens N connections with the load generator (every
# handshake completed, then silence), and reports the server's RSS growth per connection.
#
# usage: scripts/idle-memory.sh [--tls] [--echo-first SIZE] [connections (default 10000)]
#
# --tls: over wss:// (both built with --features tls), with a CA and a server certificate
# (ECDSA P-256, for 127.0.0.1 and localhost) made by scripts/make-test-certs.sh in a
# temporary directory deleted at exit. --echo-first SIZE: each connection first echoes one SIZE-byte message, then goes
# idle (what the buffers that traffic grew leave behind).
set -euo pipefail
cd "$(dirname "$0")/.."
tls=0
echo_first=()
while [ $# -gt 0 ]; do
  case $1 in
    --tls) tls=1; shift ;;
    --echo-first) echo_first=(--idle-echo --size "$2"); shift 2 ;;
    *) break ;;
  esac
done
connections=${1:-10000}
port=${PORT:-9311}
ulimit -n "$(ulimit -Hn)"
if [ "$tls" = 0 ]; then
  cargo build --release --example echo --bench load >/dev/null 2>&1 || cargo build --release --example echo --bench load
  target/release/examples/echo "127.0.0.1:$port" >/dev/null 2>&1 &
  server=$!
  trap 'kill $server 2>/dev/null || true' EXIT
  url=(--url "ws://127.0.0.1:$port/")
  load=$(ls -t target/release/deps/load-* | grep -v '\.d$' | head -1)
else
  certs=$(mktemp -d "${TMPDIR:-/tmp}/rfc6455-idle-tls.XXXXXX")
  server=""
  trap '[ -n "$server" ] && kill $server 2>/dev/null; rm -rf "$certs"' EXIT
  scripts/make-test-certs.sh "$certs"
  cargo build --release --features tls --example echo >/dev/null 2>&1 \
    || cargo build --release --features tls --example echo
  load=$(cargo build --release --features tls --bench load --message-format=json 2>/dev/null \
    | python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "load" and m.get("executable"):
        print(m["executable"])')
  target/release/examples/echo "127.0.0.1:$port" --tls "$certs/server.pem" "$certs/server.key" \
    >/dev/null 2>&1 &
  server=$!
  url=(--url "wss://127.0.0.1:$port/" --tls-ca "$certs/ca.pem")
fi
for _ in $(seq 1 50); do
  python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null && break
  sleep 0.1
done
"$load" "${url[@]}" --connections "$connections" --idle "${echo_first[@]}" --server-pid "$server"
