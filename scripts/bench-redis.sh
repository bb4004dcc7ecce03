#!/usr/bin/env bash
# Scale-out through Redis (issue 14): broadcasts made on one node of a cluster reach the
# clients of every node through one redis-server's pub/sub. Cross-node deliveries per
# second and per server CPU-second (the CPU of all the node processes, summed), and the
# latency from the sender's emit to the receipt on the sending node (`local`) and on the
# other nodes (`remote`), for:
#
#   ours      examples/socketio_echo --redis URL: SocketIoServer + redis::SocketIoAdapter
#   node      benches/peers/socketio_echo.mjs --redis URL: socket.io 4 +
#             @socket.io/redis-adapter 8 (redis v4 client)
#   ours-raw  examples/redis_broadcast: the plain event API + redis::Cluster (plain
#             WebSocket clients; no Node counterpart)
#
#   scripts/bench-redis.sh [--nodes 2,4] [--runs N] [--seconds S] [--clients PER_NODE]
#                          [--scenarios SIZExIN_FLIGHT,...] [--servers ours,node,ours-raw]
#
# All nodes pinned to core 0, the load (benches/peers/redis_broadcast_load.mjs, one Node
# process) and redis-server pinned to core 1; everything over 127.0.0.1. PER_NODE clients
# (default 1,000) on each node; the first client of node 0 keeps IN_FLIGHT broadcasts of
# SIZE bytes in flight (the next goes out once every client of every node has its copy).
# Defaults: 64x16 (throughput) and 64x1 (latency with one broadcast at a time).
# One redis-server (Debian's) for the whole script, on a free loopback port, no
# persistence (--save '' --appendonly no). Before each run the script waits until every
# node has subscribed on Redis. Latency from the timestamp the sender puts in each
# broadcast: of every delivery (local, remote), of the first copy on the sending node and
# on each other node, and of the last copy (the whole fan-out). Prints each run's JSON
# line, then the means (ranges).
# Exits 1 after the summary if a run lost or doubled deliveries.
set -euo pipefail
cd "$(dirname "$0")/.."

node_counts=2,4 runs=3 seconds=5 per_node=1000 scenarios=64x16,64x1 servers=ours,node,ours-raw
while [ $# -gt 0 ]; do
  case $1 in
    --nodes) node_counts=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --clients) per_node=$2; shift 2 ;;
    --scenarios) scenarios=$2; shift 2 ;;
    --servers) servers=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done

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
build() {
  cargo build --release --features socketio,redis --example "$1" --message-format=json \
    2>/dev/null | executable "$1"
}
ours_bin=$(build socketio_echo) || { cargo build --release --features socketio,redis --example socketio_echo; exit 1; }
raw_bin=$(build redis_broadcast) || { cargo build --release --features redis --example redis_broadcast; exit 1; }
for module in socket.io ws @socket.io/redis-adapter redis; do
  if [ ! -d "benches/peers/node_modules/$module" ]; then
    (cd benches/peers && npm install --no-package-lock --no-audit --no-fund --loglevel=error >/dev/null)
    break
  fi
done
command -v taskset >/dev/null || { echo "taskset (util-linux) is needed" >&2; exit 1; }
command -v redis-server >/dev/null || { echo "redis-server is needed (apt-get install redis-server)" >&2; exit 1; }
# The nodes and the load each hold a socket per client.
ulimit -n "$(ulimit -Hn)"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
  for _ in $(seq 100); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1',$1),0.2)" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "nothing listens on port $1" >&2
  return 1
}

# No server outlives the script, even when a run fails.
results=$(mktemp)
node_pids=()
redis_pid=""
stop_nodes() {
  for p in "${node_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${node_pids[@]}"; do wait "$p" 2>/dev/null || true; done
  node_pids=()
}
cleanup() {
  stop_nodes
  if [ -n "$redis_pid" ]; then kill "$redis_pid" 2>/dev/null || true; wait "$redis_pid" 2>/dev/null || true; fi
  rm -f "$results"
}
trap cleanup EXIT

# How busy each core is before anything of ours runs, over 2 s of /proc/stat.
python3 - <<'PY'
import time
def cores():
    return [list(map(int, l.split()[1:])) for l in open("/proc/stat") if l[:3] == "cpu" and l[3].isdigit()]
a = cores(); time.sleep(2); b = cores()
busy = [1 - ((y[3] + y[4]) - (x[3] + x[4])) / (sum(y) - sum(x)) for x, y in zip(a, b)]
print("before the runs, cores busy: " + ", ".join(f"{x:.0%}" for x in busy))
PY
redis_port=$(free_port)
taskset -c 1 redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
  --daemonize no --loglevel warning >/dev/null 2>&1 &
