"""What a deployment runs: load a ``file.py:flow``/``module:flow``, read a notebook's parameters."""

from __future__ import annotations

import ast
import hashlib
import importlib
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

from ..core.flows import Flow
from ..exceptions import FlowDefinitionError, ParameterValidationError

__all__ = ["load_flow", "notebook_parameters", "validate_notebook_parameters", "is_notebook"]


def is_notebook(entrypoint: str) -> bool:
    return entrypoint.endswith(".ipynb")


def load_flow(entrypoint: str, root_dir: Path) -> Flow[..., Any]:
    """The flow named by ``path/to/file.py:fn`` (relative to ``root_dir``) or ``pkg.mod:fn``."""
    module_part, sep, attr = entrypoint.rpartition(":")
    if not sep or not module_part or not attr:
        raise FlowDefinitionError(
            f"entrypoint {entrypoint!r} must look like 'path/file.py:flow' or 'package.module:flow'"
        )
    try:
        if module_part.endswith(".py"):
            path = (root_dir / module_part).resolve()
            if not path.is_file():
                raise FlowDefinitionError(f"entrypoint file {module_part!r} not found")
            # the same name in every process (``hash`` of a str is not): task keys, and so
            # caching and a retry's reuse of task runs, match across runs of the file
            digest = hashlib.sha256(str(path).encode()).hexdigest()[:16]
            name = f"jupyter_flows_entrypoint_{digest}"
            spec = importlib.util.spec_from_file_location(name, path)
            if spec is None or spec.loader is None:
                raise FlowDefinitionError(f"cannot load {module_part!r}")
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
        else:
            module = importlib.import_module(module_part)
    except FlowDefinitionError:
        raise
    except Exception as exc:  # noqa: BLE001 - the user's module failed to import
        raise FlowDefinitionError(
            f"cannot import {module_part!r}: {type(exc).__name__}: {exc}"
        ) from None
    target = getattr(module, attr, None)
    if target is None:
        raise FlowDefinitionError(f"{module_part!r} has no attribute {attr!r}")
    if isinstance(target, Flow):
        return target
    if callable(target):
        return Flow(target)
    raise FlowDefinitionError(f"{entrypoint!r} is not a flow or a function")


_TYPES = {bool: "bool", int: "int", float: "float", str: "str", list: "list", dict: "dict"}


def notebook_parameters(path: Path) -> list[dict[str, Any]]:
    """Names, types and defaults from the cell tagged ``parameters`` (literal assignments)."""
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
        cells = notebook["cells"]
    except FileNotFoundError:
        raise FlowDefinitionError(f"notebook {path.name!r} not found") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise FlowDefinitionError(f"{path.name!r} is not a valid notebook: {exc}") from None
    out: list[dict[str, Any]] = []
    for cell in cells:
        if cell.get("cell_type") != "code" or "parameters" not in cell.get("metadata", {}).get(
            "tags", []
        ):
            continue
        source = "".join(cell.get("source", ""))
        try:
            tree = ast.parse(source)
        except SyntaxError as exc:
            raise FlowDefinitionError(f"parameters cell of {path.name!r}: {exc}") from None
        for node in tree.body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
                if isinstance(target, ast.Name):
                    try:
                        value = ast.literal_eval(node.value)
                    except ValueError:
                        value = None
                    kind = _TYPES.get(type(value), "any")
                    out.append({"name": target.id, "type": kind, "default": value})
    return out


def _coerce(name: str, kind: str, value: Any) -> Any:
    try:
        if kind == "int" and not isinstance(value, bool):
            if isinstance(value, int):
                return value
            if isinstance(value, str) and value.strip().lstrip("-").isdigit():
                return int(value)
            if isinstance(value, float) and value.is_integer():
                return int(value)
        elif kind == "float" and not isinstance(value, bool):
            return float(value)
        elif kind == "bool":
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in ("true", "false"):
                return value.lower() == "true"
        elif kind == "str" and isinstance(value, str | int | float):
            return str(value)
        elif kind == "list" and isinstance(value, list):
            return value
        elif kind == "dict" and isinstance(value, dict):
            return value
        elif kind == "any":
            return value
    except (TypeError, ValueError):
        pass
    raise ParameterValidationError("notebook", [f"{name}: expected {kind}, got {value!r}"])


def validate_notebook_parameters(
    declared: list[dict[str, Any]], values: dict[str, Any]
) -> dict[str, Any]:
    """Coerce ``values`` to the declared types; unknown names are an error."""
    kinds = {p["name"]: p["type"] for p in declared}
    unknown = sorted(set(values) - set(kinds))
    if unknown:
        raise ParameterValidationError(
            "notebook",
            [
                f"unknown parameter {n!r} (the parameters cell declares {sorted(kinds)})"
                for n in unknown
            ],
        )
    return {name: _coerce(name, kinds[name], value) for name, value in values.items()}
