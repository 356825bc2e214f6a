#!/usr/bin/env python3
"""canlat: latency and loss-free rate of whatever forwards CAN frames from one
SocketCAN interface to another (the kernel's can-gw, bulkhead's daemon, a relay).

It sends frames on --tx and receives them on --rx. Each frame carries a
sequence number in its first four data bytes (little endian), so stale,
duplicated or reordered frames are recognised. Only frames with --id are
received (a kernel filter), so other traffic on the buses does not disturb it.

  latency  one frame at a time: send, wait for it on --rx, next. Reports
           * round trip: user space send() to recv() on the same clock,
             what an application sees (Python and syscall cost included);
           * bus to bus: kernel receive timestamps of the frame on --tx (as
             every socket there sees it) and on --rx: the forwarder's own
             delay, without this program's overhead.
  rate     frames evenly spaced at a target rate, counted by a second
           process with the default socket buffer; first as fast as possible,
           then a bisection for the highest rate at which none is lost.

Standard library only, Linux only (AF_CAN). Use inside scripts/vcan-run, e.g.
  cangw -A -s vcan0 -d vcan1 -e
  scripts/uml/canlat.py --tx vcan0 --rx vcan1 all --json
Exit status: 0; 1 when no frame came through at all (nothing forwards) or on
a socket error; 2 on bad arguments.
"""

import argparse
import json
import os
import socket
import struct
import sys
import time

CAN_EFF_FLAG = 0x80000000
CAN_EFF_MASK = 0x1FFFFFFF
CAN_SFF_MASK = 0x7FF
CAN_RTR_FLAG = 0x40000000
CANFD_BRS = 0x01
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
CLASSIC_FORMAT = "=IB3x8s"  # struct can_frame
FD_FORMAT = "=IBB2x64s"  # struct canfd_frame
FD_LENGTHS = (0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 32, 48, 64)


class FrameCodec:
    """Packs and unpacks frames of one ID, kind and length with a sequence number."""

    def __init__(self, can_id, fd, length, checksum="none"):
        self.fd = fd
        self.checksum = checksum
        self.length = length
        self.wire_id = can_id | CAN_EFF_FLAG if can_id > CAN_SFF_MASK else can_id
        self.format = FD_FORMAT if fd else CLASSIC_FORMAT
        self.size = struct.calcsize(self.format)
        self.padding = bytes(range(4, length)) if length > 4 else b""

    def pack(self, seq):
        data = struct.pack("<I", seq & 0xFFFFFFFF) + self.padding
        if self.checksum == "xor8":
            # The last byte is the XOR of the others (a checksum a rule can check).
            xor = 0
            for byte in data[:-1]:
                xor ^= byte
            data = data[:-1] + bytes((xor,))
        if self.fd:
            return struct.pack(self.format, self.wire_id, self.length, CANFD_BRS, data)
        return struct.pack(self.format, self.wire_id, self.length, data)

    def sequence(self, raw):
        """The sequence number of a received frame, or None if it is not ours."""
        if len(raw) < struct.calcsize(CLASSIC_FORMAT):
            return None
        can_id, length = struct.unpack_from("=IB", raw)
        if can_id != self.wire_id or length < 4:
            return None
        return struct.unpack_from("<I", raw, 8)[0]


def open_socket(iface, codec, timestamps=False):
    """A raw CAN socket on iface that receives only the codec's ID."""
    sock = socket.socket(socket.AF_CAN, socket.SOCK_RAW, socket.CAN_RAW)
    if codec.fd:
        sock.setsockopt(socket.SOL_CAN_RAW, socket.CAN_RAW_FD_FRAMES, 1)
    # Data frames of exactly this ID and format. (CAN_ERR_FLAG must stay out of
    # the mask: af_can would file the filter under error frames.)
    id_mask = CAN_EFF_MASK if codec.wire_id & CAN_EFF_FLAG else CAN_SFF_MASK
    mask = id_mask | CAN_EFF_FLAG | CAN_RTR_FLAG
    sock.setsockopt(socket.SOL_CAN_RAW, socket.CAN_RAW_FILTER, struct.pack("=II", codec.wire_id, mask))
    if timestamps:
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    try:
        sock.bind((iface,))
    except OSError as error:
        sock.close()
        raise SystemExit(f"canlat: cannot bind to {iface}: {error}") from None
    return sock


