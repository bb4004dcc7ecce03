#!/usr/bin/env bash
# What reading without zeroing saves (runtime/io.rs, the crate's one unsafe read): builds the
# echo example twice, as it is and with `--cfg rfc6455_zeroed_reads` (the safe read that
# zeroes its room first), and runs the load generator against each in turn, server pinned
# to core 0 and load to core 1, RUNS rounds per scenario. Prints messages per server
# CPU-second for each run and the mean per variant.
#
#   scripts/bench-zeroing.sh [runs (default 5)] [scenarios (default 10x65536x1,1x1048576x1,100x16x1)]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
scenarios=${2:-10x65536x1,1x1048576x1,100x16x1}
cargo build --release --example echo --bench load >/dev/null 2>&1 || cargo build --release --example echo --bench load
RUSTFLAGS="--cfg rfc6455_zeroed_reads" cargo build --release --example echo --target-dir target/zeroed >/dev/null 2>&1 \
  || RUSTFLAGS="--cfg rfc6455_zeroed_reads" cargo build --release --example echo --target-dir target/zeroed
load=$(ls -t target/release/deps/load-* | grep -v '\.d$' | head -1)
declare -A binary=([unsafe]=target/release/examples/echo [zeroed]=target/zeroed/release/examples/echo)
port=9471
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null || true' EXIT
IFS=, read -ra wanted <<<"$scenarios"
for scenario in "${wanted[@]}"; do
  IFS=x read -r connections size in_flight <<<"$scenario"
  declare -A total=([unsafe]=0 [zeroed]=0)
  for run in $(seq 1 "$runs"); do
    for variant in unsafe zeroed; do
      port=$((port + 1))
      taskset -c 0 "${binary[$variant]}" "127.0.0.1:$port" >/dev/null 2>&1 &
      server=$!
      for _ in $(seq 1 50); do
        python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null && break
        sleep 0.1
      done
      result=$(taskset -c 1 "$load" --url "ws://127.0.0.1:$port/" --connections "$connections" \
        --size "$size" --in-flight "$in_flight" --seconds 4 --warmup 1 --server-pid "$server")
      kill "$server"; wait "$server" 2>/dev/null || true; server=""
      per_cpu=$(python3 -c 'import json,sys; print(round(json.loads(sys.argv[1])["msgs_per_server_cpu_s"]))' "$result")
      total[$variant]=$((total[$variant] + per_cpu))
      echo "$scenario run $run $variant: $per_cpu msgs per server CPU-s"
    done
  done
  echo "$scenario mean: unsafe $((total[unsafe] / runs)), zeroed $((total[zeroed] / runs))"
done
