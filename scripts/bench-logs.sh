#!/usr/bin/env bash
# Reading speed of bulkhead's candump reader against python-can's
# CanutilsLogReader (4.6.1) on the same capture, in frames per second.
#
#   scripts/bench-logs.sh [CAPTURE]
#
# CAPTURE defaults to the RAV4 capture (135,468 frames of candump -l). Both
# sides read the file from memory (python-can from an io.StringIO), best of
# REPEAT runs (default 5). Needs .venv (scripts/setup-oracles) and builds the
# read_log example in release mode.
set -euo pipefail
cd "$(dirname "$0")/.."

capture=${1:-../shared/data/logs/toyota_rav4/rav4_2018-08-02--08-34-47_seg40.candump.log}
repeat=${REPEAT:-5}
python=.venv/bin/python3

if [ ! -f "$capture" ]; then
  echo "bench-logs: $capture is absent (the shared test data lives beside the project)" >&2
  exit 1
fi
if [ ! -x "$python" ]; then
  echo "bench-logs: $python is missing: run scripts/setup-oracles first" >&2
  exit 1
fi

cargo build --quiet --release --example read_log

ours_output=$(./target/release/examples/read_log "$capture" --format candump --repeat "$repeat")
ours=$(head -n 1 <<<"$ours_output")
ours_frames=$(sed -n 's/.*frames=\([0-9]*\).*/\1/p' <<<"$ours")
ours_rate=$(sed -n 's/.*frames_per_second=\([0-9]*\).*/\1/p' <<<"$ours")

theirs=$("$python" - "$capture" "$repeat" <<'PY'
import io, sys, time
from can.io.canutils import CanutilsLogReader

path, repeat = sys.argv[1], int(sys.argv[2])
text = open(path).read()
best, frames = float("inf"), 0
for _ in range(repeat):
    start = time.perf_counter()
    frames = sum(1 for _ in CanutilsLogReader(io.StringIO(text)))
    best = min(best, time.perf_counter() - start)
print(f"frames={frames} seconds={best:.6f} frames_per_second={frames / best:.0f}")
PY
)
theirs_frames=$(sed -n 's/.*frames=\([0-9]*\).*/\1/p' <<<"$theirs")
theirs_rate=$(sed -n 's/.*frames_per_second=\([0-9]*\).*/\1/p' <<<"$theirs")

if [ "$ours_frames" != "$theirs_frames" ]; then
  echo "bench-logs: frame counts differ: bulkhead $ours_frames, python-can $theirs_frames" >&2
  exit 1
fi

echo "capture:    $capture ($ours_frames frames, best of $repeat)"
echo "bulkhead:   $ours"
echo "python-can: $theirs"
awk -v a="$ours_rate" -v b="$theirs_rate" 'BEGIN { printf "ratio:      bulkhead reads %.1fx as many frames per second as python-can\n", a / b }'
