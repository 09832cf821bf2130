"""What a ``RunRecorder`` is told, as JSON: for recording into a server over HTTP.

``encode(op, *args)`` turns one recorder call into a JSON-able dict; ``replay(items,
recorder)`` makes the same calls on another recorder (the server's). A state's ``data``
(the result or the exception) is never sent: results live in result storage.
"""

from __future__ import annotations

from dataclasses import asdict, fields
from datetime import datetime
from typing import Any

from .records import (
    ArtifactInfo,
    FlowRunInfo,
    LogInfo,
    ResultInfo,
    RunRecorder,
    TaskInput,
    TaskRunInfo,
)
from .states import State, StateType

__all__ = ["encode", "replay", "OPS"]

OPS = (
    "flow_run_created",
    "task_run_created",
    "set_state",
    "log",
    "result_stored",
    "artifact_saved",
)
_INFOS: dict[str, type[Any]] = {
    "flow_run_created": FlowRunInfo,
    "task_run_created": TaskRunInfo,
    "log": LogInfo,
    "result_stored": ResultInfo,
    "artifact_saved": ArtifactInfo,
}


def _json(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    return value


def encode(op: str, *args: Any) -> dict[str, Any]:
    """One recorder call (``op`` and its arguments) as a JSON-able dict."""
    if op == "set_state":
        kind, run_id, state, run_count = args
        return {
            "op": op,
            "kind": kind,
            "run_id": run_id,
            "run_count": run_count,
            "state": {
                "type": state.type.value,
                "name": state.name,
                "timestamp": _json(state.timestamp),
                "message": state.message,
                "scheduled_time": _json(state.scheduled_time),
            },
        }
    if op not in _INFOS:
        raise ValueError(f"unknown recorder call {op!r}")
    return {"op": op, "info": _json(asdict(args[0]))}


def _time(value: Any, where: str) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: not an ISO 8601 time: {value!r}") from None


def _info(cls: type[Any], raw: Any, where: str) -> Any:
    if not isinstance(raw, dict):
        raise ValueError(f"{where}.info: expected an object")
    names = {f.name for f in fields(cls)}
    unknown = set(raw) - names
    if unknown:
        raise ValueError(f"{where}.info: unknown fields {sorted(unknown)}")
    values = dict(raw)
    for key in ("created", "timestamp", "expires", "updated"):
        if key in values:
            values[key] = _time(values[key], f"{where}.info.{key}")
    if cls is TaskRunInfo:
        values["inputs"] = [TaskInput(**i) for i in values.get("inputs") or []]
    try:
        return cls(**values)
    except TypeError as exc:
        raise ValueError(f"{where}.info: {exc}") from None


def _decode(item: Any, where: str) -> tuple[str, tuple[Any, ...]]:
    if not isinstance(item, dict) or item.get("op") not in OPS:
        raise ValueError(f"{where}.op: expected one of {', '.join(OPS)}")
    op = item["op"]
    if op != "set_state":
        return op, (_info(_INFOS[op], item.get("info"), where),)
    raw = item.get("state")
    if not isinstance(raw, dict) or item.get("kind") not in ("flow", "task"):
        raise ValueError(f"{where}: a set_state needs kind 'flow' or 'task' and a state")
    try:
        state = State(
            StateType(raw["type"]),
            str(raw["name"]),
            _time(raw.get("timestamp"), f"{where}.state.timestamp") or datetime.now(),
            raw.get("message"),
            scheduled_time=_time(raw.get("scheduled_time"), f"{where}.state.scheduled_time"),
        )
    except (KeyError, ValueError) as exc:
        raise ValueError(f"{where}.state: {exc}") from None
    return op, (item["kind"], str(item["run_id"]), state, int(item.get("run_count") or 0))


def replay(items: list[Any], recorder: RunRecorder) -> int:
    """Make the encoded calls on ``recorder`` (all checked first: bad input changes nothing)."""
    calls = [_decode(item, f"items[{i}]") for i, item in enumerate(items)]
    for op, args in calls:
        getattr(recorder, op)(*args)
    return len(calls)
