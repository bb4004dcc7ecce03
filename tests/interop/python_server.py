#!/usr/bin/env python3
"""Interop echo server (Python `websockets`, sync API, no compression, no size limit).

Listens on 127.0.0.1, port chosen by the OS; echoes text as text and binary as binary.

stdout protocol: first line `PORT <number>`; then `CLOSED <code> <reason>` for every closed
connection (the code/reason the client sent; 1006 when no close frame came). It exits by itself
after 30 s, or as soon as its stdin closes (so a parent that dies does not leave it behind) -
keep stdin open, e.g.:

    python3 tests/interop/python_server.py                  # from a terminal or a parent's pipe
    sleep 30 | python3 tests/interop/python_server.py &     # from a script (stdin = a pipe)

With --tls CHAIN_PEM KEY_PEM it serves wss:// with that certificate chain and key instead of
ws://.
"""
import os
import ssl
import sys
import threading

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import serve

LIFETIME_S = 30
print_lock = threading.Lock()


def say(line):
    with print_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def handler(ws):
    try:
        while True:
            ws.send(ws.recv())  # str stays text, bytes stay binary
    except ConnectionClosed as closed:
        rcvd = closed.rcvd
        if rcvd is None:
            say("CLOSED 1006 ")
        else:
            say(f"CLOSED {int(rcvd.code)} {rcvd.reason}")


def stop(reason):
    if reason:
        print(f"python_server: {reason}", file=sys.stderr, flush=True)
    sys.stdout.flush()
    os._exit(0)


def tls_context():
    """An SSL server context with the chain and key after --tls, or None without --tls."""
    if "--tls" not in sys.argv:
        return None
    at = sys.argv.index("--tls")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(sys.argv[at + 1], sys.argv[at + 2])
    return context


def main():
    context = tls_context()
    options = {"ssl": context} if context is not None else {}
    server = serve(
        handler,
        "127.0.0.1",
        0,
        # With --deflate, permessage-deflate is accepted.
        compression="deflate" if "--deflate" in sys.argv else None,
        max_size=None,
        ping_interval=None,
        **options,
    )
    say(f"PORT {server.socket.getsockname()[1]}")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    timer = threading.Timer(LIFETIME_S, stop, [f"exiting after {LIFETIME_S} s"])
    timer.daemon = True
    timer.start()
    # Block until stdin reaches EOF (parent gone or pipe closed).
    try:
        while sys.stdin.buffer.read1(65536):
            pass
    except (OSError, ValueError):
        pass
    stop(None)


if __name__ == "__main__":
    main()
