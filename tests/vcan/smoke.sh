#!/usr/bin/env bash
# Smoke test of a vcan environment: real SocketCAN, CAN FD, the kernel's
# can-gw and UDP on loopback, as bulkhead's end-to-end tests will use them.
#
#   scripts/vcan-run -- tests/vcan/smoke.sh
#
# Needs vcan0 and vcan1 (vcan-run's default) and can-utils. Prints one line per
# check; exits 1 with a precise message at the first failure. It changes the
# interfaces it uses (vcan0's MTU, can-gw rules): run it only in a throwaway
# environment such as the one vcan-run makes.
set -uo pipefail

checks=0
fail() {
    echo "smoke: FAIL: $*" >&2
    exit 1
}
pass() {
    checks=$((checks + 1))
    echo "smoke: ok: $*"
}

scratch=$(mktemp -d "${TMPDIR:-/tmp}/vcan-smoke.XXXXXX") || fail "cannot create a scratch directory"
dump_pid=
cleanup() {
    [ -z "$dump_pid" ] || kill "$dump_pid" 2>/dev/null
    command -v cangw >/dev/null && cangw -F 2>/dev/null
    rm -rf -- "$scratch"
}
trap cleanup EXIT

# A sleep without starting a process (each costs tens of ms under UML):
# wait on a fifo nobody writes to.
mkfifo "$scratch/tick" || fail "cannot create a fifo in $scratch"
exec 8<>"$scratch/tick"
pause() { read -r -t "$1" -u 8 || true; }

python=$(command -v python3) || fail "python3 not found (needed for the AF_CAN and UDP checks)"
# pyenv's shims start several processes per call: slow under User-Mode Linux.
[ ! -x /usr/bin/python3 ] || python=/usr/bin/python3

for tool in ip cansend candump cangw; do
    command -v "$tool" >/dev/null || fail "'$tool' not found in PATH ($PATH): install iproute2 and can-utils"
done
for iface in vcan0 vcan1; do
    ip -details link show dev "$iface" 2>/dev/null | grep -qw vcan ||
        fail "$iface is not a vcan interface here (interfaces: $(ip -brief link | awk '{ print $1 }' | tr '\n' ' '))"
    ip link show dev "$iface" | grep -q '[<,]UP[,>]' || fail "$iface is not up"
done
pass "vcan0 and vcan1 exist and are up (kernel $(uname -r))"

# expect_frame NAME IFACE PATTERN SEND_COMMAND...
# Starts candump on IFACE, sends with SEND_COMMAND until candump has seen a
# frame (candump may not be listening yet when the first one goes out), and
# checks that the frame, in candump's log format "(time) iface id#data",
# matches the extended regular expression PATTERN.
expect_frame() {
    local name=$1 iface=$2 pattern=$3
    shift 3
    local out=$scratch/$name.log
    candump -L -n 1 -T 3000 "$iface" >"$out" 2>"$out.err" &
    dump_pid=$!
    local tries=0
    while kill -0 "$dump_pid" 2>/dev/null && [ "$tries" -lt 30 ]; do
        "$@" 2>"$scratch/send.err" || fail "$name: '$*' failed: $(cat "$scratch/send.err")"
        tries=$((tries + 1))
        pause 0.05
    done
    wait "$dump_pid"
    local status=$?
    dump_pid=
    local got
    got=$(head -n 1 "$out")
    [ "$status" = 0 ] || fail "$name: candump on $iface failed (status $status): $(cat "$out.err")"
    [ -n "$got" ] || fail "$name: candump on $iface saw nothing within 3 s of '$*' (sent $tries times)"
    [[ $got =~ ^\([0-9]+\.[0-9]+\)\ $iface\ $pattern$ ]] ||
        fail "$name: candump on $iface saw '$got', expected '$iface $pattern'"
}

# --- classic CAN ----------------------------------------------------------------------
expect_frame classic vcan0 '123#DEADBEEF' cansend vcan0 123#DEADBEEF
pass "cansend vcan0 123#DEADBEEF seen by candump on vcan0"

expect_frame extended vcan0 '1ABCDEF0#0102' cansend vcan0 1ABCDEF0#0102
pass "extended id 1ABCDEF0 seen by candump on vcan0"

