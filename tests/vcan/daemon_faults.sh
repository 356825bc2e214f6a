#!/usr/bin/env bash
# The live daemon when things go wrong, on vcan with the reference rules in a
# signed bundle (require_signature = true):
#   - kill -9: nothing crosses while it is down; after a restart an old link
#     datagram and an old SecOC frame replayed are refused (freshness persisted);
#   - `ip link set vcan1 down` / `up`: a link-down fault, then traffic resumes;
#   - a bad bundle on reload (`bulkhead status --reload`, SIGHUP) is refused and
#     the old rules keep working.
#
#   scripts/vcan-run --ifaces vcan0,vcan1,vcan2 -- tests/vcan/daemon_faults.sh
set -uo pipefail
name=daemon-faults
# shellcheck source=tests/vcan/daemon_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/daemon_lib.sh"

"$bin" sign --key "$scratch/operator.key" --root "$root" -o "$scratch/rules.bundle" "$root/rules/vehicle.toml" \
    >/dev/null 2>&1 || fail "bulkhead sign failed"
write_config "bundle = \"rules.bundle\"
require_signature = true"
start_daemon
pass "daemon started from a signed bundle"

vcan1_log=$scratch/vcan1.log
capture vcan1 "$vcan1_log"
counter=0
# next_speed: the next VCU_Speed frame (alive counter advanced) in $speed.
next_speed() {
    counter=$((counter + 1))
    speed=$("$peer" frame --message VCU_Speed --counter "$counter" --signal "VehicleSpeed=$((counter % 100))") ||
        fail "frame VCU_Speed"
}
# crosses FRAME: cansend on vcan0, true when it shows up on vcan1 within 2 s.
crosses() {
    cansend vcan0 "$1" || fail "cansend vcan0 $1"
    local i
    for i in $(seq 40); do
        grep -q " vcan1 $1\$" "$vcan1_log" && return 0
        pause 0.05
    done
    return 1
}
next_speed
crosses "$speed" || fail "VCU_Speed $speed did not cross with the daemon running"
pass "VCU_Speed crosses vcan0 -> vcan1"

# --- freshness before the crash ------------------------------------------------------------------
steering1=$("$peer" frame --message DAS_SteeringCmd --counter 1 --keys "$scratch/keys" --freshness 0) || fail "frame DAS_SteeringCmd"
steering2=$("$peer" frame --message DAS_SteeringCmd --counter 2 --keys "$scratch/keys" --freshness 1) || fail "frame DAS_SteeringCmd"
cansend vcan0 "$steering1"
pause 0.1
cansend vcan0 "$steering2"
wait_until "a SecOC-verified DAS_SteeringCmd accepted" bash -c "[ \"\$('$bin' status --json --socket '$scratch/run/bulkhead.sock' | grep -o '{\"dropped\":[0-9]*,\"forwarded\":[0-9]*,\"name\":\"drive-steering-command\"}' | grep -o '\"forwarded\":[0-9]*' | cut -d: -f2)\" -ge 1 ]"
accepted_before=$(route_forwarded drive-steering-command)
climate=$("$peer" frame --message HVAC_Cmd --port infotainment --counter 1 --signal TargetTempDriver=21 --signal TargetTempPassenger=21) ||
    fail "frame HVAC_Cmd"
"$peer" send --keys "$scratch/keys" --device head-unit --to "$link" --pn 7 --frame "$climate" --save "$scratch/old.datagram" ||
    fail "send HVAC_Cmd"
wait_until "the climate request accepted" bash -c "'$bin' status --json --socket '$scratch/run/bulkhead.sock' | grep -q '\"accepted_datagrams\":1'"
pass "before the crash: SecOC DAS_SteeringCmd verified ($accepted_before) and a head-unit datagram accepted"

# --- kill -9 ---------------------------------------------------------------------------------------
kill -9 "$daemon_pid"
wait "$daemon_pid" 2>/dev/null
daemon_pid=
next_speed
if crosses "$speed"; then fail "VCU_Speed crossed while the daemon was dead"; fi
pass "kill -9: nothing crosses while the daemon is down"

