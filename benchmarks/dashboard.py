"""Dashboard benchmark: ``read_dashboard`` (what ``GET api/dashboard`` runs) over 100,000 runs.

Usage: ``python benchmarks/dashboard.py [--quick] [DB_URL ...]`` (``--quick``: 10,000 runs;
default: a temporary SQLite file; pass ``postgresql+psycopg://...`` of an empty database for
PostgreSQL). The runs are spread over
30 days, 20 flows and 10 deployments, one in seven failed, with work pools and 50 workers;
each window the panel offers (1 h, 24 h, 7 d, 30 d) is read 5 times and the median and the
slowest are printed. Target: under 1 s for the 30-day window.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

RUNS = 100_000
WINDOWS = {"1h": (timedelta(hours=1), 120), "24h": (timedelta(days=1), 3600),
           "7d": (timedelta(days=7), 6 * 3600), "30d": (timedelta(days=30), 86400)}  # fmt: skip


def fill(url: str) -> None:
    from jupyter_flows.orchestration._tables import DEPLOYMENT, FLOW_RUN, POOL, WORKER
    from jupyter_flows.store.db import open_store

    engine = open_store(url)
    now = datetime.now(timezone.utc)
    span = timedelta(days=30).total_seconds()
    runs = []
    for i in range(RUNS):
        created = now - timedelta(seconds=span * i / RUNS)
        state = "FAILED" if i % 7 == 0 else "COMPLETED" if i % 50 else "RUNNING"
        runs.append({
            "id": f"{i:032x}", "name": f"run-{i}", "flow_name": f"flow{i % 20}",
            "parameters": {}, "tags": [], "state_type": state, "state_name": state.title(),
            "state_message": None, "created": created, "start_time": created,
            "end_time": created + timedelta(seconds=i % 300) if state != "RUNNING" else None,
            "expected_start_time": None, "run_count": 1, "total_run_time": 0.0,
            "deployment_id": f"d{i % 10}" if i % 3 else None, "work_pool": f"pool{i % 5}",
            "job_variables": {},
        })  # fmt: skip
    with engine.begin() as conn:
        conn.execute(
            DEPLOYMENT.insert(),
            [{"id": f"d{i}", "name": f"dep{i}", "entrypoint": "x.py:f", "kind": "python",
              "parameters": {}, "tags": [], "paused": False, "created": now, "updated": now}
             for i in range(10)],
        )  # fmt: skip
        conn.execute(
            POOL.insert(),
            [{"name": f"pool{i}", "type": "process", "paused": False, "created": now}
             for i in range(5)],
        )  # fmt: skip
        conn.execute(
            WORKER.insert(),
            [{"name": f"w{i}", "work_pool": f"pool{i % 5}",
              "last_heartbeat": now - timedelta(seconds=30 * i)} for i in range(50)],
        )  # fmt: skip
        for start in range(0, RUNS, 10_000):
            conn.execute(FLOW_RUN.insert(), runs[start : start + 10_000])
    engine.dispose()


def measure(url: str) -> None:
    from jupyter_flows.orchestration.dashboard import read_dashboard
    from jupyter_flows.orchestration.dashboard_schemas import ReadDashboardQuery
    from jupyter_flows.store.db import open_store

    engine = open_store(url)
    print(f"{engine.dialect.name}: {RUNS:,} runs")
    for name, (length, bucket) in WINDOWS.items():
        until = datetime.now(timezone.utc)
        query = ReadDashboardQuery(since=until - length, until=until, bucket=bucket)
        times = []
        for _ in range(5):
            started = time.perf_counter()
            result = read_dashboard(engine, query, 60.0)
            times.append(time.perf_counter() - started)
        print(
            f"  {name:>4}: {result.total_runs:>7,} runs in the window, "
            f"median {statistics.median(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms"
        )
    engine.dispose()


def main() -> None:
    global RUNS
    urls = [arg for arg in sys.argv[1:] if arg != "--quick"]
    if "--quick" in sys.argv[1:]:
        RUNS = 10_000
    if not urls:
        urls = [f"sqlite:///{Path(tempfile.mkdtemp()) / 'dashboard.sqlite'}"]
    for url in urls:
        started = time.perf_counter()
        fill(url)
        print(f"filled in {time.perf_counter() - started:.1f} s")
        measure(url)


if __name__ == "__main__":
    main()
