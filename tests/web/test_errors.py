"""The 403, 404 and 500 pages: in the app's layout, saying what happened and where to go,
never a traceback; the API gets JSON; the 500's traceback goes to the log."""

from __future__ import annotations

import json
import logging
import os
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client, RequestFactory
from django.urls import reverse

from handrail.web.devenv import setup_dev_environment
from handrail.web.ops.errors import permission_denied, server_error
from tests.web.conftest import World

ERROR_URLS = "tests.web.error_urls"


def _client(world: World, user: Any, **kwargs: Any) -> Client:
    client = Client(raise_request_exception=False, **kwargs)
    client.force_login(user)
    return client


class PermissionDeniedPageTests:
    def test_it_explains_a_403_in_the_layout_with_the_reason(self, world: World) -> None:
        response = _client(world, world.front_desk).get(reverse("clinic_admin:staff-list"))
        html = response.content.decode()
        assert response.status_code == 403
        assert 'id="error-403"' in html
        assert "You do not have access to this page" in html
        assert "Only a clinic admin can manage staff and payers." in html
        assert "ask your clinic&#x27;s Handrail administrator" in html
        # The layout: the signed-in user's bar and navigation.
        assert 'class="mainnav"' in html and "Fran Test" in html
        assert "Traceback" not in html

    def test_it_answers_json_for_an_api_403(self, db: None) -> None:
        request = RequestFactory().get("/api/patients")
        response = permission_denied(request, PermissionDenied("Front desk sees no notes."))
        assert response.status_code == 403
        assert json.loads(response.content) == {"detail": "Front desk sees no notes."}

    def test_it_shows_an_expired_form_page_for_a_csrf_failure(self, world: World) -> None:
        client = _client(world, world.front_desk, enforce_csrf_checks=True)
        response = client.post(reverse("patient-create"), {"first_name": "Zed"})
        html = response.content.decode()
        assert response.status_code == 403
        assert "This form has expired" in html
        assert "Nothing was saved." in html
        assert "CSRF verification failed" not in html


class NotFoundPageTests:
    def test_it_explains_a_404_for_an_unknown_address(self, world: World) -> None:
        response = _client(world, world.pt).get("/no-such-page/")
        html = response.content.decode()
        assert response.status_code == 404
        assert 'id="error-404"' in html
        assert "We could not find that page" in html
        assert "<code>/no-such-page/</code>" in html
        assert 'href="/patients/"' in html and 'href="/worklists/"' in html
        assert 'class="mainnav"' in html

    def test_it_explains_a_404_for_another_clinics_patient(self, world: World) -> None:
        url = reverse("patient-detail", args=[world.other_patient.pk])
        response = _client(world, world.pt).get(url)
        assert response.status_code == 404
        assert "We could not find that page" in response.content.decode()

    def test_it_shows_the_404_page_to_a_signed_out_visitor(self, db: None) -> None:
        response = Client().get("/no-such-page/")
        html = response.content.decode()
        assert response.status_code == 404
        assert "We could not find that page" in html
        assert 'class="mainnav"' not in html

    def test_it_answers_json_for_an_unknown_api_address(self, world: World) -> None:
        response = _client(world, world.pt).get("/api/no-such-endpoint")
        assert response.status_code == 404
        assert response.json() == {"detail": "Not Found"}


@pytest.mark.urls(ERROR_URLS)
class ServerErrorPageTests:
    def test_it_shows_the_500_page_and_logs_the_traceback(
        self, world: World, caplog: pytest.LogCaptureFixture
    ) -> None:
        with caplog.at_level(logging.ERROR, logger="django.request"):
            response = _client(world, world.pt).get("/boom/")
        html = response.content.decode()
        assert response.status_code == 500
        assert 'id="error-500"' in html
        assert "Something went wrong on our side" in html
        assert "Your last change may not have been saved." in html
        assert "DeliberateError" not in html and "Traceback" not in html
        (record,) = [r for r in caplog.records if r.name == "django.request"]
        assert record.exc_info is not None
        assert record.exc_info[0] is not None
        assert record.exc_info[0].__name__ == "DeliberateError"

    def test_it_answers_json_for_an_api_500(self, world: World) -> None:
        response = _client(world, world.pt).get("/api/boom/")
        assert response.status_code == 500
        assert response.json() == {"detail": "Internal Server Error"}

    def test_it_renders_the_500_page_without_touching_the_database(
        self, db: None, django_assert_num_queries: Any
    ) -> None:
        request = RequestFactory().get("/patients/")
        with django_assert_num_queries(0):
            response = server_error(request)
        assert response.status_code == 500
        assert "Something went wrong on our side" in response.content.decode()


class DevServerTests:
    def test_it_leaves_debug_off_under_make_run(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("DEBUG", raising=False)
        monkeypatch.setenv("SECRET_KEY", "x" * 50)  # no key file written by the test
        setup_dev_environment()
        assert "DEBUG" not in os.environ
