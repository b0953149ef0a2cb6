"""The ICD-10-CM FY2026 code set packaged in simple-icd-10-cm 1.5.0 (real lookups)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from contextlib import closing
from datetime import date
from itertools import islice
from pathlib import Path

import pytest

from handrail.officialdata.icd10cm_packaged import (
    MAX_BILLABLE_CHILDREN,
    PREVIOUS_LABEL,
    PREVIOUS_SOURCE,
    SOURCE,
    PackagedIcd10Cm,
    cache_path,
    normalize_code,
    previous_release_changes,
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
            release_from=date(2025, 10, 1),
            release_to=date(2026, 9, 30),
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

    def test_it_answers_each_date_from_the_release_of_its_fiscal_year(self) -> None:
        for on, covers, label in (
            (date(2024, 9, 30), False, PREVIOUS_LABEL),
            (date(2024, 10, 1), True, PREVIOUS_LABEL),
            (date(2025, 9, 30), True, PREVIOUS_LABEL),
            (date(2025, 10, 1), True, LABEL),
            (date(2026, 9, 30), True, LABEL),
            (date(2026, 10, 1), False, LABEL),
            (date(2026, 11, 23), False, LABEL),
        ):
            found = lookup("I69.351", on)
            assert (found.release_covers_date, found.billable, found.release_label) == (
                covers,
                True,
                label,
            )

    def test_it_knows_g35_was_billable_until_fy2026_split_it(self) -> None:
        for on, billable, children in (
            (date(2025, 6, 2), True, ()),
            (date(2025, 9, 30), True, ()),
            (
                date(2025, 10, 1),
                False,
                ("G35.A", "G35.B0", "G35.B1", "G35.B2", "G35.C0", "G35.C1", "G35.C2", "G35.D"),
            ),
        ):
            found = lookup("G35", on)
            assert (found.exists, found.billable, found.billable_children) == (
                True,
                billable,
                children,
            )
        assert lookup("G35", date(2025, 6, 2)) == DiagnosisLookup(
            code="G35",
            exists=True,
            billable=True,
            description="Multiple sclerosis",
            billable_children=(),
            release_label=PREVIOUS_LABEL,
            release_covers_date=True,
            source=PREVIOUS_SOURCE,
            release_from=date(2024, 10, 1),
            release_to=date(2025, 9, 30),
        )

    def test_it_says_when_a_code_missing_from_fy2025_starts(self) -> None:
        for code, use_instead in (("G35.A", ("G35",)), ("G35.B1", ("G35",)), ("G35.B", ("G35",))):
            found = lookup(code, date(2025, 6, 2))
            assert (found.exists, found.starts_on, found.use_instead) == (
                False,
                date(2025, 10, 1),
                use_instead,
            )
        made_up = lookup("G35.Z", date(2025, 6, 2))
        assert (made_up.exists, made_up.starts_on, made_up.use_instead) == (False, None, ())
        assert lookup("G35.A", date(2025, 10, 1)).starts_on is None

    def test_it_knows_codes_fy2026_deleted(self) -> None:
        for on, exists in ((date(2025, 9, 30), True), (date(2025, 10, 1), False)):
            found = lookup("S30.1XXA", on)
            assert (found.exists, found.billable) == (exists, exists)
        assert lookup("S30.1", date(2025, 9, 30)).billable_children == (
            "S30.1XXA",
            "S30.1XXD",
            "S30.1XXS",
        )

    def test_it_counts_both_releases(self) -> None:
        assert (CODES.previous_code_count(), CODES.code_count()) == (97_584, 98_186)

    def test_it_reads_the_shipped_fy2025_changes(self) -> None:
        changes = previous_release_changes()
        assert len(changes) == 687
        assert changes["G35"] == ("code", "Multiple sclerosis")
        assert changes["G35.A"] == ("absent", "")

    def test_it_caches_answers(self) -> None:
        assert lookup("Z89.612") is lookup("Z89.612")

    def test_it_imports_the_package_only_on_first_lookup(self) -> None:
        assert _run_lookup(None) == ["False", "True"]

    def test_it_knows_the_fy2026_category_with_a_letter_in_second_place(self) -> None:
        found = lookup("qa00101")
        assert (found.code, found.exists, found.billable) == ("QA0.0101", True, True)
        category = lookup("QA0")
        assert (category.exists, category.billable) == (True, False)
        assert category.billable_children[:2] == ("QA0.0101", "QA0.0102")

    def test_it_normalizes_codes(self) -> None:
        assert [normalize_code(c) for c in ("g20", "G20A1", "s72001a", "A00-A09", " z47.1")] == [
            "G20",
            "G20.A1",
            "S72.001A",
            "A00-A09",
            "Z47.1",
        ]


def _run_lookup(cache_dir: Path | None) -> list[str]:
    """In a fresh process: is simple_icd_10_cm imported before and after one lookup?"""
    argument = "" if cache_dir is None else f"Path({str(cache_dir)!r})"
    script = (
        "import sys\n"
        "from datetime import date\n"
        "from pathlib import Path\n"
        "from handrail.officialdata.icd10cm_packaged import PackagedIcd10Cm\n"
        f"codes = PackagedIcd10Cm({argument})\n"
        "print('simple_icd_10_cm' in sys.modules)\n"
        "assert codes.lookup('G20', date(2026, 1, 5)).billable_children[0] == 'G20.A1'\n"
        "print('simple_icd_10_cm' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-W", "error::DeprecationWarning", "-c", script],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.split()


class CachedIndexTests:
    """The compact index kept in the data folder instead of importing the package each time."""

    def test_the_first_process_writes_the_index_and_later_ones_skip_the_package(
        self, tmp_path: Path
    ) -> None:
        assert _run_lookup(tmp_path) == ["False", "True"]
        assert cache_path(tmp_path).is_file()
        assert _run_lookup(tmp_path) == ["False", "False"]

    def test_answers_from_the_cached_index_equal_those_from_the_package(
        self, tmp_path: Path
    ) -> None:
        PackagedIcd10Cm(tmp_path).lookup("G20", IN_FY2026)  # writes the index
        cached = PackagedIcd10Cm(tmp_path)
        for code in ("I69.351", "G20", "S72.001", "M54.5", "ZZZ.99", "A00-A09", "", "z471"):
            assert cached.lookup(code, IN_FY2026) == lookup(code)

    @pytest.mark.parametrize(
        "damage",
        [b"", b"{not a database", b"truncated"],
        ids=["empty", "not-sqlite", "cut-short"],
    )
    def test_a_damaged_index_is_rebuilt(self, tmp_path: Path, damage: bytes) -> None:
        PackagedIcd10Cm(tmp_path).lookup("G20", IN_FY2026)
        path = cache_path(tmp_path)
        whole = path.read_bytes()
        path.write_bytes(whole[: len(whole) // 2] if damage == b"truncated" else damage)
        assert PackagedIcd10Cm(tmp_path).lookup("I69.351", IN_FY2026) == lookup("I69.351")
        assert len(path.read_bytes()) == len(whole)

    @pytest.mark.parametrize("key", ["format", "package", "previous_sha256"])
    def test_an_index_made_from_other_data_is_rebuilt(self, tmp_path: Path, key: str) -> None:
        """Another index layout, package version or FY2025 changes file: made again."""
        PackagedIcd10Cm(tmp_path).lookup("G20", IN_FY2026)
        path = cache_path(tmp_path)
        with closing(sqlite3.connect(path)) as conn, conn:
            conn.execute("UPDATE meta SET value = 'other' WHERE key = ?", (key,))
            conn.execute("DELETE FROM fy2026 WHERE code = 'I69.351'")
        assert PackagedIcd10Cm(tmp_path).lookup("I69.351", IN_FY2026).billable is True
        with closing(sqlite3.connect(path)) as conn:
            assert conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone() != (
                "other",
            )

    def test_it_counts_both_releases_from_the_index(self, tmp_path: Path) -> None:
        cached = PackagedIcd10Cm(tmp_path)
        assert (cached.code_count(), cached.previous_code_count()) == (
            CODES.code_count(),
            CODES.previous_code_count(),
        )
        with closing(sqlite3.connect(cache_path(tmp_path))) as conn:
            rows = conn.execute("SELECT count(*) FROM fy2026").fetchone()[0]
        assert cached.code_count() == rows > 90_000

    def test_a_process_reads_a_few_pages_not_the_code_set(self, tmp_path: Path) -> None:
        """Two lookups in a fresh process keep its private memory under 4 MB (the whole code
        set read into Python took about 40 MB): the index stays in the mapped file."""
        PackagedIcd10Cm(tmp_path).lookup("G20", IN_FY2026)
        script = (
            "from datetime import date\n"
            "from pathlib import Path\n"
            "from handrail.officialdata.icd10cm_packaged import PackagedIcd10Cm\n"
            "def anon():\n"
            "    with open('/proc/self/status') as f:\n"
            "        return next(int(l.split()[1]) for l in f if l.startswith('RssAnon'))\n"
            f"codes = PackagedIcd10Cm(Path({str(tmp_path)!r}))\n"
            "before = anon()\n"
            "codes.lookup('I69.351', date(2026, 3, 1))\n"
            "codes.lookup('G20', date(2025, 3, 1))\n"
            "print(anon() - before)\n"
        )
        out = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=True
        )
        assert int(out.stdout) < 4 * 1024  # kB

    def test_a_folder_it_cannot_write_to_only_costs_speed(self, tmp_path: Path) -> None:
        blocker = tmp_path / "a-file"
        blocker.write_text("not a folder", encoding="utf-8")
        codes = PackagedIcd10Cm(blocker / "cache")
        assert codes.lookup("I69.351", IN_FY2026) == lookup("I69.351")
        assert not (blocker / "cache").exists()
        assert list(tmp_path.iterdir()) == [blocker]


def test_billable_children_follow_the_package_for_every_category() -> None:
    """Reading children off the tabular-order index equals the package's own descendants."""
    from handrail.officialdata.icd10cm_packaged import _icd

    cm = _icd()
    compared = 0
    for code in cm.get_all_codes(with_dots=True):
        if not cm.is_category_or_subcategory(code) or cm.is_leaf(code):
            continue
        leaves = (child for child in cm.get_descendants(code) if cm.is_leaf(child))
        expected = tuple(islice(leaves, MAX_BILLABLE_CHILDREN))
        found = CODES.lookup(code, IN_FY2026)
        assert (found.exists, found.billable, found.billable_children) == (True, False, expected)
        compared += 1
    assert compared > 23_000  # every non-billable category and subcategory of FY2026
