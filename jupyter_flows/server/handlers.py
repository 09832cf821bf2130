"""Base handler, the one domain-error -> HTTP mapping, and request/response helpers."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from pydantic import BaseModel, ValidationError
from tornado import web

from ..exceptions import (
    Conflict,
    FlowDefinitionError,
    FlowsError,
    NotFound,
    ParameterValidationError,
    ScheduleError,
    StoreError,
)

__all__ = ["AUTH_RESOURCE", "FlowsAPIHandler", "to_http_error"]

logger = logging.getLogger(__name__)
AUTH_RESOURCE = "jupyter_flows"
M = TypeVar("M", bound=BaseModel)


def _validation_reason(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(x) for x in err["loc"]) or "body"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def _http(code: int, message: str) -> web.HTTPError:
    """An HTTPError whose JSON body is ``{"message": message, "reason": <status phrase>}``."""
    return web.HTTPError(code, message.replace("%", "%%"))


def to_http_error(exc: BaseException) -> web.HTTPError:
    """The one mapping of domain errors to HTTP status codes."""
    if isinstance(exc, web.HTTPError):
        return exc
    if isinstance(exc, NotFound):
        return _http(404, str(exc))
    if isinstance(exc, ValidationError):
        return _http(400, _validation_reason(exc))
    if isinstance(exc, ParameterValidationError | ScheduleError | FlowDefinitionError):
        return _http(400, str(exc))
    if isinstance(exc, Conflict):
        return _http(409, str(exc))
    if isinstance(exc, StoreError):
        return _http(503, str(exc))
    if isinstance(exc, ValueError | FlowsError):
        return _http(400, str(exc))
    logger.exception("unexpected error in a jupyter-flows request", exc_info=exc)
    return _http(500, f"internal error: {type(exc).__name__}")


class FlowsAPIHandler(ExtensionHandlerMixin, APIHandler):  # type: ignore[misc]
    """Base of every jupyter-flows route: one auth resource, JSON in and out."""

    auth_resource = AUTH_RESOURCE

    @property
    def services(self) -> Any:
        return self.settings["jupyter_flows"]

    async def blocking(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run blocking (database) work off the event loop; domain errors become HTTP errors."""
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(None, functools.partial(fn, *args, **kwargs))
        except Exception as exc:  # noqa: BLE001 - mapped in one place
            raise to_http_error(exc) from exc

    def body(self, model: type[M]) -> M:
        """The request body parsed as ``model`` (400 naming the field on bad input)."""
        try:
            raw = json.loads(self.request.body or b"{}")
        except ValueError as exc:
            raise _http(400, f"request body is not valid JSON: {exc}") from exc
        try:
            return model.model_validate(raw)
        except ValidationError as exc:
            raise to_http_error(exc) from exc

    def query(self, model: type[M]) -> M:
        """Query arguments parsed as ``model`` (comma-separated lists for list fields)."""
        raw: dict[str, Any] = {}
        for key in self.request.query_arguments:
            value = self.get_query_argument(key)
            field = model.model_fields.get(key)
            if field is not None and "list" in str(field.annotation):
                raw[key] = [v for v in value.split(",") if v]
            else:
                raw[key] = value
        try:
            return model.model_validate(raw)
        except ValidationError as exc:
            raise to_http_error(exc) from exc

    def reply(self, value: Any, status: int = 200) -> None:
        self.set_status(status)
        if isinstance(value, BaseModel):
            value = value.model_dump(mode="json")
        self.finish(json.dumps(value, default=str))
