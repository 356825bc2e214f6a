#!/usr/bin/env bash
# The simulator's attacks in real time, and its watch of the buses:
#
#   scripts/vcan-run --ifaces vcan0,vcan1,vcan2 -- tests/vcan/sim_attacks.sh
#
# 1. `bulkhead-sim run sim/scenarios/link-attacks.toml` sends the head unit's
#    requests and every attack on the link to `bulkhead-sim link-sink`, which
#    holds the keys as a gateway does, with the phone's key revoked. The sink
#    must accept the head unit's datagrams (requests and the spoofed frame: an
#    authentic datagram, refused later by the rules) and refuse each attack for
#    its own reason: the replayed datagram as `replayed`, the stolen phone's as
#    `revoked_key`, forged tags as `authentication_failed`, random bytes at
#    several checks. Nothing forwards between the buses, and the simulator's
#    watch must say so (exit 0, no crossing, no stranger).
# 2. The watch must see a gateway that lets attacks through: with the kernel's
#    can-gw forwarding the OBD connector (vcan2) to the drive bus and the body
#    bus to the drive bus, the run must exit 3 and name the rogue tester's
#    frames on the drive bus, while the body's genuine frames crossing are no
#    failure.
# Binaries: $BULKHEAD_BIN_DIR (default target/debug of the project).
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
bin=${BULKHEAD_BIN_DIR:-$root/target/debug}
checks=0
fail() {
    echo "sim_attacks: FAIL: $*" >&2
    exit 1
}
pass() {
    checks=$((checks + 1))
    echo "sim_attacks: ok: $*"
}

scratch=$(mktemp -d "${TMPDIR:-/tmp}/sim-attacks.XXXXXX") || fail "cannot create a scratch directory"
cleanup() {
    command -v cangw >/dev/null && cangw -F 2>/dev/null
    rm -rf -- "$scratch"
}
trap cleanup EXIT

python=$(command -v python3) || fail "python3 not found (reads the JSON summaries)"
[ ! -x /usr/bin/python3 ] || python=/usr/bin/python3
for tool in "$bin/bulkhead-sim"; do
    [ -x "$tool" ] || fail "$tool is missing: build it first (cargo build -p bulkhead-sim)"
done
command -v cangw >/dev/null || fail "cangw not found: install can-utils"
# Newer kernels refuse to change a running vcan's MTU: take it down for that.
ip link set vcan0 mtu 72 2>/dev/null ||
    { ip link set vcan0 down && ip link set vcan0 mtu 72 && ip link set vcan0 up; } ||
    fail "cannot set vcan0's MTU to 72 (CAN FD)"
cd "$root" || fail "no project root"

keys=$scratch/keys
"$bin/bulkhead-sim" keys "$keys" 2>"$scratch/keys.err" || fail "keys: $(cat "$scratch/keys.err")"
phone=$(sed -n 's/^key-id = //p' "$keys/link-phone-app-in.key")
[ -n "$phone" ] || fail "no key id in $keys/link-phone-app-in.key"
printf 'bulkhead-revoked v1\n# the phone was stolen\n%s\n' "$phone" >"$scratch/revoked"

# --- 1. the link attacks against a receiver with the gateway's keys ------------------------
"$bin/bulkhead-sim" link-sink --listen 127.0.0.1:47812 --keys "$keys" --revoked "$scratch/revoked" \
    --stop-file "$scratch/sink.stop" --limit 60 >"$scratch/sink.json" 2>"$scratch/sink.err" &
sink_pid=$!
"$bin/bulkhead-sim" run sim/scenarios/link-attacks.toml --keys "$keys" \
    --can drive=vcan0 --can body=vcan1 --can diag=vcan2 --link infotainment=127.0.0.1:47812 \
    --observe --summary "$scratch/summary.json" -q >"$scratch/run.out" 2>"$scratch/run.err"
status=$?
touch "$scratch/sink.stop" # everything is sent: the sink reads what is queued and stops
wait "$sink_pid" || fail "link-sink failed: $(cat "$scratch/sink.err")"
[ "$status" = 0 ] || fail "bulkhead-sim run exited $status without a gateway: $(cat "$scratch/run.err") $(cat "$scratch/run.out")"
grep -q '^OK: no attack frame crossed the gateway' "$scratch/run.out" || fail "unclean watch: $(cat "$scratch/run.out")"
pass "link attacks sent; with nothing forwarding, the watch saw no crossing and no stranger"

