"""Importable for Prefect code: ``prefect.client.orchestration``'s names raise an ``ImportError``
saying what to use instead (see ``jupyter_flows._cloud_only``)."""

from __future__ import annotations

from .._cloud_only import unavailable

__all__: list[str] = []


def __getattr__(name: str) -> object:
    raise unavailable(__name__, name)
