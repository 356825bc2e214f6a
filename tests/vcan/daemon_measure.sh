#!/usr/bin/env bash
# Measures the live daemon against the kernel's can-gw, in one boot, with
# scripts/uml/canlat.py (BENCHMARKS.md, "Live gateway"):
#
#   scripts/vcan-run --timeout 1200 -- tests/vcan/daemon_measure.sh [--quick] > live.json
#
# 1. can-gw vcan0 -> vcan1 (`cangw -A -s vcan0 -d vcan1 -e`);
#    then scripts/uml/canrelay.c (a C read()/write() loop: any user-space
#    forwarder's floor under User-Mode Linux), when gcc is there;
# 2. `bulkhead run` (target/release, else target/debug) with
#    tests/vcan/daemon_bench/rules.toml: one route vcan0 -> vcan1 with an alive
#    counter, a checksum, signal ranges and allowed values, a rate limit and
#    ingress budgets; its resident memory (VmRSS and its peak, VmHWM) read after the
#    measurement; its drop counters afterwards.
# Both with the same frames: id 0x123, 8 bytes, sequence number, xor8 checksum.
# Latency over 10,000 frames (1,000 with --quick), then the highest loss-free rate.
# Prints {"cangw": report, "relay": report or null, "daemon": report, "daemon_memory": ..., "daemon_status": ...}
# on stdout and a summary on stderr.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
count=10000
rate_count=10000
[ "${1:-}" = --quick ] && count=1000 rate_count=3000
python=$(command -v python3)
[ ! -x /usr/bin/python3 ] || python=/usr/bin/python3
bin=$root/target/release/bulkhead
[ -x "$bin" ] || bin=$root/target/debug/bulkhead
scratch=$(mktemp -d "${TMPDIR:-/tmp}/daemon-measure.XXXXXX")
daemon_pid=
cleanup() {
    [ -z "$daemon_pid" ] || kill "$daemon_pid" 2>/dev/null || true
    cangw -F 2>/dev/null || true
    rm -rf -- "$scratch" /run/bulkhead-bench
}
trap cleanup EXIT

canlat() { # NAME
    echo "== $1" >&2
    "$python" "$root/scripts/uml/canlat.py" all --id 0x123 --length 8 --checksum xor8 \
        --count "$count" --rate-count "$rate_count" --json >"$scratch/$1.json"
    "$python" - "$scratch/$1.json" <<'PY' >&2
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
cangw -A -s vcan0 -d vcan1 -e
canlat cangw
cangw -F

# The floor of any user-space forwarder here: scripts/uml/canrelay.c, a plain read()/write() loop.
relay_json=null
if command -v gcc >/dev/null && gcc -O2 -o "$scratch/canrelay" "$root/scripts/uml/canrelay.c" 2>/dev/null; then
    "$scratch/canrelay" vcan0 vcan1 >"$scratch/relay.out" 2>/dev/null &
    relay_pid=$!
    for _ in $(seq 100); do grep -q ready "$scratch/relay.out" 2>/dev/null && break; sleep 0.05; done
    canlat relay
    kill "$relay_pid" 2>/dev/null || true
    wait "$relay_pid" 2>/dev/null || true
    relay_json=$scratch/relay.json
else
    echo "== relay: no gcc, not measured" >&2
fi

echo "== starting $bin run" >&2
mkdir -p /run/bulkhead-bench
"$bin" run --config "$root/tests/vcan/daemon_bench/gateway.toml" 2>"$scratch/daemon.log" &
daemon_pid=$!
for _ in $(seq 100); do
    "$bin" status --json --socket /run/bulkhead-bench/bulkhead.sock 2>/dev/null | grep -q '"ok":true' && break
    sleep 0.05
done
# Resident memory: the kernel's high-water mark (VmHWM) covers the peak, so
# it is read once at the end. (Sampling VmRSS during the run forked grep and
# sleep every 200 ms: under User-Mode Linux each fork and exec stalls the one
# CPU for milliseconds, which showed up as the daemon's p99 latency.)
canlat daemon
"$bin" status --json --socket /run/bulkhead-bench/bulkhead.sock >"$scratch/status.json"
grep -E '^(VmRSS|VmHWM):' "/proc/$daemon_pid/status" | tr -s ' ' | tr '\n' ' ' >"$scratch/memory.txt"

"$python" - "$scratch" "$relay_json" <<'PY'
import json, os, sys
d = sys.argv[1]
relay = json.load(open(sys.argv[2])) if sys.argv[2] != "null" else None
samples = []
for line in open(os.path.join(d, "memory.txt")):
    f = line.split()
    if "VmRSS:" in f and "VmHWM:" in f:
        samples.append((int(f[f.index("VmRSS:") + 1]), int(f[f.index("VmHWM:") + 1])))
status = json.load(open(os.path.join(d, "status.json")))
memory = {"samples": len(samples), "max_rss_kib": max(s[0] for s in samples) if samples else None,
          "hwm_kib": max(s[1] for s in samples) if samples else None}
drops = {k: v for k, v in status["counters"]["by_reason"].items() if v}
out = {"cangw": json.load(open(os.path.join(d, "cangw.json"))), "relay": relay,
       "daemon": json.load(open(os.path.join(d, "daemon.json"))),
       "daemon_memory": memory,
       "daemon_status": {"frames": status["counters"]["frames"], "forwarded": status["counters"]["forwarded"],
                         "drops": drops, "ports": [{k: p[k] for k in ("name", "received", "sent", "ingress_overflow",
                                                                         "egress_overflow", "write_errors")}
                                                   for p in status["ports"]]}}
print(json.dumps(out))
print(f"== daemon memory: VmRSS max {memory['max_rss_kib']} KiB, VmHWM {memory['hwm_kib']} KiB "
      f"({memory['samples']} samples); frames {status['counters']['frames']}, drops {drops}", file=sys.stderr)
PY
