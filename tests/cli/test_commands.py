"""The CLI contract: one JSON document with --json, exit 2 and one line on bad input."""

from __future__ import annotations

import csv
import gc
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from handrail.cli.main import main
from tests.rules.conftest import LOCALITY_FILES, shared_cms_file

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "ot_visit.json"


@pytest.fixture(autouse=True)
def empty_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HANDRAIL_DATA_DIR", str(tmp_path / "data"))


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exit_:  # argparse usage errors leave through SystemExit(2)
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0, err
    return json.loads(out)


def import_locality_files(capsys: pytest.CaptureFixture[str]) -> None:
    """Import the shared CMS GPCI and ZIP5 files through the CLI, as a clinic admin would."""
    for kind, name in LOCALITY_FILES:
        run_json(capsys, "data", "import", kind, str(shared_cms_file(name)))


def assert_bad_input(capsys: pytest.CaptureFixture[str], argv: list[str], text: str) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("handrail: error: "), err
    assert text in err
    assert "Traceback" not in err


class UnitsCommandTests:
    def test_it_prints_the_contract(self, capsys: pytest.CaptureFixture[str]) -> None:
        doc = run_json(capsys, "units", "97535=24", "97530=16", "--date", "2026-03-12")
        assert doc["rule"] == "cms"
        assert doc["total_timed_minutes"] == 40
        assert doc["total_units"] == 3
        assert doc["codes"] == [
            {"code": "97535", "minutes": 24, "units": 2},
            {"code": "97530", "minutes": 16, "units": 1},
        ]
        assert doc["explanation"][0].startswith("CMS total-time rule: timed minutes 97535 24")

    def test_it_applies_the_per_code_rule(self, capsys: pytest.CaptureFixture[str]) -> None:
        doc = run_json(capsys, "units", "--rule", "per-code", "97110=7", "97140=7")
        assert doc["total_units"] == 0

    def test_it_prints_for_people_without_json(self, capsys: pytest.CaptureFixture[str]) -> None:
        code, out, _ = run(capsys, "units", "97535=23")
        assert code == 0
        assert "Total: 23 timed minutes, 2 unit(s)" in out

    @pytest.mark.parametrize(
        ("argv", "text"),
        [
            (["units", "97535"], "write each service as CODE=MINUTES"),
            (["units", "99999=10"], "unknown code '99999'"),
            (["units", "97535=-4"], "is negative"),
            (["units", "97535=ten"], "minutes must be a whole number"),
            (["units", "97535=2000"], "more than a day"),
            (["units", "--rule", "ama", "97535=10"], "invalid choice: 'ama'"),
            (["units", "--date", "2026-13-01", "97535=10"], "not a valid date"),
            (["units", "--date", "2023-06-01", "97550=30"], "did not exist before 2024-01-01"),
        ],
    )
    def test_it_rejects_bad_input_in_one_line(
        self, capsys: pytest.CaptureFixture[str], argv: list[str], text: str
    ) -> None:
        assert_bad_input(capsys, argv, text)


