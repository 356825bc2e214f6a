#!/usr/bin/env bash
# Read + decode speed on one core: bulkhead (examples/read_decode.rs: our
# candump reader, our DBC parser's model, our codec) against cantools 45.1.0
# decoding the same frames of the same capture with the same DBC files.
#
#   scripts/bench-decode.sh       the RAV4 capture (135,468 frames), can0/can128
#                                 with toyota_new_mc_pt_generated.dbc, can1/can129
#                                 with toyota_adas.dbc
#
# Both sides decode every frame of a DBC message, every signal, scaled, without
# value-description lookups (cantools: decode_choices=False). Best of REPEAT
# runs (default 5 for bulkhead, 3 for cantools), each side reading the
# capture from memory. cantools is measured twice: decoding frames that
# python-can parsed beforehand (its decode alone, its best light), and
# python-can reading plus decoding (the same work as bulkhead's figure).
# cantools reads a copy of the Toyota DBC with the `;` its line 569 lacks.
# Needs .venv (scripts/setup-oracles) and ../shared/data.
set -euo pipefail
cd "$(dirname "$0")/.."
repeat=${REPEAT:-5}
python=.venv/bin/python3
data=../shared/data
capture=$data/logs/toyota_rav4/rav4_2018-08-02--08-34-47_seg40.candump.log
pt=$data/dbc/opendbc/generated/toyota_new_mc_pt_generated.dbc
adas=$data/dbc/opendbc/current/toyota_adas.dbc
[ -x "$python" ] || { echo "bench-decode: $python is missing: run scripts/setup-oracles first" >&2; exit 1; }
[ -f "$capture" ] || { echo "bench-decode: $capture is absent (the shared test data lives beside the project)" >&2; exit 1; }

cargo build --quiet --release --example read_decode
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# cantools refuses line 569 without its final `;` (`bulkhead dbc` warns and reads on).
sed '569s/"clutch released"$/"clutch released";/' "$pt" >"$work/pt.dbc"

ours=$(./target/release/examples/read_decode "$capture" "can0=$pt" "can128=$pt" "can1=$adas" "can129=$adas" --repeat "$repeat")
theirs=$("$python" - "$capture" "$work/pt.dbc" "$adas" "${REPEAT:-3}" <<'PY'
import sys, time
import cantools
from can.io.canutils import CanutilsLogReader

capture, pt, adas, repeat = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
dbs = {"pt": cantools.database.load_file(pt, strict=False), "adas": cantools.database.load_file(adas, strict=False)}
by_bus = {bus: {(m.frame_id, m.is_extended_frame): m for m in dbs[name].messages}
          for bus, name in (("can0", "pt"), ("can128", "pt"), ("can1", "adas"), ("can129", "adas"))}
text = open(capture).read()

def decode_all(frames):
    decoded = too_short = refused = signals = 0
    for bus, ident, ext, data in frames:
        table = by_bus.get(bus)
        message = table.get((ident, ext)) if table else None
        if message is None:
            continue
        try:
            signals += len(message.decode(data, decode_choices=False, scaling=True))
            decoded += 1
        except cantools.database.DecodeError as e:
            if "Wrong data size" in str(e):
                too_short += 1
            else:
                refused += 1  # overlapping signals (RAV4 PCS_HUD), see tests/decode_cantools.rs
    return decoded, too_short, refused, signals

def read(source):
    import io
    return [(m.channel, m.arbitration_id, m.is_extended_id, bytes(m.data))
            for m in CanutilsLogReader(io.StringIO(source)) if not (m.is_error_frame or m.is_remote_frame)]

frames = read(text)
best_decode = best_both = float("inf")
for _ in range(repeat):
    start = time.perf_counter()
    counts = decode_all(frames)
    best_decode = min(best_decode, time.perf_counter() - start)
    start = time.perf_counter()
    decode_all(read(text))
    best_both = min(best_both, time.perf_counter() - start)
decoded, too_short, refused, signals = counts
print(f"frames={len(frames)} decoded={decoded} too_short={too_short} refused={refused} signals={signals} "
      f"decode_seconds={best_decode:.6f} read_decode_seconds={best_both:.6f}")
PY
)

field() { sed -n "s/\(^\|.* \)$1=\([0-9.]*\).*/\2/p" <<<"$2"; }
# The same frames of DBC messages on both sides; cantools refuses the few whose
# message has overlapping signals (which bulkhead decodes).
if [ "$(field frames "$ours")" != "$(field frames "$theirs")" ] ||
    [ "$(field too_short "$ours")" != "$(field too_short "$theirs")" ] ||
    [ $(($(field decoded "$ours"))) != $(($(field decoded "$theirs") + $(field refused "$theirs"))) ]; then
    echo "bench-decode: the two sides decoded different work:" >&2
    echo "  bulkhead: $ours" >&2
    echo "  cantools: $theirs" >&2
    exit 1
fi
awk -v frames="$(field frames "$ours")" -v decoded="$(field decoded "$ours")" -v signals="$(field signals "$ours")" \
    -v refused="$(field refused "$theirs")" -v theirs_decoded="$(field decoded "$theirs")" \
    -v ours="$(field seconds "$ours")" -v dec="$(field decode_seconds "$theirs")" -v both="$(field read_decode_seconds "$theirs")" \
    -v cap="$capture" 'BEGIN {
    printf "capture: %s\n", cap
    printf "work:    %d frames read, %d of DBC messages decoded (%d signal values); cantools refuses %d of them (overlapping signals)\n", frames, decoded, signals, refused
    printf "%-42s %10.1f ms %12.0f frames/s %12.0f decodes/s\n", "bulkhead read + decode", ours * 1e3, frames / ours, decoded / ours
    printf "%-42s %10.1f ms %12.0f frames/s %12.0f decodes/s   bulkhead %.0fx\n", "cantools decode only (frames pre-parsed)", dec * 1e3, frames / dec, theirs_decoded / dec, dec / ours
    printf "%-42s %10.1f ms %12.0f frames/s %12.0f decodes/s   bulkhead %.0fx\n", "python-can read + cantools decode", both * 1e3, frames / both, theirs_decoded / both, both / ours
}'
