"""Slots of concurrency limits: acquire, renew, release, and reclaim expired leases.

One acquisition is one transaction whose heart is a single conditional ``UPDATE`` of the
named limits' rows, ``active_slots = current + n WHERE current + n <= limit``, that must
change every active named limit or none (a savepoint is rolled back otherwise): so a limit
of N never admits N + 1, on SQLite (``BEGIN IMMEDIATE`` serializes writers) as on
PostgreSQL (the rows are locked ``FOR UPDATE`` in name order first, and PostgreSQL
re-checks the ``WHERE`` of an ``UPDATE`` against a row another transaction changed). The
slots are then leased to their holder until ``expires``; a holder renews its lease while
it holds the slots, and an expired lease's slots are taken back by the next acquisition
of its limit, so a holder killed with ``kill -9`` frees its slots when its lease expires.

``current`` is ``active_slots`` after decay: a limit with ``slot_decay_per_second`` frees
that many slots per second (Prefect's rate limits), computed in SQL from ``decayed_at``.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    and_,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine

from ._tables import CONCURRENCY_LEASE as LEASE
from ._tables import CONCURRENCY_LIMIT as LIMIT
from .concurrency_schemas import (
    MAX_LEASE_SECONDS,
    AcquireSlots,
    DescribeSlotLease,
    LeaseHolder,
    check_limit_name,
)

__all__ = [
    "acquire_slots",
    "release_lease",
    "renew_lease",
    "current_slots",
    "decayed_values",
]

logger = logging.getLogger(__name__)


def _epoch(when: float | None) -> float:
    return time.time() if when is None else when


#: the most whole slots decay counts at once (a rate of 1e9/s over minutes would overflow
#: PostgreSQL's integer: "integer out of range", a 500 the API fuzzer found)
_MOST = 2**31 - 1


def _whole(value: ColumnElement[Any], dialect: str) -> ColumnElement[Any]:
    """``floor(value)`` as an integer (at most ``_MOST``), for ``value >= 0`` (SQLite may
    lack ``floor``)."""
    if dialect == "postgresql":
        return cast(func.least(func.floor(value), _MOST), Integer)
    # truncation: the floor of a non-negative number; two-argument min() is SQLite's scalar
    return cast(func.min(value, _MOST), Integer)


def _decay(now: float, dialect: str) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    """``(remaining, decayed)``: active slots less the whole slots decayed since
    ``decayed_at`` (may be negative), and the whole slots decayed."""
    at = literal(now, Float)
    elapsed = case((LIMIT.c.decayed_at < at, at - LIMIT.c.decayed_at), else_=literal(0.0, Float))
    decayed = _whole(LIMIT.c.slot_decay_per_second * elapsed, dialect)
    return LIMIT.c.active_slots - decayed, decayed


def current_slots(now: float, dialect: str) -> ColumnElement[Any]:
    """Active slots after decay (never negative), as SQL."""
    remaining, _ = _decay(now, dialect)
    return case((remaining > 0, remaining), else_=literal(0, Integer))


def decayed_values(now: float, dialect: str, delta: int) -> dict[str, ColumnElement[Any]]:
    """``UPDATE`` values that apply the decay up to ``now`` and add ``delta`` slots (never
    below 0). ``decayed_at`` keeps the fraction of a slot not yet decayed."""
    remaining, decayed = _decay(now, dialect)
    rate = LIMIT.c.slot_decay_per_second
    kept = case(
        (and_(rate > 0, remaining > 0), LIMIT.c.decayed_at + decayed / case((rate > 0, rate),
                                                                             else_=1.0)),
        else_=literal(now, Float),
    )  # fmt: skip
    after = current_slots(now, dialect) + delta
    return {
        "active_slots": case((after > 0, after), else_=literal(0, Integer)),
        "decayed_at": kept,
    }


def _lock_limits(conn: Connection, names: Sequence[str]) -> None:
    """On PostgreSQL, lock the limits' rows in name order (no two transactions can wait for
    each other's rows); SQLite's ``BEGIN IMMEDIATE`` has taken the database's write lock."""
    if conn.dialect.name == "postgresql":
        conn.execute(
            select(LIMIT.c.name).where(LIMIT.c.name.in_(names)).order_by(LIMIT.c.name)
            .with_for_update()
        )  # fmt: skip