class PriceCommandTests:
    def test_it_prices_nationally(self, capsys: pytest.CaptureFixture[str]) -> None:
        doc = run_json(capsys, "price", "97535", "--date", "2025-06-01")
        assert {key: doc[key] for key in ("code", "year", "locality", "conversion_factor")} == {
            "code": "97535",
            "year": 2025,
            "locality": "national",
            "conversion_factor": 32.3465,
        }
        assert doc["rvu"] == {"work": 0.45, "pe": 0.53, "mp": 0.01}
        assert doc["gpci"] == {"work": 1.0, "pe": 1.0, "mp": 1.0}
        assert (doc["unit_amount"], doc["amount"], doc["status"], doc["paid"]) == (
            32.02,
            32.02,
            "A",
            True,
        )
        assert doc["release"] == "RVU25D"
        assert doc["source"].startswith("RVU25D; CY2025 CF 32.3465")
        assert "note" not in doc

    @pytest.mark.parametrize(
        "where", [["--zip", "10001"], ["--locality", "13202-01"], ["--locality", " 13202-01 "]]
    )
    def test_it_prices_manhattan_on_a_fresh_install(
        self, capsys: pytest.CaptureFixture[str], where: list[str]
    ) -> None:
        # The data directory is empty: the built-in GPCI and ZIP-to-locality tables answer.
        doc = run_json(capsys, "price", "97535", "--date", "2026-03-12", "--units", "2", *where)
        assert (doc["locality"], doc["locality_name"]) == ("13202-01", "Manhattan (NY)")
        assert doc["gpci"] == {"work": 1.064, "pe": 1.162, "mp": 1.586}
        # (0.45 x 1.064 + 0.51 x 1.162 + 0.01 x 1.586) x 33.4009 = 36.3161; the second unit
        # at half PE: (0.4788 + 0.29631 + 0.01586) x 33.4009 = 26.4198
        assert (doc["unit_amount"], doc["amount"], doc["amount_with_mppr"]) == (
            36.32,
            72.64,
            62.74,
        )
        assert "note" not in doc
        via = "; ZIP5 2025Q4" if where[0] == "--zip" else ""
        assert doc["source"].endswith(f"GPCI GPCI2026{via}")

    def test_it_prints_manhattan_for_people(self, capsys: pytest.CaptureFixture[str]) -> None:
        code, out, err = run(capsys, "price", "97535", "--zip", "10001", "--date", "2025-06-01")
        assert (code, err) == (0, "")
        assert out == (
            "97535 Self-care/home management training (2025-06-01, Manhattan (NY), "
            "non-facility)\n"
            "  RVU  work 0.45  PE 0.53  MP 0.01\n"
            "  GPCI work 1.065  PE 1.166  MP 1.656\n"
            "  Conversion factor 32.3465\n"
            "  Per unit $36.03; 1 unit(s) $36.03 (with therapy MPPR $36.03)\n"
            "  Source: RVU25D; CY2025 CF 32.3465 (CMS PFS RVU25D (PPRRVU2025_Oct, CONV FACTOR "
            "column)); GPCI GPCI2025; ZIP5 2025Q4\n"
        )

    def test_it_prices_by_the_imported_locality_files_too(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        import_locality_files(capsys)
        doc = run_json(
            capsys,
            "price",
            "97535",
            "--units",
            "2",
            "--date",
            "2026-06-01",
            "--locality",
            "01182-18",
        )
        assert (doc["unit_amount"], doc["amount"], doc["amount_with_mppr"]) == (
            36.02,
            72.04,
            61.96,
        )
        by_zip = run_json(capsys, "price", "97535", "--date", "2026-06-01", "--zip", "90012")
        assert by_zip["locality"] == "01182-18"
        assert "note" not in by_zip

    def test_it_warns_when_the_zip_spans_localities(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        spanning = run_json(capsys, "price", "97535", "--date", "2026-06-01", "--zip", "35958")
        assert (spanning["locality"], spanning["unit_amount"]) == ("10112-00", 30.12)
        assert spanning["note"] == (
            "ZIP 35958 lies in more than one Medicare locality (CMS prices it by ZIP+4); "
            "priced in 10112-00, the locality of its ZIP5 row. Give the locality of the "
            "patient's ZIP+4 (CMS ZIP9 file) as MAC-LOC instead of the ZIP."
        )

    def test_it_prices_nationally_and_says_so_only_when_the_zip_is_missing(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        doc = run_json(capsys, "price", "97535", "--date", "2026-06-01", "--zip", "00000")
        assert (doc["locality"], doc["unit_amount"]) == ("national", 32.40)
        assert doc["note"] == (
            "Priced at national rates: ZIP 00000 is not in the ZIP-to-locality table ZIP5 "
            "2025Q4. Check the ZIP; if it is right, give its Medicare locality as MAC-LOC "
            "(e.g. 13202-01 (Manhattan)) or import a newer CMS ZIP5 file with "
            "`handrail data import zip5 FILE`."
        )

    @pytest.mark.parametrize(
        ("argv", "text"),
        [
            (
                ["--locality", "01182-77"],
                "--locality: no Medicare locality 01182-77 in GPCI2026; write MAC-LOC as in the "
                "GPCI file, e.g. 13202-01 (Manhattan)",
            ),
            (["--zip", "ABCDE"], "--zip: 'ABCDE' is not a ZIP code; give 5 digits, e.g. 10001"),
            (["--zip", "1000"], "--zip: '1000' is not a ZIP code; give 5 digits"),
            (["--zip", ""], "--zip: '' is not a ZIP code; give 5 digits"),
            (
                ["--locality", "13202"],
                "--locality: '13202' is not a Medicare locality; write MAC-LOC as in the GPCI "
                "file (5-digit MAC, 2-digit locality), e.g. 13202-01 (Manhattan)",
            ),
            (["--locality", "13202-1"], "--locality: '13202-1' is not a Medicare locality"),
        ],
    )
    def test_it_rejects_an_unknown_locality_and_a_malformed_zip_or_locality(
        self, capsys: pytest.CaptureFixture[str], argv: list[str], text: str
    ) -> None:
        assert_bad_input(capsys, ["price", "97535", "--date", "2026-01-05", *argv], text)

    def test_it_uses_the_qualifying_apm_factor(self, capsys: pytest.CaptureFixture[str]) -> None:
        doc = run_json(capsys, "price", "97535", "--date", "2026-06-01", "--qp")
        assert (doc["conversion_factor"], doc["unit_amount"]) == (33.5675, 32.56)

    @pytest.mark.parametrize(
        ("argv", "text"),
        [
            (["price", "97535", "--date", "2024-05-01"], "no fee schedule with 97535"),
            (["price", "97535", "--date", "2028-05-01"], "no fee schedule with 97535 is loaded"),
            (
                ["price", "97535", "--units", "0"],
                "--units: 0 is out of range; give 1 to 100 units",
            ),
            (["price", "97535", "--units", "101"], "--units: 101 is out of range"),
            (["price", "97535", "--zip", "62701", "--locality", "01182-18"], "not allowed with"),
            (
                ["price", "9753", "--date", "2026-01-05"],
                "CODE: '9753' is not a HCPCS/CPT code; give 5 characters, e.g. 97535 or G0283",
            ),
            (
                ["price", "99213", "--date", "2026-01-05"],
                "CODE: 99213 is not in the fee schedule loaded for 2026 (RVU26C, therapy codes "
                "only); check the code, or import the year's full CMS PPRRVU file with "
                "`handrail data import pfs FILE` to price any code of the fee schedule",
            ),
        ],
    )
    def test_it_rejects_bad_input_in_one_line(
        self, capsys: pytest.CaptureFixture[str], argv: list[str], text: str
    ) -> None:
        assert_bad_input(capsys, argv, text)


class PriceAnyCodeTests:
    """After `data import pfs` of a full PPRRVU file, `price` answers for every code in it."""

    @pytest.fixture(autouse=True)
    def full_2026_fee_schedule(self, capsys: pytest.CaptureFixture[str]) -> None:
        run_json(
            capsys, "data", "import", "pfs", str(shared_cms_file("PPRRVU2026_Jul_nonQPP.csv"))
        )

    @pytest.mark.parametrize(
        ("code", "where", "expected"),
        [
            # 99213: (1.30 x 1.064 + 1.46 x 1.162 + 0.09 x 1.586) x 33.4009 = 107.6323
            ("99213", ["--zip", "10001"], 107.63),
            # 92523: (3.84 + 2.93 + 0.01) x 33.4009 = 226.4581
            ("92523", [], 226.46),
            # 97129: (0.50 + 0.16 + 0.01) x 33.4009 = 22.3786
            ("97129", [], 22.38),
            # 29540: (0.38 + 0.43 + 0.03) x 33.4009 = 28.0568
            ("29540", [], 28.06),
        ],
    )
    def test_it_prices_a_code_outside_the_therapy_catalog(
        self, capsys: pytest.CaptureFixture[str], code: str, where: list[str], expected: float
    ) -> None:
        doc = run_json(capsys, "price", code, "--date", "2026-08-01", *where)
        assert (doc["code"], doc["status"], doc["paid"], doc["unit_amount"]) == (
            code,
            "A",
            True,
            expected,
        )
        assert (doc["release"], "note" in doc) == ("RVU26C", False)

    def test_it_prints_a_code_outside_the_catalog_without_a_summary(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        code, out, _ = run(capsys, "price", "99213", "--date", "2026-08-01")
        assert code == 0
        assert (
            out.splitlines()[0] == "99213 (2026-08-01, National (all GPCIs 1.000), non-facility)"
        )

    @pytest.mark.parametrize(
        ("code", "status", "meaning"),
        [
            ("97010", "B", "bundled into other services"),
            ("0001F", "I", "not valid for Medicare"),
            ("97014", "I", "not valid for Medicare"),
        ],
    )
    def test_it_prices_an_unpaid_status_at_zero_and_says_why(
        self, capsys: pytest.CaptureFixture[str], code: str, status: str, meaning: str
    ) -> None:
        doc = run_json(capsys, "price", code, "--units", "2", "--date", "2026-08-01")
        assert (doc["status"], doc["paid"]) == (status, False)
        assert (doc["unit_amount"], doc["amount"], doc["amount_with_mppr"]) == (0.0, 0.0, 0.0)
        assert doc["note"] == (
            f"Status {status} in RVU26C ({meaning}): not paid under the Medicare fee schedule, "
            "so $0.00 (CMS PFS relative value file documentation (RVU25D), status code, "
            "Attachment A)."
        )

    def test_it_prices_every_status_of_the_file_as_the_documentation_says(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        # One code of each status letter in the real file: only A, R and T are paid.
        examples = cms_status_examples("PPRRVU2026_Jul_nonQPP.csv")
        assert sorted(examples) == sorted("ABCEIJMNPRTX")
        for status, code in examples.items():
            doc = run_json(capsys, "price", code, "--date", "2026-08-01")
            assert (doc["status"], doc["paid"]) == (status, status in "ART"), code
            if status not in "ART":
                assert doc["unit_amount"] == 0.0, code
                assert doc["note"].startswith(f"Status {status} in RVU26C ("), code

    def test_it_pays_the_same_zero_in_a_visit(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        # `price 97010 --units 2` once quoted $13.36 while a visit paid $0.00.
        record = {
            "date": "2026-08-01",
            "discipline": "PT",
            "payer": {"type": "medicare"},
            "lines": [{"code": "97110", "minutes": 30}, {"code": "97010", "minutes": 10}],
        }
        path = tmp_path / "visit.json"
        path.write_text(json.dumps(record))
        result = run_json(capsys, "visit", str(path))
        paid = {line["code"]: line["amount"] for line in result["claim_lines"]}
        priced = run_json(capsys, "price", "97010", "--date", "2026-08-01")
        assert paid["97010"] == priced["amount"] == 0.0


def cms_status_examples(name: str) -> dict[str, str]:
    """The first code of each status letter in a CMS PPRRVU file, read without Handrail."""
    with shared_cms_file(name).open(encoding="latin-1", newline="") as handle:
        rows = list(csv.reader(handle))
    start = next(i for i, row in enumerate(rows) if row and row[0] == "HCPCS")
    status_column = rows[start].index("CODE")  # STATUS over CODE in the stacked header
    examples: dict[str, str] = {}
    for row in rows[start + 1 :]:
        if len(row) > status_column and row[1] == "":
            examples.setdefault(row[status_column], row[0])
    return examples


class PriceOldYearTests:
    """A year before Handrail's own factors, priced by following the error's advice."""

    def test_it_prices_2022_after_importing_its_fee_schedule_as_advised(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        argv = ["price", "97535", "--units", "2", "--date", "2022-06-01", "--zip", "10001"]
        assert_bad_input(
            capsys,
            argv,
            "date: no fee schedule with 97535 is loaded for 2022; import that year's CMS "
            "PPRRVU file with `handrail data import pfs FILE`",
        )
        # No CY2022 file is at hand: the real CY2025 file, re-titled 2022, stands in for it
        # (its rows and CONV FACTOR 32.3465 unchanged).
        real = shared_cms_file("PPRRVU2025_Oct.csv").read_text(encoding="latin-1")
        old = tmp_path / "PPRRVU22_OCT.csv"
        old.write_text(real.replace("2025 National Physician", "2022 National Physician", 1))
        imported = run_json(capsys, "data", "import", "pfs", str(old))
        assert (imported["label"], imported["effective_from"]) == ("RVU22D", "2022-10-01")
        doc = run_json(capsys, *argv)
        # No CY2022 GPCIs are shipped: national, and the note says which file to import.
        assert (doc["conversion_factor"], doc["unit_amount"], doc["amount_with_mppr"]) == (
            32.3465,
            32.02,
            55.47,
        )
        assert doc["source"] == (
            "RVU22D; CY2022 (from RVU22D) CF 32.3465 (CMS PFS RVU22D (CONV FACTOR column)); "
            "GPCI national (no locality data loaded)"
        )
        assert doc["note"] == (
            "Priced at national rates: no GPCI file is loaded for 2022. Import the CMS 2022 "
            "GPCI file (Addendum E) with `handrail data import gpci FILE`."
        )
        # The note's advice works too (the CY2025 GPCIs, re-titled 2022, stand in).
        gpci = shared_cms_file("GPCI2025.csv").read_text(encoding="latin-1")
        old_gpci = tmp_path / "GPCI2022.csv"
        old_gpci.write_text(gpci.replace("2025", "2022"))
        run_json(capsys, "data", "import", "gpci", str(old_gpci))
        doc = run_json(capsys, *argv)
        # (0.45 x 1.065 + 0.53 x 1.166 + 0.01 x 1.656) x 32.3465 = 36.0272; the second unit
        # at half PE: (0.47925 + 0.30899 + 0.01656) x 32.3465 = 26.0325
        assert (doc["locality"], doc["unit_amount"], doc["amount_with_mppr"]) == (
            "13202-01",
            36.03,
            62.06,
        )
        assert "note" not in doc


class EditsCommandTests:
    def test_it_lists_pairs_and_mues(self, capsys: pytest.CaptureFixture[str]) -> None:
        doc = run_json(capsys, "edits", "97140", "97530", "97535", "--date", "2026-06-01")
        assert [(p["column1"], p["column2"], p["modifier_indicator"]) for p in doc["pairs"]] == [
            ("97140", "97530", 1)
        ]
        assert doc["pairs"][0]["source"].endswith("[unverified]")
        assert [(m["code"], m["max_units"]) for m in doc["mue"]] == [
            ("97140", 6),
            ("97530", 6),
            ("97535", 8),
        ]


class VisitCommandTests:
    def test_it_evaluates_the_example_visit(self, capsys: pytest.CaptureFixture[str]) -> None:
        import_locality_files(capsys)  # the example is priced in Springfield, IL (ZIP 62701)
        doc = run_json(capsys, "visit", str(EXAMPLE))
        assert [
            (c["code"], c["units"], c["modifiers"], c["amount"]) for c in doc["claim_lines"]
        ] == [
            ("97535", 2, ["GO"], 46.66),
            ("97530", 1, ["GO", "CO"], 28.49),
        ]
        assert doc["payment"]["allowed"] == 75.15
        assert doc["threshold"]["kx_required"] is False

    def test_it_reads_stdin(self) -> None:
        completed = subprocess.run(
            [sys.executable, "-m", "handrail", "visit", "-", "--json"],
            input=EXAMPLE.read_text(),
            capture_output=True,
            text=True,
            check=False,
        )
        assert completed.returncode == 0, completed.stderr
        assert json.loads(completed.stdout)["total_units"] == 3

    def test_it_names_the_line_and_column_of_malformed_json(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        bad = tmp_path / "bad.json"
        bad.write_text('{"date": "2026-01-05",\n  "lines": [}\n')
        assert_bad_input(capsys, ["visit", str(bad)], "bad.json: line 2 column 13: invalid JSON")

    def test_it_names_the_field_of_a_bad_record(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        record = json.loads(EXAMPLE.read_text())
        record["lines"][1]["assistant_minutes"] = 30
        bad = tmp_path / "visit.json"
        bad.write_text(json.dumps(record))
        assert_bad_input(capsys, ["visit", str(bad)], "lines[1].assistant_minutes: 30 is more")

    def test_it_reports_a_missing_file(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert_bad_input(capsys, ["visit", "/nonexistent/visit.json"], "no such file")


class BatchCommandTests:
    def test_it_streams_results_and_errors_line_by_line(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        import_locality_files(capsys)
        good = json.dumps(json.loads(EXAMPLE.read_text()))
        source = tmp_path / "in.jsonl"
        source.write_text(f'{good}\nnot json\n\n{{"date": "2026-01-05"}}\n{good}\n')
        out = tmp_path / "out.jsonl"
        doc = run_json(capsys, "batch", str(source), "-o", str(out))
        assert (doc["visits"], doc["ok"], doc["errors"]) == (4, 2, 2)
        records = [json.loads(line) for line in out.read_text().splitlines()]
        assert [(r["line"], r["ok"]) for r in records] == [
            (1, True),
            (2, False),
            (4, False),
            (5, True),
        ]
        assert records[1]["error"]["field"] == "line"
        assert records[2]["error"] == {
            "field": "discipline",
            "message": "must be one of PT, OT, SLP",
        }
        assert records[0]["result"]["payment"]["allowed"] == 75.15
        # The scrub summary: the two evaluated visits' allowed total and their findings.
        assert (doc["allowed_total"], doc["visits_with_error_findings"]) == (150.3, 0)
        assert doc["findings"] == [
            {"rule": "threshold.nearing", "severity": "warning", "count": 2},
            {"rule": "doc.poc.progress-report-next", "severity": "info", "count": 2},
        ]

    def test_it_counts_visits_that_will_deny_and_lists_findings_for_people(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        vague = json.loads(EXAMPLE.read_text())
        vague["lines"][0]["note"] = {"text": "ADL training performed"}
        source = tmp_path / "in.jsonl"
        source.write_text(json.dumps(vague) + "\n" + EXAMPLE.read_text().replace("\n", "") + "\n")
        code, out, err = run(capsys, "batch", str(source), "-o", str(tmp_path / "out.jsonl"))
        assert code == 0 and err == ""
        lines = out.splitlines()
        assert lines[0].startswith("2 visits (2 evaluated, 0 refused as bad input) in ")
        assert lines[1] == (
            "Allowed $150.30 in all; 1 of 2 visits have an error finding (will deny as they stand)"
        )
        # Priced in Springfield, IL (ZIP 62701) by the built-in locality tables.
        assert lines[2:] == [
            "          1  error    doc.97535.vague",
            "          2  warning  threshold.nearing",
            "          2  info     doc.poc.progress-report-next",
        ]

    def test_it_writes_json_lines_to_stdout_without_an_output_file(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        source = tmp_path / "in.jsonl"
        source.write_text(json.dumps(json.loads(EXAMPLE.read_text())) + "\n")
        code, out, err = run(capsys, "batch", str(source))
        assert code == 0
        assert json.loads(out)["result"]["total_units"] == 3
        assert "1 visits (1 evaluated, 0 refused as bad input)" in err

    def test_it_gives_the_garbage_collector_back_as_it_found_it(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        # The batch pauses the cyclic collector (commands.COLLECT_EVERY); the engine test
        # tests/rules/test_visit.py::NoCycleTests shows evaluating visits makes no cycles.
        source = tmp_path / "in.jsonl"
        source.write_text(json.dumps(json.loads(EXAMPLE.read_text())) + "\nnot json\n")
        run_json(capsys, "batch", str(source), "-o", str(tmp_path / "out.jsonl"))
        assert gc.isenabled() and gc.get_freeze_count() == 0
        gc.disable()
        try:
            run_json(capsys, "batch", str(source), "-o", str(tmp_path / "out.jsonl"))
            assert gc.isenabled() is False
        finally:
            gc.enable()


class DataCommandTests:
    def test_it_lists_the_built_in_releases(self, capsys: pytest.CaptureFixture[str]) -> None:
        doc = run_json(capsys, "data", "status")
        labels = {(r["kind"], r["label"]) for r in doc["releases"]}
        assert {("pfs", "RVU25D"), ("pfs", "RVU26C")} <= labels
        # No copies of CMS files: the fee schedule, edit excerpts and the packaged ICD-10-CM.
        # The therapy codes' fee schedule, edit excerpts, the locality tables (whole: they hold
        # no AMA text) and the packaged ICD-10-CM.
        assert {r["kind"] for r in doc["releases"]} == {
            "pfs",
            "gpci",
            "zip5",
            "ptp",
            "mue",
            "icd10cm",
        }
        assert {("gpci", "GPCI2025"), ("gpci", "GPCI2026"), ("zip5", "ZIP5 2025Q4")} <= labels
        import_locality_files(capsys)
        doc = run_json(capsys, "data", "status")
        imported = {(r["kind"], r["label"]) for r in doc["releases"] if r["origin"] == "imported"}
        assert imported == {("gpci", "GPCI2025"), ("gpci", "GPCI2026"), ("zip5", "ZIP5 2025Q4")}

    def test_it_refuses_a_file_of_the_wrong_kind(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        wrong = tmp_path / "not-a-gpci.csv"
        wrong.write_text("hello,world\n1,2\n")
        code, out, err = run(capsys, "data", "import", "gpci", str(wrong))
        assert code == 2 and out == ""
        assert err.startswith("handrail: error: ") and err.count("\n") == 1
        assert "not-a-gpci.csv" in err

    def test_it_refuses_an_unknown_kind(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert_bad_input(capsys, ["data", "import", "rvu", "x.csv"], "invalid choice: 'rvu'")


class DefectTests:
    """A defect in the engine must never show a traceback or stop a batch."""

    @staticmethod
    def _broken(*_: object) -> None:
        raise ZeroDivisionError("boom\nsecond line")

    def test_it_turns_a_defect_into_one_batch_error_record(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr("handrail.cli.commands.evaluate_visit", self._broken)
        source = tmp_path / "in.jsonl"
        source.write_text(json.dumps(json.loads(EXAMPLE.read_text())) + "\n" + "{}\n")
        out = tmp_path / "out.jsonl"
        doc = run_json(capsys, "batch", str(source), "-o", str(out))
        assert (doc["visits"], doc["errors"]) == (2, 2)
        first = json.loads(out.read_text().splitlines()[0])
        assert first["error"] == {
            "field": "internal",
            "message": "internal error (ZeroDivisionError: boom\\nsecond line); please report it",
        }

    def test_it_reports_a_defect_in_one_line_with_status_1(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr("handrail.cli.commands.evaluate_visit", self._broken)
        code, out, err = run(capsys, "visit", str(EXAMPLE))
        assert (code, out) == (1, "")
        assert err == "handrail: internal error: ZeroDivisionError: boom\\nsecond line\n"


class BatchSummaryRenderTests:
    def test_it_lists_ten_rules_for_people_and_says_how_many_more(self) -> None:
        from handrail.cli.render import batch_summary

        findings = [
            {"rule": f"doc.rule-{n:02d}", "severity": "warning", "count": 20 - n}
            for n in range(12)
        ]
        summary = {
            "visits": 3,
            "ok": 2,
            "errors": 1,
            "seconds": 0.5,
            "visits_per_second": 6.0,
            "output": "out.jsonl",
            "allowed_total": 1234567.5,
            "visits_with_error_findings": 0,
            "findings": findings,
        }
        lines = batch_summary(summary).splitlines()
        assert lines[0] == (
            "3 visits (2 evaluated, 1 refused as bad input) in 0.5 s, 6.0 visits/s -> out.jsonl"
        )
        assert lines[1] == (
            "Allowed $1,234,567.50 in all; 0 of 2 visits have an error finding (will deny as "
            "they stand)"
        )
        assert lines[2] == "         20  warning  doc.rule-00"
        assert lines[11] == "         11  warning  doc.rule-09"
        assert lines[12:] == ["  ... 2 more rules (--json lists all)"]
