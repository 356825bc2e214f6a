#!/usr/bin/env bash
# Measures the kernel's can-gw with scripts/uml/canlat.py, in one environment:
#
#   scripts/vcan-run -- scripts/uml/measure-cangw.sh [--quick] [--json FILE]
#
# 1. baseline: canlat sending and receiving on vcan0 itself (no forwarder):
#    the cost of the measuring tool and of the kernel (or UML) alone;
# 2. can-gw vcan0 -> vcan1, classic CAN, 8 bytes;
# 3. can-gw vcan0 -> vcan1, CAN FD, 64 bytes (both interfaces at mtu 72).
# Each: latency over 10,000 frames (1,000 with --quick) and the highest
# loss-free rate. Later measurements of bulkhead's daemon use canlat the same
# way, in the same run, so that ratios compare like with like.
# --json FILE writes the three reports as one JSON object {name: report}.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
count=10000
rate_count=10000
json_out=
while [ $# -gt 0 ]; do
    case $1 in
    --quick) count=1000 rate_count=3000; shift ;;
    --json) json_out=$2; shift 2 ;;
    *) echo "measure-cangw: unknown argument '$1' (--quick, --json FILE)" >&2; exit 2 ;;
    esac
done

python=$(command -v python3) || { echo "measure-cangw: python3 not found" >&2; exit 1; }
# pyenv's shims start several processes per call: slow under User-Mode Linux.
[ ! -x /usr/bin/python3 ] || python=/usr/bin/python3
for iface in vcan0 vcan1; do
    ip link show dev "$iface" >/dev/null 2>&1 || { echo "measure-cangw: no $iface (run it inside scripts/vcan-run)" >&2; exit 1; }
done

scratch=$(mktemp -d "${TMPDIR:-/tmp}/measure-cangw.XXXXXX")
trap 'cangw -F 2>/dev/null || true; rm -rf -- "$scratch"' EXIT

canlat() { # NAME canlat-arguments...
    local name=$1
    shift
    echo "== $name" >&2
    "$python" "$here/canlat.py" all --count "$count" --rate-count "$rate_count" "$@" --json >"$scratch/$name.json"
    "$python" - "$scratch/$name.json" <<'PY' >&2
import json, sys
r = json.load(open(sys.argv[1]))
l, rate = r["latency"], r["rate"]
rt, bb = l["round_trip_us"], l["bus_to_bus_us"]
print(f"   latency: {l['received']}/{l['frames']} back; round trip median {rt['median']} p99 {rt['p99']} us; "
      f"bus to bus median {bb['median'] if bb else 'n/a'} p99 {bb['p99'] if bb else 'n/a'} us")
print(f"   rate: as fast as possible {rate['blast']['achieved_fps']} fps ({rate['blast']['lost']} lost); "
      f"highest loss-free {rate['loss_free_fps']} fps")
PY
}

cangw -F
canlat baseline-same-bus --tx vcan0 --rx vcan0

cangw -A -s vcan0 -d vcan1 -e
canlat cangw-classic --tx vcan0 --rx vcan1

cangw -F
for iface in vcan0 vcan1; do
    ip link set "$iface" mtu 72 2>/dev/null || { ip link set "$iface" down && ip link set "$iface" mtu 72 && ip link set "$iface" up; }
done
cangw -A -s vcan0 -d vcan1 -X -e
canlat cangw-fd --tx vcan0 --rx vcan1 --fd --length 64
cangw -L >&2 || true # cangw -L exits non-zero even when it works

"$python" - "$scratch" baseline-same-bus cangw-classic cangw-fd <<'PY' >"$scratch/all.json"
import json, sys
print(json.dumps({name: json.load(open(f"{sys.argv[1]}/{name}.json")) for name in sys.argv[2:]}, indent=1))
PY
if [ -n "$json_out" ]; then
    cp "$scratch/all.json" "$json_out"
else
    cat "$scratch/all.json"
fi
