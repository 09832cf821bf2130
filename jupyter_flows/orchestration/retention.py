"""What the service deletes: a flow run on request, old runs and silent workers by retention,
and what a deleted or paused deployment leaves behind (its waiting runs, its automations)."""

from __future__ import annotations

import logging
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.engine import Connection, Engine

from ..exceptions import Conflict
from ..store.deletion import delete_flow_runs
from ..store.schemas import AUTO_SCHEDULED_TAG
from ._tables import AUTOMATION, FINAL, FLOW_RUN, RESULT, WORKER, now
from .schemas import DescribeRunState

__all__ = ["Retention", "DELETABLE", "AUTO_SCHEDULED"]

logger = logging.getLogger(__name__)

#: the tag of the runs a deployment's schedules made (Prefect's)
AUTO_SCHEDULED = AUTO_SCHEDULED_TAG
#: a flow run may be deleted when nothing runs it: ended, or not yet started
DELETABLE = (*FINAL, "SCHEDULED", "PAUSED")
_PRUNE_BATCH = 500


class Retention:
    """Delete runs (and their outputs), prune by age, clean up after deployments."""

    engine: Engine
    outputs_dir: Path
    root_dir: Path

    def read_run_state(self, run_id: str) -> DescribeRunState:
        raise NotImplementedError

    def delete_flow_run(self, run_id: str) -> None:
        """Delete a flow run that nothing runs, with its subflow and task runs, states,
        logs and executed notebook. ``Conflict`` while it runs: cancel it first."""
        current = self.read_run_state(run_id)
        if current.state_type not in DELETABLE:
            raise Conflict(
                f"flow run {run_id} is {current.state_name}: cancel it before deleting it"
            )
        with self.engine.begin() as conn:
            outputs = self._outputs_of(conn, [run_id])
            delete_flow_runs(conn, [run_id])
        self._delete_outputs(outputs)

    def prune_flow_runs(
        self, older_than: timedelta | None = None, keep_per_flow: int | None = None
    ) -> int:
        """Delete ended top-level flow runs (with everything of theirs) that ended more than
        ``older_than`` ago, or that are not among the ``keep_per_flow`` newest of their flow."""
        top = and_(FLOW_RUN.c.state_type.in_(FINAL), FLOW_RUN.c.parent_flow_run_id.is_(None))
        rules = []
        if older_than is not None:
            ended = func.coalesce(FLOW_RUN.c.end_time, FLOW_RUN.c.created)
            rules.append(select(FLOW_RUN.c.id).where(and_(top, ended < now() - older_than)))
        if keep_per_flow is not None:
            newest = func.row_number().over(
                partition_by=FLOW_RUN.c.flow_name,
                order_by=(FLOW_RUN.c.created.desc(), FLOW_RUN.c.id.desc()),
            )
            ranked = select(FLOW_RUN.c.id, newest.label("n")).where(top).subquery()
            rules.append(select(ranked.c.id).where(ranked.c.n > keep_per_flow))
        if not rules:
            return 0
        deleted = 0
        while True:
            with self.engine.begin() as conn:
                ids = sorted(
                    {r[0] for rule in rules for r in conn.execute(rule.limit(_PRUNE_BATCH))}
                )
                if not ids:
                    break
                outputs = self._outputs_of(conn, ids)
                deleted += delete_flow_runs(conn, ids)
            self._delete_outputs(outputs)
        if deleted:
            logger.info("deleted %d ended flow runs past their retention", deleted)
        return deleted

    def prune_results(self, older_than: timedelta | None) -> int:
        """Forget persisted results that expired (or, with ``older_than``, were stored that
        long ago) and delete their files where this server can see them."""
        at = now()
        old = RESULT.c.expires < at
        if older_than is not None:
            old = or_(old, RESULT.c.created < at - older_than)
        with self.engine.begin() as conn:
            rows = conn.execute(select(RESULT.c.key, RESULT.c.location).where(old)).all()
            for i in range(0, len(rows), _PRUNE_BATCH):
                keys = [r[0] for r in rows[i : i + _PRUNE_BATCH]]
                conn.execute(delete(RESULT).where(RESULT.c.key.in_(keys)))
        for key, location in rows:
            path = Path(location)
            # only a result store's own file: <...>/results/<key[:2]>/<key>
            if (
                path.name == key
                and path.parent.name == key[:2]
                and path.parent.parent.name == "results"
            ):
                path.unlink(missing_ok=True)
        return len(rows)

    def prune_workers(self, older_than: timedelta) -> int:
        """Forget workers silent for longer than ``older_than``."""
        with self.engine.begin() as conn:
            done = conn.execute(delete(WORKER).where(WORKER.c.last_heartbeat < now() - older_than))
        return int(done.rowcount or 0)

    def _delete_waiting_runs(
        self, deployment_id: str, auto_scheduled_only: bool, after: datetime | None = None
    ) -> int:
        """Delete the runs of a deployment that no worker has claimed yet (as Prefect does
        when a deployment is deleted, or paused: then only the auto-scheduled ones; when
        its schedules change: the auto-scheduled ones due ``after`` now)."""
        waiting_of = and_(
            FLOW_RUN.c.deployment_id == deployment_id,
            FLOW_RUN.c.state_type == "SCHEDULED",
            FLOW_RUN.c.worker.is_(None),
        )
        if after is not None:
            waiting_of = and_(waiting_of, FLOW_RUN.c.expected_start_time > after)
        with self.engine.begin() as conn:
            rows = conn.execute(select(FLOW_RUN.c.id, FLOW_RUN.c.tags).where(waiting_of)).all()
            ids = [r[0] for r in rows if not auto_scheduled_only or AUTO_SCHEDULED in (r[1] or [])]
            if not ids:
                return 0
            # still waiting (a worker may have claimed one meanwhile: that one runs)
            waiting = and_(
                FLOW_RUN.c.id.in_(ids),
                FLOW_RUN.c.state_type == "SCHEDULED",
                FLOW_RUN.c.worker.is_(None),
            )
            ids = [r[0] for r in conn.execute(select(FLOW_RUN.c.id).where(waiting))]
            return delete_flow_runs(conn, ids)

    def _disable_automations_of(self, deployment: dict[str, Any]) -> list[str]:
        """Disable the automations whose action targets the (deleted) deployment."""
        targets = [deployment["id"], deployment["name"]]
        with self.engine.begin() as conn:
            rows = conn.execute(select(AUTOMATION.c.id, AUTOMATION.c.name, AUTOMATION.c.action))
            hit = [(r[0], r[1]) for r in rows if (r[2] or {}).get("deployment") in targets]
            if hit:
                conn.execute(
                    update(AUTOMATION)
                    .where(or_(*(AUTOMATION.c.id == i for i, _ in hit)))
                    .values(enabled=False)
                )
        for _, name in hit:
            logger.warning(
                "automation %r disabled: its deployment %r was deleted", name, deployment["name"]
            )
        return [name for _, name in hit]

    def _outputs_of(self, conn: Connection, run_ids: list[str]) -> list[Path]:
        """The folders of the runs' executed notebooks that this server may delete: the
        run's own folder, under the outputs directory or the server's root."""
        rows = conn.execute(
            select(FLOW_RUN.c.id, FLOW_RUN.c.output_path).where(FLOW_RUN.c.id.in_(run_ids))
        )
        folders = [self.outputs_dir / run_id for run_id in run_ids]
        allowed = [self.outputs_dir.resolve(), Path(self.root_dir).resolve()]
        for run_id, output_path in rows:
            if not output_path:
                continue
            folder = Path(output_path).resolve().parent
            if folder.name == run_id and any(base in folder.parents for base in allowed):
                folders.append(folder)
        return folders

    @staticmethod
    def _delete_outputs(folders: list[Path]) -> None:
        for folder in folders:
            if folder.is_dir():
                shutil.rmtree(folder, ignore_errors=True)
