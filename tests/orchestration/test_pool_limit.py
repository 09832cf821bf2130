"""A pool's concurrency limit holds under concurrent claimers (each its own connection)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from sqlalchemy import func, select

from jupyter_flows.orchestration._tables import ACTIVE, FLOW_RUN
from jupyter_flows.orchestration.schemas import (
    CreateDeployment,
    CreateDeploymentRun,
    CreateWorkPool,
    UpdateRunState,
)
from jupyter_flows.orchestration.service import OrchestrationService
from jupyter_flows.store.db import open_store

LIMIT = 3
CLAIMERS = 8


def test_a_limit_of_n_never_admits_n_plus_1(db_url: str, root: Path, tmp_path: Path) -> None:
    engines = [open_store(db_url) for _ in range(CLAIMERS + 1)]
    services = [OrchestrationService(e, root, tmp_path / "out") for e in engines]
    main = services[-1]
    main.create_work_pool(CreateWorkPool(name="limited", concurrency_limit=LIMIT))
    dep = main.create_deployment(
        CreateDeployment(name="etl", entrypoint="flows/etl.py:etl", work_pool="limited")
    ).id
    for _ in range(40):
        main.run_deployment(dep, CreateDeploymentRun(parameters={"n": 1}))
    stop = threading.Event()
    peaks: list[int] = []
    errors: list[BaseException] = []

    def claimer(service: OrchestrationService, name: str) -> None:
        try:
            while not stop.is_set():
                for claimed in service.claim_runs("limited", name, 2):
                    running = UpdateRunState(type="RUNNING", name="Running", worker=name)
                    service.set_run_state(claimed.flow_run.id, running)
                    time.sleep(0.01)
                    done = UpdateRunState(type="COMPLETED", name="Completed", worker=name)
                    service.set_run_state(claimed.flow_run.id, done)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    def active() -> int:
        with engines[-1].connect() as conn:
            count = select(func.count()).select_from(FLOW_RUN)
            where = (FLOW_RUN.c.work_pool == "limited") & FLOW_RUN.c.state_type.in_(ACTIVE)
            return int(conn.execute(count.where(where)).scalar_one())

    threads = [
        threading.Thread(target=claimer, args=(s, f"w{i}")) for i, s in enumerate(services[:-1])
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            peaks.append(active())
            with engines[-1].connect() as conn:
                left = conn.execute(
                    select(func.count())
                    .select_from(FLOW_RUN)
                    .where(FLOW_RUN.c.state_type == "SCHEDULED")
                ).scalar_one()
            if not left and not peaks[-1]:
                break
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        for engine in engines:
            engine.dispose()
    assert errors == []
    assert left == 0, "every run was claimed and ran"
    assert max(peaks) <= LIMIT, f"{max(peaks)} active runs in a pool limited to {LIMIT}"
    assert max(peaks) == LIMIT  # the claimers did compete for the slots
