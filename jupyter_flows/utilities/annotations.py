"""Prefect's ``prefect.utilities.annotations``: ``unmapped``, ``allow_failure``, ``quote``..."""

from __future__ import annotations

from ..core.annotations import BaseAnnotation, NotSet, allow_failure, opaque, quote, unmapped

__all__ = ["BaseAnnotation", "unmapped", "allow_failure", "quote", "opaque", "NotSet"]
