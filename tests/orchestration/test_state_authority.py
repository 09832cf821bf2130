"""One state authority: the server's services and run processes' recorders share one policy.

Each test has two real writers on one database (SQLite and PostgreSQL): the
``OrchestrationService`` (claims, cancel, crash detection) and a ``SqlRecorder`` standing for
a run process (as ``jupyter_flows.workers.execute_run`` records a claimed run).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jupyter_flows.core.state_policy import FINAL, propose
from jupyter_flows.core.states import State, StateType
from jupyter_flows.exceptions import Conflict
from jupyter_flows.orchestration.schemas import CreateDeploymentRun, UpdateRunState
from jupyter_flows.orchestration.service import OrchestrationService
from jupyter_flows.store import SqlRecorder

from ..store import builders as b
from .test_service import deploy

T = StateType


@pytest.fixture
def process(service: OrchestrationService) -> Iterator[SqlRecorder]:
    """The recorder of a run process: its own engine's connections, same database."""
    recorder = SqlRecorder.from_url(service.engine.url.render_as_string(hide_password=False))
    yield recorder
    recorder.close()


def claimed_run(service: OrchestrationService, worker: str = "w") -> str:
    run = service.run_deployment(
        deploy(service, f"d-{uuid.uuid4().hex[:8]}"), CreateDeploymentRun()
    )
    assert [c.flow_run.id for c in service.claim_runs("default", worker, 1)] == [run.id]
    return run.id


def history(service: OrchestrationService, run_id: str) -> list[str]:
    return [s.name for s in service.runs.read_flow_run(run_id).states]


def record(recorder: SqlRecorder, run_id: str, *states: tuple[T, str]) -> None:
    for i, (type_, name) in enumerate(states):
        recorder.set_state("flow", run_id, State(type_, name, b.now_plus(i)), 1)
    recorder.flush()


class TestOneHistory:
    def test_a_crashed_run_stays_crashed(
        self, service: OrchestrationService, process: SqlRecorder
    ) -> None:
        run_id = claimed_run(service)
        record(process, run_id, (T.PENDING, "Pending"), (T.RUNNING, "Running"))
        assert service.mark_crashed_runs(-1) == [run_id]  # its worker went silent
        record(process, run_id, (T.COMPLETED, "Completed"))  # the orphan finishes late
        run = service.runs.read_flow_run(run_id)
        assert run.state_name == "Crashed"
        assert history(service, run_id) == ["Scheduled", "Pending", "Running", "Crashed"]
        assert process.rejected(run_id) == ("CRASHED", "Crashed")

    def test_cancelled_before_it_starts_the_process_learns_it(
        self, service: OrchestrationService, process: SqlRecorder
    ) -> None:
        run_id = claimed_run(service)
        assert service.cancel_flow_run(run_id).state_name == "Cancelling"
        record(process, run_id, (T.PENDING, "Pending"), (T.RUNNING, "Running"))
        assert service.read_run_state(run_id).state_name == "Cancelling"
        assert process.rejected(run_id) == ("CANCELLING", "Cancelling")
        service.set_run_state(
            run_id, UpdateRunState(type="CANCELLED", name="Cancelled", worker="w")
        )
        assert history(service, run_id) == ["Scheduled", "Pending", "Cancelling", "Cancelled"]

    def test_records_of_the_same_state_are_one(
        self, service: OrchestrationService, process: SqlRecorder
    ) -> None:
        run_id = claimed_run(service)
        record(process, run_id, (T.PENDING, "Pending"), (T.RUNNING, "Running"))
        record(process, run_id, (T.PENDING, "Pending"), (T.RUNNING, "Running"))  # a kernel
        record(process, run_id, (T.COMPLETED, "Completed"))
        with pytest.raises(Conflict, match="already ended Completed"):
            service.set_run_state(
                run_id, UpdateRunState(type="COMPLETED", name="Completed", worker="w")
            )
        assert history(service, run_id) == ["Scheduled", "Pending", "Running", "Completed"]
        assert process.rejected(run_id) is None

    def test_a_run_made_elsewhere_created_again_keeps_its_state_and_name(
        self, service: OrchestrationService, process: SqlRecorder
    ) -> None:
        run_id = claimed_run(service)
        name = service.runs.read_flow_run(run_id).name
        process.flow_run_created(b.flow_run("other", id=run_id, name="another-name"))
        process.flush()  # its states come in a later batch
        assert service.read_run_state(run_id).state_name == "Pending"
        record(process, run_id, (T.PENDING, "Pending"), (T.RUNNING, "Running"))
        run = service.runs.read_flow_run(run_id)
        assert (run.name, run.state_name) == (name, "Running")
        assert history(service, run_id) == ["Scheduled", "Pending", "Running"]
        assert process.rejected(run_id) is None

    def test_another_workers_run_is_refused(self, service: OrchestrationService) -> None:
        run_id = claimed_run(service, "w1")
        with pytest.raises(Conflict, match="claimed by 'w1'"):
            service.set_run_state(
                run_id, UpdateRunState(type="RUNNING", name="Running", worker="w2")
            )


