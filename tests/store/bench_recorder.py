"""Micro-benchmark of SqlRecorder: recorder CPU per no-op task, amortized including flush.

Each task is what the engine records for it: 1 ``task_run_created`` + 3 ``set_state``
(Pending, Running, Completed). The records are built before timing (that is the engine's
cost); the figure is process CPU time (hot path + writer thread + SQLite) per task, from
the first record until ``flush()`` returns. Run::

    .venv/bin/python tests/store/bench_recorder.py [--tasks 10000] [--repeat 5] [--url URL]

``--ordered-ids`` uses time-ordered ids (millisecond timestamp + random) instead of
``core.records.new_id``: B-tree inserts then land at the end of the indexes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from jupyter_flows.core.records import FlowRunInfo, TaskRunInfo
from jupyter_flows.core.records import new_id as random_id
from jupyter_flows.core.states import Completed, Pending, Running
from jupyter_flows.store.recorder import SqlRecorder


def ordered_id() -> str:
    return f"{time.time_ns() // 1_000_000:012x}{os.urandom(10).hex()}"


new_id: Callable[[], str] = random_id


def _one_round(recorder: SqlRecorder, n_tasks: int) -> tuple[float, float, float]:
    now = datetime.now(timezone.utc)
    flow_run = FlowRunInfo(new_id(), "bench", "bench-flow", None, None, [], {}, now)
    recorder.flow_run_created(flow_run)
    recorder.set_state("flow", flow_run.id, Running(), 1)
    recorder.flush()
    tasks = [
        TaskRunInfo(new_id(), flow_run.id, "bench.task", "task", f"task-{i}", [], now)
        for i in range(n_tasks)
    ]
    states = [(Pending(), Running(), Completed()) for _ in range(n_tasks)]
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for task, (pending, running, completed) in zip(tasks, states, strict=True):
        recorder.task_run_created(task)
        recorder.set_state("task", task.id, pending, 0)
        recorder.set_state("task", task.id, running, 1)
        recorder.set_state("task", task.id, completed, 1)
    hot = time.perf_counter() - wall0
    recorder.flush()
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    recorder.set_state("flow", flow_run.id, Completed(), 1)
    recorder.flush()
    return cpu / n_tasks * 1e6, wall / n_tasks * 1e6, hot / n_tasks * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--url", default=None, help="default: a new SQLite file")
    parser.add_argument("--ordered-ids", action="store_true")
    args = parser.parse_args()
    global new_id
    new_id = ordered_id if args.ordered_ids else random_id
    with tempfile.TemporaryDirectory() as tmp:
        url = args.url or f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
        recorder = SqlRecorder.from_url(url)
        try:
            _one_round(recorder, 1000)  # warm up
            rounds = [_one_round(recorder, args.tasks) for _ in range(args.repeat)]
        finally:
            recorder.close()
    cpu = [r[0] for r in rounds]
    ids = "time-ordered" if args.ordered_ids else "random"
    print(f"{args.tasks} tasks x {args.repeat} rounds on {url.split(':')[0]}, {ids} ids")
    print(f"  recorder CPU per task: median {statistics.median(cpu):.1f} us, min {min(cpu):.1f} us")
    print(f"  wall per task incl. flush: median {statistics.median(r[1] for r in rounds):.1f} us")
    hot = statistics.median(r[2] for r in rounds)
    print(f"  hot path (caller thread) per task: median {hot:.2f} us")


if __name__ == "__main__":
    main()
