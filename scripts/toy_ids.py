#!/usr/bin/env python3
"""A toy CAN IDS in plain Python, the floor any real tool should beat: it reads
a candump -l capture line by line and looks each (interface, id) up in one
dictionary of allowed ids (learned beforehand from the capture's first tenth),
counting the rest. The timed pass reads, splits and looks up every line.

    toy_ids.py CAPTURE [REPEAT]

Prints `frames=N seconds=S frames_per_second=R unknown=U` for the best run."""
import sys
import time


def learn(path):
    """Every (interface, id) of the capture's first tenth."""
    with open(path) as f:
        lines = f.readlines()
    allowed = {}
    for line in lines[: len(lines) // 10]:
        parts = line.split()
        if len(parts) >= 3:
            allowed[(parts[1], parts[2].split("#", 1)[0])] = True
    return allowed


def run(path, allowed):
    """One pass over the file: read, split, look up. Timed as a whole."""
    start = time.perf_counter()
    frames = unknown = 0
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) < 3:
                continue
            frames += 1
            if (parts[1], parts[2].split("#", 1)[0]) not in allowed:
                unknown += 1
    return frames, time.perf_counter() - start, unknown


def main():
    path = sys.argv[1]
    repeat = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    allowed = learn(path)
    best = None
    for _ in range(repeat):
        frames, seconds, unknown = run(path, allowed)
        if best is None or seconds < best[1]:
            best = (frames, seconds, unknown)
    frames, seconds, unknown = best
    print(f"frames={frames} seconds={seconds:.6f} frames_per_second={frames / seconds:.0f} unknown={unknown}")


if __name__ == "__main__":
    main()
