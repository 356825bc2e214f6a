#!/usr/bin/env bash
# Compares bulkhead's DBC parser with cantools 45.1.0 on the real-world corpus
# (../shared/data/dbc): cantools loads every file it accepts, then the
# release-built bulkhead parses exactly those files; prints both times per
# round over the whole set and the ratio.
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

read -r ct_files ct_bytes ct_seconds < <(.venv/bin/python3 scripts/cantools_dbc_time.py "$cantools_rounds" "$list" "${files[@]}")
mapfile -t accepted < "$list"
bh_line=$(./target/release/examples/parse_dbc_corpus --repeat "$bulkhead_rounds" "${accepted[@]}")
bh_ms=$(sed -E 's/.* ([0-9.]+) ms per round.*/\1/' <<<"$bh_line")

python3 - "$ct_files" "$ct_bytes" "$ct_seconds" "$bh_ms" "${#files[@]}" <<'PY'
import sys
files, size, ct_s, bh_ms, total = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
bh_s = bh_ms / 1e3
print(f"corpus: {total} DBC files; cantools 45.1.0 loads {files} of them ({size / 1e6:.2f} MB)")
print(f"cantools : {ct_s * 1e3:9.1f} ms per round (best of rounds)  {size / 1e6 / ct_s:7.1f} MB/s")
print(f"bulkhead : {bh_ms:9.2f} ms per round (mean of rounds)  {size / 1e6 / bh_s:7.1f} MB/s")
print(f"ratio    : bulkhead is {ct_s / bh_s:.0f}x faster than cantools on the same files")
PY
