#!/usr/bin/env bash
# What reading without zeroing saves (runtime/io.rs, the crate's unsafe read): builds the
# echo example twice, as it is and with `--cfg rfc6455_zeroed_reads` (the safe read that
# zeroes its room first), and compares them with scripts/bench-ab.sh.
#
#   scripts/bench-zeroing.sh [runs (default 5)] [scenarios (default 10x65536x1,1x1048576x1,100x16x1)]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
scenarios=${2:-10x65536x1,1x1048576x1,100x16x1}
cargo build --release --example echo >/dev/null 2>&1 || cargo build --release --example echo
RUSTFLAGS="--cfg rfc6455_zeroed_reads" cargo build --release --example echo --target-dir target/zeroed >/dev/null 2>&1 \
  || RUSTFLAGS="--cfg rfc6455_zeroed_reads" cargo build --release --example echo --target-dir target/zeroed
exec scripts/bench-ab.sh zeroed target/zeroed/release/examples/echo unsafe target/release/examples/echo "$runs" "$scenarios"
