#!/usr/bin/env bash
# The learn / replay / attack evaluation on the comma2k19 RAV4 capture, from a
# fresh checkout: builds bulkhead in release, learns rules from the first 70%
# of the capture's frames, replays the other 30% clean, injects four classes of
# attacks into it (scripts/attack-inject.py, seed 1), replays that with
# --verdicts and prints detection per attack class and the false alarms.
#
#   scripts/eval-rav4.sh [OUT_DIR]      (default out/eval-rav4; needs ../shared/data)
#
# The split is by frames (lines of the candump file), not by time: the first
# 70% of the lines are learned from, the rest replayed. Figures: BENCHMARKS.md
# and docs/learn.md. tests/learn_rav4.rs asserts the same goals in-process.
set -euo pipefail
cd "$(dirname "$0")/.."

DATA=../shared/data
LOG=$DATA/logs/toyota_rav4/rav4_2018-08-02--08-34-47_seg40.candump.log
PT=$DATA/dbc/opendbc/generated/toyota_new_mc_pt_generated.dbc
ADAS=$DATA/dbc/opendbc/current/toyota_adas.dbc
OUT=${1:-out/eval-rav4}
SEED=${SEED:-1}

if [ ! -f "$LOG" ]; then
  echo "eval-rav4: $LOG is missing: the evaluation needs ../shared/data beside the project" >&2
  exit 2
fi
command -v python3 >/dev/null || { echo "eval-rav4: python3 (3.11 or later) is needed for the attack script" >&2; exit 2; }

mkdir -p "$OUT"
cargo build --release --quiet
BIN=target/release/bulkhead

total=$(wc -l < "$LOG")
learn=$((total * 70 / 100))
head -n "$learn" "$LOG" > "$OUT/learn.log"
tail -n "+$((learn + 1))" "$LOG" > "$OUT/holdout.log"
echo "split by frames: $learn frames to learn from, $((total - learn)) held out"

# can0 (car) and can128 (frames the openpilot device sent on it) decode with
# the powertrain DBC; can1 (radar) with the ADAS DBC; can129 matches no ADAS
# message at all and 5 ids of the powertrain DBC (DSU_SPEED, ACC_CONTROL, ...).
DBCS=(--bus-dbc "can0=$PT" --bus-dbc "can128=$PT" --bus-dbc "can1=$ADAS" --bus-dbc "can129=$PT")
"$BIN" learn "${DBCS[@]}" -o "$OUT/learned.toml" "$OUT/learn.log"
"$BIN" check "$OUT/learned.toml" 2>/dev/null

"$BIN" replay --quiet --rules "$OUT/learned.toml" --verdicts "$OUT/holdout.verdicts.jsonl" \
  --report-json "$OUT/holdout.report.json" "$OUT/holdout.log"

python3 scripts/attack-inject.py inject --seed "$SEED" --rules "$OUT/learned.toml" \
  --dbc "can0=$PT" --dbc "can128=$PT" --dbc "can1=$ADAS" --dbc "can129=$PT" --known "$LOG" \
  --spoof can0:0x0AA --out-of-range can0:0x0B4:SPEED \
  "$OUT/holdout.log" "$OUT/attacked.log" "$OUT/attacked.marks.tsv"

"$BIN" replay --quiet --rules "$OUT/learned.toml" --verdicts "$OUT/attacked.verdicts.jsonl" \
  --report-json "$OUT/attacked.report.json" "$OUT/attacked.log"

echo
python3 scripts/attack-inject.py score --marks "$OUT/attacked.marks.tsv" \
  --verdicts "$OUT/attacked.verdicts.jsonl" --clean-verdicts "$OUT/holdout.verdicts.jsonl" \
  --json "$OUT/score.json"
