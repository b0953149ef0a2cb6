"""Property: whatever the arguments and files, the CLI keeps its contract (issue #2).

Exit 0, or exit 2 with exactly one line on stderr starting "handrail: error: ", nothing on
stdout and never a traceback; `batch` exits 0 and writes one record per non-blank input line.
The streams are UTF-8 text streams like a real terminal's (stdout and stdin strict, stderr
backslashreplace), so an unencodable answer fails here as it would for a user.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from handrail.cli.main import main
from handrail.rules.catalog import CATALOG
from tests.properties.strategies import (
    EDGE_NUMBERS,
    EDGE_TEXT,
    JSON_SCALARS,
    bounded,
    field_mutated_visits,
    gpci_localities,
    mutated_visits,
    valid_visits,
)
from tests.properties.test_visit import cms_table_units

CODES = sorted(CATALOG)


@pytest.fixture(scope="module", autouse=True)
def empty_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HANDRAIL_DATA_DIR", str(tmp_path_factory.mktemp("cli-data")))
        yield


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli-files")


def run_cli(argv: list[str], stdin: bytes = b"") -> tuple[int, str, str]:
    """Run `handrail argv` in-process; exit status, stdout and stderr as the user sees them."""
    out, err = io.BytesIO(), io.BytesIO()
    stdout = io.TextIOWrapper(out, encoding="utf-8", errors="strict", write_through=True)
    stderr = io.TextIOWrapper(err, encoding="utf-8", errors="backslashreplace")
    saved_stdin = sys.stdin
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8", errors="strict")
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                status = main(argv)
            except SystemExit as exit_:  # argparse: usage errors (2) and --help (0)
                status = exit_.code if isinstance(exit_.code, int) else 0
            stdout.flush()
            stderr.flush()
    finally:
        sys.stdin = saved_stdin
    return status, out.getvalue().decode("utf-8"), err.getvalue().decode("utf-8")


def _no_constants(name: str) -> Any:
    raise AssertionError(f"stdout holds {name}, which is not JSON")


def assert_contract(argv: list[str], stdin: bytes = b"") -> Any:
    """Run the command and check the contract; the JSON document printed, if any, else None."""
    status, out, err = run_cli(argv, stdin)
    assert "Traceback" not in err
    assert status in (0, 2), (status, err)
    if status == 2:
        assert err.startswith("handrail: error: "), err
        assert err.endswith("\n") and err.count("\n") == 1, err
        assert "\r" not in err, err
        assert out == "", out
        return None
    options = argv[: argv.index("--")] if "--" in argv else argv
    if "--json" in options and not {"-h", "--help"} & set(options):
        return json.loads(out, parse_constant=_no_constants)
    return None


def check_units_document(document: dict[str, Any]) -> None:
    """`handrail units --json`: the issue #2 keys; totals agree with the codes (§20.2)."""
    assert {"rule", "total_timed_minutes", "total_units", "codes", "explanation"} <= set(document)
    assert document["total_units"] == sum(item["units"] for item in document["codes"])
    timed = [item for item in document["codes"] if CATALOG[item["code"]].timed]
    assert document["total_timed_minutes"] == sum(item["minutes"] for item in timed)
    if document["rule"] == "cms":
        assert sum(item["units"] for item in timed) == cms_table_units(
            document["total_timed_minutes"]
        )
    else:
        assert all(item["units"] == cms_table_units(item["minutes"]) for item in timed)


def check_price_document(document: dict[str, Any]) -> None:
    keys = {"code", "year", "locality", "rvu", "gpci", "conversion_factor", "unit_amount"}
    assert keys | {"amount", "source"} <= set(document)
    assert set(document["rvu"]) >= {"work", "pe", "mp"}
    assert set(document["gpci"]) >= {"work", "pe", "mp"}
    assert document["unit_amount"] >= 0 and document["amount"] >= 0
    assert round(document["amount"], 2) == document["amount"]


def check_edits_document(document: dict[str, Any]) -> None:
    assert {"pairs", "mue"} <= set(document)
    for pair in document["pairs"]:
        assert {"column1", "column2", "modifier_indicator", "source"} <= set(pair)
    for edit in document["mue"]:
        assert {"code", "max_units", "source"} <= set(edit)


