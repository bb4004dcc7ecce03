#!/usr/bin/env bash
# TLS benchmarks, in one run: echo messages per server CPU-second, new handshakes per server
# CPU-second and idle memory per connection, for our server over wss:// against uWebSockets.js
# (SSLApp) and tokio-tungstenite over tokio-rustls, each also over plain ws:// to show what TLS
# costs it. Each server is pinned to core 0, the load generator (benches/load, built with
# --features tls) to core 1, over 127.0.0.1.
#
#   scripts/bench-tls.sh [--runs N] [--seconds S] [--quick] [--key p256|rsa2048]
#                        [--parts echo,handshakes,idle] [--servers ours,uws,tokio-tungstenite]
#                        [--plain LIST] [--scenarios 1x16x16,100x1024x4]
#                        [--handshake-connections C] [--idle-connections N] [--idle-runs N]
#                        [--max-other SECONDS] [--out FILE]
#
# Servers: ours = examples/echo built with --features tls, one loop (`--tls CERT KEY` for
# wss://); uws = benches/peers/uws.js (`--tls CERT KEY`: an SSLApp); tokio-tungstenite =
# benches/peers' tokio_tungstenite_tls_echo (tokio-rustls, ring) and tokio_tungstenite_echo
# for plain. --plain: the servers also measured over ws:// (default: all of --servers).
#
# echo: each scenario (CONNECTIONSxSIZExIN_FLIGHT) --runs rounds (default 5) of S seconds
# (default 5) after 1 s of warm-up, every server and transport once per round, in turn.
# handshakes: C connections at a time (default 16) opened (TCP, TLS, upgrade) and closed
# (close frames both ways, then the end of the stream) for S seconds, --runs rounds; the
# client never resumes a TLS session, so each is a full handshake. idle: a fresh server,
# N connections (default 10,000) left idle, RSS growth per connection; then the same after
# each connection has echoed one 16 KiB message (what traffic leaves behind); --idle-runs
# times each (default 2); also uws with --low-memory (SSL_MODE_RELEASE_BUFFERS).
# --key: the server certificate's key (default p256: ECDSA P-256; rsa2048: RSA 2048).
# --quick: 1 round of 2 s, 1,000 idle connections, one idle run (a smoke test).
#
# Certificates (a CA and a server certificate for 127.0.0.1 and localhost) are made by
# scripts/make-test-certs.sh in a temporary directory, deleted at exit with everything else. Every run's
# JSON line (with the CPU the rest of the machine used meanwhile, "other_cpu_s") goes to
# --out FILE if given. An echo or handshake run during which other processes took more than
# --max-other seconds of CPU (default 0.5) is marked "disturbed" and done again, twice at
# most; the summary at the end leaves disturbed runs out and counts them. No server outlives
# the script.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

runs=5 seconds=5 warmup=1 key=p256 parts=echo,handshakes,idle
servers_arg=ours,uws,tokio-tungstenite plain_arg="" scenarios=1x16x16,100x1024x4
handshake_connections=16 idle_connections=10000 idle_runs=2 out="" max_other=0.5
server_core=0 client_core=1
usage() { sed -n '2,34p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case $1 in
    --runs) runs=$2; shift ;;
    --seconds) seconds=$2; shift ;;
    --quick) runs=1; seconds=2; warmup=0.5; idle_connections=1000; idle_runs=1 ;;
    --key) key=$2; shift ;;
    --parts) parts=$2; shift ;;
    --servers) servers_arg=$2; shift ;;
    --plain) plain_arg=$2; shift ;;
    --scenarios) scenarios=$2; shift ;;
    --handshake-connections) handshake_connections=$2; shift ;;
    --idle-connections) idle_connections=$2; shift ;;
    --idle-runs) idle_runs=$2; shift ;;
    --max-other) max_other=$2; shift ;;
    --out) out=$2; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench-tls.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
