#!/usr/bin/env python3
"""Dumps the structure cantools 45.1.0 reads from DBC files, as JSON, for the
differential test (tests/dbc_cantools_diff.rs) and the benchmark script.

Usage: cantools_dbc_dump.py FILE...   (JSON on stdout)

For each file: {"ok": true, "patched": [...], "messages": [...]} or
{"ok": false, "error": "..."}. Numbers are written as Python reprs in strings
so the Rust side parses them exactly. Names are cantools' (it renames objects
that carry a System*LongSymbol attribute).

cantools refuses a whole file when a VAL_ or SIG_VALTYPE_ names a signal that
does not exist ("unused VAL_ entries"); bulkhead ignores such statements with
a warning. To compare the rest of those files, the offending statements are
removed from the text and the file is loaded again; "patched" lists them.
"""

import json
import re
import sys

import cantools
from cantools.database.can.formats.dbc import load_string


def number(value):
    return None if value is None else repr(value)


def signal_record(signal):
    return {
        "name": signal.name,
        "start": signal.start,
        "length": signal.length,
        "byte_order": signal.byte_order,
        "is_signed": signal.is_signed,
        "is_float": signal.is_float,
        "scale": number(signal.scale),
        "offset": number(signal.offset),
        "minimum": number(signal.minimum),
        "maximum": number(signal.maximum),
        "unit": signal.unit,
        "is_multiplexer": signal.is_multiplexer,
        "multiplexer_ids": sorted(signal.multiplexer_ids) if signal.multiplexer_ids else None,
        "multiplexer_signal": signal.multiplexer_signal,
        "choices": None if signal.choices is None else [[int(k), str(v)] for k, v in signal.choices.items()],
    }


def message_record(message):
    return {
        "frame_id": message.frame_id,
        "is_extended_frame": message.is_extended_frame,
        "name": message.name,
        "length": message.length,
        "cycle_time": message.cycle_time,
        "signals": [signal_record(s) for s in message.signals],
    }


UNUSED = re.compile(r"^\s+(VAL_|SIG_VALTYPE_) (\d+) (\w+)$", re.M)


def load(text):
    """Loads `text`, dropping statements cantools refuses as unused."""
    patched = []
    for _ in range(3):
        try:
            db = load_string(text, strict=False)
            return db, patched
        except ValueError as error:
            unused = UNUSED.findall(str(error))
            if not unused:
                raise
            for keyword, frame_id, name in unused:
                pattern = re.compile(r"^[ \t]*" + keyword + r"[ \t]+" + frame_id + r"[ \t]+" + name + r"\b[^;]*;", re.M)
                text, count = pattern.subn("", text)
                patched.append(f"{keyword} {frame_id} {name}" + ("" if count else " (not found)"))
    db = load_string(text, strict=False)
    return db, patched


def dump(path):
    with open(path, "rb") as f:
        raw = f.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    try:
        db, patched = load(text)
    except Exception as error:  # cantools raises many kinds
        return {"ok": False, "error": f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"}
    return {"ok": True, "patched": patched, "messages": [message_record(m) for m in db.messages]}


def main():
    out = {"cantools": cantools.__version__, "files": {}}
    for path in sys.argv[1:]:
        out["files"][path] = dump(path)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
