#!/usr/bin/env python3
"""Attacks injected into a clean candump capture, and the score of a replay.

    attack-inject.py inject --seed 1 --rules learned.toml --dbc can0=pt.dbc \
        --known full.log --spoof can0:0x0AA --out-of-range can0:0x0B4:SPEED \
        clean.log attacked.log attacked.marks.tsv
    attack-inject.py score --marks attacked.marks.tsv --verdicts attacked.jsonl \
        [--clean-verdicts clean.jsonl] [--json score.json]

`inject` writes the capture with four classes of attack frames merged in by
time, and a sidecar listing every injected frame as `index<TAB>class` (the
index is the frame's position in the output, which is the `"i"` of
`bulkhead replay --verdicts`). Everything random comes from `--seed`, so the
same inputs give the same output byte for byte.

  flood        a flood of id 0x000 on the spoofed id's bus: 2000 frames, one
               every 0.5 ms, starting at 10% of the capture;
  unknown-id   500 frames of random ids that the `--known` capture never has
               on their bus (10% of them 29-bit), at random times on random
               buses, with random lengths and payloads;
  rate-spoof   for 3 s from 40% of the capture, nine copies of each genuine
               frame of the `--spoof` id, evenly spaced before the next
               genuine one: the id at ten times its rate;
  out-of-range for 6 s from 70% of the capture, after every second genuine
               frame of the `--out-of-range` id, a copy with the signal set
               far outside the range the rules allow (max + 2 x (max - min),
               within what its bits hold) half-way to the next genuine frame;
               when the rules check a checksum for the id, it is recomputed.

The signal layout is read from the DBC (`SG_` lines) and encoded here, not by
bulkhead, so the attacker is independent of the code under test. Only the
Python standard library is used (tomllib: Python 3.11+).

`score` reads the verdicts and the sidecar and prints, per attack class, the
share of injected frames dropped and the reasons, then the false alarms:
genuine frames dropped, by reason and id (all genuine frames, and those of
ids that were not attacked, since the engine drops every frame of an id it
suspects of injection, genuine or not, until the attack stops).
"""

import argparse
import collections
import json
import random
import re
import sys
import tomllib

CLASSES = ["flood", "unknown-id", "rate-spoof", "out-of-range"]


# ---------------------------------------------------------------- candump

LINE = re.compile(r"^\((\d+)\.(\d+)\)\s+(\S+)\s+([0-9A-Fa-f]+)#([0-9A-Fa-f]*)\s*$")


class Frame:
    __slots__ = ("ns", "text", "bus", "id", "ext", "data", "cls")

    def __init__(self, ns, bus, can_id, ext, data, text=None, cls=None):
        self.ns, self.bus, self.id, self.ext, self.data, self.text, self.cls = ns, bus, can_id, ext, data, text, cls

    def line(self):
        if self.text is not None:
            return self.text
        ident = f"{self.id:08X}" if self.ext else f"{self.id:03X}"
        return f"({self.ns // 1_000_000_000}.{self.ns % 1_000_000_000 // 1000:06d}) {self.bus} {ident}#{self.data.hex().upper()}"


def read_candump(path):
    frames = []
    with open(path, encoding="ascii") as f:
        for n, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            if not line.strip():
                continue
            m = LINE.match(line)
            if not m:
                sys.exit(f"{path}:{n}: not a candump -l data frame: {line!r}")
            secs, frac, bus, ident, data = m.groups()
            ns = int(secs) * 1_000_000_000 + int(frac.ljust(9, "0")[:9])
            frames.append(Frame(ns, bus, int(ident, 16), len(ident) > 3, bytes.fromhex(data), text=line))
    return frames


# ---------------------------------------------------------------- DBC signals

