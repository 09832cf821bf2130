"""Prefect's ``prefect.flow_runs``: ``pause_flow_run`` (human-in-the-loop: wait, maybe for an
input, until someone resumes the run), ``suspend_flow_run`` (the same, but the run's process
exits and a worker runs it again once resumed) and ``resume_flow_run``.

Example::

    from jupyter_flows import flow
    from jupyter_flows.flow_runs import pause_flow_run
    from jupyter_flows.input import RunInput

    class Approval(RunInput):
        approved: bool
        comment: str = ""

    @flow
    def publish() -> str:
        answer = pause_flow_run(wait_for_input=Approval, timeout=3600)
        return "published" if answer.approved else f"held: {answer.comment}"

The Flows panel shows a paused run's form (built from the input's schema); ``jupyter flows
runs resume RUN --input '{"approved": true}'`` or ``POST flow_runs/{id}/resume`` resume it.

Suspending (a deployment's run only, as Prefect's)::

    @flow(persist_result=True)
    def publish() -> str:
        draft = write_draft()          # a task: its result is persisted
        answer = suspend_flow_run(wait_for_input=Approval, timeout=86400)
        return send(draft) if answer.approved else "held"

The run records ``Suspended`` (a Paused state) and its process exits without a final state:
its worker's slot is free, a notebook's kernel is gone. Resuming it with an input makes it
``Scheduled`` ("Resuming"); a worker runs the same flow run again from the start, its
completed task runs with persisted results are reused (recorded ``Cached``, not run), and
the ``suspend_flow_run`` call with the same key returns the input instead of suspending
again (keys count the pauses and suspensions of a run: ``suspend-2``...). A notebook (with
``%load_ext jupyter_flows``) suspends from a plain cell: on resume its ``%%task --persist``
cells are restored, so it goes on at the suspending cell. Not resumed within ``timeout``
seconds, the run ends ``Failed`` ("The flow was paused and never resumed."), decided by the
server's periodic check.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from pydantic import BaseModel, ValidationError, create_model

__all__ = ["pause_flow_run", "resume_flow_run", "suspend_flow_run"]

logger = logging.getLogger(__name__)
_MISSING: Any = object()


class _Channel:
    """Where a paused run writes what it waits for and reads its state and answer: the
    database, or the server for a run process of a remote worker (its run's token)."""

    def __init__(self) -> None:
        from .core.run_environment import RunEnvironment

        env = RunEnvironment.current()
        self.client: Any = None
        self.engine: Any = None
        if env.records_over_http():
            from .client.http import FlowsClient

            self.client = FlowsClient(str(env.record_url), env.record_token or "", timeout=10)
        else:
            from .store.api import run_store

            self.engine = run_store().engine

    def write(self, run_id: str, key: str, value: Any) -> None:
        if self.client is not None:
            self.client.set_run_input(run_id, key, value)
        else:
            from .orchestration.pauses import write_input

            write_input(self.engine, run_id, key, value)

    def read(self, run_id: str, key: str, default: Any = None) -> Any:
        """Input ``key`` of the run, ``default`` if it has none."""
        from .client.http import ClientError
        from .exceptions import NotFound

        try:
            if self.client is not None:
                return self.client.read_run_input(run_id, key)
            from .orchestration.pauses import read_input

            return read_input(self.engine, run_id, key).value
        except NotFound:
            return default
        except ClientError as exc:
            if exc.status == 404:
                return default
            raise

    def state(self, run_id: str) -> str | None:
        if self.client is not None:
            return self.client.read_run_state(run_id).state_type  # type: ignore[no-any-return]
        from .store.api import read_state_on

        found = read_state_on(self.engine, run_id)
        return None if found is None else found[0]


def _input_model(wait_for_input: Any) -> tuple[type[BaseModel] | None, bool]:
    """The model of the awaited input, and whether it wraps a plain type (``int``: a
    ``value`` field, as Prefect's ``RunInput`` wrapping)."""
    if wait_for_input is None:
        return None, False
    if isinstance(wait_for_input, type) and issubclass(wait_for_input, BaseModel):
        return wait_for_input, False
    wrapped = create_model("Input", value=(wait_for_input, ...))
    return wrapped, True


def _next_key(frc: Any, kind: str) -> str:
    """``pause-1``, ``suspend-2``...: the pauses and suspensions of one flow run counted in
    the order they happen, the same in a resumed run's new process (as Prefect's)."""
    return f"{kind}-{frc.next_dynamic_key('__pause__') + 1}"


def _pause_record(
    key: str, model: type[BaseModel] | None, wrapped: bool, timeout: float | None, reschedule: bool
) -> dict[str, Any]:
    """What the run waits for, under ``PAUSE_KEY`` (``DescribePause``)."""
    timeout_at = None
    if timeout is not None:
        timeout_at = (datetime.now(timezone.utc) + timedelta(seconds=timeout)).isoformat()
    return {
        "key": key,
        "input_schema": model.model_json_schema() if model is not None else None,
        "description": getattr(model, "__doc__", None)
        if model is not None and not wrapped
        else None,
        "timeout_at": timeout_at,
        "reschedule": reschedule,
    }


def _validated(model: type[BaseModel] | None, wrapped: bool, answer: Any, run_id: str) -> Any:
    """The input the run was resumed with, as ``model`` (None without one)."""
    if model is None:
        return None
    try:
        made = model.model_validate(answer or {})
    except ValidationError as exc:  # the server checked it; a hand-written row may not be
        raise ValueError(
            f"the input that resumed {run_id} is not a {model.__name__}: {exc}"
        ) from None
    return made.value if wrapped else made  # type: ignore[attr-defined]


def _current_run(what: str) -> Any:
    """The flow run context a pause or suspension applies to: the flow body's, or (a
    notebook's plain cell) the kernel's deployment run."""
    from .core.context import FlowRunContext, ambient_flow_run

    frc = FlowRunContext.get() or ambient_flow_run()
    if frc is None:
        raise RuntimeError(f"{what}() must be called inside a flow run")
    return frc


def pause_flow_run(
    wait_for_input: Any = None,
    timeout: int = 3600,
    poll_interval: int = 10,
    key: str | None = None,
) -> Any:
    """Pause the flow run this is called in until it is resumed, at most ``timeout`` seconds
    (then ``FlowPauseTimeout``: the flow fails unless it catches it, as Prefect's).

    ``wait_for_input``: a pydantic model (or ``RunInput``) or a plain type; the run resumes
    with a value of it, validated, which this returns. Polls every ``poll_interval`` seconds
    (at most: it checks at least every second). A pause that was resumed before (in the
    earlier process of a suspended run) returns its input at once, as Prefect's.
    """
    from .core.states import Paused
    from .exceptions import FlowPauseTimeout, RunCancelled
    from .orchestration.pauses import PAUSE_KEY

    frc = _current_run("pause_flow_run")
    model, wrapped = _input_model(wait_for_input)
    run_id = frc.flow_run.id
    key = key or _next_key(frc, "pause")
    channel = _Channel()
    answered = channel.read(run_id, f"{key}-response", _MISSING)
    if answered is not _MISSING:  # this pause fired (and was resumed) before
        return _validated(model, wrapped, answered, run_id)
    deadline = time.monotonic() + timeout
    channel.write(run_id, PAUSE_KEY, _pause_record(key, model, wrapped, timeout, False))
    frc.recorder.set_state("flow", run_id, Paused(message=f"waiting for {key}"), frc.run_count)
    frc.recorder.flush()
    state: str | None = "PAUSED"
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise FlowPauseTimeout(f"flow run {run_id} was not resumed within {timeout} s")
        time.sleep(min(max(poll_interval, 0.05), remaining, 1.0))
        if frc.cancel_event.is_set():
            raise RunCancelled("flow run cancelled while paused")
        state = channel.state(run_id)
        if state != "PAUSED":
            break
    if state in ("CANCELLED", "CANCELLING", "FAILED", "CRASHED", "COMPLETED"):
        raise RunCancelled(f"flow run {run_id} ended {state} while paused")
    return _validated(model, wrapped, channel.read(run_id, f"{key}-response"), run_id)


def suspend_flow_run(
    wait_for_input: Any = None,
    flow_run_id: str | None = None,
    timeout: int | None = 3600,
    key: str | None = None,
) -> Any:
    """Suspend a flow run of a deployment: it records ``Suspended`` and its process exits
    (Prefect's ``Pause`` signal ends the flow body; the run gets no final state). Resumed
    within ``timeout`` seconds (``None``: any time), a worker runs it again: its completed
    task runs with persisted results are reused and this call (the same ``key``) returns
    the input it was resumed with (``wait_for_input``: as ``pause_flow_run``), else the run
    ends Failed.

    ``flow_run_id``: suspend another Running run of a deployment instead (its worker stops
    its process); returns None. ``RuntimeError`` in a task, outside a flow run, in a
    subflow, or for a run no deployment made (nothing could start it again).
    """
    from .core.context import TaskRunContext
    from .core.records import refusal
    from .core.states import Suspended
    from .exceptions import Pause
    from .orchestration.pauses import PAUSE_KEY

    model, wrapped = _input_model(wait_for_input)
    if flow_run_id is not None:
        service = _service()
        schema = model.model_json_schema() if model is not None else None
        service.suspend_flow_run(str(flow_run_id), timeout=timeout, key=key, input_schema=schema)
        return None
    if TaskRunContext.get() is not None:
        raise RuntimeError("Cannot suspend task runs.")
    frc = _current_run("suspend_flow_run")
    info = frc.flow_run
    if info.parent_flow_run_id is not None:
        raise RuntimeError(
            "Flow run cannot be suspended: Cannot pause subflows with the reschedule option."
        )
    if not info.deployment_id:
        raise RuntimeError(
            "Flow run cannot be suspended: Cannot pause flows without a deployment with the "
            "reschedule option (only a deployment's run can be started again by a worker; "
            "pause_flow_run waits in this process instead)"
        )
    run_id = info.id
    key = key or _next_key(frc, "suspend")
    channel = _Channel()
    answered = channel.read(run_id, f"{key}-response", _MISSING)
    if answered is not _MISSING:  # resumed: this suspension fired in an earlier process
        logger.info("flow run %s was resumed from %s", run_id, key)
        return _validated(model, wrapped, answered, run_id)
    channel.write(run_id, PAUSE_KEY, _pause_record(key, model, wrapped, timeout, True))
    state = Suspended(message=f"waiting for {key}")
    frc.recorder.set_state("flow", run_id, state, frc.run_count)
    frc.recorder.flush()
    refused = refusal(frc.recorder, run_id)
    if refused is not None:
        raise RuntimeError(f"Flow run cannot be suspended: it is {refused[1] or refused[0]}")
    message = f"flow run {run_id} suspended ({key}): it goes on when it is resumed"
    signal = Pause(message, state=state)
    signal._render_traceback_ = lambda: [f"jupyter-flows: {message}"]  # type: ignore[attr-defined]
    raise signal


def _service() -> Any:
    from pathlib import Path

    from .orchestration.service import OrchestrationService
    from .store.api import run_store

    root = Path.cwd()
    return OrchestrationService(run_store().engine, root, root / ".jupyter-flows-outputs")


def resume_flow_run(flow_run_id: str, run_input: dict[str, Any] | None = None) -> Any:
    """Resume a Paused or Suspended run with ``run_input`` (what its pause waits for):
    through the database of this process. ``Conflict`` if it is not paused, ``ValueError``
    naming the field of an input its pause refuses."""
    from .orchestration.pauses import ResumeFlowRun

    return _service().resume_flow_run(str(flow_run_id), ResumeFlowRun(run_input=run_input))
