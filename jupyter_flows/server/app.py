"""``FlowsApp``: the jupyter-flows server extension, configured with traitlets only.

``initialize_settings`` opens the run database (migrating it) and builds the services the
handlers use; ``_start_jupyter_server_extension`` starts the background parts once the event
loop runs (the scheduler, the embedded worker, the crashed-run check, the event reader that
fires automations); ``stop_extension`` stops them.

Kernels record their runs themselves, into ``$JUPYTER_FLOWS_DB_URL`` or the default database.
When ``FlowsApp.db_url`` is configured explicitly, the server exports it as
``JUPYTER_FLOWS_DB_URL`` in its own environment, so the kernels (and worker processes) it
starts record into the same database. The server never sets up a process recorder itself.
"""

from __future__ import annotations

import asyncio
import functools
import os
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from jupyter_server.extension.application import ExtensionApp
from jupyter_server.utils import url_path_join
from tornado.ioloop import PeriodicCallback
from traitlets import Bool, Float, Integer, List, TraitError, Unicode, default, validate

from ..orchestration.sources import DEFAULT_MAX_SOURCE_BYTES, SourceStore
from ..store.limits import DEFAULT_MAX_BODY_BYTES
from . import (
    handlers_artifacts,
    handlers_automations,
    handlers_background,
    handlers_blocks,
    handlers_concurrency,
    handlers_dashboard,
    handlers_deployments,
    handlers_pauses,
    handlers_pools,
    handlers_results,
    handlers_runs,
    handlers_sources,
    handlers_variables,
)
from .app_actions import ActionSettings
from .handlers import SETTINGS_KEY, FlowsAPIHandler, FlowsServices
from .openapi import openapi_document, url_pattern

__all__ = ["FlowsApp", "API_BASE", "ROUTES"]

API_BASE = "jupyter-flows/api"


