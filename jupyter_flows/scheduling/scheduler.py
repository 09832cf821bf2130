"""``FlowsScheduler``: turns deployment schedules into Scheduled flow runs (APScheduler 3).

The database is the source of truth: jobs live in memory, one per active schedule of an
unpaused deployment. A change to a deployment updates that deployment's jobs only (a
server with 10,000 deployments does not re-read them all per change); a full resync every
``resync_interval`` seconds picks up changes made by other servers on the same database.
Each fire records the trigger's *scheduled* time; a flusher thread creates the due runs in
batches, one transaction each, and a unique key on (deployment, scheduled time) makes
each run exactly once even with several servers on one database. With ``lead_seconds``,
jobs fire that long before each due time (as Prefect's scheduler makes runs ahead): the
run is waiting, Scheduled, when it falls due, and a worker starts it at its next poll
instead of after the scheduler, the flusher and the insert (seconds when thousands of
schedules fall due together).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from typing import Any

from apscheduler.events import EVENT_JOB_SUBMITTED
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger

from ..core.hashing import stable_hash
from ..orchestration.schemas import ScheduleSpec
from ..store.db import database_unavailable
from .triggers import next_times, trigger_for

__all__ = ["FlowsScheduler"]

logger = logging.getLogger(__name__)

#: how long the flusher waits for the rest of a burst of due schedules before writing
BATCH_WINDOW = 0.02
#: seconds between retries while the database refuses the due runs
RETRY_SECONDS = 1.0


class FlowsScheduler:
    """Keeps one APScheduler job per active schedule of every unpaused deployment."""

    def __init__(
        self,
        service: Any,
        only: set[str] | None = None,
        resync_interval: float = 60.0,
        lead_seconds: float = 0.0,
    ):
        self.service = service
        #: how long before each due time its run is made
        self.lead = timedelta(seconds=lead_seconds)
        #: the names of the deployments to schedule (``serve``): all when None
        self.only = only
        self.resync_interval = resync_interval
        self._scheduler = BackgroundScheduler(timezone=timezone.utc)
        self._lock = threading.Lock()
        self._started_at: datetime | None = None
        #: deployment id -> the ids of its jobs
        self._jobs: dict[str, set[str]] = {}
        self._due: list[tuple[str, datetime]] = []
        self._due_lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._flusher: threading.Thread | None = None
        self._scheduler.add_listener(self._on_submitted, EVENT_JOB_SUBMITTED)

    def start(self) -> None:
        self._started_at = datetime.now(timezone.utc)
        self._scheduler.start()
        self.sync(catch_up=True)
        self.service.on_change.append(self._on_change)
        self._flusher = threading.Thread(
            target=self._flush_loop, name="jupyter-flows-due-runs", daemon=True
        )
        self._flusher.start()

    def shutdown(self) -> None:
        if self._on_change in self.service.on_change:
            self.service.on_change.remove(self._on_change)
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        self._stopping.set()
        self._wake.set()
        if self._flusher is not None:
            self._flusher.join(timeout=10)
            self._flusher = None

    stop = shutdown

    def job_ids(self) -> list[str]:
        return sorted(job.id for job in self._scheduler.get_jobs())

    def sync(self, catch_up: bool = False) -> None:
        """Make the jobs match the deployments table."""
        rows = self.service.schedulable_deployments()
        with self._lock:
            self._apply(rows, None, catch_up)

    def sync_deployments(self, ids: Iterable[str]) -> None:
        """Make the jobs of these deployments match their rows (gone: no jobs)."""
        wanted = set(ids)
        rows = self.service.schedulable_deployments(sorted(wanted))
        with self._lock:
            self._apply(rows, wanted, False)

    def _on_change(self, deployment_id: str | None) -> None:
        if deployment_id is None:
            self.sync()
        else:
            self.sync_deployments([deployment_id])

    def _apply(self, rows: list[Any], scope: set[str] | None, catch_up: bool) -> None:
        wanted = {row.id: self._wanted_jobs(row) for row in rows}
        for deployment_id in (set(self._jobs) | set(wanted)) if scope is None else scope:
            jobs = wanted.get(deployment_id, {})
            have = self._jobs.pop(deployment_id, set())
            for job_id in have - jobs.keys():
                try:
                    self._scheduler.remove_job(job_id)
                except JobLookupError:
                    pass
            for job_id in jobs.keys() - have:
                trigger = trigger_for(jobs[job_id])
                self._scheduler.add_job(
                    _due,
                    Ahead(trigger, self.lead) if self.lead else trigger,
                    id=job_id,
                    misfire_grace_time=None,
                    coalesce=True,
                    max_instances=1,
                )
            if jobs:
                self._jobs[deployment_id] = set(jobs)
        if catch_up:
            for row in rows:
                if row.missed_runs == "run_once" and wanted.get(row.id):
                    self._catch_up(row.id, list(wanted[row.id].values()))

    def _wanted_jobs(self, row: Any) -> dict[str, ScheduleSpec]:
        """``{job id: schedule}`` of one deployment: none if paused or not served here."""
        if row.paused or (self.only is not None and row.name not in self.only):
            return {}
        jobs = {}
        for raw in row.schedules or []:
            spec = ScheduleSpec.model_validate(raw)
            if spec.active:
                key = stable_hash(spec.model_dump_json())[:8]  # a changed spec: a new job
                jobs[f"{row.id}:{spec.id}:{key}"] = spec
        return jobs

    def _on_submitted(self, event: Any) -> None:
        """Queue each time the job was due (the trigger's time, not now) for the flusher."""
        deployment_id = event.job_id.partition(":")[0]
        with self._due_lock:
            self._due.extend(
                (deployment_id, (t + self.lead).astimezone(timezone.utc))
                for t in event.scheduled_run_times
            )
        self._wake.set()

    def flush(self) -> int:
        """Create the runs of the due times queued so far; how many were made."""
        with self._due_lock:
            due, self._due = self._due, []
        if not due:
            return 0
        try:
            made = self.service.create_scheduled_runs(due)
        except Exception as exc:  # noqa: BLE001 - one bad deployment must not stop the others
            if database_unavailable(exc) is not None:  # the database is away: keep, retry
                logger.warning("could not create %d due runs (will retry): %s", len(due), exc)
                with self._due_lock:
                    self._due[:0] = due
                return 0
            logger.exception("creating %d due runs at once failed; one at a time", len(due))
            made = {}
            for item in due:
                try:
                    made.update(self.service.create_scheduled_runs([item]))
                except Exception:  # noqa: BLE001
                    logger.exception("could not create the scheduled run of %s", item[0])
        for (deployment_id, scheduled), run_id in made.items():
            logger.info("deployment %s due at %s: run %s", deployment_id, scheduled, run_id)
        return len(made)

    def _flush_loop(self) -> None:
        next_resync = time.monotonic() + self.resync_interval
        while not self._stopping.is_set():
            self._wake.wait(timeout=max(0.0, min(next_resync - time.monotonic(), 5.0)))
            if self._wake.is_set() and not self._stopping.is_set():
                time.sleep(BATCH_WINDOW)  # the rest of a burst of due schedules
            self._wake.clear()
            if not self.flush() and self._due:
                self._stopping.wait(RETRY_SECONDS)
                self._wake.set()
            if time.monotonic() >= next_resync:
                next_resync = time.monotonic() + self.resync_interval
                try:
                    self.sync()
                except Exception:  # noqa: BLE001 - the database may be away; next time
                    logger.exception("could not resync the schedules")
        self.flush()

    def _catch_up(self, deployment_id: str, schedules: list[ScheduleSpec]) -> None:
        """One Late run for schedules that should have fired while no server ran."""
        last = self.service.runs.read_flow_runs(deployment_id=deployment_id, limit=1).items
        since = last[0].expected_start_time if last and last[0].expected_start_time else None
        if since is None or self._started_at is None:
            return
        for spec in schedules:
            missed = [t for t in next_times(spec, 1000, after=since) if t < self._started_at]
            if missed:
                self.service.create_scheduled_run(deployment_id, missed[-1], late=True)


class Ahead(BaseTrigger):
    """An APScheduler trigger firing ``lead`` before each fire time of ``trigger``."""

    def __init__(self, trigger: Any, lead: timedelta) -> None:
        self.trigger, self.lead = trigger, lead

    def get_next_fire_time(self, previous: datetime | None, now: datetime) -> datetime | None:
        fire = self.trigger.get_next_fire_time(
            None if previous is None else previous + self.lead, now + self.lead
        )
        return None if fire is None else fire - self.lead

    def __getstate__(self) -> dict[str, Any]:
        return {"trigger": self.trigger, "lead": self.lead}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.trigger, self.lead = state["trigger"], state["lead"]

    def __str__(self) -> str:
        return f"{self.trigger} ({self.lead.total_seconds():g} s ahead)"


def _due() -> None:
    """The job body: nothing; the submission listener records the due time."""