def set_receive_timeout(sock, milliseconds):
    """A kernel receive timeout (SO_RCVTIMEO): recv() then costs one system
    call, where select() + recv() or Python's own timeouts cost two. Under
    User-Mode Linux each one costs over 10 us."""
    seconds, ms = divmod(milliseconds, 1000)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("=qq", seconds, ms * 1000))


def receive_stamped(sock, size):
    """One frame and its kernel receive time in ns (None if the kernel gave none)."""
    raw, ancillary, _flags, _addr = sock.recvmsg(size, socket.CMSG_SPACE(16))
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(data) >= 16:
            seconds, nanoseconds = struct.unpack_from("=qq", data)
            return raw, seconds * 1_000_000_000 + nanoseconds
    return raw, None


def percentile(sorted_values, fraction):
    if not sorted_values:
        return None
    index = min(len(sorted_values) - 1, max(0, round(fraction * (len(sorted_values) - 1))))
    return sorted_values[index]


def summarize_us(values_ns):
    values = sorted(values_ns)
    if not values:
        return None
    pick = {"min": 0.0, "median": 0.5, "p90": 0.9, "p99": 0.99, "p999": 0.999, "max": 1.0}
    summary = {name: round(percentile(values, q) / 1000.0, 1) for name, q in pick.items()}
    summary["mean"] = round(sum(values) / len(values) / 1000.0, 1)
    return summary


def measure_latency(args, codec):
    tx = open_socket(args.tx, codec)
    rx = open_socket(args.rx, codec, timestamps=True)
    set_receive_timeout(rx, args.timeout_ms)
    # Every socket on --tx sees the frames sent there: this one, with kernel
    # timestamps, gives the time each frame entered the --tx bus.
    monitor = open_socket(args.tx, codec, timestamps=True)
    set_receive_timeout(monitor, args.timeout_ms)
    round_trips, bus_to_bus = [], []
    lost = stale = 0
    answered = False
    clock = time.perf_counter_ns
    for seq in range(args.warmup + args.count):
        frame = codec.pack(seq)
        wanted = seq & 0xFFFFFFFF
        start = clock()
        tx.send(frame)
        deadline = start + args.timeout_ms * 1_000_000
        got = None
        while True:
            try:
                raw, rx_stamp = receive_stamped(rx, codec.size)
            except BlockingIOError:  # SO_RCVTIMEO expired
                break
            end = clock()
            if codec.sequence(raw) == wanted:
                got = (end - start, rx_stamp)
                break
            stale += 1
            if end > deadline:
                break
        # The monitor's copy of this frame (after any stale ones).
        tx_stamp = None
        while True:
            try:
                raw, stamp = receive_stamped(monitor, codec.size)
            except BlockingIOError:
                break
            if codec.sequence(raw) == wanted:
                tx_stamp = stamp
                break
        if got is None and not answered and seq + 1 >= args.give_up:
            lost += max(0, seq + 1 - args.warmup)
            break  # nothing forwards: do not wait out every frame's timeout
        answered = answered or got is not None
        if seq < args.warmup:
            continue
        if got is None:
            lost += 1
            continue
        round_trips.append(got[0])
        if got[1] is not None and tx_stamp is not None:
            bus_to_bus.append(got[1] - tx_stamp)
    for sock in (tx, rx, monitor):
        sock.close()
    return {
        "frames": args.count,
        "received": len(round_trips),
        "lost": lost,
        "stale": stale,
        "round_trip_us": summarize_us(round_trips),
        "bus_to_bus_us": summarize_us(bus_to_bus),
    }


def receiver(args, codec, ready_w, result_w, done_r):
    """Child process: counts our frames on --rx until the sender is done and --rx is quiet."""
    rx = open_socket(args.rx, codec)
    if args.rcvbuf:
        rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, args.rcvbuf)
    rcvbuf = rx.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
    set_receive_timeout(rx, args.quiet_ms)
    os.set_blocking(done_r, False)
    buffer = bytearray(codec.size)
    received = duplicates = reordered = 0
    highest = -1
    os.write(ready_w, b"r")
    while True:
        try:
            rx.recv_into(buffer)
        except BlockingIOError:  # quiet for --quiet-ms: stop if the sender is done
            try:
                if os.read(done_r, 1):
                    break
            except BlockingIOError:
                pass
            continue
        seq = codec.sequence(buffer)
        if seq is None:
            continue
        received += 1
        if seq == highest:
            duplicates += 1
        elif seq < highest:
            reordered += 1
        else:
            highest = seq
    os.write(result_w, json.dumps({"received": received, "duplicates": duplicates, "reordered": reordered,
                                   "rcvbuf": rcvbuf}).encode())


