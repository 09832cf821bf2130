"""A large flow run written straight into the run tables with SQL (fast, no engine).

Shared by the read-path tests (server, browser) and ``benchmarks/read_paths.py``. The run is
a map-reduce: ``prepare`` feeds ``work[i]``, ``work[i]`` feeds ``check[i]``, every ``check``
feeds ``summarize``. Each task run has three states (Pending, Running, then Completed, or
Failed for every ``fail_every``-th check) and one log line; a failed one an ERROR line too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy.engine import Engine

#: task keys, in order of creation
KEYS = ("big.prepare", "big.work", "big.check", "big.summarize")


@dataclass
class BigRun:
    """What ``insert_big_run`` wrote."""

    id: str
    n_tasks: int
    n_logs: int
    counts: dict[str, int] = field(default_factory=dict)  # task runs by state type
    per_key: dict[str, int] = field(default_factory=dict)  # task runs by task key
    failed_ids: list[str] = field(default_factory=list)


def insert_big_run(
    engine: Engine, n_tasks: int, run_id: str = "b" * 32, fail_every: int = 500
) -> BigRun:
    """A flow run with ``n_tasks`` task runs (>= 4): Failed if any check failed."""
    from sqlmodel import SQLModel

    import jupyter_flows.store.models  # noqa: F401  (registers the tables)

    tables = SQLModel.metadata.tables
    t0 = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
    pairs = (n_tasks - 2) // 2
    plan = [("big.prepare", 0)]
    plan += [("big.work", i) for i in range(pairs)] + [("big.check", i) for i in range(pairs)]
    plan += [("big.summarize", 0)] * (n_tasks - 1 - 2 * pairs)
    result = BigRun(run_id, n_tasks, 0)
    task_rows: list[dict[str, Any]] = []
    states: list[dict[str, Any]] = []
    logs: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []
    ids: dict[tuple[str, int], str] = {}
    for n, (key, i) in enumerate(plan):
        tid = f"{run_id[:8]}{n:023x}t"
        ids[key, i] = tid
        failed = key == "big.check" and i % fail_every == fail_every - 1
        type_, name = ("FAILED", "Failed") if failed else ("COMPLETED", "Completed")
        at = t0 + timedelta(milliseconds=n)
        short = key.split(".")[1]
        task_rows.append(
            {"id": tid, "flow_run_id": run_id, "task_key": key, "task_name": short,
             "name": f"{short}-{i}", "tags": [], "dynamic_key": i, "state_type": type_,
             "state_name": name, "state_message": "ValueError: bad row" if failed else None,
             "created": at, "start_time": at, "end_time": at + timedelta(milliseconds=1),
             "run_count": 1, "total_run_time": 0.001}
        )  # fmt: skip
        for kind, label in (("PENDING", "Pending"), ("RUNNING", "Running"), (type_, name)):
            states.append(
                {"run_id": tid, "run_kind": "task", "flow_run_id": run_id, "type": kind,
                 "name": label, "timestamp": at}
            )  # fmt: skip
        logs.append(
            {"flow_run_id": run_id, "task_run_id": tid, "level": 20,
             "logger": "jupyter_flows.task_runs", "message": f"{short} {i} done", "timestamp": at}
        )  # fmt: skip
        if failed:
            logs.append(
                {"flow_run_id": run_id, "task_run_id": tid, "level": 40,
                 "logger": "jupyter_flows.task_runs", "timestamp": at,
                 "message": "Traceback (most recent call last):\nValueError: bad row"}
            )  # fmt: skip
            result.failed_ids.append(tid)
        result.counts[type_] = result.counts.get(type_, 0) + 1
        result.per_key[key] = result.per_key.get(key, 0) + 1
        if key == "big.work":
            edges.append(_edge(tid, ids["big.prepare", 0], "x"))
        elif key == "big.check":
            edges.append(_edge(tid, ids["big.work", i], "value"))
    for (key, _i), tid in ids.items():
        if key == "big.check" and ("big.summarize", 0) in ids:
            edges.append(_edge(ids["big.summarize", 0], tid, "values"))
    end = t0 + timedelta(milliseconds=n_tasks + 5)
    flow_type = ("FAILED", "Failed") if result.failed_ids else ("COMPLETED", "Completed")
    run = {
        "id": run_id, "name": "big-run", "flow_name": "big", "parameters": {"n": n_tasks},
        "tags": ["big"], "state_type": flow_type[0], "state_name": flow_type[1],
        "created": t0, "start_time": t0, "end_time": end, "run_count": 1,
        "total_run_time": (end - t0).total_seconds(),
    }  # fmt: skip
    flow_states = [
        {"run_id": run_id, "run_kind": "flow", "flow_run_id": run_id, "type": kind,
         "name": label, "timestamp": at}
        for kind, label, at in (("PENDING", "Pending", t0), ("RUNNING", "Running", t0),
                                (*flow_type, end))
    ]  # fmt: skip
    with engine.begin() as conn:
        conn.execute(tables["flow_run"].insert(), [run])
        conn.execute(tables["task_run"].insert(), task_rows)
        conn.execute(tables["run_state"].insert(), flow_states + states)
        conn.execute(tables["run_log"].insert(), logs)
        conn.execute(tables["task_run_input"].insert(), edges)
    result.n_logs = len(logs)
    return result


def _edge(downstream: str, upstream: str, parameter: str) -> dict[str, Any]:
    return {"task_run_id": downstream, "upstream_id": upstream, "kind": "data",
            "parameter": parameter}  # fmt: skip