# --- CAN FD -----------------------------------------------------------------------------
if ! ip link set vcan0 mtu 72 2>/dev/null; then
    # Kernels that refuse to change the MTU of an interface that is up.
    { ip link set vcan0 down && ip link set vcan0 mtu 72 && ip link set vcan0 up; } ||
        fail "cannot set vcan0's MTU to 72 (CAN FD)"
fi
ip link show dev vcan0 | grep -q 'mtu 72' || fail "vcan0's MTU is not 72 after setting it"
fd_data=$(printf '%02X' $(seq 0 63))
# Flags: 1 = bit rate switch, as sent; kernels from 6.0 on may add 4 (FDF).
expect_frame fd vcan0 "123##[15]$fd_data" cansend vcan0 "123##1$fd_data"
pass "CAN FD frame with 64 bytes seen by candump on vcan0 (mtu 72)"

# --- the kernel gateway -------------------------------------------------------------------
cangw -F || fail "cangw -F (flush rules) failed: is can-gw loaded?"
cangw -A -s vcan0 -d vcan1 -e || fail "cangw -A -s vcan0 -d vcan1 -e failed"
cangw -A -s vcan0 -d vcan1 -X -e || fail "cangw -A -s vcan0 -d vcan1 -X -e (CAN FD rule) failed"
expect_frame gateway vcan1 '321#CAFE' cansend vcan0 321#CAFE
pass "can-gw forwarded 321#CAFE from vcan0 to vcan1"
expect_frame gateway-fd vcan1 "456##[15]$fd_data" cansend vcan0 "456##1$fd_data"
pass "can-gw forwarded a 64-byte CAN FD frame from vcan0 to vcan1"
cangw -F

# --- AF_CAN from Python and UDP on loopback ---------------------------------------------
# One Python process (each start costs ~0.4 s under User-Mode Linux): an AF_CAN
# round trip on vcan0 (the way scripts/uml/canlat.py measures), a UDP datagram
# over 127.0.0.1 (the gateway's Ethernet side), then a datagram from bash's
# /dev/udp as a second, independent sender.
ip link show dev lo | grep -q '[<,]UP[,>]' || fail "lo is not up"
"$python" -S - "$scratch/port" >"$scratch/python.out" 2>&1 <<'PY' &
import os, socket, struct, sys

fmt = "=IB3x8s"
rx = socket.socket(socket.AF_CAN, socket.SOCK_RAW, socket.CAN_RAW)
tx = socket.socket(socket.AF_CAN, socket.SOCK_RAW, socket.CAN_RAW)
rx.bind(("vcan0",))
tx.bind(("vcan0",))
rx.settimeout(3)
tx.send(struct.pack(fmt, 0x7AB, 3, b"\x01\x02\x03"))
can_id, dlc, data = struct.unpack(fmt, rx.recv(16))
if (can_id, dlc, data[:dlc]) != (0x7AB, 3, b"\x01\x02\x03"):
    sys.exit(f"AF_CAN: received id {can_id:#x} dlc {dlc} data {data[:dlc].hex()}, sent 7ab#010203")
print("af_can ok", flush=True)

udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.bind(("127.0.0.1", 0))
udp.settimeout(3)
port = udp.getsockname()[1]
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
    sender.sendto(b"from-python", ("127.0.0.1", port))
data, _ = udp.recvfrom(64)
if data != b"from-python":
    sys.exit(f"UDP: received {data!r}, sent b'from-python'")
print("udp ok", flush=True)

with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(port))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
try:
    data, _ = udp.recvfrom(64)
except socket.timeout:
    sys.exit("UDP: nothing from bash's /dev/udp within 3 s")
if data != b"from-bash\n":
    sys.exit(f"UDP: received {data!r} from bash, expected b'from-bash\\n'")
print("bash udp ok", flush=True)
PY
python_pid=$!
for _ in $(seq 100); do
    if [ -s "$scratch/port" ] || ! kill -0 "$python_pid" 2>/dev/null; then break; fi
    pause 0.05
done
if [ -s "$scratch/port" ]; then
    echo from-bash >"/dev/udp/127.0.0.1/$(cat "$scratch/port")" || fail "bash could not send to /dev/udp/127.0.0.1"
fi
wait "$python_pid" || fail "python3 check failed: $(tr '\n' ' ' <"$scratch/python.out")"
pass "python3 AF_CAN socket sent and received 7AB#010203 on vcan0"
pass "UDP over 127.0.0.1 (python3 to python3, bash /dev/udp to python3)"

echo "smoke: all $checks checks passed"
