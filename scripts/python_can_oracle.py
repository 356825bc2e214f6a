#!/usr/bin/env python3
"""python-can as an oracle for bulkhead's log readers (run with .venv/bin/python3).

    python_can_oracle.py read FORMAT FILE
        Reads FILE with python-can's reader for FORMAT (asc, trc, blf, candump)
        and prints one JSON object per line: first {"offset": seconds} (what
        python-can adds to the file's own times: the header start time for TRC
        and BLF, 0 otherwise), then one object per message.

    python_can_oracle.py write FORMAT SOURCE OUT
        Reads the candump log SOURCE with python-can and writes its messages to
        OUT with python-can's writer for FORMAT (asc, trc, blf, blf-stored,
        candump), for differential tests on files neither side wrote by hand.
        BLF is written in 4 KiB containers so that objects span containers;
        blf-stored leaves them uncompressed.
"""

import gzip
import json
import sys

import can
from can.io.asc import ASCReader, ASCWriter
from can.io.blf import BLFReader, BLFWriter
from can.io.canutils import CanutilsLogReader, CanutilsLogWriter
from can.io.trc import TRCReader, TRCWriter

READERS = {"asc": ASCReader, "trc": TRCReader, "blf": BLFReader, "candump": CanutilsLogReader}
WRITERS = {"asc": ASCWriter, "trc": TRCWriter, "blf": BLFWriter, "candump": CanutilsLogWriter}


def message_json(msg: can.Message) -> dict:
    return {
        "t": repr(float(msg.timestamp)),
        "id": msg.arbitration_id,
        "ext": bool(msg.is_extended_id),
        "rtr": bool(msg.is_remote_frame),
        "err": bool(msg.is_error_frame),
        "fd": bool(msg.is_fd),
        "brs": bool(msg.bitrate_switch),
        "esi": bool(msg.error_state_indicator),
        "dlc": msg.dlc,
        "data": bytes(msg.data or b"").hex(),
        "ch": None if msg.channel is None else str(msg.channel),
        "rx": bool(msg.is_rx),
    }


def read(fmt: str, path: str) -> None:
    opener = gzip.open if path.endswith(".gz") else open
    mode = "rb" if fmt == "blf" else "rt"
    with opener(path, mode) as f:
        reader = READERS[fmt](f)
        messages = list(reader)
        offset = 0.0
        if fmt == "trc":
            offset = float(reader._start_time or 0.0)
        elif fmt == "blf":
            offset = float(reader.start_timestamp or 0.0)
    out = sys.stdout
    out.write(json.dumps({"offset": repr(offset)}) + "\n")
    for msg in messages:
        out.write(json.dumps(message_json(msg)) + "\n")


def write(fmt: str, source: str, target: str) -> None:
    with open(source, "rt") as f:
        messages = list(CanutilsLogReader(f))
    kwargs = {}
    if fmt == "blf-stored":
        fmt = "blf"
        kwargs["compression_level"] = 0
    writer = WRITERS[fmt](target, **kwargs)
    if fmt == "blf":
        # Small containers so that objects span container boundaries.
        writer.max_container_size = 4096
    for msg in messages:
        if fmt in ("asc", "blf", "trc") and isinstance(msg.channel, str):
            # These formats number channels: write them all on the default one.
            msg.channel = None
        writer.on_message_received(msg)
    if fmt == "blf":
        # python-can 4.6.1's BLFWriter.stop() flushes one container only and
        # loses the rest of its buffer; flush them all first.
        while writer._buffer_size > 0:
            writer._flush()
    writer.stop()


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "read":
        read(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 5 and sys.argv[1] == "write":
        write(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
