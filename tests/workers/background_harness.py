"""Background tasks under test: a module of tasks on disk, task worker processes, DB reads."""

from __future__ import annotations

import importlib
import os
import signal
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from sqlalchemy import select

from jupyter_flows.store.api import run_store
from jupyter_flows.store.models import (
    BackgroundTaskRunRecord,
    RunLogRecord,
    RunStateRecord,
    TaskRunRecord,
)

__all__ = ["TASKS", "Harness"]

TASKS = '''
import os, time
from jupyter_flows import task

@task(log_prints=True)
def add(a: int, b: int) -> int:
    print(f"{a} + {b} = {a + b}")
    return a + b

@task(log_prints=True)
def multiply(a: int, b: int) -> int:
    print(f"{a} * {b} = {a * b}")
    return a * b

@task
def record(path: str, item: int) -> int:
    """Appends one line per execution: the test counts them."""
    with open(path, "a") as f:
        f.write(f"{item}\\n")
    time.sleep(0.02)
    return item

@task(retries=2, retry_delay_seconds=0)
def flaky(path: str) -> int:
    with open(path, "a") as f:
        f.write("x")
    attempts = len(open(path).read())
    if attempts < 3:
        raise ValueError(f"attempt {attempts} fails")
    return attempts

@task
def fail() -> None:
    raise ZeroDivisionError("no dice")

@task
def hang(path: str) -> None:
    with open(path, "a") as f:
        f.write("started\\n")
    time.sleep(120)

@task
def slow(seconds: float) -> str:
    time.sleep(seconds)
    return "done"

@task
def echo(value):
    return value
'''

_WORKER = """
import sys
from jupyter_flows.task_worker import serve
import bgtasks
names, limit, lease = sys.argv[1].split(","), int(sys.argv[2]), float(sys.argv[3])
serve(*[getattr(bgtasks, n) for n in names], limit=limit, lease_seconds=lease,
      poll_interval=0.1)
"""

_TABLES = {
    "queue": BackgroundTaskRunRecord.__table__,  # type: ignore[attr-defined]
    "task_run": TaskRunRecord.__table__,  # type: ignore[attr-defined]
    "state": RunStateRecord.__table__,  # type: ignore[attr-defined]
    "log": RunLogRecord.__table__,  # type: ignore[attr-defined]
}


class Harness:
    """A directory with ``bgtasks.py``, this process on the test's database, and the task
    worker processes it started (stopped by ``close``)."""

    def __init__(self, tmp: Path, db_url: str):
        self.dir = tmp / "app"
        self.dir.mkdir(exist_ok=True)
        (self.dir / "bgtasks.py").write_text(TASKS)
        self.db_url = db_url
        path = os.pathsep.join([str(self.dir), os.environ.get("PYTHONPATH", "")])
        self.env = dict(os.environ, JUPYTER_FLOWS_DB_URL=db_url, PYTHONPATH=path)
        self.procs: list[subprocess.Popen[bytes]] = []
        self.logs = tmp / "workers.log"

    def tasks(self) -> ModuleType:
        sys.modules.pop("bgtasks", None)
        sys.path.insert(0, str(self.dir))
        try:
            return importlib.import_module("bgtasks")
        finally:
            sys.path.remove(str(self.dir))

    def start_worker(self, *tasks: str, limit: int = 10, lease: float = 30.0) -> Any:
        return self.start(["-c", _WORKER, ",".join(tasks), str(limit), str(lease)])

    def start(self, args: list[str]) -> subprocess.Popen[bytes]:
        with self.logs.open("ab") as log:
            proc = subprocess.Popen(
                [sys.executable, *args], cwd=self.dir, env=self.env, stderr=log,
                stdout=subprocess.DEVNULL,
            )  # fmt: skip
        self.procs.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen[bytes]) -> int:
        proc.send_signal(signal.SIGTERM)
        return proc.wait(timeout=60)

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)

    # -- reads ---------------------------------------------------------------------------

    def rows(self, table: str, **where: Any) -> list[Any]:
        t = _TABLES[table]
        query = select(t).where(*(t.c[k] == v for k, v in where.items()))
        with run_store(self.db_url).engine.connect() as conn:
            return list(conn.execute(query).mappings())

    def state_names(self, run_id: str) -> list[str]:
        states = sorted(self.rows("state", run_id=run_id), key=lambda r: r["id"])
        return [r["name"] for r in states]

    def messages(self, run_id: str) -> list[str]:
        return [r["message"] for r in self.rows("log", task_run_id=run_id)]

    def messages_of_task(self, task_name: str) -> list[str]:
        runs = self.rows("task_run", task_name=task_name)
        return sorted(m for r in runs for m in self.messages(r["id"]))
