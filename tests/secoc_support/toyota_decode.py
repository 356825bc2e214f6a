"""Decodes frames with cantools against a DBC, for bulkhead's SecOC real-data test.

argv[1]: the DBC file. stdin: {"frames": [{"id": int, "data": hex}, ...]}.
stdout: {"decoded": [{signal: raw value, ...}, ...]} (raw values, no scaling).
"""

import json
import sys

import cantools

db = cantools.database.load_file(sys.argv[1], strict=False)
frames = json.load(sys.stdin)["frames"]
out = []
for frame in frames:
    message = db.get_message_by_frame_id(frame["id"])
    out.append(message.decode(bytes.fromhex(frame["data"]), scaling=False, decode_choices=False))
json.dump({"decoded": out}, sys.stdout)
