"""Deployments built from flows, served from this process (Prefect's ``flow.serve`` and
``serve``) or created on a server for its workers (``flow.deploy``).

``serve`` writes the deployments into the run database (the default one, or
``JUPYTER_FLOWS_DB_URL``: the one the Jupyter server and its panel read), then schedules
them and runs their runs until it is stopped (Ctrl-C, SIGTERM), in a work pool of its own
(``serve-<name>``), so other workers never take them.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from ..schedules import Interval, Schedule
from ..schedules import RRule as _RRule

__all__ = ["RunnerDeployment", "to_deployment", "serve", "deploy", "serve_pool"]

logger = logging.getLogger(__name__)


class RunnerDeployment(BaseModel):
    """A deployment of a flow, not yet created anywhere (``flow.to_deployment(...)``)."""

    model_config = ConfigDict(extra="forbid")

    name: str
    flow_name: str
    entrypoint: str
    schedules: list[dict[str, Any]] = Field(default_factory=list)
    parameters: dict[str, Any] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)
    description: str | None = None
    version: str | None = None
    paused: bool = False
    work_pool_name: str | None = None
    triggers: list[dict[str, Any]] = Field(default_factory=list)
    #: overrides of the work pool's base job template variables
    job_variables: dict[str, Any] = Field(default_factory=dict)

    def body(self, work_pool: str) -> dict[str, Any]:
        """The ``CreateDeployment`` body of this deployment in ``work_pool``."""
        return {
            "name": self.name,
            "entrypoint": self.entrypoint,
            "parameters": self.parameters,
            "tags": self.tags,
            "description": self.description,
            "version": self.version,
            "work_pool": work_pool,
            "schedules": self.schedules,
            "job_variables": self.job_variables,
            "paused": self.paused,
        }


def _many(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _schedules(
    interval: Any, cron: Any, rrule: Any, schedule: Any, schedules: Any
) -> list[dict[str, Any]]:
    """The ``ScheduleSpec`` dicts of Prefect's schedule arguments (each may be a list)."""
    from ..schedules import Cron

    made: list[Schedule] = []
    made += [Interval(i if isinstance(i, timedelta) else float(i)) for i in _many(interval)]
    made += [Cron(c) for c in _many(cron)]
    made += [_RRule(r) for r in _many(rrule)]
    for s in [*_many(schedule), *_many(schedules)]:
        if not isinstance(s, Schedule):
            raise TypeError(
                f"schedules: expected jupyter_flows.schedules.Cron/Interval/RRule, got {s!r}"
            )
        made.append(s)
    return [s.spec() for s in made]


def to_deployment(
    flow: Any,
    name: str | None = None,
    *,
    interval: Any = None,
    cron: Any = None,
    rrule: Any = None,
    paused: bool | None = None,
    schedule: Any = None,
    schedules: Sequence[Any] | None = None,
    parameters: dict[str, Any] | None = None,
    triggers: list[dict[str, Any]] | None = None,
    description: str | None = None,
    tags: list[str] | None = None,
    version: str | None = None,
    work_pool_name: str | None = None,
    job_variables: dict[str, Any] | None = None,
    root_dir: Path | None = None,
    **unsupported: Any,
) -> RunnerDeployment:
    """A deployment of ``flow`` named ``name`` (default: the flow's name)."""
    from ..client.deploy import entrypoint_of

    if unsupported:
        raise TypeError(
            f"to_deployment: not supported here: {', '.join(sorted(unsupported))} "
            "(see the README's 'Coming from Prefect' table)"
        )
    return RunnerDeployment(
        name=name or flow.name,
        flow_name=flow.name,
        entrypoint=entrypoint_of(flow, root_dir),
        schedules=_schedules(interval, cron, rrule, schedule, schedules),
        parameters=dict(parameters or {}),
        tags=list(tags or []),
        description=description if description is not None else flow.description,
        version=version if version is not None else flow.version,
        paused=bool(paused),
        work_pool_name=work_pool_name,
        triggers=list(triggers or []),
        job_variables=dict(job_variables or {}),
    )


def serve_pool(deployments: Sequence[RunnerDeployment]) -> str:
    """The work pool ``serve`` puts its deployments in: only it takes their runs."""
    return f"serve-{deployments[0].name}"[:100]


