"""``FlowsScheduler``: turns deployment schedules into Scheduled flow runs (APScheduler 3).

The database is the source of truth: jobs live in memory and are rebuilt by ``sync()``
whenever deployments change. Each fire creates the run for the trigger's *scheduled* time,
and a unique key on (deployment, scheduled time) makes that exactly once even with
several servers on one database.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timezone
from typing import Any

from apscheduler.events import EVENT_JOB_SUBMITTED
from apscheduler.schedulers.background import BackgroundScheduler

from ..core.hashing import stable_hash
from ..orchestration.schemas import ListDeploymentsQuery, ScheduleSpec
from .triggers import next_times, trigger_for

__all__ = ["FlowsScheduler"]

logger = logging.getLogger(__name__)


class FlowsScheduler:
    """Keeps one APScheduler job per active schedule of every unpaused deployment."""

    def __init__(self, service: Any, only: set[str] | None = None):
        self.service = service
        #: the names of the deployments to schedule (``serve``): all when None
        self.only = only
        self._scheduler = BackgroundScheduler(timezone=timezone.utc)
        self._lock = threading.Lock()
        self._started_at: datetime | None = None
        self._scheduler.add_listener(self._on_submitted, EVENT_JOB_SUBMITTED)

    def start(self) -> None:
        self._started_at = datetime.now(timezone.utc)
        self._scheduler.start()
        self.sync(catch_up=True)
        self.service.on_change.append(self.sync)

    def shutdown(self) -> None:
        if self.sync in self.service.on_change:
            self.service.on_change.remove(self.sync)
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    stop = shutdown

    def job_ids(self) -> list[str]:
        return sorted(job.id for job in self._scheduler.get_jobs())

    def sync(self, catch_up: bool = False) -> None:
        """Make the jobs match the deployments table (called after every change)."""
        with self._lock:
            deployments = self.service.list_deployments(ListDeploymentsQuery(limit=1000)).items
            wanted: dict[str, tuple[str, ScheduleSpec]] = {}
            for deployment in deployments:
                if deployment.paused or (
                    self.only is not None and deployment.name not in self.only
                ):
                    continue
                for spec in deployment.schedules:
                    if spec.active:
                        key = stable_hash(spec.model_dump_json())[:8]  # a changed spec: new job
                        wanted[f"{deployment.id}:{spec.id}:{key}"] = (deployment.id, spec)
                if catch_up and deployment.missed_runs == "run_once":
                    self._catch_up(deployment)
            for job in self._scheduler.get_jobs():
                if job.id not in wanted:
                    job.remove()
            for job_id, (_deployment_id, spec) in wanted.items():
                if self._scheduler.get_job(job_id) is None:
                    self._scheduler.add_job(
                        _due,
                        trigger_for(spec),
                        id=job_id,
                        misfire_grace_time=None,
                        coalesce=True,
                        max_instances=1,
                    )

    def _on_submitted(self, event: Any) -> None:
        """Create the run for each time the job was due (the trigger's time, not now)."""
        deployment_id = event.job_id.partition(":")[0]
        for scheduled in event.scheduled_run_times:
            try:
                run_id = self.service.create_scheduled_run(
                    deployment_id, scheduled.astimezone(timezone.utc)
                )
            except Exception:  # noqa: BLE001 - one bad deployment must not stop the others
                logger.exception("could not create the scheduled run of %s", deployment_id)
                continue
            logger.info("deployment %s due at %s: run %s", deployment_id, scheduled, run_id)

    def _catch_up(self, deployment: Any) -> None:
        """One Late run for schedules that should have fired while no server ran."""
        last = self.service.runs.read_flow_runs(deployment_id=deployment.id, limit=1).items
        since = last[0].expected_start_time if last and last[0].expected_start_time else None
        if since is None or self._started_at is None:
            return
        for spec in deployment.schedules:
            missed = [t for t in next_times(spec, 1000, after=since) if t < self._started_at]
            if missed:
                self.service.create_scheduled_run(deployment.id, missed[-1], late=True)


def _due() -> None:
    """The job body: nothing; the submission listener records the due time."""
