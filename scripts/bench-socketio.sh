#!/usr/bin/env bash
# Socket.IO echo: events echoed per server CPU-second, ours (examples/socketio_echo,
# release, one loop) against the npm socket.io v4 server (benches/peers/socketio_echo.mjs),
# each pinned to core 0, the load (benches/peers/socketio_load.mjs, npm ws speaking the
# protocol by hand) on core 1, over 127.0.0.1, WebSocket transport, every server once per
# round, in turn.
#
#   scripts/bench-socketio.sh [--runs N] [--seconds S] [--scenarios 100x16x4,100x1024x4]
#
# Installs what it needs, idempotently. Prints each run's JSON line, then per scenario the
# mean of each server and the ratio ours / node.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=3 seconds=5 scenarios=100x16x4,100x1024x4
while [ $# -gt 0 ]; do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --scenarios) scenarios=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done

cargo build --release --features socketio --example socketio_echo >/dev/null 2>&1 \
  || cargo build --release --features socketio --example socketio_echo
if [ ! -d benches/peers/node_modules/socket.io ] || [ ! -d benches/peers/node_modules/ws ]; then
  (cd benches/peers && npm install --no-package-lock --no-audit --no-fund --loglevel=error >/dev/null)
fi
command -v taskset >/dev/null || { echo "taskset (util-linux) is needed" >&2; exit 1; }

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
    for server in ours node; do
      port=$(free_port)
      case $server in
        ours) taskset -c 0 target/release/examples/socketio_echo "127.0.0.1:$port" >/dev/null 2>&1 & ;;
        node) taskset -c 0 node benches/peers/socketio_echo.mjs "127.0.0.1:$port" >/dev/null 2>&1 & ;;
      esac
      pid=$!
      for _ in $(seq 100); do
        python3 -c "import socket; socket.create_connection(('127.0.0.1',$port),0.2)" 2>/dev/null && break
        sleep 0.1
      done
      line=$(taskset -c 1 node benches/peers/socketio_load.mjs "127.0.0.1:$port" "$pid" \
        "$connections" "$size" "$in_flight" "$seconds")
      kill "$pid"; wait "$pid" 2>/dev/null || true
      pid=""
      echo "$scenario round $round $server: $line"
      echo "$scenario $server $line" >>"$results"
    done
  done
done
python3 - "$results" <<'PY'
import json, sys, collections
rates = collections.defaultdict(list)
for line in open(sys.argv[1]):
    scenario, server, data = line.split(" ", 2)
    rates[(scenario, server)].append(json.loads(data)["per_server_cpu_s"])
for scenario in dict.fromkeys(s for s, _ in rates):
    ours = rates[(scenario, "ours")]; node = rates[(scenario, "node")]
    mean = lambda xs: sum(xs) / len(xs)
    print(f"{scenario}: ours {mean(ours):,.0f} ({min(ours):,} to {max(ours):,}), "
          f"node {mean(node):,.0f} ({min(node):,} to {max(node):,}), "
          f"ours / node {mean(ours) / mean(node):.2f}x")
PY
