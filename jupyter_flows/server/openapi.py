"""The OpenAPI 3.1 document, generated from the pydantic models so it cannot drift."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from .._version import __version__

__all__ = ["Operation", "openapi_document"]

REF = "#/components/schemas/{model}"


@dataclass(frozen=True)
class Operation:
    """One documented route: its path (OpenAPI style), method and models."""

    path: str
    method: str
    summary: str
    response: type[BaseModel] | dict[str, Any] | None = None
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    status: int = 200
    action: str = "read"


def _schema(model: type[BaseModel] | dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    if isinstance(model, dict):
        return model
    schema = model.model_json_schema(ref_template=REF)
    for name, definition in schema.pop("$defs", {}).items():
        components[name] = definition
    components[model.__name__] = schema
    return {"$ref": REF.format(model=model.__name__)}


def _parameters(path: str, query: type[BaseModel] | None) -> list[dict[str, Any]]:
    params = [
        {"name": part[1:-1], "in": "path", "required": True, "schema": {"type": "string"}}
        for part in path.split("/")
        if part.startswith("{")
    ]
    if query is not None:
        schema = query.model_json_schema(ref_template=REF)
        for name, prop in schema.get("properties", {}).items():
            params.append({"name": name, "in": "query", "required": False, "schema": prop})
    return params


def openapi_document(operations: list[Operation], base: str) -> dict[str, Any]:
    """The OpenAPI document of ``operations`` served under ``base``."""
    components: dict[str, Any] = {}
    paths: dict[str, Any] = {}
    error = {
        "description": "error",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {"message": {"type": "string"}, "reason": {"type": "string"}},
                }
            }
        },
    }
    for op in operations:
        entry: dict[str, Any] = {
            "summary": op.summary,
            "x-jupyter-flows-action": op.action,
            "parameters": _parameters(op.path, op.query),
            "responses": {
                "400": error,
                "403": error,
                "404": error,
                "409": error,
            },
        }
        if op.body is not None:
            entry["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": _schema(op.body, components)}},
            }
        if op.response is None:
            entry["responses"][str(op.status)] = {"description": "no content"}
        else:
            entry["responses"][str(op.status)] = {
                "description": "ok",
                "content": {"application/json": {"schema": _schema(op.response, components)}},
            }
        paths.setdefault(f"{base}/{op.path}", {})[op.method.lower()] = entry
    return {
        "openapi": "3.1.0",
        "info": {"title": "jupyter-flows", "version": __version__},
        "components": {
            "schemas": components,
            "securitySchemes": {
                "token": {"type": "apiKey", "in": "header", "name": "Authorization"}
            },
        },
        "security": [{"token": []}],
        "paths": paths,
    }
