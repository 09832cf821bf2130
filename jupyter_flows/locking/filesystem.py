"""Prefect's ``prefect.locking.filesystem``: locks across the processes of one machine."""

from __future__ import annotations

from ..core.locking import FileSystemLockManager

__all__ = ["FileSystemLockManager"]
