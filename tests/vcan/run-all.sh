#!/usr/bin/env bash
# The checks of scripts/vcan-run, from the host: the smoke test, the check
# of scripts/uml/canlat.py, the live daemon's end-to-end tests (daemon_*.sh)
# and the simulator's live mode (sim_*.sh) inside a vcan environment, exit
# statuses, stdout and stderr, environment and working
# directory, timeouts, a guest that dies or cannot be prepared, the native mode (inside User-Mode
# Linux, whose kernel has vcan), usage errors; then that nothing was left
# behind (work directories, processes).
#
#   tests/vcan/run-all.sh        (from any directory)
#
# The guests run in parallel, the simulator's two real-time ones after the
# others: about 45 s on two cores. Prints one line per
# check and a summary line "vcan: N passed, M failed"; exits 1 if any failed.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
vcan_run=$root/scripts/vcan-run
cd "$root" || exit 1

# Every vcan-run below keeps its work directory in here, so that leftovers show.
scratch=$(mktemp -d "${TMPDIR:-/tmp}/vcan-tests.XXXXXX") || {
    echo "run-all: cannot create a scratch directory" >&2
    exit 1
}
export TMPDIR=$scratch/tmp
mkdir "$TMPDIR"
trap 'rm -rf -- "$scratch"' EXIT

# Installs what vcan-run needs once, before the parallel runs race for apt's lock.
if ! "$vcan_run" --uml --install >"$scratch/install.log" 2>&1; then
    echo "run-all: scripts/vcan-run --uml --install failed; nothing else can work:" >&2
    sed 's/^/  | /' "$scratch/install.log" >&2
    echo "vcan: 0 passed, 1 failed"
    exit 1
fi

# The daemon's end-to-end tests run binaries built here, on the host.
build_log=$scratch/build.log
if ! { cargo build --quiet -p bulkhead --bin bulkhead --example daemon_peer &&
    cargo build --quiet -p bulkhead-sim --bin bulkhead-sim; } >"$build_log" 2>&1; then
    echo "run-all: building bulkhead, examples/daemon_peer and bulkhead-sim failed:" >&2
    sed 's/^/  | /' "$build_log" >&2
    echo "vcan: 0 passed, 1 failed"
    exit 1
fi

passed=0
failed=0
report() { # NAME STATUS(0 = pass) DETAIL
    if [ "$2" = 0 ]; then
        passed=$((passed + 1))
        echo "ok   - $1"
    else
        failed=$((failed + 1))
        echo "FAIL - $1: $3"
    fi
}

# start NAME [vcan-run options and command]: runs vcan-run in the background,
# keeping its stdout, stderr, status and duration in $scratch/NAME.*
pids=()
run_prefix=()
start() {
    local name=$1
    shift
    (
        begin=$(date +%s%N)
        "${run_prefix[@]}" "$vcan_run" "$@" >"$scratch/$name.out" 2>"$scratch/$name.err"
        echo $? >"$scratch/$name.status"
        echo $((($(date +%s%N) - begin) / 1000000)) >"$scratch/$name.ms"
    ) &
    pids+=($!)
}
status_of() { cat "$scratch/$1.status" 2>/dev/null || echo none; }
ms_of() { cat "$scratch/$1.ms" 2>/dev/null || echo '?'; }
stderr_of() { tr '\n' ' ' <"$scratch/$1.err" | cut -c1-400; }

# expect_status NAME STATUS [STDERR_SUBSTRING]
expect_status() {
    local name=$1 want=$2 needle=${3:-} got
    got=$(status_of "$name")
    if [ "$got" != "$want" ]; then
        report "$name" 1 "exit status $got, expected $want; stderr: $(stderr_of "$name")"
    elif [ -n "$needle" ] && ! grep -qF -- "$needle" "$scratch/$name.err"; then
        report "$name" 1 "stderr lacks '$needle': $(stderr_of "$name")"
    else
        report "$name ($(ms_of "$name") ms)" 0 ""
    fi
}

