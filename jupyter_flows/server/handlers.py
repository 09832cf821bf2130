"""The base handler, the one domain-error -> HTTP mapping, and request/response helpers.

Every route of the extension subclasses ``FlowsAPIHandler``: one auth resource
(``AUTH_RESOURCE``), pydantic models in and out, blocking database work off the event loop,
and every error raised as a ``tornado.web.HTTPError`` so that Jupyter's
``APIHandler.write_error`` renders it as JSON ``{"message", "reason"}``.

What a request may carry is bounded before any model sees it: a body longer than
``FlowsServices.max_body_size`` is refused with 413 (from its ``Content-Length``, before it
is read), bodies nest at most ``store.limits.MAX_JSON_DEPTH`` levels, query arguments are
the ones the route documents, and no query or path argument holds a NUL character.
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
    TooLarge,
)
from ..store.db import database_unavailable
from ..store.limits import DEFAULT_MAX_BODY_BYTES, MAX_JSON_DEPTH, too_deep
from .scoped_auth import ScopedAuthorizer, ScopedIdentity

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
    action_runner: Any = None  # does the automations' queued actions (app_actions)
    recorder: Any = None  # store.recorder.SqlRecorder for POST records
    tokens: Any = None  # orchestration.tokens.Tokens: worker and run tokens
    max_body_size: int = DEFAULT_MAX_BODY_BYTES  # FlowsApp.max_body_size
    sources: Any = None  # orchestration.sources.SourceStore: uploaded source bundles
    uploaded_results: Any = None  # orchestration.uploaded_results.UploadedResults


#: tornado 6.5+ escapes ``%`` in a ``log_message`` without args itself (its property); escaping
#: it here too doubled every ``%`` in the JSON ``message``
_TORNADO_ESCAPES = isinstance(vars(web.HTTPError).get("log_message"), property)


def _validation_message(exc: ValidationError, where: str) -> str:
    parts = []
    for err in exc.errors(include_url=False):
        loc = ".".join(str(x) for x in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")  # a validator's ValueError
        parts.append(f"{loc}: {msg}" if loc else msg)
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
    elif isinstance(exc, TooLarge):  # (a ValueError too, some of them)
        code, message = 413, str(exc)
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
    if not _TORNADO_ESCAPES:  # log_message is %-formatted by tornado's logging: escape it
        message = message.replace("%", "%%")
    return web.HTTPError(code, message, reason=reason)


def _is_list(annotation: Any) -> bool:
    if typing.get_origin(annotation) is list:
        return True
    return any(_is_list(arg) for arg in typing.get_args(annotation))


def _too_large(limit: int, trait: str = "max_body_size") -> web.HTTPError:
    message = f"the request body is larger than {limit} bytes (FlowsApp.{trait})"
    return web.HTTPError(413, message, reason=message)


@web.stream_request_body  # to refuse a body too large before it is read
class FlowsAPIHandler(ExtensionHandlerMixin, APIHandler):  # type: ignore[misc]
    """Base of every jupyter-flows route: one auth resource, JSON in and out."""

    auth_resource = AUTH_RESOURCE
    #: a bad query argument or path parameter, raised after authorization (``ScopedAuthorizer``)
    argument_error: web.HTTPError | None = None
    _body_chunks: list[bytes]
    _body_size = 0

    @property
    def services(self) -> FlowsServices:
        return self.settings[SETTINGS_KEY]  # type: ignore[no-any-return]

    @property
    def identity_provider(self) -> Any:
        """The server's, and our scoped worker and run tokens (``scoped_auth``)."""
        return ScopedIdentity(super().identity_provider, self.services.tokens)

    @property
    def authorizer(self) -> Any:
        """The server's for its users; a scoped token reaches the worker protocol only."""
        return ScopedAuthorizer(super().authorizer)

    async def prepare(self) -> None:  # type: ignore[override]  # as APIHandler's
        """Refuse a body too large and, for a signed-in user, unknown or NUL arguments."""
        await super().prepare()
        self._body_chunks = []
        declared = self.request.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.body_limit()[0]:
            raise _too_large(*self.body_limit())
        if self.current_user:  # else @web.authenticated answers 403 first
            try:
                self._check_arguments()
            except web.HTTPError as exc:  # answered once @authorized let the user in: an
                self.argument_error = exc  # unauthorized user gets 403, not this 400

    def body_limit(self) -> tuple[int, str]:
        """The largest body this route takes, and the trait that sets it."""
        return self.services.max_body_size, "max_body_size"

    def data_received(self, chunk: bytes) -> None:
        """Keep the body up to the limit (a longer chunked body is answered 413)."""
        self._body_size += len(chunk)
        if self._body_size <= self.body_limit()[0]:
            self._body_chunks.append(chunk)

    def raw_body(self) -> bytes:
        """The request body as it came (a bundle, a notebook), within ``body_limit``."""
        if self._body_size > self.body_limit()[0]:
            raise _too_large(*self.body_limit())
        return b"".join(self._body_chunks)

    def _check_arguments(self) -> None:
        """400 for a query argument the verb does not document, or a NUL in an argument."""
        verb = getattr(type(self), self.request.method.lower(), None)
        documented = getattr(verb, "__flows_doc__", None)
        if documented is None:
            return  # a verb the route does not implement: 405 follows
        query = documented.query
        known = set(query.model_fields) if query is not None else set()
        for key, values in self.request.query_arguments.items():
            if key in _JUPYTER_QUERY_ARGS or key.isdigit():
                continue
            if key not in known:
                takes = ", ".join(sorted(known)) or "none"
                raise _to_http_error(
                    ValueError(f"unknown query argument {key!r} (this route takes: {takes})")
                )
            if any(b"\0" in value for value in values):
                raise _to_http_error(ValueError(f"query argument {key!r} contains a NUL"))
        for name, value in self.path_kwargs.items():
            if "\0" in value:
                raise _to_http_error(ValueError(f"path parameter {name!r} contains a NUL"))

    async def blocking(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``fn(*args, **kwargs)`` on the executor (database work); errors become HTTP errors."""
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(None, functools.partial(fn, *args, **kwargs))
        except Exception as exc:
            raise _to_http_error(database_unavailable(exc) or exc) from exc

    def validate(self, model: type[M], raw: Any, where: str = "request body") -> M:
        """``raw`` parsed as ``model``: a 400 naming the field on bad input."""
        try:
            return model.model_validate(raw)
        except ValidationError as exc:
            raise _to_http_error(exc, where) from exc

    def body(self, model: type[M]) -> M:
        """The JSON request body parsed as ``model`` (an empty body is ``{}``)."""
        if self._body_size > self.body_limit()[0]:
            raise _too_large(*self.body_limit())
        raw: Any = None
        try:
            raw = json.loads(b"".join(self._body_chunks) or b"{}")
        except RecursionError:  # nested far deeper than the limit
            deep: str | None = "the body"
        except ValueError as exc:
            raise _to_http_error(ValueError(f"the request body is not JSON: {exc}")) from exc
        else:
            deep = too_deep(raw)
        if deep is not None:
            message = f"invalid request body: {deep}: nested deeper than {MAX_JSON_DEPTH} levels"
            raise _to_http_error(ValueError(message))
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
