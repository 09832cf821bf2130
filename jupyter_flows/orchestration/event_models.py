"""Prefect's event objects: ``Event``, ``Resource``, ``RelatedResource``, and how a resource
given as Prefect's labels (``{"prefect.resource.id": ..., label: value}``) is stored.

A resource is a dict of text labels with an id, ``"prefect.resource.id"`` (ours is accepted
too: ``"jupyter_flows.resource.id"``, and any ``jupyter_flows.resource.*`` label is read as
``prefect.resource.*``); a related resource also has a role, ``"prefect.resource.role"``. The
``event`` table keeps a resource's id in ``resource`` (what automations and the panel read,
as before) and its other labels in ``resource_labels``; related resources in ``related``.
"""

from __future__ import annotations

import uuid as _uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, RootModel

if TYPE_CHECKING:
    from .schemas import DescribeEvent

__all__ = [
    "RESOURCE_ID",
    "RESOURCE_ROLE",
    "Resource",
    "RelatedResource",
    "Event",
    "has_resource_id",
    "labels_of",
    "split_resource",
    "related_resources",
]

RESOURCE_ID = "prefect.resource.id"
RESOURCE_ROLE = "prefect.resource.role"
_PREFECT = "prefect.resource."
_OURS = "jupyter_flows.resource."


def labels_of(labels: Mapping[Any, Any], where: str) -> dict[str, str]:
    """``labels`` with ``jupyter_flows.resource.*`` keys spelled ``prefect.resource.*``;
    ``ValueError`` unless every key and value is text (or a key is given both ways)."""
    out: dict[str, str] = {}
    for key, value in labels.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise ValueError(f"{where}: labels are text, got {key!r}: {value!r}")
        name = _PREFECT + key[len(_OURS) :] if key.startswith(_OURS) else key
        if name in out and out[name] != value:
            raise ValueError(f"{where}: {name!r} given twice, as {out[name]!r} and {value!r}")
        out[name] = value
    return out


def has_resource_id(labels: Mapping[Any, Any]) -> bool:
    """Do ``labels`` name a resource (``prefect.resource.id`` or ours)?"""
    return RESOURCE_ID in labels or _OURS + "id" in labels


def split_resource(resource: str | Mapping[str, str]) -> tuple[str, dict[str, str]]:
    """``(id, its other labels)`` of a resource given as an id or as labels."""
    if isinstance(resource, str):
        return resource, {}
    labels = labels_of(resource, "resource")
    resource_id = labels.pop(RESOURCE_ID, "")
    if not resource_id:
        raise ValueError(
            f"resource: needs {RESOURCE_ID!r} (or {_OURS + 'id'!r}), got {sorted(labels)}"
        )
    return resource_id, labels


def related_resources(
    related: Iterable[Mapping[str, str] | RelatedResource],
) -> list[dict[str, str]]:
    """Related resources as stored: labels with an id and a role each (``ValueError`` if not)."""
    out = []
    for i, item in enumerate(related):
        raw = item.root if isinstance(item, RelatedResource) else item
        if not isinstance(raw, Mapping):
            raise ValueError(f"related[{i}]: a resource is a dict of labels, got {raw!r}")
        labels = labels_of(raw, f"related[{i}]")
        for needed in (RESOURCE_ID, RESOURCE_ROLE):
            if not labels.get(needed):
                raise ValueError(f"related[{i}]: needs {needed!r}")
        out.append(labels)
    return out


class Resource(RootModel[dict[str, str]]):
    """A resource's labels; ``.id`` is its ``prefect.resource.id`` (``""`` for an event
    emitted with none)."""

    model_config = ConfigDict(frozen=True)

    @property
    def id(self) -> str:
        return self.root.get(RESOURCE_ID, "")

    @property
    def name(self) -> str | None:
        return self.root.get(_PREFECT + "name")

    def __getitem__(self, label: str) -> str:
        return self.root[label]

    def __contains__(self, label: object) -> bool:
        return label in self.root

    def get(self, label: str, default: str | None = None) -> str | None:
        return self.root.get(label, default)

    def keys(self) -> Iterable[str]:
        return self.root.keys()

    def items(self) -> Iterable[tuple[str, str]]:
        return self.root.items()


class RelatedResource(Resource):
    """A resource the event involves besides its own; ``.role`` says how."""

    @property
    def role(self) -> str:
        return self.root.get(RESOURCE_ROLE, "")


class Event(BaseModel):
    """What ``emit_event`` returns (Prefect's ``Event``): ``id`` is the event's UUID (the
    sender's, or a new one), ``follows`` the UUID of the event it is known to follow."""

    model_config = ConfigDict(frozen=True)

    id: _uuid.UUID
    occurred: datetime
    event: str
    resource: Resource
    related: list[RelatedResource] = Field(default_factory=list)
    payload: dict[str, Any] = Field(default_factory=dict)
    follows: _uuid.UUID | None = None

    @property
    def involved_resources(self) -> list[Resource]:
        return [self.resource, *self.related]

    @classmethod
    def from_described(cls, stored: DescribeEvent) -> Event:
        """The event as stored (rows from before events had UUIDs get one from their id)."""
        event_id = (
            _uuid.UUID(stored.uuid)
            if stored.uuid
            else _uuid.uuid5(_uuid.NAMESPACE_URL, f"jupyter-flows:event:{stored.id}")
        )
        labels = dict(stored.resource_labels or {})
        if stored.resource:
            labels[RESOURCE_ID] = stored.resource
        return cls(
            id=event_id,
            occurred=stored.occurred,
            event=stored.event,
            resource=Resource(labels),
            related=[RelatedResource(r) for r in stored.related or []],
            payload=stored.payload,
            follows=_uuid.UUID(stored.follows) if stored.follows else None,
        )