def _drop_leases(conn: Connection, rows: Sequence[Any], now: float) -> int:
    """Delete these lease rows and give their slots back; the number actually dropped
    (a row another transaction dropped first gives nothing back twice)."""
    dialect = conn.dialect.name
    dropped = 0
    for row in rows:
        gone = conn.execute(
            delete(LEASE).where(
                LEASE.c.lease_id == row.lease_id, LEASE.c.limit_name == row.limit_name
            )
        ).rowcount
        if gone:
            dropped += 1
            conn.execute(
                update(LIMIT)
                .where(LIMIT.c.name == row.limit_name)
                .values(**decayed_values(now, dialect, -int(row.slots)))
            )
    return dropped


def _reclaim_expired(conn: Connection, names: Sequence[str], now: float) -> None:
    at = datetime.fromtimestamp(now, timezone.utc)
    expired = conn.execute(
        select(LEASE.c.lease_id, LEASE.c.limit_name, LEASE.c.slots, LEASE.c.holder_id).where(
            LEASE.c.limit_name.in_(names), LEASE.c.expires <= at
        )
    ).all()
    if expired and _drop_leases(conn, expired, now):
        for row in expired:
            logger.info(
                "lease %s of %s (holder %s) expired: %d slot(s) taken back",
                row.lease_id,
                row.limit_name,
                row.holder_id,
                row.slots,
            )


def _retry_after(conn: Connection, names: Sequence[str], slots: int, now: float) -> float | None:
    """Seconds until every decaying limit among ``names`` has room for ``slots`` (``None``
    if one of them does not decay: only a release frees its slots)."""
    current = current_slots(now, conn.dialect.name).label("current")
    rows = conn.execute(
        select(LIMIT.c.limit, LIMIT.c.slot_decay_per_second, current).where(LIMIT.c.name.in_(names))
    ).all()
    waits = []
    for row in rows:
        missing = row.current + slots - row.limit
        if missing <= 0:
            continue
        if row.slot_decay_per_second <= 0:
            return None
        waits.append(missing / row.slot_decay_per_second)
    return max(waits, default=0.0)


def acquire_slots(
    engine: Engine, body: AcquireSlots, now: float | None = None
) -> DescribeSlotLease:
    """One attempt to take ``body.slots`` of every named limit, all or none.

    Names without a limit are skipped and inactive limits admit without counting (as
    Prefect); ``acquired`` with no ``limits`` means none of the names has one. Raises
    ``ValueError`` naming ``slots`` for more slots than an active limit has, and ``mode``
    for a rate limit on a limit without decay. A denial is ``acquired=False`` (with
    ``retry_after`` when only decay can make room).
    """
    now = _epoch(now)
    names = sorted(set(body.names))
    for name in names:
        check_limit_name(name, "names")
    with engine.connect() as conn:
        rows = conn.execute(
            select(LIMIT.c.name, LIMIT.c.limit, LIMIT.c.active, LIMIT.c.slot_decay_per_second)
            .where(LIMIT.c.name.in_(names))
            .order_by(LIMIT.c.name)
        ).all()
    found = [r.name for r in rows]
    active = [r for r in rows if r.active]
    for r in active:
        if body.slots > r.limit:
            raise ValueError(
                f"slots: {body.slots} slot(s) requested, more than the limit of {r.limit} "
                f"of {r.name!r}"
            )
    if body.mode == "rate_limit":
        steady = [r.name for r in active if r.slot_decay_per_second <= 0]
        if steady:
            raise ValueError(
                "mode: only limits with slot decay can be used for rate limiting; these have "
                f"none: {', '.join(steady)}"
            )
    if not active:
        return DescribeSlotLease(acquired=True, limits=found)
    held = [r.name for r in active]
    return _admit(engine, body, held, found, now)


