"""Flow runs driven from outside a function body: a notebook session, a papermill run.

``OpenFlowRun`` uses the same engine pieces as ``@flow``: the same records, states and
task runs; only the flow body is replaced by whoever calls ``run_task``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from .context import FlowRunContext, flow_run_context
from .flows import Flow
from .names import generate_run_name
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
    """A Running flow run whose tasks are started one by one by the caller."""

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
    ):
        self.flow: Flow[..., Any] = Flow(_no_body, name=name, description=description, tags=tags)
        self.recorder = recorder or get_recorder()
        self.info = FlowRunInfo(
            flow_run_id or new_id(),
            generate_run_name(),
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
        self.context.parameters = dict(parameters or {})
        self.failed: list[str] = []
        self.state: State = Pending()
        self._lock = threading.Lock()
        self.recorder.flow_run_created(self.info)
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
        if self.state.is_final():
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
        """End the flow run: Failed if a task's last attempt failed, else Completed."""
        if self.state.is_final():
            return self.state
        if state is None:
            if self.failed:
                state = Failed(message=f"task run(s) failed: {', '.join(self.failed)}")
            else:
                state = Completed()
        self._set(state, 1)
        flow_run_logger(self.info, self.recorder).info("Finished in state %s", state)
        self.recorder.flush()
        self.context.task_runner.shutdown()
        return replace(state, run_id=self.info.id)

    def cancel(self, message: str = "cancelled") -> State:
        self.context.cancel_event.set()
        return self.finish(Cancelled(message=message))