def _upsert(service: Any, deployment: RunnerDeployment, pool: str) -> Any:
    """Create the deployment, or bring an existing one of the same flow up to date."""
    from ..exceptions import Conflict, NotFound
    from ..orchestration.schemas import CreateDeployment, UpdateDeployment

    body = deployment.body(pool)
    try:
        found = service.read_deployment(deployment.name)
    except NotFound:
        return service.create_deployment(CreateDeployment.model_validate(body))
    if found.entrypoint != deployment.entrypoint:
        raise Conflict(
            f"name: a deployment {deployment.name!r} of {found.entrypoint} exists; "
            f"serve {deployment.entrypoint} under another name"
        )
    changes = {k: v for k, v in body.items() if k not in ("name", "entrypoint")}
    return service.update_deployment(found.id, UpdateDeployment.model_validate(changes))


def serve(
    *deployments: RunnerDeployment,
    limit: int | None = None,
    pause_on_shutdown: bool = True,
    print_starting_message: bool = True,
    stop: threading.Event | None = None,
) -> None:
    """Schedule ``deployments`` and run their runs from this process until it is stopped
    (Ctrl-C, SIGTERM, or ``stop`` set); ``limit`` runs at once (default 4). With
    ``pause_on_shutdown`` their schedules pause when it stops, as Prefect's."""
    from ..core.run_environment import RunEnvironment
    from ..orchestration.service import OrchestrationService
    from ..scheduling.scheduler import FlowsScheduler
    from ..store.api import run_store
    from ..workers.clients import LocalClient
    from ..workers.worker import Worker

    if not deployments:
        raise ValueError("serve: give at least one deployment (flow.to_deployment(...))")
    if RunEnvironment.current().flow_run_id:
        logger.warning("serve() in a run of a served deployment does nothing: guard it with "
                       "`if __name__ == '__main__':`")  # fmt: skip
        return
    root = Path.cwd()
    service = OrchestrationService(run_store().engine, root, root / ".jupyter-flows-outputs")
    pool = serve_pool(deployments)
    from ..exceptions import NotFound

    try:
        service.read_work_pool(pool)
    except NotFound:
        from ..orchestration.schemas import CreateWorkPool

        service.create_work_pool(CreateWorkPool(name=pool, description="runs of serve()"))
    made = [_upsert(service, d, pool) for d in deployments]
    stop = stop or threading.Event()
    scheduler = FlowsScheduler(service, only={d.name for d in deployments})
    worker = Worker(
        LocalClient(service),
        pool,
        name=f"serve-{socket.gethostname()}-{os.getpid()}",
        limit=limit or 4,
        root_dir=root,
        outputs_dir=service.outputs_dir,
        heartbeat_interval=5.0,
    )
    thread = threading.Thread(target=worker.run, name="jupyter-flows-serve", daemon=True)
    restore = _stop_on_signals(stop)
    scheduler.start()
    thread.start()
    if print_starting_message:
        names = ", ".join(repr(d.name) for d in made)
        print(
            f"Your flow deployments {names} are being served and polling for scheduled runs!\n"
            f"To run one now: jupyter flows run {made[0].name}   (Ctrl-C stops serving)",
            flush=True,
        )
    try:
        while not stop.wait(0.5):
            if not thread.is_alive():
                raise RuntimeError(f"serve: the worker stopped ({worker.last_error})")
    finally:
        restore()
        scheduler.shutdown()
        worker.stop()
        thread.join(timeout=worker.grace + 5)
        if pause_on_shutdown:
            for d in made:
                service.set_deployment_paused(d.id, True)
        logger.info("stopped serving %s", ", ".join(d.name for d in made))


def _stop_on_signals(stop: threading.Event) -> Any:
    """Set ``stop`` on SIGTERM and Ctrl-C (main thread only); returns how to undo it."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = {
        sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)
    }

    def restore() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    return restore


def deploy(
    *deployments: RunnerDeployment,
    work_pool_name: str | None = None,
    url: str | None = None,
    token: str | None = None,
    upload: bool = True,
) -> list[UUID]:
    """Create ``deployments`` on the running server, in their work pool (default
    ``default``), for its workers; their ids. ``upload``: their entrypoints' files are
    uploaded (``client.deploy.deploy``)."""
    from ..client.deploy import deploy as create

    ids = []
    for d in deployments:
        made = create(
            d.entrypoint,
            d.name,
            parameters=d.parameters,
            work_pool=d.work_pool_name or work_pool_name or "default",
            tags=d.tags,
            description=d.description,
            version=d.version,
            schedules=d.schedules,
            paused=d.paused,
            triggers=d.triggers,
            job_variables=d.job_variables,
            url=url,
            token=token,
            upload=upload,
        )
        ids.append(UUID(made["id"]))
    return ids
