"""Sane windows for the dates people type, and date arithmetic that never overflows.

Every date field a service accepts is checked against a window here, so a typo such as
9999-12-31 or 0202-05-01 is refused with a message naming the field. Rows already stored
outside the windows (inserted straight into the database, or older than these checks) must
still never take a page down: computed dates saturate at the calendar's ends instead of
raising OverflowError.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone

# Nobody treated today was born, nor any record of theirs dated, before 1900.
EARLIEST = date(1900, 1, 1)
# How far ahead a case, a plan or an authorization may be dated: a year and a day, so a
# calendar-year authorization entered in December for next year still fits.
MAX_DAYS_AHEAD = 366
# The longest span of one authorization or a goal after its plan's start: two years.
MAX_SPAN_DAYS = 731


def days_after(day: date, days: int) -> date:
    """`day` + `days`, held at date.min/date.max instead of overflowing."""
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return date.max if days > 0 else date.min


def check_window(
    field: str, value: date, *, earliest: date, latest: date, before: str = "", after: str = ""
) -> None:
    """Refuse `value` outside [earliest, latest], naming the field and the bound; `before`
    and `after` say what each bound is, e.g. " (the patient's birth date)"."""
    if value < earliest:
        message = f"{value.isoformat()} is before {earliest.isoformat()}{before}"
        raise ValidationError({field: f"{message}; check the year."})
    if value > latest:
        message = f"{value.isoformat()} is after {latest.isoformat()}{after}"
        raise ValidationError({field: f"{message}; check the year."})


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The day's first instant and the next day's, in the clinic's time zone (the current
    one, settings.TIME_ZONE): a day of 23 or 25 hours on a daylight-saving change."""
    zone = timezone.get_current_timezone()
    # In UTC: Python compares and subtracts two datetimes of one zone by their wall clocks,
    # which would make a daylight-saving day 24 hours long.
    start = datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)
    end = datetime.combine(days_after(day, 1), time.min, tzinfo=zone).astimezone(UTC)
    return start, end
