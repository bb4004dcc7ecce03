#!/usr/bin/env bash
# What reading without zeroing saves (the socket reads of runtime/io.rs and, with --tokio,
# of the tokio adapter, src/tokio/stream.rs): builds the echo example twice, as it is and
# with `--cfg rfc6455_zeroed_reads` (the same read in safe code, zeroing its room first),
# and compares them with scripts/bench-ab.sh.
#
#   scripts/bench-zeroing.sh [--tokio] [runs (default 5)] [scenarios (default 10x65536x1,1x1048576x1,100x16x1)]
set -euo pipefail
cd "$(dirname "$0")/.."
example=echo features=()
if [ "${1:-}" = --tokio ]; then example=tokio_echo features=(--features tokio); shift; fi
runs=${1:-5}
scenarios=${2:-10x65536x1,1x1048576x1,100x16x1}
build() { cargo build --release "${features[@]}" --example "$example" "$@" >/dev/null 2>&1 \
  || cargo build --release "${features[@]}" --example "$example" "$@"; }
build
RUSTFLAGS="--cfg rfc6455_zeroed_reads" build --target-dir target/zeroed
exec scripts/bench-ab.sh --runs "$runs" --scenarios "$scenarios" \
  zeroed "target/zeroed/release/examples/$example" unsafe "target/release/examples/$example"
