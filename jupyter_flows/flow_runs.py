"""Prefect's ``prefect.flow_runs``: ``pause_flow_run`` (human-in-the-loop: wait, maybe for an
input, until someone resumes the run), ``resume_flow_run``, and ``suspend_flow_run``.

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
"""

from __future__ import annotations

import itertools
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from pydantic import BaseModel, ValidationError, create_model

__all__ = ["pause_flow_run", "resume_flow_run", "suspend_flow_run"]

_counter = itertools.count(1)


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

    def read(self, run_id: str, key: str) -> Any:
        from .client.http import ClientError
        from .exceptions import NotFound

        try:
            if self.client is not None:
                return self.client.read_run_input(run_id, key)
            from .orchestration.pauses import read_input

            return read_input(self.engine, run_id, key).value
        except NotFound:
            return None
        except ClientError as exc:
            if exc.status == 404:
                return None
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
    (at most: it checks at least every second).
    """
    from .core.context import FlowRunContext
    from .core.states import Paused
    from .exceptions import FlowPauseTimeout, RunCancelled
    from .orchestration.pauses import PAUSE_KEY

    frc = FlowRunContext.get()
    if frc is None:
        raise RuntimeError("pause_flow_run() must be called inside a flow run")
    model, wrapped = _input_model(wait_for_input)
    run_id = frc.flow_run.id
    key = key or f"pause-{next(_counter)}"
    channel = _Channel()
    deadline = time.monotonic() + timeout
    timeout_at = datetime.now(timezone.utc) + timedelta(seconds=timeout)
    description = getattr(model, "__doc__", None) if model is not None and not wrapped else None
    channel.write(run_id, PAUSE_KEY, {
        "key": key,
        "input_schema": model.model_json_schema() if model is not None else None,
        "description": description,
        "timeout_at": timeout_at.isoformat(),
    })  # fmt: skip
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
    if model is None:
        return None
    answer = channel.read(run_id, f"{key}-response") or {}
    try:
        made = model.model_validate(answer)
    except ValidationError as exc:  # the server checked it; a hand-written row may not be
        raise ValueError(
            f"the input that resumed {run_id} is not a {model.__name__}: {exc}"
        ) from None
    return made.value if wrapped else made  # type: ignore[attr-defined]


def resume_flow_run(flow_run_id: str, run_input: dict[str, Any] | None = None) -> Any:
    """Resume a Paused run with ``run_input`` (what its pause waits for): through the
    database of this process. ``Conflict`` if it is not paused, ``ValueError`` naming the
    field of an input its pause refuses."""
    from pathlib import Path

    from .orchestration.pauses import ResumeFlowRun
    from .orchestration.service import OrchestrationService
    from .store.api import run_store

    root = Path.cwd()
    service = OrchestrationService(run_store().engine, root, root / ".jupyter-flows-outputs")
    return service.resume_flow_run(str(flow_run_id), ResumeFlowRun(run_input=run_input))


def suspend_flow_run(*args: Any, **kwargs: Any) -> Any:
    """Prefect's suspension (the run's process exits and the run starts again when resumed)
    is not here yet: ``pause_flow_run`` waits in the process instead."""
    raise NotImplementedError(
        "suspend_flow_run is not supported yet: use pause_flow_run(wait_for_input=..., "
        "timeout=...), which waits in the run's process until it is resumed"
    )
