"""Records the database refuses (a value it cannot store): found one by one, left out.

When a batch fails with an error that may be one record's fault (``is_bad_record``), the
``Batcher`` writes it again with every record first tried in a savepoint of its own: the
refused ones are left out (a refused run with everything of it) and listed in
``Batcher.dropped``, and the rest is written. Errors of the database itself (unreachable,
locked, full) are not records' faults: the batch is kept for the next write.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection

if TYPE_CHECKING:
    from ._batch import Batcher

__all__ = [
    "BAD_RECORD",
    "DroppedRecord",
    "is_bad_record",
    "reason_of",
    "leave_out_bad_records",
    "note_dropped",
]

logger = logging.getLogger(__name__)

#: How many records the database refused ``Batcher.dropped`` remembers.
MAX_DROPPED = 1_000
#: Errors that may be one record's fault (a value the database or driver refuses), not the
#: database's (unreachable, locked, full: those keep everything for the next write).
BAD_RECORD = (sa_exc.DBAPIError, sa_exc.StatementError, ValueError, TypeError)


def is_bad_record(error: BaseException) -> bool:
    """The database refused a value (not: it is unreachable, locked or full)."""
    if isinstance(error, sa_exc.DBAPIError):
        return isinstance(error, (sa_exc.DataError, sa_exc.IntegrityError))
    return True  # StatementError (a bind value), ValueError, TypeError


def reason_of(error: BaseException) -> str:
    """The first line of the driver's error."""
    original = getattr(error, "orig", None) or error
    return f"{type(original).__name__}: {str(original).splitlines()[0] if str(original) else ''}"


@dataclass(frozen=True, slots=True)
class DroppedRecord:
    """A record the database refused: what it was, which run, why."""

    what: str  # flow, flow_run, task_run, input, state, log, result
    run_id: str | None
    reason: str
    #: its number among all the records this writer dropped (1, 2, ...)
    seq: int = 0


def leave_out_bad_records(batcher: Batcher, conn: Connection) -> None:
    """Try each pending record in a savepoint (rolled back); leave out the refused ones."""
    sql, rows = batcher._sql, batcher._rows

    def refused(statement: str, params: tuple[Any, ...]) -> str | None:
        savepoint = conn.begin_nested()
        try:
            conn.exec_driver_sql(statement, params)
        except BAD_RECORD as e:
            savepoint.rollback()
            if not is_bad_record(e):
                raise
            return reason_of(e)
        savepoint.rollback()  # a probe: the real write follows
        return None

    bad_runs: set[str] = set()
    for run in list(batcher._dirty):
        if run.inserted:
            if run.state is None:
                continue
            statement = sql.flow_run_update if run.kind == "flow" else sql.task_run_update
            params = (*run.mutable(), run.total - run.written_total, run.id, run.state.type)
        else:
            statement = sql.flow_run_insert if run.kind == "flow" else sql.task_run_insert
            params = (*run.row, *run.mutable(), run.total)
        reason = refused(statement, params)
        if reason is not None:
            batcher._dirty.remove(run)
            (batcher._runs if run.kind == "task" else batcher._flow_runs).pop(run.id, None)
            bad_runs.add(run.id)
            note_dropped(batcher, f"{run.kind}_run", run.id, reason)
    # (what, statement, the row's run id position(s))
    groups = (
        ("flow", sql.flow, ()),
        ("input", sql.task_run_input, (0,)),
        ("state", sql.run_state, (0,)),
        ("log", sql.run_log, (0, 1)),
        ("result", sql.result_record, ()),
        ("artifact", sql.artifact, (5, 6)),
    )
    for what, statement, run_columns in groups:
        kept = []
        for row in rows[what]:
            run_id = next((row[i] for i in run_columns if row[i]), None)
            if any(row[i] in bad_runs for i in run_columns):
                continue  # its run was refused: nothing of it is written
            reason = refused(statement, row)
            if reason is None:
                kept.append(row)
            else:
                note_dropped(batcher, what, run_id, reason)
        rows[what] = kept


def note_dropped(batcher: Batcher, what: str, run_id: str | None, reason: str) -> None:
    logger.error("the database refused a %s record of run %s, left out: %s", what, run_id,
                 reason)  # fmt: skip
    batcher.dropped_total += 1
    batcher.dropped.append(DroppedRecord(what, run_id, reason, batcher.dropped_total))
    del batcher.dropped[:-MAX_DROPPED]
