"""Prefect's ``prefect.serializers``: how persisted results are written."""

from __future__ import annotations

from .core.results import CompressedSerializer, JSONSerializer, PickleSerializer, Serializer

__all__ = ["Serializer", "PickleSerializer", "JSONSerializer", "CompressedSerializer"]
