"""A worker outlives its database going away (real PostgreSQL, made read-only)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from jupyter_flows.core.run_environment import RunEnvironment
from jupyter_flows.orchestration.schemas import CreateDeployment, CreateDeploymentRun
from jupyter_flows.orchestration.service import OrchestrationService
from jupyter_flows.store.db import open_store
from jupyter_flows.workers.clients import LocalClient
from jupyter_flows.workers.worker import Worker
from tests.conftest import set_read_only
from tests.helpers import wait


@pytest.mark.postgres
def test_the_worker_survives_a_read_only_database_and_runs_once_it_is_back(
    fresh_postgres_url: str, tmp_path: Path
) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "etl.py").write_text(
        "from jupyter_flows import flow\n@flow\ndef etl(n: int) -> int:\n    return n * 2\n"
    )
    engine = open_store(fresh_postgres_url)
    service = OrchestrationService(engine, root, tmp_path / "outputs")
    worker = Worker(
        LocalClient(service),
        name="w",
        root_dir=root,
        poll_interval=0.2,
        run_env=RunEnvironment(db_url=fresh_postgres_url),
    )
    thread = threading.Thread(target=worker.run, daemon=True)
    try:
        body = CreateDeployment(name="etl", entrypoint="etl.py:etl")
        dep = service.create_deployment(body).id
        set_read_only(fresh_postgres_url, True)
        thread.start()
        wait(lambda: worker.last_error is not None, 30, "a failed round")
        assert "read-only" in worker.last_error or "ReadOnly" in worker.last_error
        time.sleep(2)  # several failed rounds, backing off
        assert thread.is_alive()
        set_read_only(fresh_postgres_url, False)
        run = service.run_deployment(dep, CreateDeploymentRun(parameters={"n": 4}))
        done = wait(
            lambda: service.runs.read_flow_run(run.id).state_name == "Completed" or None,
            60,
            "the run once the database is writable again",
        )
        assert done
        wait(lambda: worker.last_error is None, 10, "a good round")
    finally:
        worker.stop()
        thread.join(timeout=30)
        engine.dispose()
