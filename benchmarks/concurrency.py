"""Concurrency-limit benchmark: 8 OS processes hammer one limit of N through the database.

Usage: ``python benchmarks/concurrency.py [--quick] [--postgres URL]``. Each process loops:
acquire a slot (``concurrency("bench")``), hold it 5 ms, release; it logs when it asked, got
in, and left. The processes open the database first and start together. Printed per
database and N: over-admissions (moments more than N held: must be 0), the most held at
once, acquisitions per second over all processes, and the p50/p99 of asking -> getting in
(the wait) and of leaving -> released (the release call).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

CHILD = textwrap.dedent(
    """
    import sys, time
    from jupyter_flows.concurrency._backend import slot_backend
    from jupyter_flows.concurrency.sync import concurrency
    out, rounds, start = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    slot_backend()  # open the database before the start, as a long-lived process has
    time.sleep(max(0.0, start - time.time()))  # all processes begin together
    rows = []
    for _ in range(rounds):
        asked = time.time()
        with concurrency("bench", timeout_seconds=300):
            got = time.time()
            time.sleep(0.005)
            left = time.time()
        rows.append(f"{asked} {got} {left} {time.time()}")
    open(out, "w").write("\\n".join(rows))
    """
)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def overlap(intervals: list[tuple[float, float]]) -> int:
    events = sorted([(a, 1) for a, _ in intervals] + [(b, -1) for _, b in intervals])
    now = best = 0
    for _, step in events:
        now += step
        best = max(best, now)
    return best


def run(db_url: str, slots: int, procs: int, rounds: int) -> dict[str, float]:
    env = dict(os.environ, JUPYTER_FLOWS_DB_URL=db_url)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    setup = (
        "from jupyter_flows.store.api import run_store\n"
        "from jupyter_flows.orchestration.concurrency import create_limit, delete_limit\n"
        "from jupyter_flows.orchestration.concurrency_schemas import CreateConcurrencyLimit\n"
        "e = run_store().engine\n"
        "try:\n    delete_limit(e, 'bench')\nexcept Exception:\n    pass\n"
        f"create_limit(e, CreateConcurrencyLimit(name='bench', limit={slots}))\n"
    )
    subprocess.run([sys.executable, "-c", setup], env=env, check=True)
    with tempfile.TemporaryDirectory() as tmp:
        files = [Path(tmp) / f"p{i}.txt" for i in range(procs)]
        start = str(time.time() + 5.0)
        children = [
            subprocess.Popen([sys.executable, "-c", CHILD, str(f), str(rounds), start], env=env)
            for f in files
        ]
        for child in children:
            if child.wait() != 0:
                raise SystemExit("a benchmark process failed")
        rows = [
            tuple(map(float, line.split())) for f in files for line in f.read_text().split("\n")
        ]
    held = [(got, left) for _, got, left, _ in rows]
    most = overlap(held)
    span = max(r[3] for r in rows) - min(r[0] for r in rows)
    return {
        "over_admissions": max(0, most - slots),
        "most_held": most,
        "acquisitions_per_s": len(rows) / span,
        "wait_p50_ms": pct([g - a for a, g, _, _ in rows], 0.5) * 1000,
        "wait_p99_ms": pct([g - a for a, g, _, _ in rows], 0.99) * 1000,
        "release_p50_ms": pct([r - left for _, _, left, r in rows], 0.5) * 1000,
        "release_p99_ms": pct([r - left for _, _, left, r in rows], 0.99) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds per process")
    parser.add_argument("--postgres", metavar="URL", help="also a PostgreSQL database (empty)")
    args = parser.parse_args()
    rounds = 15 if args.quick else 60
    databases = {"sqlite": f"sqlite:///{tempfile.mkdtemp(prefix='jf-conc-')}/flows.sqlite"}
    if args.postgres:
        databases["postgres"] = args.postgres
    print(f"concurrency limits: 8 processes x {rounds} acquisitions, 5 ms held each")
    print(f"{'database':<9} {'N':>2} {'over-admitted':>13} {'most held':>9} {'acq/s':>7} "
          f"{'wait p50/p99 ms':>16} {'release p50/p99 ms':>19}")  # fmt: skip
    failed = False
    for name, url in databases.items():
        for slots in (2, 3):
            r = run(url, slots, 8, rounds)
            failed |= r["over_admissions"] > 0
            print(
                f"{name:<9} {slots:>2} {r['over_admissions']:>13.0f} {r['most_held']:>9.0f} "
                f"{r['acquisitions_per_s']:>7.0f} "
                f"{r['wait_p50_ms']:>7.1f}/{r['wait_p99_ms']:<8.1f} "
                f"{r['release_p50_ms']:>8.1f}/{r['release_p99_ms']:<8.1f}"
            )
    if failed:
        raise SystemExit("a limit admitted more than N: over-admission")


if __name__ == "__main__":
    main()
