#!/usr/bin/env bash
# Runs the Autobahn testsuite against our server (`echo` example, wstest fuzzingclient) and
# our client (`autobahn_client` example, wstest fuzzingserver), then judges
# reports/*/index.json: any case that is not OK or INFORMATIONAL fails the run.
#
# usage: scripts/autobahn.sh [--side server|client|both] [--cases '1.*,2.*'] [--exclude '12.*,13.*']
#                            [--server-example echo] [--client-example autobahn_client]
#                            [--features f1,f2]
#
# The tokio adapter: --features tokio --server-example tokio_echo
#                    --client-example tokio_autobahn_client
set -euo pipefail
cd "$(dirname "$0")/.."

side=both
cases='*'
exclude='12.*,13.*'
server_example=echo
client_example=autobahn_client
features=''
while [ $# -gt 0 ]; do
  case "$1" in
    --side) side=$2; shift 2 ;;
    --cases) cases=$2; shift 2 ;;
    --exclude) exclude=$2; shift 2 ;;
    --server-example) server_example=$2; shift 2 ;;
    --client-example) client_example=$2; shift 2 ;;
    --features) features=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done

scripts/install-wstest.sh
WSTEST=/opt/wstest/bin/wstest
feature_args=()
[ -n "$features" ] && feature_args=(--features "$features")
cargo build --release --examples "${feature_args[@]}" >/dev/null 2>&1 || cargo build --release --examples "${feature_args[@]}"

json_list() { python3 -c 'import json,sys; print(json.dumps([c for c in sys.argv[1].split(",") if c]))' "$1"; }
cases_json=$(json_list "$cases")
exclude_json=$(json_list "$exclude")
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

wait_for_port() {
  for _ in $(seq 1 100); do
    if python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), 0.2)" "$1" 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  echo "nothing listens on port $1" >&2
  return 1
}

reports=()
server_reports=server
[ "$server_example" = echo ] || server_reports="server-$server_example"
if [ "$side" = server ] || [ "$side" = both ]; then
  rm -rf "reports/$server_reports"
  port=9001
  target/release/examples/"$server_example" "127.0.0.1:$port" >"$work/server.log" 2>&1 &
  pids+=($!)
  wait_for_port $port
  cat >"$work/fuzzingclient.json" <<JSON
{"outdir": "./reports/$server_reports", "servers": [{"agent": "rfc6455", "url": "ws://127.0.0.1:$port"}],
 "cases": $cases_json, "exclude-cases": $exclude_json, "exclude-agent-cases": {}}
JSON
  echo "== server side: wstest fuzzingclient against the $server_example example"
  start=$(date +%s)
  (cd "$work" && $WSTEST -m fuzzingclient -s fuzzingclient.json >wstest-client.log 2>&1) || {
    tail -20 "$work/wstest-client.log"; exit 1; }
  mkdir -p reports
  mv "$work/reports/$server_reports" "reports/$server_reports"
  echo "   took $(( $(date +%s) - start )) s"
  reports+=("reports/$server_reports/index.json")
fi

client_reports=client
[ "$client_example" = autobahn_client ] || client_reports="client-$client_example"
if [ "$side" = client ] || [ "$side" = both ]; then
  port=9002
  cat >"$work/fuzzingserver.json" <<JSON
{"url": "ws://127.0.0.1:$port", "outdir": "./reports/$client_reports",
 "cases": $cases_json, "exclude-cases": $exclude_json, "exclude-agent-cases": {}}
JSON
  (cd "$work" && exec $WSTEST -m fuzzingserver -s fuzzingserver.json >wstest-server.log 2>&1) &
  pids+=($!)
  wait_for_port $port
  echo "== client side: $client_example against wstest fuzzingserver"
  start=$(date +%s)
  target/release/examples/"$client_example" "ws://127.0.0.1:$port" rfc6455 >"$work/client.log" 2>&1 || {
    tail -20 "$work/client.log"; exit 1; }
  echo "   took $(( $(date +%s) - start )) s"
  rm -rf "reports/$client_reports"
  mkdir -p reports
  mv "$work/reports/$client_reports" "reports/$client_reports"
  reports+=("reports/$client_reports/index.json")
fi

python3 scripts/autobahn/judge.py "${reports[@]}"
