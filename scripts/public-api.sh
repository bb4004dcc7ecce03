#!/usr/bin/env bash
# Counts the crate's public items, as a user sees them (every feature on): the paths, the
# distinct items behind them, the items at more than one path, and the inherent methods and
# associated constants of the public types. Uses rustdoc's JSON output (unstable, enabled
# on the stable toolchain with RUSTC_BOOTSTRAP=1, for this count only).
#
#   scripts/public-api.sh [-v]        # -v lists every path and method
set -euo pipefail
cd "$(dirname "$0")/.."
RUSTC_BOOTSTRAP=1 RUSTDOCFLAGS="-Z unstable-options --output-format json" \
  cargo doc --no-deps --all-features --target-dir target/public-api >/dev/null 2>&1
python3 scripts/public_api.py target/public-api/doc/rfc6455.json "$@"
