"""The queue of background task runs (``Task.delay``) in the run database.

``enqueue`` writes a ``Scheduled`` task run and its queue row in one transaction. A task
worker ``claim``s runs with a conditional ``UPDATE ... WHERE worker IS NULL`` whose row
count says who won (so several task workers never run one twice), moving it to
``Pending``; it keeps its claims alive with ``renew``. ``sweep`` takes back claims whose
lease ran out (the worker died): a run that had not started goes back to ``Scheduled``
(Prefect re-queues a run its task worker did not take), one that had started ends
``Crashed``. Every state change here is decided by ``core.state_policy`` first.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.engine import Connection, Engine

from jupyter_flows.core.records import TaskRunInfo
from jupyter_flows.core.state_policy import FINAL_VALUES, Decision, propose
from jupyter_flows.core.states import StateType

from .models import BackgroundTaskRunRecord, RunStateRecord, TaskRunInputRecord, TaskRunRecord

__all__ = [
    "ClaimedTaskRun",
    "enqueue",
    "claim",
    "renew",
    "release",
    "abandon",
    "finish",
    "sweep",
    "read_state",
]

logger = logging.getLogger(__name__)

QUEUE = BackgroundTaskRunRecord.__table__  # type: ignore[attr-defined]
TASK_RUN = TaskRunRecord.__table__  # type: ignore[attr-defined]
STATE = RunStateRecord.__table__  # type: ignore[attr-defined]
INPUT = TaskRunInputRecord.__table__  # type: ignore[attr-defined]
_FINAL = tuple(sorted(FINAL_VALUES))


def _now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True, slots=True)
class ClaimedTaskRun:
    """A background task run a task worker won: what it needs to run it."""

    task_run_id: str
    queue_key: str
    name: str
    parameters: dict[str, Any] | None
    parameters_location: str | None
    wait_for: list[str]


def _history(
    conn: Connection, run_id: str, type_: str, name: str, message: str | None, at: datetime
) -> None:
    conn.execute(
        insert(STATE).values(
            run_id=run_id,
            run_kind="task",
            flow_run_id=None,
            type=type_,
            name=name,
            timestamp=at,
            message=message,
        )
    )


def _move(
    conn: Connection,
    run_id: str,
    current: tuple[str | None, str | None],
    type_: str,
    name: str,
    message: str | None,
    at: datetime,
) -> bool:
    """Propose ``type_``/``name`` for a task run in state ``current``; True if recorded.

    The state policy decides; the UPDATE is conditional on the state read, so a run another
    writer moved meanwhile is left alone.
    """
    before = StateType(current[0]) if current[0] else None
    verdict = propose(before, StateType(type_), current[1], name)
    if verdict.decision is not Decision.ACCEPT:
        logger.debug("task run %s stays %s: %s", run_id, current[1], verdict.reason)
        return False
    values: dict[str, Any] = {"state_type": type_, "state_name": name, "state_message": message}
    if type_ in FINAL_VALUES:
        values["end_time"] = at
    guard = (
        TASK_RUN.c.state_type.is_(None)
        if current[0] is None
        else (TASK_RUN.c.state_type == current[0])
    )
    done = conn.execute(
        update(TASK_RUN).where(and_(TASK_RUN.c.id == run_id, guard)).values(**values)
    ).rowcount
    if done:
        _history(conn, run_id, type_, name, message, at)
    return bool(done)


def enqueue(
    engine: Engine,
    info: TaskRunInfo,
    queue_key: str,
    *,
    parameters: dict[str, Any] | None,
    parameters_location: str | None,
    wait_for: list[str],
    origin_flow_run_id: str | None,
) -> None:
    """Write a ``Scheduled`` task run and its queue row (one transaction)."""
    verdict = propose(None, StateType.SCHEDULED)
    assert verdict.accepted  # a new run may enter any state
    at = info.created
    with engine.begin() as conn:
        conn.execute(
            insert(TASK_RUN).values(
                id=info.id,
                flow_run_id=None,
                task_key=info.task_key,
                task_name=info.task_name,
                name=info.name,
                tags=list(info.tags),
                dynamic_key=info.dynamic_key,
                description=info.description,
                version=info.version,
                state_type="SCHEDULED",
                state_name="Scheduled",
                state_message="waiting for a task worker",
                created=at,
                expected_start_time=at,
                run_count=0,
                total_run_time=0.0,
            )
        )
        _history(conn, info.id, "SCHEDULED", "Scheduled", "waiting for a task worker", at)
        if info.inputs:
            conn.execute(
                insert(INPUT),
                [
                    {
                        "task_run_id": info.id,
                        "upstream_id": i.upstream_id,
                        "kind": i.kind,
                        "parameter": i.parameter,
                    }
                    for i in info.inputs
                ],
            )
        conn.execute(
            insert(QUEUE).values(
                task_run_id=info.id,
                queue_key=queue_key,
                parameters=parameters,
                parameters_location=parameters_location,
                wait_for=wait_for,
                origin_flow_run_id=origin_flow_run_id,
                created=at,
                worker=None,
                claims=0,
                lease_expires=None,
            )
        )


def _upstreams_done(conn: Connection, wait_for: list[str]) -> bool:
    """Every task run of ``wait_for`` has ended (the worker then decides on their states)."""
    if not wait_for:
        return True
    ended = conn.execute(
        select(func.count())
        .select_from(TASK_RUN)
        .where(and_(TASK_RUN.c.id.in_(wait_for), TASK_RUN.c.state_type.in_(_FINAL)))
    ).scalar()
    return ended == len(set(wait_for))


def claim(
    engine: Engine, worker: str, queue_keys: list[str], limit: int, lease_seconds: float
) -> list[ClaimedTaskRun]:
    """Win up to ``limit`` Scheduled background runs of ``queue_keys`` for ``worker``.

    Oldest first; a run whose ``wait_for`` runs have not all ended waits in the queue.
    """
    if limit <= 0 or not queue_keys:
        return []
    with engine.connect() as conn:
        candidates = conn.execute(
            select(QUEUE.c.task_run_id, QUEUE.c.wait_for)
            .join(TASK_RUN, TASK_RUN.c.id == QUEUE.c.task_run_id)
            .where(
                and_(
                    QUEUE.c.queue_key.in_(queue_keys),
                    QUEUE.c.worker.is_(None),
                    TASK_RUN.c.state_type == "SCHEDULED",
                )
            )
            .order_by(QUEUE.c.created)
            .limit(limit * 4)  # some may go to other workers meanwhile
        ).all()
        ready = [r.task_run_id for r in candidates if _upstreams_done(conn, r.wait_for or [])]
    won: list[ClaimedTaskRun] = []
    for run_id in ready:
        if len(won) >= limit:
            break
        claimed = _claim_one(engine, run_id, worker, lease_seconds)
        if claimed is not None:
            won.append(claimed)
    return won


class _Lost(Exception):
    """The claim's transaction is rolled back: the run moved meanwhile."""


