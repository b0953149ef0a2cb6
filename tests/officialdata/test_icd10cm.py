"""Importing CDC ICD-10-CM release files and answering from them."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from handrail.officialdata import load_ruleset
from handrail.officialdata.errors import OfficialDataError
from handrail.officialdata.service import run_import
from tests.officialdata.samples import order_line, write_lines

ORDER = [
    order_line(1, "I69", False, "Sequelae of cerebrovascular disease"),
    order_line(2, "I693", False, "Sequelae of cerebral infarction"),
    order_line(3, "I6935", False, "Hemiplegia following cerebral infarction"),
    order_line(
        4,
        "I69351",
        True,
        "Hemiplga following cerebral infrc aff right dominant side",
        "Hemiplegia and hemiparesis following cerebral infarction affecting right dominant side",
    ),
    order_line(5, "I69352", True, "Hemiplga following cerebral infrc aff left dominant side"),
    order_line(6, "M545", False, "Low back pain"),
    order_line(7, "M5450", True, "Low back pain, unspecified"),
    # FY2026 brought the first category whose second character is a letter.
    order_line(8, "QA0", False, "Neurodevelopmental disorders, genetic variants"),
    order_line(9, "QA00101", True, "Synthetic billable code under QA0"),
]


class Icd10CmImportTests:
    def test_it_imports_the_order_file_for_its_fiscal_year(self, tmp_path: Path) -> None:
        path = write_lines(tmp_path / "icd10cm-order-2027.txt", ORDER)
        summary = run_import("icd10cm", path, data_dir=tmp_path)
        assert (summary.label, summary.effective_from, summary.effective_to, summary.rows) == (
            "ICD-10-CM FY2027",
            date(2026, 10, 1),
            date(2027, 9, 30),
            9,
        )
        diagnoses = load_ruleset(data_dir=tmp_path).diagnoses
        leaf = diagnoses.lookup("i69.351", date(2026, 11, 23))
        assert (leaf.code, leaf.exists, leaf.billable, leaf.release_covers_date) == (
            "I69.351",
            True,
            True,
            True,
        )
        assert leaf.description.startswith("Hemiplegia and hemiparesis following")
        assert (leaf.release_label, leaf.source.citation) == (
            "ICD-10-CM FY2027",
            "CDC ICD-10-CM FY2027",
        )
        header = diagnoses.lookup("I6935", date(2027, 9, 30))
        assert (header.exists, header.billable, header.billable_children) == (
            True,
            False,
            ("I69.351", "I69.352"),
        )
        missing = diagnoses.lookup("I69.399", date(2027, 1, 1))
        assert (missing.exists, missing.billable) == (False, False)
        lettered = diagnoses.lookup("QA0", date(2027, 1, 1))
        assert (lettered.exists, lettered.billable, lettered.billable_children) == (
            True,
            False,
            ("QA0.0101",),
        )
        not_a_code = diagnoses.lookup("97535", date(2027, 1, 1))
        assert (not_a_code.code, not_a_code.exists) == ("97535", False)

    def test_it_imports_the_codes_file_with_a_release_option(self, tmp_path: Path) -> None:
        lines = [
            "I69351  Hemiplegia following cerebral infarction, right dominant",
            "M5450 Low back pain, unspecified",
        ]
        path = write_lines(tmp_path / "codes.txt", lines)
        with pytest.raises(OfficialDataError, match="give --release FY2027"):
            run_import("icd10cm", path, data_dir=tmp_path)
        summary = run_import("icd10cm", path, release="FY2027", data_dir=tmp_path)
        assert (summary.label, summary.rows) == ("ICD-10-CM FY2027", 2)
        diagnoses = load_ruleset(data_dir=tmp_path).diagnoses
        category = diagnoses.lookup("M54", date(2027, 2, 1))
        assert (category.exists, category.billable, category.billable_children) == (
            True,
            False,
            ("M54.50",),
        )

    def test_it_leaves_dates_outside_the_release_to_the_packaged_code_set(
        self, tmp_path: Path
    ) -> None:
        path = write_lines(tmp_path / "icd10cm-order-2027.txt", ORDER)
        run_import("icd10cm", path, data_dir=tmp_path)
        answer = load_ruleset(data_dir=tmp_path).diagnoses.lookup("I69.351", date(2026, 9, 30))
        assert answer.release_label != "ICD-10-CM FY2027"
        assert (answer.exists, answer.billable, answer.release_covers_date) == (True, True, True)

    def test_it_rejects_a_damaged_order_line(self, tmp_path: Path) -> None:
        lines = [*ORDER[:3], "00004 I69351  x Hemiplegia", *ORDER[4:]]
        path = write_lines(tmp_path / "icd10cm-order-2027.txt", lines)
        with pytest.raises(OfficialDataError) as caught:
            run_import("icd10cm", path, data_dir=tmp_path)
        assert str(caught.value).startswith(f"{path}:4: the line is not order number")
        assert (
            not load_ruleset(data_dir=tmp_path)
            .diagnoses.lookup("I69.351", date(2026, 9, 30))
            .release_label.startswith("ICD-10-CM FY2027")
        )

    def test_it_answers_a_date_no_release_covers_from_the_nearest_release(
        self, tmp_path: Path
    ) -> None:
        path = write_lines(tmp_path / "icd10cm-order-2027.txt", ORDER)
        run_import("icd10cm", path, data_dir=tmp_path)
        diagnoses = load_ruleset(data_dir=tmp_path).diagnoses
        for on, label, covers in (
            (date(2027, 10, 1), "ICD-10-CM FY2027", False),
            (date(2027, 9, 30), "ICD-10-CM FY2027", True),
            (
                date(2025, 6, 2),
                "ICD-10-CM FY2025 (April 2025 update, simple-icd-10-cm 1.4.0)",
                True,
            ),
            (
                date(2024, 9, 30),
                "ICD-10-CM FY2025 (April 2025 update, simple-icd-10-cm 1.4.0)",
                False,
            ),
        ):
            answer = diagnoses.lookup("I69.351", on)
            assert (answer.release_label, answer.release_covers_date, answer.billable) == (
                label,
                covers,
                True,
            )
        later = diagnoses.lookup("I69.351", date(2027, 10, 1))
        assert (later.release_from, later.release_to) == (date(2026, 10, 1), date(2027, 9, 30))
