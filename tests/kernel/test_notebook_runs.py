"""What a notebook's runs look like from outside while and after its cells run: real
kernels, their SQLite database read directly, cancels made the way the server makes them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_flows.store.api import read_flow_run, read_flow_runs
from tests.helpers import wait
from tests.kernel.conftest import KernelSession, RunDatabase


def gated(path: Path) -> str:
    """Cell code that blocks until ``path`` exists, at most 2 minutes (so that a test acts
    while the cell runs)."""
    return (
        "import os, time\n"
        f"for _ in range(6000):\n    if os.path.exists({str(path)!r}):\n        break\n"
        "    time.sleep(0.02)\n"
    )


def run_named(db: RunDatabase, name: str) -> str | None:
    found = db.rows("SELECT id FROM flow_run WHERE name = ? ORDER BY created DESC", name)
    return found[0][0] if found else None


def task_state(db: RunDatabase, task_name: str) -> str | None:
    found = db.rows(
        "SELECT state_name FROM task_run WHERE task_name = ? ORDER BY created DESC", task_name
    )
    return found[0][0] if found else None


def edges_named(run: Any) -> set[tuple[str, str]]:
    names = {t.id: t.task_name for t in run.task_runs}
    return {(names[e.upstream_id], names[e.downstream_id]) for e in run.edges}


@pytest.fixture
def deployment(
    kernel_env: dict[str, str], runs_db: RunDatabase
) -> Iterator[tuple[KernelSession, str]]:
    """A kernel as papermill starts it for a worker's run (JUPYTER_FLOWS_FLOW_RUN_ID set)."""
    run_id = runs_db.worker_run()
    session = KernelSession(dict(kernel_env, JUPYTER_FLOWS_FLOW_RUN_ID=run_id))
    try:
        session.ok("%load_ext jupyter_flows")
        yield session, run_id
    finally:
        session.shutdown()


class TestCancel:
    def test_cancel_while_a_cell_runs_ends_its_run_cancelled(
        self, kernel: KernelSession, runs_db: RunDatabase, tmp_path: Path
    ) -> None:
        go = tmp_path / "go"
        pending = kernel.start("%%task waits\n" + gated(go) + "done = True")
        run_id = wait(lambda: run_named(runs_db, "waits"), 60, "the cell's flow run")
        wait(lambda: task_state(runs_db, "waits") == "Running", 60, "the cell to start")
        runs_db.cancel(run_id)
        assert runs_db.state(run_id) == "Cancelling"
        go.touch()
        r = kernel.collect(pending)
        assert r.status == "ok"  # the running cell was not interrupted: it completed
        run = read_flow_run(run_id, url=runs_db.url)
        assert run.state_name == "Cancelled"  # not left Cancelling
        assert [t.state_name for t in run.task_runs] == ["Completed"]

    def test_an_interrupted_cell_ends_its_run(
        self, kernel: KernelSession, runs_db: RunDatabase, tmp_path: Path
    ) -> None:
        pending = kernel.start("%%task stuck\n" + gated(tmp_path / "never"))
        run_id = wait(lambda: run_named(runs_db, "stuck"), 60, "the cell's flow run")
        wait(lambda: task_state(runs_db, "stuck") == "Running", 60, "the cell to start")
        kernel.km.interrupt_kernel()  # the kernel's own interrupt (the toolbar's stop button)
        r = kernel.collect(pending)
        assert (r.status, r.ename) == ("error", "KeyboardInterrupt")
        run = read_flow_run(run_id, url=runs_db.url)
        assert (run.state_name, run.state_message) == ("Crashed", "KeyboardInterrupt")
        assert [t.state_name for t in run.task_runs] == ["Crashed"]
        assert kernel.ok("%%task after\nx = 6 * 7\nx").value == "42"  # the kernel goes on

    @pytest.mark.parametrize("options", ["", " --parallel"])
    def test_cancel_during_flow_run_ends_the_remaining_cells_cancelled(
        self, kernel: KernelSession, runs_db: RunDatabase, tmp_path: Path, options: str
    ) -> None:
        go = tmp_path / "go"
        go.touch()  # while the cells are defined
        kernel.ok("calls = []")
        kernel.ok("%%task a\n" + gated(go) + "a = 1")
        kernel.ok("%%task b\ncalls.append('b')\nb = a + 1")
        kernel.ok("%%task c\ncalls.append('c')\nc = a * 3")
        assert kernel.ok("print(calls)").stdout.strip() == "['b', 'c']"
        go.unlink()
        pending = kernel.start("%flow run" + options)
        run_id = wait(
            lambda: runs_db.rows("SELECT id FROM flow_run WHERE tags LIKE '%flow-run%'"),
            60,
            "the %flow run's flow run",
        )[0][0]
        wait(
            lambda: runs_db.rows(
                "SELECT 1 FROM task_run WHERE flow_run_id = ? AND state_name = 'Running'", run_id
            ),
            60,
            "cell a to start",
        )
        runs_db.cancel(run_id)
        go.touch()
        r = kernel.collect(pending)
        assert r.status == "ok" and "Cancelled" in (r.value or "")
        run = read_flow_run(run_id, url=runs_db.url)
        assert run.state_name == "Cancelled"
        assert {t.task_name: t.state_name for t in run.task_runs} == {
            "a": "Completed",
            "b": "Cancelled",
            "c": "Cancelled",
        }
        assert kernel.ok("print(calls)").stdout.strip() == "['b', 'c']"  # b, c did not run

    def test_cancel_stops_a_retry_wait(self, kernel: KernelSession, runs_db: RunDatabase) -> None:
        pending = kernel.start("%%task flaky --retries 1 --retry-delay 600\n1 / 0")
        run_id = wait(lambda: run_named(runs_db, "flaky"), 60, "the cell's flow run")
        wait(lambda: task_state(runs_db, "flaky") == "AwaitingRetry", 60, "the retry wait")
        runs_db.cancel(run_id)  # seen by the kernel's watch of the run, not by a cell boundary
        r = kernel.collect(pending, timeout=120)
        assert (r.status, r.ename) == ("error", "RunCancelled")
        run = read_flow_run(run_id, url=runs_db.url)
        assert run.state_name == "Cancelled"
        assert [(t.state_name, t.run_count) for t in run.task_runs] == [("Cancelled", 1)]


