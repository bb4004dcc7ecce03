#!/usr/bin/env bash
# Fails if the core (no default features) depends on anything but its allowed crates.
set -euo pipefail
cd "$(dirname "$0")/.."
allowed='base64 bytes getrandom sha1 thiserror'
direct=$(cargo tree --no-default-features -e normal --depth 1 --prefix none --format '{p}' \
  | tail -n +2 | awk '{print $1}' | sort -u)
status=0
for dep in $direct; do
  case " $allowed " in
    *" $dep "*) ;;
    *) echo "the core depends on $dep, which is not allowed" >&2; status=1 ;;
  esac
done
echo "core dependencies: $(echo $direct)"
exit $status
