"""Scheduler at scale: ``create_deployment`` cost as deployments grow, a full sync, and a
burst of every schedule falling due in the same second (due -> run created -> claimed).

Usage: ``python benchmarks/scheduler.py [--quick] [--sizes 1000,10000] [--db URL]``.
Prints one line per size; figures are medians/percentiles of one run (compare ratios from
runs alternated in one sitting, not absolute times).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.orchestration import notebook, pct  # noqa: E402


def _service(tmp: Path, url: str | None) -> Any:
    from jupyter_flows.orchestration.service import OrchestrationService
    from jupyter_flows.store.db import open_store

    root = tmp / "root"
    root.mkdir()
    notebook(root / "nb.ipynb", "pass")
    return OrchestrationService(open_store(url or f"sqlite:///{tmp / 's.sqlite'}"), root, tmp)


def scale(n: int, url: str | None, lead: float = 10.0) -> dict[str, float]:
    from jupyter_flows.orchestration.schemas import CreateDeployment, ScheduleSpec
    from jupyter_flows.scheduling.scheduler import FlowsScheduler

    with tempfile.TemporaryDirectory() as tmp:
        service = _service(Path(tmp), url)
        scheduler = FlowsScheduler(service)
        scheduler.start()
        yearly = [ScheduleSpec(cron="0 0 1 1 *")]
        started = time.perf_counter()
        for i in range(n):
            service.create_deployment(
                CreateDeployment(name=f"d{i}", entrypoint="nb.ipynb", schedules=yearly)
            )
        fill_s = time.perf_counter() - started
        costs = []
        for i in range(20):  # the cost of one more deployment with n of them scheduled
            t0 = time.perf_counter()
            service.create_deployment(
                CreateDeployment(name=f"x{i}", entrypoint="nb.ipynb", schedules=yearly)
            )
            costs.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        scheduler.sync()
        sync_ms = (time.perf_counter() - t0) * 1000
        jobs = len(scheduler.job_ids())
        scheduler.shutdown()

        # the burst: every deployment due at the same second
        due = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(seconds=5 + lead)
        burst = [ScheduleSpec(interval_seconds=3600, anchor_date=due)]
        from sqlalchemy import update

        from jupyter_flows.orchestration._tables import DEPLOYMENT

        with service.engine.begin() as conn:
            conn.execute(
                update(DEPLOYMENT).values(
                    schedules=[burst[0].model_dump(mode="json") | {"id": "b"}]
                )
            )
        scheduler = FlowsScheduler(service, lead_seconds=lead)
        scheduler.start()
        created: list[float] = []
        claimed: list[float] = []
        deadline = time.monotonic() + 120
        total = n + 20
        while len(claimed) < total and time.monotonic() < deadline:
            for run in service.claim_runs("default", "bench", 100):
                expected = run.flow_run.expected_start_time
                made = run.flow_run.created
                now = datetime.now(timezone.utc)
                claimed.append((now - expected).total_seconds())
                created.append((made - expected).total_seconds())
            time.sleep(0.01)
        scheduler.shutdown()
        spread = _spread(service, lead)
        service.engine.dispose()
    return {
        "deployments": n,
        "jobs": jobs,
        "fill_s": fill_s,
        "create_ms": statistics.median(costs),
        "sync_ms": sync_ms,
        "due_runs": len(claimed),
        "created_p99_s": pct(created, 0.99) if created else float("nan"),
        "claimed_p50_s": pct(claimed, 0.5) if claimed else float("nan"),
        "claimed_p99_s": pct(claimed, 0.99) if claimed else float("nan"),
        **spread,
    }


def _spread(service: Any, lead: float, window: float = 30.0) -> dict[str, float]:
    """Every deployment due once a minute, their due times spread over the minute (10,000
    deployments: ~167 runs due a second); a claimer polling every 0.5 s, as 2 workers with
    the default 1 s poll would: how late each run starts after its due time."""
    from sqlalchemy import update

    from jupyter_flows.orchestration._tables import DEPLOYMENT, FLOW_RUN
    from jupyter_flows.scheduling.scheduler import FlowsScheduler

    base = datetime(2020, 1, 1, tzinfo=timezone.utc)
    with service.engine.begin() as conn:
        conn.execute(FLOW_RUN.delete())
        ids = [row[0] for row in conn.execute(select_ids(DEPLOYMENT))]
        for i, deployment_id in enumerate(ids):
            anchor = base + timedelta(seconds=60 * i / len(ids))
            spec = {"id": "s", "interval_seconds": 60, "anchor_date": anchor.isoformat()}
            conn.execute(
                update(DEPLOYMENT).where(DEPLOYMENT.c.id == deployment_id).values(schedules=[spec])
            )
    scheduler = FlowsScheduler(service, lead_seconds=lead)
    scheduler.start()
    late: list[float] = []
    start = datetime.now(timezone.utc) + timedelta(seconds=lead + 2)  # made ahead by then
    deadline = time.monotonic() + lead + 2 + window
    while time.monotonic() < deadline:
        for run in service.claim_runs("default", "bench", 200):
            expected = run.flow_run.expected_start_time
            if expected >= start:
                late.append((datetime.now(timezone.utc) - expected).total_seconds())
        time.sleep(0.5)
    scheduler.shutdown()
    return {
        "spread_runs": len(late),
        "spread_p50_s": pct(late, 0.5) if late else float("nan"),
        "spread_p99_s": pct(late, 0.99) if late else float("nan"),
    }


def select_ids(table: Any) -> Any:
    from sqlalchemy import select

    return select(table.c.id).order_by(table.c.id)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 and 1,000 deployments")
    parser.add_argument("--sizes", default="", help="comma-separated numbers of deployments")
    parser.add_argument("--db", default=None, help="a database URL (default: a SQLite file)")
    parser.add_argument(
        "--lead", type=float, default=10.0, help="seconds runs are made ahead (the server's)"
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s] or (
        [100, 1000] if args.quick else [1000, 10000]
    )
    print(
        f"{'deployments':>11} {'jobs':>6} {'create ms':>9} {'sync ms':>8} {'due runs':>8} "
        f"{'created p99 s':>13} {'claimed p50 s':>13} {'claimed p99 s':>13} "
        f"{'spread runs':>11} {'spread p50 s':>12} {'spread p99 s':>12}"
    )
    for n in sizes:
        r = scale(n, args.db, args.lead)
        print(
            f"{r['deployments']:>11} {r['jobs']:>6} {r['create_ms']:>9.2f} {r['sync_ms']:>8.0f} "
            f"{r['due_runs']:>8} {r['created_p99_s']:>13.2f} {r['claimed_p50_s']:>13.2f} "
            f"{r['claimed_p99_s']:>13.2f} {r['spread_runs']:>11} {r['spread_p50_s']:>12.2f} "
            f"{r['spread_p99_s']:>12.2f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
