"""Sane windows for the dates people type, and date arithmetic that never overflows.

Every date field a service accepts is checked against a window here, so a typo such as
9999-12-31 or 0202-05-01 is refused with a message naming the field. Rows already stored
outside the windows (inserted straight into the database, or older than these checks) must
still never take a page down: computed dates saturate at the calendar's ends instead of
raising OverflowError.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.core.exceptions import ValidationError

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
