# wait_for_port PORT: returns once something accepts connections on 127.0.0.1:PORT, or
# fails after 10 s, saying so. For the scripts that start a server and then load it
# (they source this file; it is not run by itself).
wait_for_port() {
  for _ in $(seq 1 100); do
    python3 -c "import socket, sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), 0.2)" \
      "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "nothing listens on 127.0.0.1:$1" >&2
  return 1
}