def rate_trial(args, codec, rate):
    """Sends args.rate_count frames at `rate` frames/s (None: as fast as possible)."""
    ready_r, ready_w = os.pipe()
    result_r, result_w = os.pipe()
    done_r, done_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            os.close(ready_r)
            os.close(result_r)
            os.close(done_w)
            receiver(args, codec, ready_w, result_w, done_r)
        except BaseException as error:  # report, never return into the parent's code
            print(f"canlat: receiver: {error}", file=sys.stderr)
            code = 1
        os._exit(code)
    os.close(ready_w)
    os.close(result_w)
    os.close(done_r)
    if os.read(ready_r, 1) != b"r":
        os.waitpid(pid, 0)
        raise SystemExit("canlat: the receiver process failed to start")
    tx = open_socket(args.tx, codec)
    frames = [codec.pack(seq) for seq in range(args.rate_count)]
    # Frames evenly spaced. Waits yield the CPU (sched_yield) instead of
    # sleeping: on one CPU, as under User-Mode Linux, that runs the receiver,
    # and sleeps there overshoot by 100-200 us. Long waits sleep first. A
    # sender that falls behind does not catch up with a burst: it reports the
    # lower rate it achieved.
    interval_ns = 0 if rate is None else 1e9 / rate
    send_errors = 0
    clock = time.perf_counter_ns
    start = clock()
    next_send = float(start)
    for frame in frames:
        if interval_ns:
            now = clock()
            if now < next_send:
                if next_send - now > 2_000_000:
                    time.sleep((next_send - now - 1_000_000) / 1e9)
                while clock() < next_send:
                    os.sched_yield()
            elif now > next_send + interval_ns:
                next_send = float(now)
            next_send += interval_ns
        while True:
            try:
                tx.send(frame)
                break
            except BlockingIOError:
                send_errors += 1
            except OSError as error:  # ENOBUFS: the interface's queue is full
                if error.errno != 105:
                    raise
                send_errors += 1
                time.sleep(0.0001)
    elapsed_ns = time.perf_counter_ns() - start
    tx.close()
    os.write(done_w, b"d")
    result = json.loads(os.read(result_r, 4096) or b"{}")
    os.waitpid(pid, 0)
    for fd in (ready_r, result_r, done_w):
        os.close(fd)
    if "received" not in result:
        raise SystemExit("canlat: the receiver process died")
    sent = len(frames)
    result.update({
        "target_fps": rate,
        "sent": sent,
        "achieved_fps": round(sent * 1e9 / elapsed_ns) if elapsed_ns else None,
        "lost": sent - result["received"],
        "send_retries": send_errors,
    })
    return result


def measure_rate(args, codec):
    trials = []
    blast = rate_trial(args, codec, None)
    trials.append(blast)
    if blast["received"] == 0:
        return {"blast": blast, "trials": trials, "loss_free_fps": None}
    if blast["lost"] == 0:
        # The sender, not the forwarder, is the limit.
        return {"blast": blast, "trials": trials, "loss_free_fps": blast["achieved_fps"], "sender_bound": True}
    low, high = 0, blast["achieved_fps"]
    best = None
    for _ in range(args.bisect_steps):
        target = (low + high) // 2
        if target < 1000:
            break
        trial = rate_trial(args, codec, target)
        trials.append(trial)
        if trial["lost"] == 0:
            low = target
            best = max(best or 0, trial["achieved_fps"])
        else:
            high = target
    return {"blast": blast, "trials": trials, "loss_free_fps": best, "sender_bound": False}


def fmt_us(summary):
    if not summary:
        return "n/a"
    return (f"min {summary['min']} median {summary['median']} p90 {summary['p90']} p99 {summary['p99']} "
            f"p99.9 {summary['p999']} max {summary['max']} us")