"$python" - "$scratch/summary.json" "$scratch/sink.json" >"$scratch/judge.out" 2>&1 <<'EOF'
import json, sys
summary = json.load(open(sys.argv[1]))
sink = json.load(open(sys.argv[2]))
sent = {l["label"]: sum(l["sent"].values()) for l in summary["labels"]}
def need(cond, what):
    if not cond:
        print(f"{what}; sent {sent}; the sink got {sink}")
        sys.exit(1)
link = sent["request"] + sent["spoof"] + sum(sent[k] for k in ("link-replay", "forged-mac", "revoked-key", "link-fuzz", "link-flood"))
need(sink["datagrams"] == link, f"the sink received {sink['datagrams']} datagrams of {link} sent")
need(sink["accepted"] == {"head-unit": sent["request"] + sent["spoof"]}, "only the head unit's authentic datagrams are accepted")
d = sink["dropped"]
need(d.get("replayed") == sent["link-replay"] == 1, "the replayed datagram is refused as replayed")
need(d.get("revoked_key") == sent["revoked-key"] == 1, "the stolen phone's datagram is refused as revoked_key")
need(d.get("authentication_failed", 0) >= sent["forged-mac"] + sent["link-flood"], "forged tags fail authentication")
need(sum(d.values()) + sum(sink["accepted"].values()) == sink["datagrams"], "every datagram is counted once")
fuzz_reasons = set(d) - {"replayed", "revoked_key"}
need(len(fuzz_reasons) >= 4, f"random bytes reach several checks: {sorted(fuzz_reasons)}")
print(f"{link} datagrams: {sink['accepted']['head-unit']} accepted, refused: " + ", ".join(f"{k} {v}" for k, v in sorted(d.items())))
EOF
[ $? = 0 ] || fail "$(cat "$scratch/judge.out")"
pass "the link receiver: $(cat "$scratch/judge.out")"

# --- 2. a gateway that lets an attack through is caught ------------------------------------
cangw -A -s vcan2 -d vcan0 -e || fail "cangw vcan2 -> vcan0"
cangw -A -s vcan1 -d vcan0 -e || fail "cangw vcan1 -> vcan0"
"$bin/bulkhead-sim" run sim/scenarios/link-attacks.toml --keys "$keys" \
    --can drive=vcan0 --can body=vcan1 --can diag=vcan2 --observe --summary "$scratch/leaky.json" -q \
    >"$scratch/leaky.out" 2>"$scratch/leaky.err"
status=$?
[ "$status" = 3 ] || fail "with can-gw letting the rogue tester through, the run exited $status (expected 3): $(cat "$scratch/leaky.out") $(cat "$scratch/leaky.err")"
grep -q '!!! 4 `rogue-ecu` attack frame(s) crossed the gateway onto the drive bus' "$scratch/leaky.out" ||
    fail "the failure does not name the rogue tester's 4 frames on the drive bus: $(cat "$scratch/leaky.out")"
"$python" - "$scratch/leaky.json" >"$scratch/leaky.judge" 2>&1 <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
labels = {l["label"]: l for l in s["labels"]}
genuine_body = labels["genuine"]["sent"].get("body", 0)
crossed = labels["genuine"]["crossed"].get("drive", 0)
if not (genuine_body > 0 and crossed == genuine_body):
    print(f"the body's {genuine_body} genuine frames should all be seen crossing onto drive, saw {crossed}")
    sys.exit(1)
if len(s["failures"]) != 1 or any(b["unattributed"] for b in s["observed"]["buses"]):
    print(f"exactly one failure and no stranger expected: {s['failures']}")
    sys.exit(1)
print(f"{crossed} genuine body frames seen crossing onto drive, attributed and not a failure")
EOF
[ $? = 0 ] || fail "$(cat "$scratch/leaky.judge")"
pass "can-gw letting attacks through: exit 3, the 4 rogue-ecu frames named on the drive bus; $(cat "$scratch/leaky.judge")"

echo "sim_attacks: all $checks checks passed"
