"""``with tags("etl", "nightly"):`` adds tags to every flow and task run created inside."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["tags", "current_tags"]

_tags: ContextVar[frozenset[str]] = ContextVar("jupyter_flows_tags", default=frozenset())


def current_tags() -> frozenset[str]:
    return _tags.get()


@contextmanager
def tags(*new_tags: str) -> Iterator[set[str]]:
    """Add ``new_tags`` to runs created in the block (nested blocks add up); yields them all."""
    combined = _tags.get() | frozenset(new_tags)
    token = _tags.set(combined)
    try:
        yield set(combined)
    finally:
        _tags.reset(token)
