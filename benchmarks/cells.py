"""``%%task`` cell overhead as a notebook grows: the cost of running one new task cell
in a kernel that already has 100 (or 1,000) of them, each in a fresh process.

Usage: ``python benchmarks/cells.py [--quick]``. Prints the median of 20 new cells per size.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

SCRIPT = """
import json, statistics, time
from IPython.testing.globalipapp import start_ipython
ip = start_ipython()
ip.run_line_magic("load_ext", "jupyter_flows")
K = {k}
for i in range(K):
    ip.run_cell(f"%%task c{{i}}\\nv{{i}} = {{i}}" + (f" + v{{i-1}}" if i else ""))
costs = []
for j in range(20):
    t0 = time.perf_counter()
    ip.run_cell(f"%%task new{{j}}\\nw{{j}} = v{{K-1}} + 1")
    costs.append((time.perf_counter() - t0) * 1000)
t0 = time.perf_counter()
for j in range(20):
    ip.run_cell(f"w{{j}} = v{{K-1}} + 1")
plain = (time.perf_counter() - t0) / 20 * 1000
print(json.dumps({{"cells": K, "new_cell_ms": statistics.median(costs), "plain_ms": plain}}))
"""


def measure(k: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "JUPYTER_FLOWS_HOME": home}
        out = subprocess.run(
            [sys.executable, "-c", SCRIPT.format(k=k)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 and 1,000 cells (the same)")
    parser.parse_args()
    print(f"{'cells':>6} {'new %%task cell ms':>18} {'plain cell ms':>13}")
    for k in (100, 1000):
        r = measure(k)
        print(f"{k:>6} {r['new_cell_ms']:>18.2f} {r['plain_ms']:>13.3f}", flush=True)


if __name__ == "__main__":
    main()
