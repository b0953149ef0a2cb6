"""The patient list a page at a time (issue 10: a clinic of thousands of patients), with the
search kept across pages, for every role that sees it."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from handrail.web.clinic.models import Patient
from handrail.web.clinic.views import PATIENT_PAGE_SIZE
from tests.web.conftest import World

ROLES = ("admin", "pt", "ot", "ota", "biller", "front_desk")


def _add_patients(world: World, count: int, first: int = 0) -> None:
    """Synthetic patients named Paged000.. (plus the world's own Ada Synthetic)."""
    Patient.objects.bulk_create(
        Patient(
            clinic=world.clinic,
            first_name=f"Pat{number:03d}",
            last_name=f"Paged{number:03d}",
            birth_date=date(1950, 1, 1),
            phone=f"555-01{number:03d}",
        )
        for number in range(first, first + count)
    )


def _names(html: str) -> list[str]:
    return re.findall(r'<a href="/patients/\d+/">([^<]+)</a>', html)


def _get(world: World, role: str, **params: str) -> str:
    response = world.client_for(getattr(world, role)).get(reverse("patient-list"), params)
    assert response.status_code == 200
    return response.content.decode()


class PatientListPagingTests:
    @pytest.mark.parametrize("role", ROLES)
    def test_it_shows_fifty_patients_a_page_to_every_role(self, world: World, role: str) -> None:
        _add_patients(world, 120)  # 121 with Ada Synthetic, last in name order
        first = _get(world, role)
        assert _names(first) == [f"Paged{n:03d}, Pat{n:03d}" for n in range(50)]
        assert "Page 1 of 3 (1-50 of 121)" in first
        assert 'href="?page=2" rel="next"' in first and 'rel="prev"' not in first
        last = _get(world, role, page="3")
        assert _names(last) == [
            *(f"Paged{n:03d}, Pat{n:03d}" for n in range(100, 120)),
            "Synthetic, Ada",
        ]
        assert "Page 3 of 3 (101-121 of 121)" in last
        assert 'href="?page=2" rel="prev"' in last and 'rel="next"' not in last

    def test_it_keeps_the_search_across_pages(self, world: World) -> None:
        _add_patients(world, 120)
        html = _get(world, "front_desk", q="paged0 pat", page="2")  # Paged000-Paged099: 100
        assert _names(html) == [f"Paged{n:03d}, Pat{n:03d}" for n in range(50, 100)]
        assert "Page 2 of 2 (51-100 of 100)" in html
        assert 'href="?q=paged0%20pat&amp;page=1" rel="prev"' in html
        assert 'value="paged0 pat"' in html

    @pytest.mark.parametrize("page", ["0", "-1", "99", "abc", ""])
    def test_it_shows_the_nearest_page_for_a_bad_page_number(
        self, world: World, page: str
    ) -> None:
        _add_patients(world, 60)
        html = _get(world, "biller", page=page)
        assert len(_names(html)) in (PATIENT_PAGE_SIZE, 11)

    def test_it_shows_no_pager_for_one_page(self, world: World) -> None:
        html = _get(world, "admin")
        assert _names(html) == ["Synthetic, Ada"]
        assert "Patient pages" not in html

    def test_its_cost_does_not_grow_with_the_clinic(self, world: World) -> None:
        """A page reads its rows and the count, whatever the number of patients: the same
        queries and at most a page of rows at 121 and at 1,121 patients."""
        client = world.client_for(world.biller)
        counts: list[int] = []
        for extra in (120, 1000):
            _add_patients(world, extra, first=len(counts) * 120)
            with CaptureQueriesContext(connection) as queries:
                response: Any = client.get(reverse("patient-list"), {"page": "2"})
            assert len(_names(response.content.decode())) == PATIENT_PAGE_SIZE
            counts.append(len(queries.captured_queries))
        assert counts[0] == counts[1]
