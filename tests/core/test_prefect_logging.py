"""Prefect's ``prefect.logging`` at ``jupyter_flows.logging``: run loggers propagate (so
``caplog`` sees them) and print each line once; ``disable_run_logger``; ``get_logger``; and
the package never reconfigures the application's logging."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from jupyter_flows import flow, task
from jupyter_flows.logging import disable_run_logger, get_logger, get_run_logger

ROOT = Path(__file__).resolve().parents[2]


def run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``code`` in a fresh interpreter (its root logger as a script's: no handlers)."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER_FLOWS_")}
    environ.update(env)
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


class TestCaplog:
    def test_caplog_sees_flow_and_task_run_lines(
        self, recorder: Any, caplog: pytest.LogCaptureFixture
    ) -> None:
        @task
        def step() -> None:
            get_run_logger().warning("careful")

        @flow
        def etl() -> None:
            get_run_logger().info("hello")
            step()

        with caplog.at_level(logging.INFO):
            etl()
        (hello,) = [r for r in caplog.records if r.getMessage() == "hello"]
        assert hello.levelno == logging.INFO and hello.name == "jupyter_flows.flow_runs"
        (careful,) = [r for r in caplog.records if r.getMessage() == "careful"]
        assert careful.levelno == logging.WARNING and careful.name == "jupyter_flows.task_runs"
        assert "hello" in recorder.messages(flow_run_id=recorder.flow_run("etl").id)


ECHO = """
import logging, sys
{setup}
from jupyter_flows import flow, get_run_logger

@flow
def etl():
    get_run_logger().info("hello from the run")

etl()
"""


class TestConsoleEcho:
    @pytest.mark.parametrize(
        "setup",
        [
            "",  # a script or a notebook: the root logger has no handler
            "logging.basicConfig(level=logging.INFO)",  # on stderr
            "logging.basicConfig(stream=sys.stdout)",
            "logging.basicConfig(stream=sys.stderr, level=logging.WARNING)",  # level on root
        ],
    )
    def test_each_run_line_is_printed_once(self, setup: str) -> None:
        proc = run_python(ECHO.format(setup=setup), JUPYTER_FLOWS_RECORD="0")
        assert proc.returncode == 0, proc.stderr
        printed = (proc.stdout + proc.stderr).count("hello from the run")
        assert printed == 1, proc.stdout + proc.stderr

    def test_a_quiet_handler_above_does_not_silence_the_echo(self) -> None:
        setup = "h = logging.StreamHandler(sys.stderr); h.setLevel(logging.ERROR)\n"
        setup += "logging.getLogger().addHandler(h)"
        proc = run_python(ECHO.format(setup=setup), JUPYTER_FLOWS_RECORD="0")
        assert proc.returncode == 0, proc.stderr
        assert proc.stderr.count("hello from the run") == 1, proc.stderr
        assert "Flow run" in proc.stderr  # our echo, with the run's label


class TestDisableRunLogger:
    def test_a_task_function_alone(self, caplog: pytest.LogCaptureFixture) -> None:
        @task
        def double(x: int) -> int:
            get_run_logger().info("doubling %d", x)
            return 2 * x

        with caplog.at_level(logging.DEBUG), disable_run_logger():
            assert double.fn(4) == 8
            assert not get_run_logger().isEnabledFor(logging.CRITICAL)
        assert not any("doubling" in r.getMessage() for r in caplog.records)
        assert get_run_logger().logger.name == "jupyter_flows.no_run"  # as before, after it

    def test_runs_inside_record_no_log_lines(self, recorder: Any) -> None:
        @flow
        def etl() -> None:
            get_run_logger().info("not kept")

        with disable_run_logger():
            etl()
        assert "not kept" not in recorder.messages(flow_run_id=recorder.flow_run("etl").id)
        etl()
        assert [log.message for log in recorder.logs].count("not kept") == 1

    def test_it_restores_what_was_disabled_before(self) -> None:
        flow_logger = logging.getLogger("jupyter_flows.flow_runs")
        flow_logger.disabled = True
        try:
            with disable_run_logger():
                pass
            assert flow_logger.disabled is True
            assert logging.getLogger("jupyter_flows.task_runs").disabled is False
        finally:
            flow_logger.disabled = False


class TestGetLogger:
    def test_names(self) -> None:
        assert get_logger().name == "jupyter_flows"
        assert get_logger("etl").name == "jupyter_flows.etl"
        assert get_logger("jupyter_flows.store").name == "jupyter_flows.store"


UNTOUCHED = """
import json, logging, sys

mine = logging.getLogger("myapp")
mine.setLevel(logging.DEBUG)
quiet = logging.getLogger("myapp.quiet")
quiet.disabled = True
handler = logging.StreamHandler(sys.stderr)
logging.root.addHandler(handler)
logging.root.setLevel(logging.DEBUG)
seen = []


class Spy(logging.Handler):
    def emit(self, record):
        seen.append(record.name)


spy = Spy()
logging.root.addHandler(spy)
before = list(logging.root.handlers)

import jupyter_flows
from jupyter_flows import flow, get_run_logger


@flow
def etl():
    get_run_logger().info("from the run")
    return 1


assert etl() == 1
assert jupyter_flows.read_flow_runs().total == 1  # a fresh database, migrated
print(json.dumps({
    "same_handlers": logging.root.handlers == before,
    "root_level": logging.root.level,
    "mine": [mine.level, mine.disabled, quiet.disabled],
    "alembic_handlers": sorted(
        type(h).__name__ for h in logging.getLogger("alembic").handlers
    ),
    "disabled": sorted(
        name for name, lg in logging.Logger.manager.loggerDict.items()
        if isinstance(lg, logging.Logger) and lg.disabled
    ),
    "loggers": sorted(set(seen)),
}))
"""


class TestLoggingIsNotReconfigured:
    def test_a_first_run_on_a_fresh_database(self, tmp_path: Path) -> None:
        url = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
        proc = run_python(UNTOUCHED, JUPYTER_FLOWS_DB_URL=url, JUPYTER_FLOWS_HOME=str(tmp_path))
        assert proc.returncode == 0, proc.stderr
        found = json.loads(proc.stdout.strip().splitlines()[-1])
        assert found["same_handlers"] is True
        assert found["root_level"] == logging.DEBUG
        assert found["mine"] == [logging.DEBUG, False, True]
        assert set(found["alembic_handlers"]) <= {"NullHandler"}  # alembic's own, harmless
        assert found["disabled"] == ["myapp.quiet"]
        assert "root" not in found["loggers"]  # nothing logs on the root logger itself
        assert not [n for n in found["loggers"] if n.startswith("myapp")]
        assert "jupyter_flows.flow_runs" in found["loggers"]
        assert proc.stderr.count("from the run") == 1  # the application's handler printed it
