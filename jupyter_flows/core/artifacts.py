"""Artifacts as the engine makes them: checked and formatted by Prefect's rules, then handed
to the run's recorder like its states and logs (so they reach the database, or the server
over HTTP, in the same batches, and live views see them).

The public API is ``jupyter_flows.artifacts``; this module knows no database.
"""

from __future__ import annotations

import json
import logging
import math
import re
import threading
from collections import OrderedDict
from datetime import datetime, timezone
from typing import Any

from .context import flow_run_context, task_run_context
from .records import ArtifactInfo, RunRecorder, new_id
from .settings import get_recorder

__all__ = [
    "MAX_ARTIFACT_BYTES",
    "check_key",
    "table_data",
    "progress_value",
    "link_markdown",
    "new_artifact",
    "save_artifact",
    "update_artifact",
    "known_artifact",
    "current_recorder",
]

logger = logging.getLogger("jupyter_flows.artifacts")

#: The most JSON an artifact's data may take: artifacts are for people to read; link to
#: bigger data (a file, a table in storage) instead.
MAX_ARTIFACT_BYTES = 1024 * 1024
_KEY = re.compile(r"[a-z0-9-]+")
_KEY_RULE = "Artifact key must only contain lowercase letters, numbers, and dashes."
_TABLE_RULE = (
    "`create_table_artifact` requires a `table` argument of type `dict[list]`, "
    "`list[dict]` or `list[list]`"
)
#: artifacts this process made, for ``update_progress_artifact`` (the newest kept)
_MADE: OrderedDict[str, ArtifactInfo] = OrderedDict()
_MADE_MAX = 10_000
_lock = threading.Lock()


def check_key(key: str | None) -> None:
    """``ValueError`` (Prefect's message) unless ``key`` is None or lowercase-dashed."""
    if key is not None and (not isinstance(key, str) or not _KEY.fullmatch(key)):
        raise ValueError(f"{_KEY_RULE} Got {key!r}.")


def _plain(value: Any) -> Any:
    """JSON for what ``json`` cannot take: numpy scalars, times, the rest as text."""
    item = getattr(value, "item", None)
    if callable(item):
        try:
            return item()
        except (TypeError, ValueError):
            pass
    iso = getattr(value, "isoformat", None)
    if callable(iso):
        return iso()
    return str(value)


def _sanitize(item: Any) -> Any:
    """NaN becomes None (Prefect's rule: JSON has no NaN), in lists and dicts."""
    if isinstance(item, list | tuple):
        return [_sanitize(sub) for sub in item]
    if isinstance(item, dict):
        return {str(k): _sanitize(v) for k, v in item.items()}
    if isinstance(item, float) and math.isnan(item):
        return None
    return item


def table_data(table: Any) -> str:
    """The data of a table artifact: the table as JSON text, as Prefect stores it.

    ``table`` is a dict of columns, a list of row dicts or a list of row lists; a pandas
    ``DataFrame`` is taken as its rows (``to_dict("records")``).
    """
    to_dict = getattr(table, "to_dict", None)
    if callable(to_dict) and not isinstance(table, dict):
        table = to_dict(orient="records")
    if isinstance(table, dict):
        if not all(isinstance(v, list | tuple) for v in table.values()):
            raise TypeError(f"{_TABLE_RULE}: a dict's values must be lists")
    elif isinstance(table, list | tuple):
        kinds = {type(row) for row in table}
        if not (
            all(isinstance(r, dict) for r in table)
            or all(isinstance(r, list | tuple) for r in table)
        ):
            names = ", ".join(sorted(k.__name__ for k in kinds))
            raise TypeError(f"{_TABLE_RULE}: rows must be all dicts or all lists (got {names})")
    else:
        raise TypeError(f"{_TABLE_RULE}, got {type(table).__name__}")
    return json.dumps(_sanitize(table), default=_plain)