def _admit(
    engine: Engine, body: AcquireSlots, held: list[str], found: list[str], now: float
) -> DescribeSlotLease:
    dialect = engine.dialect.name
    with engine.begin() as conn:
        _lock_limits(conn, held)
        _reclaim_expired(conn, held, now)
        savepoint = conn.begin_nested()
        changed = conn.execute(
            update(LIMIT)
            .where(
                LIMIT.c.name.in_(held),
                LIMIT.c.active.is_(True),
                current_slots(now, dialect) + body.slots <= LIMIT.c.limit,
            )
            .values(**decayed_values(now, dialect, body.slots))
        ).rowcount
        if changed != len(held):  # all or nothing
            savepoint.rollback()
            conn.execute(
                update(LIMIT)
                .where(LIMIT.c.name.in_(held))
                .values(denied_slots=LIMIT.c.denied_slots + body.slots)
            )
            return DescribeSlotLease(
                acquired=False,
                limits=found,
                retry_after=_retry_after(conn, held, body.slots, now),
            )
        savepoint.commit()
        if body.mode == "rate_limit":  # decays by itself: nothing to hold or release
            return DescribeSlotLease(acquired=True, limits=found)
        lease_id = uuid.uuid4().hex
        at = datetime.fromtimestamp(now, timezone.utc)
        holder = body.holder
        conn.execute(
            insert(LEASE),
            [
                {
                    "lease_id": lease_id,
                    "limit_name": name,
                    "slots": body.slots,
                    "holder_type": holder.type,
                    "holder_id": holder.id,
                    "holder_name": holder.name,
                    "acquired": at,
                    "expires": at + timedelta(seconds=body.lease_duration),
                }
                for name in held
            ],
        )
    logger.debug("lease %s: %d slot(s) of %s for %s", lease_id, body.slots, held, holder.id)
    return DescribeSlotLease(acquired=True, lease_id=lease_id, limits=found)


def release_lease(engine: Engine, lease_id: str, now: float | None = None) -> bool:
    """Give the slots of lease ``lease_id`` back; ``False`` if it is gone (expired and
    taken back, or released already)."""
    now = _epoch(now)
    with engine.begin() as conn:
        rows = conn.execute(
            select(LEASE.c.lease_id, LEASE.c.limit_name, LEASE.c.slots).where(
                LEASE.c.lease_id == lease_id
            )
        ).all()
        if not rows:
            return False
        _lock_limits(conn, sorted(r.limit_name for r in rows))  # the order acquirers lock in
        dropped = _drop_leases(conn, rows, now)
    return dropped > 0


def renew_lease(
    engine: Engine, lease_id: str, lease_duration: float, now: float | None = None
) -> bool:
    """Extend lease ``lease_id`` to ``lease_duration`` seconds from now; ``False`` if it is
    gone (its slots were taken back: the holder no longer holds them)."""
    if not 0 < lease_duration <= MAX_LEASE_SECONDS:
        raise ValueError(f"lease_duration: between 0 and {MAX_LEASE_SECONDS:g} seconds")
    at = datetime.fromtimestamp(_epoch(now), timezone.utc)
    with engine.begin() as conn:
        renewed = conn.execute(
            update(LEASE)
            .where(LEASE.c.lease_id == lease_id)
            .values(expires=at + timedelta(seconds=lease_duration))
        ).rowcount
    return renewed > 0


def process_holder() -> LeaseHolder:
    """This process as a holder (``host:pid``)."""
    import os
    import socket

    ident = f"{socket.gethostname()}:{os.getpid()}"
    return LeaseHolder(type="process", id=ident, name=ident)
