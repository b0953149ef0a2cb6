"""The display filters print what Django's general filters print, faster."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.template import Context, Template
from django.utils import timezone

from handrail.web.notes.templatetags.note_format import minute_stamp

# Around both 2026 daylight-saving changes in Chicago, midnight, the end of the year, and a
# time with seconds and microseconds that must be cut, not rounded.
MOMENTS = [
    datetime(2026, 3, 8, 7, 59, tzinfo=UTC),
    datetime(2026, 3, 8, 8, 0, tzinfo=UTC),
    datetime(2026, 11, 1, 6, 30, tzinfo=UTC),
    datetime(2026, 11, 1, 7, 30, tzinfo=UTC),
    datetime(2026, 1, 1, 5, 59, 59, 999999, tzinfo=UTC),
    datetime(2026, 12, 31, 23, 59, 30, tzinfo=UTC),
]


@pytest.mark.parametrize("zone", ["America/Chicago", "UTC", "Pacific/Honolulu"])
@pytest.mark.parametrize("moment", MOMENTS)
def test_minute_stamp_prints_what_the_date_filter_prints(zone: str, moment: datetime) -> None:
    general = Template('{{ at|date:"Y-m-d H:i" }}')
    with timezone.override(zone):
        expected = general.render(Context({"at": moment}))
        assert minute_stamp(moment) == expected
        assert len(expected) == 16


def test_minute_stamp_of_nothing_is_empty() -> None:
    assert minute_stamp(None) == ""
