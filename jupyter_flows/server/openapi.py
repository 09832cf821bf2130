"""The OpenAPI 3.1 document, generated from the route table and the pydantic models.

Every handler verb carries a ``@doc(...)`` naming its models; ``openapi_document`` walks the
route table the server registers, so a route cannot exist without its documentation (building
the document fails), and the schemas are the models' own ``model_json_schema``. The state
groups of ``core.state_policy`` ride along as ``x-state-groups``.

``python -m jupyter_flows.server.openapi`` prints the served document without a server (the
side panel's ``jlpm gen:api`` generates its TypeScript types and state groups from it).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from jupyter_server.auth.utils import HTTP_METHOD_TO_AUTH_ACTION
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from tornado.web import RequestHandler

from .._version import __version__
from ..core.state_policy import state_groups
from .schemas import ErrorReply

__all__ = ["Doc", "doc", "url_pattern", "documented_operations", "openapi_document", "main"]

REF = "#/components/schemas/{model}"
METHODS = ("get", "post", "put", "patch", "delete")
ERROR_CODES = ("400", "403", "404", "409", "413", "503")
_PARAM = re.compile(r"\{(\w+)\}")

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Doc:
    """What one handler verb takes and returns.

    ``response=None`` with status 204 is "no content"; otherwise a free-form JSON object, or a
    file of the ``content`` media types (a report, a notebook). ``action=None`` is
    Jupyter's default for the verb (``read`` for GET, ``write`` otherwise); it must match
    what ``@authorized`` enforces.
    """

    summary: str
    response: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    status: int = 200
    action: str | None = None
    content: tuple[str, ...] = ("application/json",)
    #: other success statuses with the same reply (``PUT``: 201 created, 200 replaced)
    other_statuses: tuple[int, ...] = ()
    #: the media type of a request body that is a file, not a model (a bundle, a notebook)
    raw_body: str | None = None


def doc(
    summary: str,
    response: type[BaseModel] | None = None,
    *,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    status: int = 200,
    action: str | None = None,
    content: tuple[str, ...] = ("application/json",),
    other_statuses: tuple[int, ...] = (),
    raw_body: str | None = None,
) -> Callable[[F], F]:
    """Document a handler verb (its models feed the OpenAPI document)."""

    def mark(fn: F) -> F:
        fn.__flows_doc__ = Doc(  # type: ignore[attr-defined]
            summary, response, body, query, status, action, content, other_statuses, raw_body
        )
        return fn

    return mark


def url_pattern(route: str) -> str:
    """``flow_runs/{flow_run_id}`` -> the tornado regex ``flow_runs/(?P<flow_run_id>[^/]+)``."""
    return _PARAM.sub(lambda m: f"(?P<{m.group(1)}>[^/]+)", route)


def documented_operations(
    routes: Sequence[tuple[str, type[RequestHandler]]],
) -> list[tuple[str, str, str, Doc]]:
    """``(route, method, action, doc)`` of every verb the handlers implement.

    Raises ``TypeError`` for an implemented verb without ``@doc``.
    """
    out = []
    for route, handler in routes:
        for method in METHODS:
            fn = getattr(handler, method)
            if fn is getattr(RequestHandler, method):
                continue
            found = getattr(fn, "__flows_doc__", None)
            if not isinstance(found, Doc):
                raise TypeError(f"{handler.__name__}.{method} has no @doc")
            action = found.action or HTTP_METHOD_TO_AUTH_ACTION[method.upper()]
            out.append((route, method, action, found))
    return out


def _content(doc_: Doc, key_map: dict[Any, Any]) -> dict[str, Any] | None:
    if doc_.response is not None:
        return {"application/json": {"schema": key_map[(doc_.response, "validation")]}}
    if doc_.status == 204:
        return None
    # a file download (report, notebook): OpenAPI 3.1 describes it by its media type alone
    return {
        kind: {"schema": {"type": "object"}} if kind == "application/json" else {}
        for kind in doc_.content
    }


def _not_null(prop: dict[str, Any]) -> dict[str, Any]:
    """``X | None`` -> ``X``: a query argument is absent or a value, never JSON null."""
    branches = prop.get("anyOf", [])
    kept = [b for b in branches if b != {"type": "null"}]
    if len(branches) != 2 or len(kept) != 1:
        return prop
    out = {k: v for k, v in prop.items() if k not in ("anyOf", "default")}
    out.update(kept[0])
    if prop.get("default") is not None:
        out["default"] = prop["default"]
    return out


def _parameters(
    route: str, query: type[BaseModel] | None, components: dict[str, Any], key_map: Any
) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _PARAM.findall(route)
    ]
    if query is not None:
        schema = components[key_map[(query, "validation")]["$ref"].rsplit("/", 1)[-1]]
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            prop = _not_null(prop)
            param = {"name": name, "in": "query", "required": name in required, "schema": prop}
            if prop.get("type") == "array":
                param.update(style="form", explode=False)  # tags=a,b
            params.append(param)
    return params


def openapi_document(
    routes: Sequence[tuple[str, type[RequestHandler]]], base: str
) -> dict[str, Any]:
    """The OpenAPI document of ``routes`` (paths relative to ``base``)."""
    operations = documented_operations(routes)
    models: set[type[BaseModel]] = {ErrorReply}
    for _route, _method, _action, d in operations:
        models.update(m for m in (d.response, d.body, d.query) if m is not None)
    ordered = sorted(models, key=lambda m: m.__name__)
    key_map, defs = models_json_schema([(m, "validation") for m in ordered], ref_template=REF)
    components: dict[str, Any] = defs.get("$defs", {})
    error = {
        "description": "error",
        "content": {"application/json": {"schema": key_map[(ErrorReply, "validation")]}},
    }
    paths: dict[str, Any] = {}
    for route, method, action, d in operations:
        success: dict[str, Any] = {"description": d.summary}
        content = _content(d, key_map)
        if content is not None:
            success["content"] = content
        entry: dict[str, Any] = {
            "summary": d.summary,
            "operationId": f"{method}_{route.replace('/', '_').replace('{', '').replace('}', '')}",
            "x-jupyter-flows-action": action,
            "parameters": _parameters(route, d.query, components, key_map),
            "responses": {
                **{str(code): success for code in (d.status, *d.other_statuses)},
                **{code: error for code in ERROR_CODES},
            },
        }
        if d.body is not None:
            entry["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": key_map[(d.body, "validation")]}},
            }
        if d.raw_body is not None:
            entry["requestBody"] = {"required": True, "content": {d.raw_body: {}}}
        paths.setdefault(f"{base}/{route}", {})[method] = entry
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "jupyter-flows",
            "version": __version__,
            "description": "Runs, deployments, work pools and workers of jupyter-flows.",
        },
        "components": {
            "schemas": components,
            "securitySchemes": {
                "token": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "'token <TOKEN>', as for any Jupyter server API",
                }
            },
        },
        "security": [{"token": []}],
        "paths": paths,
        "x-state-groups": state_groups(),
    }


def main() -> None:
    """Print the document the server serves (its route table, no server started)."""
    from .app import API_BASE, ROUTES  # app imports this module

    document = openapi_document(ROUTES, "/" + API_BASE)
    sys.stdout.write(json.dumps(document, indent=2) + "\n")


if __name__ == "__main__":
    # run the imported module's main: the handlers' ``@doc`` marks are its ``Doc``, not __main__'s
    from jupyter_flows.server.openapi import main as _main

    _main()
