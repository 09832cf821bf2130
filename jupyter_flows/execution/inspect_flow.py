"""A Python entrypoint's flow, read without running user code in the server.

``resolve`` checks the entrypoint's shape and where its code lives, statically: a
``path/file.py:flow`` under the server's root, or a ``package.module:flow`` whose package is
under the root or one the operator allows (``FlowsApp.allowed_entrypoint_packages``); never
the standard library. ``inspect`` then imports it in a subprocess with limits (time,
memory, no credentials) that prints the flow's name and parameter schema; the answer is
cached while the file is unchanged.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.run_environment import RunEnvironment
from ..exceptions import FlowDefinitionError

__all__ = ["FlowSpec", "resolve", "inspect", "names_stdlib", "main", "INSPECT_TIMEOUT"]

#: seconds an entrypoint's import may take in the inspecting subprocess
INSPECT_TIMEOUT = 30.0
_MEMORY_BYTES = 2 * 1024**3
_NEVER = frozenset({"builtins", "__main__", "__future__"})


@dataclass(frozen=True)
class FlowSpec:
    """What the server needs of a flow: its name and its parameters' JSON schema."""

    name: str
    parameter_schema: dict[str, Any]


def resolve(entrypoint: str, root_dir: Path, allowed_packages: Iterable[str] = ()) -> Path | None:
    """The entrypoint's file if it is under ``root_dir`` (``None``: an allowed installed
    package); ``FlowDefinitionError`` naming the problem otherwise. Imports nothing."""
    module_part, sep, attr = entrypoint.rpartition(":")
    if not sep or not module_part or not attr.isidentifier():
        raise FlowDefinitionError(
            f"entrypoint {entrypoint!r} must look like 'path/file.py:flow' or 'package.module:flow'"
        )
    root = Path(root_dir).resolve()
    if module_part.endswith(".py"):
        path = (root / module_part).resolve()
        if root not in path.parents:
            raise FlowDefinitionError(f"entrypoint file {module_part!r} is outside the server root")
        if not path.is_file():
            raise FlowDefinitionError(f"entrypoint file {module_part!r} not found")
        return path
    parts = module_part.split(".")
    if not all(p.isidentifier() for p in parts):
        raise FlowDefinitionError(f"entrypoint module {module_part!r} is not a module name")
    top = parts[0]
    if names_stdlib(entrypoint):
        raise FlowDefinitionError(
            f"entrypoint {entrypoint!r} names the standard library: a deployment runs your code"
        )
    for candidate in (
        root.joinpath(*parts).with_suffix(".py"),
        root.joinpath(*parts, "__init__.py"),
    ):
        if candidate.is_file():
            return candidate.resolve()
    if top in set(allowed_packages):
        return None
    raise FlowDefinitionError(
        f"entrypoint module {module_part!r} is not under the server root, and {top!r} is not "
        "a package the operator allows (FlowsApp.allowed_entrypoint_packages)"
    )


def names_stdlib(entrypoint: str) -> bool:
    """``os:system``, ``builtins:exec``...: a module of the standard library (or none)."""
    module_part = entrypoint.rpartition(":")[0]
    if module_part.endswith(".py"):
        return False
    top = module_part.split(".")[0]
    return top in _NEVER or top in sys.stdlib_module_names


_cache: dict[tuple[str, str, int, int], FlowSpec] = {}
_cache_lock = threading.Lock()


def inspect(
    entrypoint: str,
    root_dir: Path,
    allowed_packages: Iterable[str] = (),
    timeout: float = INSPECT_TIMEOUT,
) -> FlowSpec:
    """The flow of a Python entrypoint, read in a subprocess (cached while unchanged)."""
    path = resolve(entrypoint, root_dir, allowed_packages)
    stat = path.stat() if path is not None else None
    key = (entrypoint, str(Path(root_dir).resolve()), stat.st_mtime_ns if stat else 0,
           stat.st_size if stat else 0)  # fmt: skip
    with _cache_lock:
        found = _cache.get(key)
    if found is not None and path is not None:
        return found
    spec = _inspect_in_subprocess(entrypoint, Path(root_dir), timeout)
    with _cache_lock:
        if len(_cache) > 1000:
            _cache.clear()
        _cache[key] = spec
    return spec


def _limit_memory() -> None:
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (_MEMORY_BYTES, _MEMORY_BYTES))
    except (ImportError, ValueError, OSError):  # not on this platform: the timeout still holds
        pass


def _inspect_in_subprocess(entrypoint: str, root_dir: Path, timeout: float) -> FlowSpec:
    env = RunEnvironment(record=False).child_env()  # no database, no server token
    command = [sys.executable, "-m", "jupyter_flows.execution.inspect_flow", entrypoint]
    try:
        done = subprocess.run(
            command,
            cwd=str(root_dir),
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            start_new_session=True,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise FlowDefinitionError(
            f"importing entrypoint {entrypoint!r} took longer than {timeout:g} s"
        ) from None
    lines = done.stdout.strip().splitlines()
    try:
        answer = json.loads(lines[-1]) if lines else {}
    except ValueError:
        answer = {}
    if "error" in answer:
        raise FlowDefinitionError(str(answer["error"]))
    if done.returncode != 0 or "name" not in answer:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise FlowDefinitionError(f"cannot import entrypoint {entrypoint!r}: {tail}")
    return FlowSpec(str(answer["name"]), dict(answer["parameter_schema"]))


def main(argv: list[str] | None = None) -> int:
    """Child: print ``{"name", "parameter_schema"}`` (or ``{"error"}``) of the entrypoint."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m jupyter_flows.execution.inspect_flow ENTRYPOINT", file=sys.stderr)
        return 2
    _limit_memory()
    from .entrypoints import load_flow

    sys.path.insert(0, os.getcwd())
    try:
        flow = load_flow(args[0], Path.cwd())
        answer = {"name": flow.name, "parameter_schema": flow.parameters.json_schema()}
    except FlowDefinitionError as exc:
        answer = {"error": str(exc)}
    except Exception as exc:  # noqa: BLE001 - any failure of the user's code is the answer
        answer = {"error": f"cannot read the flow of {args[0]!r}: {type(exc).__name__}: {exc}"}
    sys.stdout.write("\n" + json.dumps(answer, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
