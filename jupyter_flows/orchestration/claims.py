"""Claiming due runs for a worker: one conditional ``UPDATE ... RETURNING`` per claim.

The statement picks the due Scheduled, unclaimed runs of a pool (higher-priority
deployments first, then the earliest due time) and moves them to Pending for the worker;
its ``RETURNING`` says which it won, so workers in different processes or servers never
share a run. On PostgreSQL the candidates are read ``FOR UPDATE SKIP LOCKED``: claimers skip
each other's rows instead of queueing behind them. What the worker needs to start the runs
(their rows and deployments) is read in two queries, however many runs it claimed.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import and_, bindparam, insert, select, update
from sqlalchemy.engine import Connection

from ..execution.entrypoints import is_notebook
from ..execution.notebook import output_notebook_path
from ..store.schemas import DescribeFlowRunItem
from . import job_templates as _jobs
from ._tables import DEPLOYMENT, FLOW_RUN, STATE, state_row
from .schemas import ClaimedRun, DescribeDeployment

__all__ = ["claim"]


def _due_runs(pool: str, at: datetime, limit: int, postgres: bool) -> Any:
    """The ids of up to ``limit`` runs of ``pool`` a worker may start now, best first."""
    query = (
        select(FLOW_RUN.c.id)
        .join(DEPLOYMENT, DEPLOYMENT.c.id == FLOW_RUN.c.deployment_id)
        .where(
            and_(
                FLOW_RUN.c.work_pool == pool,
                FLOW_RUN.c.state_type == "SCHEDULED",
                FLOW_RUN.c.worker.is_(None),
                FLOW_RUN.c.expected_start_time <= at,
            )
        )
        .order_by(DEPLOYMENT.c.priority.desc(), FLOW_RUN.c.expected_start_time)
        .limit(limit)
    )
    return query.with_for_update(of=FLOW_RUN, skip_locked=True) if postgres else query


def claim(
    conn: Connection,
    pool: str,
    worker: str,
    limit: int,
    outputs_dir: str | None,
    at: datetime,
    template: dict[str, Any] | None = None,
) -> list[ClaimedRun]:
    """Claim up to ``limit`` due runs of ``pool`` for ``worker`` in ``conn``'s transaction;
    each with the pool's job configuration filled in with its job variables (``template``:
    the pool's base job template)."""
    postgres = conn.dialect.name == "postgresql"
    # a materialized CTE: PostgreSQL may re-run an ``IN (SELECT ... LIMIT n)`` subquery,
    # and with SKIP LOCKED each run could pick other rows (more than ``limit`` in all)
    due = _due_runs(pool, at, limit, postgres).cte("due").prefix_with("MATERIALIZED")
    won = (
        conn.execute(
            update(FLOW_RUN)
            .where(
                and_(
                    FLOW_RUN.c.id.in_(select(due.c.id)),
                    FLOW_RUN.c.worker.is_(None),
                    FLOW_RUN.c.state_type == "SCHEDULED",
                )
            )
            .values(worker=worker, heartbeat=at, state_type="PENDING", state_name="Pending")
            .returning(FLOW_RUN.c.id)
        )
        .scalars()
        .all()
    )
    if not won:
        return []
    rows = (
        conn.execute(
            select(FLOW_RUN, DEPLOYMENT.c.entrypoint.label("_entrypoint"))
            .join(DEPLOYMENT, DEPLOYMENT.c.id == FLOW_RUN.c.deployment_id)
            .where(FLOW_RUN.c.id.in_(won))
            .order_by(DEPLOYMENT.c.priority.desc(), FLOW_RUN.c.expected_start_time)
        )
        .mappings()
        .all()
    )
    outputs = {}
    if outputs_dir:  # a notebook run's executed copy goes where its worker writes
        for row in rows:
            if is_notebook(row["_entrypoint"]):
                path = output_notebook_path(Path(outputs_dir), row["id"], row["_entrypoint"])
                outputs[row["id"]] = str(path)
    if outputs:
        conn.execute(
            update(FLOW_RUN)
            .where(FLOW_RUN.c.id == bindparam("run_id"))
            .values(output_path=bindparam("path")),
            [{"run_id": run_id, "path": path} for run_id, path in outputs.items()],
        )
    message = f"claimed by {worker}"
    conn.execute(
        insert(STATE),
        [state_row(r["id"], "flow", r["id"], "PENDING", "Pending", message, at) for r in rows],
    )
    deployment_ids = sorted({row["deployment_id"] for row in rows})
    deployments = {  # (without next_run_time: a worker never needs it, and cron math is slow)
        row["id"]: DescribeDeployment.model_validate(dict(row))
        for row in conn.execute(select(DEPLOYMENT).where(DEPLOYMENT.c.id.in_(deployment_ids)))
        .mappings()
        .all()
    }
    claimed = []
    for row in rows:
        values = {k: v for k, v in row.items() if k != "_entrypoint"}
        values["output_path"] = outputs.get(row["id"], row["output_path"])
        run = DescribeFlowRunItem.model_validate(values)
        deployment = deployments[row["deployment_id"]]
        variables = _jobs.effective_variables(
            template or {}, deployment.job_variables, row["job_variables"]
        )
        config = _jobs.job_configuration(template or {}, variables)
        claimed.append(ClaimedRun(flow_run=run, deployment=deployment, job_configuration=config))
    return claimed
