"""The batch's JSON reading and writing: orjson where it agrees with the json module, json else.

The JSONL output is a contract: every line must be byte for byte what
`json.dumps(record, ensure_ascii=False, separators=(",", ":"))` writes, and every input line
must be read to the same values (or the same error) as `json.loads`.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from handrail.cli.commands import _batch_dumps, _batch_loads


def stdlib_line(record: Any) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"


class BatchJsonTests:
    @pytest.mark.parametrize(
        "value",
        [0.0, -0.0, 0.01, 29.06, 2537.54, 1e-05, 1.234e-05, 2.5e-07, 0.0001, 1e16, 1e20, 5e-324],
    )
    def test_it_writes_floats_as_the_json_module_does(self, value: float) -> None:
        record = {"line": 1, "ok": True, "result": {"amount": value, "list": [value]}}
        assert _batch_dumps(record) == stdlib_line(record)

    def test_it_writes_text_as_the_json_module_does(self) -> None:
        text = 'é naïve \u2028 \x00\x1f\x7f "quoted" back\\slash / re-evaluation 1e-5'
        record = {"line": 2, "ok": False, "error": {"field": "note", "message": text}}
        assert _batch_dumps(record) == stdlib_line(record)

    def test_it_writes_lone_surrogates_and_huge_integers_as_the_json_module_does(self) -> None:
        record = {"line": 3, "ok": False, "error": {"field": "\ud800", "message": 2**70}}
        assert _batch_dumps(record) == stdlib_line(record)

    @pytest.mark.parametrize(
        "line",
        [
            '{"units": 18446744073709551616}\n',  # past 64 bits: json reads an int
            '{"minutes": -9223372036854775809}',  # under -2**63: also a float in orjson
            '{"minutes": -9223372036854775808}',
            '{"units": 18446744073709551615}',
            '{"accrued_before": 1840.505000000000000001}',
            '{"a": 1, "a": 2}',
            '{"text": "\\ud800 lone"}',
            '{"date": "2026-03-14", "x": [1.5, -0, 1e2, 0.1]}',
        ],
    )
    def test_it_reads_the_values_the_json_module_reads(self, line: str) -> None:
        value = _batch_loads(line)
        expected = json.loads(line)
        assert value == expected
        assert repr(value) == repr(expected)  # same types too (int stays int)

    @pytest.mark.parametrize(
        "line",
        ['{"date": NaN}', '{"x": Infinity}', '{"x": 1e400}'],
    )
    def test_it_reads_what_only_the_json_module_accepts(self, line: str) -> None:
        assert repr(_batch_loads(line)) == repr(json.loads(line))

    @pytest.mark.parametrize("line", ['{"bad json"', "\ufeff{}", "[1,]"])
    def test_it_raises_the_json_module_error(self, line: str) -> None:
        with pytest.raises(json.JSONDecodeError) as ours:
            _batch_loads(line)
        with pytest.raises(json.JSONDecodeError) as theirs:
            json.loads(line)
        assert (ours.value.msg, ours.value.colno) == (theirs.value.msg, theirs.value.colno)
