"""Adherence, pain trend and the two worklist flags, from the patient's session log.

Definitions (they are shown to clinicians beside the charts, so they are kept simple):

* A session is one sitting logged by the patient (one row of the log), whatever number of
  items they ticked.
* Sessions prescribed per week: the most demanding item's times a day x days a week (a
  program is done in one sitting, so the item asked for most often sets the pace).
* Weeks count from the day the program was issued (week 1 is that day and the six after it),
  so the first week is never a stub. The week holding `today` is prorated to the days
  elapsed (half up), as is a week cut short by the program's end.
* A session's pain is the worst of its two readings (before, after): pain that rises only
  after exercise is as much a warning as pain at rest.
* "No activity for 7 days": nothing logged in the 7 days up to today, for a program issued
  at least 7 days ago.
* "Pain up 2 or more over a week": the mean pain of the last 7 days is at least 2 points
  above the mean of the 7 days before them (both weeks need a reading).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

NO_ACTIVITY_DAYS = 7
PAIN_RISE_POINTS = 2


@dataclass(frozen=True)
class LoggedSession:
    day: date
    pain_before: int | None = None
    pain_after: int | None = None

    @property
    def pain(self) -> int | None:
        readings = [p for p in (self.pain_before, self.pain_after) if p is not None]
        return max(readings) if readings else None


@dataclass(frozen=True)
class WeekAdherence:
    number: int
    start: date
    end: date  # inclusive
    done: int
    prescribed: int

    @property
    def percent(self) -> int:
        """Sessions done against prescribed, capped at 100 (extra sessions do not make up
        for another week)."""
        if self.prescribed <= 0:
            return 100 if self.done else 0
        return min(100, int(Decimal(100 * self.done / self.prescribed).to_integral(ROUND_HALF_UP)))


@dataclass(frozen=True)
class PainPoint:
    day: date
    before: float | None
    after: float | None


def sessions_per_week(doses: Iterable[tuple[int | None, int | None]]) -> int:
    """Prescribed sessions a week from the items' (times a day, days a week). An item
    without times a day counts as once a day; without days a week, as every day."""
    best = 0
    for times_per_day, days_per_week in doses:
        best = max(best, (times_per_day or 1) * min(days_per_week or 7, 7))
    return best


def _prorate(per_week: int, days: int) -> int:
    return int((Decimal(per_week * days) / Decimal(7)).to_integral(ROUND_HALF_UP))


def weekly_adherence(
    sessions: Sequence[LoggedSession],
    *,
    start: date,
    today: date,
    per_week: int,
    end: date | None = None,
) -> list[WeekAdherence]:
    """One row per week from `start` through `today` (or `end`, when the program ended
    earlier). Sessions outside those days are not counted."""
    last = min(today, end) if end is not None else today
    if last < start:
        return []
    weeks: list[WeekAdherence] = []
    number = 1
    week_start = start
    while week_start <= last:
        week_end = min(week_start + timedelta(days=6), last)
        done = sum(1 for s in sessions if week_start <= s.day <= week_end)
        days = (week_end - week_start).days + 1
        weeks.append(
            WeekAdherence(
                number=number,
                start=week_start,
                end=week_end,
                done=done,
                prescribed=_prorate(per_week, days),
            )
        )
        number += 1
        week_start += timedelta(days=7)
    return weeks


def pain_trend(sessions: Sequence[LoggedSession]) -> list[PainPoint]:
    """Mean pain before and after per day that has any reading, oldest first."""
    by_day: dict[date, tuple[list[int], list[int]]] = {}
    for session in sessions:
        if session.pain_before is None and session.pain_after is None:
            continue
        before, after = by_day.setdefault(session.day, ([], []))
        if session.pain_before is not None:
            before.append(session.pain_before)
        if session.pain_after is not None:
            after.append(session.pain_after)
    return [
        PainPoint(
            day=day,
            before=round(sum(b) / len(b), 1) if b else None,
            after=round(sum(a) / len(a), 1) if a else None,
        )
        for day, (b, a) in sorted(by_day.items())
    ]


def last_activity(sessions: Sequence[LoggedSession]) -> date | None:
    return max((s.day for s in sessions), default=None)


def no_recent_activity(sessions: Sequence[LoggedSession], *, issued_on: date, today: date) -> bool:
    if (today - issued_on).days < NO_ACTIVITY_DAYS:
        return False
    since = today - timedelta(days=NO_ACTIVITY_DAYS - 1)
    return not any(since <= s.day <= today for s in sessions)


def pain_rise(sessions: Sequence[LoggedSession], *, today: date) -> float | None:
    """Mean pain of the last 7 days minus the mean of the 7 before; None without readings
    in both weeks."""
    recent_from = today - timedelta(days=6)
    earlier_from = today - timedelta(days=13)
    recent = [s.pain for s in sessions if recent_from <= s.day <= today and s.pain is not None]
    earlier = [
        s.pain for s in sessions if earlier_from <= s.day < recent_from and s.pain is not None
    ]
    if not recent or not earlier:
        return None
    return round(sum(recent) / len(recent) - sum(earlier) / len(earlier), 1)


def pain_rising(sessions: Sequence[LoggedSession], *, today: date) -> bool:
    rise = pain_rise(sessions, today=today)
    return rise is not None and rise >= PAIN_RISE_POINTS
