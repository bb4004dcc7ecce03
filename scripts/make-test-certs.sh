#!/usr/bin/env bash
# Makes a throwaway CA and a server certificate it signs for localhost and 127.0.0.1, valid
# 2 days, with the openssl CLI (installed if missing), for scripts that run wss://: never
# commit what it writes.
#
#   scripts/make-test-certs.sh DIR [p256|rsa2048]     # default p256
#
# Writes into DIR: ca.pem (what a client trusts), server.pem (the leaf), chain.pem (leaf
# then CA, what our server sends), server.key, and ca.key.
set -euo pipefail
dir=${1:?usage: make-test-certs.sh DIR [p256|rsa2048]}
key=${2:-p256}
case $key in
  p256) keygen=(-algorithm EC -pkeyopt ec_paramgen_curve:P-256) usage=digitalSignature ;;
  rsa2048) keygen=(-algorithm RSA -pkeyopt rsa_keygen_bits:2048) usage=digitalSignature,keyEncipherment ;;
  *) echo "make-test-certs.sh: the key is p256 or rsa2048" >&2; exit 2 ;;
esac
if ! command -v openssl >/dev/null; then
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssl >/dev/null 2>&1 || {
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssl >/dev/null
  }
fi
mkdir -p -m 700 "$dir"
cd "$dir"
log=openssl.log
openssl genpkey "${keygen[@]}" -out ca.key 2>"$log"
openssl req -x509 -new -key ca.key -sha256 -days 2 -subj "/CN=rfc6455 throwaway test CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -out ca.pem 2>>"$log"
openssl genpkey "${keygen[@]}" -out server.key 2>>"$log"
openssl req -new -key server.key -subj "/CN=localhost" -out server.csr 2>>"$log"
printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" "basicConstraints=critical,CA:FALSE" \
  "keyUsage=critical,$usage" "extendedKeyUsage=serverAuth" >server.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -sha256 \
  -extfile server.ext -out server.pem 2>>"$log"
cat server.pem ca.pem >chain.pem
openssl verify -CAfile ca.pem server.pem >/dev/null
