#!/usr/bin/env python3
"""An independent peer of the bulkhead link, protocol v1, written from docs/link.md alone.

It shares no code with the Rust implementation: the AEADs come from `cryptography`, the
header, the frame records, the ordered receiver checks and the replay window are
re-implemented here from the specification. tests/link_interop.rs drives it.

Input (JSON on stdin):
    {"doc": "path/to/docs/link.md",          # check every test vector of section 12
     "keys": [{"key_id": 1, "suite": 1, "key": "hex", "device": "name", "revoked": false}],
     "open": ["hex datagram", ...],          # opened in order by one receiver
     "seal": [{"key_id": 1, "packet_number": 5, "frames": ["123#DEAD", ...]}]}
Output (JSON on stdout):
    {"vectors": [{"name": ..., "errors": [...]}],
     "opened": [{"accepted": true, "device": ..., "key_id": ..., "packet_number": ..., "frames": [...]}
                | {"accepted": false, "reason": "snake_case_reason"}],
     "sealed": ["hex datagram", ...]}
"""

import json
import re
import sys

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

MAGIC = b"BHLK"
VERSION = 1
HEADER_LEN = 18
TAG_LEN = 16
MAX_DATAGRAM = 1400
MIN_DATAGRAM = 40
MAX_FRAMES = 128
WINDOW = 1024
MAX_PACKET_NUMBER = (1 << 62) - 1
SUITES = {1: (AESGCM, 16), 2: (ChaCha20Poly1305, 32)}
FD_LENGTHS = set(range(9)) | {12, 16, 20, 24, 32, 48, 64}

F_FD, F_BRS, F_ESI, F_RTR, F_RESERVED = 0x01, 0x02, 0x04, 0x08, 0xF0
ID_EXTENDED, ID_RESERVED = 0x8000_0000, 0x6000_0000


class Malformed(Exception):
    """The body is not a valid list of frame records."""


# ---- frames in candump compact notation (section 5) ----------------------------------

def parse_frame(text):
    """'123#DEAD' / '1ABCDEF0#' / '123#R8' / '456##1AABB' -> (extended, id, flags, length, data)."""
    ident, sep, rest = text.partition("#")
    if not sep or len(ident) not in (3, 8):
        raise ValueError(f"not a frame: {text!r}")
    extended = len(ident) == 8
    can_id = int(ident, 16)
    if rest.startswith("#"):
        nibble = int(rest[1], 16)
        data = bytes.fromhex(rest[2:])
        flags = F_FD | (F_BRS if nibble & 1 else 0) | (F_ESI if nibble & 2 else 0)
        return (extended, can_id, flags, len(data), data)
    if rest.startswith("R"):
        return (extended, can_id, F_RTR, int(rest[1:]), b"")
    data = bytes.fromhex(rest)
    return (extended, can_id, 0, len(data), data)


def format_frame(frame):
    extended, can_id, flags, length, data = frame
    ident = f"{can_id:08X}" if extended else f"{can_id:03X}"
    if flags & F_RTR:
        return f"{ident}#R{length}"
    if flags & F_FD:
        nibble = (1 if flags & F_BRS else 0) | (2 if flags & F_ESI else 0)
        return f"{ident}##{nibble:X}{data.hex().upper()}"
    return f"{ident}#{data.hex().upper()}"


# ---- body (section 5) -----------------------------------------------------------------

def encode_body(frames):
    out = bytearray()
    for extended, can_id, flags, length, data in frames:
        out += ((ID_EXTENDED if extended else 0) | can_id).to_bytes(4, "big")
        out += bytes([flags, length])
        out += data
    return bytes(out)


def decode_body(body):
    frames = []
    offset = 0
    if not body:
        raise Malformed("empty body")
    while offset < len(body):
        if len(frames) == MAX_FRAMES:
            raise Malformed("more than 128 records")
        if len(body) - offset < 6:
            raise Malformed(f"truncated record at {offset}")
        field = int.from_bytes(body[offset:offset + 4], "big")
        flags, length = body[offset + 4], body[offset + 5]
        if field & ID_RESERVED:
            raise Malformed("reserved id bits")
        extended = bool(field & ID_EXTENDED)
        can_id = field & 0x1FFF_FFFF
        if not extended and can_id > 0x7FF:
            raise Malformed("standard id above 0x7FF")
        if flags & F_RESERVED:
            raise Malformed("reserved flags")
        if flags & F_RTR and flags & F_FD:
            raise Malformed("remote FD frame")
        if flags & (F_BRS | F_ESI) and not flags & F_FD:
            raise Malformed("BRS/ESI without FD")
        if flags & F_RTR:
            if length > 8:
                raise Malformed("remote length above 8")
            frames.append((extended, can_id, flags, length, b""))
            offset += 6
            continue
        if flags & F_FD and length not in FD_LENGTHS:
            raise Malformed("not a CAN FD length")
        if not flags & F_FD and length > 8:
            raise Malformed("classic length above 8")
        data = body[offset + 6:offset + 6 + length]
        if len(data) != length:
            raise Malformed(f"truncated data at {offset}")
        frames.append((extended, can_id, flags, length, bytes(data)))
        offset += 6 + length
    return frames


# ---- sealing (sections 2, 3, 4, 8) --------------------------------------------------

def aead(suite, key):
    cls, key_len = SUITES[suite]
    if len(key) != key_len:
        raise ValueError(f"suite {suite} needs a {key_len}-byte key")
    return cls(key)


def header(suite, key_id, packet_number):
    return MAGIC + bytes([VERSION, suite]) + key_id.to_bytes(4, "big") + packet_number.to_bytes(8, "big")


