"""Times CPython's C pickle on the benchmark files: best of N of pickle.loads and pickle.dumps.

Usage: python cpython_times.py DATA_DIR FILE...   (prints JSON: {file: {"loads": ms, "dumps": ms}})

The same bytes the Deno benchmark decodes; dumps writes the loaded value back at the file's
protocol (its name ends in .p<protocol>.pkl). The garbage collector stays on, as in real use.
"""

import json
import os
import pickle
import re
import sys
import time

REPEATS = 7
BUDGET_SECONDS = 3.0


def best_of(function):
    best = float("inf")
    spent = 0.0
    for _ in range(REPEATS):
        start = time.perf_counter()
        function()
        elapsed = time.perf_counter() - start
        best = min(best, elapsed)
        spent += elapsed
        if spent > BUDGET_SECONDS:
            break
    return best * 1000


def main():
    directory = sys.argv[1]
    results = {}
    for name in sys.argv[2:]:
        with open(os.path.join(directory, name), "rb") as f:
            data = f.read()
        protocol = int(re.search(r"\.p(\d)\.pkl$", name).group(1))
        value = pickle.loads(data)
        results[name] = {
            "loads": best_of(lambda: pickle.loads(data)),
            "dumps": best_of(lambda: pickle.dumps(value, protocol=protocol)),
        }
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