plain_arg=${plain_arg:-$servers_arg}
IFS=, read -ra servers <<<"$servers_arg"
IFS=, read -ra echo_scenarios <<<"$scenarios"
has() { case ",$1," in *",$2,"*) return 0 ;; esac; return 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/rfc6455-bench-tls.XXXXXX")
server_pid=""
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- certificates ----------------------------------------------------------------------------
scripts/make-test-certs.sh "$work/certs" "$key"
cert=$work/certs/server.pem server_key=$work/certs/server.key ca=$work/certs/ca.pem

# --- builds (copied into $work, so that another build of the tree cannot swap them) ----------
echo "== building examples/echo and the load generator with --features tls (release)"
cargo build --release --features tls --example echo >"$work/build.log" 2>&1 \
  || { cat "$work/build.log" >&2; exit 1; }
cp "${CARGO_TARGET_DIR:-target}/release/examples/echo" "$work/echo"
load_src=$(cargo build --release --features tls --bench load --message-format=json \
  2>>"$work/build.log" | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "load" \
            and m.get("executable"):
        print(m["executable"])')
[ -x "$load_src" ] || { cat "$work/build.log" >&2; exit 1; }
cp "$load_src" "$work/load"
if has "$servers_arg" tokio-tungstenite; then
  echo "== building benches/peers (release)"
  cargo build --release --manifest-path benches/peers/Cargo.toml --bins >"$work/peers.log" 2>&1 \
    || { cat "$work/peers.log" >&2; exit 1; }
fi
uws_addon=benches/peers/node_modules/@trufflesuite/uws-js-unofficial/binaries/uws_linux_x64_115.node
if has "$servers_arg" uws && [ ! -f "$uws_addon" ]; then
  echo "== installing npm packages into benches/peers/node_modules"
  (cd benches/peers && npm install --no-package-lock --no-audit --no-fund --loglevel=error >/dev/null)
  rm -f benches/peers/package-lock.json
  [ -f "$uws_addon" ] || { echo "bench-tls.sh: $uws_addon is missing" >&2; exit 1; }
fi
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# --- running -----------------------------------------------------------------------------------
# measure.py LOAD ARGS...: runs the load generator pinned to the client core and prints its
# JSON line with "other_cpu_s" added: the CPU time charged to processes meanwhile beyond the
# server's and the load generator's own (builds, other processes; near 0 on a quiet machine).
cat >"$work/measure.py" <<'PY'
import json, os, resource, subprocess, sys
tick = os.sysconf("SC_CLK_TCK")
def busy():
    # user + nice + system: the time charged to processes (softirq time, which is where the
    # kernel's loopback work is charged on tick accounting, is no process's).
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (v[0] + v[1] + v[2]) / tick
def proc_cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / tick
core, pid, cmd = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
before = (busy(), proc_cpu(pid), resource.getrusage(resource.RUSAGE_CHILDREN))
done = subprocess.run(["taskset", "-c", core, *cmd, "--server-pid", str(pid)],
                      stdout=subprocess.PIPE, text=True)
after = (busy(), proc_cpu(pid), resource.getrusage(resource.RUSAGE_CHILDREN))
client = (after[2].ru_utime + after[2].ru_stime) - (before[2].ru_utime + before[2].ru_stime)
other = (after[0] - before[0]) - (after[1] - before[1]) - client
line = next((l for l in done.stdout.splitlines() if l.startswith("{")), None)
if line is None:
    sys.exit(f"the load generator printed no result (exit {done.returncode})")
result = json.loads(line)
result["other_cpu_s"] = round(max(other, 0.0), 2)
print(json.dumps(result))
sys.exit(done.returncode)
PY

next_port=9701
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# start NAME TRANSPORT [EXTRA]: starts a server pinned to the server core on a fresh port and
# waits until it accepts; sets $port, $server_pid and $url.
start() {
  local name=$1 transport=$2 extra=${3:-} cmd i
  while port_open "$next_port"; do next_port=$((next_port + 1)); done
  port=$next_port
  next_port=$((next_port + 1))
  case $name:$transport in
    ours:tls) cmd=("$work/echo" "127.0.0.1:$port" 1 --tls "$cert" "$server_key") ;;
    ours:plain) cmd=("$work/echo" "127.0.0.1:$port" 1) ;;
    uws:tls) cmd=(node benches/peers/uws.js "$port" echo --tls "$cert" "$server_key" $extra) ;;
    uws:plain) cmd=(node benches/peers/uws.js "$port" echo) ;;
    tokio-tungstenite:tls)
      cmd=(benches/peers/target/release/tokio_tungstenite_tls_echo "127.0.0.1:$port" "$cert"
        "$server_key") ;;
    tokio-tungstenite:plain)
      cmd=(benches/peers/target/release/tokio_tungstenite_echo "127.0.0.1:$port") ;;
    *) echo "bench-tls.sh: no server $name over $transport" >&2; exit 2 ;;
  esac
  taskset -c "$server_core" "${cmd[@]}" >"$work/server.log" 2>&1 &
  server_pid=$!
  for i in $(seq 1 200); do
    if port_open "$port"; then break; fi
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
    sleep 0.05
  done
  if [ "$transport" = tls ]; then
    url=(--url "wss://127.0.0.1:$port/" --tls-ca "$ca")
  else
    url=(--url "ws://127.0.0.1:$port/")
  fi
}

