# The command that starts each benchmarked server, for scripts/bench.sh and
# scripts/bench-cpu-split.sh (both source this file; it is not run by itself).
#
# server_command NAME MODE PORT: sets the array `server_cmd` to the command that serves MODE
# (echo or broadcast) on 127.0.0.1:PORT; fails, saying so, when NAME has no MODE server.
# ours:broadcast needs $fanout_bin (scripts/bench.sh builds it).
server_command() {
  local name=$1 mode=$2 port=$3
  case $name:$mode in
    ours:echo) server_cmd=(target/release/examples/echo "127.0.0.1:$port" 1) ;;
    ours:broadcast) server_cmd=("$fanout_bin" "127.0.0.1:$port") ;;
    uws:*) server_cmd=(node benches/peers/uws.js "$port" "$mode") ;;
    ws:*) server_cmd=(node benches/peers/ws.mjs "$port" "$mode") ;;
    fastwebsockets:echo)
      server_cmd=(benches/peers/target/release/fastwebsockets_echo "127.0.0.1:$port") ;;
    tokio-tungstenite:echo)
      server_cmd=(benches/peers/target/release/tokio_tungstenite_echo "127.0.0.1:$port") ;;
    *) echo "no $mode server for $name" >&2; return 1 ;;
  esac
}
