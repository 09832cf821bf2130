"""Concurrency limits: create, read (with who holds their slots), update, reset, delete.

A part of ``OrchestrationService`` (the REST routes), and plain functions over an engine for
the CLI-less paths (``jupyter_flows.concurrency`` in a process with the database). Slots are
acquired and released in ``slots``. Domain problems raise the ``jupyter_flows.exceptions``
tree (``NotFound``, ``Conflict``) or ``ValueError`` naming the field; nothing here knows HTTP.

Reads never write: a limit's ``active_slots`` is shown after decay and without the slots of
leases that expired and were not taken back yet (the next acquisition takes them back).
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine

from ..exceptions import Conflict, NotFound
from ._tables import CONCURRENCY_LEASE as LEASE
from ._tables import CONCURRENCY_LIMIT as LIMIT
from ._tables import now
from .concurrency_schemas import (
    AcquireSlots,
    CreateConcurrencyLimit,
    DescribeConcurrencyLimit,
    DescribeSlotHolder,
    DescribeSlotLease,
    LeaseHolder,
    ListConcurrencyLimitsQuery,
    ListConcurrencyLimitsResponse,
    RenewLease,
    UpdateConcurrencyLimit,
    check_limit_name,
)
from .slots import acquire_slots, current_slots, release_lease, renew_lease

__all__ = [
    "ConcurrencyLimits",
    "create_limit",
    "read_limit",
    "list_limits",
    "update_limit",
    "reset_limit",
    "delete_limit",
]

logger = logging.getLogger(__name__)


def _missing(name: str) -> NotFound:
    return NotFound(f"no concurrency limit {name!r}")


def _describe(conn: Connection, rows: list[Any], at: float) -> list[DescribeConcurrencyLimit]:
    """The limits of ``rows`` with their live holders (leases not expired at ``at``)."""
    names = [r.name for r in rows]
    when = datetime.fromtimestamp(at, timezone.utc)
    holders: dict[str, list[DescribeSlotHolder]] = defaultdict(list)
    stale: dict[str, int] = defaultdict(int)
    if names:
        leases = conn.execute(
            select(LEASE).where(LEASE.c.limit_name.in_(names)).order_by(LEASE.c.acquired)
        ).all()
        for lease in leases:
            if lease.expires <= when:
                stale[lease.limit_name] += lease.slots
                continue
            holders[lease.limit_name].append(
                DescribeSlotHolder(
                    lease_id=lease.lease_id,
                    holder=LeaseHolder(
                        type=lease.holder_type, id=lease.holder_id, name=lease.holder_name
                    ),
                    slots=lease.slots,
                    since=lease.acquired,
                    expires=lease.expires,
                )
            )
    return [
        DescribeConcurrencyLimit(
            name=r.name,
            limit=r.limit,
            active=r.active,
            active_slots=max(0, r.current - stale[r.name]),
            denied_slots=r.denied_slots,
            slot_decay_per_second=r.slot_decay_per_second,
            holders=holders[r.name],
            created=r.created,
            updated=r.updated,
        )
        for r in rows
    ]


def _select(engine: Engine, at: float) -> Any:
    return select(LIMIT, current_slots(at, engine.dialect.name).label("current"))


def read_limit(engine: Engine, name: str) -> DescribeConcurrencyLimit:
    """Limit ``name`` with its holders; ``NotFound`` if there is none."""
    check_limit_name(name)
    at = time.time()
    with engine.connect() as conn:
        row = conn.execute(_select(engine, at).where(LIMIT.c.name == name)).first()
        if row is None:
            raise _missing(name)
        return _describe(conn, [row], at)[0]


def list_limits(engine: Engine, query: ListConcurrencyLimitsQuery) -> ListConcurrencyLimitsResponse:
    """One page of limits by name (names starting with ``query.prefix``), with holders."""
    where = []
    if query.prefix:
        where.append(LIMIT.c.name.startswith(query.prefix, autoescape=True))
    at = time.time()
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(LIMIT).where(*where)).scalar()
        rows = conn.execute(
            _select(engine, at)
            .where(*where)
            .order_by(LIMIT.c.name)
            .limit(query.limit)
            .offset(query.offset)
        ).all()
        items = _describe(conn, list(rows), at)
    return ListConcurrencyLimitsResponse(items=items, total=total or 0)


def create_limit(engine: Engine, body: CreateConcurrencyLimit) -> DescribeConcurrencyLimit:
    """Create a limit; ``Conflict`` if one has that name."""
    at = now()
    try:
        with engine.begin() as conn:
            conn.execute(
                insert(LIMIT).values(
                    **body.model_dump(), decayed_at=at.timestamp(), created=at, updated=at
                )
            )
    except sa_exc.IntegrityError:
        raise Conflict(f"name: a concurrency limit {body.name!r} exists already") from None
    logger.info("concurrency limit %s created: %d slot(s)", body.name, body.limit)
    return read_limit(engine, body.name)


def update_limit(
    engine: Engine, name: str, body: UpdateConcurrencyLimit
) -> DescribeConcurrencyLimit:
    """Change the given fields of limit ``name``; ``NotFound`` if there is none."""
    check_limit_name(name)
    values: dict[str, Any] = body.model_dump(exclude_unset=True, exclude_none=True)
    at = now()
    if "active_slots" in values:
        values["decayed_at"] = at.timestamp()  # a count set now decays from now
    with engine.begin() as conn:
        changed = conn.execute(
            update(LIMIT).where(LIMIT.c.name == name).values(**values, updated=at)
        ).rowcount
    if not changed:
        raise _missing(name)
    return read_limit(engine, name)


def reset_limit(engine: Engine, name: str) -> DescribeConcurrencyLimit:
    """Free every slot of limit ``name``: its leases end and nothing is held (Prefect's
    ``concurrency-limit reset``); ``NotFound`` if there is none."""
    check_limit_name(name)
    at = now()
    with engine.begin() as conn:
        changed = conn.execute(
            update(LIMIT)
            .where(LIMIT.c.name == name)
            .values(active_slots=0, denied_slots=0, decayed_at=at.timestamp(), updated=at)
        ).rowcount
        if not changed:
            raise _missing(name)
        conn.execute(delete(LEASE).where(LEASE.c.limit_name == name))
    logger.info("concurrency limit %s reset", name)
    return read_limit(engine, name)


def delete_limit(engine: Engine, name: str) -> None:
    """Delete limit ``name`` and its leases; ``NotFound`` if there is none."""
    check_limit_name(name)
    with engine.begin() as conn:
        conn.execute(delete(LEASE).where(LEASE.c.limit_name == name))
        gone = conn.execute(delete(LIMIT).where(LIMIT.c.name == name)).rowcount
    if not gone:
        raise _missing(name)
    logger.info("concurrency limit %s deleted", name)


class ConcurrencyLimits:
    """Concurrency limits and their slots (the service's part for the REST routes)."""

    engine: Engine

    def create_concurrency_limit(self, body: CreateConcurrencyLimit) -> DescribeConcurrencyLimit:
        return create_limit(self.engine, body)

    def read_concurrency_limit(self, name: str) -> DescribeConcurrencyLimit:
        return read_limit(self.engine, name)

    def list_concurrency_limits(
        self, query: ListConcurrencyLimitsQuery
    ) -> ListConcurrencyLimitsResponse:
        return list_limits(self.engine, query)

    def update_concurrency_limit(
        self, name: str, body: UpdateConcurrencyLimit
    ) -> DescribeConcurrencyLimit:
        return update_limit(self.engine, name, body)

    def reset_concurrency_limit(self, name: str) -> DescribeConcurrencyLimit:
        return reset_limit(self.engine, name)

    def delete_concurrency_limit(self, name: str) -> None:
        delete_limit(self.engine, name)

    def acquire_slots(self, body: AcquireSlots) -> DescribeSlotLease:
        return acquire_slots(self.engine, body)

    def renew_lease(self, lease_id: str, body: RenewLease) -> None:
        if not renew_lease(self.engine, lease_id, body.lease_duration):
            raise NotFound(f"no lease {lease_id!r} (expired and taken back, or released)")

    def release_lease(self, lease_id: str) -> None:
        release_lease(self.engine, lease_id)
