#!/usr/bin/env bash
# Shared set-up of the daemon's vcan end-to-end tests (sourced by tests/vcan/daemon_*.sh):
# a scratch directory with a fresh simulation key set (bulkhead-sim keys) and a
# trusted bundle signing key, a configuration binding the reference rules'
# ports (drive=vcan0 CAN FD, body=vcan1, diag=vcan2, infotainment=UDP
# 127.0.0.1:47800), the daemon started and stopped, small assertions.
#
# Binaries: BULKHEAD_PROFILE=release|debug (default debug), built on the host
# by tests/vcan/run-all.sh (bulkhead, bulkhead-sim, examples/daemon_peer).

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
name=${name:-daemon}
profile=${BULKHEAD_PROFILE:-debug}
bin=$root/target/$profile/bulkhead
sim=$root/target/$profile/bulkhead-sim
peer=$root/target/$profile/examples/daemon_peer
link=127.0.0.1:47800
checks=0

fail() {
    echo "$name: FAIL: $*" >&2
    if [ -n "${scratch:-}" ] && [ -f "$scratch/daemon.log" ]; then
        echo "$name: daemon log (last 15 lines):" >&2
        tail -n 15 "$scratch/daemon.log" >&2
    fi
    exit 1
}
pass() {
    checks=$((checks + 1))
    echo "$name: ok: $*"
}

for b in "$bin" "$sim" "$peer"; do
    [ -x "$b" ] || fail "$b is missing: build it first (cargo build --bin bulkhead --example daemon_peer -p bulkhead-sim)"
done
scratch=$(mktemp -d "${TMPDIR:-/tmp}/vcan-$name.XXXXXX") || fail "cannot create a scratch directory"
daemon_pid=
bg_pids=()
cleanup() {
    [ -z "$daemon_pid" ] || kill -9 "$daemon_pid" 2>/dev/null
    for p in "${bg_pids[@]}"; do kill "$p" 2>/dev/null; done
    rm -rf -- "$scratch"
}
trap cleanup EXIT

mkfifo "$scratch/tick" || fail "cannot create a fifo"
exec 8<>"$scratch/tick"
pause() { read -r -t "$1" -u 8 || true; }

# CAN FD on the drive bus.
ip link set vcan0 mtu 72 2>/dev/null || { ip link set vcan0 down && ip link set vcan0 mtu 72 && ip link set vcan0 up; } ||
    fail "cannot set vcan0's MTU to 72"

"$sim" keys "$scratch/keys" >/dev/null 2>&1 || fail "bulkhead-sim keys failed"
"$bin" keygen signing --secret "$scratch/operator.key" --public "$scratch/keys/operator.pub" >/dev/null ||
    fail "keygen signing failed"

# write_config RULES_LINES: the configuration with the given [rules] body.
write_config() {
    cat >"$scratch/gateway.toml" <<CONFIG
[rules]
$1
[keys]
directory = "keys"
[state]
directory = "state"
[ports.drive]
interface = "vcan0"
[ports.body]
interface = "vcan1"
[ports.diag]
interface = "vcan2"
[ports.infotainment]
listen = "$link"
[management]
socket = "run/bulkhead.sock"
[record]
file = "ingress.log"
CONFIG
}
write_config "files = [\"$root/rules/vehicle.toml\"]"

status_json() { "$bin" status --json --socket "$scratch/run/bulkhead.sock" 2>/dev/null; }

# start_daemon [ARGS]: starts `bulkhead run` and waits until it answers.
start_daemon() {
    "$bin" run --config "$scratch/gateway.toml" "$@" >>"$scratch/daemon.log" 2>&1 &
    daemon_pid=$!
    local i
    for i in $(seq 100); do
        if status_json | grep -q '"ok":true'; then return 0; fi
        kill -0 "$daemon_pid" 2>/dev/null || fail "the daemon exited at start"
        pause 0.05
    done
    fail "the daemon did not answer on its management socket within 5 s"
}

# json_get FIELD-PATH (python-free): a jq-like look-up with the daemon_peer-free tools at hand.
# Uses grep on the compact JSON: enough for the scalar fields the tests read.
json_field() { # NAME: the first "NAME":value in the status
    status_json | grep -o "\"$1\":[^,}]*" | head -n 1 | cut -d: -f2- | tr -d '"'
}
route_forwarded() { # ROUTE
    status_json | grep -o "{\"dropped\":[0-9]*,\"forwarded\":[0-9]*,\"name\":\"$1\"}" | grep -o '"forwarded":[0-9]*' | cut -d: -f2
}

# wait_until DESCRIPTION COMMAND...: retries COMMAND for up to 5 s.
wait_until() {
    local what=$1 i
    shift
    for i in $(seq 100); do
        if "$@"; then return 0; fi
        pause 0.05
    done
    fail "$what: not within 5 s (status: $(status_json | cut -c1-600))"
}

# capture IFACE FILE: candump -L of IFACE into FILE in the background.
capture() {
    candump -L "$1" >"$2" 2>/dev/null &
    bg_pids+=($!)
    pause 0.1
}
