#!/usr/bin/env bash
# Runs the cargo-fuzz targets (fuzz/), each for a given time, and prints per target: wall
# and CPU seconds, executions, executions per second, and coverage (libFuzzer's cov/ft).
# Installs cargo-fuzz if missing. The corpus grows in fuzz/corpus/<target> (not in git);
# fuzz/seeds/<target> and fuzz/dict/websocket.dict are the committed seeds and dictionary.
# Any crash fails the run; the input is left in fuzz/artifacts/<target>/.
#
# Every run is also appended to fuzz/logs/runs.tsv (not in git); `scripts/fuzz.sh --totals`
# sums it per target: CPU hours, executions, the latest coverage.
#
# usage: scripts/fuzz.sh [seconds per target, default 60] [target ...]
#        scripts/fuzz.sh --totals
#        (CI runs every target for 60 s; long runs: scripts/fuzz.sh 3600 frame)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = --totals ]; then
  python3 - <<'PY'
import collections, csv, os
path = "fuzz/logs/runs.tsv"
if not os.path.exists(path):
    raise SystemExit("no runs recorded yet in " + path)
totals = collections.OrderedDict()
for row in csv.reader(open(path), delimiter="\t"):
    when, target, wall, cpu, execs, rate, cov, ft = row
    t = totals.setdefault(target, {"runs": 0, "cpu": 0.0, "execs": 0, "cov": cov, "ft": ft})
    t["runs"] += 1
    t["cpu"] += float(cpu)
    t["execs"] += int(execs) if execs.isdigit() else 0
    t["cov"], t["ft"] = cov, ft
print(f"{'target':<20} {'runs':>4} {'cpu_hours':>9} {'executions':>13} {'exec_per_cpu_s':>14} {'cov':>6} {'ft':>7}")
for target, t in totals.items():
    rate = t["execs"] / t["cpu"] if t["cpu"] else 0
    print(f"{target:<20} {t['runs']:>4} {t['cpu'] / 3600:>9.2f} {t['execs']:>13} {rate:>14.0f} {t['cov']:>6} {t['ft']:>7}")
PY
  exit 0
fi
seconds=${1:-60}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(frame handshake_request handshake_response connection_server connection_client connection_deflate roundtrip extensions http_body socketio_packet resp msgpack)
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --version 0.13.2 --locked
fi
export RUSTC_BOOTSTRAP=1
(cd fuzz && cargo fuzz build >/dev/null 2>&1) || (cd fuzz && cargo fuzz build)

mkdir -p fuzz/logs
printf '%-20s %8s %8s %12s %10s %6s %7s\n' target wall_s cpu_s executions exec_per_s cov ft
status=0
for target in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$target"
  log="fuzz/logs/$target-$(date +%Y%m%d-%H%M%S).log"
  TIMEFORMAT='%R %U %S'
  times_line=$( { time (cd fuzz && cargo fuzz run "$target" "corpus/$target" "seeds/$target" -- \
      -max_total_time="$seconds" -dict=dict/websocket.dict -rss_limit_mb=4096 \
      -print_final_stats=1 >"../$log" 2>&1); } 2>&1 ) || {
    echo "$target: FAILED (see $log)"; grep -E "panicked|ERROR|SUMMARY" "$log" | head -5; status=1; continue; }
  read -r wall user sys <<<"$times_line"
  python3 - "$log" "$target" "$wall" "$user" "$sys" <<'PY'
import re, sys, time
log, target, wall, user, sys_time = sys.argv[1:]
text = open(log, errors="replace").read()
def last(pattern):
    found = re.findall(pattern, text)
    return found[-1] if found else "?"
cpu = float(user) + float(sys_time)
row = [time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), target, f"{float(wall):.0f}",
       f"{cpu:.0f}", last(r'stat::number_of_executed_units: ([0-9]+)'),
       last(r'stat::average_exec_per_sec: +([0-9]+)'), last(r'cov: ([0-9]+)'),
       last(r'ft: ([0-9]+)')]
with open("fuzz/logs/runs.tsv", "a") as f:
    f.write("\t".join(row) + "\n")
print(f"{target:<20} {float(wall):8.0f} {cpu:8.0f} {row[4]:>12} {row[5]:>10} {row[6]:>6} {row[7]:>7}")
PY
done
exit $status
