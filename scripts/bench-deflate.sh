#!/usr/bin/env bash
# permessage-deflate benchmarks on one corpus of text messages (2,000 JSON messages of 1-8
# KiB): our implementation through the public API, Node `ws`'s PerMessageDeflate, and the two
# flate2 backends (miniz_oxide, zlib-rs) on the raw deflate workload. JSON lines on stdout.
#
# usage: scripts/bench-deflate.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-peers.sh >/dev/null
corpus=$(mktemp)
trap 'rm -f "$corpus"' EXIT
cargo bench --bench deflate_throughput -- --write-corpus "$corpus" >/dev/null 2>&1
cargo bench --bench deflate_throughput 2>/dev/null
node benches/deflate_throughput/ws.mjs "$corpus"
for backend in miniz zlib-rs; do
  cargo run --quiet --release --manifest-path benches/deflate_backends/Cargo.toml \
    --features "$backend" -- "$corpus"
done
