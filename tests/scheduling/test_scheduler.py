"""FlowsScheduler with a real APScheduler and database: runs on time, once, paused, missed."""

from __future__ import annotations

import time
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

from jupyter_flows.orchestration.schemas import CreateDeployment, ScheduleSpec, UpdateDeployment
from jupyter_flows.orchestration.service import OrchestrationService
from jupyter_flows.scheduling.scheduler import FlowsScheduler


def runs_of(service: OrchestrationService, deployment_id: str) -> list[datetime]:
    page = service.runs.read_flow_runs(deployment_id=deployment_id, limit=1000)
    return [r.expected_start_time for r in page.items if r.expected_start_time]


def wait_for(predicate, timeout: float = 20.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def db_url(tmp_path) -> str:  # type: ignore[no-untyped-def]  # SQLite is enough here
    return f"sqlite:///{tmp_path / 'sched.sqlite'}"


class TestScheduler:
    def test_interval_runs_at_trigger_times_exactly_once(
        self, service: OrchestrationService
    ) -> None:
        dep = service.create_deployment(
            CreateDeployment(
                name="every-second",
                entrypoint="report.ipynb",
                schedules=[ScheduleSpec(interval_seconds=1)],
            )
        ).id
        first = FlowsScheduler(service)
        second = FlowsScheduler(service)  # a second server on the same database
        first.start()
        second.start()
        try:
            assert wait_for(lambda: len(runs_of(service, dep)) >= 3)
        finally:
            first.shutdown()
            second.shutdown()
        times = runs_of(service, dep)
        assert all(t.microsecond == 0 for t in times)  # the trigger's times, not "now"
        assert max(Counter(times).values()) == 1  # never twice for one due time

    def test_schedule_changes_apply_without_restart(self, service: OrchestrationService) -> None:
        dep = service.create_deployment(
            CreateDeployment(
                name="later",
                entrypoint="report.ipynb",
                schedules=[ScheduleSpec(cron="0 0 1 1 *")],
            )
        ).id
        scheduler = FlowsScheduler(service)
        scheduler.start()
        try:
            assert len(scheduler.job_ids()) == 1
            service.update_deployment(dep, UpdateDeployment(paused=True))
            assert scheduler.job_ids() == []
            service.update_deployment(
                dep, UpdateDeployment(paused=False, schedules=[ScheduleSpec(interval_seconds=1)])
            )
            assert wait_for(lambda: len(runs_of(service, dep)) >= 1)
        finally:
            scheduler.shutdown()

    def test_missed_runs_run_once_as_late(self, service: OrchestrationService) -> None:
        dep = service.create_deployment(
            CreateDeployment(
                name="missed",
                entrypoint="report.ipynb",
                missed_runs="run_once",
                schedules=[ScheduleSpec(interval_seconds=60)],
            )
        ).id
        an_hour_ago = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(
            hours=1
        )
        assert service.create_scheduled_run(dep, an_hour_ago)
        scheduler = FlowsScheduler(service)
        scheduler.start()
        scheduler.shutdown()
        page = service.runs.read_flow_runs(deployment_id=dep, limit=100)
        late = [r for r in page.items if r.state_name == "Late"]
        assert len(late) == 1  # one catch-up run, not sixty


class TestRestart:
    def test_a_restarted_scheduler_creates_no_duplicates(
        self, service: OrchestrationService
    ) -> None:
        dep = service.create_deployment(
            CreateDeployment(
                name="steady",
                entrypoint="report.ipynb",
                missed_runs="run_once",
                schedules=[ScheduleSpec(interval_seconds=1)],
            )
        ).id
        for _ in range(2):  # a server, then the same server again
            scheduler = FlowsScheduler(service)
            scheduler.start()
            before = len(runs_of(service, dep))
            try:
                assert wait_for(lambda n=before: len(runs_of(service, dep)) >= n + 2)
            finally:
                scheduler.shutdown()
        times = runs_of(service, dep)
        assert len(times) == len(set(times))

    def test_skip_policy_creates_no_catch_up_run(self, service: OrchestrationService) -> None:
        dep = service.create_deployment(
            CreateDeployment(
                name="skipper",
                entrypoint="report.ipynb",
                missed_runs="skip",
                schedules=[ScheduleSpec(interval_seconds=60)],
            )
        ).id
        an_hour_ago = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=1)
        assert service.create_scheduled_run(dep, an_hour_ago)
        scheduler = FlowsScheduler(service)
        scheduler.start()
        scheduler.shutdown()
        assert runs_of(service, dep) == [an_hour_ago]

    def test_paused_deployments_have_no_jobs(self, service: OrchestrationService) -> None:
        service.create_deployment(
            CreateDeployment(
                name="asleep",
                entrypoint="report.ipynb",
                paused=True,
                schedules=[ScheduleSpec(interval_seconds=1)],
            )
        )
        scheduler = FlowsScheduler(service)
        scheduler.start()
        try:
            assert scheduler.job_ids() == []
        finally:
            scheduler.shutdown()


class TestLead:
    """``lead_seconds``: each run is made that long before it is due, and waits Scheduled."""

    def _every_10s(self, service: OrchestrationService, name: str) -> str:
        anchor = datetime(2020, 1, 1, tzinfo=timezone.utc)
        spec = ScheduleSpec(interval_seconds=10, anchor_date=anchor)
        return service.create_deployment(
            CreateDeployment(name=name, entrypoint="report.ipynb", schedules=[spec])
        ).id

    def test_runs_are_made_ahead_at_their_due_times(self, service: OrchestrationService) -> None:
        dep = self._every_10s(service, "ahead")
        scheduler = FlowsScheduler(service, lead_seconds=8)
        scheduler.start()
        try:
            assert wait_for(lambda: runs_of(service, dep), timeout=20)
            made_at = datetime.now(timezone.utc)
        finally:
            scheduler.shutdown()
        times = runs_of(service, dep)
        assert all(t.second % 10 == 0 and t.microsecond == 0 for t in times)  # due times
        assert max(times) > made_at  # made before it was due
        assert max(times) - made_at <= timedelta(seconds=8.5)  # but not before the lead
        assert max(Counter(times).values()) == 1
        # not claimable before it is due: a worker starts it on time, not early
        claimed = service.claim_runs("default", "w", 10)
        claimed_at = datetime.now(timezone.utc)
        assert all(c.flow_run.expected_start_time <= claimed_at for c in claimed)
        if max(times) > claimed_at:
            assert max(times) not in {c.flow_run.expected_start_time for c in claimed}

    def test_runs_made_ahead_go_when_the_schedule_changes_or_pauses(
        self, service: OrchestrationService
    ) -> None:
        dep = self._every_10s(service, "changing")
        scheduler = FlowsScheduler(service, lead_seconds=9.5)
        scheduler.start()
        try:
            assert wait_for(
                lambda: any(t > datetime.now(timezone.utc) for t in runs_of(service, dep))
            )
            yearly = [ScheduleSpec(cron="0 0 1 1 *")]
            service.update_deployment(dep, UpdateDeployment(schedules=yearly))
            now = datetime.now(timezone.utc)
            assert [t for t in runs_of(service, dep) if t > now] == []
            service.update_deployment(
                dep, UpdateDeployment(schedules=[ScheduleSpec(interval_seconds=10)])
            )
            assert wait_for(
                lambda: any(t > datetime.now(timezone.utc) for t in runs_of(service, dep))
            )
            service.update_deployment(dep, UpdateDeployment(paused=True))
            now = datetime.now(timezone.utc)
            assert [t for t in runs_of(service, dep) if t > now] == []
        finally:
            scheduler.shutdown()
