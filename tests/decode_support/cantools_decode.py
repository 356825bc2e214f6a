"""cantools 45.1.0's decode of a candump capture, the oracle of tests/decode_cantools.rs.

Usage: cantools_decode.py CAPTURE BUS=DBC...

Reads CAPTURE with python-can 4.6.1's CanutilsLogReader (not with bulkhead's
reader) and decodes every data frame of each BUS with cantools and that bus's
DBC file (loaded with strict=False: strict mode only adds layout checks, such
as refusing overlapping signals, and changes no decoded value). Decoding is
cantools' default for tools: decode_choices=False, scaling=True.

Prints JSON lines. The first: {"known": {BUS: [[id, extended, name], ...]}},
the messages cantools loaded per bus. Then one line per data frame of a
listed bus whose id (and id kind) the bus's DBC defines, in capture order:
  {"bus", "t", "id", "ext", "msg", "signals": {name: value}}   decoded
  {"bus", "t", "id", "ext", "msg", "error": "..."}              cantools refused it
Messages with overlapping signals (which DBC files may have: a status byte
and flags inside it) are refused by cantools' decoder even with strict=False
("unpacking failed": its compiled bitstruct format cannot describe overlapping
fields; cantools issue #205, open); for those, each signal is decoded by
cantools alone in a one-signal message and the line is marked
"one_signal_at_a_time": true. Integer values stay exact; non-finite floats are the strings "NaN", "inf" and
"-inf" (as bulkhead writes them). Frames with a negative timestamp are marked
"negative_time": true (bulkhead's reader refuses such lines).
"""
import json
import math
import sys

import cantools
from can.io.canutils import CanutilsLogReader


def number(value):
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, (int, float)):
        return value
    # cantools returns NamedSignalValue only with decode_choices=True.
    raise TypeError(f"unexpected value {value!r}")


def one_signal_at_a_time(message, data):
    """Each signal of a message without multiplexing decoded by cantools in a
    message of its own; None when that does not apply or fails too."""
    if message.is_multiplexed() or len(data) < message.length:
        return None
    values = {}
    for signal in message.signals:
        alone = cantools.database.can.Message(frame_id=message.frame_id, name=message.name, length=message.length,
                                              signals=[signal], is_extended_frame=message.is_extended_frame,
                                              strict=False)
        try:
            values.update(alone.decode(data, decode_choices=False, scaling=True))
        except Exception:
            return None
    return {name: number(value) for name, value in values.items()}


def main():
    capture = sys.argv[1]
    buses = dict(arg.split("=", 1) for arg in sys.argv[2:])
    databases = {bus: cantools.database.load_file(path, database_format="dbc", strict=False)
                 for bus, path in buses.items()}
    known = {bus: [[m.frame_id, m.is_extended_frame, m.name] for m in db.messages] for bus, db in databases.items()}
    lookup = {bus: {(m.frame_id, m.is_extended_frame): m for m in db.messages} for bus, db in databases.items()}
    out = sys.stdout
    out.write(json.dumps({"known": known}) + "\n")
    for frame in CanutilsLogReader(capture):
        if frame.is_error_frame or frame.is_remote_frame or frame.channel not in lookup:
            continue
        message = lookup[frame.channel].get((frame.arbitration_id, frame.is_extended_id))
        if message is None:
            continue
        line = {"bus": frame.channel, "t": frame.timestamp, "id": frame.arbitration_id,
                "ext": frame.is_extended_id, "msg": message.name}
        if frame.timestamp < 0:
            line["negative_time"] = True
        try:
            values = message.decode(bytes(frame.data), decode_choices=False, scaling=True)
            line["signals"] = {name: number(value) for name, value in values.items()}
        except Exception as e:  # DecodeError, and whatever else cantools raises on odd frames
            alone = one_signal_at_a_time(message, bytes(frame.data)) if "unpacking failed" in str(e) else None
            if alone is None:
                line["error"] = f"{type(e).__name__}: {e}"
            else:
                line["signals"] = alone
                line["one_signal_at_a_time"] = True
        out.write(json.dumps(line) + "\n")


if __name__ == "__main__":
    main()
