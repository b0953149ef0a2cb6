"""Importing medically unlikely edits (MUEs)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from handrail.officialdata import load_ruleset
from handrail.officialdata.errors import OfficialDataError
from handrail.officialdata.service import run_import
from tests.officialdata.samples import MUE_PREAMBLE_LINES, cms_file, write_mue

ROWS = [
    "97110,6,3 Date of Service Edit: Clinical,Clinical: Medicare Data",
    "97535,8,3 Date of Service Edit: Clinical,Clinical: Medicare Data",
    "97161,1,2 Date of Service Edit: Policy,CMS Policy",
]


class MueImportTests:
    def test_it_imports_the_medicare_practitioner_file(self, tmp_path: Path) -> None:
        path = write_mue(tmp_path / "MCR_MUE_PractitionerServices_Eff_07-01-2026.csv", ROWS)
        summary = run_import("mue", path, data_dir=tmp_path)
        assert (summary.label, summary.effective_from, summary.rows, summary.verified) == (
            "MUE Medicare practitioner 2026Q3",
            date(2026, 7, 1),
            3,
            True,
        )
        edits = load_ruleset(data_dir=tmp_path).edits
        edit = edits.mue("97535", date(2026, 7, 1))
        assert edit is not None
        assert (edit.max_units, edit.adjudication_indicator, edit.rationale) == (
            8,
            3,
            "Clinical: Medicare Data",
        )
        evaluation = edits.mue("97161", date(2026, 9, 30))
        assert evaluation is not None and evaluation.adjudication_indicator == 2

    def test_it_imports_the_derived_file_as_unverified(self, tmp_path: Path) -> None:
        path = cms_file("MUE_medicaid_practitioner_Q1_2026_97xxx_DERIVED.csv")
        summary = run_import("mue", path, data_dir=tmp_path)
        assert (summary.label, summary.effective_from, summary.rows, summary.verified) == (
            "MUE Medicaid practitioner 2026Q1 (derived)",
            date(2026, 1, 1),
            83,
            False,
        )
        edit = load_ruleset(data_dir=tmp_path).edits.mue("97140", date(2026, 2, 2))
        assert edit is not None
        assert (edit.max_units, edit.adjudication_indicator) == (6, None)
        assert edit.release.source.verified is False
        assert edit.release.builtin is False

    def test_it_rejects_an_unknown_adjudication_indicator(self, tmp_path: Path) -> None:
        rows = [*ROWS[:1], "97535,8,Date of Service Edit,Clinical: Medicare Data", *ROWS[2:]]
        path = write_mue(tmp_path / "MCR_MUE_PractitionerServices_Eff_07-01-2026.csv", rows)
        with pytest.raises(OfficialDataError) as caught:
            run_import("mue", path, data_dir=tmp_path)
        assert str(caught.value).startswith(
            f"{path}:{MUE_PREAMBLE_LINES + 2}: MUE Adjudication Indicator 'Date of Service"
            " Edit' does not start with 1, 2 or 3;"
        )

    def test_it_refuses_the_outpatient_hospital_table(self, tmp_path: Path) -> None:
        path = tmp_path / "MCR_MUE_OutpatientHospitalServices_Eff_07-01-2026.csv"
        write_mue(path, ROWS)
        text = path.read_text().replace("Practitioner Services MUE", "Outpatient Hospital MUE")
        path.write_text(text)
        with pytest.raises(OfficialDataError) as caught:
            run_import("mue", path, data_dir=tmp_path)
        assert str(caught.value) == (
            f"{path}:{MUE_PREAMBLE_LINES - 1}: this MUE table is not the practitioner services one"
            " (column 'OUTPATIENTHOSPITALMUEVALUES'); import the practitioner file"
            " MCR_MUE_PractitionerServices_Eff_*.csv"
        )

    def test_it_needs_an_effective_date_it_cannot_read_from_the_name(self, tmp_path: Path) -> None:
        path = write_mue(tmp_path / "mue.csv", ROWS)
        with pytest.raises(OfficialDataError, match="give --effective YYYY-MM-DD"):
            run_import("mue", path, data_dir=tmp_path)
        summary = run_import("mue", path, release="MUE 2026Q4", data_dir=tmp_path)
        assert (summary.label, summary.effective_from) == ("MUE 2026Q4", date(2026, 10, 1))