redis_pid=$!
wait_port "$redis_port"
redis_url="redis://127.0.0.1:$redis_port"
echo "redis-server $(redis-server --version | grep -o 'v=[0-9.]*') on $redis_url; $(uptime)"

# subscribed SERVER: how many nodes Redis counts on the cluster's channel (for Socket.IO,
# the request channel of `/`, as the adapter itself counts the nodes; it subscribes to
# that one with its broadcast pattern).
subscribed() {
  case $1 in
    ours-raw) redis-cli -p "$redis_port" PUBSUB NUMSUB 'rfc6455#broadcast' | tail -1 ;;
    *) redis-cli -p "$redis_port" PUBSUB NUMSUB 'socket.io-request#/#' | tail -1 ;;
  esac
}

for nodes in ${node_counts//,/ }; do
  for scenario in ${scenarios//,/ }; do
    IFS=x read -r size in_flight <<<"$scenario"
    for round in $(seq "$runs"); do
      for server in ${servers//,/ }; do
        addresses=() pids=()
        for _ in $(seq "$nodes"); do
          port=$(free_port)
          case $server in
            ours) taskset -c 0 "$ours_bin" "127.0.0.1:$port" --redis "$redis_url" >/dev/null 2>&1 & ;;
            node) taskset -c 0 node benches/peers/socketio_echo.mjs "127.0.0.1:$port" --redis "$redis_url" >/dev/null 2>&1 & ;;
            ours-raw) taskset -c 0 "$raw_bin" "127.0.0.1:$port" "$redis_url" >/dev/null 2>&1 & ;;
            *) echo "unknown server $server" >&2; exit 2 ;;
          esac
          node_pids+=($!)
          pids+=($!)
          addresses+=("127.0.0.1:$port")
        done
        for port in "${addresses[@]#127.0.0.1:}"; do wait_port "$port"; done
        for _ in $(seq 100); do
          [ "$(subscribed "$server")" -ge "$nodes" ] && break
          sleep 0.1
        done
        [ "$(subscribed "$server")" -ge "$nodes" ] || { echo "$server: not every node subscribed" >&2; exit 1; }
        case $server in ours-raw) proto=raw ;; *) proto=sio ;; esac
        join() { local IFS=,; echo "$*"; }
        line=$(taskset -c 1 node benches/peers/redis_broadcast_load.mjs "$proto" \
          "$(join "${addresses[@]}")" "$(join "${pids[@]}")" "$redis_pid" \
          "$per_node" "$size" "$in_flight" "$seconds")
        stop_nodes
        echo "${nodes}n $scenario round $round $server: $line"
        echo "$nodes $scenario $server $line" >>"$results"
      done
    done
  done
done

python3 - "$results" "$servers" <<'PY'
import json, sys, collections
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    nodes, scenario, server, data = line.split(" ", 3)
    runs[(int(nodes), scenario, server)].append(json.loads(data))
servers = sys.argv[2].split(",")
def stat(values, fmt="{:,.0f}"):
    mean = sum(values) / len(values)
    return f"{fmt.format(mean)} ({fmt.format(min(values))} to {fmt.format(max(values))})"
lost = []
print("nodes | size x in flight | server | deliveries/s | per server CPU-s | server CPU-s | "
      "redis CPU-s | load CPU-s | local p50/p99 us | remote p50/p99 us | first copy on the "
      "sending node p50/p99 | first copy on another node p50/p99 | complete p50/p99 | delivered")
for (nodes, scenario, server), rs in runs.items():
    delivered = [r["delivered"] for r in rs]
    if any(d != 1 for d in delivered):
        lost.append(f"{nodes} nodes {scenario} {server}: delivered {delivered}")
    get = lambda key: [r[key] for r in rs]
    pair = lambda name: f"{stat(get(name + '_p50_us'))} / {stat(get(name + '_p99_us'))}"
    print(f"{nodes} | {scenario} | {server} | {stat(get('per_second'))} | "
          f"{stat(get('per_server_cpu_s'))} | {stat(get('server_cpu_s'), '{:.2f}')} | "
          f"{stat(get('redis_cpu_s'), '{:.2f}')} | {stat(get('load_cpu_s'), '{:.2f}')} | "
          f"{pair('local')} | {pair('remote')} | {pair('local_first')} | "
          f"{pair('remote_first')} | {pair('complete')} | {min(delivered)} to {max(delivered)}")
for line in lost:
    print(f"LOST OR DOUBLED DELIVERIES: {line}")
sys.exit(1 if lost else 0)
PY
