"""Work pools and their workers' heartbeats (a part of ``OrchestrationService``)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, delete, func, insert, select, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine

from ..exceptions import Conflict, NotFound
from . import job_templates as _jobs
from ._tables import ACTIVE, DEPLOYMENT, FLOW_RUN, POOL, WORKER, now
from .schemas import CreateWorkPool, DescribeWorker, DescribeWorkPool, UpdateWorkPool

__all__ = ["WorkPools"]

logger = logging.getLogger(__name__)


class WorkPools:
    """Create, read, update, pause work pools; record worker heartbeats."""

    engine: Engine
    #: a worker is listed ``online`` if it sent a heartbeat this recently (the same
    #: timeout after which its runs end Crashed)
    heartbeat_timeout: float

    def _ensure_default_pool(self) -> None:
        try:
            with self.engine.begin() as conn:
                exists = conn.execute(select(POOL.c.name).where(POOL.c.name == "default")).first()
                if exists is None:
                    conn.execute(
                        insert(POOL).values(
                            name="default",
                            type="process",
                            concurrency_limit=None,
                            paused=False,
                            description="the server's embedded worker",
                            base_job_template=_jobs.default_template("process"),
                            created=now(),
                        )
                    )
        except sa_exc.IntegrityError:
            pass  # created concurrently by another server

    def create_work_pool(self, body: CreateWorkPool) -> DescribeWorkPool:
        if body.type not in _jobs.POOL_TYPES:
            known = ", ".join(sorted(_jobs.POOL_TYPES))
            raise ValueError(f"type: unknown work pool type {body.type!r} (known: {known})")
        values = body.model_dump()
        template = _jobs.check_template(body.base_job_template)
        values["base_job_template"] = template or _jobs.default_template(body.type)
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(POOL).values(**values, created=now()))
        except sa_exc.IntegrityError:
            raise Conflict(f"a work pool named {body.name!r} already exists") from None
        return self.read_work_pool(body.name)

    def read_work_pool(self, name: str) -> DescribeWorkPool:
        with self.engine.connect() as conn:
            row = conn.execute(select(POOL).where(POOL.c.name == name)).mappings().first()
        if row is None:
            raise NotFound(f"no work pool {name!r}")
        return _describe(row)

    def list_work_pools(self) -> list[DescribeWorkPool]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(POOL).order_by(POOL.c.name)).mappings().all()
        return [_describe(r) for r in rows]

    def update_work_pool(self, name: str, body: UpdateWorkPool) -> DescribeWorkPool:
        pool = self.read_work_pool(name)
        values = body.model_dump(exclude_unset=True)
        if "base_job_template" in values:  # null or {}: back to the type's default
            template = _jobs.check_template(values["base_job_template"] or {})
            values["base_job_template"] = template or _jobs.default_template(pool.type)
        if values:
            with self.engine.begin() as conn:
                conn.execute(update(POOL).where(POOL.c.name == name).values(**values))
        return self.read_work_pool(name)

    def delete_work_pool(self, name: str) -> None:
        """Delete a pool and its workers' rows; 409 for ``default`` or a pool that
        deployments use (move or delete them first)."""
        self.read_work_pool(name)
        if name == "default":
            raise Conflict("the 'default' work pool cannot be deleted")
        with self.engine.begin() as conn:
            used = conn.execute(
                select(DEPLOYMENT.c.name).where(DEPLOYMENT.c.work_pool == name).limit(6)
            ).scalars()
            names = list(used)
            if names:
                shown = ", ".join(names[:5]) + (" ..." if len(names) > 5 else "")
                count = conn.execute(
                    select(func.count()).where(DEPLOYMENT.c.work_pool == name)
                ).scalar_one()
                raise Conflict(f"work pool {name!r} is used by {count} deployment(s): {shown}")
            conn.execute(delete(WORKER).where(WORKER.c.work_pool == name))
            conn.execute(delete(POOL).where(POOL.c.name == name))

    def set_work_pool_paused(self, name: str, paused: bool) -> DescribeWorkPool:
        return self.update_work_pool(name, UpdateWorkPool(paused=paused))

    def heartbeat(self, pool: str, worker: str) -> DescribeWorker:
        """Record that ``worker`` of ``pool`` is alive, and so are the runs it holds."""
        pool_type = self.read_work_pool(pool).type
        at = now()
        with self.engine.begin() as conn:
            done = conn.execute(
                update(WORKER)
                .where(and_(WORKER.c.name == worker, WORKER.c.work_pool == pool))
                .values(last_heartbeat=at)
            ).rowcount
            if not done:
                conn.execute(insert(WORKER).values(name=worker, work_pool=pool, last_heartbeat=at))
            conn.execute(
                update(FLOW_RUN)
                .where(and_(FLOW_RUN.c.worker == worker, FLOW_RUN.c.state_type.in_(ACTIVE)))
                .values(heartbeat=at)
            )
        return DescribeWorker(
            name=worker,
            work_pool=pool,
            last_heartbeat=at,
            status="online",
            heartbeat_timeout=self.heartbeat_timeout,
            pool_type=pool_type,
        )

    def list_workers(self, pool: str | None = None) -> list[DescribeWorker]:
        query = select(WORKER).order_by(WORKER.c.work_pool, WORKER.c.name)
        if pool is not None:
            query = query.where(WORKER.c.work_pool == pool)
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        cutoff = now() - timedelta(seconds=self.heartbeat_timeout)
        return [
            DescribeWorker(
                name=r["name"],
                work_pool=r["work_pool"],
                last_heartbeat=r["last_heartbeat"],
                status="online" if r["last_heartbeat"] >= cutoff else "offline",
            )
            for r in rows
        ]


def _describe(row: Any) -> DescribeWorkPool:
    """A pool's row as its view; a pool made before templates has its type's default."""
    data = dict(row)
    data["base_job_template"] = data.get("base_job_template") or _jobs.default_template(
        data["type"]
    )
    return DescribeWorkPool.model_validate(data)
