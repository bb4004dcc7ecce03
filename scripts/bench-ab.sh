#!/usr/bin/env bash
# Compares two builds of an echo server under the same load, in turn: each round runs A,
# then B, on core 0, with the load generator (benches/load) on core 1, over 127.0.0.1.
# Prints messages per server CPU-second for every run and the mean per build.
#
#   scripts/bench-ab.sh NAME_A BINARY_A NAME_B BINARY_B [runs (default 5)] [scenarios]
#
# Scenarios are CONNECTIONSxSIZExIN_FLIGHT, comma-separated (default: bench.sh's echo
# scenarios). Each run measures 4 s after 1 s of warm-up. Each binary is started as
# `BINARY 127.0.0.1:PORT` (the echo example's arguments).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 4 ] || { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
name_a=$1 binary_a=$2 name_b=$3 binary_b=$4
runs=${5:-5}
scenarios=${6:-1x16x1,1x16x16,100x16x1,100x16x16,1000x16x1,100x1024x1,100x1024x4,10x65536x1,10x65536x4,1x1048576x1}
cargo build --release --bench load >/dev/null 2>&1 || cargo build --release --bench load
load=$(ls -t target/release/deps/load-* | grep -v '\.d$' | head -1)
ulimit -n "$(ulimit -Hn)"
port=9471
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null || true' EXIT
IFS=, read -ra wanted <<<"$scenarios"
for scenario in "${wanted[@]}"; do
  IFS=x read -r connections size in_flight <<<"$scenario"
  total_a=0 total_b=0
  for run in $(seq 1 "$runs"); do
    for side in a b; do
      if [ $side = a ]; then name=$name_a binary=$binary_a; else name=$name_b binary=$binary_b; fi
      port=$((port + 1))
      taskset -c 0 "$binary" "127.0.0.1:$port" >/dev/null 2>&1 &
      server=$!
      for _ in $(seq 1 50); do
        python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null && break
        sleep 0.1
      done
      result=$(taskset -c 1 "$load" --url "ws://127.0.0.1:$port/" --connections "$connections" \
        --size "$size" --in-flight "$in_flight" --seconds 4 --warmup 1 --server-pid "$server")
      kill "$server"; wait "$server" 2>/dev/null || true; server=""
      per_cpu=$(python3 -c 'import json,sys; print(round(json.loads(sys.argv[1])["msgs_per_server_cpu_s"]))' "$result")
      if [ $side = a ]; then total_a=$((total_a + per_cpu)); else total_b=$((total_b + per_cpu)); fi
      echo "$scenario run $run $name: $per_cpu msgs per server CPU-s"
    done
  done
  mean_a=$((total_a / runs)) mean_b=$((total_b / runs))
  ratio=$(python3 -c "print(f'{$mean_b / $mean_a:.3f}')")
  echo "$scenario mean: $name_a $mean_a, $name_b $mean_b ($name_b / $name_a = $ratio)"
done
