"""``DaskTaskRunner`` against plain ``client.map`` on the same ``LocalCluster``: N one-line
tasks (``task.map`` in a flow, every state recorded) vs ``client.map`` + ``gather``.

Usage: ``python benchmarks/dask_runner.py [--quick]``. Runs alternate (runner, plain,
runner, plain...) and the ratio of medians is printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time


def inc(x: int) -> int:
    return x + 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="300 tasks, 3 rounds")
    args = parser.parse_args()
    n, rounds = (300, 3) if args.quick else (2000, 5)
    os.environ.setdefault("JUPYTER_FLOWS_HOME", tempfile.mkdtemp())

    from distributed import Client, LocalCluster

    from jupyter_flows import flow, task
    from jupyter_flows.execution.dask_runner import DaskTaskRunner

    cluster = LocalCluster(
        n_workers=2, threads_per_worker=2, processes=True, dashboard_address=None,
        host="127.0.0.1",
    )  # fmt: skip
    client = Client(cluster)
    inc_task = task(inc)

    @flow(task_runner=DaskTaskRunner(address=cluster.scheduler_address))
    def many(n: int) -> int:
        return sum(f.result() for f in inc_task.map(range(n)))

    many(10)  # warm: imports on the workers
    client.gather(client.map(inc, range(10), pure=False))
    runner_s, plain_s = [], []
    for _ in range(rounds):
        t0 = time.perf_counter()
        assert many(n) == sum(range(1, n + 1))
        runner_s.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        assert sum(client.gather(client.map(inc, range(n), pure=False))) == sum(range(1, n + 1))
        plain_s.append(time.perf_counter() - t0)
    runner, plain = statistics.median(runner_s), statistics.median(plain_s)
    print(
        f"{n} tasks: DaskTaskRunner {runner * 1000:.0f} ms, client.map {plain * 1000:.0f} ms, "
        f"ratio {runner / plain:.2f}x ({runner / n * 1e6:.0f} vs {plain / n * 1e6:.0f} us/task)"
    )
    client.close()
    cluster.close()


if __name__ == "__main__":
    main()
