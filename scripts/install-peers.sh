#!/usr/bin/env bash
# Installs the interop peers used by tests/interop/, idempotently (fast when all are present):
#   - npm `ws` (v8), `playwright-core`, `engine.io-client` (v6), `socket.io-client` (v4),
#     `socket.io` (v4, the server our Rust Socket.IO client is tested against), and
#     `@socket.io/redis-adapter` (v8), `@socket.io/redis-emitter` (v5) and `redis` (v4, the
#     client they ride on: the Node node of our Redis cluster test) into
#     tests/interop/node_modules (no lock file, no browser download: the browser is Debian's
#     chromium),
#   - Python `websockets` (>=12) via pip,
#   - Debian `chromium` (/usr/bin/chromium) via apt-get.
# Prints one line per peer: "installed" or "already present".
#
#   bash scripts/install-peers.sh
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
interop="$root/tests/interop"

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi

# --- npm: the packages of tests/interop/package.json ---------------------------------------
npm_peers="ws + playwright-core + engine.io-client + socket.io-client + socket.io + redis-adapter + redis-emitter + redis"
if [ -d "$interop/node_modules/ws" ] && [ -d "$interop/node_modules/playwright-core" ] \
  && [ -d "$interop/node_modules/engine.io-client" ] \
  && [ -d "$interop/node_modules/socket.io-client" ] \
  && [ -d "$interop/node_modules/socket.io" ] \
  && [ -d "$interop/node_modules/@socket.io/redis-adapter" ] \
  && [ -d "$interop/node_modules/@socket.io/redis-emitter" ] \
  && [ -d "$interop/node_modules/redis" ]; then
  echo "npm $npm_peers: already present"
else
  (
    cd "$interop"
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --no-package-lock --no-audit --no-fund \
      --loglevel=error >/dev/null
  )
  rm -f "$interop/package-lock.json"
  echo "npm $npm_peers: installed"
fi

# --- PyPI: websockets ----------------------------------------------------------------------
if python3 -c 'import websockets.sync.client' >/dev/null 2>&1; then
  echo "python websockets: already present"
else
  python3 -m pip install -q --root-user-action=ignore 'websockets>=12'
  python3 -c 'import websockets.sync.client'
  echo "python websockets: installed"
fi

# --- Debian: chromium ----------------------------------------------------------------------
if [ -x /usr/bin/chromium ]; then
  echo "chromium: already present"
else
  apt_get() { $SUDO env DEBIAN_FRONTEND=noninteractive apt-get "$@"; }
  # Refresh the package lists only when they don't know chromium yet.
  if ! apt-cache show chromium >/dev/null 2>&1; then apt_get update -qq; fi
  if ! apt_get install -y -qq chromium >/dev/null 2>&1; then
    apt_get update -qq   # stale lists (e.g. a 404 for an old version): refresh and retry once
    apt_get install -y -qq chromium >/dev/null
  fi
  [ -x /usr/bin/chromium ]
  echo "chromium: installed"
fi
