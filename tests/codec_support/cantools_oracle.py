"""Reference decodes by cantools for the codec's differential tests.

Usage:
  cantools_oracle.py random SEED FRAMES_PER_MESSAGE DBC...    (DBC '-' reads the text from stdin)
  cantools_oracle.py log MAX_FRAMES LOG BUS=DBC...            (candump -l capture; each bus decoded with its DBC)

Prints one JSON document: {"dbcs": [{"path", "error" | "messages"}], "frames": [...]}.
Each message: name, id, extended, length, never_decoded (signals cantools
cannot decode because their switch is not marked as one), signals (name, start, length, byte_order,
is_signed, is_float, scale, offset, is_multiplexer, multiplexer_signal,
multiplexer_ids, choices). Each frame: dbc (index), id, extended, data (hex),
and either "signals" ([name, value, choice-or-null]; value as Python's repr so
that NaN and big integers survive) or "error" (cantools' DecodeError text).

cantools 45.1.0 semantics: decode(data, decode_choices=False, scaling=True);
a multiplexer value with no branch is a DecodeError; payloads shorter than the
message are a DecodeError, longer ones decode.

Two shims let cantools read real files our own parser must accept anyway:
a `VAL_` line missing its final `;` gets one, and files without `BS_:`/`BU_:`
sections (cantools requires them) get empty ones.
"""
import json
import random
import re
import sys

import cantools


def shim(text):
    lines = []
    for line in text.splitlines():
        stripped = line.rstrip()
        if stripped.startswith("VAL_ ") and not stripped.endswith(";"):
            stripped += ";"
        lines.append(stripped)
    text = "\n".join(lines) + "\n"
    if not re.search(r"^BU_\s*:", text, re.M):
        text = re.sub(r"^(BO_ )", "BS_:\n\nBU_:\n\n\\1", text, count=1, flags=re.M)
    return text


def load(path):
    if path == "-":
        text = sys.stdin.read()
    else:
        with open(path, "rb") as f:
            raw = f.read()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("cp1252", errors="replace")
    return cantools.database.load_string(shim(text), database_format="dbc", strict=False)


def describe(message):
    signals = []
    for s in message.signals:
        choices = s.choices or {}
        signals.append({
            "name": s.name,
            "start": s.start,
            "length": s.length,
            "byte_order": s.byte_order,
            "is_signed": s.is_signed,
            "is_float": s.is_float,
            "scale": s.scale,
            "offset": s.offset,
            "is_multiplexer": s.is_multiplexer,
            "multiplexer_signal": s.multiplexer_signal,
            "multiplexer_ids": s.multiplexer_ids,
            "choices": [[int(k), str(v)] for k, v in choices.items()],
        })
    # cantools builds its multiplexer tree from `is_multiplexer` only: a signal
    # that SG_MUL_VAL_ names as its switch but that is not marked `M`/`mNM`
    # (vw_pq.dbc writes a lowercase `m`) leaves its dependents never decoded.
    switches = {s.name for s in message.signals if s.is_multiplexer}
    blind = [s.name for s in message.signals if s.multiplexer_signal and s.multiplexer_signal not in switches]
    return {
        "name": message.name,
        "never_decoded": blind,
        "id": message.frame_id,
        "extended": message.is_extended_frame,
        "length": message.length,
        "signals": signals,
    }


def decode(message, data):
    try:
        values = message.decode(data, decode_choices=False, scaling=True)
        has_choices = any(s.choices for s in message.signals)
        named = message.decode(data, decode_choices=True, scaling=True) if has_choices else values
    except Exception as e:  # cantools raises DecodeError, and others on odd files
        return {"error": f"{type(e).__name__}: {e}"}
    out = []
    for name, value in values.items():
        choice = named.get(name)
        choice = None if isinstance(choice, (int, float)) else str(choice)
        out.append([name, repr(value), choice])
    return {"signals": out}


def main():
    mode = sys.argv[1]
    dbcs, databases = [], []
    if mode == "random":
        seed, per_message, paths = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
        buses = None
    else:
        max_frames, log = int(sys.argv[2]), sys.argv[3]
        buses = dict(arg.split("=", 1) for arg in sys.argv[4:])
        paths = list(dict.fromkeys(buses.values()))
    for path in paths:
        try:
            db = load(path)
        except Exception as e:
            dbcs.append({"path": path, "error": f"{type(e).__name__}: {e}"})
            databases.append(None)
            continue
        dbcs.append({"path": path, "messages": [describe(m) for m in db.messages]})
        databases.append(db)
    frames = []
    if mode == "random":
        rng = random.Random(seed)
        for index, db in enumerate(databases):
            if db is None:
                continue
            for message in db.messages:
                for _ in range(per_message):
                    # Multiplexed messages: retry until the switches select a branch.
                    for _attempt in range(100):
                        data = bytes(rng.getrandbits(8) for _ in range(message.length))
                        result = decode(message, data)
                        if "expected multiplexer id" not in result.get("error", ""):
                            break
                    frames.append({"dbc": index, "id": message.frame_id, "extended": message.is_extended_frame,
                                   "data": data.hex(), **result})
    else:
        bus_index = {bus: paths.index(path) for bus, path in buses.items()}
        pattern = re.compile(r"^\(\S+\)\s+(\S+)\s+([0-9A-Fa-f]+)#([0-9A-Fa-f]*)\s*$")
        with open(log) as f:
            for line in f:
                if len(frames) >= max_frames:
                    break
                m = pattern.match(line)
                if not m or m.group(1) not in bus_index:
                    continue
                index = bus_index[m.group(1)]
                db = databases[index]
                if db is None:
                    continue
                ident, extended = int(m.group(2), 16), len(m.group(2)) == 8
                try:
                    message = db.get_message_by_frame_id(ident)
                except KeyError:
                    continue
                if message.is_extended_frame != extended:
                    continue
                data = bytes.fromhex(m.group(3))
                frames.append({"dbc": index, "id": ident, "extended": extended, "data": data.hex(),
                               **decode(message, data)})
    sys.stdout.write(json.dumps({"dbcs": dbcs, "frames": frames}))


if __name__ == "__main__":
    main()
