#!/usr/bin/env bash
# Runs the official protocol test suites against this crate's testee examples:
#
#   DIR/socket.io-v5/  the Socket.IO v5 suite, against examples/socketio_protocol_suite.rs
#   DIR/engine.io-v4/  the Engine.IO v4 suite (optional), against examples/engineio_echo.rs
#
#   scripts/protocol-suites.sh [DIR]      # DIR defaults to /work/protocol-suites
#
# The suites are not vendored: they are the socketio/socket.io repository's code and are
# fetched separately (see `missing` below). Each testee listens on a free port and the
# suite's Node shim (node-imports.js) points the suite's http://localhost:3000 there.
# Prints each suite's passing and failing counts; exits non-zero on any failure, on a
# missing suite directory and when a testee does not start. Needs node and npm; installs a
# suite's npm dependencies (`npm install --no-package-lock`) when they are missing.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-/work/protocol-suites}
target=${CARGO_TARGET_DIR:-$repo/target}

missing() {
  cat >&2 <<EOF
protocol-suites: $1

Fetch the Socket.IO v5 suite from the socketio/socket.io repository into $dir/socket.io-v5/:
  docs/socket.io-protocol/v5-test-suite/test-suite.js
  docs/socket.io-protocol/v5-test-suite/package.json
(this script adds its Node shim, node-imports.js, and installs the npm dependencies).
Optionally, for the Engine.IO v4 suite as well, into $dir/engine.io-v4/:
  docs/engine.io-protocol/v4-test-suite/test-suite.js
  docs/engine.io-protocol/v4-test-suite/package.json
EOF
  exit 2
}

[ -d "$dir" ] || missing "no directory $dir"
for file in test-suite.js package.json; do
  [ -f "$dir/socket.io-v5/$file" ] || missing "no $dir/socket.io-v5/$file"
done
command -v node >/dev/null || { echo "protocol-suites: node not found" >&2; exit 2; }
command -v npm >/dev/null || { echo "protocol-suites: npm not found" >&2; exit 2; }

examples=(--example socketio_protocol_suite)
engine=false
if [ -f "$dir/engine.io-v4/test-suite.js" ]; then
  engine=true
  examples+=(--example engineio_echo)
fi
(cd "$repo" && cargo build --features socketio "${examples[@]}")

# The v5 suite imports ./node-imports.js but ships none, and the v4 suite's wants
# node-fetch: ours instead, in both (see its comments).
cp "$repo/scripts/protocol-suites/node-imports.js" "$dir/socket.io-v5/node-imports.js"
if $engine; then
  cp "$repo/scripts/protocol-suites/node-imports.js" "$dir/engine.io-v4/node-imports.js"
fi

testee_pid=
work=$(mktemp -d)
cleanup() {
  if [ -n "$testee_pid" ]; then
    kill "$testee_pid" 2>/dev/null || true
    wait "$testee_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

failed=0

# run_suite NAME SUITE_DIR URL_VARIABLE TESTEE [ARGS...]: starts TESTEE on a free port, runs
# the suite's mocha with URL_VARIABLE set to the testee's address, stops the testee.
run_suite() {
  local name=$1 suite=$2
  shift 2
  if [ ! -x "$suite/node_modules/.bin/mocha" ]; then
    (cd "$suite" && npm install --no-package-lock --no-audit --no-fund >&2)
  fi
  local log="$work/$name.testee"
  "$1" 127.0.0.1:0 "${@:2}" >"$log" 2>&1 &
  testee_pid=$!
  local address=
  for _ in $(seq 100); do
    address=$(grep -o 'http://[0-9.:]*' "$log" | head -n1 || true)
    [ -n "$address" ] && break
    kill -0 "$testee_pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$address" ]; then
    echo "protocol-suites: $name: the testee did not start:" >&2
    cat "$log" >&2
    failed=1
    return
  fi
  echo "== $name suite against $address"
  local status=0
  (cd "$suite" && env "PROTOCOL_SUITE_URL=$address" node_modules/.bin/mocha test-suite.js) \
    | tee "$work/$name.report" || status=$?
  kill "$testee_pid" 2>/dev/null || true
  wait "$testee_pid" 2>/dev/null || true
  testee_pid=
  local passing failing
  passing=$(grep -Eo '^ *[0-9]+ passing' "$work/$name.report" | grep -Eo '[0-9]+' || echo 0)
  failing=$(grep -Eo '^ *[0-9]+ failing' "$work/$name.report" | grep -Eo '[0-9]+' || echo 0)
  echo "== $name: $passing passing, $failing failing"
  if [ "$status" -ne 0 ] || [ "$failing" -ne 0 ] || [ "$passing" -eq 0 ]; then
    failed=1
  fi
}

examples_dir="$target/debug/examples"
run_suite socket.io-v5 "$dir/socket.io-v5" "$examples_dir/socketio_protocol_suite"
if $engine; then
  run_suite engine.io-v4 "$dir/engine.io-v4" "$examples_dir/engineio_echo" \
    --ping-interval 300 --ping-timeout 200 --cors
fi

if [ "$failed" -ne 0 ]; then
  echo "protocol-suites: FAILED" >&2
  exit 1
fi
echo "protocol-suites: all passing"
