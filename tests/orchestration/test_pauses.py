"""Prefect's ``pause_flow_run`` / ``resume_flow_run`` here, on SQLite and PostgreSQL: a flow
waits (in its thread) for an input, a resume validates it against the pause's schema, the
states pass the state policy; timeouts fail the run as Prefect's."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_flows import flow
from jupyter_flows.core import settings
from jupyter_flows.exceptions import Conflict, FlowPauseTimeout, NotFound
from jupyter_flows.flow_runs import pause_flow_run, resume_flow_run, suspend_flow_run
from jupyter_flows.input import RunInput
from jupyter_flows.orchestration.pauses import ResumeFlowRun
from jupyter_flows.orchestration.service import OrchestrationService
from jupyter_flows.store.api import read_flow_run, read_flow_runs, run_store


class Approval(RunInput):
    """Approve the publication of the report."""

    approved: bool
    comment: str = ""


@pytest.fixture(autouse=True)
def database(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("JUPYTER_FLOWS_DB_URL", db_url)
    settings.reset_recorder()
    yield db_url
    settings.reset_recorder()


@pytest.fixture
def service(tmp_path: Path) -> OrchestrationService:
    return OrchestrationService(run_store().engine, tmp_path, tmp_path / "out")


def _in_thread(fn: Any) -> tuple[threading.Thread, dict[str, Any]]:
    out: dict[str, Any] = {}

    def go() -> None:
        try:
            out["state"] = fn(return_state=True)
        except BaseException as exc:  # noqa: BLE001
            out["error"] = exc

    thread = threading.Thread(target=go, daemon=True)
    thread.start()
    return thread, out


def _paused_run(flow_name: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = read_flow_runs(flow_name=flow_name, limit=1)
        if runs and runs[0].state_type is not None and runs[0].state_type.value == "PAUSED":
            return str(runs[0].id)
        time.sleep(0.05)
    raise AssertionError(f"{flow_name} never paused")


def test_a_flow_waits_for_its_input_and_goes_on(service: OrchestrationService) -> None:
    @flow
    def publish() -> str:
        answer = pause_flow_run(wait_for_input=Approval, timeout=60, poll_interval=1)
        return "published" if answer.approved else f"held: {answer.comment}"

    thread, out = _in_thread(publish)
    run_id = _paused_run("publish")
    pause = service.read_pause(run_id)
    assert pause.key == "pause-1" or pause.key.startswith("pause-")
    assert set(pause.input_schema["properties"]) == {"approved", "comment"}  # type: ignore[index]
    assert pause.description == "Approve the publication of the report."
    with pytest.raises(ValueError, match=r"run_input.approved|'approved' is a required"):
        service.resume_flow_run(run_id, ResumeFlowRun(run_input={"comment": "no flag"}))
    with pytest.raises(ValueError, match="run_input.approved"):
        service.resume_flow_run(run_id, ResumeFlowRun(run_input={"approved": "maybe"}))
    started = time.monotonic()
    state = resume_flow_run(run_id, {"approved": False, "comment": "typo on page 2"})
    assert state.state_type == "RUNNING"
    thread.join(30)
    print(f"resume-to-continue: {time.monotonic() - started:.2f} s")
    assert out["state"].result() == "held: typo on page 2"
    names = [s.name for s in read_flow_run(run_id).states]
    assert names[-4:] == ["Running", "Paused", "Running", "Completed"], names
    with pytest.raises(Conflict, match="not paused"):
        service.resume_flow_run(run_id, ResumeFlowRun())
    with pytest.raises(NotFound, match="not paused"):
        service.read_pause(run_id)


def test_a_plain_type_and_no_input(service: OrchestrationService) -> None:
    @flow
    def count_them() -> int:
        pause_flow_run(timeout=60, poll_interval=1)  # just a go-ahead
        return pause_flow_run(wait_for_input=int, timeout=60, poll_interval=1) * 2

    thread, out = _in_thread(count_them)
    run_id = _paused_run("count-them")
    with pytest.raises(ValueError, match="waits for no input"):
        service.resume_flow_run(run_id, ResumeFlowRun(run_input={"value": 1}))
    service.resume_flow_run(run_id, ResumeFlowRun())
    deadline = time.monotonic() + 30
    while service.read_run_state(run_id).state_type != "PAUSED" or (
        service.read_pause(run_id).input_schema is None
    ):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    service.resume_flow_run(run_id, ResumeFlowRun(run_input={"value": 21}))
    thread.join(30)
    assert out["state"].result() == 42


def test_a_pause_that_times_out_fails_the_run() -> None:
    @flow
    def impatient() -> None:
        pause_flow_run(timeout=1, poll_interval=1)

    state = impatient(return_state=True)
    assert state.is_failed() and "not resumed within 1 s" in (state.message or "")
    with pytest.raises(FlowPauseTimeout):
        state.result()
    names = [s.name for s in read_flow_run(state.run_id).states]  # type: ignore[arg-type]
    assert names[-2:] == ["Paused", "Failed"]


def test_a_caught_timeout_lets_the_flow_decide() -> None:
    @flow
    def fallback() -> str:
        try:
            return str(pause_flow_run(wait_for_input=str, timeout=1, poll_interval=1))
        except FlowPauseTimeout:
            return "default"

    assert fallback() == "default"


def test_misuse_is_a_clear_error(service: OrchestrationService) -> None:
    with pytest.raises(RuntimeError, match="inside a flow run"):
        pause_flow_run()
    with pytest.raises(RuntimeError, match="inside a flow run"):
        suspend_flow_run()

    @flow
    def done() -> int:
        return 1

    state = done(return_state=True)
    with pytest.raises(Conflict, match="only a Paused run can be resumed"):
        service.resume_flow_run(state.run_id, ResumeFlowRun())  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        service.resume_flow_run("f" * 32, ResumeFlowRun())


def test_with_initial_data_fills_the_form() -> None:
    Prefilled = Approval.with_initial_data(description="Ship it?", approved=True)  # noqa: N806
    schema = Prefilled.model_json_schema()
    assert schema["properties"]["approved"]["default"] is True
    assert Prefilled.__doc__ == "Ship it?"
    assert Prefilled.model_validate({}).approved is True
