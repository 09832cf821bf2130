"""Prefect's ``prefect.filesystems``: ``LocalFileSystem`` (a directory for results)."""

from __future__ import annotations

from .core.results import LocalFileSystem

__all__ = ["LocalFileSystem"]