class TestDeploymentRun:
    def test_cells_record_under_the_workers_run_which_the_kernel_never_ends(
        self, deployment: tuple[KernelSession, str], runs_db: RunDatabase
    ) -> None:
        kernel, run_id = deployment
        kernel.ok("%%task load\nvalues = [1, 2, 3]")
        kernel.ok("%%task total\ntotal = sum(values)")
        kernel.ok("%flow run")  # into the same run, not a run of its own
        failed = kernel.run("%%task boom\n1 / 0")
        assert failed.ename == "ZeroDivisionError"
        env = kernel.ok("import os\nprint(os.environ.get('JUPYTER_FLOWS_FLOW_RUN_ID'))")
        assert env.stdout.strip() == "None"  # what the notebook starts does not record into it
        kernel.shutdown()  # as papermill does at the end
        assert read_flow_runs(url=runs_db.url).total == 1
        run = read_flow_run(run_id, url=runs_db.url)
        assert run.state_name == "Running"  # its run process records the papermill outcome
        types = [s.type.value for s in run.states]
        assert types[:2] == ["PENDING", "RUNNING"] and set(types) == {"PENDING", "RUNNING"}
        assert [(t.task_name, t.state_name) for t in run.task_runs] == [
            ("load", "Completed"),
            ("total", "Completed"),
            ("load", "Completed"),
            ("total", "Completed"),
            ("boom", "Failed"),
        ]
        assert edges_named(run) == {("load", "total")}  # within the run, twice

    def test_a_cancelled_deployment_run_does_not_start_more_cells(
        self, deployment: tuple[KernelSession, str], runs_db: RunDatabase
    ) -> None:
        kernel, run_id = deployment
        kernel.ok("%%task load\nvalues = [1, 2, 3]")
        runs_db.cancel(run_id)
        r = kernel.run("%%task total\ntotal = sum(values)")
        assert (r.status, r.ename) == ("error", "RunCancelled")
        assert kernel.ok("print('total' in dir())").stdout.strip() == "False"
        run = read_flow_run(run_id, url=runs_db.url)
        assert run.state_name == "Cancelling"  # the worker ends it (and the kernel)
        assert {t.task_name: t.state_name for t in run.task_runs} == {
            "load": "Completed",
            "total": "Cancelled",
        }


class TestCellOutputLogs:
    LOGS = (
        "SELECT l.level, l.logger, l.message FROM run_log l JOIN flow_run f"
        " ON f.id = l.flow_run_id WHERE f.name = ? AND l.logger LIKE 'jupyter_flows.cell.%'"
        " ORDER BY l.id"
    )

    def test_lines_reach_the_logs_as_they_are_printed(
        self, kernel: KernelSession, runs_db: RunDatabase, tmp_path: Path
    ) -> None:
        go = tmp_path / "go"
        pending = kernel.start(
            "%%task chatty\nimport sys\n"
            "print('first line')\nprint('half', end='')\nprint(' and half')\n"
            + gated(go)
            + "print('second line')\nprint('to stderr', file=sys.stderr)\n"
            + "print('no newline', end='')"
        )

        def lines() -> list[str]:
            return [message for _level, _logger, message in runs_db.rows(self.LOGS, "chatty")]

        wait(lambda: len(lines()) >= 2, 60, "the first lines in the run's logs")
        assert lines() == ["first line", "half and half"]  # the cell still runs (gated)
        assert task_state(runs_db, "chatty") == "Running"
        go.touch()
        r = kernel.collect(pending)
        assert r.status == "ok" and "second line" in r.stdout  # still shown in the notebook
        assert runs_db.rows(self.LOGS, "chatty") == [
            (20, "jupyter_flows.cell.stdout", "first line"),
            (20, "jupyter_flows.cell.stdout", "half and half"),
            (20, "jupyter_flows.cell.stdout", "second line"),
            (30, "jupyter_flows.cell.stderr", "to stderr"),
            (20, "jupyter_flows.cell.stdout", "no newline"),
        ]

    def test_run_logger_lines_are_stored_once(
        self, kernel: KernelSession, runs_db: RunDatabase
    ) -> None:
        r = kernel.run(
            "%%task shaky --retries 1\nfrom jupyter_flows import get_run_logger\n"
            "get_run_logger().info('from the run logger')\nprint('printed')\n1 / 0"
        )
        assert r.ename == "ZeroDivisionError"
        rows = runs_db.rows(
            "SELECT l.logger, l.message FROM run_log l JOIN flow_run f ON f.id = l.flow_run_id"
            " WHERE f.name = 'shaky' ORDER BY l.id"
        )
        messages = [m for _n, m in rows]
        assert messages.count("printed") == 2  # once per attempt
        assert messages.count("from the run logger") == 2
        assert sum("attempt 1 of 2" in m for m in messages) == 1
        assert not [m for n, m in rows if n.startswith("jupyter_flows.cell.") and "attempt" in m]
