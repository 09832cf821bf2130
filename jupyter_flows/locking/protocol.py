"""Prefect's ``prefect.locking.protocol``."""

from __future__ import annotations

from ..core.locking import LockManager

__all__ = ["LockManager"]
