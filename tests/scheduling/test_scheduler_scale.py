"""The scheduler with many deployments: every schedule gets a job (no page limit), a change
touches only its deployment, due runs are made in batches (exactly once, on SQLite and
PostgreSQL), and due times survive a database that refuses writes for a while."""

from __future__ import annotations

import sqlite3
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import func, select

from jupyter_flows.orchestration._tables import FLOW_RUN, STATE
from jupyter_flows.orchestration.schemas import CreateDeployment, ScheduleSpec, UpdateDeployment
from jupyter_flows.orchestration.service import OrchestrationService
from jupyter_flows.scheduling.scheduler import FlowsScheduler

YEARLY = ScheduleSpec(cron="0 0 1 1 *")


def make_deployments(service: OrchestrationService, n: int, **options: Any) -> list[str]:
    specs = options.pop("schedules", [YEARLY])
    prefix = options.pop("prefix", "d")
    return [
        service.create_deployment(
            CreateDeployment(
                name=f"{prefix}{i:05}", entrypoint="report.ipynb", schedules=specs, **options
            )
        ).id
        for i in range(n)
    ]


def count(service: OrchestrationService, table: Any, *where: Any) -> int:
    with service.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar())


class TestBatches:
    def test_many_due_runs_in_one_call_exactly_once(self, service: OrchestrationService) -> None:
        ids = make_deployments(service, 1_100)  # more than one statement's chunk
        due = datetime(2030, 1, 1, tzinfo=timezone.utc)
        made = service.create_scheduled_runs([(d, due) for d in ids])
        assert len(made) == 1_100 and set(made) == {(d, due) for d in ids}
        assert count(service, FLOW_RUN, FLOW_RUN.c.state_type == "SCHEDULED") == 1_100
        history = count(service, STATE, STATE.c.run_id.in_(list(made.values())[:500]))
        assert history == 500  # each run starts with its Scheduled state
        # again (another server, a repeated fire): nothing new, and no error
        again = service.create_scheduled_runs([(d, due) for d in ids[:600]] * 2)
        assert again == {}
        assert count(service, FLOW_RUN) == 1_100
        runs = service.runs.read_flow_runs(deployment_id=ids[7], limit=10).items
        assert [r.expected_start_time for r in runs] == [due]
        assert "auto-scheduled" in runs[0].tags

    def test_paused_and_deleted_deployments_are_skipped_not_fatal(
        self, service: OrchestrationService
    ) -> None:
        live, paused, gone = make_deployments(service, 3)
        service.update_deployment(paused, UpdateDeployment(paused=True))
        service.delete_deployment(gone)
        due = datetime(2030, 1, 1, tzinfo=timezone.utc)
        made = service.create_scheduled_runs([(gone, due), (paused, due), (live, due)])
        assert list(made) == [(live, due)]


class TestManyDeployments:
    def test_every_schedule_of_1100_deployments_has_a_job(
        self, service: OrchestrationService
    ) -> None:
        ids = make_deployments(service, 1_100)  # the old sync listed the first 1,000 only
        scheduler = FlowsScheduler(service)
        scheduler.start()
        try:
            jobs = scheduler.job_ids()
            assert len(jobs) == 1_100
            assert {j.partition(":")[0] for j in jobs} == set(ids)
        finally:
            scheduler.shutdown()

    def test_a_change_rereads_only_its_deployment(self, service: OrchestrationService) -> None:
        ids = make_deployments(service, 50)
        reads: list[Any] = []
        original = service.schedulable_deployments

        def recorded(ids: Any = None) -> list[Any]:
            reads.append(ids)
            return original(ids)

        service.schedulable_deployments = recorded  # type: ignore[method-assign]
        scheduler = FlowsScheduler(service)
        scheduler.start()
        try:
            assert reads == [None] and len(scheduler.job_ids()) == 50
            service.update_deployment(
                ids[3], UpdateDeployment(schedules=[ScheduleSpec(interval_seconds=3600)])
            )
            service.update_deployment(ids[4], UpdateDeployment(paused=True))
            service.delete_deployment(ids[5])
            made = make_deployments(
                service, 1, prefix="new", schedules=[YEARLY, ScheduleSpec(cron="0 * * * *")]
            )
            assert reads[1:] == [[ids[3]], [ids[4]], [ids[5]], made]
            jobs = Counter(j.partition(":")[0] for j in scheduler.job_ids())
            assert jobs[ids[3]] == 1 and jobs[made[0]] == 2
            assert ids[4] not in jobs and ids[5] not in jobs and len(jobs) == 49
            changed = [j for j in scheduler.job_ids() if j.startswith(ids[3])]
            assert scheduler._scheduler.get_job(changed[0]).trigger.interval == timedelta(hours=1)
        finally:
            scheduler.shutdown()

    def test_a_burst_of_due_schedules_makes_each_run_once(
        self, service: OrchestrationService
    ) -> None:
        every_second = [ScheduleSpec(interval_seconds=1)]
        ids = make_deployments(service, 200, schedules=every_second)
        scheduler = FlowsScheduler(service)
        scheduler.start()
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                with service.engine.connect() as conn:
                    distinct = select(func.count(FLOW_RUN.c.deployment_id.distinct()))
                    with_runs = conn.execute(distinct).scalar()
                if with_runs == len(ids):
                    break
                time.sleep(0.2)
        finally:
            scheduler.shutdown()
        with service.engine.connect() as conn:
            rows = conn.execute(select(FLOW_RUN.c.deployment_id, FLOW_RUN.c.expected_start_time))
            seen = Counter((d, t) for d, t in rows)
        assert {d for d, _ in seen} == set(ids)
        assert max(seen.values()) == 1  # never twice for one due time
        assert all(t.microsecond == 0 for _, t in seen)  # the trigger's times, not "now"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_due_times_survive_a_database_that_refuses_writes(
    service: OrchestrationService, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jupyter_flows.store import db

    monkeypatch.setattr(db, "_BUSY_TIMEOUT_S", 0.1)  # give up quickly on a locked database
    (dep,) = make_deployments(service, 1)
    scheduler = FlowsScheduler(service)  # not started: the test drives the flusher
    due = datetime(2030, 1, 1, tzinfo=timezone.utc)
    database = str(service.engine.url.database)
    blocker = sqlite3.connect(database, timeout=0)
    blocker.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
    service.engine.dispose()  # new connections, with the short busy timeout
    try:
        scheduler._due.append((dep, due))
        assert scheduler.flush() == 0
        assert scheduler._due == [(dep, due)]  # kept for the next round
    finally:
        blocker.rollback()
        blocker.close()
    assert scheduler.flush() == 1
    assert scheduler._due == []
    runs = service.runs.read_flow_runs(deployment_id=dep, limit=10).items
    assert [r.expected_start_time for r in runs] == [due]
