"""Pausing, suspending and resuming flow runs (Prefect's ``pause_flow_run``,
``suspend_flow_run``, ``resume_flow_run``), and the keyed inputs of flow runs they exchange.

A run that pauses records ``Paused`` (through the state policy, as every state) and writes
what it waits for under the input key ``__pause__``: its own key, the JSON schema of the
input it wants (or none), when it gives up, whether it is suspended. ``resume_flow_run``
checks the run is Paused, validates the input against that schema (a 400 naming the field),
stores it under ``<key>-response`` and proposes ``Running``; the paused process, polling,
reads it and goes on. A *suspended* run (``Suspended``, ``reschedule``: its process exited)
is proposed ``Scheduled`` ("Resuming") instead, its worker cleared: a worker claims and runs
it again, and its ``suspend_flow_run`` finds the response and returns it.

Paused runs not resumed in time end Failed (Prefect's ``FailExpiredPauses``): the server's
periodic check calls ``fail_expired_pauses``.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import and_, insert, select, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine

from ..core.records import new_id
from ..exceptions import Conflict, NotFound
from ..store.models import FlowRunInputRecord
from ._tables import FLOW_RUN, now

__all__ = [
    "PAUSE_KEY",
    "TIMED_OUT",
    "DescribePause",
    "ResumeFlowRun",
    "DescribeRunInput",
    "SetRunInput",
    "write_input",
    "read_input",
    "Pauses",
]

logger = logging.getLogger(__name__)

INPUT = FlowRunInputRecord.__table__  # type: ignore[attr-defined]
#: the input key under which a paused run says what it waits for
PAUSE_KEY = "__pause__"
#: how a pause that was not resumed in time ends (Prefect's message)
TIMED_OUT = "The flow was paused and never resumed."


class DescribePause(BaseModel):
    """What a paused run waits for: an input matching ``schema`` (none: just a resume)."""

    key: str
    input_schema: dict[str, Any] | None = Field(
        default=None, description="the JSON schema of the input it waits for"
    )
    description: str | None = None
    timeout_at: datetime | None = None
    reschedule: bool = Field(
        default=False,
        description="suspended: its process exited; resuming schedules it again (a worker "
        "runs it from the start, reusing its completed task runs)",
    )

    def expired(self, at: datetime) -> bool:
        """Whether it was not resumed in time."""
        if self.timeout_at is None:
            return False
        when = self.timeout_at
        return (when if when.tzinfo else when.replace(tzinfo=timezone.utc)) < at


class ResumeFlowRun(BaseModel):
    """The body of ``POST flow_runs/{id}/resume``."""

    model_config = ConfigDict(extra="forbid")

    run_input: dict[str, Any] | None = Field(
        default=None, description="what the paused run waits for (its pause's schema)"
    )


class DescribeRunInput(BaseModel):
    flow_run_id: str
    key: str
    value: Any = None
    created: datetime


class SetRunInput(BaseModel):
    """The body of ``PUT flow_runs/{id}/inputs/{key}``."""

    model_config = ConfigDict(extra="forbid")

    value: Any = None


def write_input(engine: Engine, flow_run_id: str, key: str, value: Any) -> None:
    """Set input ``key`` of a flow run (replacing it)."""
    with engine.begin() as conn:
        changed = conn.execute(
            update(INPUT)
            .where(INPUT.c.flow_run_id == flow_run_id, INPUT.c.key == key)
            .values(value=value, created=now())
        ).rowcount
        if not changed:
            try:
                with conn.begin_nested():
                    conn.execute(insert(INPUT).values(flow_run_id=flow_run_id, key=key,
                                                      value=value, created=now()))  # fmt: skip
            except sa_exc.IntegrityError:  # another writer made it meanwhile
                conn.execute(
                    update(INPUT)
                    .where(INPUT.c.flow_run_id == flow_run_id, INPUT.c.key == key)
                    .values(value=value, created=now())
                )


def read_input(engine: Engine, flow_run_id: str, key: str) -> DescribeRunInput:
    """Input ``key`` of a flow run; ``NotFound`` if it has none."""
    with engine.connect() as conn:
        row = (
            conn.execute(
                select(INPUT).where(INPUT.c.flow_run_id == flow_run_id, INPUT.c.key == key)
            )
            .mappings()
            .first()
        )
    if row is None:
        raise NotFound(f"flow run {flow_run_id} has no input {key!r}")
    return DescribeRunInput.model_validate(dict(row))


def _checked(schema: dict[str, Any] | None, run_input: dict[str, Any] | None) -> Any:
    """``run_input`` if the schema takes it; ``ValueError`` naming the field if not."""
    if schema is None:
        if run_input:
            raise ValueError("run_input: this paused run waits for no input")
        return None
    import jsonschema

    value = run_input or {}
    errors = sorted(
        jsonschema.Draft202012Validator(schema).iter_errors(value), key=lambda e: list(e.path)
    )
    if errors:
        first = errors[0]
        where = ".".join(str(p) for p in ["run_input", *first.absolute_path])
        raise ValueError(f"{where}: {first.message}")
    return value


#: why the task runs a suspended run left unfinished end Cancelled when it is resumed
SUSPENDED_TASKS = (
    "the flow run was suspended: this task run stopped with its process (the resumed run "
    "runs it again)"
)


class Pauses:
    """Inputs of flow runs, and resuming paused runs (the service's part)."""

    engine: Engine

    def read_pause(self, flow_run_id: str) -> DescribePause:
        """What the paused run waits for; ``NotFound`` if it is not paused."""
        state = self.read_run_state(flow_run_id)  # type: ignore[attr-defined]
        if state.state_type != "PAUSED":
            raise NotFound(f"flow run {flow_run_id} is not paused ({state.state_name})")
        found = read_input(self.engine, flow_run_id, PAUSE_KEY).value or {}
        return DescribePause.model_validate(found)

    def _pause_of(self, flow_run_id: str) -> DescribePause:
        try:
            found = read_input(self.engine, flow_run_id, PAUSE_KEY).value
        except NotFound:
            found = None
        return DescribePause.model_validate(found or {"key": "pause"})

    def resume_flow_run(self, flow_run_id: str, body: ResumeFlowRun) -> Any:
        """Resume a Paused run with ``body.run_input``: ``Conflict`` if it is not paused,
        ``ValueError`` naming the field of an input its pause's schema refuses.

        A Suspended run is scheduled again ("Resuming", no worker): ``Conflict`` (and the
        run ends Failed) if its timeout passed, as Prefect's.
        """
        current = self.read_run_state(flow_run_id)  # type: ignore[attr-defined]
        if current.state_type != "PAUSED":
            raise Conflict(
                f"flow run {flow_run_id} is {current.state_name or 'new'}, not paused: "
                "only a Paused run can be resumed"
            )
        pause = self._pause_of(flow_run_id)
        suspended = pause.reschedule or current.state_name == "Suspended"
        if suspended and pause.expired(now()):
            self._propose(current, "FAILED", "Failed", TIMED_OUT)  # type: ignore[attr-defined]
            raise Conflict(
                f"flow run {flow_run_id}: the pause timed out and can no longer resume "
                f"(it ended Failed: {TIMED_OUT})"
            )
        value = _checked(pause.input_schema, body.run_input)
        write_input(self.engine, flow_run_id, f"{pause.key}-response", value)
        logger.info("flow run %s resumed (%s)", flow_run_id, pause.key)
        if suspended:  # its process is gone: a worker runs it again
            return self._propose(  # type: ignore[attr-defined]
                current,
                "SCHEDULED",
                "Resuming",
                f"resumed from {pause.key}",
                extra={"worker": None, "heartbeat": None},
                ends=("SUSPENDED", SUSPENDED_TASKS),
            )
        return self._propose(current, "RUNNING", "Running", "resumed")  # type: ignore[attr-defined]

    def suspend_flow_run(
        self,
        flow_run_id: str,
        timeout: float | None = 3600,
        key: str | None = None,
        input_schema: dict[str, Any] | None = None,
    ) -> Any:
        """Suspend a Running run of a deployment from outside it (an automation's
        ``suspend-flow-run``, ``suspend_flow_run(flow_run_id=...)``): ``Suspended`` now, and
        its worker stops its process as for a cancellation, without a final state;
        resuming schedules it again. ``Conflict`` for a run that is not Running, no
        deployment made, or a subflow (Prefect's rules)."""
        current = self.read_run_state(flow_run_id)  # type: ignore[attr-defined]
        run = self.runs.read_flow_run_item(flow_run_id)  # type: ignore[attr-defined]
        if run.deployment_id is None:
            raise Conflict(
                f"flow run {flow_run_id} cannot be suspended: Cannot pause flows without a "
                "deployment with the reschedule option."
            )
        if run.parent_flow_run_id is not None:
            raise Conflict(
                f"flow run {flow_run_id} cannot be suspended: Cannot pause subflows with the "
                "reschedule option."
            )
        if current.state_type != "RUNNING":
            raise Conflict(
                f"flow run {flow_run_id} is {current.state_name or 'new'}: Cannot pause flows "
                "that are not currently running."
            )
        key = key or f"suspend-{new_id()[:12]}"
        at = now()
        pause = DescribePause(
            key=key,
            input_schema=input_schema,
            timeout_at=None if timeout is None else at + timedelta(seconds=timeout),
            reschedule=True,
        )
        write_input(self.engine, flow_run_id, PAUSE_KEY, pause.model_dump(mode="json"))
        logger.info("flow run %s suspended (%s)", flow_run_id, key)
        return self._propose(  # type: ignore[attr-defined]
            current, "PAUSED", "Suspended", f"suspended ({key}): waiting to be resumed"
        )

    def fail_expired_pauses(self, grace: float = 0.0) -> list[str]:
        """End Failed the Paused runs that were not resumed in time (Prefect's
        ``FailExpiredPauses``): a Suspended run at its timeout; a run paused in its process
        (which fails itself at its timeout) ``grace`` seconds later, when that process is
        gone. Returns their ids."""
        at = now()
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(FLOW_RUN.c.id, INPUT.c.value)
                .join(INPUT, and_(INPUT.c.flow_run_id == FLOW_RUN.c.id, INPUT.c.key == PAUSE_KEY))
                .where(FLOW_RUN.c.state_type == "PAUSED")
            ).all()
        failed = []
        for run_id, value in rows:
            try:
                pause = DescribePause.model_validate(value or {})
            except ValueError:
                continue  # not written by a pause of ours
            late = at if pause.reschedule else at - timedelta(seconds=grace)
            if not pause.expired(late):
                continue
            try:
                current = self.read_run_state(run_id)  # type: ignore[attr-defined]
                if current.state_type == "PAUSED":
                    self._propose(current, "FAILED", "Failed", TIMED_OUT)  # type: ignore[attr-defined]
                    failed.append(run_id)
                    logger.warning("flow run %s: %s", run_id, TIMED_OUT)
            except (Conflict, NotFound):
                continue  # resumed, ended or deleted meanwhile
        return failed

    def set_run_input(self, flow_run_id: str, key: str, body: SetRunInput) -> DescribeRunInput:
        self.read_run_state(flow_run_id)  # type: ignore[attr-defined]  # NotFound
        write_input(self.engine, flow_run_id, key, body.value)
        return read_input(self.engine, flow_run_id, key)

    def read_run_input(self, flow_run_id: str, key: str) -> DescribeRunInput:
        return read_input(self.engine, flow_run_id, key)
