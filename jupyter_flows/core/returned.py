"""The state a run ends in, given what its function returned (Prefect's rules).

- a State made by the user (``Failed(message=...)``, ``Completed(name="Skipped")``) is the
  run's final state, as given;
- a state or future of another run, or a list/tuple/set of them, gives the aggregate:
  Completed if all completed, else Cancelled, Paused or Failed ("2/5 states failed.");
- a generator is consumed into a list;
- anything else is the result of a Completed state.
"""

from __future__ import annotations

from types import GeneratorType
from typing import Any

from .annotations import BaseAnnotation
from .futures import TaskFuture
from .states import State, StateType, _state

__all__ = ["returned_state", "resolve_to_states"]


def resolve_to_states(value: Any) -> Any:
    """Futures (also in a returned list, tuple or set) replaced by their final states."""
    if isinstance(value, TaskFuture):
        return value.wait() or value.state
    if type(value) in (list, tuple, set) or isinstance(value, list):
        if any(isinstance(v, TaskFuture) for v in value):
            items = [resolve_to_states(v) for v in value]
            return type(value)(items) if type(value) in (tuple, set) else items
    return value


def _is_states(value: Any) -> bool:
    if isinstance(value, BaseAnnotation):  # quote(states): returned as a value
        return False
    return (
        isinstance(value, list | tuple | set)
        and bool(value)
        and all(isinstance(v, State) for v in value)
    )


def _aggregate(states: list[State], completed_data: Any) -> State:
    total = len(states)
    counts: dict[StateType, int] = {}
    for s in states:
        counts[s.type] = counts.get(s.type, 0) + 1
    failed = counts.get(StateType.FAILED, 0) + counts.get(StateType.CRASHED, 0)
    if counts.get(StateType.COMPLETED, 0) == total:
        return _state(StateType.COMPLETED, "Completed", "All states completed.", completed_data)
    if counts.get(StateType.CANCELLED):
        kind, message = (
            StateType.CANCELLED,
            f"{counts[StateType.CANCELLED]}/{total} states cancelled.",
        )
    elif counts.get(StateType.PAUSED):
        kind, message = StateType.PAUSED, f"{counts[StateType.PAUSED]}/{total} states paused."
    elif failed:
        kind, message = StateType.FAILED, f"{failed}/{total} states failed."
    else:
        not_final = sum(not s.is_final() for s in states)
        kind, message = StateType.FAILED, f"{not_final}/{total} states are not final."
    first_bad = next((s for s in states if not s.is_completed()), None)
    data = first_bad.data if first_bad is not None else None
    return _state(kind, kind.value.capitalize(), message, data)


def returned_state(value: Any) -> tuple[State, bool]:
    """``(final state, whether the function returned states)`` for a return value."""
    if isinstance(value, State) and value.run_id is None:
        return value, True
    resolved = resolve_to_states(value)
    from_futures = resolved is not value  # returned futures give their results
    if isinstance(resolved, State):
        return _aggregate([resolved], resolved.data if from_futures else value), True
    if _is_states(resolved):
        data = [s.data for s in resolved] if from_futures else value
        return _aggregate(list(resolved), data), True
    value = resolved
    if isinstance(value, GeneratorType):
        value = list(value)
    return _state(StateType.COMPLETED, "Completed", None, value), False
