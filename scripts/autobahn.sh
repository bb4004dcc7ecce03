#!/usr/bin/env bash
# Runs the Autobahn testsuite against our server (`echo` example, wstest fuzzingclient) and
# our client (`autobahn_client` example, wstest fuzzingserver), then judges
# reports/*/index.json: any case that is not OK or INFORMATIONAL fails the run.
#
# usage: scripts/autobahn.sh [--side server|client|both] [--cases '1.*,2.*'] [--exclude '12.*,13.*']
#                            [--server-example echo] [--client-example autobahn_client]
#                            [--features f1,f2] [--tls]
#
# The tokio adapter: --features tokio --server-example tokio_echo
#                    --client-example tokio_autobahn_client
#
# --tls: the same over wss:// (adds the feature tls). A throwaway CA and a server certificate
# for 127.0.0.1 and localhost are made by scripts/make-test-certs.sh in a temporary
# directory, deleted at exit. Server side: `echo --tls CHAIN KEY`, wstest fuzzingclient at wss://127.0.0.1:PORT
# (it does not check the certificate). Client side: wstest fuzzingserver with that key and
# certificate, and `autobahn_client wss://... --ca CA` (trusting only the throwaway CA).
# Reports go to reports/server-tls and reports/client-tls; the ports are 9003 and 9004
# (9001 and 9002 without --tls), so a plain run and a TLS run can go side by side. Works
# with the echo and autobahn_client examples only.
set -euo pipefail
cd "$(dirname "$0")/.."

side=both
cases='*'
exclude='12.*,13.*'
server_example=echo
client_example=autobahn_client
features=''
tls=0
while [ $# -gt 0 ]; do
  case "$1" in
    --side) side=$2; shift 2 ;;
    --cases) cases=$2; shift 2 ;;
    --exclude) exclude=$2; shift 2 ;;
    --server-example) server_example=$2; shift 2 ;;
    --client-example) client_example=$2; shift 2 ;;
    --features) features=$2; shift 2 ;;
    --tls) tls=1; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done

if [ "$tls" = 1 ]; then
  if [ "$server_example" != echo ] || [ "$client_example" != autobahn_client ]; then
    echo "--tls works with --server-example echo and --client-example autobahn_client only" >&2
    exit 2
  fi
  case ",$features," in
    *,tls,*) ;;
    *) features=${features:+$features,}tls ;;
  esac
fi

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

scheme=ws
suffix=''
server_port=9001
client_port=9002
if [ "$tls" = 1 ]; then
  scheme=wss
  suffix=-tls
  server_port=9003
  client_port=9004
  certs="$work/tls"
  # chain.pem (leaf then CA) is what our server sends; wstest's fuzzingserver loads only
  # the leaf (server.pem); our client trusts ca.pem alone.
  scripts/make-test-certs.sh "$certs"
fi

port_is_free() {
  if python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), 0.2)" "$1" 2>/dev/null; then
    echo "port $1 is in use (another autobahn.sh run?)" >&2
    return 1
  fi
}

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
server_reports+=$suffix
if [ "$side" = server ] || [ "$side" = both ]; then
  rm -rf "reports/$server_reports"
  port=$server_port
  port_is_free $port
  server_args=("127.0.0.1:$port")
  [ "$tls" = 1 ] && server_args+=(--tls "$certs/chain.pem" "$certs/server.key")
  target/release/examples/"$server_example" "${server_args[@]}" >"$work/server.log" 2>&1 &
  pids+=($!)
  wait_for_port $port
  cat >"$work/fuzzingclient.json" <<JSON
{"outdir": "./reports/$server_reports", "servers": [{"agent": "rfc6455", "url": "$scheme://127.0.0.1:$port"}],
 "cases": $cases_json, "exclude-cases": $exclude_json, "exclude-agent-cases": {}}
JSON
  echo "== server side: wstest fuzzingclient against the $server_example example at $scheme://127.0.0.1:$port"
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
client_reports+=$suffix
if [ "$side" = client ] || [ "$side" = both ]; then
  port=$client_port
  port_is_free $port
  tls_spec=''
  [ "$tls" = 1 ] && tls_spec="\"key\": \"$certs/server.key\", \"cert\": \"$certs/server.pem\","
  cat >"$work/fuzzingserver.json" <<JSON
{"url": "$scheme://127.0.0.1:$port", $tls_spec "outdir": "./reports/$client_reports",
 "cases": $cases_json, "exclude-cases": $exclude_json, "exclude-agent-cases": {}}
JSON
  # --webport 0: no web page on 8080 (nothing here reads it, and it would keep two runs,
  # or the chat example, from sharing the machine).
  (cd "$work" && exec $WSTEST -m fuzzingserver --webport 0 -s fuzzingserver.json >wstest-server.log 2>&1) &
  pids+=($!)
  wait_for_port $port
  echo "== client side: $client_example against wstest fuzzingserver at $scheme://127.0.0.1:$port"
  start=$(date +%s)
  client_args=("$scheme://127.0.0.1:$port" rfc6455)
  [ "$tls" = 1 ] && client_args+=(--ca "$certs/ca.pem")
  target/release/examples/"$client_example" "${client_args[@]}" >"$work/client.log" 2>&1 || {
    tail -20 "$work/client.log"; exit 1; }
  echo "   took $(( $(date +%s) - start )) s"
  rm -rf "reports/$client_reports"
  mkdir -p reports
  mv "$work/reports/$client_reports" "reports/$client_reports"
  reports+=("reports/$client_reports/index.json")
fi

python3 scripts/autobahn/judge.py "${reports[@]}"