stop() {
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

results=$work/results.jsonl
# record PART SERVER TRANSPORT LABEL RUN LOAD_ARGS...: one measured load run against the
# running server, its JSON line tagged and kept.
record() {
  local part=$1 name=$2 transport=$3 label=$4 run=$5 line attempt
  shift 5
  for attempt in 1 2 3; do
    if ! line=$(python3 "$work/measure.py" "$client_core" "$server_pid" "$work/load" "${url[@]}" "$@"); then
      echo "   $part $name $transport $label run $run FAILED: $line" >&2
      return 1
    fi
    line=$(python3 -c 'import json, sys
r = json.loads(sys.argv[1])
r.update(part=sys.argv[2], server=sys.argv[3], transport=sys.argv[4], label=sys.argv[5], run=int(sys.argv[6]))
r["disturbed"] = r["part"] != "idle" and r["other_cpu_s"] > float(sys.argv[7])
print(json.dumps(r))' "$line" "$part" "$name" "$transport" "$label" "$run" "$max_other")
    echo "$line" >>"$results"
    case $line in *'"disturbed": true'*) ;; *) break ;; esac
    if [ "$attempt" -lt 3 ]; then
      echo "   $part $name $transport $label run $run: disturbed (other processes took CPU), again"
    fi
  done
  python3 -c 'import json, sys
r = json.loads(sys.argv[1])
key = {"echo": "msgs_per_server_cpu_s", "handshakes": "handshakes_per_server_cpu_s",
       "idle": "server_rss_per_connection"}[r["part"]]
wall = {"echo": "msgs_per_s", "handshakes": "handshakes_per_s"}.get(r["part"])
extra = f" ({r[wall]:,.0f}/s wall)" if wall else ""
value = r.get(key) or 0
print("   {part} {label} run {run}: {server} {transport}: {value:,.0f}{extra}, other CPU "
      "{other_cpu_s} s".format(value=value, extra=extra, **r))' "$line"
}

variants=()
for name in "${servers[@]}"; do
  variants+=("$name:tls")
  if has "$plain_arg" "$name"; then variants+=("$name:plain"); fi
done

echo "== $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD)$(
  [ -n "$(git status --porcelain --untracked-files=no)" ] && echo ' (with uncommitted changes)'),"\
  "key $key, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"

if has "$parts" echo; then
  for scenario in "${echo_scenarios[@]}"; do
    IFS=x read -r connections size in_flight <<<"$scenario"
    echo "== echo $scenario: $runs rounds of ${seconds} s"
    for run in $(seq 1 "$runs"); do
      for variant in "${variants[@]}"; do
        start "${variant%%:*}" "${variant#*:}"
        record echo "${variant%%:*}" "${variant#*:}" "$scenario" "$run" \
          --connections "$connections" --size "$size" --in-flight "$in_flight" \
          --seconds "$seconds" --warmup "$warmup" || true
        stop
      done
    done
  done
fi