DATES = st.one_of(
    st.dates().map(lambda day: day.isoformat()),
    st.dates(min_value=date(2025, 1, 1)).map(lambda day: day.isoformat()),
    st.builds("{}-{}-{}".format, st.integers(-1, 10000), st.integers(-1, 13), st.integers(-1, 32)),
    st.text(max_size=12),
    EDGE_TEXT,
)
TOKENS = st.one_of(st.text(max_size=20), EDGE_TEXT, JSON_SCALARS.map(json.dumps))
CODE_TOKENS = st.one_of(
    st.sampled_from(CODES),
    st.sampled_from(CODES).map(str.lower),
    st.sampled_from(CODES).map(lambda code: f" {code}\t"),
    TOKENS,
)
MINUTE_TOKENS = st.one_of(
    st.integers(-10, 200).map(str),
    st.integers().map(str),
    EDGE_NUMBERS.map(str),
    TOKENS,
)
CODE_MINUTES = st.one_of(
    st.builds("{}={}".format, CODE_TOKENS, MINUTE_TOKENS),
    TOKENS,
)
LOCALITIES = st.one_of(
    st.sampled_from(sorted({key for keys in gpci_localities().values() for key in keys})),
    TOKENS,
)
ZIPS = st.one_of(st.integers(0, 99999).map(lambda number: f"{number:05d}"), TOKENS)


def options(*choices: st.SearchStrategy[list[str]]) -> st.SearchStrategy[list[str]]:
    """Any number of the given option groups, each a list of argv tokens, flattened."""
    return st.lists(st.one_of(*choices), max_size=4).map(
        lambda groups: [token for group in groups for token in group]
    )


VISIT = {"date": "2026-03-14", "discipline": "PT", "lines": [{"code": "97110", "minutes": 30}]}
VISIT_JSON = st.one_of(valid_visits(), mutated_visits(), field_mutated_visits()).map(json.dumps)
VISIT_BYTES = st.one_of(
    st.binary(max_size=200),
    VISIT_JSON.map(str.encode),
    st.tuples(VISIT_JSON, st.binary(max_size=4)).map(lambda pair: pair[0].encode()[:-1] + pair[1]),
    JSON_SCALARS.map(lambda value: json.dumps(value).encode()),
)
BATCH_LINES = st.one_of(
    st.binary(max_size=60),
    st.text(max_size=30).map(lambda text: text.encode("utf-8", errors="surrogatepass")),
    st.sampled_from([b"", b" ", b"\t", b"\xef\xbb\xbf", b"\x85", b"NaN", b"[1e400]"]),
    JSON_SCALARS.map(lambda value: json.dumps(value).encode()),
    VISIT_JSON.map(str.encode),
).map(lambda line: line.replace(b"\n", b" ").replace(b"\r", b" "))


JSON_FLAG = st.just(["--json"])
DATE_OPTION = DATES.map(lambda value: ["--date", value])
STRAY = TOKENS.map(lambda value: [value])


