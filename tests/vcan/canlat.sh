#!/usr/bin/env bash
# Checks scripts/uml/canlat.py inside a vcan environment:
#
#   scripts/vcan-run -- tests/vcan/canlat.sh
#
# - through the kernel's can-gw (vcan0 -> vcan1) every frame comes back, the
#   report is well-formed JSON with plausible figures, classic and extended IDs;
# - with nothing forwarding it gives up quickly, says so and exits 1.
# (Its argument checks need no vcan: tests/vcan/run-all.sh runs them on the host.)
# Small counts: this checks the tool, it does not measure (measure-cangw.sh does).
set -uo pipefail

fail() {
    echo "canlat-check: FAIL: $*" >&2
    exit 1
}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
canlat=$root/scripts/uml/canlat.py
python=$(command -v python3) || fail "python3 not found"
[ ! -x /usr/bin/python3 ] || python=/usr/bin/python3
scratch=$(mktemp -d "${TMPDIR:-/tmp}/canlat-check.XXXXXX") || fail "cannot create a scratch directory"
trap 'cangw -F 2>/dev/null; rm -rf -- "$scratch"' EXIT

cangw -F || fail "cangw -F failed: is can-gw loaded?"
cangw -A -s vcan0 -d vcan1 -e || fail "cangw -A -s vcan0 -d vcan1 -e failed"

"$python" "$canlat" all --count 300 --warmup 10 --rate-count 1000 --bisect-steps 1 --quiet-ms 100 --json \
    >"$scratch/classic.json" 2>"$scratch/classic.err" ||
    fail "canlat through can-gw exited $?: $(cat "$scratch/classic.err")"
"$python" "$canlat" latency --id 18DAF110 --count 100 --warmup 5 --json \
    >"$scratch/extended.json" 2>"$scratch/extended.err" ||
    fail "canlat with an extended ID through can-gw exited $?: $(cat "$scratch/extended.err")"

"$python" - "$scratch/classic.json" "$scratch/extended.json" <<'PY' || fail "the reports are wrong (above)"
import json, sys
classic = json.load(open(sys.argv[1]))
extended = json.load(open(sys.argv[2]))
problems = []
def check(condition, message):
    if not condition:
        problems.append(message)
lat = classic["latency"]
check(lat["frames"] == 300 and lat["received"] == 300 and lat["lost"] == 0,
      f"latency: {lat['received']} of {lat['frames']} back, {lat['lost']} lost; can-gw loses none one at a time")
rt, bb = lat["round_trip_us"], lat["bus_to_bus_us"]
check(rt is not None and 0 < rt["min"] <= rt["median"] <= rt["p99"] <= rt["max"],
      f"round trip summary not ordered or empty: {rt}")
check(bb is not None and 0 <= bb["median"] <= rt["median"],
      f"bus to bus {bb} should be at least 0 and below the user-space round trip {rt and rt['median']}")
rate = classic["rate"]
blast = rate["blast"]
check(len(rate["trials"]) <= 2, f"--bisect-steps 1 ran {len(rate['trials'])} trials")
check(blast["sent"] == 1000 and 0 < blast["received"] <= 1000 and blast["lost"] == 1000 - blast["received"],
      f"rate blast counts inconsistent: {blast}")
check(blast["duplicates"] == 0 and blast["reordered"] == 0, f"can-gw duplicated or reordered frames: {blast}")
check(rate["loss_free_fps"] is None or rate["loss_free_fps"] > 0, f"loss-free rate {rate['loss_free_fps']}")
check(extended["setup"]["id"] == "0x18daf110" and extended["latency"]["received"] == 100,
      f"extended id: {extended['setup']['id']}, {extended['latency']['received']} of 100 back")
for problem in problems:
    print("  " + problem, file=sys.stderr)
sys.exit(1 if problems else 0)
PY
echo "canlat-check: ok: through can-gw, 300 of 300 frames back, JSON report well-formed (classic and extended IDs)"

cangw -F
begin=$EPOCHSECONDS
"$python" "$canlat" latency --count 1000 --timeout-ms 20 >"$scratch/none.out" 2>"$scratch/none.err"
status=$?
[ "$status" = 1 ] || fail "with nothing forwarding canlat exited $status, expected 1"
grep -q "no frame came back on vcan1" "$scratch/none.err" || fail "with nothing forwarding canlat said: $(cat "$scratch/none.err")"
[ $((EPOCHSECONDS - begin)) -lt 10 ] || fail "with nothing forwarding canlat took $((EPOCHSECONDS - begin)) s to give up"
echo "canlat-check: ok: with nothing forwarding it gives up, says so and exits 1"
