"""The examples of Prefect's "Run background tasks" page, as scripts run in real processes,
each asserting the page's stated outcome (the printed sums, as run logs)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_flows.core import settings
from jupyter_flows.store.api import close_store
from tests.helpers import wait
from tests.workers.background_harness import Harness

ADD = """
from jupyter_flows import task

@task(log_prints=True)
def add(a: int, b: int):
    print(f"{a} + {b} = {a + b}")
"""

MULTIPLY = """
@task(log_prints=True)
def multiply(a: int, b: int):
    print(f"{a} * {b} = {a * b}")
"""


@pytest.fixture
def bg(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    monkeypatch.setenv("JUPYTER_FLOWS_DB_URL", db_url)
    settings.reset_recorder()
    harness = Harness(tmp_path, db_url)
    try:
        yield harness
    finally:
        harness.close()
        settings.reset_recorder()
        close_store(db_url)


def _script(bg: Harness, name: str, text: str) -> str:
    (bg.dir / name).write_text(text)
    return name


def _run(bg: Harness, name: str) -> None:
    done = subprocess.run(
        [sys.executable, name], cwd=bg.dir, env=bg.env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


class TestRunBackgroundTasksPage:
    def test_start_a_worker_then_trigger_from_a_different_terminal(self, bg: Harness) -> None:
        """``add.serve()`` in one process, ``add.delay(1, 2)`` in another: "1 + 2 = 3"."""
        worker = bg.start([_script(bg, "serve_add.py", ADD + "\nadd.serve()\n")])
        _run(bg, _script(bg, "trigger.py", ADD + "\nadd.delay(1, 2)\n"))
        wait(lambda: bg.messages_of_task("add") == ["1 + 2 = 3"], 60, "the sum printed")
        assert bg.stop(worker) == 0

    def test_a_worker_for_multiple_functions(self, bg: Harness) -> None:
        """Runs delayed before ``serve(add, multiply)`` starts run once it has."""
        script = (
            ADD
            + "from jupyter_flows.task_worker import serve\n"
            + MULTIPLY
            + "\nadd.delay(1, 2)\nmultiply.delay(1, 4)\n\nserve(add, multiply)\n"
        )
        worker = bg.start([_script(bg, "both.py", script)])
        wait(lambda: bg.messages_of_task("add") == ["1 + 2 = 3"], 60, "the sum")
        wait(lambda: bg.messages_of_task("multiply") == ["1 * 4 = 4"], 60, "the product")
        assert bg.stop(worker) == 0

    def test_submit_multiple_background_tasks_with_map(self, bg: Harness) -> None:
        """``add.map(A, B, deferred=True)`` then ``add.serve()``: one run per pair."""
        script = (
            ADD + "\nA = [1, 2, 3]\nB = [4, 5, 6]\n\nadd.map(A, B, deferred=True)\n\nadd.serve()\n"
        )
        worker = bg.start([_script(bg, "mapped.py", script)])
        expected = ["1 + 4 = 5", "2 + 5 = 7", "3 + 6 = 9"]
        wait(lambda: bg.messages_of_task("add") == expected, 60, "three sums")
        assert bg.stop(worker) == 0

    def test_map_with_one_argument_unmapped(self, bg: Harness) -> None:
        script = (
            ADD
            + "from jupyter_flows import unmapped\n"
            + "\nfutures = add.map([1, 2, 3], unmapped(10), deferred=True)\n"
            + "print(len(futures))\n"
        )
        _run(bg, _script(bg, "unmapped.py", script))
        worker = bg.start([_script(bg, "serve_add.py", ADD + "\nadd.serve()\n")])
        expected = ["1 + 10 = 11", "2 + 10 = 12", "3 + 10 = 13"]
        wait(lambda: bg.messages_of_task("add") == expected, 60, "three sums")
        assert bg.stop(worker) == 0
