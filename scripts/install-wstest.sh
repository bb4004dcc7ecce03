#!/usr/bin/env bash
# Installs the Autobahn testsuite (`wstest`, Python 2 only) into /opt/wstest, idempotently.
#
# Debian bookworm has no python2.7, so we add a second apt source for bullseye derived from
# the machine's own bookworm source (same mirror, plain release only), pinned to priority 100
# so nothing else is pulled from it, and install python2.7 from there.
set -euo pipefail

WSTEST_DIR=${WSTEST_DIR:-/opt/wstest}
if "$WSTEST_DIR/bin/wstest" --help >/dev/null 2>&1; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi

if [ ! -x /usr/bin/python2.7 ]; then
  src=/etc/apt/sources.list.d/debian.sources
  dst=/etc/apt/sources.list.d/bullseye.sources
  if [ ! -f "$dst" ]; then
    # Keep the first stanza (the plain release), rename its suite, drop -updates/-security.
    awk 'BEGIN{RS=""; ORS="\n\n"} NR==1 {
           n = split($0, lines, "\n"); out = "";
           for (i = 1; i <= n; i++) {
             if (lines[i] ~ /^Suites:/) lines[i] = "Suites: bullseye";
             out = out lines[i] "\n";
           }
           printf "%s", out }' "$src" | $SUDO tee "$dst" >/dev/null
  fi
  printf 'Package: *\nPin: release n=bullseye\nPin-Priority: 100\n' \
    | $SUDO tee /etc/apt/preferences.d/bullseye-pin >/dev/null
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq -t bullseye python2.7 python2.7-dev >/dev/null
fi

python3 -m pip install -q 'virtualenv<20.22'
python3 -m virtualenv -q -p /usr/bin/python2.7 "$WSTEST_DIR"
"$WSTEST_DIR/bin/pip" install -q autobahntestsuite==25.10.1
"$WSTEST_DIR/bin/wstest" --help >/dev/null
echo "wstest installed in $WSTEST_DIR"