class TestEndingsCascade:
    def test_cancel_ends_task_runs_and_subflows(
        self, service: OrchestrationService, process: SqlRecorder
    ) -> None:
        run_id = claimed_run(service)
        record(process, run_id, (T.RUNNING, "Running"))
        done, busy, waiting = (b.task_run(run_id, n) for n in ("done", "busy", "waiting"))
        sub = b.flow_run("child", parent_flow_run_id=run_id)
        sub_task = b.task_run(sub.id, "inner")
        process.flow_run_created(sub)
        for task in (done, busy, waiting, sub_task):
            process.task_run_created(task)
        process.set_state("task", done.id, b.state(T.COMPLETED, "Completed", 1), 1)
        process.set_state("task", busy.id, b.state(T.RUNNING, "Running", 1), 1)
        process.set_state("task", waiting.id, b.state(T.PENDING, "Pending", 1), 0)
        process.set_state("flow", sub.id, b.state(T.RUNNING, "Running", 1), 1)
        process.set_state("task", sub_task.id, b.state(T.RUNNING, "Running", 1), 1)
        process.flush()
        service.cancel_flow_run(run_id)
        service.set_run_state(
            run_id, UpdateRunState(type="CANCELLED", name="Cancelled", worker="w")
        )
        runs = service.runs
        assert runs.read_flow_run(sub.id).state_name == "Cancelled"
        names = {t.task_name: t.state_name for t in runs.read_task_runs(run_id)}
        assert names == {"done": "Completed", "busy": "Cancelled", "waiting": "Cancelled"}
        assert runs.read_task_run(sub_task.id).state_name == "Cancelled"
        assert [s.name for s in runs.read_states(busy.id)] == ["Running", "Cancelled"]
        # the run process finishes its task late: refused, the history stays as it is
        process.set_state("task", busy.id, b.state(T.COMPLETED, "Completed", 9), 1)
        process.flush()
        assert [s.name for s in runs.read_states(busy.id)] == ["Running", "Cancelled"]
        assert process.rejected(busy.id) == ("CANCELLED", "Cancelled")

    def test_a_crash_crashes_what_was_running(
        self, service: OrchestrationService, process: SqlRecorder
    ) -> None:
        run_id = claimed_run(service)
        task = b.task_run(run_id, "busy")
        process.task_run_created(task)
        process.set_state("task", task.id, b.state(T.RUNNING, "Running", 1), 1)
        record(process, run_id, (T.RUNNING, "Running"))
        service.mark_crashed_runs(-1)
        assert service.runs.read_task_run(task.id).state_name == "Crashed"


#: what the writers do: the server (cancel, crash, a worker's report) and the run process
ACTIONS = st.lists(
    st.sampled_from(
        [
            ("server", "cancel"),
            ("server", "crash"),
            ("server", "Completed"),
            ("server", "Cancelled"),
            ("process", "Pending"),
            ("process", "Running"),
            ("process", "Retrying"),
            ("process", "AwaitingRetry"),
            ("process", "Completed"),
            ("process", "Failed"),
            ("process", "Cancelled"),
        ]
    ),
    min_size=1,
    max_size=12,
)
_TYPES = {
    "Pending": T.PENDING,
    "Running": T.RUNNING,
    "Retrying": T.RUNNING,
    "AwaitingRetry": T.SCHEDULED,
    "Completed": T.COMPLETED,
    "Failed": T.FAILED,
    "Cancelled": T.CANCELLED,
}


class TestRandomWriters:
    @settings(
        max_examples=25,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(actions=ACTIONS)
    def test_no_writer_moves_a_run_out_of_a_final_state(
        self, service: OrchestrationService, process: SqlRecorder, actions: list[tuple[str, str]]
    ) -> None:
        run_id = claimed_run(service)
        for writer, action in actions:
            if writer == "process":
                record(process, run_id, (_TYPES[action], action))
                continue
            try:
                if action == "cancel":
                    service.cancel_flow_run(run_id)
                elif action == "crash":
                    service.set_run_state(
                        run_id, UpdateRunState(type="CRASHED", name="Crashed", worker="w")
                    )
                else:
                    body = UpdateRunState(type=_TYPES[action].value, name=action, worker="w")  # type: ignore[arg-type]
                    service.set_run_state(run_id, body)
            except Conflict:
                pass  # refused by the policy: what is checked is the history below
        states = service.runs.read_flow_run(run_id).states
        pairs = list(zip(states, states[1:], strict=False))
        for before, after in pairs:
            assert propose(before.type, after.type, before.name, after.name).accepted, (
                before.name,
                after.name,
            )
        finals = [s for s in states if s.type in FINAL]
        assert len(finals) <= 1 and (not finals or finals[0] == states[-1])
        run = service.runs.read_flow_run(run_id)
        assert (run.state_type, run.state_name) == (states[-1].type, states[-1].name)
