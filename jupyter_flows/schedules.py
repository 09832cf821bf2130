"""Prefect's ``prefect.schedules``: ``Cron``, ``Interval`` and ``RRule`` schedules for
``flow.serve(schedules=[...])``, ``flow.to_deployment(...)`` and ``flow.deploy(...)``.

Example::

    from jupyter_flows.schedules import Cron, Interval, RRule

    etl.serve(name="etl", schedules=[Cron("0 6 * * *", timezone="Europe/Paris"),
                                     RRule("FREQ=WEEKLY;BYDAY=SA;BYHOUR=9")])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

__all__ = ["Schedule", "Cron", "Interval", "RRule"]


@dataclass(frozen=True)
class Schedule:
    """One schedule of a deployment: exactly one of ``cron``, ``interval`` or ``rrule``."""

    cron: str | None = None
    interval: timedelta | None = None
    rrule: str | None = None
    anchor_date: datetime | None = None
    timezone: str | None = None
    day_or: bool = True
    active: bool = True
    parameters: dict[str, Any] = field(default_factory=dict)
    slug: str | None = None

    def __post_init__(self) -> None:
        if sum(k is not None for k in (self.cron, self.interval, self.rrule)) != 1:
            raise ValueError("a schedule needs exactly one of cron, interval or rrule")
        if not self.day_or:
            raise ValueError(
                "day_or=False (cron days of month AND of week) is not supported: "
                "write a cron whose day fields mean what you want"
            )
        if self.parameters:
            raise ValueError(
                "per-schedule parameters are not supported: make one deployment per set of "
                "parameters (flow.to_deployment(name, parameters=...))"
            )

    def spec(self) -> dict[str, Any]:
        """The schedule as the REST API's ``ScheduleSpec``."""
        out: dict[str, Any] = {"timezone": self.timezone or "UTC", "active": self.active}
        if self.slug:
            out["id"] = self.slug
        if self.cron is not None:
            out["cron"] = self.cron
        elif self.rrule is not None:
            out["rrule"] = self.rrule
        else:
            assert self.interval is not None
            out["interval_seconds"] = self.interval.total_seconds()
        if self.anchor_date is not None:
            out["anchor_date"] = self.anchor_date.isoformat()
        return out


def Cron(  # noqa: N802 - Prefect's name
    cron: str,
    timezone: str | None = None,
    day_or: bool = True,
    active: bool = True,
    parameters: dict[str, Any] | None = None,
    slug: str | None = None,
) -> Schedule:
    """A cron schedule (``"0 6 * * *"``: at 6:00 every day, in ``timezone``, UTC by default)."""
    return Schedule(cron=cron, timezone=timezone, day_or=day_or, active=active,
                    parameters=parameters or {}, slug=slug)  # fmt: skip


def Interval(  # noqa: N802 - Prefect's name
    interval: int | float | timedelta,
    anchor_date: datetime | None = None,
    timezone: str | None = None,
    active: bool = True,
    parameters: dict[str, Any] | None = None,
    slug: str | None = None,
) -> Schedule:
    """Every ``interval`` (seconds, or a ``timedelta``), counted from ``anchor_date``."""
    every = interval if isinstance(interval, timedelta) else timedelta(seconds=interval)
    return Schedule(interval=every, anchor_date=anchor_date, timezone=timezone, active=active,
                    parameters=parameters or {}, slug=slug)  # fmt: skip


def RRule(  # noqa: N802 - Prefect's name
    rrule: str,
    timezone: str | None = None,
    active: bool = True,
    parameters: dict[str, Any] | None = None,
    slug: str | None = None,
) -> Schedule:
    """An RFC 5545 recurrence rule (``"FREQ=WEEKLY;BYDAY=MO,WE;BYHOUR=9"``)."""
    return Schedule(rrule=rrule, timezone=timezone, active=active,
                    parameters=parameters or {}, slug=slug)  # fmt: skip
