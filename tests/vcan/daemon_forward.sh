#!/usr/bin/env bash
# The live daemon on vcan with the reference rules and real can-utils:
#   - a head-unit request over the link (sealed with its key) is forwarded to the
#     body bus, re-signed with SecOC; requests the rules refuse are not;
#   - a valid VCU_Speed on vcan0 (counter and checksum right) reaches vcan1 unchanged
#     and reaches the head unit as sealed telemetry;
#   - candump on vcan0 shows no frame that came from a hostile port;
#   - a flood on the diag port drives the gateway into degraded mode, and
#     essential drive traffic keeps crossing then.
#
#   scripts/vcan-run --ifaces vcan0,vcan1,vcan2 -- tests/vcan/daemon_forward.sh
set -uo pipefail
name=daemon-forward
# shellcheck source=tests/vcan/daemon_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/daemon_lib.sh"

start_daemon
[ "$(json_field mode)" = normal ] || fail "mode after start: $(json_field mode)"
pass "daemon started with the reference rules, mode normal"

capture vcan0 "$scratch/vcan0.log"
capture vcan1 "$scratch/vcan1.log"

# --- hostile requests over the link ----------------------------------------------------------
lock=$("$peer" frame --message BCM_LockCmd --port infotainment --counter 1 --signal LockRequest=1) || fail "frame BCM_LockCmd"
trunk=$("$peer" frame --message BCM_TrunkCmd --port infotainment --counter 1 --signal TrunkRequest=1) || fail "frame BCM_TrunkCmd"
torque=$("$peer" frame --message DI_TorqueCmd --port infotainment --counter 1) || fail "frame DI_TorqueCmd"
"$peer" send --keys "$scratch/keys" --device head-unit --to "$link" --pn 1 --frame "$lock" || fail "send lock"
wait_until "lock request forwarded" grep -q ' vcan1 310#' "$scratch/vcan1.log"
got=$(grep ' vcan1 310#' "$scratch/vcan1.log" | head -n 1 | awk '{print $3}')
[ "${got:0:12}" = "${lock:0:12}" ] || fail "BCM_LockCmd on vcan1 is $got; its first 4 bytes should be those sent (${lock:0:12})"
[ "$got" != "$lock" ] || fail "BCM_LockCmd reached vcan1 without the gateway's SecOC authenticator"
pass "head-unit lock request ($lock) forwarded to vcan1, re-signed by the gateway ($got)"

# The phone app may not open the trunk; nobody on the link may command torque.
"$peer" send --keys "$scratch/keys" --device phone-app --to "$link" --pn 1 --frame "$trunk" || fail "send trunk"
"$peer" send --keys "$scratch/keys" --device head-unit --to "$link" --pn 2 --frame "$torque" || fail "send torque"
wait_until "refusals counted" bash -c "'$bin' status --json --socket '$scratch/run/bulkhead.sock' | grep -q '\"device-not-authorized\":1'"
pause 0.2
if grep -q ' vcan1 312#' "$scratch/vcan1.log"; then fail "a trunk request of the phone app reached vcan1"; fi
pass "phone-app trunk request refused (device-not-authorized), not on vcan1"

# --- a diag flood: degraded ------------------------------------------------------------------------
cangen vcan2 -g 0 -I 7E0 -L 8 -n 400 -D i || fail "cangen on vcan2"
wait_until "degraded after the diag flood" bash -c "'$bin' status --json --socket '$scratch/run/bulkhead.sock' | grep -q '\"mode\":\"degraded\"'"
[ "$(json_field mode_cause)" = "trigger diag-flood" ] || fail "degraded, but the cause is $(json_field mode_cause)"
pass "a flood of 400 UDS requests on vcan2 drove the gateway to degraded (trigger diag-flood)"
grep -q ' diag 7E0#' "$scratch/ingress.log" || fail "the ingress capture has no diag frame"
pass "flood frames recorded in the ingress capture (candump format, bus = port name)"

# --- essential drive traffic and telemetry, in degraded mode -----------------------------------------------------
"$peer" send --keys "$scratch/keys" --device head-unit --to "$link" --pn 3 --frame "$lock" --listen-ms 1500 \
    >"$scratch/telemetry.out" 2>&1 &
listener=$!
pause 0.2
sent=()
for counter in 1 2 3 4 5; do
    speed=$("$peer" frame --message VCU_Speed --counter "$counter" --signal "VehicleSpeed=4$counter") || fail "frame VCU_Speed"
    cansend vcan0 "$speed" || fail "cansend vcan0 $speed"
    sent+=("$speed")
    pause 0.12
done
wait "$listener"
for speed in "${sent[@]}"; do
    grep -q " vcan1 $speed\$" "$scratch/vcan1.log" || fail "VCU_Speed $speed sent on vcan0 did not reach vcan1 unchanged: $(grep -c . "$scratch/vcan1.log") frames there"
done
pass "5 VCU_Speed frames (counter and checksum valid) crossed vcan0 -> vcan1 unchanged in degraded mode"
grep -q "^rx ${sent[0]:0:4}" "$scratch/telemetry.out" || fail "no sealed VCU_Speed telemetry reached the head unit: $(head -c 300 "$scratch/telemetry.out")"
pass "VCU_Speed reached the head unit as telemetry sealed with its gateway-to-device key ($(grep -c '^rx 110#' "$scratch/telemetry.out") datagrams)"

# --- nothing hostile on the drive bus -------------------------------------------------------------
pause 0.1
hostile=$(awk '{print $3}' "$scratch/vcan0.log" | cut -d'#' -f1 | sort -u | grep -v -x -e 110 -e 3F0 || true)
[ -z "$hostile" ] || fail "ids other than VCU_Speed (sent by the test) and GW_Status (the gateway's) on vcan0: $hostile"
grep -q ' vcan0 3F0#' "$scratch/vcan0.log" || fail "no GW_Status frame from the gateway on vcan0"
pass "candump on vcan0: only the test's VCU_Speed and the gateway's GW_Status, no hostile frame"

kill "$daemon_pid"
wait "$daemon_pid" 2>/dev/null
daemon_pid=
echo "$name: all $checks checks passed"
