"""Flow runs driven from outside a function body: a notebook's task cells.

``OpenFlowRun`` uses the same engine pieces as ``@flow``: the same records, states and
task runs; only the flow body is replaced by whoever calls ``run_task``. An *adopted* run
was created and is ended by another process (a worker's deployment run, executed by
papermill): its task runs are recorded here, its final state is not.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from .context import FlowRunContext, flow_run_context
from .flows import Flow
from .names import generate_run_name
from .prior_runs import prior_run_for
from .records import FlowRunInfo, RunRecorder, TaskInput, new_id
from .run_logging import flow_run_logger
from .runners import TaskRunner, ThreadPoolTaskRunner
from .settings import get_recorder
from .states import Cancelled, Completed, Failed, Pending, Running, State, now
from .task_engine import create_task_run, execute_task_run
from .tasks import Task

__all__ = ["OpenFlowRun"]


def _no_body() -> None:
    """Stand-in body of a flow driven from outside."""


class OpenFlowRun:
    """A Running flow run whose tasks are started one by one by the caller.

    Parameters
    ----------
    name
        The flow's name (a notebook's name).
    run_name
        The run's name (default: a generated one, as for ``@flow`` runs).
    flow_run_id
        Record into this flow run id instead of a new one.
    adopted
        The flow run (``flow_run_id``) belongs to another process, which records its
        states: this one records only ``Running`` (a repeat, ignored by the state policy)
        and never a final state; ``finish`` only flushes.
    """

    def __init__(
        self,
        name: str,
        *,
        parameters: dict[str, Any] | None = None,
        tags: Iterable[str] = (),
        description: str | None = None,
        recorder: RunRecorder | None = None,
        task_runner: TaskRunner | None = None,
        deployment_id: str | None = None,
        flow_run_id: str | None = None,
        run_name: str | None = None,
        adopted: bool = False,
    ):
        if adopted and flow_run_id is None:
            raise ValueError("an adopted flow run needs its flow_run_id")
        self.flow: Flow[..., Any] = Flow(_no_body, name=name, description=description, tags=tags)
        self.recorder = recorder or get_recorder()
        self.info = FlowRunInfo(
            flow_run_id or new_id(),
            run_name or generate_run_name(),
            name,
            None,
            description,
            sorted(tags),
            dict(parameters or {}),
            now(),
            None,
            None,
            deployment_id,
        )
        runner = task_runner or ThreadPoolTaskRunner()
        self.context = FlowRunContext(self.flow, self.info, self.recorder, runner, {})
        if adopted:  # a deployment's notebook run: maybe a retry from failure
            self.context.prior = prior_run_for(self.info.id)
        self.context.parameters = dict(parameters or {})
        self.failed: list[str] = []
        self.adopted = adopted
        self.closed = False
        self.state: State = Pending()
        self._lock = threading.Lock()
        self.recorder.flow_run_created(self.info)  # an existing run keeps its identity
        if not adopted:
            self.recorder.set_state("flow", self.info.id, self.state, 0)
        self._set(Running(), 1)

    @property
    def id(self) -> str:
        return self.info.id

    def _set(self, state: State, run_count: int) -> None:
        self.state = state
        self.recorder.set_state("flow", self.info.id, state, run_count)

    def run_task(
        self,
        task: Task[..., Any],
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
        wait_for: Iterable[Any] | None = None,
        upstream: Iterable[TaskInput] = (),
    ) -> State:
        """Run ``task`` now as a task run of this flow run; returns its final state.

        ``upstream`` adds explicit edges (e.g. from the notebook's dataflow analysis).
        """
        if self.closed:
            raise RuntimeError(f"flow run {self.info.name!r} already ended {self.state.name}")
        kwargs = dict(kwargs or {})
        token = flow_run_context.set(self.context)
        try:
            inputs = task.bind_inputs(args, kwargs)
            info, has_futures = create_task_run(
                task, self.context, inputs, wait_for, self.recorder, extra_inputs=upstream
            )
            state = execute_task_run(
                task,
                info,
                self.context,
                args,
                kwargs,
                inputs,
                has_futures,
                wait_for,
                self.recorder,
            )
        finally:
            flow_run_context.reset(token)
        with self._lock:
            if state.is_failed() or state.is_crashed():
                self.failed.append(task.name)
        return state  # the recorder commits within ~50 ms; finish() flushes

    def finish(self, state: State | None = None) -> State:
        """End the flow run: ``state``, else Failed if a task's last attempt failed, else
        Completed. An adopted run is only flushed: its own process records how it ended."""
        with self._lock:
            if self.closed:
                return replace(self.state, run_id=self.info.id)
            self.closed = True
        if state is None:
            if self.failed:
                state = Failed(message=f"task run(s) failed: {', '.join(self.failed)}")
            else:
                state = Completed()
        if not self.adopted:
            self._set(state, 1)
            flow_run_logger(self.info, self.recorder).info("Finished in state %s", state)
        try:
            self.recorder.flush()
        finally:
            self.context.task_runner.shutdown()
        return replace(state, run_id=self.info.id)

    def cancel(self, message: str = "cancelled") -> State:
        """Stop: tasks not yet started end Cancelled, then the run ends Cancelled."""
        self.context.cancel_event.set()
        return self.finish(Cancelled(message=message))
