"""Diagnosis checks of a visit, against the real packaged ICD-10-CM FY2026 code set."""

from __future__ import annotations

from datetime import date

from handrail.officialdata.icd10cm_packaged import PackagedIcd10Cm
from handrail.rules.diagnoses import SOURCE_POINTER, check_diagnoses
from handrail.rules.model import Finding, Severity
from handrail.rules.visit_record import VisitLine, VisitRecord

CODES = PackagedIcd10Cm()
LABEL = "ICD-10-CM FY2026 (April 2026 update, simple-icd-10-cm 1.5.0)"
ICD_SOURCE = "CDC/CMS ICD-10-CM FY2026 (via simple-icd-10-cm)"
IN_FY2026 = date(2026, 3, 14)
IN_FY2027 = date(2026, 11, 23)


def visit(*diagnoses: str, on: date = IN_FY2026, lines: int = 1) -> VisitRecord:
    return VisitRecord(
        date=on,
        discipline="OT",
        lines=tuple(VisitLine(code="97535", minutes=23) for _ in range(lines)),
        diagnoses=diagnoses,
    )


def check(record: VisitRecord) -> list[tuple[str, str, str, str, int | None]]:
    return [
        (f.severity.value, f.rule, f.message, f.fix, f.line)
        for f in check_diagnoses(record, CODES)
    ]


class CheckDiagnosesTests:
    def test_it_accepts_billable_codes(self) -> None:
        assert check(visit("I69.351", "Z47.1", "G20.A1", "Z89.612")) == []

    def test_it_accepts_undotted_codes(self) -> None:
        assert check(visit("I69351", "Z471")) == []

    def test_it_flags_every_line_when_the_visit_has_no_diagnosis(self) -> None:
        findings = check_diagnoses(visit(lines=2), CODES)
        message = "line has no diagnosis: a claim line must point to at least one diagnosis"
        fix = (
            "add the ICD-10-CM code that explains why the patient needs this service, "
            'e.g. "I69.351" for right-sided hemiparesis after a stroke'
        )
        assert findings == [
            Finding(Severity.ERROR, "dx.missing", message, fix, SOURCE_POINTER, line=0),
            Finding(Severity.ERROR, "dx.missing", message, fix, SOURCE_POINTER, line=1),
        ]
        assert findings[0].source.label() == (
            "ASC X12 837P 005010X222A1 loop 2400 SV107 (diagnosis pointer, required)"
        )

    def test_it_rejects_a_made_up_code(self) -> None:
        findings = check_diagnoses(visit("I69.351", "ZZZ.99"), CODES)
        assert [f.to_dict() for f in findings] == [
            {
                "severity": "error",
                "rule": "dx.invalid",
                "message": "ZZZ.99 is not a valid ICD-10-CM code on 2026-03-14",
                "fix": (
                    "check the code for a typo (letter O vs digit 0, a missing character) and "
                    "pick the code from the ICD-10-CM release in force on the date of service"
                ),
                "source": ICD_SOURCE,
            }
        ]

    def test_it_names_billable_codes_under_a_category(self) -> None:
        assert check(visit("G20")) == [
            (
                "error",
                "dx.not-billable",
                "G20 is a category with codes under it, not a billable code",
                "G20 is a category; pick a billable code such as G20.A1, G20.A2, G20.B1, "
                "G20.B2, G20.C",
                None,
            )
        ]

    def test_it_marks_a_capped_list_of_billable_codes(self) -> None:
        assert check(visit("G35")) == [
            (
                "error",
                "dx.not-billable",
                "G35 is a category with codes under it, not a billable code",
                "G35 is a category; pick a billable code such as G35.A, G35.B0, G35.B1, "
                "G35.B2, G35.C0, G35.C1, G35.C2, G35.D, ...",
                None,
            )
        ]

    def test_it_names_a_subcategory_without_its_seventh_character(self) -> None:
        assert check(visit("S72.001")) == [
            (
                "error",
                "dx.not-billable",
                "S72.001 is a subcategory with codes under it, not a billable code",
                "S72.001 is a subcategory; pick a billable code such as S72.001A, S72.001B, "
                "S72.001C, S72.001D, S72.001E, S72.001F, S72.001G, S72.001H, ...",
                None,
            )
        ]

    def test_it_checks_a_repeated_code_once(self) -> None:
        assert [rule for _, rule, *_ in check(visit("G20", "G20", "I69.351"))] == [
            "dx.not-billable"
        ]

    def test_it_says_once_when_the_release_does_not_cover_the_date(self) -> None:
        assert check(visit("I69.351", "Z47.1", on=IN_FY2027)) == [
            (
                "info",
                "dx.release-mismatch",
                f"diagnoses were checked against {LABEL}, which may not apply to 2026-11-23: "
                "dates from 2026-10-01 through 2027-09-30 fall under ICD-10-CM FY2027",
                "import the CDC ICD-10-CM FY2027 release files with "
                "`handrail data import icd10cm FILE`, then check the visit again",
                None,
            )
        ]

    def test_it_names_the_fiscal_year_of_a_date_before_the_release(self) -> None:
        (finding,) = check(visit("I69.351", on=date(2025, 9, 30)))
        assert finding[2] == (
            f"diagnoses were checked against {LABEL}, which may not apply to 2025-09-30: "
            "dates from 2024-10-01 through 2025-09-30 fall under ICD-10-CM FY2025"
        )

    def test_it_downgrades_code_errors_when_the_release_does_not_cover_the_date(self) -> None:
        assert check(visit("ZZZ.99", "G20", on=IN_FY2027))[:2] == [
            (
                "warning",
                "dx.invalid",
                f"ZZZ.99 is not a valid ICD-10-CM code on 2026-11-23 according to {LABEL}, "
                "which does not cover that date",
                "check the code for a typo (letter O vs digit 0, a missing character) and pick "
                "the code from the ICD-10-CM release in force on the date of service",
                None,
            ),
            (
                "warning",
                "dx.not-billable",
                f"G20 is a category with codes under it, not a billable code in {LABEL}, which "
                "does not cover the date of service",
                "G20 is a category; pick a billable code such as G20.A1, G20.A2, G20.B1, "
                "G20.B2, G20.C",
                None,
            ),
        ]

    def test_it_sweeps_the_fiscal_year_boundaries(self) -> None:
        for on, rules in (
            (date(2025, 9, 30), ["dx.release-mismatch"]),
            (date(2025, 10, 1), []),
            (date(2026, 9, 30), []),
            (date(2026, 10, 1), ["dx.release-mismatch"]),
        ):
            assert [rule for _, rule, *_ in check(visit("Z47.1", on=on))] == rules
