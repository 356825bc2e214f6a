#!/usr/bin/env bash
# Compares bulkhead's DBC parser with cantools 45.1.0 on the real-world corpus
# (../shared/data/dbc): cantools loads every file it accepts, then the
# release-built bulkhead parses exactly those files; prints both times per
# round over the whole set and the ratios, by wall clock and by CPU time (the
# CPU time is what to quote on a machine shared with other work).
#
# Usage: scripts/bench-dbc.sh [CANTOOLS_ROUNDS] [BULKHEAD_ROUNDS]   (defaults 3 and 50)
# Needs the oracles (runs scripts/setup-oracles) and ../shared/data.
set -euo pipefail
cd "$(dirname "$0")/.."

cantools_rounds=${1:-3}
bulkhead_rounds=${2:-50}
data=../shared/data/dbc
if [ ! -d "$data" ]; then
  echo "bench-dbc: no corpus at $data (see DESIGN.md, section Data)" >&2
  exit 1
fi
scripts/setup-oracles

cargo build --release --quiet --example parse_dbc_corpus
mapfile -t files < <(find "$data" -type f -iname '*.dbc' | sort)
list=$(mktemp)
trap 'rm -f "$list"' EXIT

read -r ct_files ct_bytes ct_seconds ct_cpu < <(.venv/bin/python3 scripts/cantools_dbc_time.py "$cantools_rounds" "$list" "${files[@]}")
mapfile -t accepted < "$list"
bh_line=$(./target/release/examples/parse_dbc_corpus --repeat "$bulkhead_rounds" "${accepted[@]}")
bh_ms=$(sed -E 's/.*, ([0-9.]+) ms per round \(.*/\1/' <<<"$bh_line")
bh_cpu_ms=$(sed -nE 's/.*CPU time ([0-9.]+) ms per round.*/\1/p' <<<"$bh_line")

python3 - "$ct_files" "$ct_bytes" "$ct_seconds" "$ct_cpu" "$bh_ms" "${bh_cpu_ms:-nan}" "${#files[@]}" <<'PY'
import sys
files, size, total = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[7])
ct_s, ct_cpu, bh_s, bh_cpu = (float(x) for x in (sys.argv[3], sys.argv[4], float(sys.argv[5]) / 1e3, float(sys.argv[6]) / 1e3))
mb = size / 1e6
print(f"corpus: {total} DBC files; cantools 45.1.0 loads {files} of them ({mb:.2f} MB)")
print(f"                    wall clock              CPU time")
print(f"cantools : {ct_s * 1e3:9.1f} ms {mb / ct_s:7.1f} MB/s   {ct_cpu * 1e3:9.1f} ms {mb / ct_cpu:7.1f} MB/s  (best round)")
print(f"bulkhead : {bh_s * 1e3:9.2f} ms {mb / bh_s:7.1f} MB/s   {bh_cpu * 1e3:9.2f} ms {mb / bh_cpu:7.1f} MB/s  (mean round)")
print(f"ratio    : bulkhead is {ct_s / bh_s:.0f}x faster by wall clock, {ct_cpu / bh_cpu:.0f}x by CPU time, on the same files")
PY
