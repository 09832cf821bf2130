"""Schedules as APScheduler 3 triggers: validation, next fire times, previews."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from ..exceptions import ScheduleError
from ..orchestration.schemas import ScheduleSpec

__all__ = ["trigger_for", "next_times", "validate_schedule"]


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
    if spec.interval_seconds is not None:
        return IntervalTrigger(
            seconds=spec.interval_seconds,
            start_date=spec.anchor_date or datetime(2020, 1, 1, tzinfo=timezone.utc),
            timezone=tz,
        )
    return DateTrigger(run_date=spec.date, timezone=tz)


def validate_schedule(spec: ScheduleSpec) -> None:
    trigger_for(spec)


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