def seal(suite, key, key_id, packet_number, body):
    if packet_number > MAX_PACKET_NUMBER:
        raise ValueError("packet numbers exhausted")
    aad = header(suite, key_id, packet_number)
    nonce = aad[6:18]
    datagram = aad + aead(suite, key).encrypt(nonce, body, aad)
    if len(datagram) > MAX_DATAGRAM:
        raise ValueError("datagram too large")
    return datagram


# ---- receiver (section 7) -------------------------------------------------------------

class Receiver:
    def __init__(self, keys):
        self.keys = keys  # key_id -> {"suite", "key", "device", "revoked"}
        self.highest = {}  # key_id -> H
        self.accepted = {}  # key_id -> set of accepted numbers within the window

    def fresh(self, key_id, pn):
        if key_id not in self.highest:
            return None
        high = self.highest[key_id]
        if pn > high:
            return None
        if high - pn >= WINDOW:
            return "too_old"
        return "replayed" if pn in self.accepted[key_id] else None

    def record(self, key_id, pn):
        high = self.highest.get(key_id)
        if high is None or pn > high:
            self.highest[key_id] = pn
            high = pn
        seen = self.accepted.setdefault(key_id, set())
        seen.add(pn)
        self.accepted[key_id] = {n for n in seen if high - n < WINDOW}

    def open(self, datagram):
        if len(datagram) > MAX_DATAGRAM:
            return {"accepted": False, "reason": "too_large"}
        if len(datagram) < MIN_DATAGRAM:
            return {"accepted": False, "reason": "too_short"}
        if datagram[0:4] != MAGIC:
            return {"accepted": False, "reason": "bad_magic"}
        if datagram[4] != VERSION:
            return {"accepted": False, "reason": "unsupported_version"}
        suite = datagram[5]
        if suite not in SUITES:
            return {"accepted": False, "reason": "unknown_suite"}
        key_id = int.from_bytes(datagram[6:10], "big")
        pn = int.from_bytes(datagram[10:18], "big")
        entry = self.keys.get(key_id)
        if entry is None:
            return {"accepted": False, "reason": "unknown_key_id"}
        if entry["revoked"]:
            return {"accepted": False, "reason": "revoked_key"}
        if entry["suite"] != suite:
            return {"accepted": False, "reason": "suite_mismatch"}
        stale = self.fresh(key_id, pn)
        if stale:
            return {"accepted": False, "reason": stale}
        aad = datagram[:HEADER_LEN]
        try:
            body = aead(suite, entry["key"]).decrypt(aad[6:18], datagram[HEADER_LEN:], aad)
        except InvalidTag:
            return {"accepted": False, "reason": "authentication_failed"}
        self.record(key_id, pn)
        try:
            frames = decode_body(body)
        except Malformed:
            return {"accepted": False, "reason": "malformed_body"}
        return {
            "accepted": True,
            "device": entry["device"],
            "key_id": key_id,
            "packet_number": pn,
            "frames": [format_frame(f) for f in frames],
        }


# ---- test vectors of section 12 -------------------------------------------------------

def read_vectors(path):
    text = open(path, encoding="utf-8").read()
    section = text.split("## 12. Test vectors", 1)[1]
    vectors = []
    for block in re.findall(r"```text\n(.*?)```", section, re.S):
        fields = []
        for line in block.splitlines():
            if not line.strip():
                continue
            if line[0].isspace():
                name, value = fields[-1]
                fields[-1] = (name, value + line.strip())
            else:
                name, _, value = line.partition(" ")
                fields.append((name, value.strip()))
        vector = {"frame": []}
        for name, value in fields:
            if name == "frame":
                vector["frame"].append(value)
            else:
                vector[name] = value
        vectors.append(vector)
    return vectors


def check_vector(vector):
    errors = []
    hexval = lambda name: bytes.fromhex(vector[name].replace(" ", ""))
    suite = int(vector["suite"])
    key = hexval("key")
    key_id = int.from_bytes(hexval("key_id"), "big")
    pn = int.from_bytes(hexval("packet_number"), "big")
    frames = [parse_frame(f) for f in vector["frame"]]
    body = encode_body(frames)
    if body != hexval("body"):
        errors.append(f"body: computed {body.hex()}")
    datagram = seal(suite, key, key_id, pn, body)
    if datagram != hexval("datagram"):
        errors.append(f"datagram: computed {datagram.hex()}")
    receiver = Receiver({key_id: {"suite": suite, "key": key, "device": "vector", "revoked": False}})
    opened = receiver.open(hexval("datagram"))
    if not opened["accepted"] or opened["frames"] != vector["frame"] or opened["packet_number"] != pn:
        errors.append(f"open: {opened}")
    return {"name": vector.get("vector", "?"), "errors": errors}


def main():
    request = json.load(sys.stdin)
    result = {"vectors": [], "opened": [], "sealed": []}
    if "doc" in request:
        result["vectors"] = [check_vector(v) for v in read_vectors(request["doc"])]
    keys = {
        k["key_id"]: {"suite": k["suite"], "key": bytes.fromhex(k["key"]), "device": k["device"],
                      "revoked": k.get("revoked", False)}
        for k in request.get("keys", [])
    }
    receiver = Receiver(keys)
    result["opened"] = [receiver.open(bytes.fromhex(d)) for d in request.get("open", [])]
    for job in request.get("seal", []):
        entry = keys[job["key_id"]]
        body = encode_body([parse_frame(f) for f in job["frames"]])
        result["sealed"].append(seal(entry["suite"], entry["key"], job["key_id"], job["packet_number"], body).hex())
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