class CliPropertyTests:
    @bounded(120)
    @given(
        st.lists(CODE_MINUTES, min_size=0, max_size=5),
        options(
            JSON_FLAG,
            DATE_OPTION,
            st.sampled_from(["cms", "per-code", "CMS", ""]).map(lambda rule: ["--rule", rule]),
            STRAY,
        ),
    )
    @example(["97535=23", "97530=16"], ["--json", "--date", "2026-03-12"])
    @example(["97535=-5"], ["--json"])
    @example(["97550=20"], ["--date", "2023-12-31"])
    def test_it_keeps_the_contract_for_units(self, items: list[str], extra: list[str]) -> None:
        document = assert_contract(["units", *items, *extra])
        if document is not None:
            check_units_document(document)

    @bounded(120)
    @given(
        CODE_TOKENS,
        options(
            JSON_FLAG,
            DATE_OPTION,
            MINUTE_TOKENS.map(lambda units: ["--units", units]),
            LOCALITIES.map(lambda key: ["--locality", key]),
            ZIPS.map(lambda zip5: ["--zip", zip5]),
            st.sampled_from([["--facility"], ["--qp"]]),
            STRAY,
        ),
    )
    @example("97535", ["--json", "--date", "2026-03-12", "--locality", "01182-18"])
    @example("97110", ["--zip", "62701", "--date", "2025-11-02", "--units", "4"])
    def test_it_keeps_the_contract_for_price(self, code: str, extra: list[str]) -> None:
        document = assert_contract(["price", code, *extra])
        if document is not None:
            check_price_document(document)

    @bounded(80)
    @given(st.lists(CODE_TOKENS, min_size=0, max_size=5), options(JSON_FLAG, DATE_OPTION, STRAY))
    @example(["97140", "97530"], ["--json", "--date", "2026-03-12"])
    def test_it_keeps_the_contract_for_edits(self, codes: list[str], extra: list[str]) -> None:
        document = assert_contract(["edits", *codes, *extra])
        if document is not None:
            check_edits_document(document)

    @bounded(100)
    @given(VISIT_BYTES, st.booleans())
    @example(b"", False)
    @example(b"\xff\xfe{", False)
    def test_it_keeps_the_contract_for_a_visit_file(
        self, workdir: Path, content: bytes, json_flag: bool
    ) -> None:
        path = workdir / "visit.json"
        path.write_bytes(content)
        flag = ["--json"] if json_flag else []
        assert_contract(["visit", str(path), *flag])

    @pytest.mark.parametrize(
        "argv",
        [
            ["units", "\n=5"],
            ["units", "97535=1\n0"],
            ["units", "97535=5", "--x\ny"],
        ],
    )
    def test_it_keeps_an_error_with_a_line_break_on_one_line(self, argv: list[str]) -> None:
        status, out, err = run_cli(argv)
        assert status == 2
        assert err.startswith("handrail: error: ") and err.count("\n") == 1, err

    # Found by these properties: a strict UTF-8 stdin raised UnicodeDecodeError (b3e6ead).
    def test_it_refuses_stdin_that_is_not_utf8_on_one_line(self) -> None:
        status, out, err = run_cli(["visit", "-"], b"\xff{")
        assert status == 2 and err.startswith("handrail: error: <stdin>"), err

    @bounded(80)
    @given(VISIT_BYTES, st.booleans())
    @example(b'{"date": "2026-03-14", "discipline": "PT", "lines": []}', True)
    def test_it_keeps_the_contract_for_a_visit_on_stdin(
        self, content: bytes, json_flag: bool
    ) -> None:
        flag = ["--json"] if json_flag else []
        assert_contract(["visit", "-", *flag], content)

    @bounded(30)
    @given(
        st.lists(BATCH_LINES, max_size=12),
        st.sampled_from([b"\n", b"\r\n"]),
        st.booleans(),
    )
    @example([b"", b"   ", b"\xff\xfe", b"null", b"[]", b'"visit"', b"{}"], b"\n", False)
    @example([json.dumps(VISIT).encode(), b"", b"\x00"], b"\r\n", True)
    def test_it_writes_one_record_per_non_blank_batch_line(
        self, workdir: Path, lines: list[bytes], newline: bytes, to_stdout: bool
    ) -> None:
        source, target = workdir / "in.jsonl", workdir / "out.jsonl"
        source.write_bytes(newline.join(lines) + (newline if lines else b""))
        target.unlink(missing_ok=True)
        output = [] if to_stdout else ["-o", str(target)]
        status, out, err = run_cli(["batch", str(source), *output])
        assert status == 0, err
        assert "Traceback" not in err
        expected = [
            number
            for number, line in enumerate(lines, start=1)
            if line.decode("utf-8", errors="replace").strip()
        ]
        written = (out if to_stdout else target.read_text(encoding="utf-8")).split("\n")
        assert written[-1] == ""
        records = [json.loads(text, parse_constant=_no_constants) for text in written[:-1]]
        assert [record["line"] for record in records] == expected
        for record in records:
            if record["ok"]:
                assert set(record) == {"line", "ok", "result"}
                assert record["result"]["claim_lines"] is not None
            else:
                assert record["ok"] is False and set(record) == {"line", "ok", "error"}
                assert isinstance(record["error"]["field"], str) and record["error"]["field"]
                assert isinstance(record["error"]["message"], str)
                assert record["error"]["message"]

    def test_it_writes_a_batch_line_with_a_lone_surrogate(self, workdir: Path) -> None:
        source, target = workdir / "surrogate.jsonl", workdir / "surrogate.out.jsonl"
        visit = {**VISIT, "diagnoses": ["\udcff"]}
        source.write_text(json.dumps(visit) + "\n", encoding="utf-8")
        status, out, err = run_cli(["batch", str(source), "-o", str(target)])
        assert status == 0, err
        [record] = [json.loads(text) for text in target.read_text(encoding="utf-8").splitlines()]
        assert record["ok"] is False and record["error"]["field"] == "diagnoses[0]"

    @pytest.mark.parametrize("command", ["visit", "batch"])
    def test_it_refuses_a_number_past_the_digit_limit(self, workdir: Path, command: str) -> None:
        source = workdir / f"long-number-{command}.json"
        text = json.dumps(VISIT).replace('"minutes": 30', '"minutes": ' + "1" * 5000)
        source.write_text(text + "\n", encoding="utf-8")
        if command == "visit":
            assert_contract(["visit", str(source)])
            return
        target = workdir / "long-number.out.jsonl"
        status, out, err = run_cli(["batch", str(source), "-o", str(target)])
        assert status == 0, err
        [record] = [json.loads(text) for text in target.read_text(encoding="utf-8").splitlines()]
        assert record["line"] == 1 and record["ok"] is False

    @pytest.mark.parametrize("command", ["visit", "batch"])
    def test_it_refuses_json_nested_too_deep(self, workdir: Path, command: str) -> None:
        source = workdir / f"deep-{command}.json"
        source.write_text("[" * 100_000 + "]" * 100_000 + "\n", encoding="utf-8")
        if command == "visit":
            assert_contract(["visit", str(source)])
            return
        target = workdir / "deep.out.jsonl"
        status, out, err = run_cli(["batch", str(source), "-o", str(target)])
        assert status == 0, err
        [record] = [json.loads(text) for text in target.read_text(encoding="utf-8").splitlines()]
        assert record["line"] == 1 and record["ok"] is False