def progress_value(progress: Any) -> float:
    """A progress percentage, clamped to 0..100 with a warning (as Prefect)."""
    if isinstance(progress, bool) or not isinstance(progress, int | float):
        raise TypeError(f"progress must be a number between 0 and 100, got {progress!r}")
    value = float(progress)
    if math.isnan(value):
        raise ValueError("progress must be a number between 0 and 100, got NaN")
    if value < 0.0 or value > 100.0:
        logger.warning("ProgressArtifact received an invalid value, Progress: %s%%", value)
        value = max(0.0, min(value, 100.0))
        logger.warning("Interpreting as %s%% progress", value)
    return value


def link_markdown(link: str, link_text: str | None) -> str:
    """A link artifact's data: a markdown link (Prefect stores links as markdown)."""
    return f"[{link_text}]({link})" if link_text else f"[{link}]({link})"


def current_recorder() -> RunRecorder:
    """The recorder of the run the caller is in (the process recorder outside runs)."""
    frc = flow_run_context.get()
    return frc.recorder if frc is not None else get_recorder()


def _run_ids() -> tuple[str | None, str | None]:
    """``(flow run id, task run id)`` of the caller's run (Prefect's rule: a task's own)."""
    trc = task_run_context.get()
    if trc is not None:
        return trc.task_run.flow_run_id, trc.task_run.id
    frc = flow_run_context.get()
    return (frc.flow_run.id if frc is not None else None), None


def _check_size(data: Any) -> None:
    size = len(data) if isinstance(data, str) else len(json.dumps(data, default=_plain))
    if size > MAX_ARTIFACT_BYTES:
        raise ValueError(
            f"artifact data is {size} bytes of JSON, more than {MAX_ARTIFACT_BYTES}: "
            "artifacts are for people to read; link to bigger data instead"
        )


def new_artifact(
    type: str,
    data: Any,
    key: str | None = None,
    description: str | None = None,
    *,
    flow_run_id: str | None = None,
    task_run_id: str | None = None,
) -> ArtifactInfo:
    """A checked artifact of the caller's run (or of none, outside runs); not recorded.

    ``ValueError``/``TypeError`` naming the problem: a bad key, type, description, too much
    data, a progress that is not a number.
    """
    check_key(key)
    if not isinstance(type, str) or not type:
        raise ValueError(f"an artifact's type must be a non-empty string, got {type!r}")
    if description is not None and not isinstance(description, str):
        raise TypeError(f"description must be a string, got {description!r}")
    if type == "progress":
        data = progress_value(data)
    _check_size(data)
    flows, tasks = _run_ids()
    now = datetime.now(timezone.utc)
    return ArtifactInfo(
        id=new_id(),
        type=type,
        key=key,
        description=description,
        data=data,
        flow_run_id=flow_run_id or flows,
        task_run_id=task_run_id or tasks,
        created=now,
        updated=now,
    )


def save_artifact(
    type: str,
    data: Any,
    key: str | None = None,
    description: str | None = None,
    *,
    flow_run_id: str | None = None,
    task_run_id: str | None = None,
) -> ArtifactInfo:
    """Make an artifact of the caller's run (or of none, outside runs) and record it."""
    info = new_artifact(
        type, data, key, description, flow_run_id=flow_run_id, task_run_id=task_run_id
    )
    _record(info)
    return info


def update_artifact(info: ArtifactInfo, data: Any, description: str | None) -> ArtifactInfo:
    """Record new ``data`` (and ``description``, if given) for an existing artifact."""
    _check_size(data)
    info.data = data
    if description is not None:
        info.description = description
    info.updated = datetime.now(timezone.utc)
    _record(info)
    return info


def _record(info: ArtifactInfo) -> None:
    saved = ArtifactInfo(**{name: getattr(info, name) for name in info.__slots__})  # type: ignore[attr-defined]
    current_recorder().artifact_saved(saved)
    with _lock:
        _MADE[info.id] = info
        _MADE.move_to_end(info.id)
        while len(_MADE) > _MADE_MAX:
            _MADE.popitem(last=False)


def known_artifact(artifact_id: str) -> ArtifactInfo | None:
    """An artifact this process made (or updated), by id."""
    with _lock:
        return _MADE.get(artifact_id)
