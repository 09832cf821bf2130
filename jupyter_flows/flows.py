"""Prefect's ``prefect.flows``: ``Flow`` and ``flow``."""

from __future__ import annotations

from .core.flows import Flow, flow

__all__ = ["Flow", "flow"]