class Signal:
    def __init__(self, start, size, intel, signed, factor, offset):
        self.start, self.size, self.intel, self.signed = start, size, intel, signed
        self.factor, self.offset = factor, offset

    def positions(self):
        """Bit positions (byte * 8 + bit) from the least significant bit of the value up."""
        if self.intel:
            return [self.start + k for k in range(self.size)]
        msb_first, pos = [], self.start
        for _ in range(self.size):
            msb_first.append(pos)
            pos = pos + 15 if pos % 8 == 0 else pos - 1
        return list(reversed(msb_first))

    def raw_limits(self):
        if self.signed:
            return -(1 << (self.size - 1)), (1 << (self.size - 1)) - 1
        return 0, (1 << self.size) - 1

    def physical_limits(self):
        lo, hi = (r * self.factor + self.offset for r in self.raw_limits())
        return min(lo, hi), max(lo, hi)

    def encode(self, data, physical):
        raw = round((physical - self.offset) / self.factor)
        lo, hi = self.raw_limits()
        raw = max(lo, min(hi, raw))
        bits = raw & ((1 << self.size) - 1)
        out = bytearray(data)
        for k, pos in enumerate(self.positions()):
            byte, bit = divmod(pos, 8)
            if (bits >> k) & 1:
                out[byte] |= 1 << bit
            else:
                out[byte] &= ~(1 << bit) & 0xFF
        return bytes(out)


SG = re.compile(r"^\s*SG_\s+(\w+)\s*(?:\w+\s*)?:\s*(\d+)\|(\d+)@([01])([+-])\s*\(([^,]+),([^)]+)\)")
BO = re.compile(r"^BO_\s+(\d+)\s+(\w+)\s*:\s*(\d+)")


def dbc_signal(path, can_id, ext, name):
    """The layout of signal `name` of the message with `can_id` in the DBC at `path`."""
    want = can_id | (0x80000000 if ext else 0)
    inside = False
    with open(path, encoding="latin-1") as f:
        for line in f:
            bo = BO.match(line)
            if bo:
                inside = int(bo.group(1)) == want
                continue
            sg = SG.match(line) if inside else None
            if sg and sg.group(1) == name:
                _, start, size, order, sign, factor, offset = sg.groups()
                return Signal(int(start), int(size), order == "1", sign == "-", float(factor), float(offset))
    sys.exit(f"{path}: no signal {name} in a message with id {can_id:#x}")


# ---------------------------------------------------------------- checksums (docs/rules.md)

def crc8_j1850(data):
    crc = 0xFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1D) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc ^ 0xFF


def checksum(algorithm, can_id, payload, at):
    others = [b for i, b in enumerate(payload) if i != at]
    id_sum = (can_id & 0xFF) + ((can_id >> 8) & 0xFF)
    if algorithm == "xor8":
        v = 0
        for b in others:
            v ^= b
        return v
    if algorithm == "sum8":
        return sum(others) & 0xFF
    if algorithm == "sum8-id":
        return (sum(others) + id_sum) & 0xFF
    if algorithm == "toyota":
        return (sum(others) + id_sum + len(payload)) & 0xFF
    if algorithm == "crc8-j1850":
        return crc8_j1850([can_id & 0xFF] + others)
    sys.exit(f"unknown checksum algorithm {algorithm}")


# ---------------------------------------------------------------- inject

def parse_target(text, parts):
    items = text.split(":")
    if len(items) != parts:
        sys.exit(f"{text}: expected {'BUS:ID' if parts == 2 else 'BUS:ID:SIGNAL'}")
    items[1] = int(items[1], 16)
    return items


def route_of(rules, bus, can_id):
    for r in rules.get("route", []):
        if r.get("from") == bus and r.get("id") == can_id:
            return r
    return None


def route_by_message(rules, bus, dbc_path, can_id):
    """The route of `can_id` on `bus`: by id, or by the DBC message name of that id."""
    r = route_of(rules, bus, can_id)
    if r:
        return r
    with open(dbc_path, encoding="latin-1") as f:
        names = [m.group(2) for m in map(BO.match, f) if m and int(m.group(1)) & 0x1FFFFFFF == can_id]
    for r in rules.get("route", []):
        if r.get("from") == bus and r.get("message") in names:
            return r
    sys.exit(f"the rules have no route for {bus} {can_id:#x}")