def _claim_one(
    engine: Engine, run_id: str, worker: str, lease_seconds: float
) -> ClaimedTaskRun | None:
    try:
        return _try_claim(engine, run_id, worker, lease_seconds)
    except _Lost:
        return None


def _try_claim(
    engine: Engine, run_id: str, worker: str, lease_seconds: float
) -> ClaimedTaskRun | None:
    at = _now()
    with engine.begin() as conn:
        won = conn.execute(
            update(QUEUE)
            .where(and_(QUEUE.c.task_run_id == run_id, QUEUE.c.worker.is_(None)))
            .values(
                worker=worker,
                claims=QUEUE.c.claims + 1,
                lease_expires=at + timedelta(seconds=lease_seconds),
            )
        ).rowcount
        if not won:
            return None  # another task worker was first
        state = conn.execute(
            select(TASK_RUN.c.state_type, TASK_RUN.c.state_name).where(TASK_RUN.c.id == run_id)
        ).first()
        current = (state[0], state[1]) if state is not None else (None, None)
        message = f"claimed by task worker {worker}"
        if current[0] != "SCHEDULED" or not _move(
            conn, run_id, current, "PENDING", "Pending", message, at
        ):
            raise _Lost  # cancelled or retried meanwhile: the claim is rolled back
        row = conn.execute(
            select(QUEUE, TASK_RUN.c.name)
            .join(TASK_RUN, TASK_RUN.c.id == QUEUE.c.task_run_id)
            .where(QUEUE.c.task_run_id == run_id)
        ).one()
    return ClaimedTaskRun(
        run_id,
        row.queue_key,
        row.name,
        row.parameters,
        row.parameters_location,
        list(row.wait_for or []),
    )


