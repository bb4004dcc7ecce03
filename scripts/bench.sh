#!/usr/bin/env bash
# Benchmarks WebSocket echo servers one after another under the same load: each server is
# pinned to core 0, the load generator (benches/load) to core 1, all on 127.0.0.1.
#
#   scripts/bench.sh [--quick] [--servers ours,uws,fastwebsockets,tokio-tungstenite,ws]
#                    [--scenarios echo,idle,broadcast,1x16x1,100x1024x4,...]
#
# Servers, in this order: ours (examples/echo with one worker; benches/fanout_server for
# broadcast), uws (uWebSockets.js 20.30: benches/peers/uws.js), fastwebsockets and
# tokio-tungstenite (benches/peers, current_thread tokio), ws (Node ws 8: benches/peers/ws.mjs).
#
# Scenarios: echo CONNECTIONSxSIZExIN_FLIGHT (the list below), 5 s measured after 1 s of
# warm-up, three runs taken in turn across the servers (ours, uws, ..., ours, uws, ...), the
# run with the median msgs_per_s kept whole; `idle`: 10,000 idle
# connections against a fresh instance (server RSS per connection); `broadcast`: 1 publisher,
# 10,000 subscribers, 64-byte messages (ours, uws, ws). `echo` picks every echo scenario.
# --quick: one run per scenario, 2 s measured after 0.5 s of warm-up (a smoke test).
#
# Installs what it needs, idempotently: the cargo builds, the npm packages in
# benches/peers/node_modules (no lock file), util-linux (taskset) with apt-get if missing.
# Writes docs/bench/results.json, then scripts/bench_report.py writes docs/bench/table.md and
# docs/bench/msgs_per_s.svg; prints the table. No server outlives the script.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
. scripts/bench-servers.sh

all_servers="ours,uws,fastwebsockets,tokio-tungstenite,ws"
echo_scenarios=(1x16x1 1x16x16 100x16x1 100x16x16 1000x16x1 100x1024x1 100x1024x4
  10x65536x1 10x65536x4 1x1048576x1)
server_core=0
client_core=1
idle_connections=10000
broadcast_subscribers=10000
broadcast_size=64
results=docs/bench/results.json

quick=0
servers_arg=$all_servers
scenarios_arg="echo,idle,broadcast"
usage() { sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case $1 in
    --quick) quick=1 ;;
    --servers) servers_arg=${2:?--servers needs a list}; shift ;;
    --servers=*) servers_arg=${1#*=} ;;
    --scenarios) scenarios_arg=${2:?--scenarios needs a list}; shift ;;
    --scenarios=*) scenarios_arg=${1#*=} ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
if [ "$quick" = 1 ]; then runs=1; seconds=2; warmup=0.5; else runs=3; seconds=5; warmup=1; fi

# --- what to run (canonical order, no duplicates) -------------------------------------------
IFS=, read -ra wanted <<<"$servers_arg"
for name in "${wanted[@]}"; do
  case ",$all_servers," in
    *",$name,"*) ;;
    *) echo "bench.sh: unknown server '$name' (one of $all_servers)" >&2; exit 2 ;;
  esac
done
servers=()
IFS=, read -ra ordered <<<"$all_servers"
for name in "${ordered[@]}"; do
  case ",$servers_arg," in *",$name,"*) servers+=("$name") ;; esac
done

picked_echo=" "
run_idle=0
run_broadcast=0
IFS=, read -ra picked <<<"$scenarios_arg"
for item in "${picked[@]}"; do
  case $item in
    echo) picked_echo+="${echo_scenarios[*]} " ;;
    idle) run_idle=1 ;;
    broadcast) run_broadcast=1 ;;
    *)
      case " ${echo_scenarios[*]} " in
        *" $item "*) picked_echo+="$item " ;;
        *) echo "bench.sh: unknown scenario '$item' (echo, idle, broadcast or one of:" \
             "${echo_scenarios[*]})" >&2; exit 2 ;;
      esac ;;
  esac
