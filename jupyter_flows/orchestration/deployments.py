"""Checks and views of deployments: entrypoints, parameters, schedules, next runs."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from ..exceptions import FlowDefinitionError, ParameterValidationError
from ..execution.entrypoints import (
    is_notebook,
    load_flow,
    notebook_parameters,
    validate_notebook_parameters,
)
from .schemas import DescribeDeployment, ScheduleSpec

__all__ = ["check", "check_schedules", "describe", "upcoming", "flow_name", "notebook_path"]


def notebook_path(entrypoint: str, root_dir: Path) -> Path:
    path = (root_dir / entrypoint).resolve()
    if root_dir.resolve() not in path.parents:
        raise FlowDefinitionError(f"notebook {entrypoint!r} is outside the server root")
    return path


def check(
    entrypoint: str, parameters: dict[str, Any], root_dir: Path
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """``(kind, validated parameters, parameter JSON schema)``, or a clear error."""
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
    flow = load_flow(entrypoint, root_dir)
    names = set(flow.parameters.signature.parameters)
    unknown = sorted(set(parameters) - names)
    if unknown:
        raise ParameterValidationError(
            f"flow {flow.name!r}", [f"unknown parameter {n!r}" for n in unknown]
        )
    values = _validate_subset(flow, parameters)
    return "python", values, flow.parameters.json_schema()


def _validate_subset(flow: Any, parameters: dict[str, Any]) -> dict[str, Any]:
    """Type-check the given parameters only (the rest may come with each run)."""
    from pydantic import TypeAdapter, ValidationError

    out: dict[str, Any] = {}
    errors = []
    for name, value in parameters.items():
        annotation = flow.parameters.signature.parameters[name].annotation
        if annotation is flow.parameters.signature.empty:
            out[name] = value
            continue
        try:
            out[name] = TypeAdapter(annotation).validate_python(value)
        except ValidationError as exc:
            errors.append(f"{name}: {exc.errors()[0]['msg']} (got {value!r})")
        except Exception:  # noqa: BLE001 - an annotation pydantic can't use
            out[name] = value
    if errors:
        raise ParameterValidationError(f"flow {flow.name!r}", errors)
    return out


def check_schedules(schedules: list[ScheduleSpec]) -> None:
    from ..scheduling.triggers import validate_schedule

    for spec in schedules:
        validate_schedule(spec)


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
