#!/usr/bin/env python3
"""Interop client (Python `websockets`, sync API): runs a fixed script against an ECHO server.

Exits 0 and prints "ok" only when every check passed; otherwise prints the reason to stderr
and exits 1. Hard timeout: 20 s.

Script: text "hello"; text "κόσμε 🙂"; 64 KiB random binary; 1 MiB random binary; 100 text
messages "m0".."m99" sent back to back (must come back in order); ping "p1" -> pong "p1";
close 1000 "done" -> the server's close frame carries code 1000.

    bash scripts/install-peers.sh          # once: installs websockets (>=12)
    python3 tests/interop/python_client.py ws://127.0.0.1:9101/ [--deflate]
    python3 tests/interop/python_client.py wss://127.0.0.1:9101/ --ca ca.pem [--deflate]

With --deflate, permessage-deflate is offered and must be negotiated. With --ca FILE (for a
wss:// URL), the server's certificate must be issued by a CA in FILE (and match the URL's
host); the system's roots are not used.
"""
import os
import ssl
import sys
import threading

from websockets.sync.client import connect

TIMEOUT_S = 20
STEP_TIMEOUT_S = 10
step = "connecting"


def fail(reason):
    print(f'python_client: FAILED during "{step}": {reason}', file=sys.stderr, flush=True)
    os._exit(1)


def show(value):
    return repr(value[:60]) + f"… ({len(value)} chars)" if len(value) > 60 else repr(value)


def expect_text(ws, expected):
    got = ws.recv(timeout=STEP_TIMEOUT_S)
    if not isinstance(got, str):
        fail(f"expected text {show(expected)}, got a binary message of {len(got)} bytes")
    if got != expected:
        fail(f"expected text {show(expected)}, got {show(got)}")


def expect_binary(ws, expected):
    got = ws.recv(timeout=STEP_TIMEOUT_S)
    if not isinstance(got, bytes):
        fail(f"expected binary of {len(expected)} bytes, got a text message")
    if got != expected:
        fail(f"binary echo differs: sent {len(expected)} bytes, got {len(got)} bytes")


def received_close_code(ws):
    """The close code the server sent back; the attribute moved between websockets versions."""
    code = getattr(ws, "close_code", None)  # websockets >= 13 (sync connection)
    if code is None:
        rcvd = getattr(ws.protocol, "close_rcvd", None)  # websockets 12
        code = rcvd.code if rcvd is not None else None
    return code


def tls_context():
    """An SSL context trusting only the CA file after --ca, or None without --ca."""
    if "--ca" not in sys.argv:
        return None
    at = sys.argv.index("--ca")
    if at + 1 >= len(sys.argv):
        print("usage: python3 python_client.py <ws-url> [--deflate] [--ca ca.pem]", file=sys.stderr)
        sys.exit(2)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # checks the certificate and the host name
    context.load_verify_locations(cafile=sys.argv[at + 1])
    return context


def main():
    global step
    if len(sys.argv) < 2:
        print("usage: python3 python_client.py <ws-url> [--deflate] [--ca ca.pem]", file=sys.stderr)
        sys.exit(2)
    context = tls_context()
    options = {"ssl": context} if context is not None else {}
    timer = threading.Timer(TIMEOUT_S, fail, [f"overall timeout of {TIMEOUT_S} s exceeded"])
    timer.daemon = True
    timer.start()
    try:
        with connect(
            sys.argv[1],
            compression="deflate" if "--deflate" in sys.argv else None,
            max_size=None,
            open_timeout=5,
            close_timeout=5,
            ping_interval=None,
            **options,
        ) as ws:
            if context is not None:
                step = "TLS"
                version = ws.socket.version()
                if version not in ("TLSv1.2", "TLSv1.3"):
                    fail(f"unexpected TLS version {version!r}")
            if "--deflate" in sys.argv:
                step = "permessage-deflate negotiated"
                extensions = ws.response.headers.get("Sec-WebSocket-Extensions", "")
                if "permessage-deflate" not in extensions:
                    fail(f"permessage-deflate not negotiated: {extensions!r}")
            step = "text hello"
            ws.send("hello")
            expect_text(ws, "hello")

            step = "text utf-8"
            ws.send("κόσμε 🙂")
            expect_text(ws, "κόσμε 🙂")

            step = "binary 64 KiB"
            b64k = os.urandom(65536)
            ws.send(b64k)
            expect_binary(ws, b64k)

            step = "binary 1 MiB"
            b1m = os.urandom(1048576)
            ws.send(b1m)
            expect_binary(ws, b1m)

            step = "100 messages in order"
            for i in range(100):
                ws.send(f"m{i}")
            for i in range(100):
                expect_text(ws, f"m{i}")

            step = "ping/pong"
            pong_waiter = ws.ping(b"p1")
            if not pong_waiter.wait(5):
                fail('no pong for ping "p1" within 5 s')

            step = "close"
            ws.close(1000, "done")
            code = received_close_code(ws)
            if code != 1000:
                fail(f"expected close code 1000 from the server, got {code}")
    except TimeoutError as exc:
        if step == "connecting":
            fail(f"opening handshake timed out ({exc})")
        fail(f"no reply within {STEP_TIMEOUT_S} s")
    except Exception as exc:  # noqa: BLE001 - any error is a failed check
        fail(f"{type(exc).__name__}: {exc}")
    print("ok", flush=True)
    os._exit(0)


if __name__ == "__main__":
    main()
