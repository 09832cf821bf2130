"""Task inputs: the upstream runs they come from, and their values once those runs end.

Futures and states are found inside lists, tuples (named too), sets, dicts, dataclasses and
pydantic models, as in Prefect; ``quote``/``opaque`` stop the search. A value produced by a
task of the same flow run (``FlowRunContext.track_result``) also counts as an edge.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .annotations import allow_failure, quote, unmapped
from .futures import TaskFuture
from .records import TaskInput
from .states import State

if TYPE_CHECKING:
    from .context import FlowRunContext

__all__ = ["contents", "visit_inputs", "resolve_inputs", "UpstreamFailed"]

_MAX_VISIT = 1000
_SCALARS = (int, float, str, bool, bytes, type(None))
_SEQUENCES = (list, tuple, set, frozenset)


class UpstreamFailed(Exception):
    """An input's upstream run did not complete."""


def _fields(value: Any) -> dict[str, Any] | None:
    """The fields of a dataclass or pydantic model instance, else None."""
    t = type(value)
    if getattr(t, "__pydantic_fields__", None) is not None and hasattr(value, "__dict__"):
        return dict(value.__dict__)
    if hasattr(t, "__dataclass_fields__") and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    return None


def contents(value: Any) -> Iterable[Any] | None:
    """What the engine looks into for futures: the items of a list, tuple, set or dict (up to
    1,000), the fields of a dataclass or pydantic model; None for anything else."""
    if isinstance(value, _SEQUENCES):
        return value if len(value) <= _MAX_VISIT else None
    if isinstance(value, dict):
        return value.values() if len(value) <= _MAX_VISIT else None
    fields = _fields(value)
    return None if fields is None else fields.values()


def visit_inputs(value: Any, param: str, frc: FlowRunContext | None, out: list[TaskInput]) -> bool:
    """Add an edge for each future, state or tracked result in ``value``.

    True when the value must be resolved before the task gets it (it holds futures, states or
    annotations).
    """
    t = type(value)
    if t is TaskFuture:
        out.append(TaskInput(value.task_run_id, "data", param))
        return True
    if frc is not None:
        owner = frc.result_owner(value)
        if owner is not None:
            out.append(TaskInput(owner, "data", param))
            return False
    if t in _SCALARS:
        return False
    if isinstance(value, quote):
        return True
    if t is unmapped or t is allow_failure:
        visit_inputs(value.value, param, frc, out)
        return True
    if t is State:
        if value.run_id is not None:
            out.append(TaskInput(value.run_id, "data", param))
        return True
    if isinstance(value, TaskFuture):  # a subclass
        out.append(TaskInput(value.task_run_id, "data", param))
        return True
    items = contents(value)
    if items is None:
        return False
    found = False
    for item in items:
        found = visit_inputs(item, param, frc, out) or found
    return found


def _state_value(state: State, allow: bool) -> Any:
    if state.is_completed():
        return state.result()
    if allow:
        return state.result(raise_on_failure=False)
    raise UpstreamFailed(f"upstream run ended {state}")


def resolve_inputs(value: Any, allow: bool = False) -> Any:
    """``value`` with futures and states replaced by their results, annotations unwrapped.

    Raises ``UpstreamFailed`` (or the upstream's exception) for an upstream run that did not
    complete, unless it is wrapped in ``allow_failure``.
    """
    t = type(value)
    if t in _SCALARS:
        return value
    if isinstance(value, TaskFuture):
        state = value.wait()
        if state is None:
            raise UpstreamFailed(f"upstream task run {value.task_name!r} did not finish")
        return _state_value(state, allow)
    if isinstance(value, quote):
        return value.value
    if t is unmapped:
        return resolve_inputs(value.value, allow)
    if t is allow_failure:
        return resolve_inputs(value.value, True)
    if t is State:
        return _state_value(value, allow)
    if t in _SEQUENCES and len(value) <= _MAX_VISIT:
        return t(resolve_inputs(v, allow) for v in value)
    if isinstance(value, list) and len(value) <= _MAX_VISIT:  # e.g. a PrefectFutureList
        return [resolve_inputs(v, allow) for v in value]
    if isinstance(value, tuple) and hasattr(value, "_fields") and len(value) <= _MAX_VISIT:
        return t(*(resolve_inputs(v, allow) for v in value))
    if t is dict and len(value) <= _MAX_VISIT:
        return {k: resolve_inputs(v, allow) for k, v in value.items()}
    fields = _fields(value)
    if fields is None:
        return value
    changed = {}
    for name, item in fields.items():
        resolved = resolve_inputs(item, allow)
        if resolved is not item:
            changed[name] = resolved
    if not changed:
        return value
    if hasattr(value, "model_copy"):
        return value.model_copy(update=changed)
    new = copy.copy(value)
    for name, item in changed.items():
        object.__setattr__(new, name, item)
    return new
