"""``FlowsApp``: traitlets configuration, and the background services it starts and stops."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from traitlets import TraitError

from jupyter_flows.core import settings
from jupyter_flows.server.app import FlowsApp
from jupyter_flows.store.db import default_db_url

FLOW = "from jupyter_flows import flow\n\n@flow\ndef job(n: int = 1) -> int:\n    return n * 2\n"


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float, what: str) -> Any:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` at the deadline."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        value = await check()
        if value:
            return value
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


class TestConfiguration:
    def test_every_option_is_a_documented_config_trait(self) -> None:
        traits = FlowsApp.class_own_traits(config=True)
        names = {
            "db_url",
            "scheduler_enabled",
            "embedded_worker",
            "outputs_dir",
            "heartbeat_timeout",
            "crash_check_interval",
            "schedule_resync_seconds",
        }
        assert names <= set(traits)
        assert all(traits[name].help for name in names)

    def test_defaults(self, tmp_path: Path) -> None:
        app = FlowsApp()
        assert app.db_url == default_db_url()
        assert app.outputs_dir == str(settings.data_dir() / "outputs")
        assert (app.scheduler_enabled, app.embedded_worker) == (True, True)
        assert app.heartbeat_timeout == 60

    @pytest.mark.parametrize(
        "trait", ["heartbeat_timeout", "crash_check_interval", "schedule_resync_seconds"]
    )
    def test_intervals_must_be_positive(self, trait: str) -> None:
        with pytest.raises(TraitError, match=trait):
            FlowsApp(**{trait: 0})

    async def test_a_configured_db_url_is_exported_to_kernels(
        self, flows_app: FlowsApp, flows_db_url: str
    ) -> None:
        assert os.environ["JUPYTER_FLOWS_DB_URL"] == flows_db_url
        assert flows_app.services.db_url == flows_db_url

    async def test_the_server_sets_up_no_process_recorder(
        self, api: Any, recorded: list[str]
    ) -> None:
        settings.reset_recorder()
        for path in [(), (recorded[0],), (recorded[0], "report"), (recorded[0], "graph")]:
            status, _ = await api("flow_runs", *path)
            assert status == 200
        assert settings._recorder is None  # only kernels and worker processes record

    async def test_no_background_services_before_the_start_hook(self, api: Any) -> None:
        status, health = await api("health")
        assert (health["scheduler"], health["embedded_worker"]) == (False, False)


class TestSchedulerAndEmbeddedWorker:
    @pytest.fixture
    def jp_server_config(self, jp_server_config: dict[str, Any]) -> dict[str, Any]:
        flows = dict(jp_server_config["FlowsApp"], scheduler_enabled=True, embedded_worker=True)
        return {**jp_server_config, "FlowsApp": flows}

    async def test_a_scheduled_flow_runs_in_the_server_alone(
        self, api: Any, flows_app: FlowsApp, jp_serverapp: Any, jp_root_dir: Path
    ) -> None:
        (jp_root_dir / "job.py").write_text(FLOW)
        await flows_app._start_jupyter_server_extension(jp_serverapp)
        services = flows_app.services
        status, health = await api("health")
        assert (health["scheduler"], health["embedded_worker"]) == (True, True)
        body = {
            "name": "every-second",
            "entrypoint": "job.py:job",
            "parameters": {"n": 21},
            "schedules": [{"interval_seconds": 1}],
        }
        status, dep = await api("deployments", method="POST", body=body)
        assert status == 201, dep

        async def completed() -> list[dict[str, Any]]:
            _, page = await api("flow_runs", params={"deployment_id": dep["id"], "limit": "100"})
            return [r for r in page["items"] if r["state_name"] == "Completed"]

        done = await eventually(completed, 120, "a scheduled run to complete")
        assert done[0]["parameters"] == {"n": 21} and done[0]["worker"].startswith("embedded-")
        times = [r["expected_start_time"] for r in (await completed())]
        assert len(times) == len(set(times))  # one run per due time

        worker, scheduler = services.worker, services.scheduler
        await flows_app.stop_extension()
        assert (services.worker, services.scheduler, services.crash_checker) == (None,) * 3
        assert not worker.thread.is_alive()
        assert scheduler.job_ids() == [] or not scheduler._scheduler.running


class TestCrashedRunCheck:
    @pytest.fixture
    def jp_server_config(self, jp_server_config: dict[str, Any]) -> dict[str, Any]:
        flows = dict(jp_server_config["FlowsApp"], heartbeat_timeout=0.5, crash_check_interval=0.2)
        return {**jp_server_config, "FlowsApp": flows}

    async def test_runs_of_a_silent_worker_end_crashed(
        self, api: Any, flows_app: FlowsApp, jp_serverapp: Any, jp_root_dir: Path
    ) -> None:
        (jp_root_dir / "job.py").write_text(FLOW)
        await flows_app._start_jupyter_server_extension(jp_serverapp)
        assert flows_app.services.crash_checker.is_running()
        body = {"name": "job", "entrypoint": "job.py:job"}
        status, _ = await api("deployments", method="POST", body=body)
        status, run = await api("deployments", "job", "run", method="POST", body={})
        await api("work_pools", "default", "claim", method="POST", body={"worker": "ghost"})
        running = {"type": "RUNNING", "name": "Running", "worker": "ghost"}
        status, _ = await api("flow_runs", run["id"], "state", method="POST", body=running)
        assert status == 200

        async def crashed() -> bool:
            _, now = await api("flow_runs", run["id"])
            return bool(now["state_name"] == "Crashed")

        await eventually(crashed, 60, "the run of the silent worker to end Crashed")
        _, final = await api("flow_runs", run["id"])
        assert "heartbeat" in final["state_message"]
        await flows_app.stop_extension()
        assert flows_app.services.crash_checker is None
