"""Adherence per week, pain trend and the worklist flags, from plain session rows."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from handrail.progress.adherence import (
    LoggedSession,
    PainPoint,
    last_activity,
    no_recent_activity,
    pain_rise,
    pain_rising,
    pain_trend,
    sessions_per_week,
    weekly_adherence,
)

START = date(2026, 11, 2)


def on(offset: int, before: int | None = None, after: int | None = None) -> LoggedSession:
    return LoggedSession(day=START + timedelta(days=offset), pain_before=before, pain_after=after)


class SessionsPerWeekTests:
    def test_it_takes_the_most_demanding_item(self) -> None:
        assert sessions_per_week([(1, 5), (2, 7), (1, 3)]) == 14

    def test_it_reads_a_missing_frequency_as_once_a_day_every_day(self) -> None:
        assert sessions_per_week([(None, None)]) == 7
        assert sessions_per_week([(None, 3)]) == 3
        assert sessions_per_week([(2, None)]) == 14

    def test_it_is_zero_without_items(self) -> None:
        assert sessions_per_week([]) == 0


class WeeklyAdherenceTests:
    def test_it_counts_weeks_from_the_issue_day(self) -> None:
        sessions = [on(0), on(1), on(3), on(7), on(13), on(14)]
        weeks = weekly_adherence(
            sessions, start=START, today=START + timedelta(days=20), per_week=5
        )
        assert [(w.number, w.start, w.end, w.done, w.prescribed) for w in weeks] == [
            (1, date(2026, 11, 2), date(2026, 11, 8), 3, 5),
            (2, date(2026, 11, 9), date(2026, 11, 15), 2, 5),
            (3, date(2026, 11, 16), date(2026, 11, 22), 1, 5),
        ]
        assert [w.percent for w in weeks] == [60, 40, 20]

    @pytest.mark.parametrize(
        ("days_elapsed", "expected"),
        # 5 a week over 1..7 days: 5/7 = 0.71 -> 1, 1.43 -> 1, 2.14 -> 2, 2.86 -> 3,
        # 3.57 -> 4, 4.29 -> 4, 5 -> 5 (half up).
        [(1, 1), (2, 1), (3, 2), (4, 3), (5, 4), (6, 4), (7, 5)],
    )
    def test_it_prorates_the_week_in_progress(self, days_elapsed: int, expected: int) -> None:
        today = START + timedelta(days=7 + days_elapsed - 1)
        weeks = weekly_adherence([], start=START, today=today, per_week=5)
        assert weeks[-1].prescribed == expected
        assert weeks[0].prescribed == 5

    def test_it_stops_at_the_programs_end_and_ignores_sessions_outside(self) -> None:
        sessions = [on(-1), on(2), on(9), on(10)]
        weeks = weekly_adherence(
            sessions,
            start=START,
            today=START + timedelta(days=30),
            end=START + timedelta(days=9),
            per_week=7,
        )
        assert [(w.done, w.prescribed) for w in weeks] == [(1, 7), (1, 3)]

    def test_it_is_empty_before_the_program_starts(self) -> None:
        assert (
            weekly_adherence([on(0)], start=START, today=START - timedelta(days=1), per_week=3)
            == []
        )

    def test_it_caps_the_percentage_at_100(self) -> None:
        sessions = [on(d) for d in range(7)] * 2
        (week,) = weekly_adherence(
            sessions, start=START, today=START + timedelta(days=6), per_week=7
        )
        assert (week.done, week.prescribed, week.percent) == (14, 7, 100)

    def test_it_gives_zero_or_full_marks_when_nothing_was_prescribed(self) -> None:
        (week,) = weekly_adherence([], start=START, today=START, per_week=0)
        assert week.percent == 0
        (week,) = weekly_adherence([on(0)], start=START, today=START, per_week=0)
        assert week.percent == 100


class PainTrendTests:
    def test_it_averages_each_day_and_skips_days_without_readings(self) -> None:
        sessions = [on(2, 4, 6), on(0, 3, None), on(2, 5, 3), on(1)]
        assert pain_trend(sessions) == [
            PainPoint(day=date(2026, 11, 2), before=3, after=None),
            PainPoint(day=date(2026, 11, 4), before=4.5, after=4.5),
        ]

    def test_a_sessions_pain_is_its_worst_reading(self) -> None:
        assert on(0, 3, 7).pain == 7
        assert on(0, None, 2).pain == 2
        assert on(0).pain is None


class FlagTests:
    def test_last_activity_is_the_latest_logged_day(self) -> None:
        assert last_activity([on(3), on(9), on(1)]) == date(2026, 11, 11)
        assert last_activity([]) is None

    @pytest.mark.parametrize(
        ("last_logged", "today", "flagged"),
        [
            (None, 6, False),  # issued 6 days ago: too early to say
            (None, 7, True),  # 7 days, nothing logged
            (0, 7, True),  # the last log was on day 0: days 1-7 empty
            (1, 7, False),  # day 1 is inside the 7 days up to day 7
            (10, 16, False),
            (10, 17, True),
        ],
    )
    def test_no_activity_means_nothing_in_the_last_seven_days(
        self, last_logged: int | None, today: int, flagged: bool
    ) -> None:
        sessions = [] if last_logged is None else [on(last_logged)]
        assert (
            no_recent_activity(sessions, issued_on=START, today=START + timedelta(days=today))
            is flagged
        )

    def test_pain_up_two_points_week_over_week_is_flagged(self) -> None:
        today = START + timedelta(days=13)
        earlier = [on(0, 3, 3), on(3, 2, 4)]  # mean 3.5 (worst readings 3, 4)
        assert pain_rise(earlier + [on(8, 5, 5), on(12, 6, 5)], today=today) == 2.0
        assert pain_rising(earlier + [on(8, 5, 5), on(12, 6, 5)], today=today)
        assert pain_rise(earlier + [on(8, 5, 5), on(12, 5, 5)], today=today) == 1.5
        assert not pain_rising(earlier + [on(8, 5, 5), on(12, 5, 5)], today=today)

    def test_pain_going_down_or_missing_a_week_is_not_flagged(self) -> None:
        today = START + timedelta(days=13)
        assert not pain_rising([on(0, 8, 8), on(10, 2, 2)], today=today)
        assert pain_rise([on(10, 9, 9)], today=today) is None
        assert pain_rise([on(0, 1, 1)], today=today) is None
        # Readings older than two weeks are not compared.
        assert pain_rise([on(-1, 0, 0), on(10, 9, 9)], today=today) is None
