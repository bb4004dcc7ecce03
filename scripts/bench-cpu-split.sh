#!/usr/bin/env bash
# Where an echo server's CPU goes: user against system time per message, read from
# /proc/PID/stat around one 5 s load run (server on core 0, load generator on core 1).
# Shows how much of a scenario is the kernel's, which no user-space work can remove.
#
#   scripts/bench-cpu-split.sh [--servers ours,uws,tokio-tungstenite] [SCENARIO ...]
#
# SCENARIO is CONNECTIONSxSIZExIN_FLIGHT (default 100x16x1). Servers: ours, uws,
# fastwebsockets, tokio-tungstenite, ws. Run scripts/bench.sh once first: it installs and
# builds the peers this script starts. Prints one line per server and scenario.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-servers.sh

servers=ours,uws,tokio-tungstenite
scenarios=()
while [ $# -gt 0 ]; do
  case $1 in
    --servers) servers=${2:?--servers needs a list}; shift ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) scenarios+=("$1") ;;
  esac
  shift
done
[ ${#scenarios[@]} -gt 0 ] || scenarios=(100x16x1)

cargo build --release --example echo >/dev/null 2>&1
load_bin=$(cargo bench --bench load --no-run --message-format=json 2>/dev/null |
  python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("target", {}).get("name") == "load" and m.get("executable"):
        print(m["executable"])')
port=9611
server_pid=""
trap '[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; true' EXIT

start_server() {
  server_command "$1" echo "$port" || exit 2
  if [ ! -e "${server_cmd[0]}" ] && [ "${server_cmd[0]}" != node ]; then
    echo "bench-cpu-split.sh: ${server_cmd[0]} is missing; run scripts/bench.sh once first" >&2
    exit 1
  fi
  taskset -c 0 "${server_cmd[@]}" >/dev/null 2>&1 &
  server_pid=$!
  for _ in $(seq 50); do
    python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $port), 0.1)" \
      2>/dev/null && return
    sleep 0.1
  done
  echo "bench-cpu-split.sh: $1 did not start" >&2
  exit 1
}

ticks() { awk '{print $14, $15}' "/proc/$server_pid/stat"; }

IFS=, read -ra names <<<"$servers"
for key in "${scenarios[@]}"; do
  IFS=x read -r connections size in_flight <<<"$key"
  for name in "${names[@]}"; do
    start_server "$name"
    read -r user0 sys0 < <(ticks)
    result=$(taskset -c 1 "$load_bin" --url "ws://127.0.0.1:$port/" --connections "$connections" \
      --size "$size" --in-flight "$in_flight" --seconds 5 --warmup 0 --bench 2>/dev/null | tail -n 1)
    read -r user1 sys1 < <(ticks)
    kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null || true
    server_pid=""
    port=$((port + 1))
    python3 - "$name" "$key" "$result" "$((user1 - user0))" "$((sys1 - sys0))" \
      "$(getconf CLK_TCK)" <<'PY'
import json, sys
name, key, result, user, system, hz = sys.argv[1:]
messages = json.loads(result)["messages"]
user, system = int(user) / int(hz), int(system) / int(hz)
print(f"{key:<12} {name:<18} {messages:>9} messages  user {user:5.2f} s  system {system:5.2f} s  "
      f"user share {user / (user + system):4.0%}  per message: user {user / messages * 1e9:6.0f} ns, "
      f"system {system / messages * 1e9:6.0f} ns")
PY
  done
done
