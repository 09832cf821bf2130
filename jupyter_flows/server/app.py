"""``FlowsApp``: the jupyter-flows server extension, configured with traitlets only."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from jupyter_server.auth.decorator import authorized
from jupyter_server.extension.application import ExtensionApp
from jupyter_server.utils import url_path_join
from tornado import web
from traitlets import Bool, Float, Unicode, default

from .handlers import FlowsAPIHandler
from .openapi import openapi_document

__all__ = ["FlowsApp"]

logger = logging.getLogger(__name__)
API_BASE = "jupyter-flows/api"


class OpenAPIHandler(FlowsAPIHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.reply(self.services["openapi"])


class FlowsApp(ExtensionApp):  # type: ignore[misc]
    """Persists and serves runs, schedules deployments, runs an embedded worker."""

    name = "jupyter_flows"
    description = "jupyter-flows: notebook-native workflow orchestration"
    load_other_extensions = True

    db_url = Unicode(
        config=True, help="Run database URL (SQLite file or postgresql+psycopg://...)."
    )
    scheduler_enabled = Bool(True, config=True, help="Create runs of scheduled deployments.")
    embedded_worker = Bool(
        True, config=True, help="Run a worker for the 'default' work pool inside the server."
    )
    outputs_dir = Unicode(config=True, help="Where executed notebooks of runs are kept.")
    heartbeat_timeout = Float(
        60.0, config=True, help="Seconds without a worker heartbeat before its runs are Crashed."
    )
    crash_check_interval = Float(
        10.0, config=True, help="Seconds between checks for runs of vanished workers."
    )

    @default("db_url")
    def _default_db_url(self) -> str:
        from ..store.db import default_db_url

        return default_db_url()

    @default("outputs_dir")
    def _default_outputs_dir(self) -> str:
        from ..core.settings import data_dir

        return str(data_dir() / "outputs")

    def _routes(self) -> list[tuple[str, Any]]:
        from . import handlers_runs

        routes = list(handlers_runs.ROUTES)
        extra = _optional_routes()
        routes.extend(extra)
        routes.append(("openapi.json", OpenAPIHandler))
        return routes

    def initialize_settings(self) -> None:
        from ..store.db import open_store
        from ..store.repository import RunStore

        if "db_url" in self.config.get("FlowsApp", {}):
            # kernels started by this server record into the same database
            os.environ["JUPYTER_FLOWS_DB_URL"] = self.db_url
        engine = open_store(self.db_url)
        Path(self.outputs_dir).mkdir(parents=True, exist_ok=True)
        services: dict[str, Any] = {
            "db_url": self.db_url,
            "engine": engine,
            "runs": RunStore(engine),
            "scheduler": None,
            "worker": None,
            "openapi": openapi_document(_operations(), "/" + API_BASE),
        }
        _init_orchestration(self, services)
        self.settings["jupyter_flows"] = services
        logger.info("jupyter-flows: runs are recorded in %s", services["runs"])

    def initialize_handlers(self) -> None:
        for pattern, handler in self._routes():
            self.handlers.append((url_path_join("/", API_BASE, pattern), handler))

    async def stop_extension(self) -> None:
        services = self.settings.get("jupyter_flows", {})
        for name in ("worker", "scheduler", "crash_checker"):
            service = services.get(name)
            if service is not None:
                try:
                    service.stop() if hasattr(service, "stop") else service.shutdown()
                except Exception:  # noqa: BLE001 - stopping must not fail the shutdown
                    logger.exception("jupyter-flows: stopping %s failed", name)
        engine = services.get("engine")
        if engine is not None:
            engine.dispose()


def _orchestration() -> Any:
    """The deployment/pool/worker routes, when that part of the package is present."""
    import importlib

    try:
        return importlib.import_module("jupyter_flows.server.handlers_orchestration")
    except ImportError:
        return None


def _operations() -> list[Any]:
    from . import handlers_runs

    module = _orchestration()
    extra = module.operations() if module is not None else []
    return [*handlers_runs.operations(), *extra]


def _optional_routes() -> list[tuple[str, Any]]:
    module = _orchestration()
    return list(module.ROUTES) if module is not None else []


def _init_orchestration(app: FlowsApp, services: dict[str, Any]) -> None:
    """Deployments, scheduler and worker, when the orchestration package is present."""
    module = _orchestration()
    if module is not None:
        module.initialize(app, services)