done
echo_list=()
for key in "${echo_scenarios[@]}"; do
  case $picked_echo in *" $key "*) echo_list+=("$key") ;; esac
done

wants() { case " ${servers[*]} " in *" $1 "*) return 0 ;; esac; return 1; }

# --- cleanup: no server outlives the script --------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/rfc6455-bench.XXXXXX")
server_pid=""
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  local pids
  pids=$(jobs -p)
  if [ -n "$pids" ]; then
    kill $pids 2>/dev/null || true
    wait 2>/dev/null || true
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- the Python half: JSON handling ----------------------------------------------------------
cat >"$work/helper.py" <<'PY'
import glob, json, os, platform, subprocess, sys, time, tomllib


def read(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def write(path, value):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path + ".tmp", "w") as f:
        json.dump(value, f, indent=1)
        f.write("\n")
    os.replace(path + ".tmp", path)


def run(*cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def executable(name):
    """The executable of bench target NAME in `cargo --message-format=json` output on stdin."""
    for line in sys.stdin:
        try:
            m = json.loads(line)
        except ValueError:
            continue
        if (m.get("reason") == "compiler-artifact" and m["target"]["name"] == name
                and m.get("executable")):
            print(m["executable"])


def meta(out, quick, runs, seconds, warmup, server_core, client_core):
    cpu = None
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break

    def lock_version(name):
        try:
            with open("benches/peers/Cargo.lock", "rb") as f:
                lock = tomllib.load(f)
        except OSError:
            return None
        return next((p["version"] for p in lock.get("package", []) if p["name"] == name), None)

    def npm_version(package):
        found = read(os.path.join("benches/peers/node_modules", package, "package.json"))
        return found and found.get("version")

    with open("Cargo.toml", "rb") as f:
        ours = tomllib.load(f)["package"]["version"]
    commit = run("git", "rev-parse", "--short", "HEAD")
    dirty = run("git", "status", "--porcelain", "--untracked-files=no")
    with open("/proc/loadavg") as f:
        loadavg = [float(v) for v in f.read().split()[:3]]
    write(out, {
        "machine": {
            "nproc": os.cpu_count(),
            "cpu_model": cpu,
            "kernel": platform.release(),
            "rustc": run("rustc", "--version"),
            "node": run("node", "--version"),
            "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "loadavg_at_start": loadavg,
        },
        "settings": {
            "quick": quick == "1",
            "runs": int(runs),
            "seconds": float(seconds),
            "warmup": float(warmup),
            "server_core": int(server_core),
            "client_core": int(client_core),
            "kept_run": "median by msgs_per_s (broadcast: by deliveries_per_s)",
        },
        "versions": {
            "ours": f"rfc6455 {ours}"
                    + (f" ({commit}{'-dirty' if dirty else ''})" if commit else ""),
            "uws": f"uWebSockets.js {npm_version('@trufflesuite/uws-js-unofficial')}",
            "fastwebsockets": f"fastwebsockets {lock_version('fastwebsockets')}",
            "tokio-tungstenite": f"tokio-tungstenite {lock_version('tokio-tungstenite')}",
            "ws": f"ws {npm_version('ws')}",
        },
    })


def version(meta_path, name):
    print(read(meta_path)["versions"][name])


def note(path, key, value):
    """Sets KEY to the string VALUE in the JSON object at PATH (creating it)."""
    current = read(path) or {}
    current[key] = value
    write(path, current)


def median(lines, field, out, runs_out):
    """Keeps the JSON line of LINES with the median FIELD (the lower one of an even count)."""
    rows = []
    with open(lines) as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                try:
                    rows.append(json.loads(line))
                except ValueError:
                    pass
    if not rows:
        sys.exit(1)
    ordered = sorted(rows, key=lambda r: r.get(field) or 0)
    write(out, ordered[(len(ordered) - 1) // 2])
    write(runs_out, [r.get(field) for r in rows])


def show_echo(path):
    r = read(path)
    cpu = r.get("msgs_per_server_cpu_s")
    cpu = "-" if cpu is None else f"{cpu:.0f}"
    print(f"{r['msgs_per_s']:>10.0f} msgs/s {cpu:>10} msgs/server-cpu-s   "
          f"p50 {r['p50_us']:.0f} us  p99 {r['p99_us']:.0f} us")


def show_idle(path):
    r = read(path)
    per = r.get("server_rss_per_connection")
    before, after = r.get("server_rss_before") or 0, r.get("server_rss_after") or 0
    print(f"{r['connections']} connections: "
          f"{'-' if per is None else f'{per:.0f}'} B of server RSS per connection "
          f"({before / 2**20:.1f} -> {after / 2**20:.1f} MiB)")


def show_broadcast(path):
    r = read(path)
    cpu = r.get("deliveries_per_server_cpu_s")
    print(f"{r.get('subscribers')} subscribers: {r.get('deliveries_per_s', 0):.0f} deliveries/s, "
          f"{'-' if cpu is None else f'{cpu:.0f}'} deliveries/server-cpu-s")


def assemble(frag, out, scenario_keys, servers):
    """Gathers the fragments under FRAG into OUT."""
    info = read(os.path.join(frag, "meta.json"))
    result = {
        "machine": info["machine"],
        "settings": info["settings"],
        "scenarios": [
            dict(zip(("key", "connections", "size", "in_flight"),
                     [k] + [int(v) for v in k.split("x")]))
            for k in scenario_keys.split()
        ],
        "servers": {},
    }
    for name in servers.split():
        d = os.path.join(frag, name)
        entry = {"version": info["versions"].get(name), "commands": {}, "echo": {},
                 "echo_runs": {}}
        for path in sorted(glob.glob(os.path.join(d, "command-*.txt"))):
            with open(path) as f:
                entry["commands"][os.path.basename(path)[8:-4]] = f.read().strip()
        for key in scenario_keys.split():
            median_run = read(os.path.join(d, "echo", key + ".json"))
            if median_run is not None:
                entry["echo"][key] = median_run
                entry["echo_runs"][key] = read(os.path.join(d, "echo", key + ".runs.json")) or []
        for kind in ("idle", "broadcast", "broadcast_runs"):
            value = read(os.path.join(d, kind + ".json"))
            if value is not None:
                entry[kind] = value
        result["servers"][name] = entry
    write(out, result)


commands = {
    "executable": executable, "meta": meta, "version": version, "note": note,
    "median": median, "show-echo": show_echo, "show-idle": show_idle,
    "show-broadcast": show_broadcast, "assemble": assemble,
}
commands[sys.argv[1]](*sys.argv[2:])
PY
helper() { python3 "$work/helper.py" "$@"; }

# --- installs and builds (idempotent) --------------------------------------------------------
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
if ! command -v taskset >/dev/null 2>&1; then
  echo "== installing util-linux (taskset)"
  apt_get() { $SUDO env DEBIAN_FRONTEND=noninteractive apt-get "$@"; }
  apt_get install -y -qq util-linux >/dev/null 2>&1 || {
    apt_get update -qq
    apt_get install -y -qq util-linux >/dev/null
  }
fi
command -v taskset >/dev/null

# The executable of a cargo bench target, built and not run. (`cargo bench --bench NAME -- ARGS`
# runs `EXECUTABLE ARGS --bench`; the load generator and fanout_server ignore `--bench`.)
bench_executable() {
  cargo bench --bench "$1" --no-run --message-format=json 2>"$work/build-$1.err" |
    helper executable "$1"
}

echo "== building the load generator and examples/echo (release)"
if ! cargo build --release --example echo >"$work/build-echo.log" 2>&1; then
  cat "$work/build-echo.log" >&2
  exit 1
fi
load_bin=$(bench_executable load || true)
if [ -z "$load_bin" ] || [ ! -x "$load_bin" ]; then
  cat "$work/build-load.err" >&2
  echo "bench.sh: cannot build the load generator (cargo bench --bench load)" >&2
  exit 1
fi

fanout_bin=""
fanout_skip=""
if wants ours && [ "$run_broadcast" = 1 ]; then
  echo "== building benches/fanout_server (release)"
  fanout_bin=$(bench_executable fanout_server || true)
  if [ -z "$fanout_bin" ] || [ ! -x "$fanout_bin" ]; then
    fanout_bin=""
    fanout_skip="benches/fanout_server does not build yet ($(grep -m1 -E '^error' \
      "$work/build-fanout_server.err" || echo 'no such bench target'))"
    echo "   skipping ours' broadcast: $fanout_skip"
  fi
fi

if wants fastwebsockets || wants tokio-tungstenite; then
  echo "== building benches/peers: fastwebsockets, tokio-tungstenite (release)"
  if ! cargo build --release --manifest-path benches/peers/Cargo.toml \
    >"$work/build-peers.log" 2>&1; then
    cat "$work/build-peers.log" >&2
    exit 1
  fi
fi

uws_addon=benches/peers/node_modules/@trufflesuite/uws-js-unofficial/binaries/uws_linux_x64_115.node
if wants uws || wants ws; then
  if [ ! -f "$uws_addon" ] || [ ! -f benches/peers/node_modules/ws/package.json ]; then
    echo "== installing npm packages into benches/peers/node_modules"
    (cd benches/peers && npm install --no-package-lock --no-audit --no-fund --loglevel=error \
      >/dev/null)
    rm -f benches/peers/package-lock.json
  fi
  [ -f benches/peers/node_modules/ws/package.json ]
  if wants uws && [ ! -f "$uws_addon" ]; then
    echo "bench.sh: $uws_addon is missing (this uWS.js build needs Node 20 on Linux x64)" >&2
    exit 1
  fi
fi

# Each server and the load generator hold up to 10,000 sockets.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 65536 2>/dev/null || true
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((idle_connections + 100)) ]; then
  echo "   note: ulimit -n is $(ulimit -n); the idle and broadcast scenarios need more" >&2
fi

frag="$work/results"
mkdir -p "$frag"
helper meta "$frag/meta.json" "$quick" "$runs" "$seconds" "$warmup" "$server_core" "$client_core"
assemble() {
  helper assemble "$frag" "$results" "${echo_scenarios[*]}" "${servers[*]}"
}

# --- servers ---------------------------------------------------------------------------------
next_port=9401
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# start_server NAME MODE: starts it pinned to $server_core on a fresh port, waits until the
# port accepts; sets $port, $server_log and $server_pid (taskset execs the server, so that is
# the serving process itself, whose CPU time the load generator reads).
start_server() {
  local name=$1 mode=$2 i
  while port_open "$next_port"; do next_port=$((next_port + 1)); done
  port=$next_port
  next_port=$((next_port + 1))
  server_command "$name" "$mode" "$port" || return 1
  server_log="$work/$name-$mode-$port.log"
  echo "taskset -c $server_core ${server_cmd[*]}" >"$frag/$name/command-$mode.txt"
  taskset -c "$server_core" "${server_cmd[@]}" >"$server_log" 2>&1 &
  server_pid=$!
  for i in $(seq 1 200); do
    if ! kill -0 "$server_pid" 2>/dev/null; then
      echo "   $name ($mode) exited at start:" >&2
      sed 's/^/     /' "$server_log" >&2
      wait "$server_pid" 2>/dev/null || true
      server_pid=""
      return 1
    fi
    if port_open "$port"; then return 0; fi
    sleep 0.05
  done
  echo "   $name ($mode) did not accept on 127.0.0.1:$port within 10 s" >&2
  stop_server
  return 1
}

stop_server() {
  [ -n "$server_pid" ] || return 0
  kill "$server_pid" 2>/dev/null || true
  local i
  for i in $(seq 1 50); do
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -9 "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

# load LIMIT ARGS...: runs the load generator pinned to $client_core, killed after LIMIT
# seconds at the latest; prints its last line of output; its stderr goes to $work/load.err.
load() {
  local limit=$1
  shift
  timeout --foreground -k 5 "$limit" taskset -c "$client_core" "$load_bin" "$@" --bench \
    2>"$work/load.err" | tail -n 1
}
load_failure() {
  local reason
  reason=$(grep -v -e '^\s*$' -e '^note:' "$work/load.err" | tail -n 2 | tr '\n' ' ' |
    cut -c1-300)
  echo "${reason:-the load generator printed no result (killed after its time limit?)}"
}

# The echo servers stay up for all echo scenarios, one per name, each on its own port: the
# runs of a scenario go round the servers (ours, uws, ..., ours, uws, ...), so that a slow
# spell of the machine touches every server alike instead of one server's whole series.
declare -A echo_pid echo_port echo_log

# use_echo_server NAME: makes NAME's echo server the current one ($server_pid, $port,
# $server_log), starting it if it is not running.
use_echo_server() {
  local name=$1
  server_pid=${echo_pid[$name]:-}
  port=${echo_port[$name]:-}
  server_log=${echo_log[$name]:-}
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then return 0; fi
  server_pid=""
  start_server "$name" echo || return 1
  echo_pid[$name]=$server_pid
  echo_port[$name]=$port
  echo_log[$name]=$server_log
}

stop_echo_servers() {
  local name
  for name in "${!echo_pid[@]}"; do
    server_pid=${echo_pid[$name]}
    stop_server
  done
  echo_pid=()
}

# run_echo_once NAME KEY RUN: one run of scenario KEY against NAME's echo server.
run_echo_once() {
  local name=$1 key=$2 run=$3 connections size in_flight line
  IFS=x read -r connections size in_flight <<<"$key"
  local lines="$work/$name-$key.lines" failed="$work/$name-$key.failure"
  if ! use_echo_server "$name"; then
    echo "run $run: the server did not start" >"$failed"
    return
  fi
  line=$(load $((150 + ${seconds%.*})) --url "ws://127.0.0.1:$port/" \
    --connections "$connections" --size "$size" --in-flight "$in_flight" \
    --seconds "$seconds" --warmup "$warmup" --server-pid "$server_pid" || true)
  if [[ $line == "{"*'"mode":"echo"'* ]]; then
    echo "$line" >>"$lines"
  else
    echo "run $run: $(load_failure)" >"$failed"
  fi
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "run $run: the server exited ($(tail -n 1 "$server_log" 2>/dev/null || true))" >"$failed"
    wait "$server_pid" 2>/dev/null || true
  fi
}

# summarize_echo NAME KEY: keeps the median run of NAME in scenario KEY and prints it.
summarize_echo() {
  local name=$1 key=$2 failure=""
  local lines="$work/$name-$key.lines" failed="$work/$name-$key.failure"
  local out="$frag/$name/echo/$key"
  mkdir -p "$frag/$name/echo"
  touch "$lines"
  if [ -f "$failed" ]; then failure=$(cat "$failed"); fi
  if helper median "$lines" msgs_per_s "$out.json" "$out.runs.json"; then
    if [ -n "$failure" ]; then helper note "$out.json" failed_runs "$failure"; fi
    printf '   %-12s %-18s %s\n' "$key" "$name" "$(helper show-echo "$out.json")"
  else
    helper note "$out.json" error "$failure"
    printf '   %-12s %-18s FAILED: %s\n' "$key" "$name" "$failure"
  fi
  if [ -n "$failure" ]; then echo "   $key $name: $failure" >&2; fi
}

run_idle_memory() {
  local name=$1 line
  if ! start_server "$name" echo; then
    helper note "$frag/$name/idle.json" error "the server did not start"
    return
  fi
  line=$(load 200 --url "ws://127.0.0.1:$port/" --connections "$idle_connections" --idle \
    --server-pid "$server_pid" || true)
  if [[ $line == "{"*'"mode":"idle"'* ]]; then
    echo "$line" >"$frag/$name/idle.json"
    printf '   %-12s %s\n' idle "$(helper show-idle "$frag/$name/idle.json")"
  else
    helper note "$frag/$name/idle.json" error "$(load_failure)"
    printf '   %-12s FAILED: %s\n' idle "$(load_failure)"
  fi
  stop_server
}

run_broadcast_fanout() {
  local name=$1 line run failure=""
  case $name in
    fastwebsockets|tokio-tungstenite)
      helper note "$frag/$name/broadcast.json" skipped "no broadcast server for $name"
      return ;;
    ours)
      if [ -z "$fanout_bin" ]; then
        helper note "$frag/$name/broadcast.json" skipped "$fanout_skip"
        printf '   %-12s skipped: %s\n' broadcast "$fanout_skip"
        return
      fi ;;
  esac
  if ! start_server "$name" broadcast; then
    helper note "$frag/$name/broadcast.json" error "the server did not start"
    return
  fi
  local lines="$work/$name-broadcast.lines"
  : >"$lines"
  for run in $(seq 1 "$runs"); do
    line=$(load $((200 + ${seconds%.*})) --broadcast --subscribers "$broadcast_subscribers" \
      --url "ws://127.0.0.1:$port/sub" --publish-url "ws://127.0.0.1:$port/pub" \
      --size "$broadcast_size" --seconds "$seconds" --server-pid "$server_pid" || true)
    if [[ $line == "{"*'"mode":"broadcast"'* ]]; then
      echo "$line" >>"$lines"
    else
      failure="run $run: $(load_failure)"
      if grep -q 'unknown argument --' "$work/load.err"; then
        failure="the load generator has no broadcast mode yet ($(load_failure))"
      fi
      break
    fi
    if ! kill -0 "$server_pid" 2>/dev/null; then
      failure="the server exited during run $run"
      break
    fi
  done
  if helper median "$lines" deliveries_per_s "$frag/$name/broadcast.json" \
    "$frag/$name/broadcast_runs.json"; then
    if [ -n "$failure" ]; then helper note "$frag/$name/broadcast.json" failed_runs "$failure"; fi
    printf '   %-12s %s\n' broadcast "$(helper show-broadcast "$frag/$name/broadcast.json")"
  else
    helper note "$frag/$name/broadcast.json" error "$failure"
    printf '   %-12s FAILED: %s\n' broadcast "$failure"
  fi
  stop_server
}

echo "== servers: ${servers[*]}; echo scenarios: ${echo_list[*]:-none};" \
  "idle: $([ $run_idle = 1 ] && echo yes || echo no);" \
  "broadcast: $([ $run_broadcast = 1 ] && echo yes || echo no)"
echo "   $runs run(s) of $seconds s after $warmup s of warm-up; server on core $server_core," \
  "load generator on core $client_core"
for name in "${servers[@]}"; do
  echo "== $name: $(helper version "$frag/meta.json" "$name")"
  mkdir -p "$frag/$name"
done
if [ "${#echo_list[@]}" -gt 0 ]; then
  echo "== echo: msgs/s, per server CPU-second, latency (the median of $runs runs)"
  for key in "${echo_list[@]}"; do
    for run in $(seq 1 "$runs"); do
      for name in "${servers[@]}"; do run_echo_once "$name" "$key" "$run"; done
    done
    for name in "${servers[@]}"; do summarize_echo "$name" "$key"; done
    assemble # after every scenario: an interrupted run keeps what it measured
  done
  stop_echo_servers
fi
for name in "${servers[@]}"; do
  if [ "$run_idle" = 1 ] || [ "$run_broadcast" = 1 ]; then echo "== $name"; fi
  if [ "$run_idle" = 1 ]; then run_idle_memory "$name"; fi
  if [ "$run_broadcast" = 1 ]; then run_broadcast_fanout "$name"; fi
  assemble
done

python3 scripts/bench_report.py "$results"
echo
cat docs/bench/table.md
