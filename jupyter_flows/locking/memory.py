"""Prefect's ``prefect.locking.memory``: locks within one process."""

from __future__ import annotations

from ..core.locking import MemoryLockManager

__all__ = ["MemoryLockManager"]