start_daemon
next_speed
crosses "$speed" || fail "VCU_Speed did not cross after the restart"
pass "restarted: VCU_Speed crosses again"
cansend vcan0 "$steering2"
"$peer" resend --to "$link" "$scratch/old.datagram" || fail "resend"
wait_until "the replays refused" bash -c "'$bin' status --json --socket '$scratch/run/bulkhead.sock' | grep -q '\"secoc-freshness\":1'"
wait_until "the old datagram refused" bash -c "'$bin' status --json --socket '$scratch/run/bulkhead.sock' | grep -Eq '\"(too_old|replayed)\":1'"
[ "$(json_field accepted_datagrams)" = 0 ] || fail "the replayed datagram was accepted after the restart"
[ "$(route_forwarded drive-steering-command)" = 0 ] || fail "the replayed SecOC frame was accepted after the restart"
pass "after kill -9 and restart: the old SecOC frame (secoc-freshness) and the old datagram (link replay) are refused"

# --- an interface goes down and comes back ---------------------------------------------------------------------
ip link set vcan1 down || fail "ip link set vcan1 down"
next_speed
cansend vcan0 "$speed"
wait_until "body port down" bash -c "'$bin' status --json --socket '$scratch/run/bulkhead.sock' | grep -q '\"fault\":\"link-down\",\"port\":\"body\"'"
kill -0 "$daemon_pid" || fail "the daemon died when vcan1 went down"
pass "vcan1 down: a link-down fault on port body, the daemon keeps running"
ip link set vcan1 up || fail "ip link set vcan1 up"
wait_until "body port up again" bash -c "'$bin' status --json --socket '$scratch/run/bulkhead.sock' | grep -q '\"event\":\"port-up\"'"
# candump itself stopped when its interface went down.
vcan1_log=$scratch/vcan1-again.log
capture vcan1 "$vcan1_log"
next_speed
crosses "$speed" || fail "VCU_Speed did not cross after vcan1 came back"
pass "vcan1 up: the port reopened and VCU_Speed crosses again"

# --- a bad bundle on reload ---------------------------------------------------------------------------------------
cp "$scratch/rules.bundle" "$scratch/good.bundle"
size=$(stat -c %s "$scratch/rules.bundle")
printf 'X' | dd of="$scratch/rules.bundle" bs=1 seek=$((size / 2)) conv=notrunc status=none
if "$bin" status --reload --socket "$scratch/run/bulkhead.sock" >/dev/null 2>"$scratch/reload.err"; then
    fail "a tampered bundle was accepted on reload"
fi
grep -q "bundle" "$scratch/reload.err" || fail "the refusal does not name the bundle: $(cat "$scratch/reload.err")"
# An unsigned bundle is refused too (require_signature).
"$bin" keygen signing --secret "$scratch/stranger.key" --public "$scratch/stranger.pub" >/dev/null 2>&1
"$bin" sign --key "$scratch/stranger.key" --root "$root" -o "$scratch/rules.bundle" --overwrite "$root/rules/vehicle.toml" \
    >/dev/null 2>&1 || fail "sign with the stranger's key"
kill -HUP "$daemon_pid"
wait_until "two refused reloads" bash -c "'$bin' status --json --socket '$scratch/run/bulkhead.sock' | grep -q '\"refused\":2'"
next_speed
crosses "$speed" || fail "VCU_Speed did not cross after the refused reloads"
pass "a tampered bundle (status --reload) and one signed by an untrusted key (SIGHUP) are refused; the old rules keep forwarding"
cp "$scratch/good.bundle" "$scratch/rules.bundle"
"$bin" status --reload --socket "$scratch/run/bulkhead.sock" >/dev/null || fail "the good bundle was refused on reload"
pass "the good bundle reloads"

kill "$daemon_pid"
wait "$daemon_pid" 2>/dev/null
daemon_pid=
echo "$name: all $checks checks passed"
