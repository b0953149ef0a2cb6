from __future__ import annotations

import hashlib
import hmac

import pytest

from handrail.claims.patterns import (
    MIN_CLINICS,
    MIN_REPORTS,
    DenialReport,
    Fix,
    ReportError,
    aggregate,
    clinic_key,
    is_shown,
    make_report,
)

SECRET = b"0123456789abcdef0123456789abcdef"


def _report(
    clinic: str,
    *,
    code: str = "97530",
    reason: str = "97",
    fix: str = "added_distinct_modifier",
    modifiers: tuple[str, ...] = ("GP",),
    kind: str = "medicare",
) -> DenialReport:
    return make_report(
        code=code, modifiers=modifiers, payer_kind=kind, group="CO", reason=reason,
        remarks=("N20",), fix=fix, clinic_key=clinic_key(SECRET, clinic),
    )  # fmt: skip


def _reports(per_clinic: dict[str, int], **kwargs: str) -> list[DenialReport]:
    return [_report(c, **kwargs) for c, n in per_clinic.items() for _ in range(n)]  # type: ignore[arg-type]


class ThresholdTests:
    def test_the_threshold_is_five_reports_from_three_clinics(self) -> None:
        assert (MIN_REPORTS, MIN_CLINICS) == (5, 3)

    @pytest.mark.parametrize(
        ("per_clinic", "shown"),
        [
            ({"a": 2, "b": 1, "c": 1}, False),  # 4 reports, 3 clinics
            ({"a": 3, "b": 2}, False),  # 5 reports, 2 clinics
            ({"a": 10, "b": 10}, False),  # many reports, 2 clinics
            ({"a": 3, "b": 1, "c": 1}, True),  # 5 reports, 3 clinics
            ({"a": 1, "b": 1, "c": 1, "d": 1, "e": 1}, True),
        ],
    )
    def test_boundaries(self, per_clinic: dict[str, int], shown: bool) -> None:
        patterns = aggregate(_reports(per_clinic))
        assert bool(patterns) is shown
        assert is_shown(sum(per_clinic.values()), len(per_clinic)) is shown

    def test_reports_for_another_reason_or_payer_type_do_not_count(self) -> None:
        reports = _reports({"a": 2, "b": 1}) + [
            _report("c", reason="50"),
            _report("d", kind="commercial"),
        ]
        assert aggregate(reports) == []

    def test_an_aggregate_counts_and_ranks_without_naming_clinics(self) -> None:
        reports = _reports({"a": 2, "b": 1}) + [
            _report("c", fix="appeal_won", modifiers=("GP", "59")),
            _report("c", fix="not_fixed_yet"),
        ]
        [pattern] = aggregate(reports)
        assert (pattern.code, pattern.payer_kind, pattern.reason) == ("97530", "medicare", "CO-97")
        assert (pattern.reports, pattern.clinics) == (5, 3)
        assert pattern.modifiers == (("GP", 4), ("GP:59", 1))
        assert pattern.remarks == (("N20", 5),)
        assert pattern.fixes == (("added_distinct_modifier", 3), ("appeal_won", 1))
        assert pattern.top_fix == "added_distinct_modifier"


class ClinicKeyTests:
    def test_it_is_hmac_sha256_of_the_identity(self) -> None:
        expected = hmac.new(SECRET, b"1234567893", hashlib.sha256).hexdigest()
        assert clinic_key(SECRET, "1234567893") == expected

    def test_another_secret_gives_another_key(self) -> None:
        assert clinic_key(SECRET, "1234567893") != clinic_key(b"x" * 32, "1234567893")

    def test_a_short_secret_is_refused(self) -> None:
        with pytest.raises(ValueError, match="at least 16 bytes"):
            clinic_key(b"short", "1234567893")


class MakeReportTests:
    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"code": "Ada Lovelace"}, "code"),
            ({"modifiers": ("GP", "59", "KX", "XU", "CQ")}, "modifiers"),
            ({"payer_kind": "acme"}, "payer_kind"),
            ({"group": "XX"}, "group"),
            ({"reason": "97 patient Ada"}, "reason"),
            ({"remarks": ("born 1948",)}, "remarks"),
            ({"fix": "called Ada at home"}, "fix"),
            ({"clinic_key": "Riverside Rehab"}, "clinic_key"),
        ],
    )
    def test_every_field_is_checked(self, changes: dict[str, object], field: str) -> None:
        values: dict[str, object] = {
            "code": "97530", "modifiers": ("GP",), "payer_kind": "medicare", "group": "CO",
            "reason": "97", "remarks": ("N20",), "fix": "added_kx",
            "clinic_key": clinic_key(SECRET, "x"),
        }  # fmt: skip
        values.update(changes)
        with pytest.raises(ReportError) as raised:
            make_report(**values)  # type: ignore[arg-type]
        assert raised.value.field_name == field

    def test_values_are_normalised(self) -> None:
        report = make_report(
            code="g0283", modifiers=(" gp ", ""), payer_kind="commercial", group="co",
            reason="b7", remarks=("n20",), fix="written_off", clinic_key=clinic_key(SECRET, "x"),
        )  # fmt: skip
        assert (report.code, report.modifiers, report.group, report.reason, report.remarks) == (
            "G0283", ("GP",), "CO", "B7", ("N20",),
        )  # fmt: skip
        assert report.fix is Fix.WRITTEN_OFF
