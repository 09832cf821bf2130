"""Prefect's ``prefect.results``: where persisted results and cache records live."""

from __future__ import annotations

from .core.results import (
    CompressedSerializer,
    JSONSerializer,
    PickleSerializer,
    ResultRef,
    ResultStore,
    get_serializer,
)

__all__ = [
    "ResultStore",
    "ResultRef",
    "PickleSerializer",
    "JSONSerializer",
    "CompressedSerializer",
    "get_serializer",
    "get_result_store",
]


def get_result_store() -> ResultStore:
    """The default store: ``<jupyter data dir>/jupyter_flows/results``."""
    from .core.task_engine import result_store

    return result_store()
