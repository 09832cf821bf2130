"""Checks and views of deployments: entrypoints, parameters, schedules, next runs."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from ..exceptions import FlowDefinitionError, ParameterValidationError
from ..execution.entrypoints import (
    is_notebook,
    notebook_parameters,
    validate_notebook_parameters,
)
from ..execution.inspect_flow import inspect
from .schemas import DescribeDeployment, ScheduleSpec

__all__ = ["check", "check_schedules", "describe", "upcoming", "flow_name", "notebook_path"]


def notebook_path(entrypoint: str, root_dir: Path) -> Path:
    path = (root_dir / entrypoint).resolve()
    if root_dir.resolve() not in path.parents:
        raise FlowDefinitionError(f"notebook {entrypoint!r} is outside the server root")
    return path


def check(
    entrypoint: str,
    parameters: dict[str, Any],
    root_dir: Path,
    allowed_packages: Iterable[str] = (),
    schema: dict[str, Any] | None = None,
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """``(kind, validated parameters, parameter JSON schema)``, or a clear error.

    A Python flow's schema is read in a subprocess (``execution.inspect_flow``: no user code
    runs here), unless the deployment's stored ``schema`` is given.
    """
    if is_notebook(entrypoint):
        declared = notebook_parameters(notebook_path(entrypoint, root_dir))
        values = validate_notebook_parameters(declared, parameters)
        json_types = {
            "int": "integer",
            "float": "number",
            "str": "string",
            "bool": "boolean",
            "list": "array",
            "dict": "object",
        }
        schema = {
            "type": "object",
            "properties": {
                p["name"]: {
                    "default": p["default"],
                    **({"type": json_types[p["type"]]} if p["type"] in json_types else {}),
                }
                for p in declared
            },
        }
        return "notebook", values, schema
    if schema is None:
        schema = inspect(entrypoint, root_dir, allowed_packages).parameter_schema
    name = entrypoint.rpartition(":")[2]
    properties = schema.get("properties") or {}
    unknown = sorted(set(parameters) - set(properties))
    if unknown:
        raise ParameterValidationError(
            f"flow {name!r}", [f"unknown parameter {n!r}" for n in unknown]
        )
    return "python", _validate_given(name, schema, parameters), schema


def _validate_given(
    name: str, schema: dict[str, Any], parameters: dict[str, Any]
) -> dict[str, Any]:
    """Check the given parameters against the flow's schema (the rest may come with each
    run), as Prefect's server does with a deployment's parameter schema."""
    from jsonschema import Draft202012Validator

    properties = schema.get("properties") or {}
    parameters = {k: _lax(properties.get(k) or {}, v) for k, v in parameters.items()}
    subset: dict[str, Any] = {
        "type": "object",
        "properties": {k: properties[k] for k in parameters},
        **{k: schema[k] for k in ("$defs", "definitions") if k in schema},
    }
    errors = []
    for error in sorted(Draft202012Validator(subset).iter_errors(parameters), key=str):
        field = ".".join(str(p) for p in error.absolute_path) or "parameters"
        errors.append(f"{field}: {error.message}")
    if errors:
        raise ParameterValidationError(f"flow {name!r}", errors)
    return dict(parameters)


def _lax(prop: dict[str, Any], value: Any) -> Any:
    """A string given for a number or boolean parameter, as that (``--param n=5`` style),
    like the flow's own (pydantic, lax) validation would take it."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    kinds = {prop.get("type")} | {a.get("type") for a in prop.get("anyOf") or []}
    try:
        if "integer" in kinds and text.lstrip("+-").isdigit():
            return int(text)
        if "number" in kinds and math.isfinite(float(text)):
            return float(text)
    except ValueError:
        return value
    if "boolean" in kinds and text.lower() in ("true", "false"):
        return text.lower() == "true"
    return value


def check_schedules(schedules: list[ScheduleSpec]) -> None:
    """``ScheduleError`` naming the field at fault (``schedules.0.cron: invalid cron ...``)."""
    from ..exceptions import ScheduleError
    from ..scheduling.triggers import validate_schedule

    for i, spec in enumerate(schedules):
        try:
            validate_schedule(spec)
        except ScheduleError as exc:
            text = str(exc)
            field = "timezone" if text.startswith("unknown timezone") else _kind(spec)
            raise ScheduleError(f"schedules.{i}.{field}: {text}") from None


def _kind(spec: ScheduleSpec) -> str:
    for field in ("cron", "rrule", "interval_seconds"):
        if getattr(spec, field) is not None:
            return field
    return "date"


def flow_name(row: Any) -> str:
    entrypoint: str = row["entrypoint"]
    if is_notebook(entrypoint):
        return Path(entrypoint).stem
    return entrypoint.rpartition(":")[2]


def upcoming(deployment: DescribeDeployment, n: int) -> list[datetime]:
    from ..scheduling.triggers import next_times

    times = sorted(t for spec in deployment.schedules if spec.active for t in next_times(spec, n))
    return times[:n]


def describe(row: Any) -> DescribeDeployment:
    data = dict(row)
    deployment = DescribeDeployment.model_validate(data)
    if not deployment.paused:
        nxt = upcoming(deployment, 1)
        deployment.next_run_time = nxt[0] if nxt else None
    return deployment
