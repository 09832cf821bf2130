"""Work pools' base job templates and job variables (Prefect's ``BaseJobConfiguration``).

A template is ``{"job_configuration": {...}, "variables": {JSON schema}}``: the variables'
schema (with defaults) says what a deployment's and a run's ``job_variables`` may set, and
the job configuration is what the worker reads, with ``{{ name }}`` placeholders filled in
from the effective variables: the template's defaults, then the deployment's, then the
run's. A placeholder that is the whole value takes the variable's value as it is (an object,
a number); inside a longer string, its text.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

__all__ = [
    "POOL_TYPES",
    "default_template",
    "check_template",
    "defaults_of",
    "effective_variables",
    "validate_job_variables",
    "job_configuration",
]

logger = logging.getLogger(__name__)

_ENV = {
    "title": "Environment variables",
    "description": "set in the run's process (the worker's own environment is not passed)",
    "type": "object",
    "additionalProperties": {"type": "string"},
    "default": {},
}
_TIMEOUT = {
    "title": "Timeout (seconds)",
    "description": "a run still going after this long is stopped and ends Failed",
    "anyOf": [{"type": "number", "exclusiveMinimum": 0}, {"type": "null"}],
    "default": None,
}

_PROCESS: dict[str, Any] = {
    "job_configuration": {
        "command": "{{ command }}",
        "env": "{{ env }}",
        "working_dir": "{{ working_dir }}",
        "python": "{{ python }}",
        "stream_output": "{{ stream_output }}",
        "timeout_seconds": "{{ timeout_seconds }}",
    },
    "variables": {
        "type": "object",
        "properties": {
            "command": {
                "title": "Command",
                "description": "what starts the run process, before the run's own arguments "
                "(default: PYTHON -m jupyter_flows.workers.execute_run)",
                "anyOf": [{"type": "string"}, {"type": "null"}],
                "default": None,
            },
            "env": _ENV,
            "working_dir": {
                "title": "Working directory",
                "description": "the run process's directory (default: the worker's root)",
                "anyOf": [{"type": "string"}, {"type": "null"}],
                "default": None,
            },
            "python": {
                "title": "Python interpreter",
                "description": "the interpreter of the run process (default: the worker's)",
                "anyOf": [{"type": "string"}, {"type": "null"}],
                "default": None,
            },
            "stream_output": {
                "title": "Stream output",
                "description": "record what the run process prints as the run's logs",
                "type": "boolean",
                "default": True,
            },
            "timeout_seconds": _TIMEOUT,
        },
    },
}

_DASK: dict[str, Any] = {
    "job_configuration": {
        "address": "{{ address }}",
        "resources": "{{ resources }}",
        "retries": "{{ retries }}",
        "env": "{{ env }}",
        "timeout_seconds": "{{ timeout_seconds }}",
    },
    "variables": {
        "type": "object",
        "properties": {
            "address": {
                "title": "Scheduler address",
                "description": "the dask.distributed scheduler, e.g. tcp://10.0.0.5:8786 "
                "(default: the worker's --address)",
                "anyOf": [{"type": "string"}, {"type": "null"}],
                "default": None,
            },
            "resources": {
                "title": "Dask resources",
                "description": 'worker resources the run\'s task needs, e.g. {"GPU": 1}',
                "type": "object",
                "additionalProperties": {"type": "number", "minimum": 0},
                "default": {},
            },
            "retries": {
                "title": "Retries",
                "description": "times Dask runs the run again when its Dask worker dies",
                "type": "integer",
                "minimum": 0,
                "default": 0,
            },
            "env": _ENV,
            "timeout_seconds": _TIMEOUT,
        },
    },
}

#: the types of work pool and their default base job templates
POOL_TYPES: dict[str, dict[str, Any]] = {"process": _PROCESS, "dask": _DASK}
_WHOLE = re.compile(r"^\{\{\s*([A-Za-z_][\w-]*)\s*\}\}$")
_INSIDE = re.compile(r"\{\{\s*([A-Za-z_][\w-]*)\s*\}\}")


def default_template(pool_type: str) -> dict[str, Any]:
    """The base job template a new pool of ``pool_type`` gets (``{}`` for other types)."""
    return copy.deepcopy(POOL_TYPES.get(pool_type, {}))


def check_template(template: dict[str, Any]) -> dict[str, Any]:
    """``template`` if it has Prefect's shape and its variables are a JSON schema of an
    object; else a ``ValueError`` naming what is wrong."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    if not template:
        return {}
    unknown = sorted(set(template) - {"job_configuration", "variables"})
    if unknown:
        raise ValueError(f"base_job_template: unknown key {unknown[0]!r}")
    if not isinstance(template.get("job_configuration", {}), dict):
        raise ValueError("base_job_template.job_configuration: must be an object")
    variables = template.get("variables", {})
    if not isinstance(variables, dict):
        raise ValueError("base_job_template.variables: must be a JSON schema object")
    try:
        Draft202012Validator.check_schema(variables)
    except SchemaError as exc:
        raise ValueError(f"base_job_template.variables: {exc.message}") from None
    if variables.get("type", "object") != "object":
        raise ValueError("base_job_template.variables: must describe an object")
    return template


def defaults_of(template: dict[str, Any]) -> dict[str, Any]:
    """The defaults the template's variables declare."""
    properties = (template.get("variables") or {}).get("properties") or {}
    return {k: copy.deepcopy(p["default"]) for k, p in properties.items() if "default" in p}


def validate_job_variables(
    template: dict[str, Any], values: dict[str, Any], where: str = "job_variables"
) -> dict[str, Any]:
    """``values`` if the template's variables schema takes them (each alone: the others may
    come from elsewhere); else a ``ValueError`` naming the field."""
    from jsonschema import Draft202012Validator

    schema = template.get("variables") or {}
    properties = schema.get("properties") or {}
    for name in sorted(values):
        if name not in properties:
            known = ", ".join(sorted(properties)) or "none"
            raise ValueError(f"{where}.{name}: unknown job variable (this pool takes: {known})")
    subset = {
        "type": "object",
        "properties": {k: properties[k] for k in values},
        **{k: schema[k] for k in ("$defs", "definitions") if k in schema},
    }
    for error in sorted(Draft202012Validator(subset).iter_errors(values), key=str):
        field = ".".join(str(p) for p in error.absolute_path)
        raise ValueError(f"{where}.{field}: {error.message}")
    return dict(values)


def effective_variables(template: dict[str, Any], *layers: dict[str, Any] | None) -> dict[str, Any]:
    """The template's defaults, overridden by each layer in turn (deployment, then run)."""
    merged = defaults_of(template)
    for layer in layers:
        merged.update(layer or {})
    return merged


def job_configuration(template: dict[str, Any], variables: dict[str, Any]) -> dict[str, Any]:
    """The template's job configuration with its ``{{ name }}`` placeholders filled in."""

    def fill(value: Any) -> Any:
        if isinstance(value, str):
            whole = _WHOLE.match(value)
            if whole:
                return copy.deepcopy(variables.get(whole.group(1)))
            return _INSIDE.sub(lambda m: str(variables.get(m.group(1), "")), value)
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fill(v) for v in value]
        return value

    return fill(template.get("job_configuration") or {})  # type: ignore[no-any-return]
