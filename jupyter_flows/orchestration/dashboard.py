"""The dashboard's aggregates: runs over time by state, trends per flow and per deployment,
late runs, work pools and workers, the last failures (``GET api/dashboard``).

Every figure is one grouped SQL query over the window's rows (``flow_run.created`` is
indexed), the same on SQLite and PostgreSQL: a bucket is the whole number of ``bucket``
seconds from ``since`` (SQLite keeps times as epoch seconds, PostgreSQL's are read with
``extract(epoch ...)``).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Float, Integer, and_, case, cast, func, or_, select, type_coerce
from sqlalchemy.engine import Connection, Engine

from ._tables import DEPLOYMENT, FINAL, FLOW_RUN, POOL, WORKER, now
from .dashboard_schemas import (
    DashboardBucket,
    DashboardGroup,
    DashboardPool,
    DashboardRun,
    DashboardSeriesPoint,
    DashboardWorker,
    DescribeDashboard,
    ReadDashboardQuery,
)

__all__ = ["read_dashboard", "LATE_AFTER"]

logger = logging.getLogger(__name__)

#: a scheduled run is late this long after its expected start (Prefect's default)
LATE_AFTER = timedelta(seconds=15)
#: the state types counted as failures
FAILED = ("FAILED", "CRASHED")
#: the state types of a run a worker holds
BUSY = ("PENDING", "RUNNING", "CANCELLING")
TOP = 20


def _epoch(conn: Connection, column: Any) -> Any:
    """``column`` (a ``UTCDateTime``) as seconds since the epoch, in SQL."""
    if conn.dialect.name == "sqlite":
        return type_coerce(column, Float)  # REAL epoch seconds (store.types.UTCDateTime)
    return func.extract("epoch", column)


def _bucket(conn: Connection, since: datetime, seconds: int) -> Any:
    """The bucket number of ``flow_run.created`` (whole ``seconds`` from ``since``)."""
    offset = (_epoch(conn, FLOW_RUN.c.created) - since.timestamp()) / seconds
    if conn.dialect.name == "sqlite":
        return cast(offset, Integer)  # truncates: created >= since, so it floors
    return cast(func.floor(offset), Integer)


def read_dashboard(
    engine: Engine, query: ReadDashboardQuery, heartbeat_timeout: float
) -> DescribeDashboard:
    """The dashboard of the window of ``query`` (see the module's docstring)."""
    at = now()
    since, until, seconds = query.window(at)
    count = max(1, int(-(-(until - since).total_seconds() // seconds)))
    in_window = and_(FLOW_RUN.c.created >= since, FLOW_RUN.c.created < until)
    with engine.connect() as conn:
        bucket = _bucket(conn, since, seconds).label("bucket")
        by_state = conn.execute(
            select(bucket, FLOW_RUN.c.state_type, func.count())
            .where(in_window)
            .group_by(bucket, FLOW_RUN.c.state_type)
        ).all()
        flows = _groups(conn, FLOW_RUN.c.flow_name, in_window, bucket)
        deployments = _groups(conn, FLOW_RUN.c.deployment_id, in_window, bucket)
        names = _deployment_names(conn, [key for key in deployments])
        failures = _runs(
            conn,
            and_(in_window, FLOW_RUN.c.state_type.in_(FAILED)),
            [func.coalesce(FLOW_RUN.c.end_time, FLOW_RUN.c.created).desc(), FLOW_RUN.c.id],
            10,
        )
        overdue = and_(
            FLOW_RUN.c.state_type == "SCHEDULED",
            or_(
                FLOW_RUN.c.state_name == "Late",
                FLOW_RUN.c.expected_start_time < at - LATE_AFTER,
            ),
        )
        late_runs = int(conn.execute(select(func.count()).where(overdue)).scalar() or 0)
        late = _runs(conn, overdue, [FLOW_RUN.c.expected_start_time], 10)
        pools, workers = _pools(conn, at - timedelta(seconds=heartbeat_timeout))

    buckets: list[dict[str, int]] = [defaultdict(int) for _ in range(count)]
    totals: dict[str, int] = defaultdict(int)
    for number, state_type, n in by_state:
        state = state_type or "UNKNOWN"
        totals[state] += n
        if 0 <= number < count:
            buckets[number][state] += n
    total = sum(totals.values())
    failed = sum(totals.get(s, 0) for s in FAILED)
    ended = sum(totals.get(s, 0) for s in FINAL)
    starts = [since + timedelta(seconds=seconds * i) for i in range(count)]
    return DescribeDashboard(
        since=since,
        until=until,
        bucket=seconds,
        totals=dict(totals),
        total_runs=total,
        failed=failed,
        failure_rate=failed / ended if ended else 0.0,
        buckets=[
            DashboardBucket(start=s, counts=dict(b)) for s, b in zip(starts, buckets, strict=True)
        ],
        flows=_summaries(flows, starts, lambda key: key),
        deployments=_summaries(
            {k: v for k, v in deployments.items() if k is not None},
            starts,
            lambda key: names.get(key, key),
        ),
        late_runs=late_runs,
        late=late,
        failures=failures,
        pools=pools,
        workers=workers,
    )


def _groups(conn: Connection, key: Any, where: Any, bucket: Any) -> dict[Any, list[Any]]:
    """Per value of ``key`` and bucket: runs, failed, ended, summed duration of the ended."""
    ended = FLOW_RUN.c.state_type.in_(FINAL)
    timed = and_(ended, FLOW_RUN.c.start_time.is_not(None), FLOW_RUN.c.end_time.is_not(None))
    duration = _epoch(conn, FLOW_RUN.c.end_time) - _epoch(conn, FLOW_RUN.c.start_time)
    rows = conn.execute(
        select(
            key.label("key"),
            bucket,
            func.count(),
            func.sum(case((FLOW_RUN.c.state_type.in_(FAILED), 1), else_=0)),
            func.sum(case((ended, 1), else_=0)),
            func.sum(case((timed, duration), else_=None)),
            func.sum(case((timed, 1), else_=0)),
        )
        .where(where)
        .group_by(key, bucket)
    ).all()
    grouped: dict[Any, list[Any]] = defaultdict(list)
    for row in rows:
        grouped[row[0]].append(row[1:])
    return grouped


def _summaries(
    grouped: dict[Any, list[Any]], starts: list[datetime], name: Any
) -> list[DashboardGroup]:
    out = []
    for key, rows in grouped.items():
        runs = sum(r[1] for r in rows)
        failed = sum(int(r[2] or 0) for r in rows)
        ended = sum(int(r[3] or 0) for r in rows)
        spent = sum(float(r[4] or 0) for r in rows)
        timed = sum(int(r[5] or 0) for r in rows)
        series = [
            DashboardSeriesPoint(
                start=starts[r[0]],
                runs=r[1],
                failed=int(r[2] or 0),
                mean_duration=float(r[4]) / r[5] if r[5] else None,
            )
            for r in sorted(rows, key=lambda r: r[0])
            if 0 <= r[0] < len(starts)
        ]
        out.append(
            DashboardGroup(
                key=str(key),
                name=str(name(key)),
                runs=runs,
                failed=failed,
                failure_rate=failed / ended if ended else 0.0,
                mean_duration=spent / timed if timed else None,
                series=series,
            )
        )
    out.sort(key=lambda g: (-g.runs, g.name))
    return out[:TOP]


def _deployment_names(conn: Connection, ids: list[Any]) -> dict[str, str]:
    ids = [i for i in ids if i is not None]
    if not ids:
        return {}
    rows = conn.execute(select(DEPLOYMENT.c.id, DEPLOYMENT.c.name).where(DEPLOYMENT.c.id.in_(ids)))
    return {r.id: r.name for r in rows}


def _runs(conn: Connection, where: Any, order: list[Any], limit: int) -> list[DashboardRun]:
    rows = conn.execute(
        select(
            FLOW_RUN.c.id, FLOW_RUN.c.name, FLOW_RUN.c.flow_name, FLOW_RUN.c.deployment_id,
            DEPLOYMENT.c.name.label("deployment"), FLOW_RUN.c.state_type, FLOW_RUN.c.state_name,
            FLOW_RUN.c.state_message, FLOW_RUN.c.created, FLOW_RUN.c.expected_start_time,
            FLOW_RUN.c.end_time,
        )
        .select_from(FLOW_RUN.outerjoin(DEPLOYMENT, DEPLOYMENT.c.id == FLOW_RUN.c.deployment_id))
        .where(where)
        .order_by(*order)
        .limit(limit)
    ).mappings()  # fmt: skip
    return [DashboardRun.model_validate(dict(r)) for r in rows]


def _pools(conn: Connection, cutoff: datetime) -> tuple[list[DashboardPool], list[DashboardWorker]]:
    """Every work pool (runs it holds now, workers online and offline) and every worker."""
    running: dict[str, int] = dict(
        conn.execute(
            select(FLOW_RUN.c.work_pool, func.count())
            .where(and_(FLOW_RUN.c.state_type.in_(BUSY), FLOW_RUN.c.work_pool.is_not(None)))
            .group_by(FLOW_RUN.c.work_pool)
        ).all()
    )
    workers = [
        DashboardWorker(
            name=r.name,
            work_pool=r.work_pool,
            last_heartbeat=r.last_heartbeat,
            status="online" if r.last_heartbeat >= cutoff else "offline",
        )
        for r in conn.execute(select(WORKER).order_by(WORKER.c.work_pool, WORKER.c.name))
    ]
    pools = []
    for r in conn.execute(select(POOL).order_by(POOL.c.name)):
        mine = [w for w in workers if w.work_pool == r.name]
        online = sum(w.status == "online" for w in mine)
        pools.append(
            DashboardPool(
                name=r.name,
                type=r.type,
                paused=r.paused,
                concurrency_limit=r.concurrency_limit,
                running=int(running.get(r.name, 0)),
                online=online,
                offline=len(mine) - online,
            )
        )
    return pools, workers
