#!/usr/bin/env bash
# Compares builds of echo servers under the same load, in turn: each round runs every
# server once, in the order given, pinned to core 0, with the load generator
# (benches/load) on core 1, over 127.0.0.1. Prints messages per server CPU-second for every
# run, then per scenario the mean of each server and its ratio to the first.
#
#   scripts/bench-ab.sh [--runs N] [--scenarios LIST] NAME BINARY [NAME BINARY ...]
#
# --runs: rounds per scenario (default 5). --scenarios: CONNECTIONSxSIZExIN_FLIGHT,
# comma-separated (default: bench.sh's echo scenarios). Each run measures 4 s after 1 s of
# warm-up. Each BINARY is started as `BINARY 127.0.0.1:PORT` (the echo example's
# arguments, and those of benches/peers' echo servers).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/wait-for-port.sh
runs=5
scenarios=1x16x1,1x16x16,100x16x1,100x16x16,1000x16x1,100x1024x1,100x1024x4,10x65536x1,10x65536x4,1x1048576x1
while [ $# -gt 0 ]; do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --scenarios) scenarios=$2; shift 2 ;;
    *) break ;;
  esac
done
if [ $# -lt 2 ] || [ $(($# % 2)) -ne 0 ]; then sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 2; fi
names=() binaries=()
while [ $# -gt 0 ]; do names+=("$1"); binaries+=("$2"); shift 2; done
cargo build --release --bench load >/dev/null 2>&1 || cargo build --release --bench load
load=$(ls -t target/release/deps/load-* | grep -v '\.d$' | head -1)
ulimit -n "$(ulimit -Hn)"
port=9471
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null || true' EXIT
IFS=, read -ra wanted <<<"$scenarios"
for scenario in "${wanted[@]}"; do
  IFS=x read -r connections size in_flight <<<"$scenario"
  totals=()
  for index in "${!names[@]}"; do totals[$index]=0; done
  for run in $(seq 1 "$runs"); do
    for index in "${!names[@]}"; do
      port=$((port + 1))
      taskset -c 0 "${binaries[$index]}" "127.0.0.1:$port" >/dev/null 2>&1 &
      server=$!
      wait_for_port "$port"
      result=$(taskset -c 1 "$load" --url "ws://127.0.0.1:$port/" --connections "$connections" \
        --size "$size" --in-flight "$in_flight" --seconds 4 --warmup 1 --server-pid "$server")
      kill "$server"; wait "$server" 2>/dev/null || true; server=""
      per_cpu=$(python3 -c 'import json,sys; print(round(json.loads(sys.argv[1])["msgs_per_server_cpu_s"]))' "$result")
      totals[$index]=$((totals[$index] + per_cpu))
      echo "$scenario run $run ${names[$index]}: $per_cpu msgs per server CPU-s"
    done
  done
  summary="$scenario mean:"
  first=$((totals[0] / runs))
  for index in "${!names[@]}"; do
    mean=$((totals[$index] / runs))
    ratio=$(python3 -c "print(f'{$mean / $first:.3f}')")
    summary+=" ${names[$index]} $mean ($ratio)"
  done
  echo "$summary"
done
