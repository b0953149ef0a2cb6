"""When the next reminder goes: the patient's weekdays and local time, in their time zone,
across daylight-saving changes, until the program ends."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from handrail.web.messaging.schedule import next_reminder, parse_weekdays, zone_or_none

CHICAGO = zone_or_none("America/Chicago")
assert CHICAGO is not None


class NextReminderTests:
    def test_it_picks_the_next_chosen_weekday_at_the_local_time(self) -> None:
        # Monday 2026-11-16 15:00 UTC = 09:00 in Chicago (CST, UTC-6); reminders Mon/Wed 07:30.
        after = datetime(2026, 11, 16, 15, 0, tzinfo=UTC)
        got = next_reminder(
            weekdays=(0, 2), at=time(7, 30), zone=CHICAGO, after=after, ends_on=None
        )
        assert got == datetime(2026, 11, 18, 13, 30, tzinfo=UTC)  # Wednesday 07:30 CST

    def test_the_same_day_counts_when_the_time_is_still_ahead(self) -> None:
        after = datetime(2026, 11, 16, 12, 0, tzinfo=UTC)  # 06:00 in Chicago
        got = next_reminder(weekdays=(0,), at=time(7, 30), zone=CHICAGO, after=after, ends_on=None)
        assert got == datetime(2026, 11, 16, 13, 30, tzinfo=UTC)

    def test_the_local_time_holds_across_the_change_to_summer_time(self) -> None:
        # Clocks go forward on Sunday 2027-03-14 in the US: 07:30 CDT is 12:30 UTC.
        after = datetime(2027, 3, 12, 14, 0, tzinfo=UTC)  # Friday, CST
        got = next_reminder(weekdays=(0,), at=time(7, 30), zone=CHICAGO, after=after, ends_on=None)
        assert got == datetime(2027, 3, 15, 12, 30, tzinfo=UTC)

    def test_a_time_the_clocks_skip_goes_an_hour_later(self) -> None:
        after = datetime(2027, 3, 13, 12, 0, tzinfo=UTC)
        got = next_reminder(weekdays=(6,), at=time(2, 30), zone=CHICAGO, after=after, ends_on=None)
        assert got == datetime(2027, 3, 14, 8, 30, tzinfo=UTC)  # 03:30 CDT

    def test_none_after_the_program_ends(self) -> None:
        after = datetime(2026, 11, 16, 15, 0, tzinfo=UTC)
        kwargs = {"weekdays": (2,), "at": time(7, 30), "zone": CHICAGO, "after": after}
        assert next_reminder(**kwargs, ends_on=date(2026, 11, 18)) is not None  # type: ignore[arg-type]
        assert next_reminder(**kwargs, ends_on=date(2026, 11, 17)) is None  # type: ignore[arg-type]
        assert (
            next_reminder(weekdays=(), at=time(7), zone=CHICAGO, after=after, ends_on=None) is None
        )


class ParsingTests:
    def test_weekday_names(self) -> None:
        assert parse_weekdays(["wed", "Monday", "mon"]) == (0, 2)
        with pytest.raises(ValueError, match="'Funday' is not a weekday"):
            parse_weekdays(["Funday"])

    def test_time_zones_are_iana_names_only(self) -> None:
        assert zone_or_none("Europe/Paris") is not None
        for bad in ("", "Mars/Olympus", "../../etc/passwd", "UTC+2"):
            assert zone_or_none(bad) is None
