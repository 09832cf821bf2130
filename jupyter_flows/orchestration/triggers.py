"""When a trigger fires: pure functions over a trigger, its saved state and new events.

A trigger's state is a dict of *buckets*, one per ``for_each`` key (``""`` without it):
``{"armed": t, "count": n, "times": [...], "cause": {...}}`` with times as POSIX seconds.
Reactive: the matching events' times (``times``) until ``threshold`` of them are within the
window. Proactive: armed by an ``after`` event (or when the automation is armed), counting
expected events (``count``); it fires when ``within_seconds`` pass with fewer than
``threshold`` of them. Event names may be given as Prefect's (``prefect.flow-run.*``).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from .automation_schemas import EventTrigger
from .event_models import RESOURCE_ID

__all__ = ["matches", "name_matches", "evaluate", "armed_state", "fact", "MAX_BUCKETS"]

#: events automations themselves cause; never matched (no automation loops)
OWN_EVENTS = "automation."
#: at most this many ``for_each`` buckets are kept (the oldest armed go first)
MAX_BUCKETS = 10_000
_PREFECT = "prefect."


def name_matches(glob: str, name: str) -> bool:
    """Does the event name match the glob (ours, or Prefect's ``prefect.``-prefixed)?"""
    if fnmatch.fnmatchcase(name, glob):
        return True
    return glob.startswith(_PREFECT) and fnmatch.fnmatchcase(name, glob[len(_PREFECT) :])


def _label(event: Mapping[str, Any], key: str) -> Any:
    """A payload value, or a resource label for ``prefect.resource.*`` keys."""
    if key == RESOURCE_ID:
        return event.get("resource")
    if key.startswith("prefect.resource."):
        return (event.get("resource_labels") or {}).get(key)
    return (event.get("payload") or {}).get(key)


def matches(
    trigger: EventTrigger, event: str, payload: Mapping[str, Any], resource: str | None = None
) -> bool:
    """Does an event named ``event`` with ``payload`` match ``trigger`` (its name, or one of
    its ``after`` events, and ``match``)?"""
    if event.startswith(OWN_EVENTS):
        return False
    if not any(name_matches(g, event) for g in (trigger.event, *trigger.after)):
        return False
    row = {"payload": payload, "resource": resource}
    return _match(trigger, row)


def _match(trigger: EventTrigger, row: Mapping[str, Any]) -> bool:
    for key, wanted in trigger.match.items():
        value = _label(row, key)
        if key.startswith("prefect.resource.") and isinstance(wanted, str):
            if not (isinstance(value, str) and name_matches(wanted, value)):
                return False
        elif isinstance(value, list) and not isinstance(wanted, list):
            if wanted not in value:
                return False
        elif value != wanted:
            return False
    return True


def fact(event: Mapping[str, Any]) -> dict[str, Any]:
    """What an action is given of the event that fired it (JSON)."""
    occurred = event["occurred"]
    return {
        "id": event.get("uuid"),
        "event_id": event["id"],
        "event": event["event"],
        "occurred": occurred.isoformat() if isinstance(occurred, datetime) else occurred,
        "resource": event.get("resource"),
        "resource_labels": event.get("resource_labels") or {},
        "related": event.get("related") or [],
        "payload": dict(event.get("payload") or {}),
    }


def armed_state(trigger: EventTrigger, at: datetime) -> dict[str, Any]:
    """The state of a trigger just armed (a Proactive one with no ``after`` waits from ``at``)."""
    if trigger.posture == "Proactive" and not trigger.after:
        return {"": {"armed": at.timestamp(), "count": 0}}
    return {}


def _key(trigger: EventTrigger, event: Mapping[str, Any]) -> str:
    return "\x1f".join(str(_label(event, k)) for k in trigger.for_each)


def _saved(state: Any) -> dict[str, dict[str, Any]]:
    if isinstance(state, list):  # before buckets: the times of a reactive count
        return {"": {"times": list(state)}} if state else {}
    return {k: dict(v) for k, v in (state or {}).items()}


def evaluate(
    trigger: EventTrigger,
    state: Any,
    events: Iterable[Mapping[str, Any]],
    own_tag: str,
    at: datetime | None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """``(the facts of each firing, the new state)`` after ``events`` (rows, oldest first);
    with ``at``, a Proactive trigger's windows that ended by then fire too."""
    buckets = _saved(state)
    fired: list[dict[str, Any]] = []
    proactive = trigger.posture == "Proactive"
    for event in events:
        name = event["event"]
        if name.startswith(OWN_EVENTS) or not _match(trigger, event):
            continue
        if own_tag in ((event.get("payload") or {}).get("tags") or []):
            continue  # a run this automation started: no self-triggering loops
        expected = name_matches(trigger.event, name)
        arming = any(name_matches(g, name) for g in trigger.after)
        if not (expected or arming):
            continue
        key, ts = _key(trigger, event), event["occurred"].timestamp()
        bucket = buckets.get(key)
        if proactive:
            if expected and bucket is not None and bucket.get("armed") is not None:
                bucket["count"] = bucket.get("count", 0) + 1
                if bucket["count"] >= trigger.threshold:  # it came: no firing
                    if trigger.after:
                        del buckets[key]
                    else:
                        buckets[key] = {"armed": ts, "count": 0}
            if arming:
                buckets[key] = {"armed": ts, "count": 0, "cause": fact(event)}
            continue
        if trigger.after and (bucket is None or bucket.get("armed") is None):
            if arming:  # the wait starts; the arming event itself does not count
                buckets[key] = {"armed": ts, "times": []}
            continue
        if not expected:
            continue
        bucket = buckets.setdefault(key, {"times": []})
        times = [*bucket.get("times", []), ts]
        if trigger.within_seconds is not None:
            times = [t for t in times if t > ts - trigger.within_seconds]
        if len(times) >= trigger.threshold:
            fired.append(fact(event))
            del buckets[key]
        else:
            bucket["times"] = times
    if proactive and at is not None:
        fired.extend(_expired(trigger, buckets, at))
    if len(buckets) > MAX_BUCKETS:
        oldest = sorted(buckets, key=lambda k: buckets[k].get("armed") or 0)
        for key in oldest[: len(buckets) - MAX_BUCKETS]:
            del buckets[key]
    return fired, buckets


def _expired(
    trigger: EventTrigger, buckets: dict[str, dict[str, Any]], at: datetime
) -> list[dict[str, Any]]:
    """Fire the Proactive buckets whose window ended by ``at`` without the expected events."""
    assert trigger.within_seconds is not None
    now = at.timestamp()
    fired = []
    if not trigger.after and "" not in buckets:
        buckets[""] = {"armed": now, "count": 0}  # armed now (a row from before buckets)
    for key in list(buckets):
        bucket = buckets[key]
        armed = bucket.get("armed")
        if armed is None or armed + trigger.within_seconds > now:
            continue
        cause = bucket.get("cause") or {
            "event": None,
            "event_id": None,
            "payload": {},
            "resource": None,
        }
        fired.append({**cause, "expected": trigger.event, "within_seconds": trigger.within_seconds})
        if trigger.after:
            del buckets[key]
        else:
            buckets[key] = {"armed": now, "count": 0}
    return fired
