#!/usr/bin/env bash
# User-space instructions per echoed message of an echo server: the server runs under
# valgrind's callgrind on core 0, the load generator (benches/load) on core 1 drives it
# over 127.0.0.1 for 6 s, and the program's total is divided by the messages the load
# generator counted (the start-up's instructions are included, a few per message).
#
#   scripts/callgrind-echo.sh NAME BINARY [CONNECTIONS SIZE IN_FLIGHT]
#
# Defaults: 100 connections, 16-byte messages, 1 in flight. BINARY is started as
# `BINARY 127.0.0.1:PORT`, as scripts/bench-ab.sh starts it. Needs valgrind.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/wait-for-port.sh
if [ $# -lt 2 ]; then sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 2; fi
name=$1 binary=$2 connections=${3:-100} size=${4:-16} in_flight=${5:-1}
cargo build --release --bench load >/dev/null 2>&1 || cargo build --release --bench load
load=$(ls -t target/release/deps/load-* | grep -v '\.d$' | head -1)
port=9391
out=$(mktemp -d)
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$out"' EXIT
taskset -c 0 valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.out" \
  "$binary" "127.0.0.1:$port" >/dev/null 2>&1 &
server=$!
wait_for_port "$port"
result=$(taskset -c 1 "$load" --url "ws://127.0.0.1:$port/" --connections "$connections" \
  --size "$size" --in-flight "$in_flight" --seconds 6 --warmup 0 --server-pid "$server")
# SIGTERM: callgrind writes its profile as the server exits.
kill -TERM "$server"; wait "$server" 2>/dev/null || true; server=""
messages=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["messages"])' "$result")
total=$(callgrind_annotate "$out/callgrind.out" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
echo "$name: $total instructions / $messages messages = $((total / messages)) per message"
