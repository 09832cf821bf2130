"""Schedules as APScheduler 3 triggers: validation, next fire times, previews."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone
from typing import Any

from ..exceptions import ScheduleError
from ..orchestration.schemas import ScheduleSpec

__all__ = ["trigger_for", "next_times", "validate_schedule", "fires_at_all"]


def trigger_for(spec: ScheduleSpec) -> Any:
    """The APScheduler trigger of ``spec``; ``ScheduleError`` naming what is wrong."""
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.date import DateTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    try:
        import zoneinfo

        tz = zoneinfo.ZoneInfo(spec.timezone)
    except Exception:  # noqa: BLE001 - any bad zone name
        raise ScheduleError(f"unknown timezone {spec.timezone!r}") from None
    if spec.cron is not None:
        try:
            return CronTrigger.from_crontab(spec.cron, timezone=tz)
        except ValueError as exc:
            raise ScheduleError(f"invalid cron {spec.cron!r}: {exc}") from None
    if spec.rrule is not None:
        from .rrule import RRuleTrigger

        return RRuleTrigger(spec.rrule, tz, spec.anchor_date)
    if spec.interval_seconds is not None:
        return IntervalTrigger(
            seconds=spec.interval_seconds,
            start_date=spec.anchor_date or datetime(2020, 1, 1, tzinfo=timezone.utc),
            timezone=tz,
        )
    return DateTrigger(run_date=spec.date, timezone=tz)


def fires_at_all(spec: ScheduleSpec) -> bool:
    """False for a cron that never fires (``0 0 31 2 *``); ``ScheduleError`` if invalid.

    The Gregorian calendar repeats every 400 years: a cron that fires at all fires within
    them (the bound keeps the search short: APScheduler would walk up to the year 9999).
    """
    trigger = trigger_for(spec)
    if spec.cron is None and spec.rrule is None:
        return True
    bounded = copy.copy(trigger)
    now = datetime.now(timezone.utc)
    bounded.end_date = now + timedelta(days=401 * 366)
    return bounded.get_next_fire_time(None, now) is not None


def validate_schedule(spec: ScheduleSpec) -> None:
    """``ScheduleError`` naming what is wrong: an invalid spec, or a cron or rrule that never
    fires."""
    if not fires_at_all(spec):
        what = f"cron {spec.cron!r}" if spec.cron is not None else f"rrule {spec.rrule!r}"
        raise ScheduleError(f"{what} never fires")


def next_times(spec: ScheduleSpec, n: int, after: datetime | None = None) -> list[datetime]:
    """The next ``n`` fire times of ``spec`` after ``after`` (default: now), in UTC."""
    trigger = trigger_for(spec)
    now = after or datetime.now(timezone.utc)
    out: list[datetime] = []
    previous = None
    current = now
    while len(out) < n:
        fire = trigger.get_next_fire_time(previous, current)
        if fire is None:
            break
        fire = fire.astimezone(timezone.utc)
        out.append(fire)
        previous = fire
        current = fire
    return out