# --- start everything -----------------------------------------------------------------
start smoke -- tests/vcan/smoke.sh
start canlat -- tests/vcan/canlat.sh
start daemon-forward --ifaces vcan0,vcan1,vcan2 --timeout 120 -- tests/vcan/daemon_forward.sh
start daemon-faults --ifaces vcan0,vcan1,vcan2 --timeout 120 -- tests/vcan/daemon_faults.sh
start native-mode --uml -- "$vcan_run" --verbose -- tests/vcan/smoke.sh
start status-false -- false
# From another directory, with a variable that must get in and one that must not.
(
    cd tests/vcan || exit 1
    # shellcheck disable=SC2016 # literal: checks that quoting survives
    export BULKHEAD_PROBE='a b $c' VCAN_RUN_TEST_UNLISTED=leaked
    # shellcheck disable=SC2016 # expanded inside the guest
    start io -- bash -c 'seq 1 20000; echo "cwd=$PWD probe=$BULKHEAD_PROBE unlisted=${VCAN_RUN_TEST_UNLISTED:-unset}"
        echo "err-line" >&2; exit 7'
    wait
) &
pids+=($!)
# Only ever inside UML: natively, `halt -f` would halt the host.
start guest-death --uml -- halt -f
start timeout --timeout 2 -- sleep 60
# A guest that cannot be prepared: the second vcan0 cannot be created.
start setup-failure --ifaces vcan0,vcan0 -- true
start usage-no-command
start usage-bad-mem --mem 12X -- true
wait "${pids[@]}"
pids=()

# The simulator plays in real time (a bus silent for 100 ms is a failure for
# the rules): its two guests run after the others, one core each, and ahead
# of anything else on the machine for the CPU, as root.
[ "$EUID" != 0 ] || run_prefix=(nice -n -5)
start sim-live --ifaces vcan0,vcan1,vcan2 -- tests/vcan/sim_live.sh
start sim-attacks --ifaces vcan0,vcan1,vcan2 -- tests/vcan/sim_attacks.sh
run_prefix=()
wait "${pids[@]}"

# --- judge ------------------------------------------------------------------------------
if [ "$(status_of smoke)" = 0 ] && grep -q '^smoke: all [0-9]* checks passed$' "$scratch/smoke.out"; then
    report "smoke.sh inside vcan-run ($(ms_of smoke) ms)" 0 ""
else
    report "smoke.sh inside vcan-run" 1 "status $(status_of smoke): $(tail -n 3 "$scratch/smoke.out" | tr '\n' ' ') $(stderr_of smoke)"
fi

if [ "$(status_of native-mode)" = 0 ] && grep -q '^smoke: all [0-9]* checks passed$' "$scratch/native-mode.out" &&
    grep -q 'native: host kernel has vcan' "$scratch/native-mode.err"; then
    report "native mode (vcan-run inside UML runs smoke.sh in a network namespace) ($(ms_of native-mode) ms)" 0 ""
else
    report "native mode" 1 "status $(status_of native-mode): $(tail -n 3 "$scratch/native-mode.out" | tr '\n' ' ') $(stderr_of native-mode)"
fi

if [ "$(status_of canlat)" = 0 ] && [ "$(grep -c '^canlat-check: ok: ' "$scratch/canlat.out")" = 2 ]; then
    report "canlat.py through can-gw and with nothing forwarding ($(ms_of canlat) ms)" 0 ""
else
    report "canlat.py" 1 "status $(status_of canlat): $(tr '\n' ' ' <"$scratch/canlat.out") $(stderr_of canlat)"
fi