class FlowsApp(ActionSettings, ExtensionApp):  # type: ignore[misc]
    """Persists and serves runs, schedules deployments, runs an embedded worker."""

    name = "jupyter_flows"
    description = "jupyter-flows: notebook-native workflow orchestration"
    load_other_extensions = True

    db_url = Unicode(
        config=True,
        help="""The run database: sqlite:///PATH or postgresql+psycopg://USER@HOST:PORT/DB.
        Default: $JUPYTER_FLOWS_DB_URL, else a SQLite file in the Jupyter data dir. When set
        explicitly, it is exported as JUPYTER_FLOWS_DB_URL to the kernels this server starts.""",
    )
    scheduler_enabled = Bool(
        True, config=True, help="Create the runs of scheduled deployments in this server."
    )
    schedule_resync_seconds = Float(
        60.0,
        config=True,
        help="Seconds between two full reads of the deployments' schedules (changes made "
        "through this server apply at once; this picks up those of other servers).",
    )
    schedule_lead_seconds = Float(
        10.0,
        config=True,
        help="Seconds before its due time that a scheduled run is made (Scheduled, waiting), "
        "so that a worker starts it when due even when thousands fall due at once; 0 makes "
        "each run at its due time.",
    )
    embedded_worker = Bool(
        True,
        config=True,
        help="Run a worker for the 'default' work pool inside the server (a thread).",
    )
    outputs_dir = Unicode(
        config=True,
        help="Where the embedded worker keeps the executed notebooks of runs "
        "(default: <Jupyter data dir>/jupyter_flows/outputs).",
    )
    _started = 0.0  # monotonic time the extension started
    heartbeat_timeout = Float(
        60.0,
        config=True,
        help="Seconds without a heartbeat after which a worker's active runs end Crashed "
        "(a server that just started waits this long before judging: its workers may have "
        "been unable to reach it while it was down).",
    )
    crash_check_interval = Float(
        10.0,
        config=True,
        help="Seconds between two checks for runs of vanished workers (and for paused or "
        "suspended runs not resumed within their timeout, which end Failed).",
    )
    automations_enabled = Bool(
        True,
        config=True,
        help="Turn flow-run states into events and fire the automations they match.",
    )
    events_interval = Float(
        1.0, config=True, help="Seconds between two reads of new events (for automations)."
    )
    event_retention_days = Float(
        7.0, config=True, help="Events older than this many days are deleted."
    )
    run_retention_days = Float(
        0.0,
        config=True,
        help="Flow runs that ended more than this many days ago are deleted, with their task "
        "runs, states, logs and executed notebooks (0: keep them forever).",
    )
    allowed_entrypoint_packages = List(
        Unicode(),
        config=True,
        help="Installed packages whose flows deployments may name as 'package.module:flow' "
        "(code under the server root is always allowed; the standard library never is).",
    )
    result_retention_days = Float(
        0.0,
        config=True,
        help="Persisted task results stored more than this many days ago are forgotten and "
        "their files deleted (0: only expired ones).",
    )
    runs_kept_per_flow = Integer(
        0,
        config=True,
        help="Keep only this many ended flow runs per flow, the newest (0: no limit).",
    )
    worker_retention_days = Float(
        7.0, config=True, help="Workers silent for this many days are forgotten."
    )
    secrets_key_file = Unicode(
        config=True,
        help="""The file of the key that encrypts block documents (secrets) at rest, made on
        first use (mode 0600). Never in the run database: keep it (and back it up) apart from
        it; without it the saved blocks cannot be read. Default:
        $JUPYTER_FLOWS_SECRETS_KEY_FILE, else <data dir>/secrets.key (the data dir is
        $JUPYTER_FLOWS_HOME or <Jupyter data dir>/jupyter_flows). When set explicitly, it is
        exported as JUPYTER_FLOWS_SECRETS_KEY_FILE to the kernels and workers this server
        starts (processes with the database read the same file).""",
    )
    max_body_size = Integer(
        DEFAULT_MAX_BODY_BYTES,
        config=True,
        help="""The largest request body (bytes) the jupyter-flows API takes; a larger one is
        answered 413. (ServerApp.max_body_size bounds every route of the server.) The other
        bounds of what the API takes in are in jupyter_flows.store.limits.""",
    )

    sources_dir = Unicode(
        config=True,
        help="Where deployments' uploaded source bundles are kept, as <sha256>.tar.gz files "
        "(default: <Jupyter data dir>/jupyter_flows/sources).",
    )
    max_source_bytes = Integer(
        DEFAULT_MAX_SOURCE_BYTES,
        config=True,
        help="The largest source bundle (bytes) a deploy may upload; a larger one is answered "
        "413 (it may be larger than max_body_size).",
    )

    result_storage_dir = Unicode(
        config=True,
        help="Where the server keeps the persisted results that run processes of remote "
        "workers (no database) upload, one folder per deployment (default: <data dir>/"
        "uploaded_results; the data dir is $JUPYTER_FLOWS_HOME or <Jupyter data dir>/"
        "jupyter_flows).",
    )
    max_result_size = Integer(
        256 * 1024 * 1024,
        config=True,
        help="The largest result file (bytes) a run process may upload; a larger one is "
        "answered 413 (its task still completes; a retry on another worker runs it again).",
    )

    @default("result_storage_dir")
    def _default_result_storage_dir(self) -> str:
        from ..core.settings import data_dir

        return str(data_dir() / "uploaded_results")

    @default("db_url")
    def _default_db_url(self) -> str:
        from ..store.db import default_db_url

        return default_db_url()

    @default("secrets_key_file")
    def _default_secrets_key_file(self) -> str:
        from ..store.encryption import key_file

        return str(key_file())

    @default("outputs_dir")
    def _default_outputs_dir(self) -> str:
        from ..core.settings import data_dir

        return str(data_dir() / "outputs")

    @default("sources_dir")
    def _default_sources_dir(self) -> str:
        from ..core.settings import data_dir

        return str(data_dir() / "sources")

    @validate(
        "heartbeat_timeout",
        "crash_check_interval",
        "schedule_resync_seconds",
        "events_interval",
        "event_retention_days",
        "worker_retention_days",
    )
    def _positive(self, proposal: dict[str, Any]) -> float:
        value = float(proposal["value"])
        if value <= 0:
            raise TraitError(f"FlowsApp.{proposal['trait'].name} must be > 0, not {value}")
        return value

    @validate("run_retention_days", "result_retention_days")
    def _not_negative(self, proposal: dict[str, Any]) -> float:
        value = float(proposal["value"])
        if not value >= 0:  # (NaN too)
            name = proposal["trait"].name
            raise TraitError(f"FlowsApp.{name} must be >= 0 (0: forever), not {value}")
        return value

    @validate("schedule_lead_seconds")
    def _lead(self, proposal: dict[str, Any]) -> float:
        value = float(proposal["value"])
        if not 0 <= value <= 3600:  # (NaN too)
            raise TraitError(f"FlowsApp.schedule_lead_seconds must be 0 to 3600, not {value}")
        return value

    @validate("max_body_size", "max_source_bytes", "max_result_size")
    def _positive_size(self, proposal: dict[str, Any]) -> int:
        value = int(proposal["value"])
        if value <= 0:
            raise TraitError(f"FlowsApp.{proposal['trait'].name} must be > 0, not {value}")
        return value

    # ------------------------------------------------------------------ set-up

    def initialize_settings(self) -> None:
        from ..core.run_environment import RunEnvironment
        from ..orchestration.service import OrchestrationService
        from ..orchestration.tokens import Tokens
        from ..orchestration.uploaded_results import UploadedResults
        from ..store.db import DB_URL_ENV, mask_url, open_store
        from ..store.repository import RunStore

        if "db_url" in self.config.get("FlowsApp", {}):
            os.environ[DB_URL_ENV] = self.db_url  # kernels started here record into it too
        if "secrets_key_file" in self.config.get("FlowsApp", {}):  # ... and use this key
            os.environ[RunEnvironment.variable("secrets_key_file")] = self.secrets_key_file
        engine = open_store(self.db_url)  # creates or migrates the schema
        outputs_dir = Path(self.outputs_dir)
        outputs_dir.mkdir(parents=True, exist_ok=True)
        root_dir = Path(self.serverapp.root_dir if self.serverapp else ".").resolve()
        document = openapi_document(ROUTES, "/" + API_BASE)
        base_url = self.serverapp.base_url if self.serverapp else "/"
        if base_url.rstrip("/"):
            document["servers"] = [{"url": base_url.rstrip("/")}]
        from ..store.recorder import SqlRecorder

        orchestration = OrchestrationService(
            engine, root_dir, outputs_dir, heartbeat_timeout=self.heartbeat_timeout
        )
        orchestration.allowed_entrypoint_packages = tuple(self.allowed_entrypoint_packages)
        orchestration.secrets_key_file = self.secrets_key_file
        orchestration.sources = SourceStore(Path(self.sources_dir), self.max_source_bytes, engine)
        server_url = getattr(self.serverapp, "connection_url", "") if self.serverapp else ""
        self.configure_actions(orchestration, server_url)
        self.settings[SETTINGS_KEY] = FlowsServices(
            db_url=self.db_url,
            engine=engine,
            recorder=SqlRecorder(engine),
            runs=RunStore(engine),
            orchestration=orchestration,
            tokens=Tokens(engine),
            root_dir=root_dir,
            outputs_dir=outputs_dir,
            openapi=document,
            max_body_size=self.max_body_size,
            sources=orchestration.sources,
            uploaded_results=UploadedResults(
                Path(self.result_storage_dir), RunStore(engine), self.max_result_size
            ),
        )
        self.log.info("jupyter-flows: runs are recorded in %s", mask_url(self.db_url))
        self.log.info("jupyter-flows: block documents are encrypted with the key file %s",
                      self.secrets_key_file)  # fmt: skip

    def initialize_handlers(self) -> None:
        for route, handler in ROUTES:
            self.handlers.append((url_path_join("/", API_BASE, url_pattern(route)), handler))

    # ------------------------------------------------------------------ background parts

    @property
    def services(self) -> FlowsServices:
        return self.settings[SETTINGS_KEY]  # type: ignore[no-any-return]

    async def _start_jupyter_server_extension(self, serverapp: Any) -> None:
        """Start the scheduler, the embedded worker and the crashed-run check."""
        self._started = time.monotonic()
        services = self.services
        loop = asyncio.get_running_loop()
        if self.scheduler_enabled and services.scheduler is None:
            from ..scheduling.scheduler import FlowsScheduler

            scheduler = FlowsScheduler(
                services.orchestration,
                resync_interval=self.schedule_resync_seconds,
                lead_seconds=self.schedule_lead_seconds,
            )
            try:
                await loop.run_in_executor(None, scheduler.start)  # reads the deployments
            except Exception:
                self.log.exception("jupyter-flows: the scheduler did not start")
            else:
                services.scheduler = scheduler
        if self.embedded_worker and services.worker is None:
            from ..core.run_environment import RunEnvironment
            from ..workers.embedded import EmbeddedWorker
            from ..workers.worker import run_environment

            run_env = run_environment(RunEnvironment.current().but(db_url=self.db_url))
            worker = EmbeddedWorker(
                services.orchestration, services.root_dir, services.outputs_dir, run_env=run_env
            )
            worker.start()
            services.worker = worker
        if services.crash_checker is None:
            checker = PeriodicCallback(self._mark_crashed_runs, self.crash_check_interval * 1000)
            checker.start()
            services.crash_checker = checker
        if self.automations_enabled and services.event_reader is None:
            try:  # read from now on (and from where it stopped after a restart)
                await loop.run_in_executor(None, services.orchestration.start_cursors)
            except Exception:
                self.log.exception("jupyter-flows: the event reader did not start")
            else:
                reader = PeriodicCallback(self._process_events, self.events_interval * 1000)
                reader.start()
                services.event_reader = reader
                services.action_runner = self.start_action_runner(self.events_interval)
        self.log.info(
            "jupyter-flows: scheduler %s, embedded worker %s, automations %s",
            "on" if services.scheduler else "off",
            "on" if services.worker else "off",
            "on" if services.event_reader else "off",
        )

    async def _process_events(self) -> None:
        service = self.services.orchestration
        loop = asyncio.get_running_loop()
        try:
            read = functools.partial(service.process_events, 500, run_actions=False)
            while await loop.run_in_executor(None, read) == 500:
                pass  # a backlog: keep reading
        except Exception:  # keep reading: the database may be back next time
            self.log.exception("jupyter-flows: reading events for automations failed")

    _next_prune = 0.0

    async def _prune(self) -> None:
        """Delete what is past its retention (every 10 minutes, from the crash check)."""
        if time.monotonic() < self._next_prune:
            return
        self._next_prune = time.monotonic() + 600
        service = self.services.orchestration
        loop = asyncio.get_running_loop()
        jobs: list[tuple[Any, float]] = [
            (service.prune_events, self.event_retention_days),
            (service.prune_workers, self.worker_retention_days),
        ]
        if self.run_retention_days > 0:
            jobs.append((service.prune_flow_runs, self.run_retention_days))
        if self.runs_kept_per_flow > 0:
            newest = self.runs_kept_per_flow
            jobs.append((lambda _: service.prune_flow_runs(keep_per_flow=newest), 0.0))
        jobs.append((service.prune_results, self.result_retention_days))
        for job, days in jobs:
            keep = timedelta(days=days) if days > 0 else None
            try:
                await loop.run_in_executor(None, job, keep)
            except Exception:  # the database may be back next time
                self.log.exception("jupyter-flows: %s failed", job.__name__)

    async def _mark_crashed_runs(self) -> None:
        await self._prune()
        await self._fail_expired_pauses()
        if time.monotonic() - self._started < self.heartbeat_timeout:
            return  # just (re)started: workers get one timeout to find this server again
        await self._periodic_check(
            self.services.orchestration.mark_crashed_runs,
            "crashed-run",
            "runs of vanished workers ended Crashed",
        )

    async def _fail_expired_pauses(self) -> None:
        """Paused and suspended runs not resumed in time end Failed (as Prefect's)."""
        await self._periodic_check(
            self.services.orchestration.fail_expired_pauses,
            "expired-pause",
            "paused runs never resumed ended Failed",
        )

    async def _periodic_check(self, check: Any, what: str, ended: str) -> None:
        """``check(heartbeat_timeout)`` in a thread; the runs it ended are logged. A failure
        is logged and the next round tries again (the database may be back by then)."""
        loop = asyncio.get_running_loop()
        try:
            found = await loop.run_in_executor(None, check, self.heartbeat_timeout)
        except Exception:
            self.log.exception("jupyter-flows: the %s check failed", what)
            return
        if found:
            self.log.warning("jupyter-flows: %s: %s", ended, found)

    async def stop_extension(self) -> None:
        """Stop the background parts (the worker ends its runs' processes) and the database."""
        services: FlowsServices | None = self.settings.get(SETTINGS_KEY)
        if services is None:
            return
        if services.crash_checker is not None:
            services.crash_checker.stop()
            services.crash_checker = None
        if services.event_reader is not None:
            services.event_reader.stop()
            services.event_reader = None
        if services.action_runner is not None:
            services.action_runner.stop()
            services.action_runner = None
            self.stop_action_runner()
        if services.scheduler is not None:
            services.scheduler.shutdown()
            services.scheduler = None
        if services.worker is not None:
            worker, services.worker = services.worker, None
            await asyncio.get_running_loop().run_in_executor(None, worker.stop)
        if services.recorder is not None:
            services.recorder.close()
        services.engine.dispose()


ROUTES: list[tuple[str, type[FlowsAPIHandler]]] = [
    *handlers_runs.ROUTES,
    *handlers_deployments.ROUTES,
    *handlers_pools.ROUTES,
    *handlers_automations.ROUTES,
    *handlers_variables.ROUTES,
    *handlers_artifacts.ROUTES,
    *handlers_pauses.ROUTES,
    *handlers_concurrency.ROUTES,
    *handlers_blocks.ROUTES,
    *handlers_sources.ROUTES,
    *handlers_dashboard.ROUTES,
    *handlers_results.ROUTES,
    *handlers_background.ROUTES,
]
