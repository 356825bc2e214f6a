#!/usr/bin/env bash
# Measures the kernel's can-gw with scripts/uml/canlat.py, in one environment:
#
#   scripts/vcan-run -- scripts/uml/measure-cangw.sh [--quick] [--json FILE]
#
# 1. baseline: canlat sending and receiving on vcan0 itself (no forwarder):
#    the cost of the measuring tool and of the kernel (or UML) alone;
# 2. can-gw vcan0 -> vcan1, classic CAN, 8 bytes;
# 3. scripts/uml/canrelay.c (a plain read/write relay in user space, built
#    here with gcc) vcan0 -> vcan1, classic CAN, 8 bytes;
# 4. can-gw vcan0 -> vcan1, CAN FD, 64 bytes (both interfaces at mtu 72);
# 5. the relay, CAN FD, 64 bytes.
# Each: latency over 10,000 frames (1,000 with --quick) and the highest
# loss-free rate. Later measurements of bulkhead's daemon use canlat the same
# way, in the same run, so that ratios compare like with like.
# Prints the reports as one JSON object {name: report} on stdout (or into
# --json FILE; mind that inside User-Mode Linux /tmp is the guest's own), and
# a summary on stderr.
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

relay_pid=
relay=
if command -v gcc >/dev/null; then
    gcc -O2 -Wall -Wextra -Werror -o "$scratch/canrelay" "$here/canrelay.c"
    relay=$scratch/canrelay
else
    echo "measure-cangw: no gcc: the user-space relay is not measured" >&2
fi
start_relay() {
    "$relay" vcan0 vcan1 >"$scratch/relay.out" 2>"$scratch/relay.err" &
    relay_pid=$!
    for _ in $(seq 100); do
        grep -q ready "$scratch/relay.out" 2>/dev/null && return 0
        kill -0 "$relay_pid" 2>/dev/null || break
        sleep 0.05
    done
    echo "measure-cangw: canrelay did not start: $(cat "$scratch/relay.err")" >&2
    exit 1
}
stop_relay() {
    kill -TERM "$relay_pid"
    wait "$relay_pid" || true
    relay_pid=
    sed 's/^/   /' "$scratch/relay.err" >&2
}
trap '[ -z "$relay_pid" ] || kill "$relay_pid" 2>/dev/null; cangw -F 2>/dev/null || true; rm -rf -- "$scratch"' EXIT

names=()
cangw -F
canlat baseline-same-bus --tx vcan0 --rx vcan0
names+=(baseline-same-bus)

cangw -A -s vcan0 -d vcan1 -e
canlat cangw-classic --tx vcan0 --rx vcan1
names+=(cangw-classic)
cangw -L >&2 || true # cangw -L exits non-zero even when it works
cangw -F

if [ -n "$relay" ]; then
    start_relay
    canlat relay-classic --tx vcan0 --rx vcan1
    names+=(relay-classic)
    stop_relay
fi

for iface in vcan0 vcan1; do
    ip link set "$iface" mtu 72 2>/dev/null || { ip link set "$iface" down && ip link set "$iface" mtu 72 && ip link set "$iface" up; }
done
cangw -A -s vcan0 -d vcan1 -X -e
canlat cangw-fd --tx vcan0 --rx vcan1 --fd --length 64
names+=(cangw-fd)
cangw -F

if [ -n "$relay" ]; then
    start_relay
    canlat relay-fd --tx vcan0 --rx vcan1 --fd --length 64
    names+=(relay-fd)
    stop_relay
fi

"$python" - "$scratch" "${names[@]}" <<'PY' >"$scratch/all.json"
import json, sys
print(json.dumps({name: json.load(open(f"{sys.argv[1]}/{name}.json")) for name in sys.argv[2:]}, indent=1))
PY
if [ -n "$json_out" ]; then
    cp "$scratch/all.json" "$json_out"
else
    cat "$scratch/all.json"
fi
