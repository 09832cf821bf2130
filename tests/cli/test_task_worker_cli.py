"""``jupyter flows task-worker`` and ``jupyter flows task-runs``, run as real processes."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_flows.core import settings
from jupyter_flows.store.api import close_store
from tests.workers.background_harness import Harness


@pytest.fixture
def bg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    db_url = f"sqlite:///{tmp_path / 'flows.sqlite'}"
    monkeypatch.setenv("JUPYTER_FLOWS_DB_URL", db_url)
    settings.reset_recorder()
    harness = Harness(tmp_path, db_url)
    try:
        yield harness
    finally:
        harness.close()
        settings.reset_recorder()
        close_store(db_url)


def jf(bg: Harness, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jupyter_flows.cli.app", *args], cwd=bg.dir, env=bg.env,
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


class TestTaskWorkerCommand:
    def test_serves_file_and_module_entrypoints(self, bg: Harness) -> None:
        tasks = bg.tasks()
        added, multiplied = tasks.add.delay(2, 2), tasks.multiply.delay(3, 3)
        worker = bg.start(
            ["-m", "jupyter_flows.cli.app", "task-worker", "bgtasks.py:add", "bgtasks:multiply",
             "--limit", "2", "--poll-interval", "0.1"]
        )  # fmt: skip
        assert (added.result(timeout=60), multiplied.result(timeout=60)) == (4, 9)
        assert bg.stop(worker) == 0
        listed = jf(bg, "task-runs", "--state", "completed")
        assert listed.returncode == 0, listed.stderr
        assert added.task_run_id in listed.stdout and multiplied.task_run_id in listed.stdout
        assert "(2 of 2)" in listed.stdout

    def test_module_option_serves_every_task_of_it(self, bg: Harness) -> None:
        future = bg.tasks().echo.delay("hi")
        worker = bg.start(
            ["-m", "jupyter_flows.cli.app", "task-worker", "--module", "bgtasks", "--timeout", "60"]
        )  # fmt: skip
        assert future.result(timeout=60) == "hi"
        assert bg.stop(worker) == 0

    def test_help_and_bad_entrypoints(self, bg: Harness) -> None:
        helped = jf(bg, "task-worker", "--help")
        assert helped.returncode == 0 and "task.delay" in helped.stdout
        assert "--limit" in helped.stdout
        usage = jf(bg, "task-worker")
        assert usage.returncode == 2 and "MODULE:TASK" in usage.stderr
        for bad, why in [
            ("missing.py:add", "not found"),
            ("bgtasks:nope", "is not a task"),
            ("bgtasks", "must look like"),
            ("no_such_module:add", "cannot import"),
        ]:
            result = jf(bg, "task-worker", bad)
            assert result.returncode == 1 and why in result.stderr, (bad, result.stderr)
            assert "Traceback" not in result.stderr