def inject(a):
    rng = random.Random(a.seed)
    frames = read_candump(a.clean)
    if not frames:
        sys.exit(f"{a.clean}: no frame")
    with open(a.rules, "rb") as f:
        rules = tomllib.load(f)
    dbcs = dict(pair.split("=", 1) for pair in a.dbc)
    known = collections.defaultdict(set)
    for fr in read_candump(a.known) if a.known else frames:
        known[fr.bus].add((fr.id, fr.ext))
    t0, t1 = frames[0].ns, frames[-1].ns
    span = t1 - t0
    buses = sorted({fr.bus for fr in frames})
    injected = []

    # (a) flood of id 0x000.
    spoof_bus, spoof_id = parse_target(a.spoof, 2)
    start = t0 + span // 10
    for k in range(2000):
        data = bytes(rng.randrange(256) for _ in range(8))
        injected.append(Frame(start + k * 500_000, spoof_bus, 0x000, False, data, cls="flood"))

    # (b) random ids that the capture never has on that bus.
    for _ in range(500):
        bus = rng.choice(buses)
        ext = rng.random() < 0.1
        while True:
            can_id = rng.randrange(1 << 29) if ext else rng.randrange(1 << 11)
            if (can_id, ext) not in known[bus]:
                break
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(9)))
        injected.append(Frame(t0 + rng.randrange(span), bus, can_id, ext, data, cls="unknown-id"))

    # (c) a cyclic id at ten times its rate: copies of each genuine frame.
    route = route_by_message(rules, spoof_bus, dbcs[spoof_bus], spoof_id)
    if "cycle" not in route:
        sys.exit(f"{a.spoof}: the rules give this id no cycle; spoof a cyclic id")
    start, end = t0 + span * 4 // 10, t0 + span * 4 // 10 + 3_000_000_000
    mine = [fr for fr in frames if fr.bus == spoof_bus and fr.id == spoof_id and not fr.ext]
    for cur, nxt in zip(mine, mine[1:]):
        if start <= cur.ns < end:
            for k in range(1, 10):
                t = cur.ns + (nxt.ns - cur.ns) * k // 10
                injected.append(Frame(t, cur.bus, cur.id, cur.ext, cur.data, cls="rate-spoof"))

    # (d) a signal far outside its learned range, checksum recomputed.
    oor_bus, oor_id, oor_signal = parse_target(a.out_of_range, 3)
    route = route_by_message(rules, oor_bus, dbcs[oor_bus], oor_id)
    limits = route.get("signals", {}).get(oor_signal)
    if not limits or ("min" not in limits and "max" not in limits):
        sys.exit(f"{a.out_of_range}: the rules give this signal no range")
    sig = dbc_signal(dbcs[oor_bus], oor_id, False, oor_signal)
    lo, hi = limits.get("min"), limits.get("max")
    rep_lo, rep_hi = sig.physical_limits()
    width = (hi if hi is not None else rep_hi) - (lo if lo is not None else rep_lo)
    value = min(hi + 2 * width, rep_hi) if hi is not None else max(lo - 2 * width, rep_lo)
    cs = route.get("checksum")
    cs_sig = dbc_signal(dbcs[oor_bus], oor_id, False, cs["signal"]) if cs else None
    start, end = t0 + span * 7 // 10, t0 + span * 7 // 10 + 6_000_000_000
    mine = [fr for fr in frames if fr.bus == oor_bus and fr.id == oor_id and not fr.ext]
    for n, (cur, nxt) in enumerate(zip(mine, mine[1:])):
        if start <= cur.ns < end and n % 2 == 0:
            data = sig.encode(cur.data, value)
            if cs_sig:
                at = min(cs_sig.positions()) // 8
                data = data[:at] + bytes([checksum(cs["algorithm"], cur.id, data, at)]) + data[at + 1:]
            injected.append(Frame((cur.ns + nxt.ns) // 2, cur.bus, cur.id, cur.ext, data, cls="out-of-range"))

    # Merge by time; at equal times genuine frames first, then injected in order of creation.
    order = sorted(range(len(injected)), key=lambda k: (injected[k].ns, k))
    out, marks = [], []
    g = 0
    for k in order:
        fr = injected[k]
        while g < len(frames) and frames[g].ns <= fr.ns:
            out.append(frames[g])
            g += 1
        marks.append((len(out), fr.cls))
        out.append(fr)
    out.extend(frames[g:])
    with open(a.attacked, "w", encoding="ascii") as f:
        for fr in out:
            f.write(fr.line() + "\n")
    with open(a.marks, "w", encoding="ascii") as f:
        f.write("# index\tclass (frames injected by scripts/attack-inject.py, seed %d)\n" % a.seed)
        for index, cls in marks:
            f.write(f"{index}\t{cls}\n")
    counts = collections.Counter(cls for _, cls in marks)
    print(
        f"{a.attacked}: {len(frames)} genuine frames, {len(marks)} injected ("
        + ", ".join(f"{c} {counts[c]}" for c in CLASSES)
        + f"); out-of-range value {oor_signal} = {value:g} (the rules allow "
        + (f"{lo:g} .. {hi:g}" if lo is not None and hi is not None else f"up to {hi:g}" if hi is not None else f"from {lo:g}")
        + ")"
        + (f", {cs['algorithm']} checksum recomputed" if cs else ", no checksum to recompute"),
        file=sys.stderr,
    )


# ---------------------------------------------------------------- score

def read_verdicts(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def false_alarms(verdicts, injected, skip_ids):
    genuine = dropped = 0
    by = collections.Counter()
    for v in verdicts:
        if v["i"] in injected:
            continue
        if (v["bus"], v["id"]) in skip_ids:
            continue
        genuine += 1
        if v["verdict"] == "drop":
            dropped += 1
            by[(v["reason"], v["bus"], v["id"])] += 1
    return genuine, dropped, by


def score(a):
    marks = {}
    with open(a.marks, encoding="ascii") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            index, cls = line.split()
            marks[int(index)] = cls
    verdicts = read_verdicts(a.verdicts)
    per = {c: [0, 0, collections.Counter()] for c in CLASSES}
    attacked_ids = set()
    for v in verdicts:
        cls = marks.get(v["i"])
        if cls is None:
            continue
        per[cls][0] += 1
        if v["verdict"] == "drop":
            per[cls][1] += 1
            per[cls][2][v["reason"]] += 1
        if cls in ("rate-spoof", "out-of-range"):
            attacked_ids.add((v["bus"], v["id"]))
    if sum(p[0] for p in per.values()) != len(marks):
        sys.exit("the verdicts do not cover every injected frame: wrong files?")
    result = {"classes": {}, "false_alarms": {}}
    print(f"{'attack class':<14} {'injected':>9} {'dropped':>8} {'detection':>10}  reasons")
    for c in CLASSES:
        n, d, reasons = per[c]
        rate = d / n if n else 0.0
        result["classes"][c] = {"injected": n, "dropped": d, "detection": rate, "reasons": dict(reasons)}
        print(f"{c:<14} {n:>9} {d:>8} {rate:>9.2%}  " + ", ".join(f"{r} {k}" for r, k in reasons.most_common()))

    def report(name, verdicts, injected, skip):
        genuine, dropped, by = false_alarms(verdicts, injected, skip)
        rate = dropped / genuine if genuine else 0.0
        result["false_alarms"][name] = {
            "genuine": genuine,
            "dropped": dropped,
            "rate": rate,
            "by": [{"reason": r, "bus": b, "id": i, "frames": k} for (r, b, i), k in by.most_common()],
        }
        print(f"false alarms, {name}: {dropped} of {genuine} genuine frames ({rate:.3%})")
        for (r, b, i), k in by.most_common(10):
            print(f"    {k:>6}  {r:<22} {b} {i:#05x}")

    if a.clean_verdicts:
        report("clean hold-out", read_verdicts(a.clean_verdicts), set(), set())
    report("attacked capture, all genuine frames", verdicts, marks, set())
    report("attacked capture, ids not attacked", verdicts, marks, attacked_ids)
    if a.json:
        with open(a.json, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=1, sort_keys=True)
            f.write("\n")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    i = sub.add_parser("inject", help="write an attacked capture and its marks")
    i.add_argument("--seed", type=int, default=1)
    i.add_argument("--rules", required=True, help="the learned rule file (for cycles, ranges, checksums)")
    i.add_argument("--dbc", action="append", default=[], metavar="BUS=FILE", help="DBC of a bus (for signal layouts)")
    i.add_argument("--known", help="capture whose ids count as known (default: the clean capture)")
    i.add_argument("--spoof", required=True, metavar="BUS:ID", help="cyclic id to send at ten times its rate")
    i.add_argument("--out-of-range", required=True, metavar="BUS:ID:SIGNAL", help="signal to set out of range")
    i.add_argument("clean")
    i.add_argument("attacked")
    i.add_argument("marks")
    s = sub.add_parser("score", help="detection and false alarms from replay verdicts")
    s.add_argument("--marks", required=True)
    s.add_argument("--verdicts", required=True, help="`bulkhead replay --verdicts` of the attacked capture")
    s.add_argument("--clean-verdicts", help="verdicts of the clean capture (false alarms without attacks)")
    s.add_argument("--json", help="write the figures as JSON here")
    a = p.parse_args()
    inject(a) if a.command == "inject" else score(a)


if __name__ == "__main__":
    main()
