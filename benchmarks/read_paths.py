"""Read-path benchmarks: the REST reads of the run list and of a run view, on a real server.

Usage: ``python benchmarks/read_paths.py [--quick]``. One ``jupyter server`` process on a
SQLite file holding 100,000 flow runs and one 10,000-task run (full mode: a 100,000-task run
too), written straight with SQL. Each request is timed end to end over HTTP; the table gives
p50/p99 latency and the body size, the targets being <= 1 s and <= 1 MB per request. Also:
the latency of ``health`` while other clients read large run views (the event loop must not
stall), and, for comparison, the full ``read_flow_run`` object the detail used to send.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # tests.server.big_run: the run the tests read too

from orchestration import TOKEN, free_port, pct  # noqa: E402

LIST_RUNS = 100_000
TARGET_S, TARGET_BYTES = 1.0, 1_000_000


def insert_runs(url: str, runs: int) -> None:
    """``runs`` finished flow runs (no task runs), one a second back from now."""
    from jupyter_flows.store.db import open_store
    from jupyter_flows.store.models import FlowRunRecord

    engine = open_store(url)
    now = datetime.now(timezone.utc)
    rows = [
        {"id": f"{i:032x}", "name": f"run-{i}", "flow_name": f"flow{i % 20}", "parameters": {},
         "tags": ["bench"] if i % 2 else [], "state_type": "COMPLETED" if i % 7 else "FAILED",
         "state_name": "Completed" if i % 7 else "Failed", "created": now - timedelta(seconds=i),
         "run_count": 1, "total_run_time": 0.1}
        for i in range(runs)
    ]  # fmt: skip
    with engine.begin() as conn:
        conn.execute(FlowRunRecord.__table__.insert(), rows)  # type: ignore[attr-defined]
    engine.dispose()


def insert_task_run(url: str, n_tasks: int, run_id: str) -> int:
    """A flow run of ``n_tasks`` task runs; returns the id of its 10th last log line."""
    from jupyter_flows.store.db import open_store
    from jupyter_flows.store.repository import RunStore
    from tests.server.big_run import insert_big_run

    engine = open_store(url)
    insert_big_run(engine, n_tasks, run_id=run_id)
    lines, _ = RunStore(engine).read_log_page(run_id, newest=True, limit=10)
    engine.dispose()
    return lines[0].id


class Server:
    """A ``jupyter server`` with jupyter-flows on ``url`` (no worker, no scheduler)."""

    def __init__(self, tmp: Path, url: str) -> None:
        self.base = f"http://127.0.0.1:{free_port()}"
        port = self.base.rsplit(":", 1)[1]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "jupyter_server", "--no-browser", "--allow-root",
             "--ServerApp.ip=127.0.0.1", f"--port={port}", f"--IdentityProvider.token={TOKEN}",
             f"--ServerApp.root_dir={tmp}", "--ServerApp.jpserver_extensions=jupyter_flows=True",
             f"--FlowsApp.db_url={url}", "--FlowsApp.embedded_worker=False",
             "--FlowsApp.scheduler_enabled=False"],
            env=dict(os.environ, JUPYTER_FLOWS_DB_URL=url),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while True:
            try:
                self.get("health")
                return
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise
                time.sleep(0.2)

    def get(self, path: str) -> tuple[float, int]:
        """(seconds, bytes) of one GET of ``api/<path>``."""
        request = urllib.request.Request(f"{self.base}/jupyter-flows/api/{path}")
        request.add_header("Authorization", f"token {TOKEN}")
        t0 = time.perf_counter()
        with urllib.request.urlopen(request, timeout=120) as response:
            body = response.read()
        return time.perf_counter() - t0, len(body)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def measure(server: Server, paths: list[str], requests: int) -> dict[str, float]:
    server.get(paths[0])  # warm-up (caches, imports)
    times, sizes = [], []
    for i in range(requests):
        seconds, size = server.get(paths[i % len(paths)])
        times.append(seconds)
        sizes.append(size)
    return {"p50": pct(times, 0.5), "p99": pct(times, 0.99), "bytes": max(sizes)}


def loop_stall(server: Server, heavy: list[str], requests: int) -> dict[str, float]:
    """``health`` latency while two clients keep reading ``heavy`` paths."""
    stop = threading.Event()

    def hammer() -> None:
        while not stop.is_set():
            for path in heavy:
                server.get(path)

    clients = [threading.Thread(target=hammer) for _ in range(2)]
    for client in clients:
        client.start()
    try:
        time.sleep(0.5)
        times = [server.get("health")[0] for _ in range(requests)]
    finally:
        stop.set()
        for client in clients:
            client.join(timeout=120)
    return {"p50": pct(times, 0.5), "p99": pct(times, 0.99), "bytes": 0}


def full_object(url: str, run_id: str) -> dict[str, float]:
    """What the detail route used to send: the whole ``read_flow_run``, JSON-encoded."""
    from jupyter_flows.store.repository import RunStore

    store = RunStore.from_url(url)
    t0 = time.perf_counter()
    size = len(store.read_flow_run(run_id).model_dump_json())
    seconds = time.perf_counter() - t0
    store.engine.dispose()
    return {"p50": seconds, "p99": seconds, "bytes": size}


def run_view(run_id: str, n_tasks: int, tail_id: int) -> list[tuple[str, list[str]]]:
    base = f"flow_runs/{run_id}"
    return [
        ("detail", [base]),
        ("task runs page (100 + states)", [f"{base}/task_runs?limit=100&with_states=true"]),
        ("task runs, last page", [f"{base}/task_runs?limit=100&offset={n_tasks - 100}"]),
        ("task runs, failed only", [f"{base}/task_runs?state=FAILED,CRASHED&limit=20"]),
        ("logs, newest 500", [f"{base}/logs?newest=true&limit=500"]),
        ("logs, follow (after_id)", [f"{base}/logs?after_id={tail_id}&limit=500"]),
        ("logs, errors", [f"{base}/logs?min_level=40&newest=true&limit=50"]),
        ("graph (aggregated)", [f"{base}/graph"]),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests, no 100,000-task run")
    args = parser.parse_args()
    requests = 30 if args.quick else 200
    sizes = [10_000] if args.quick else [10_000, 100_000]
    rows: list[tuple[str, dict[str, float]]] = []
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        os.environ["JUPYTER_FLOWS_HOME"] = str(tmp / "home")
        url = f"sqlite:///{tmp / 'reads.sqlite'}"
        insert_runs(url, LIST_RUNS)
        ids = {n: f"{n:08x}" + "b" * 24 for n in sizes}  # distinct 8-char prefixes
        tails = {n: insert_task_run(url, n, run_id) for n, run_id in ids.items()}
        server = Server(tmp, url)
        try:
            rows.append(
                (
                    f"list, {LIST_RUNS:,} runs (5 filters/pages)",
                    measure(
                        server,
                        ["flow_runs?limit=50", "flow_runs?limit=50&offset=5000",
                         "flow_runs?flow_name=flow3&limit=50", "flow_runs?state=failed&limit=50",
                         "flow_runs?tags=bench&limit=50&offset=100"],
                        requests,
                    ),
                )
            )  # fmt: skip
            for n, run_id in ids.items():
                for name, paths in run_view(run_id, n, tails[n]):
                    rows.append((f"{n:,}-task run: {name}", measure(server, paths, requests)))
            n = max(sizes)
            heavy = [p for _, paths in run_view(ids[n], n, tails[n]) for p in paths]
            rows.append(("health while 2 clients read run views", loop_stall(server, heavy, 50)))
        finally:
            server.stop()
        for n, run_id in ids.items():
            rows.append(
                (f"{n:,}-task run: read_flow_run (the old detail)", full_object(url, run_id))
            )
    mode = "quick" if args.quick else "full"
    print(f"jupyter-flows read-path benchmarks ({mode}, {requests} requests each)")
    width = max(len(name) for name, _ in rows)
    print(f"{'request':<{width}}  {'p50':>9}  {'p99':>9}  {'bytes':>11}  within 1 s / 1 MB")
    for name, r in rows:
        ok = r["p99"] <= TARGET_S and r["bytes"] <= TARGET_BYTES
        mark = "" if "old detail" in name else ("yes" if ok else "NO")
        print(
            f"{name:<{width}}  {r['p50'] * 1000:>7.1f}ms  {r['p99'] * 1000:>7.1f}ms  "
            f"{r['bytes']:>11,.0f}  {mark}"
        )


if __name__ == "__main__":
    main()
