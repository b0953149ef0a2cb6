"""The ICD-10-CM FY2026 code set packaged in simple-icd-10-cm 1.5.0 (real lookups)."""

from __future__ import annotations

import subprocess
import sys
from datetime import date

from handrail.officialdata.icd10cm_packaged import (
    SOURCE,
    PackagedIcd10Cm,
    normalize_code,
)
from handrail.rules.tables import DiagnosisCodeSet, DiagnosisLookup

CODES = PackagedIcd10Cm()
IN_FY2026 = date(2026, 3, 14)
LABEL = "ICD-10-CM FY2026 (April 2026 update, simple-icd-10-cm 1.5.0)"


def lookup(code: str, on: date = IN_FY2026) -> DiagnosisLookup:
    return CODES.lookup(code, on)


class PackagedIcd10CmTests:
    def test_it_implements_the_diagnosis_code_set_protocol(self) -> None:
        codes: DiagnosisCodeSet = CODES
        assert codes.lookup("Z47.1", IN_FY2026).billable is True

    def test_it_answers_a_billable_code_in_full(self) -> None:
        assert lookup("I69.351") == DiagnosisLookup(
            code="I69.351",
            exists=True,
            billable=True,
            description=(
                "Hemiplegia and hemiparesis following cerebral infarction affecting right "
                "dominant side"
            ),
            billable_children=(),
            release_label=LABEL,
            release_covers_date=True,
            source=SOURCE,
        )

    def test_it_names_its_source(self) -> None:
        assert lookup("Z47.1").source.label() == "CDC/CMS ICD-10-CM FY2026 (via simple-icd-10-cm)"

    def test_it_finds_the_billable_codes_therapists_use(self) -> None:
        for code, description in (
            ("Z47.1", "Aftercare following joint replacement surgery"),
            ("G20.A1", "Parkinson's disease without dyskinesia, without mention of fluctuations"),
            ("Z89.612", "Acquired absence of left leg above knee"),
            (
                "S72.001A",
                "Fracture of unspecified part of neck of right femur, initial "
                "encounter for closed fracture",
            ),
        ):
            found = lookup(code)
            assert (found.code, found.exists, found.billable, found.description) == (
                code,
                True,
                True,
                description,
            )

    def test_it_accepts_undotted_lower_case_and_padded_input(self) -> None:
        for given in ("I69351", "i69.351", " I69.351 ", "i69351"):
            found = lookup(given)
            assert (found.code, found.billable) == ("I69.351", True)

    def test_it_lists_billable_children_of_the_parkinson_category(self) -> None:
        found = lookup("G20")
        assert (found.exists, found.billable, found.description) == (
            True,
            False,
            "Parkinson's disease",
        )
        assert found.billable_children == ("G20.A1", "G20.A2", "G20.B1", "G20.B2", "G20.C")

    def test_it_lists_billable_children_of_the_multiple_sclerosis_category(self) -> None:
        found = lookup("G35")
        assert (found.exists, found.billable) == (True, False)
        assert found.billable_children == (
            "G35.A",
            "G35.B0",
            "G35.B1",
            "G35.B2",
            "G35.C0",
            "G35.C1",
            "G35.C2",
            "G35.D",
        )

    def test_it_caps_billable_children_at_eight(self) -> None:
        found = lookup("S72.001")
        assert (found.exists, found.billable) == (True, False)
        assert found.billable_children == (
            "S72.001A",
            "S72.001B",
            "S72.001C",
            "S72.001D",
            "S72.001E",
            "S72.001F",
            "S72.001G",
            "S72.001H",
        )

    def test_it_says_a_made_up_code_does_not_exist(self) -> None:
        found = lookup("ZZZ.99")
        assert (found.code, found.exists, found.billable, found.description) == (
            "ZZZ.99",
            False,
            False,
            "",
        )
        assert found.billable_children == ()

    def test_it_treats_a_retired_pre_fy2022_code_form_as_not_billable(self) -> None:
        # M54.5 became a category with M54.50-M54.59 in FY2022.
        found = lookup("M54.5")
        assert (found.exists, found.billable) == (True, False)
        assert found.billable_children[:1] == ("M54.50",)

    def test_it_does_not_take_chapters_or_blocks_for_codes(self) -> None:
        for given, code in (
            ("A00-A09", "A00-A09"),
            ("1", "1"),
            ("", ""),
            ("I69.3511X", "I69.3511X"),
        ):
            found = lookup(given)
            assert (found.code, found.exists, found.billable) == (code, False, False)

    def test_it_covers_fiscal_year_2026_only(self) -> None:
        for on, covers in (
            (date(2025, 9, 30), False),
            (date(2025, 10, 1), True),
            (date(2026, 9, 30), True),
            (date(2026, 10, 1), False),
            (date(2026, 11, 23), False),
        ):
            found = lookup("I69.351", on)
            assert (found.release_covers_date, found.billable, found.release_label) == (
                covers,
                True,
                LABEL,
            )

    def test_it_caches_answers(self) -> None:
        assert lookup("Z89.612") is lookup("Z89.612")

    def test_it_imports_the_package_only_on_first_lookup(self) -> None:
        script = (
            "import sys\n"
            "from datetime import date\n"
            "from handrail.officialdata.icd10cm_packaged import PackagedIcd10Cm\n"
            "codes = PackagedIcd10Cm()\n"
            "print('simple_icd_10_cm' in sys.modules)\n"
            "codes.lookup('G20', date(2026, 1, 5))\n"
            "print('simple_icd_10_cm' in sys.modules)\n"
        )
        out = subprocess.run(
            [sys.executable, "-W", "error::DeprecationWarning", "-c", script],
            capture_output=True,
            text=True,
            check=True,
        )
        assert out.stdout.split() == ["False", "True"]

    def test_it_normalizes_codes(self) -> None:
        assert [normalize_code(c) for c in ("g20", "G20A1", "s72001a", "A00-A09", " z47.1")] == [
            "G20",
            "G20.A1",
            "S72.001A",
            "A00-A09",
            "Z47.1",
        ]
