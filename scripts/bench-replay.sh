#!/usr/bin/env bash
# Replay speed, end to end: `bulkhead replay` (read the capture, run every
# frame through the full engine, count verdicts into the report) against, on
# the same file, python-can merely reading it (CanutilsLogReader 4.6.1) and a
# toy Python IDS doing one dictionary lookup per frame (scripts/toy_ids.py).
#
#   scripts/bench-replay.sh                      the simulator's 10-minute drive with the reference rules
#   scripts/bench-replay.sh CAPTURE -- ARGS...   CAPTURE replayed with `bulkhead replay ARGS... CAPTURE`
#
# Best of REPEAT runs (default 3) each; bulkhead's time is the whole command
# (process start and rule compilation included). Needs .venv (scripts/setup-oracles).
set -euo pipefail
cd "$(dirname "$0")/.."
repeat=${REPEAT:-3}
python=.venv/bin/python3
[ -x "$python" ] || { echo "bench-replay: run scripts/setup-oracles first" >&2; exit 1; }

cargo build --quiet --release --workspace
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ $# -eq 0 ]; then
    capture=$work/long-drive.log
    # The simulator signs the secured ids with its keys; the replay checks them with the same keys.
    ./target/release/bulkhead-sim keys "$work/keys" >/dev/null
    ./target/release/bulkhead-sim record sim/scenarios/long-drive.toml --keys "$work/keys" -o "$capture" >/dev/null
    args=(--keys "$work/keys")
else
    capture=$1
    shift
    [ "${1:-}" = "--" ] && shift
    args=("$@")
fi

best() { # command...: prints the best wall time in seconds
    local best=
    for _ in $(seq "$repeat"); do
        local start end
        start=$(date +%s.%N)
        "$@" >/dev/null
        end=$(date +%s.%N)
        best=$(awk -v a="$start" -v b="$end" -v best="$best" 'BEGIN { t = b - a; if (best == "" || t < best) best = t; printf "%.6f", best }')
    done
    echo "$best"
}

frames=$(./target/release/bulkhead replay -q --report-json /dev/stdout "${args[@]}" "$capture" | "$python" -c 'import json,sys; print(json.load(sys.stdin)["frames"])')
ours=$(best ./target/release/bulkhead replay -q "${args[@]}" "$capture")
pycan=$("$python" - "$capture" "$repeat" <<'PY'
import sys, time
from can.io.canutils import CanutilsLogReader
path, repeat = sys.argv[1], int(sys.argv[2])
best = None
for _ in range(repeat):
    start = time.perf_counter()
    n = sum(1 for _ in CanutilsLogReader(path))
    t = time.perf_counter() - start
    best = t if best is None or t < best else best
print(f"{n} {best:.6f}")
PY
)
toy=$("$python" scripts/toy_ids.py "$capture" "$repeat")

pycan_frames=${pycan% *}
pycan_seconds=${pycan#* }
toy_rate=$(sed -n 's/.*frames_per_second=\([0-9]*\).*/\1/p' <<<"$toy")
awk -v n="$frames" -v ours="$ours" -v pn="$pycan_frames" -v ps="$pycan_seconds" -v toy="$toy_rate" -v cap="$capture" 'BEGIN {
    r = n / ours; p = pn / ps
    printf "capture: %s (%d frames)\n", cap, n
    printf "%-44s %12.0f frames/s\n", "bulkhead replay (read + full engine + report)", r
    printf "%-44s %12.0f frames/s   bulkhead is %.1fx faster\n", "python-can CanutilsLogReader (read only)", p, r / p
    printf "%-44s %12.0f frames/s   bulkhead is %.1fx faster\n", "toy Python IDS (one dict lookup per frame)", toy, r / toy
}'
