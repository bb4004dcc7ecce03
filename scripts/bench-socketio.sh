#!/usr/bin/env bash
# Socket.IO benchmarks, per server CPU-second: ours (examples/socketio_echo, release, one
# loop) against the npm socket.io v4 server (benches/peers/socketio_echo.mjs) and
# socketioxide (benches/peers/src/bin/socketioxide_server.rs, current_thread tokio), each
# pinned to core 0, the load (npm ws speaking the protocol by hand) on core 1, over
# 127.0.0.1, WebSocket transport, every server once per round, in turn.
#
#   scripts/bench-socketio.sh [--broadcast] [--runs N] [--seconds S] [--scenarios LIST]
#                             [--servers ours,node,socketioxide]
#
# Echo (the default; benches/peers/socketio_load.mjs): a scenario CONNECTIONSxSIZExIN_FLIGHT
# is that many clients, each keeping IN_FLIGHT `echo` events of SIZE bytes in flight; events
# echoed per server CPU-second. Default scenarios 100x16x4,100x1024x4.
# Broadcast (--broadcast; benches/peers/socketio_broadcast_load.mjs): CLIENTSxSIZExIN_FLIGHT
# is that many receiving clients, one of which keeps IN_FLIGHT `bcast` events of SIZE bytes
# in flight, each broadcast by the server to every client; deliveries per server CPU-second,
# every delivery checked. Default scenarios 10000x16x16,10000x1024x16,10000x16x1,
# 10000x1024x1.
#
# Installs what it needs, idempotently; benches/peers builds in $PEERS_TARGET_DIR
# (default benches/peers/target), and a server that does not build is left out, said so.
# Prints each run's JSON line, then per scenario the mean (range) of each server and the
# ratios of ours to the others. Exits 1 after the summary if a broadcast lost deliveries.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=echo runs=3 seconds=5 scenarios="" servers=ours,node,socketioxide
while [ $# -gt 0 ]; do
  case $1 in
    --broadcast) mode=broadcast; shift ;;
    --runs) runs=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --scenarios) scenarios=$2; shift 2 ;;
    --servers) servers=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
case $mode in
  echo) load=benches/peers/socketio_load.mjs; : "${scenarios:=100x16x4,100x1024x4}" ;;
  broadcast) load=benches/peers/socketio_broadcast_load.mjs
    : "${scenarios:=10000x16x16,10000x1024x16,10000x16x1,10000x1024x1}" ;;
esac

# executable NAME: the path of the executable NAME in cargo's JSON messages on stdin.
executable() {
  python3 -c '
import json, sys
path = ""
for line in sys.stdin:
    message = json.loads(line)
    if message.get("reason") == "compiler-artifact" and message["target"]["name"] == sys.argv[1]:
        path = message.get("executable")
print(path)' "$1"
}
ours_bin=$(cargo build --release --features socketio --example socketio_echo \
  --message-format=json 2>/dev/null | executable socketio_echo) \
  || { cargo build --release --features socketio --example socketio_echo; exit 1; }
if [[ ,$servers, == *,socketioxide,* ]]; then
  build_log=$(mktemp)
  if socketioxide_bin=$(CARGO_TARGET_DIR="${PEERS_TARGET_DIR:-$PWD/benches/peers/target}" \
    cargo build --release --manifest-path benches/peers/Cargo.toml --bin socketioxide_server \
    --message-format=json 2>"$build_log" | executable socketioxide_server) \
    && [ -x "$socketioxide_bin" ]; then
    :
  else
    echo "socketioxide left out, it does not build: $(grep -m1 -E '^error' "$build_log")" >&2
    servers=$(echo ",$servers," | sed 's/,socketioxide,/,/; s/^,//; s/,$//')
  fi
  rm -f "$build_log"
fi
if [ ! -d benches/peers/node_modules/socket.io ] || [ ! -d benches/peers/node_modules/ws ]; then
  (cd benches/peers && npm install --no-package-lock --no-audit --no-fund --loglevel=error >/dev/null)
fi
command -v taskset >/dev/null || { echo "taskset (util-linux) is needed" >&2; exit 1; }
# A server and the load each hold a socket per client.
ulimit -n "$(ulimit -Hn)"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# No server outlives the script, even when a run fails.
results=$(mktemp)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -f "$results"
}
trap cleanup EXIT
for scenario in ${scenarios//,/ }; do
  IFS=x read -r connections size in_flight <<<"$scenario"
  for round in $(seq "$runs"); do
    for server in ${servers//,/ }; do
      port=$(free_port)
      case $server in
        ours) taskset -c 0 "$ours_bin" "127.0.0.1:$port" >/dev/null 2>&1 & ;;
        node) taskset -c 0 node benches/peers/socketio_echo.mjs "127.0.0.1:$port" >/dev/null 2>&1 & ;;
        socketioxide) taskset -c 0 "$socketioxide_bin" "127.0.0.1:$port" >/dev/null 2>&1 & ;;
        *) echo "unknown server $server" >&2; exit 2 ;;
      esac
      pid=$!
      for _ in $(seq 100); do
        python3 -c "import socket; socket.create_connection(('127.0.0.1',$port),0.2)" 2>/dev/null && break
        sleep 0.1
      done
      line=$(taskset -c 1 node "$load" "127.0.0.1:$port" "$pid" \
        "$connections" "$size" "$in_flight" "$seconds")
      kill "$pid"; wait "$pid" 2>/dev/null || true
      pid=""
      echo "$scenario round $round $server: $line"
      echo "$scenario $server $line" >>"$results"
    done
  done
done
python3 - "$results" "$servers" <<'PY'
import json, sys, collections
rates = collections.defaultdict(list)
lost = []
for line in open(sys.argv[1]):
    scenario, server, data = line.split(" ", 2)
    run = json.loads(data)
    rates[(scenario, server)].append(run["per_server_cpu_s"])
    if run.get("delivered", 1) != 1:
        lost.append(f"{scenario} {server}: delivered {run['delivered']}")
servers = sys.argv[2].split(",")
mean = lambda xs: sum(xs) / len(xs)
for scenario in dict.fromkeys(s for s, _ in rates):
    parts = [f"{server} {mean(r):,.0f} ({min(r):,} to {max(r):,})"
             for server in servers for r in [rates[(scenario, server)]]]
    if "ours" in servers:
        ours = mean(rates[(scenario, "ours")])
        parts += [f"ours / {server} {ours / mean(rates[(scenario, server)]):.2f}x"
                  for server in servers if server != "ours"]
    print(f"{scenario}: " + ", ".join(parts))
for line in lost:
    print(f"LOST DELIVERIES: {line}")
sys.exit(1 if lost else 0)
PY
