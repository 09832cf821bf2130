"""``flow.serve``, ``serve(*deployments)``, ``flow.to_deployment``, ``run_deployment`` and
``jupyter_flows.schedules``, as Prefect's "Run flows in local processes" and "Schedule flow
runs" pages show them: a real serving process, real runs of its deployments, SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from jupyter_flows import flow
from jupyter_flows.core import settings
from jupyter_flows.deployments import run_deployment
from jupyter_flows.exceptions import MissingResult, NotFound
from jupyter_flows.orchestration.schemas import ListDeploymentsQuery, ScheduleSpec
from jupyter_flows.orchestration.service import OrchestrationService
from jupyter_flows.schedules import Cron, Interval, RRule
from jupyter_flows.scheduling.triggers import next_times
from jupyter_flows.store.api import read_flow_runs, run_store

SERVED = """
from jupyter_flows import flow, serve, task
from jupyter_flows.schedules import RRule

@task
def add(a: int, b: int) -> int:
    return a + b

@flow(log_prints=True)
def hello(name: str = "world") -> int:
    print(f"hello {name}")
    return add(1, 2)

@flow
def weekly_report() -> str:
    return "report"

if __name__ == "__main__":
    import sys
    if sys.argv[1] == "one":
        hello.serve(name="hello-served", interval=2, parameters={"name": "served"},
                    tags=["demo"], version="1.2", description="says hello")
    else:
        serve(
            hello.to_deployment(name="hello-manual"),
            weekly_report.to_deployment(
                name="weekly", schedules=[RRule("FREQ=WEEKLY;BYDAY=MO;BYHOUR=9")]
            ),
        )
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A project directory with ``served.py``, its database the default one of this test."""
    (tmp_path / "served.py").write_text(SERVED)
    monkeypatch.setenv("JUPYTER_FLOWS_DB_URL", f"sqlite:///{tmp_path / 'runs.sqlite'}")
    monkeypatch.chdir(tmp_path)
    settings.reset_recorder()
    yield tmp_path
    settings.reset_recorder()


def _serve(project: Path, which: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER_FLOWS_FLOW_RUN")}
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).parents[2]), env.get("PYTHONPATH", "")])
    return subprocess.Popen(
        [sys.executable, "served.py", which], cwd=project, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip


def _service(project: Path) -> OrchestrationService:
    return OrchestrationService(run_store().engine, project, project / "out")


def _wait(predicate: Any, timeout: float, what: str, proc: subprocess.Popen[str]) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            found = predicate()
        except NotFound:
            found = None
        if found:
            return found
        if proc.poll() is not None:
            raise AssertionError(f"the serving process ended: {proc.stdout.read()}")  # type: ignore[union-attr]
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    return out


def test_flow_serve_schedules_runs_and_takes_requests(project: Path) -> None:
    proc = _serve(project, "one")
    try:
        service = _service(project)
        made = _wait(lambda: service.read_deployment("hello-served"), 60, "the deployment", proc)
        assert (made.entrypoint, made.tags, made.version, made.description) == (
            "served.py:hello",
            ["demo"],
            "1.2",
            "says hello",
        )
        assert made.work_pool == "serve-hello-served" and not made.paused
        assert made.schedules[0].interval_seconds == 2

        # the schedule fires: Completed runs of the deployment, with its parameters
        def completed() -> list[Any]:
            runs = read_flow_runs(deployment_id=made.id, limit=20)
            return [r for r in runs if r.state_name == "Completed"]

        scheduled = _wait(completed, 60, "a scheduled run", proc)[0]
        assert scheduled.parameters == {"name": "served"}
        # a run asked for now waits for the served process to run it
        asked = run_deployment("hello/hello-served", parameters={"name": "ad hoc"}, timeout=60)
        assert asked.state_name == "Completed" and asked.state.is_completed()
        assert asked.parameters == {"name": "ad hoc"}
        assert any("hello ad hoc" in log.message for log in asked.logs)
        with pytest.raises(MissingResult):  # as Prefect: a result not persisted is not kept
            asked.state.result()
        # timeout=0: returns at once, the run not started yet
        quick = run_deployment("hello-served", timeout=0)
        assert quick.state_name in ("Scheduled", "Pending", "Running", "Completed")
    finally:
        out = _stop(proc)
    assert "being served" in out and "jupyter flows run hello-served" in out
    assert service.read_deployment("hello-served").paused  # pause_on_shutdown


def test_serve_many_deployments_with_an_rrule(project: Path) -> None:
    proc = _serve(project, "many")
    try:
        service = _service(project)
        weekly = _wait(lambda: service.read_deployment("weekly"), 60, "the deployment", proc)
        spec = weekly.schedules[0]
        assert spec.rrule == "FREQ=WEEKLY;BYDAY=MO;BYHOUR=9"
        monday = next_times(spec, 1)[0]
        assert monday.weekday() == 0 and monday.hour == 9
        manual = service.read_deployment("hello-manual")
        assert manual.schedules == [] and manual.work_pool == weekly.work_pool
        ran = run_deployment("hello-manual", timeout=60)
        assert ran.state_name == "Completed"
    finally:
        _stop(proc)


def test_serving_again_updates_the_deployment(project: Path) -> None:
    proc = _serve(project, "one")
    try:
        _wait(lambda: _service(project).read_deployment("hello-served"), 60, "it", proc)
    finally:
        _stop(proc)
    proc = _serve(project, "one")
    try:
        service = _service(project)
        _wait(lambda: not service.read_deployment("hello-served").paused, 60, "unpaused", proc)
        listed = service.list_deployments(ListDeploymentsQuery(limit=100)).items
        assert [d.name for d in listed] == ["hello-served"]
    finally:
        _stop(proc)


class TestSchedules:
    def test_cron_interval_rrule_specs(self) -> None:
        assert Cron("0 6 * * *", timezone="Europe/Paris").spec() == {
            "cron": "0 6 * * *", "timezone": "Europe/Paris", "active": True
        }  # fmt: skip
        anchor = datetime(2026, 1, 1, tzinfo=timezone.utc)
        every = Interval(timedelta(hours=1), anchor_date=anchor).spec()
        assert every["interval_seconds"] == 3600 and every["anchor_date"].startswith("2026")
        assert RRule("FREQ=DAILY", slug="daily").spec()["id"] == "daily"

    def test_an_rrule_fires_where_it_says(self) -> None:
        spec = ScheduleSpec(rrule="FREQ=WEEKLY;BYDAY=MO,WE;BYHOUR=9;BYMINUTE=0;BYSECOND=0",
                            timezone="America/New_York")  # fmt: skip
        times = next_times(spec, 4)
        local = [t.astimezone(__import__("zoneinfo").ZoneInfo("America/New_York")) for t in times]
        assert {t.weekday() for t in local} == {0, 2} and {t.hour for t in local} == {9}

    @pytest.mark.parametrize(
        ("make", "problem"),
        [
            (lambda: Cron("0 6 * * *", day_or=False), "day_or"),
            (lambda: Cron("0 6 * * *", parameters={"n": 1}), "per-schedule parameters"),
        ],
    )
    def test_unsupported_options_say_so(self, make: Any, problem: str) -> None:
        with pytest.raises(ValueError, match=problem):
            make()

    def test_a_bad_rrule_is_refused_naming_it(self, project: Path) -> None:
        from pydantic import ValidationError

        from jupyter_flows.exceptions import ScheduleError
        from jupyter_flows.orchestration.schemas import CreateDeployment

        body = CreateDeployment(name="x", entrypoint="served.py:hello",
                                schedules=[{"rrule": "FREQ=NOPE"}])  # fmt: skip
        with pytest.raises(ScheduleError, match="invalid rrule 'FREQ=NOPE'"):
            _service(project).create_deployment(body)
        past = "DTSTART:20200101T000000\nRRULE:FREQ=DAILY;COUNT=2"
        with pytest.raises(ValidationError, match="never fires"):
            CreateDeployment(name="x", entrypoint="served.py:hello", schedules=[{"rrule": past}])
        with pytest.raises(ValidationError, match="exactly one of cron, interval_seconds, rrule"):
            ScheduleSpec(cron="* * * * *", rrule="FREQ=DAILY")


class TestBadInput:
    def test_to_deployment_refuses_what_it_cannot_do(self, project: Path) -> None:
        @flow
        def f() -> None:
            pass

        with pytest.raises(TypeError, match="image"):
            f.to_deployment("x", image="python:3.12")
        with pytest.raises(TypeError, match="schedules"):
            f.to_deployment("x", schedules=["0 6 * * *"])

    def test_serve_needs_deployments_and_run_deployment_a_known_name(self, project: Path) -> None:
        from jupyter_flows import serve

        with pytest.raises(ValueError, match="at least one deployment"):
            serve()
        with pytest.raises(NotFound):
            run_deployment("nope/nothing", timeout=0)


def test_served_script_without_a_main_guard_does_not_recurse(project: Path) -> None:
    script = textwrap.dedent("""
        from jupyter_flows import flow
        @flow
        def unguarded() -> int:
            return 7
        unguarded.serve(name="unguarded")
    """)
    (project / "unguarded.py").write_text(script)
    env = dict(os.environ, JUPYTER_FLOWS_FLOW_RUN_ID="0" * 32)
    done = subprocess.run([sys.executable, "unguarded.py"], cwd=project, env=env, text=True,
                          capture_output=True, timeout=60)  # fmt: skip
    assert done.returncode == 0 and "does nothing" in done.stderr