def print_text(report):
    setup = report["setup"]
    print(f"canlat: {setup['tx']} -> {setup['rx']}, id {setup['id']}, "
          f"{'CAN FD' if setup['fd'] else 'classic CAN'} {setup['length']} bytes, kernel {setup['kernel']}")
    latency = report.get("latency")
    if latency:
        print(f"latency: {latency['received']} of {latency['frames']} frames back, {latency['lost']} lost")
        print(f"  round trip (user space): {fmt_us(latency['round_trip_us'])}")
        print(f"  bus to bus (kernel timestamps): {fmt_us(latency['bus_to_bus_us'])}")
    rate = report.get("rate")
    if rate:
        blast = rate["blast"]
        print(f"rate: as fast as possible: {blast['sent']} frames at {blast['achieved_fps']} fps, "
              f"{blast['received']} received, {blast['lost']} lost (receive buffer {blast['rcvbuf']} bytes)")
        for trial in rate["trials"][1:]:
            print(f"  at {trial['target_fps']} fps (achieved {trial['achieved_fps']}): {trial['lost']} lost")
        if rate["loss_free_fps"] is None:
            print("  highest loss-free rate: none found")
        else:
            bound = " (the sender's limit)" if rate.get("sender_bound") else ""
            print(f"  highest loss-free rate: {rate['loss_free_fps']} fps{bound}")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=("latency", "rate", "all"))
    parser.add_argument("--tx", default="vcan0", help="interface to send on (default vcan0)")
    parser.add_argument("--rx", default="vcan1", help="interface to receive on (default vcan1)")
    parser.add_argument("--id", default="0x123", type=lambda s: int(s, 16),
                        help="CAN ID in hex; above 7FF it is sent as an extended ID (default 0x123)")
    parser.add_argument("--fd", action="store_true", help="send CAN FD frames (the interfaces need mtu 72)")
    parser.add_argument("--length", type=int, default=8, help="data bytes, at least 4 (default 8)")
    parser.add_argument("--count", type=int, default=10000, help="latency: frames measured (default 10000)")
    parser.add_argument("--warmup", type=int, default=100, help="latency: frames sent first, not measured")
    parser.add_argument("--timeout-ms", type=int, default=100, help="latency: a frame not back by then is lost")
    parser.add_argument("--give-up", type=int, default=20,
                        help="latency: stop when the first this many frames (warm-up included) are all lost (default 20)")
    parser.add_argument("--rate-count", type=int, default=10000, help="rate: frames per trial (default 10000)")
    parser.add_argument("--bisect-steps", type=int, default=7, help="rate: bisection steps (default 7)")
    parser.add_argument("--quiet-ms", type=int, default=300,
                        help="rate: the receiver stops when --rx is quiet this long after the sender is done")
    parser.add_argument("--rcvbuf", type=int, default=0, help="rate: receive buffer in bytes (default: the kernel's)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    parser.add_argument("--checksum", choices=("none", "xor8"), default="none",
                        help="xor8: the last data byte is the XOR of the others (for forwarders that check it)")
    args = parser.parse_args(argv)
    if args.id > CAN_EFF_MASK or args.id < 0:
        parser.error(f"--id {args.id:#x} is not a CAN ID")
    if args.fd and args.length not in FD_LENGTHS or not args.fd and not 0 <= args.length <= 8:
        parser.error(f"--length {args.length} is not a valid {'CAN FD' if args.fd else 'classic CAN'} length")
    if args.length < 4:
        parser.error("--length must be at least 4: the sequence number takes 4 bytes")
    if args.checksum != "none" and args.length < 5:
        parser.error("--checksum needs --length 5 or more: the sequence number takes 4 bytes, the checksum one")
    for name in ("count", "rate_count", "timeout_ms", "quiet_ms"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be positive")
    return args


def main(argv):
    args = parse_args(argv)
    codec = FrameCodec(args.id, args.fd, args.length, args.checksum)
    report = {"setup": {"tx": args.tx, "rx": args.rx, "id": f"{args.id:#x}", "fd": args.fd,
                        "length": args.length, "checksum": args.checksum, "kernel": os.uname().release}}
    try:
        if args.mode in ("latency", "all"):
            report["latency"] = measure_latency(args, codec)
        if args.mode in ("rate", "all"):
            report["rate"] = measure_rate(args, codec)
    except OSError as error:
        print(f"canlat: {error}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        print_text(report)
    nothing = (report.get("latency", {}).get("received") == 0 or
               report.get("rate", {}).get("blast", {}).get("received") == 0)
    if nothing:
        print(f"canlat: no frame came back on {args.rx}: is anything forwarding from {args.tx}?", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
