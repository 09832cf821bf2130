"""A ``%%task`` cell as a task: compile once, run in the user namespace, roll back on failure."""

from __future__ import annotations

import ast
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..core.caching import NONE
from ..core.dataflow import CellNames, analyze_cell
from ..core.hashing import function_fingerprint, hash_objects, stable_hash
from ..core.tasks import Task

__all__ = ["TaskCell", "CellOutputs", "MISSING"]

logger = logging.getLogger(__name__)
MISSING = object()


@dataclass
class CellOutputs:
    """What a cell run produced: the names it bound and its last expression's value."""

    names: dict[str, Any]
    deleted: list[str]
    value: Any = None


@dataclass
class TaskCell:
    """One ``%%task`` cell: its source, names, compiled code and options."""

    name: str
    source: str
    options: dict[str, Any]
    cell_id: str | None = None
    names: CellNames = field(init=False)
    source_hash: str = field(init=False)
    explicit_name: bool = False
    attempts: int = 0
    snapshot: dict[str, Any] = field(default_factory=dict)

    def restore(self, ns: dict[str, Any]) -> None:
        """Undo the bindings of the last attempt (a timed-out attempt may still be running)."""
        for n, old in self.snapshot.items():
            if old is MISSING:
                ns.pop(n, None)
            else:
                ns[n] = old

    def __post_init__(self) -> None:
        self.names = analyze_cell(self.source)
        self.source_hash = stable_hash(self.source)

    def input_fingerprint(self, ns: dict[str, Any]) -> str | None:
        """Hash of the values of the names the cell reads (None if one can't be hashed)."""
        parts = [self.source_hash]
        for name in sorted(self.names.reads):
            value = ns.get(name, MISSING)
            if value is MISSING:
                continue
            if callable(value) and hasattr(value, "__code__"):
                digest: str | None = function_fingerprint(value)
            elif type(value).__name__ == "module":
                digest = "module:" + getattr(value, "__name__", "?")
            else:
                digest = hash_objects(value)
            if digest is None:
                return None
            parts.append(f"{name}={digest}")
        return stable_hash(*parts)

    def compile(self, compiler: Callable[..., Any], filename: str) -> tuple[Any, Any]:
        """Code for all statements but a trailing expression, and code for that expression."""
        module = ast.parse(self.source, filename=filename)
        last = None
        if module.body and isinstance(module.body[-1], ast.Expr):
            last = ast.Expression(module.body[-1].value)
            module.body.pop()
        body = compiler(module, filename, "exec")
        expr = compiler(last, filename, "eval") if last is not None else None
        return body, expr

    def make_task(self, ns: dict[str, Any], body: Any, expr: Any) -> Task[..., CellOutputs]:
        """A ``Task`` whose function runs the cell in ``ns`` and undoes its bindings on failure."""
        touched = sorted(self.names.defines | self.names.deletes)
        cell = self
        keep = bool(self.options.get("artifacts"))

        def run_cell() -> CellOutputs:
            __tracebackhide__ = True  # noqa: F841 - IPython hides this frame
            cell.attempts += 1
            before = {n: ns.get(n, MISSING) for n in touched}
            cell.snapshot = before
            try:  # what it prints reaches the run's logs as it prints (see cell_output)
                if keep:
                    value = _run_keeping_outputs(cell.name, body, expr, ns)
                else:
                    exec(body, ns)  # noqa: S102 - running the user's own cell is the point
                    value = eval(expr, ns) if expr is not None else None  # noqa: S307
            except BaseException:
                for n, old in before.items():
                    if old is MISSING:
                        ns.pop(n, None)
                    else:
                        ns[n] = old
                raise
            names = {n: ns[n] for n in cell.names.defines if n in ns}
            deleted = [n for n in cell.names.deletes if n not in ns]
            return CellOutputs(names, deleted, value)

        run_cell.__name__ = self.name
        run_cell.__qualname__ = self.name
        run_cell.__doc__ = self.source
        opts = self.options
        key = None
        if opts.get("cache"):
            key = self.input_fingerprint(ns)
            if key is None:
                logger.warning("task %r reads a value that can't be hashed: not caching", self.name)
        return Task(
            run_cell,
            name=self.name,
            description=self.source,
            tags=opts.get("tags") or (),
            retries=opts.get("retries") or 0,
            retry_delay_seconds=opts.get("retry_delay") or 0,
            timeout_seconds=opts.get("timeout"),
            cache_key_fn=(lambda _ctx, _inputs: key) if key is not None else None,
            cache_expiration=opts.get("cache_expiration"),
            persist_result=True if opts.get("persist") else None,
            # --persist alone keeps the outputs without caching them: every cell runs the
            # same function, so Prefect's DEFAULT policy would give all cells one key
            cache_policy=NONE if opts.get("persist") and key is None else None,
        )


def _run_keeping_outputs(name: str, body: Any, expr: Any, ns: dict[str, Any]) -> Any:
    """Run the cell, then keep its result, figures and shown images as artifacts."""
    from IPython import get_ipython

    from .cell_artifacts import keep_outputs, kept_displays, open_figures

    figures = open_figures()
    with kept_displays(get_ipython()) as shown:
        exec(body, ns)  # noqa: S102
        value = eval(expr, ns) if expr is not None else None  # noqa: S307
    keep_outputs(name, value, figures, shown)
    return value


def jsonable_scalars(ns: dict[str, Any], names: set[str] | frozenset[str]) -> dict[str, Any]:
    """The JSON-able scalar values among ``names`` (notebook parameters)."""
    out: dict[str, Any] = {}
    for name in sorted(names):
        value = ns.get(name, MISSING)
        if isinstance(value, bool | int | float | str) or value is None:
            out[name] = value
        elif isinstance(value, list | dict):
            try:
                json.dumps(value)
            except (TypeError, ValueError):
                continue
            out[name] = value
    return out
