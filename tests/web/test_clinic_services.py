"""Patient services: contact fields checked by field, and the likely-duplicate guard."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError

from handrail.web.clinic.models import Patient
from handrail.web.clinic.services import (
    DuplicatePatientError,
    patient_create,
    patient_duplicates,
    patient_update,
)
from tests.web.conftest import World


def _create(world: World, **fields: object) -> Patient:
    arguments: dict[str, object] = {
        "user": world.front_desk,
        "first_name": "Cy",
        "last_name": "Example",
        "birth_date": date(1960, 3, 4),
    }
    arguments.update(fields)
    return patient_create(**arguments)  # type: ignore[arg-type]


class PatientContactTests:
    @pytest.mark.parametrize(
        ("typed", "stored"),
        [
            ("217-555-0142", "217-555-0142"),
            ("(217) 555-0142", "217-555-0142"),
            ("2175550142", "217-555-0142"),
            ("+1 217 555 0142", "217-555-0142"),
            ("1-217-555-0142", "217-555-0142"),
            ("", ""),
        ],
    )
    def test_it_stores_a_us_phone_in_one_shape(
        self, world: World, typed: str, stored: str
    ) -> None:
        assert _create(world, phone=typed).phone == stored

    @pytest.mark.parametrize(
        "typed", ["555-0142", "117-555-0142", "217-155-0142", "217-555-01422", "call me", "+44"]
    )
    def test_it_refuses_a_phone_that_is_not_a_us_number(self, world: World, typed: str) -> None:
        with pytest.raises(ValidationError) as caught:
            _create(world, phone=typed)
        assert caught.value.message_dict == {
            "phone": [
                f"{typed!r} is not a US phone number; give the area code and number, "
                "e.g. 217-555-0142."
            ]
        }
        assert not Patient.objects.filter(last_name="Example").exists()

    @pytest.mark.parametrize("typed", ["62701", "62701-1234", " 62701 ", ""])
    def test_it_accepts_a_zip_or_zip_plus_4(self, world: World, typed: str) -> None:
        assert _create(world, zip=typed).zip == typed.strip()

    @pytest.mark.parametrize("typed", ["6270", "627011", "62701-12", "62701 1234", "ABCDE"])
    def test_it_refuses_a_malformed_zip(self, world: World, typed: str) -> None:
        with pytest.raises(ValidationError) as caught:
            _create(world, zip=typed)
        assert caught.value.message_dict == {
            "zip": [
                f"{typed!r} is not a ZIP code; give 5 digits or ZIP+4, e.g. 62701 or 62701-1234."
            ]
        }

    @pytest.mark.parametrize(("typed", "stored"), [("il", "IL"), ("PR", "PR"), ("dc", "DC")])
    def test_it_stores_the_state_code_in_capitals(
        self, world: World, typed: str, stored: str
    ) -> None:
        assert _create(world, state=typed).state == stored

    @pytest.mark.parametrize("typed", ["ZZ", "XX", "I", "Il."])
    def test_it_refuses_an_unknown_state(self, world: World, typed: str) -> None:
        with pytest.raises(ValidationError) as caught:
            _create(world, state=typed)
        assert list(caught.value.message_dict) == ["state"]

    def test_it_names_every_bad_field_at_once(self, world: World) -> None:
        with pytest.raises(ValidationError) as caught:
            _create(world, zip="1", state="QQ", phone="12")
        assert sorted(caught.value.message_dict) == ["phone", "state", "zip"]

    def test_it_checks_the_fields_an_update_changes(self, world: World) -> None:
        with pytest.raises(ValidationError) as caught:
            patient_update(user=world.front_desk, patient=world.patient, phone="555")
        assert list(caught.value.message_dict) == ["phone"]
        world.patient.refresh_from_db()
        assert world.patient.phone == ""


class PatientBirthDateTests:
    @pytest.mark.parametrize(
        ("born", "accepted"),
        [(date(1899, 12, 31), False), (date(1900, 1, 1), True), (date(2026, 11, 16), True)],
    )
    def test_it_accepts_births_from_1900_to_today(
        self, world: World, born: date, accepted: bool
    ) -> None:
        if accepted:
            assert _create(world, birth_date=born).birth_date == born
        else:
            with pytest.raises(ValidationError) as caught:
                _create(world, birth_date=born)
            assert caught.value.message_dict == {
                "birth_date": ["1899-12-31 is before 1900-01-01; check the year."]
            }

    def test_it_refuses_a_birth_tomorrow(self, world: World) -> None:
        with pytest.raises(ValidationError) as caught:
            _create(world, birth_date=world.today + timedelta(days=1))
        assert caught.value.message_dict == {"birth_date": ["The birth date is in the future."]}


class PatientDuplicateTests:
    def test_it_refuses_the_same_name_and_birth_date_until_confirmed(self, world: World) -> None:
        with pytest.raises(DuplicatePatientError) as caught:
            _create(world, first_name=" ada ", last_name="SYNTHETIC", birth_date=date(1948, 5, 2))
        assert caught.value.duplicates == [world.patient]
        assert caught.value.message_dict == {
            "__all__": [
                "Ada Synthetic, born 1948-05-02, is already a patient of your clinic; open "
                "that record, or save anyway if this is another person."
            ]
        }
        assert Patient.objects.filter(clinic=world.clinic).count() == 1
        again = _create(
            world,
            first_name="Ada",
            last_name="Synthetic",
            birth_date=date(1948, 5, 2),
            allow_duplicate=True,
        )
        assert Patient.objects.filter(clinic=world.clinic).count() == 2
        assert again.pk != world.patient.pk

    def test_it_lets_another_birth_date_or_clinic_through(self, world: World) -> None:
        assert (
            patient_duplicates(
                user=world.front_desk,
                first_name="Ada",
                last_name="Synthetic",
                birth_date=date(1948, 5, 3),
            )
            == []
        )
        assert (
            patient_duplicates(
                user=world.outsider,
                first_name="Ada",
                last_name="Synthetic",
                birth_date=date(1948, 5, 2),
            )
            == []
        )

    def test_it_warns_when_an_edit_makes_two_patients_alike(self, world: World) -> None:
        other = _create(world)
        with pytest.raises(DuplicatePatientError):
            patient_update(
                user=world.front_desk,
                patient=other,
                first_name="Ada",
                last_name="Synthetic",
                birth_date=date(1948, 5, 2),
            )
        other.refresh_from_db()
        assert other.first_name == "Cy"
        # Editing the patient's own other fields never trips over itself.
        patient_update(user=world.front_desk, patient=world.patient, city="Springfield")
