"""Prefect's ``prefect.client.orchestration``: ``get_client``; its other names
(``PrefectClient``...) raise an ``ImportError`` saying what to use instead (see
``jupyter_flows._cloud_only``)."""

from __future__ import annotations

from .._cloud_only import unavailable
from .get_client import get_client

__all__ = ["get_client"]


def __getattr__(name: str) -> object:
    raise unavailable(__name__, name)
