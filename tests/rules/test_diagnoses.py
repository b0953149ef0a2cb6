"""Diagnosis checks of a visit, against the real packaged ICD-10-CM FY2026 code set."""

from __future__ import annotations

from datetime import date

from handrail.officialdata.icd10cm_packaged import PackagedIcd10Cm
from handrail.rules.diagnoses import SOURCE_POINTER, check_diagnoses
from handrail.rules.model import Finding, Severity
from handrail.rules.visit_record import VisitLine, VisitRecord

CODES = PackagedIcd10Cm()
LABEL = "ICD-10-CM FY2026 (April 2026 update, simple-icd-10-cm 1.5.0)"
LABEL_FY2025 = "ICD-10-CM FY2025 (April 2025 update, simple-icd-10-cm 1.4.0)"
ICD_SOURCE_FY2025 = (
    "CDC/CMS ICD-10-CM FY2025 (April 2025 update, via simple-icd-10-cm 1.4.0; "
    "shipped as its differences from FY2026)"
)
TYPO_FIX = (
    "check the code for a typo (letter O vs digit 0, a missing character) and pick "
    "the code from the ICD-10-CM release in force on the date of service"
)
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
                f"diagnoses were checked against {LABEL}, in force 2025-10-01 through 2026-09-30, "
                "which may not apply to 2026-11-23: "
                "dates from 2026-10-01 through 2027-09-30 fall under ICD-10-CM FY2027",
                "import the CDC ICD-10-CM FY2027 release files with "
                "`handrail data import icd10cm FILE`, then check the visit again",
                None,
            )
        ]

    def test_it_names_the_fiscal_year_of_a_date_before_the_releases(self) -> None:
        (finding,) = check(visit("I69.351", on=date(2024, 9, 30)))
        assert finding == (
            "info",
            "dx.release-mismatch",
            f"diagnoses were checked against {LABEL_FY2025}, in force 2024-10-01 through "
            "2025-09-30, which may not apply to 2024-09-30: dates from 2023-10-01 through "
            "2024-09-30 fall under ICD-10-CM FY2024",
            "import the CDC ICD-10-CM FY2024 release files with "
            "`handrail data import icd10cm FILE`, then check the visit again",
            None,
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
                # The codes under G20 in FY2026 may not be codes in FY2027: none is named.
                f"G20 is a category in {LABEL}; pick the most specific code under it in "
                "ICD-10-CM FY2027, in force on 2026-11-23",
                None,
            ),
        ]

    def test_it_sweeps_the_fiscal_year_boundaries(self) -> None:
        for on, rules in (
            (date(2024, 9, 30), ["dx.release-mismatch"]),
            (date(2024, 10, 1), []),
            (date(2025, 9, 30), []),
            (date(2025, 10, 1), []),
            (date(2026, 9, 30), []),
            (date(2026, 10, 1), ["dx.release-mismatch"]),
        ):
            assert [rule for _, rule, *_ in check(visit("Z47.1", on=on))] == rules


class DiagnosesByReleaseTests:
    """G35 was a billable code through FY2025; FY2026 (2025-10-01) split it into G35.A-G35.D."""

    def test_it_accepts_g35_before_the_split(self) -> None:
        for on in (date(2024, 10, 1), date(2025, 6, 2), date(2025, 9, 30)):
            assert check(visit("G35", "I69.351", on=on)) == []

    def test_it_refuses_g35_from_the_split_and_names_its_new_codes(self) -> None:
        for on in (date(2025, 10, 1), date(2026, 9, 30)):
            assert check(visit("G35", on=on)) == [
                (
                    "error",
                    "dx.not-billable",
                    "G35 is a category with codes under it, not a billable code",
                    "G35 is a category; pick a billable code such as G35.A, G35.B0, G35.B1, "
                    "G35.B2, G35.C0, G35.C1, G35.C2, G35.D, ...",
                    None,
                )
            ]

    def test_it_refuses_a_new_code_before_it_starts_and_points_to_the_old_one(self) -> None:
        findings = check_diagnoses(visit("G35.A", on=date(2025, 6, 2)), CODES)
        assert [f.to_dict() for f in findings] == [
            {
                "severity": "error",
                "rule": "dx.invalid",
                "message": (
                    "G35.A is not a valid ICD-10-CM code on 2025-06-02: it starts on "
                    "2025-10-01 (ICD-10-CM FY2026)"
                ),
                "fix": "for a date of service before 2025-10-01, bill the code in force then: G35",
                "source": ICD_SOURCE_FY2025,
            }
        ]

    def test_it_accepts_the_new_codes_from_the_split(self) -> None:
        on = date(2025, 10, 1)
        assert check(visit("G35.A", "G35.B1", "G35.D", on=on)) == []

    def test_it_sweeps_both_sides_of_2025_10_01(self) -> None:
        for on, g35, g35a in (
            (date(2025, 9, 29), [], ["dx.invalid"]),
            (date(2025, 9, 30), [], ["dx.invalid"]),
            (date(2025, 10, 1), ["dx.not-billable"], []),
            (date(2025, 10, 2), ["dx.not-billable"], []),
        ):
            assert [rule for _, rule, *_ in check(visit("G35", on=on))] == g35
            assert [rule for _, rule, *_ in check(visit("G35.A", on=on))] == g35a

    def test_it_refuses_a_code_fy2026_deleted_from_2025_10_01(self) -> None:
        assert check(visit("S30.1XXA", on=date(2025, 9, 30))) == []
        assert check(visit("S30.1XXA", on=date(2025, 10, 1))) == [
            (
                "error",
                "dx.invalid",
                "S30.1XXA is not a valid ICD-10-CM code on 2025-10-01",
                TYPO_FIX,
                None,
            )
        ]

    def test_it_hedges_a_date_before_every_release_and_names_no_code(self) -> None:
        on = date(2024, 6, 3)
        assert check(visit("G35.A", "S30.1", on=on)) == [
            (
                "warning",
                "dx.invalid",
                f"G35.A is not a valid ICD-10-CM code on 2024-06-03 according to {LABEL_FY2025}, "
                "which does not cover that date: it starts on 2025-10-01 (ICD-10-CM FY2026)",
                "for a date of service before 2025-10-01, pick the code from the ICD-10-CM "
                "release in force on the date of service",
                None,
            ),
            (
                "warning",
                "dx.not-billable",
                f"S30.1 is a subcategory with codes under it, not a billable code in "
                f"{LABEL_FY2025}, which does not cover the date of service",
                f"S30.1 is a subcategory in {LABEL_FY2025}; pick the most specific code under "
                "it in ICD-10-CM FY2024, in force on 2024-06-03",
                None,
            ),
            (
                "info",
                "dx.release-mismatch",
                f"diagnoses were checked against {LABEL_FY2025}, in force 2024-10-01 through "
                "2025-09-30, which may not apply to 2024-06-03: dates from 2023-10-01 through "
                "2024-09-30 fall under ICD-10-CM FY2024",
                "import the CDC ICD-10-CM FY2024 release files with "
                "`handrail data import icd10cm FILE`, then check the visit again",
                None,
            ),
        ]
