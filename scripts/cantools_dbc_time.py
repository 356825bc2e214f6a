#!/usr/bin/env python3
"""Times cantools 45.1.0 loading DBC files, for scripts/bench-dbc.sh.

Usage: cantools_dbc_time.py ROUNDS LIST_OUT FILE...

Loads every FILE once to find those cantools accepts (strict=False) and
writes their paths to LIST_OUT, one per line. Then loads those files ROUNDS
times (text read from disk each time, as cantools.database.load_file does)
and prints: "<files> <bytes> <best seconds per round>".
"""

import os
import sys
import time

import cantools


def load(path):
    cantools.database.load_file(path, database_format="dbc", strict=False)


def main():
    rounds = int(sys.argv[1])
    list_out = sys.argv[2]
    accepted = []
    for path in sys.argv[3:]:
        try:
            load(path)
            accepted.append(path)
        except Exception:  # cantools raises many kinds; a refused file is simply left out
            pass
    with open(list_out, "w") as f:
        f.write("".join(p + "\n" for p in accepted))
    best, best_cpu = float("inf"), float("inf")
    for _ in range(rounds):
        start, start_cpu = time.perf_counter(), time.process_time()
        for path in accepted:
            load(path)
        best = min(best, time.perf_counter() - start)
        best_cpu = min(best_cpu, time.process_time() - start_cpu)
    size = sum(os.path.getsize(p) for p in accepted)
    print(f"{len(accepted)} {size} {best:.6f} {best_cpu:.6f}")


if __name__ == "__main__":
    main()
