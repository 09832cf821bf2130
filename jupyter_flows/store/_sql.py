"""The SQL text of the recorder's batched writes (driver-level, one placeholder style)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from jupyter_flows.core.state_policy import allowed_pairs

__all__ = [
    "Statements",
    "statements",
    "read_states",
    "FLOW_RUN_IDENTITY",
    "TASK_RUN_IDENTITY",
    "MUTABLE",
    "ARTIFACT_COLUMNS",
]

logger = logging.getLogger(__name__)

#: Columns set once, when a run is created (in ``_batch`` row order).
FLOW_RUN_IDENTITY = (
    "id",
    "name",
    "flow_name",
    "flow_version",
    "parameters",
    "tags",
    "created",
    "parent_flow_run_id",
    "parent_task_run_id",
    "deployment_id",
)
TASK_RUN_IDENTITY = (
    "id",
    "flow_run_id",
    "task_key",
    "task_name",
    "name",
    "tags",
    "dynamic_key",
    "cache_key",
    "description",
    "version",
    "created",
    "subflow_run_id",
)
#: Columns that follow the run's states (``_Run.mutable()`` order, then total_run_time).
MUTABLE = (
    "state_type",
    "state_name",
    "state_message",
    "run_count",
    "start_time",
    "end_time",
    "expected_start_time",
)


@dataclass(frozen=True, slots=True)
class Statements:
    flow: str
    flow_run_insert: str
    task_run_insert: str
    flow_run_update: str
    task_run_update: str
    task_run_input: str
    run_state: str
    run_log: str
    result_record: str
    artifact: str


#: Columns of an artifact (``_batch`` row order). Saving a known id updates its data,
#: description and ``updated``, only from the same flow run (a run never rewrites another
#: run's artifact).
ARTIFACT_COLUMNS = (
    "id",
    "key",
    "type",
    "description",
    "data",
    "flow_run_id",
    "task_run_id",
    "created",
    "updated",
)


def _insert(table: str, columns: tuple[str, ...], p: str, conflict: str = "") -> str:
    values = ", ".join([p] * len(columns))
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({values}){conflict}"


def _accepted(current: str, proposed: str) -> str:
    """SQL: the state policy accepts ``current -> proposed`` (pairs from ``core.state_policy``).

    The recorder decides each state in Python against what it knows; this guard is for
    what another writer did meanwhile (the server's crash detection, a cancel, a claim),
    so a late write never undoes a final state or a Cancelling.
    """
    pairs = ", ".join(f"'{a}>{b}'" for a, b in allowed_pairs())
    return f"(COALESCE({current}, '') || '>' || {proposed}) IN ({pairs})"


def _run_insert(table: str, identity: tuple[str, ...], p: str) -> str:
    # A retried batch whose earlier commit did happen, or a run created twice, finds the
    # row: refresh its state columns (unless the new row has no state yet, or the policy
    # refuses the move from the row's state).
    refresh = ", ".join(
        f"{c} = COALESCE({table}.{c}, excluded.{c})"
        if c in ("start_time", "expected_start_time")
        else f"{c} = excluded.{c}"
        for c in (*MUTABLE, "total_run_time")
    )
    columns = (*identity, *MUTABLE, "total_run_time")
    conflict = (
        f" ON CONFLICT (id) DO UPDATE SET {refresh} WHERE excluded.state_type IS NOT NULL"
        f" AND {_accepted(f'{table}.state_type', 'excluded.state_type')}"
    )
    return _insert(table, columns, p, conflict)


def _run_update(table: str, p: str) -> str:
    return (
        f"UPDATE {table} SET state_type = {p}, state_name = {p}, state_message = {p}, "
        f"run_count = {p}, start_time = COALESCE(start_time, {p}), end_time = {p}, "
        f"expected_start_time = COALESCE(expected_start_time, {p}), "
        f"total_run_time = total_run_time + {p} WHERE id = {p}"
        f" AND {_accepted('state_type', f'CAST({p} AS TEXT)')}"
    )


def read_states(table: str, p: str, count: int) -> str:
    """SELECT the state columns of ``count`` runs of ``table`` by id."""
    marks = ", ".join([p] * count)
    flow = "flow_run_id" if table == "task_run" else "id"
    return f"SELECT id, state_type, state_name, {flow} FROM {table} WHERE id IN ({marks})"


def statements(p: str) -> Statements:
    """The statements with placeholder ``p`` (``?`` for sqlite3, ``%s`` for psycopg)."""
    result_columns = (
        "key",
        "task_run_id",
        "flow_run_id",
        "location",
        "serializer",
        "created",
        "expires",
    )
    refresh_result = ", ".join(f"{c} = excluded.{c}" for c in result_columns[1:])
    return Statements(
        flow=_insert(
            "flow",
            ("id", "name", "description", "created"),
            p,
            " ON CONFLICT (name) DO UPDATE SET"
            " description = COALESCE(excluded.description, flow.description)",
        ),
        flow_run_insert=_run_insert("flow_run", FLOW_RUN_IDENTITY, p),
        task_run_insert=_run_insert("task_run", TASK_RUN_IDENTITY, p),
        flow_run_update=_run_update("flow_run", p),
        task_run_update=_run_update("task_run", p),
        task_run_input=_insert(
            "task_run_input", ("task_run_id", "upstream_id", "kind", "parameter"), p
        ),
        run_state=_insert(
            "run_state",
            ("run_id", "run_kind", "flow_run_id", "type", "name", "timestamp", "message"),
            p,
        ),
        run_log=_insert(
            "run_log",
            ("flow_run_id", "task_run_id", "level", "logger", "message", "timestamp"),
            p,
        ),
        result_record=_insert(
            "result_record",
            result_columns,
            p,
            f" ON CONFLICT (key) DO UPDATE SET {refresh_result}",
        ),
        artifact=_insert(
            "artifact",
            ARTIFACT_COLUMNS,
            p,
            " ON CONFLICT (id) DO UPDATE SET data = excluded.data,"
            " description = COALESCE(excluded.description, artifact.description),"
            " updated = excluded.updated"
            " WHERE COALESCE(artifact.flow_run_id, '') = COALESCE(excluded.flow_run_id, '')",
        ),
    )
