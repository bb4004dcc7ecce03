#!/usr/bin/env bash
# Memory per idle Socket.IO connection: a fresh server, N connections (default 10,000)
# over the WebSocket transport, each CONNECTed to "/", then silence; the server's RSS
# growth per connection. Servers: ours (examples/socketio_echo, release, one loop) and the
# npm socket.io v4 server (benches/peers/socketio_echo.mjs). The clients are light ones
# over npm `ws` (benches/peers/socketio_idle_clients.mjs) in another process.
#
#   scripts/socketio-idle-memory.sh [--servers ours,node] [connections]
#
# Installs what it needs, idempotently (the release build, npm packages in
# benches/peers/node_modules). Prints one JSON line per server.
set -euo pipefail
cd "$(dirname "$0")/.."

servers=ours,node
if [ "${1:-}" = "--servers" ]; then servers=$2; shift 2; fi
connections=${1:-10000}

cargo build --release --features socketio --example socketio_echo >/dev/null 2>&1 \
  || cargo build --release --features socketio --example socketio_echo
if [ ! -d benches/peers/node_modules/socket.io ] || [ ! -d benches/peers/node_modules/ws ]; then
  (cd benches/peers && npm install --no-package-lock --no-audit --no-fund --loglevel=error >/dev/null)
fi
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

# No server or client outlives the script, even when a measurement fails.
server="" clients=""
cleanup() {
  for process in $server $clients; do kill "$process" 2>/dev/null || true; done
}
trap cleanup EXIT

rss() { awk '/^VmRSS/ { print $2 * 1024 }' "/proc/$1/status"; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

measure() {
  local name=$1; shift
  local port; port=$(free_port)
  "$@" "127.0.0.1:$port" >/dev/null 2>&1 &
  server=$!
  # Up when it accepts a connection.
  for _ in $(seq 100); do
    if python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$port),0.2)" 2>/dev/null; then break; fi
    sleep 0.1
  done
  sleep 1
  local before; before=$(rss $server)
  local fifo; fifo=$(mktemp -u); mkfifo "$fifo"
  node benches/peers/socketio_idle_clients.mjs "127.0.0.1:$port" "$connections" <"$fifo" >"$fifo.out" 2>&1 &
  clients=$!
  exec 9>"$fifo"
  for _ in $(seq 600); do
    if grep -q CONNECTED "$fifo.out" 2>/dev/null || ! kill -0 $clients 2>/dev/null; then break; fi
    sleep 0.2
  done
  sleep 2
  local after; after=$(rss $server)
  local line; line=$(grep CONNECTED "$fifo.out" || cat "$fifo.out")
  exec 9>&-
  wait $clients 2>/dev/null || true
  kill $server 2>/dev/null; wait $server 2>/dev/null || true
  rm -f "$fifo" "$fifo.out"
  case $line in
    CONNECTED*) ;;
    *) echo "{\"server\":\"$name\",\"error\":\"$line\"}"; return 1 ;;
  esac
  python3 -c 'import json,sys
name,before,after,n,line=sys.argv[1],float(sys.argv[2]),float(sys.argv[3]),int(sys.argv[4]),sys.argv[5]
print(json.dumps({"server":name,"connections":n,"connect_seconds":float(line.split()[2]),"server_rss_before":before,"server_rss_after":after,"server_rss_per_connection":round((after-before)/n,1)}))' \
    "$name" "$before" "$after" "$connections" "$line"
}

for server in ${servers//,/ }; do
  case $server in
    ours) measure ours target/release/examples/socketio_echo ;;
    node) measure node node benches/peers/socketio_echo.mjs ;;
    *) echo "unknown server $server" >&2; exit 2 ;;
  esac
done
