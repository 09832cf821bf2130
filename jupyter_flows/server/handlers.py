"""The base handler, the one domain-error -> HTTP mapping, and request/response helpers.

Every route of the extension subclasses ``FlowsAPIHandler``: one auth resource
(``AUTH_RESOURCE``), pydantic models in and out, blocking database work off the event loop,
and every error raised as a ``tornado.web.HTTPError`` so that Jupyter's
``APIHandler.write_error`` renders it as JSON ``{"message", "reason"}``.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from pydantic import BaseModel, ValidationError
from tornado import web

from ..exceptions import (
    Conflict,
    FlowDefinitionError,
    NotFound,
    ParameterValidationError,
    ScheduleError,
    StoreError,
)

__all__ = ["AUTH_RESOURCE", "SETTINGS_KEY", "FlowsAPIHandler", "FlowsServices"]

logger = logging.getLogger(__name__)

AUTH_RESOURCE = "jupyter_flows"
SETTINGS_KEY = "jupyter_flows_services"  # settings["jupyter_flows"] is the ExtensionApp itself
# query arguments Jupyter itself uses (token auth, activity tracking), never part of a model
_JUPYTER_QUERY_ARGS = frozenset({"token", "_xsrf", "no_track_activity"})

M = TypeVar("M", bound=BaseModel)


@dataclass
class FlowsServices:
    """What ``FlowsApp`` puts into the tornado settings for the handlers."""

    db_url: str
    engine: Any
    runs: Any  # store.repository.RunStore
    orchestration: Any  # orchestration.service.OrchestrationService
    root_dir: Path
    outputs_dir: Path
    openapi: dict[str, Any] = field(default_factory=dict)
    scheduler: Any = None
    worker: Any = None
    crash_checker: Any = None
    event_reader: Any = None
    recorder: Any = None  # store.recorder.SqlRecorder for POST records


def _validation_message(exc: ValidationError, where: str) -> str:
    parts = []
    for err in exc.errors(include_url=False):
        loc = ".".join(str(x) for x in err["loc"])
        parts.append(f"{loc}: {err['msg']}" if loc else err["msg"])
    return f"invalid {where}: " + "; ".join(parts)


def _to_http_error(exc: BaseException, where: str = "input") -> web.HTTPError:
    """The one mapping of errors to HTTP: 404, 400, 409, 503, else 500.

    The message names the field, parameter or cron string at fault; it becomes both the
    JSON ``message`` and (on one line) the JSON ``reason``.
    """
    if isinstance(exc, web.HTTPError):
        return exc
    if isinstance(exc, NotFound):
        code, message = 404, str(exc)
    elif isinstance(exc, ValidationError):  # a ValueError too: check it first
        code, message = 400, _validation_message(exc, where)
    elif isinstance(
        exc, ParameterValidationError | ScheduleError | FlowDefinitionError | ValueError
    ):
        code, message = 400, str(exc)
    elif isinstance(exc, Conflict):
        code, message = 409, str(exc)
    elif isinstance(exc, StoreError):
        code, message = 503, str(exc)
    else:
        logger.error("unexpected error in a jupyter-flows request", exc_info=exc)
        code, message = 500, f"internal error ({type(exc).__name__}); see the server log"
    reason = " ".join(message.split())[:300]
    # log_message is %-formatted by tornado's logging: escape it
    return web.HTTPError(code, message.replace("%", "%%"), reason=reason)


def _is_list(annotation: Any) -> bool:
    if typing.get_origin(annotation) is list:
        return True
    return any(_is_list(arg) for arg in typing.get_args(annotation))


class FlowsAPIHandler(ExtensionHandlerMixin, APIHandler):  # type: ignore[misc]
    """Base of every jupyter-flows route: one auth resource, JSON in and out."""

    auth_resource = AUTH_RESOURCE

    @property
    def services(self) -> FlowsServices:
        return self.settings[SETTINGS_KEY]  # type: ignore[no-any-return]

    async def blocking(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``fn(*args, **kwargs)`` on the executor (database work); errors become HTTP errors."""
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(None, functools.partial(fn, *args, **kwargs))
        except Exception as exc:
            raise _to_http_error(exc) from exc

    def validate(self, model: type[M], raw: Any, where: str = "request body") -> M:
        """``raw`` parsed as ``model``: a 400 naming the field on bad input."""
        try:
            return model.model_validate(raw)
        except ValidationError as exc:
            raise _to_http_error(exc, where) from exc

    def body(self, model: type[M]) -> M:
        """The JSON request body parsed as ``model`` (an empty body is ``{}``)."""
        try:
            raw = json.loads(self.request.body or b"{}")
        except ValueError as exc:
            raise _to_http_error(ValueError(f"the request body is not JSON: {exc}")) from exc
        return self.validate(model, raw)

    def query(self, model: type[M]) -> M:
        """The query arguments parsed as ``model`` (``a,b`` for list fields)."""
        raw: dict[str, Any] = {}
        for key in self.request.query_arguments:
            if key in _JUPYTER_QUERY_ARGS or key.isdigit():
                continue  # token, or JupyterLab's cache-busting ?<timestamp>
            value = self.get_query_argument(key)
            info = model.model_fields.get(key)
            if info is not None and _is_list(info.annotation):
                raw[key] = [v for v in value.split(",") if v]
            else:
                raw[key] = value
        return self.validate(model, raw, "query")

    def reply(self, value: BaseModel, status: int = 200) -> None:
        """Send ``value`` as JSON (``model_dump(mode="json")``)."""
        self.set_status(status)
        self.finish(value.model_dump_json())

    def no_content(self) -> None:
        self.set_status(204)
        self.finish()

    def send_file(self, data: str | bytes, content_type: str, disposition: str) -> None:
        """A non-JSON body (a report, a notebook)."""
        self.set_header("Content-Disposition", disposition)
        self.finish(data, set_content_type=content_type)