def renew(engine: Engine, worker: str, run_ids: list[str], lease_seconds: float) -> int:
    """Extend ``worker``'s claims on ``run_ids`` (its heartbeat); how many it still holds."""
    if not run_ids:
        return 0
    with engine.begin() as conn:
        return int(
            conn.execute(
                update(QUEUE)
                .where(and_(QUEUE.c.task_run_id.in_(run_ids), QUEUE.c.worker == worker))
                .values(lease_expires=_now() + timedelta(seconds=lease_seconds))
            ).rowcount
        )


def finish(engine: Engine, worker: str, run_id: str) -> None:
    """``worker`` is done with ``run_id``: its lease ends (nothing will take it back)."""
    with engine.begin() as conn:
        conn.execute(
            update(QUEUE)
            .where(and_(QUEUE.c.task_run_id == run_id, QUEUE.c.worker == worker))
            .values(lease_expires=None)
        )


def release(engine: Engine, worker: str, run_ids: list[str], message: str) -> list[str]:
    """Give back ``worker``'s claims of runs that have not started (``Pending``): they are
    ``Scheduled`` again for any task worker. Returns the runs given back."""
    done = [_take_back(engine, rid, worker, None, message, crash=False) for rid in run_ids]
    return [rid for rid, outcome in zip(run_ids, done, strict=True) if outcome == "requeued"]


def abandon(engine: Engine, worker: str, run_ids: list[str], message: str) -> None:
    """``worker`` stops now: its runs that have not started are re-queued, the others end
    ``Crashed`` (a task worker stopped twice does not wait for its runs)."""
    for run_id in run_ids:
        _take_back(engine, run_id, worker, None, message, crash=True)


def sweep(engine: Engine) -> tuple[list[str], list[str]]:
    """Take back claims whose lease ran out: ``(re-queued, crashed)`` task run ids.

    Safe with several sweepers (task workers, servers): each change is conditional.
    """
    at = _now()
    with engine.connect() as conn:
        expired = conn.execute(
            select(QUEUE.c.task_run_id, QUEUE.c.worker).where(
                and_(QUEUE.c.worker.is_not(None), QUEUE.c.lease_expires < at)
            )
        ).all()
    requeued, crashed = [], []
    for run_id, worker in expired:
        message = f"its task worker {worker} stopped renewing its claim"
        outcome = _take_back(engine, run_id, worker, at, message, crash=True)
        if outcome == "requeued":
            requeued.append(run_id)
            logger.warning("background task run %s re-queued: %s", run_id, message)
        elif outcome == "crashed":
            crashed.append(run_id)
            logger.warning("background task run %s crashed: %s", run_id, message)
    return requeued, crashed


def _take_back(
    engine: Engine,
    run_id: str,
    worker: str,
    expired_before: datetime | None,
    message: str,
    *,
    crash: bool,
) -> str | None:
    """Re-queue ``worker``'s claim of ``run_id`` if the run had not started, else (``crash``)
    end it Crashed; the lease ends either way. What was done, or None."""
    at = _now()
    with engine.begin() as conn:
        held = and_(QUEUE.c.task_run_id == run_id, QUEUE.c.worker == worker)
        if expired_before is not None:
            held = and_(held, QUEUE.c.lease_expires < expired_before)
        row = conn.execute(
            select(TASK_RUN.c.state_type, TASK_RUN.c.state_name)
            .join(QUEUE, QUEUE.c.task_run_id == TASK_RUN.c.id)
            .where(held)
        ).first()
        if row is None:
            return None  # renewed, finished or taken back meanwhile
        current = (row.state_type, row.state_name)
        outcome = None
        if row.state_type == "PENDING":
            if _move(conn, run_id, current, "SCHEDULED", "Scheduled", f"re-queued: {message}", at):
                conn.execute(update(QUEUE).where(held).values(worker=None, lease_expires=None))
                return "requeued"
        elif crash and row.state_type not in FINAL_VALUES:
            if _move(conn, run_id, current, "CRASHED", "Crashed", message, at):
                outcome = "crashed"
        if outcome is not None or row.state_type in FINAL_VALUES:
            conn.execute(update(QUEUE).where(held).values(lease_expires=None))
        return outcome


def read_state(engine: Engine, run_id: str) -> tuple[str | None, str | None, str | None] | None:
    """``(state type, name, message)`` of a task run (one primary-key read), or None."""
    with engine.connect() as conn:
        row = conn.execute(
            select(TASK_RUN.c.state_type, TASK_RUN.c.state_name, TASK_RUN.c.state_message).where(
                TASK_RUN.c.id == run_id
            )
        ).first()
    return None if row is None else (row[0], row[1], row[2])
