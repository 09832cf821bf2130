"""Prefect's ``RRule`` schedules (RFC 5545 recurrence rules, by ``dateutil``) as an
APScheduler 3 trigger."""

from __future__ import annotations

from datetime import datetime, timezone, tzinfo
from typing import Any

from apscheduler.triggers.base import BaseTrigger

from ..exceptions import ScheduleError

__all__ = ["RRuleTrigger", "parse_rrule"]

#: DTSTART of a rule that gives none (as the interval schedules' default anchor)
_DEFAULT_START = datetime(2020, 1, 1)


def parse_rrule(text: str, tz: tzinfo, anchor: datetime | None = None) -> Any:
    """The ``dateutil`` rule (or rule set) of ``text``; ``ScheduleError`` naming it if it is
    not RFC 5545. A rule without ``DTSTART`` starts at ``anchor`` (default 2020-01-01) in
    ``tz``: ``BYHOUR=9`` means 9:00 there."""
    from dateutil.rrule import rrulestr

    start = anchor.astimezone(tz) if anchor else _DEFAULT_START.replace(tzinfo=tz)
    try:
        rule = rrulestr(text, dtstart=start, forceset=True)
    except (ValueError, TypeError, KeyError) as exc:
        raise ScheduleError(f"invalid rrule {text!r}: {exc}") from None
    return rule


class RRuleTrigger(BaseTrigger):  # type: ignore[misc]
    """Fires at the occurrences of a recurrence rule."""

    def __init__(self, text: str, tz: tzinfo, anchor: datetime | None = None):
        self.text = text
        self.timezone = tz
        self.rule = parse_rrule(text, tz, anchor)

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        after = previous_fire_time if previous_fire_time is not None else now
        inclusive = previous_fire_time is None
        try:
            found = self.rule.after(after.astimezone(self.timezone), inc=inclusive)
        except TypeError:  # a rule with a naive DTSTART: compare naive local times
            naive = after.astimezone(self.timezone).replace(tzinfo=None)
            found = self.rule.after(naive, inc=inclusive)
            if found is not None:
                found = found.replace(tzinfo=self.timezone)
        if found is None:
            return None
        if found.tzinfo is None:
            found = found.replace(tzinfo=self.timezone)
        return found.astimezone(timezone.utc)

    def __str__(self) -> str:
        return f"rrule[{self.text}]"
