"""The runs schedules make, many at a time (a part of ``OrchestrationService``).

When a thousand schedules fall due in the same second, their runs are created in one
transaction: the deployments read in one query, the runs inserted with "skip what exists"
(the unique key on deployment and scheduled time keeps a due time to one run, even with
several servers on one database) and their first states appended in one statement.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine

from ..core.names import generate_run_name
from ..core.records import new_id
from . import deployments as _dep
from ._tables import DEPLOYMENT, FLOW_RUN, STATE, now, state_row
from .retention import AUTO_SCHEDULED

__all__ = ["ScheduledRuns", "run_values", "SchedulableDeployment"]

#: rows per statement (well under SQLite's and PostgreSQL's bound-parameter limits)
CHUNK = 500
#: the deployment columns the scheduler needs (never parameters or their schema)
_SCHEDULE_COLUMNS = (
    DEPLOYMENT.c.id,
    DEPLOYMENT.c.name,
    DEPLOYMENT.c.paused,
    DEPLOYMENT.c.schedules,
    DEPLOYMENT.c.missed_runs,
)

SchedulableDeployment = Any  # a row of ``_SCHEDULE_COLUMNS`` (``.id``, ``.schedules``...)


def run_values(
    row: Any,
    params: dict[str, Any],
    at: datetime,
    state_name: str,
    tags: list[str],
    message: str | None = None,
    retry_of: str | None = None,
) -> dict[str, Any]:
    """The ``flow_run`` row of a new Scheduled run of the deployment ``row``."""
    return {
        "id": new_id(),
        "name": generate_run_name(),
        "flow_name": _dep.flow_name(row),
        "flow_version": row["version"],
        "parameters": params,
        "tags": sorted({*row["tags"], *tags}),
        "state_type": "SCHEDULED",
        "state_name": state_name,
        "state_message": message,
        "created": now(),
        "expected_start_time": at,
        "run_count": 0,
        "total_run_time": 0.0,
        "deployment_id": row["id"],
        "work_pool": row["work_pool"],
        "retry_of": retry_of,
    }


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _insert_new(conn: Connection, rows: list[dict[str, Any]]) -> set[str]:
    """Insert ``rows`` into ``flow_run``, skipping those whose (deployment, time) exists;
    the ids inserted."""
    insert_of = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    made: set[str] = set()
    for chunk in _chunks(rows):
        statement = (
            insert_of(FLOW_RUN)
            .values(list(chunk))
            .on_conflict_do_nothing(index_elements=["deployment_id", "expected_start_time"])
            .returning(FLOW_RUN.c.id)
        )
        made.update(conn.execute(statement).scalars())
    return made


class ScheduledRuns:
    """Create the runs of due schedules in batches; list what the scheduler needs."""

    engine: Engine

    def create_scheduled_runs(
        self, due: Sequence[tuple[str, datetime]], late: bool = False
    ) -> dict[tuple[str, datetime], str]:
        """The runs of each (deployment id, due time), in one transaction: ``{(id, time):
        run id}`` for the runs made here (a due time with a run already, from this or another
        server, a paused or deleted deployment: none)."""
        if not due:
            return {}
        state_name = "Late" if late else "Scheduled"
        at = now()
        made: dict[tuple[str, datetime], str] = {}
        with self.engine.begin() as conn:
            ids = sorted({deployment_id for deployment_id, _ in due})
            deployments: dict[str, Any] = {}
            for chunk in _chunks(ids):
                found = conn.execute(select(DEPLOYMENT).where(DEPLOYMENT.c.id.in_(chunk)))
                deployments.update((row["id"], row) for row in found.mappings())
            rows, keys = [], {}
            for deployment_id, when in dict.fromkeys(due):  # each pair once, in order
                row = deployments.get(deployment_id)
                if row is None or row["paused"]:
                    continue
                values = run_values(row, row["parameters"], when, state_name, [AUTO_SCHEDULED])
                rows.append(values)
                keys[values["id"]] = (deployment_id, when)
            inserted = _insert_new(conn, rows) if rows else set()
            history = [
                state_row(run_id, "flow", run_id, "SCHEDULED", state_name, None, at)
                for run_id in keys
                if run_id in inserted
            ]
            for chunk in _chunks(history):
                conn.execute(insert(STATE), list(chunk))
            made = {keys[run_id]: run_id for run_id in keys if run_id in inserted}
        return made

    def schedulable_deployments(self, ids: Sequence[str] | None = None) -> list[Any]:
        """Every deployment (or those of ``ids``) with what scheduling needs: id, name,
        paused, schedules, missed_runs; no page limit (10,000 deployments are 10,000 rows)."""
        query = select(*_SCHEDULE_COLUMNS).order_by(DEPLOYMENT.c.id)
        with self.engine.connect() as conn:
            if ids is None:
                return list(conn.execute(query))
            found: list[Any] = []
            for chunk in _chunks(list(ids)):
                found.extend(conn.execute(query.where(DEPLOYMENT.c.id.in_(chunk))))
            return found
