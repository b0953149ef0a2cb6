"""When the next reminder goes: on the weekdays and at the local time the patient chose, in
their time zone, until the program ends. Pure functions over the standard library's zoneinfo.

Daylight saving: the patient's 7:00 stays 7:00 on their clock across a change (the UTC time
moves). A chosen time that does not exist on the day the clocks go forward (02:30 in most of
the US) goes at the same offset as before the change, i.e. an hour later by the new clock; a
time that happens twice when they go back goes the first time (zoneinfo's fold=0).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def zone_or_none(name: str) -> ZoneInfo | None:
    """The IANA zone of that name, or None (unknown, or a path trick such as '../x')."""
    if not name or name not in _zone_names():
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


_ZONES: frozenset[str] | None = None


def _zone_names() -> frozenset[str]:
    global _ZONES
    if _ZONES is None:
        _ZONES = frozenset(available_timezones())
    return _ZONES


def parse_weekdays(values: Iterable[str]) -> tuple[int, ...]:
    """'Mon', 'tue'... -> sorted weekday numbers (Monday 0); ValueError names a bad one."""
    days: set[int] = set()
    for value in values:
        name = value.strip()[:3].capitalize()
        if name not in WEEKDAY_NAMES:
            raise ValueError(
                f"{value!r} is not a weekday; write Mon, Tue, Wed, Thu, Fri, Sat or Sun"
            )
        days.add(WEEKDAY_NAMES.index(name))
    return tuple(sorted(days))


def next_reminder(
    *,
    weekdays: Iterable[int],
    at: time,
    zone: ZoneInfo,
    after: datetime,
    ends_on: date | None,
) -> datetime | None:
    """The first reminder strictly after `after` (aware), in UTC; None when no chosen day
    is left before the program ends (`ends_on`, inclusive, in the patient's zone)."""
    days = set(weekdays)
    if not days:
        return None
    local_after = after.astimezone(zone)
    day = local_after.date()
    for _ in range(8):
        if ends_on is not None and day > ends_on:
            return None
        if day.weekday() in days:
            local = datetime.combine(day, at.replace(tzinfo=None), tzinfo=zone)
            candidate = local.astimezone(UTC)
            if candidate > after:
                return candidate
        day += timedelta(days=1)
    return None
