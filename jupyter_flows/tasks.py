"""Prefect's ``prefect.tasks``: ``Task``, ``task`` and ``exponential_backoff``."""

from __future__ import annotations

from .core.options import exponential_backoff
from .core.tasks import Task, task

__all__ = ["Task", "task", "exponential_backoff"]
