"""Pausing and resuming flow runs (Prefect's ``pause_flow_run`` / ``resume_flow_run``), and
the keyed inputs of flow runs they exchange.

A run that pauses records ``Paused`` (through the state policy, as every state) and writes
what it waits for under the input key ``__pause__``: its own key, the JSON schema of the
input it wants (or none), when it gives up, why. ``resume_flow_run`` checks the run is
Paused, validates the input against that schema (a 400 naming the field), stores it under
``<key>-response`` and proposes ``Running``; the paused process, polling, reads it and goes on.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import exc as sa_exc
from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine

from ..exceptions import Conflict, NotFound
from ..store.models import FlowRunInputRecord
from ._tables import now

__all__ = [
    "PAUSE_KEY",
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


class DescribePause(BaseModel):
    """What a paused run waits for: an input matching ``schema`` (none: just a resume)."""

    key: str
    input_schema: dict[str, Any] | None = Field(
        default=None, description="the JSON schema of the input it waits for"
    )
    description: str | None = None
    timeout_at: datetime | None = None


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

    def resume_flow_run(self, flow_run_id: str, body: ResumeFlowRun) -> Any:
        """Resume a Paused run with ``body.run_input``: ``Conflict`` if it is not paused,
        ``ValueError`` naming the field of an input its pause's schema refuses."""
        current = self.read_run_state(flow_run_id)  # type: ignore[attr-defined]
        if current.state_type != "PAUSED":
            raise Conflict(
                f"flow run {flow_run_id} is {current.state_name or 'new'}, not paused: "
                "only a Paused run can be resumed"
            )
        try:
            pause = DescribePause.model_validate(
                read_input(self.engine, flow_run_id, PAUSE_KEY).value or {"key": "pause"}
            )
        except NotFound:
            pause = DescribePause(key="pause")
        value = _checked(pause.input_schema, body.run_input)
        write_input(self.engine, flow_run_id, f"{pause.key}-response", value)
        logger.info("flow run %s resumed (%s)", flow_run_id, pause.key)
        return self._propose(current, "RUNNING", "Running", "resumed")  # type: ignore[attr-defined]

    def set_run_input(self, flow_run_id: str, key: str, body: SetRunInput) -> DescribeRunInput:
        self.read_run_state(flow_run_id)  # type: ignore[attr-defined]  # NotFound
        write_input(self.engine, flow_run_id, key, body.value)
        return read_input(self.engine, flow_run_id, key)

    def read_run_input(self, flow_run_id: str, key: str) -> DescribeRunInput:
        return read_input(self.engine, flow_run_id, key)
