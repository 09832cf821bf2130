"""``jupyter flows task-worker`` (Prefect's ``prefect task serve``) and ``jupyter flows
task-runs`` (the background task runs in the run database)."""

from __future__ import annotations

import importlib
import importlib.util
import logging
import sys
from pathlib import Path
from typing import Any

from jupyter_core.application import JupyterApp
from traitlets import Float, Int, List, Unicode

__all__ = ["TaskWorkerApp", "TaskRunsApp", "load_tasks"]


def _module(part: str) -> Any:
    if part.endswith(".py"):
        path = Path(part).resolve()
        if not path.is_file():
            raise ValueError(f"file {part!r} not found")
        spec = importlib.util.spec_from_file_location(path.stem, path)
        if spec is None or spec.loader is None:
            raise ValueError(f"cannot load {part!r}")
        module = importlib.util.module_from_spec(spec)
        sys.modules.setdefault(path.stem, module)
        spec.loader.exec_module(module)
        return module
    return importlib.import_module(part)


def load_tasks(entrypoints: list[str], modules: list[str]) -> list[Any]:
    """The tasks named by ``path/file.py:task`` or ``package.module:task`` entry points, and
    every task of each of ``modules``; ``ValueError`` naming what is wrong."""
    from ..core.tasks import Task

    found: list[Any] = []
    if "" not in sys.path:
        sys.path.insert(0, "")  # as ``python -m``: modules of the working directory import
    for entrypoint in entrypoints:
        part, sep, attr = entrypoint.rpartition(":")
        if not sep or not part or not attr:
            raise ValueError(f"{entrypoint!r} must look like 'path/file.py:task' or 'module:task'")
        try:
            target = getattr(_module(part), attr, None)
        except ImportError as exc:
            raise ValueError(f"cannot import {part!r}: {exc}") from None
        if not isinstance(target, Task):
            raise ValueError(f"{entrypoint!r} is not a task (decorate it with @task)")
        found.append(target)
    for name in modules:
        try:
            module = _module(name)
        except ImportError as exc:
            raise ValueError(f"cannot import {name!r}: {exc}") from None
        tasks = [v for v in vars(module).values() if isinstance(v, Task)]
        if not tasks:
            raise ValueError(f"module {name!r} defines no tasks")
        found.extend(tasks)
    return found


class TaskWorkerApp(JupyterApp):  # type: ignore[misc]
    """Serve tasks: run their background runs (``task.delay(...)``) until Ctrl-C."""

    name = "jupyter-flows-task-worker"
    description = (
        "Run the background runs of tasks (made with task.delay(...) in any process) from "
        "the run database ($JUPYTER_FLOWS_DB_URL, else the embedded SQLite), LIMIT at a time. "
        "Tasks are named as path/file.py:task or package.module:task; --module serves every "
        "task of a module. Several task workers may serve the same tasks: each run runs once. "
        "Ctrl-C or SIGTERM stops claiming and waits for the runs in flight; a second one "
        "ends them Crashed."
    )
    examples = """jupyter flows task-worker tasks.py:add tasks.py:multiply
jupyter flows task-worker myapp.tasks:send_email --limit 4
jupyter flows task-worker --module myapp.tasks
"""
    limit = Int(10, config=True, help="Runs at a time (0: no limit).")
    modules = List(Unicode(), config=True, help="Serve every task of this module (repeatable).")
    lease = Float(30.0, config=True, help="Seconds a claim holds without renewal.")
    poll_interval = Float(0.5, config=True, help="Seconds between looks at the queue.")
    timeout = Float(0.0, config=True, help="Stop after this many seconds (0: never).")
    aliases = {
        "limit": "TaskWorkerApp.limit",
        "module": "TaskWorkerApp.modules",
        "m": "TaskWorkerApp.modules",
        "lease": "TaskWorkerApp.lease",
        "poll-interval": "TaskWorkerApp.poll_interval",
        "timeout": "TaskWorkerApp.timeout",
    }
    flags: dict[str, Any] = {}

    def start(self) -> None:
        from ..task_worker import serve

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
        if not self.extra_args and not self.modules:
            print(
                "usage: jupyter flows task-worker MODULE:TASK [MODULE:TASK ...] [--limit N] "
                "[--module M]",
                file=sys.stderr,
            )
            self.exit(2)
        try:
            tasks = load_tasks(list(self.extra_args), list(self.modules))
        except ValueError as exc:
            print(f"jupyter flows task-worker: {exc}", file=sys.stderr)
            self.exit(1)
        serve(
            *tasks,
            limit=self.limit or None,
            timeout=self.timeout or None,
            lease_seconds=self.lease,
            poll_interval=self.poll_interval,
        )


class TaskRunsApp(JupyterApp):  # type: ignore[misc]
    """List background task runs (``task.delay``), newest first."""

    name = "jupyter-flows-task-runs"
    description = (
        "List the background task runs in the run database: task runs made with "
        "task.delay(...), which belong to no flow run, with their state and task worker."
    )
    examples = "jupyter flows task-runs --state Scheduled\njupyter flows task-runs --task add"
    state = Unicode("", config=True, help="Only runs in this state (type or name).")
    task = Unicode("", config=True, help="Only runs of the task of this name.")
    limit = Int(20, config=True, help="How many runs.")
    db_url = Unicode("", config=True, help="Run database URL (default: the embedded SQLite).")
    aliases = {
        "state": "TaskRunsApp.state",
        "task": "TaskRunsApp.task",
        "limit": "TaskRunsApp.limit",
        "db-url": "TaskRunsApp.db_url",
    }
    flags: dict[str, Any] = {}

    def start(self) -> None:
        from ..store.api import run_store
        from ..store.background_pages import read_background_task_runs
        from ..store.schemas import ListBackgroundTaskRunsQuery

        query = ListBackgroundTaskRunsQuery(
            state=[self.state] if self.state else None,
            task_name=self.task or None,
            limit=self.limit,
        )
        page = read_background_task_runs(run_store(self.db_url or None).engine, query)
        print(f"{'task run':<24} {'state':<12} {'worker':<28} id")
        for r in page.items:
            print(f"{r.name[:24]:<24} {r.state_name or '':<12} {(r.worker or '')[:28]:<28} {r.id}")
        print(f"({len(page.items)} of {page.total})")