if has "$parts" handshakes; then
  echo "== handshakes: $handshake_connections at a time, $runs rounds of ${seconds} s"
  for run in $(seq 1 "$runs"); do
    for variant in "${variants[@]}"; do
      start "${variant%%:*}" "${variant#*:}"
      record handshakes "${variant%%:*}" "${variant#*:}" "x$handshake_connections" "$run" \
        --handshakes --connections "$handshake_connections" --seconds "$seconds" \
        --warmup "$warmup" || true
      stop
    done
  done
fi

if has "$parts" idle; then
  echo "== idle: $idle_connections connections on a fresh server, $idle_runs runs"
  idle_variants=()
  for name in "${servers[@]}"; do
    idle_variants+=("$name:tls:")
    if [ "$name" = uws ]; then idle_variants+=("uws:tls:--low-memory"); fi
  done
  if has "$plain_arg" ours; then idle_variants+=("ours:plain:"); fi
  for run in $(seq 1 "$idle_runs"); do
    for variant in "${idle_variants[@]}"; do
      IFS=: read -r name transport extra <<<"$variant"
      label=${extra:+low-memory}
      for echo_first in no yes; do
        start "$name" "$transport" "$extra"
        if [ "$echo_first" = yes ]; then
          record idle "$name" "$transport" "${label:-default} after 16 KiB" "$run" \
            --connections "$idle_connections" --idle --idle-echo --size 16384 || true
        else
          record idle "$name" "$transport" "${label:-default} fresh" "$run" \
            --connections "$idle_connections" --idle || true
        fi
        stop
      done
    done
  done
fi

[ -n "$out" ] && cp "$results" "$out"
echo "== summary (mean, range of the runs, other CPU: the most any run saw)"
python3 - "$results" <<'PY'
import json, sys
from collections import defaultdict
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
last = {}
for r in rows:
    last[(r["part"], r["label"], r["server"], r["transport"], r["run"])] = r
kept = [r for r in rows if not r.get("disturbed")
        or last[(r["part"], r["label"], r["server"], r["transport"], r["run"])] is r]
if len(kept) < len(rows):
    print(f"({len(rows) - len(kept)} disturbed runs left out, each done again)")
still = sum(1 for r in kept if r.get("disturbed"))
if still:
    print(f"({still} runs disturbed three times in a row, kept and marked *)")
rows = kept
groups = defaultdict(list)
for r in rows:
    groups[(r["part"], r["label"], r["server"], r["transport"])].append(r)
fields = {"echo": ("msgs_per_server_cpu_s", "msgs_per_s"),
          "handshakes": ("handshakes_per_server_cpu_s", "handshakes_per_s"),
          "idle": ("server_rss_per_connection", None)}
for (part, label, server, transport), rs in groups.items():
    key, wall = fields[part]
    values = [r.get(key) or 0 for r in rs]
    mean = sum(values) / len(values)
    text = f"{part:10} {label:22} {server:17} {transport:5} {mean:>11,.0f} ({min(values):,.0f} to {max(values):,.0f})"
    if wall:
        walls = [r.get(wall) or 0 for r in rs]
        text += f"  wall {sum(walls) / len(walls):,.0f}/s"
    if part != "idle":
        text += f"  p50 {sum(r['p50_us'] for r in rs) / len(rs):,.0f} us  p99 {sum(r['p99_us'] for r in rs) / len(rs):,.0f} us"
        text += f"  load gen CPU {max(r['client_cpu_s'] for r in rs):.2f} s"
    text += f"  other {max(r['other_cpu_s'] for r in rs):.2f} s  n={len(rs)}"
    if any(r.get("disturbed") for r in rs):
        text += " *"
    resets = sum(r.get("resets_after_close", 0) for r in rs)
    if resets:
        text += f"  ({resets:,} ended by a reset after the close handshake)"
    errors = sum(r.get("errors", 0) for r in rs)
    if errors:
        text += f"  ERRORS {errors}"
    print(text)
tls = {r.get("tls") for r in rows if r.get("tls")}
print("negotiated:", ", ".join(sorted(tls)))
PY
