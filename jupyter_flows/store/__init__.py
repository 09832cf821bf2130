"""Persistence of jupyter-flows: the run database (SQLite or PostgreSQL).

``open_store`` gives an engine at the current schema; ``SqlRecorder`` is the engine's
``RunRecorder``; ``RunStore`` reads runs back. ``jupyter_flows.store.api`` has module-level
reads on the default database.

Names are imported on first use, so that recording (``recorder``: SQLAlchemy Core only)
does not pay for the read side's imports (SQLModel tables, pydantic schemas, networkx).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .db import DB_URL_ENV, create_db_engine, default_db_url, mask_url, open_store
    from .migrate import HEAD, current_revision, upgrade
    from .recorder import SqlRecorder, open_recorder
    from .repository import RunStore
    from .schemas import (
        DescribeEdge,
        DescribeFlow,
        DescribeFlowRun,
        DescribeLog,
        DescribeResultRecord,
        DescribeState,
        DescribeTaskRun,
        ListFlowRunsQuery,
        ListFlowRunsResponse,
    )

_EXPORTS = {
    "DB_URL_ENV": "db",
    "create_db_engine": "db",
    "default_db_url": "db",
    "mask_url": "db",
    "open_store": "db",
    "HEAD": "migrate",
    "current_revision": "migrate",
    "upgrade": "migrate",
    "SqlRecorder": "recorder",
    "open_recorder": "recorder",
    "RunStore": "repository",
    "DescribeEdge": "schemas",
    "DescribeFlow": "schemas",
    "DescribeFlowRun": "schemas",
    "DescribeLog": "schemas",
    "DescribeResultRecord": "schemas",
    "DescribeState": "schemas",
    "DescribeTaskRun": "schemas",
    "ListFlowRunsQuery": "schemas",
    "ListFlowRunsResponse": "schemas",
}

__all__ = [
    "DB_URL_ENV",
    "DescribeEdge",
    "DescribeFlow",
    "DescribeFlowRun",
    "DescribeLog",
    "DescribeResultRecord",
    "DescribeState",
    "DescribeTaskRun",
    "HEAD",
    "ListFlowRunsQuery",
    "ListFlowRunsResponse",
    "RunStore",
    "SqlRecorder",
    "create_db_engine",
    "current_revision",
    "default_db_url",
    "mask_url",
    "open_recorder",
    "open_store",
    "upgrade",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
