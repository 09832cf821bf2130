"""Locks in the run database: serializable transactions across machines."""

from __future__ import annotations

from ..store.locks import DatabaseLockManager

__all__ = ["DatabaseLockManager"]