# The daemon's end-to-end scripts print "NAME: all N checks passed" when every check passed.
for daemon_test in daemon-forward daemon-faults; do
    if [ "$(status_of "$daemon_test")" = 0 ] && grep -q "^$daemon_test: all [0-9]* checks passed$" "$scratch/$daemon_test.out"; then
        report "$daemon_test: $(grep -c "^$daemon_test: ok: " "$scratch/$daemon_test.out") checks of the live daemon ($(ms_of "$daemon_test") ms)" 0 ""
    else
        report "$daemon_test" 1 "status $(status_of "$daemon_test"): $(grep -E ': (ok|FAIL): ' "$scratch/$daemon_test.out" "$scratch/$daemon_test.err" | tail -n 3 | tr '\n' ' ') $(stderr_of "$daemon_test")"
    fi
done
# judge_script NAME PREFIX: a test script that prints "PREFIX: all N checks passed".
judge_script() {
    if [ "$(status_of "$1")" = 0 ] && grep -q "^$2: all [0-9]* checks passed$" "$scratch/$1.out"; then
        report "$1: $(grep -c "^$2: ok: " "$scratch/$1.out") checks ($(ms_of "$1") ms)" 0 ""
    else
        report "$1" 1 "status $(status_of "$1"): $(tail -n 2 "$scratch/$1.out" | tr '\n' ' ') $(stderr_of "$1")"
    fi
}
judge_script sim-live sim_live
judge_script sim-attacks sim_attacks

expect_status status-false 1

want_out=$scratch/io.want
{
    seq 1 20000
    echo "cwd=$root/tests/vcan probe=a b \$c unlisted=unset"
} >"$want_out"
if [ "$(status_of io)" != 7 ]; then
    report "io" 1 "exit status $(status_of io), expected 7; stderr: $(stderr_of io)"
elif ! cmp -s "$want_out" "$scratch/io.out"; then
    report "io" 1 "stdout differs from the expected (seq 1 20000 and the cwd/env line): $(diff "$want_out" "$scratch/io.out" | head -n 5 | tr '\n' ' ')"
elif [ "$(cat "$scratch/io.err")" != "err-line" ]; then
    report "io" 1 "stderr is '$(stderr_of io)', expected 'err-line'"
else
    report "io: status 7, stdout and stderr apart and intact, cwd and environment passed ($(ms_of io) ms)" 0 ""
fi

expect_status guest-death 125 "stopped without reporting the command's status (reboot: System halted)"
expect_status timeout 124 "still running after 2s"
expect_status setup-failure 125 "the guest could not be prepared: creating the interfaces failed"
expect_status usage-no-command 125 "no command given"

# canlat.py's argument checks need no vcan: on the host, where Python starts fast.
canlat_refuses() { # DESCRIPTION ARGS...
    local what=$1 status
    shift
    python3 scripts/uml/canlat.py "$@" >/dev/null 2>"$scratch/canlat-args.err"
    status=$?
    if [ "$status" = 2 ]; then
        report "canlat.py refuses $what" 0 ""
    else
        report "canlat.py refuses $what" 1 "exit status $status, expected 2: $(tr '\n' ' ' <"$scratch/canlat-args.err")"
    fi
}
canlat_refuses "--length 3 (the sequence number needs 4 bytes)" latency --length 3
canlat_refuses "--fd --length 9 (not a CAN FD length)" latency --fd --length 9
canlat_refuses "--id 20000000 (beyond 29 bits)" latency --id 20000000
expect_status usage-bad-mem 125 "--mem '12X' is not a size"

# --- nothing left behind --------------------------------------------------------------------
left_files=$(find "$TMPDIR" -mindepth 1 -maxdepth 1 | head -n 5)
report "no work directory left behind" "$([ -z "$left_files" ] && echo 0 || echo 1)" "$left_files"
left_procs=$(pgrep -af -- "$scratch" | head -n 5)
report "no process left behind" "$([ -z "$left_procs" ] && echo 0 || echo 1)" "$left_procs"

echo "vcan: $passed passed, $failed failed"
[ "$failed" = 0 ]
