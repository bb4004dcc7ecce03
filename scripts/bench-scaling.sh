#!/usr/bin/env bash
# Does the runtime scale with loops? Runs examples/echo with one loop and with two, the load
# generator (benches/load) on the same two cores as the server (this machine has two), and
# compares messages per second.
#
#   scripts/bench-scaling.sh [--runs N] [--seconds S]
#
# Two workloads, taken in turn (1 loop, 2 loops, 1 loop, ...; the median of N runs, 3 by
# default, is kept):
#   deflate  100 connections x 16 KiB of chat-like JSON x 1 in flight, permessage-deflate:
#            the server inflates and compresses every message, the load generator sends one
#            pre-compressed frame and compares bytes, so the server does most of the work;
#   plain    100 connections x 1 KiB x 4 in flight, no compression: the load generator does
#            as much work per message as the server, so it and the server share the cores
#            and two loops cannot go faster (shown for honesty, not as a scaling figure).
# Writes docs/bench/scaling.json and prints a table. No server outlives the script.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
runs=3
seconds=5
while [ $# -gt 0 ]; do
  case $1 in
    --runs) runs=${2:?}; shift ;;
    --seconds) seconds=${2:?}; shift ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench-scaling.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
cores=0,1

work=$(mktemp -d "${TMPDIR:-/tmp}/rfc6455-scaling.XXXXXX")
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "== building examples/echo and the load generator (release)"
cargo build --release --example echo >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
load_bin=$(cargo bench --bench load --no-run --message-format=json 2>>"$work/build.log" |
  python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "load" and m.get("executable"):
        print(m["executable"])')
[ -x "$load_bin" ] || { cat "$work/build.log"; exit 1; }

port=9601
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# measure WORKLOAD LOOPS RUN: one run; appends the load generator's JSON line to a file.
measure() {
  local workload=$1 loops=$2 args
  case $workload in
    deflate) args=(--connections 100 --size 16384 --in-flight 1 --deflate) ;;
    plain) args=(--connections 100 --size 1024 --in-flight 4) ;;
  esac
  while port_open "$port"; do port=$((port + 1)); done
  taskset -c "$cores" target/release/examples/echo "127.0.0.1:$port" "$loops" >/dev/null &
  server_pid=$!
  for _ in $(seq 1 100); do port_open "$port" && break; sleep 0.05; done
  timeout 120 taskset -c "$cores" "$load_bin" --url "ws://127.0.0.1:$port/" "${args[@]}" \
    --seconds "$seconds" --warmup 1 --server-pid "$server_pid" 2>>"$work/load.err" |
    tail -n 1 >>"$work/$workload-$loops.lines"
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
  port=$((port + 1))
}

echo "== $runs run(s) of $seconds s per case; server and load generator on cores $cores"
for workload in deflate plain; do
  for run in $(seq 1 "$runs"); do
    for loops in 1 2; do measure "$workload" "$loops"; done
  done
done

python3 - "$work" "$runs" "$seconds" <<'PY'
import json, os, platform, subprocess, sys, time
work, runs, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
def median_run(path):
    rows = [json.loads(l) for l in open(path) if l.startswith("{")]
    if len(rows) == 0 or any(r.get("errors") for r in rows):
        raise SystemExit(f"{path}: a run failed or reported errors: {rows}")
    rows.sort(key=lambda r: r["msgs_per_s"])
    return rows[len(rows) // 2], rows
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
commit = subprocess.run(["git", "describe", "--always", "--dirty"], capture_output=True, text=True).stdout.strip()
result = {"measured": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "commit": commit,
          "cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release(),
          "runs": runs, "seconds": seconds, "server_and_load_generator_cores": "0,1",
          "workloads": {}}
print("\n| workload | 1 loop msgs/s | 2 loops msgs/s | 2 loops / 1 loop | server CPU-s per s (1 / 2) | load generator CPU-s per s (1 / 2) |")
print("| --- | ---: | ---: | ---: | ---: | ---: |")
for workload in ("deflate", "plain"):
    one, one_runs = median_run(f"{work}/{workload}-1.lines")
    two, two_runs = median_run(f"{work}/{workload}-2.lines")
    ratio = two["msgs_per_s"] / one["msgs_per_s"]
    result["workloads"][workload] = {"one_loop": one, "two_loops": two, "ratio": round(ratio, 3),
                                     "one_loop_runs": one_runs, "two_loops_runs": two_runs}
    per_s = lambda r, k: r[k] / r["seconds"]
    print(f"| {workload} | {one['msgs_per_s']:,.0f} | {two['msgs_per_s']:,.0f} | {ratio:.2f}× "
          f"| {per_s(one, 'server_cpu_s'):.2f} / {per_s(two, 'server_cpu_s'):.2f} "
          f"| {per_s(one, 'client_cpu_s'):.2f} / {per_s(two, 'client_cpu_s'):.2f} |")
os.makedirs("docs/bench", exist_ok=True)
with open("docs/bench/scaling.json", "w") as f:
    json.dump(result, f, indent=1)
print("\nwritten: docs/bench/scaling.json")
PY
