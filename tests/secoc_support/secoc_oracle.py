"""Independent SecOC oracle for bulkhead's tests, written from the AUTOSAR SWS.

Reads one JSON document on stdin: {"cases": [case, ...]}, writes
{"results": [result, ...]} on stdout. AES-CMAC comes from the `cryptography`
package; everything else (data to authenticate, truncation, bit packing,
profile 3 freshness values) is computed here, without bulkhead's code.

A case describes one secured frame:
  op            "sign" (build the frame) or "check" (verify `frame`)
  key           16-byte AES key, hex
  data_id       16-bit DataId
  payload       authentic payload, hex ("sign" only; "check" reads it from the frame)
  payload_at    first byte of the authentic payload in the frame
  freshness     the full freshness value, or
  counters      {"trip", "reset", "message", "trip_bits", "reset_bits",
                 "flag_bits", "lower_bits", "message_bits"} (profile 3) or
  sync          {"trip", "reset", "reset_bits"} (profile 3 sync message: trip | reset)
  freshness_value_bits, freshness_bits, freshness_at, mac_bits, mac_at, frame_len
  frame         the frame to check, hex ("check" only)

Bit positions count from the most significant bit of byte 0; fields are
stored most significant bit first.
"""

import json
import sys

from cryptography.hazmat.primitives import cmac
from cryptography.hazmat.primitives.ciphers import algorithms


def full_freshness(case):
    """The full freshness value of a case, composed here for profile 3."""
    if "freshness" in case:
        return case["freshness"]
    if "sync" in case:
        s = case["sync"]
        return (s["trip"] << s["reset_bits"]) | s["reset"]
    # trip | reset | message counter | reset flag (the low bits of the reset counter)
    c = case["counters"]
    flag = c["flag_bits"]
    value = c["trip"]
    value = (value << c["reset_bits"]) | c["reset"]
    value = (value << c["message_bits"]) | c["message"]
    value = (value << flag) | (c["reset"] & ((1 << flag) - 1))
    return value


def authenticator(key, data_id, payload, freshness, freshness_value_bits, mac_bits):
    """AES-128-CMAC over DataId | payload | freshness, truncated to its mac_bits MSBs."""
    fv_bytes = (freshness_value_bits + 7) // 8
    data = data_id.to_bytes(2, "big") + payload + freshness.to_bytes(fv_bytes, "big")
    c = cmac.CMAC(algorithms.AES(key))
    c.update(data)
    full = int.from_bytes(c.finalize(), "big")
    return full >> (128 - mac_bits)


def put(frame_int, total_bits, at, bits, value):
    return frame_int | (value << (total_bits - at - bits))


def get(frame_int, total_bits, at, bits):
    return (frame_int >> (total_bits - at - bits)) & ((1 << bits) - 1)


def sign(case):
    key = bytes.fromhex(case["key"])
    payload = bytes.fromhex(case["payload"])
    freshness = full_freshness(case)
    total = case["frame_len"] * 8
    frame = 0
    at = case["payload_at"] * 8
    if payload:
        frame = put(frame, total, at, len(payload) * 8, int.from_bytes(payload, "big"))
    fb = case["freshness_bits"]
    if fb:
        frame = put(frame, total, case["freshness_at"], fb, freshness & ((1 << fb) - 1))
    mac = authenticator(key, case["data_id"], payload, freshness, case["freshness_value_bits"], case["mac_bits"])
    frame = put(frame, total, case["mac_at"], case["mac_bits"], mac)
    return {"frame": frame.to_bytes(case["frame_len"], "big").hex(), "freshness": freshness}


def check(case):
    key = bytes.fromhex(case["key"])
    raw = bytes.fromhex(case["frame"])
    if len(raw) != case["frame_len"]:
        return {"ok": False, "why": "length"}
    total = case["frame_len"] * 8
    frame = int.from_bytes(raw, "big")
    freshness = full_freshness(case)
    fb = case["freshness_bits"]
    if fb and get(frame, total, case["freshness_at"], fb) != freshness & ((1 << fb) - 1):
        return {"ok": False, "why": "truncated freshness"}
    start = case["payload_at"]
    payload = raw[start:start + case["payload_len"]]
    mac = authenticator(key, case["data_id"], payload, freshness, case["freshness_value_bits"], case["mac_bits"])
    if get(frame, total, case["mac_at"], case["mac_bits"]) != mac:
        return {"ok": False, "why": "mac"}
    return {"ok": True, "freshness": freshness}


def main():
    cases = json.load(sys.stdin)["cases"]
    results = [sign(c) if c["op"] == "sign" else check(c) for c in cases]
    json.dump({"results": results}, sys.stdout)


if __name__ == "__main__":
    main()
