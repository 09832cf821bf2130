"""Prefect's ``prefect.events``: ``emit_event`` and the ``Event`` it returns."""

from __future__ import annotations

from .orchestration.event_models import Event, RelatedResource, Resource
from .orchestration.events import emit as emit_event

__all__ = ["emit_event", "Event", "Resource", "RelatedResource"]
