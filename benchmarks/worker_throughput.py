"""Worker throughput: how many one-task flow runs a minute ``--workers`` process workers
(``--limit`` runs at a time each) start and finish on this machine.

Usage: ``python benchmarks/worker_throughput.py [--quick] [--runs N] [--workers 4]
[--limit 2]``. Each run is a real run process (``python -m ...execute_run``) recording
into the same SQLite file; the figure is runs finished / wall time, and the CPU the run
processes used per run says what bounds it (a 2-core machine runs at most 2 at once).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

FLOW = """
from jupyter_flows import flow, task


@task
def one(x: int) -> int:
    return x + 1


@flow
def tiny(x: int = 1) -> int:
    return one(x)
"""


def throughput(runs: int, workers: int, limit: int) -> dict[str, float]:
    from jupyter_flows.orchestration.schemas import CreateDeployment, CreateDeploymentRun
    from jupyter_flows.orchestration.service import OrchestrationService
    from jupyter_flows.store.db import open_store
    from jupyter_flows.workers.clients import LocalClient
    from jupyter_flows.workers.worker import Worker

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        root = tmp / "root"
        root.mkdir()
        (root / "flows.py").write_text(FLOW)
        url = f"sqlite:///{tmp / 'w.sqlite'}"
        service = OrchestrationService(open_store(url), root, tmp / "outputs")
        dep = service.create_deployment(CreateDeployment(name="tiny", entrypoint="flows.py:tiny"))
        ids = [service.run_deployment(dep.id, CreateDeploymentRun()).id for _ in range(runs)]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        pool: list[Worker] = []
        threads: list[threading.Thread] = []
        for i in range(workers):
            worker = Worker(
                LocalClient(service),
                "default",
                name=f"bench-{i}",
                limit=limit,
                poll_interval=0.2,
                root_dir=root,
                outputs_dir=tmp / "outputs",
            )
            pool.append(worker)
            threads.append(threading.Thread(target=worker.run, daemon=True))
        os.environ["JUPYTER_FLOWS_DB_URL"] = url  # the run processes record into it
        for thread in threads:
            thread.start()
        finals = 0
        while finals < runs and time.perf_counter() - started < 600:
            time.sleep(0.25)
            finals = sum(
                service.runs.read_flow_run_item(i).state_type in ("COMPLETED", "FAILED", "CRASHED")
                for i in ids
            )
        elapsed = time.perf_counter() - started
        for worker in pool:
            worker.stop()
        for thread in threads:
            thread.join(timeout=30)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        completed = sum(service.runs.read_flow_run_item(i).state_type == "COMPLETED" for i in ids)
        service.engine.dispose()
    return {
        "runs": runs,
        "completed": completed,
        "per_minute": finals / elapsed * 60,
        "cpu_ms_per_run": cpu / max(finals, 1) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="40 runs")
    parser.add_argument("--runs", type=int, default=0)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--limit", type=int, default=2)
    args = parser.parse_args()
    runs = args.runs or (40 if args.quick else 300)
    r = throughput(runs, args.workers, args.limit)
    print(
        f"{'runs':>5} {'completed':>9} {'workers':>7} {'limit':>5} {'runs/min':>8} "
        f"{'cpu ms/run':>10}"
    )
    print(
        f"{r['runs']:>5} {r['completed']:>9} {args.workers:>7} {args.limit:>5} "
        f"{r['per_minute']:>8.0f} {r['cpu_ms_per_run']:>10.0f}"
    )


if __name__ == "__main__":
    main()
