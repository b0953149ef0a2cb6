"""One visit end to end: claim lines, modifiers, payment, threshold, edits and findings."""

from __future__ import annotations

import copy
import gc
import json
from pathlib import Path
from typing import Any

import pytest

from handrail.rules.model import RuleInputError
from handrail.rules.ruleset import RuleSet
from handrail.rules.visit import VisitResult, evaluate_visit
from handrail.rules.visit_record import visit_record_from_dict

GOOD_97535_NOTE = {
    "baseline": "Needs moderate assist for lower-body dressing after right hip replacement.",
    "task": "Lower-body dressing seated: pants, socks and shoes.",
    "technique": "Taught reacher, sock aid and long-handled shoe horn within hip precautions.",
    "skilled": "Hip precautions and fall risk need a therapist to grade cues and set up safely.",
    "performance": "Donned socks with sock aid after 2 verbal cues; pants with reacher, no loss "
    "of precautions; carried over the sequence from the last visit.",
}

BASE: dict[str, Any] = {
    "date": "2026-03-12",
    "payer": {"type": "medicare", "unit_rule": "cms"},
    "discipline": "OT",
    "patient_present": True,
    "diagnoses": ["Z47.1", "Z96.641"],
    "threshold": {"accrued_before": 0, "medical_necessity_attested": False},
    "lines": [{"code": "97535", "minutes": 24, "note": GOOD_97535_NOTE}],
}


def visit(rules: RuleSet, **changes: Any) -> VisitResult:
    record = copy.deepcopy(BASE)
    record.update(changes)
    return evaluate_visit(visit_record_from_dict(record), rules)


def lines(result: VisitResult) -> list[tuple[str, int, str, float]]:
    return [
        (line["code"], line["units"], ":".join(line["modifiers"]), line["amount"])
        for line in result.to_dict()["claim_lines"]
    ]


def rule_ids(result: VisitResult) -> set[str]:
    return {finding.rule for finding in result.findings}


class ClaimLineTests:
    def test_it_bills_a_clean_ot_visit(self, rules: RuleSet) -> None:
        result = visit(rules)
        assert lines(result) == [("97535", 2, "GO", 56.28)]  # 32.40 + 23.88 (MPPR)
        doc = result.to_dict()
        assert doc["payment"]["allowed"] == 56.28
        assert doc["payment"]["coinsurance"] == 11.26
        assert doc["place_of_service"] == "11"
        assert not result.blocking, result.findings

    def test_it_uses_gp_and_cq_for_a_pt_visit_with_an_assistant(self, rules: RuleSet) -> None:
        result = visit(
            rules,
            discipline="PT",
            diagnoses=["M17.11"],
            lines=[
                {"code": "97110", "minutes": 36, "assistant_minutes": 23},
                {"code": "97140", "minutes": 30},
            ],
        )
        # CMS CQ scenario 1: 97110 1 unit with CQ + 1 without; 97140 2 units
        assert [line[:3] for line in lines(result)] == [
            ("97110", 1, "GP"),
            ("97110", 1, "GP:CQ"),
            ("97140", 2, "GP"),
        ]

    def test_it_adds_95_and_the_telehealth_place_of_service(self, rules: RuleSet) -> None:
        result = visit(rules, telehealth="home")
        assert lines(result)[0][2] == "GO:95"
        assert result.to_dict()["place_of_service"] == "10"
        assert visit(rules, telehealth="other").to_dict()["place_of_service"] == "02"

    def test_it_bills_nothing_for_a_timed_code_under_eight_minutes(self, rules: RuleSet) -> None:
        result = visit(rules, lines=[{"code": "97535", "minutes": 7, "note": GOOD_97535_NOTE}])
        assert lines(result) == []
        assert "doc.units.not-billable" in rule_ids(result)


class ThresholdTests:
    # One 97535 unit in 2026 pays 32.40; two (with MPPR) 56.28.
    @pytest.mark.parametrize(
        ("before", "kx"),
        [("2423.72", False), ("2423.73", True), ("0", False), ("2480", True)],
    )
    def test_it_needs_kx_only_once_the_threshold_is_passed(
        self, rules: RuleSet, before: str, kx: bool
    ) -> None:
        # 2423.72 + 56.28 = 2480.00 is not over $2,480; one cent more is
        result = visit(
            rules, threshold={"accrued_before": before, "medical_necessity_attested": True}
        )
        assert result.to_dict()["threshold"]["kx_required"] is kx
        assert lines(result)[0][2] == ("GO:KX" if kx else "GO")

    def test_it_refuses_kx_without_medical_necessity(self, rules: RuleSet) -> None:
        result = visit(
            rules, threshold={"accrued_before": 2500, "medical_necessity_attested": False}
        )
        assert lines(result)[0][2] == "GO"
        assert "threshold.kx-unattested" in rule_ids(result)
        assert result.blocking

    def test_it_warns_when_the_threshold_is_near(self, rules: RuleSet) -> None:
        # 90% of 2,480 = 2,232; 2175.72 + 56.28 = 2232.00
        near = visit(
            rules, threshold={"accrued_before": "2175.72", "medical_necessity_attested": False}
        )
        assert "threshold.nearing" in rule_ids(near)
        far = visit(
            rules, threshold={"accrued_before": "2175.71", "medical_necessity_attested": False}
        )
        assert "threshold.nearing" not in rule_ids(far)

    def test_it_flags_targeted_review_over_3000(self, rules: RuleSet) -> None:
        at = visit(
            rules, threshold={"accrued_before": "2943.72", "medical_necessity_attested": True}
        )
        assert at.to_dict()["threshold"]["review_flag"] is False
        over = visit(
            rules, threshold={"accrued_before": "2943.73", "medical_necessity_attested": True}
        )
        assert over.to_dict()["threshold"]["review_flag"] is True
        assert "threshold.targeted-review" in rule_ids(over)

    def test_it_uses_each_years_threshold(self, rules: RuleSet) -> None:
        result = visit(rules, date="2025-06-02")
        assert result.to_dict()["threshold"]["amount"] == 2410.0

    def test_it_keeps_ot_and_pt_slp_apart(self, rules: RuleSet) -> None:
        assert visit(rules).to_dict()["threshold"]["group"] == "OT"
        pt = visit(rules, discipline="PT", lines=[{"code": "97110", "minutes": 15}])
        assert pt.to_dict()["threshold"]["group"] == "PT+SLP"

    def test_it_does_not_apply_to_commercial_payers(self, rules: RuleSet) -> None:
        result = visit(rules, payer={"type": "commercial", "unit_rule": "per-code"})
        assert result.to_dict()["threshold"]["applies"] is False
        assert result.to_dict()["payment"]["coinsurance"] is None


class EditTests:
    PAIR = [{"code": "97140", "minutes": 15}, {"code": "97530", "minutes": 15}]

    def test_it_adds_59_to_the_column_2_code_when_services_were_distinct(
        self, rules: RuleSet
    ) -> None:
        result = visit(rules, discipline="PT", lines=self.PAIR, distinct_services=True)
        assert [line[:3] for line in lines(result)] == [("97140", 1, "GP"), ("97530", 1, "GP:59")]
        assert "ncci.ptp.needs-distinct" not in rule_ids(result)

    def test_it_uses_the_payers_x_modifier(self, rules: RuleSet) -> None:
        result = visit(
            rules,
            discipline="PT",
            lines=self.PAIR,
            distinct_services=True,
            payer={"type": "medicare", "distinct_modifier": "XU"},
        )
        assert lines(result)[1][2] == "GP:XU"

    def test_it_warns_the_column_2_line_will_deny_when_not_distinct(self, rules: RuleSet) -> None:
        result = visit(rules, discipline="PT", lines=self.PAIR)
        assert [line[2] for line in lines(result)] == ["GP", "GP"]
        finding = next(f for f in result.findings if f.rule == "ncci.ptp.needs-distinct")
        assert finding.severity.value == "error"
        assert "[unverified]" in finding.source.label()

    def test_it_flags_units_over_the_mue(self, rules: RuleSet) -> None:
        result = visit(rules, lines=[{"code": "97535", "minutes": 128, "note": GOOD_97535_NOTE}])
        assert lines(result)[0][1] == 9
        finding = next(f for f in result.findings if f.rule == "mue.exceeded")
        assert finding.message.startswith("97535: 9 units is over the MUE of 8 per day")

    def test_it_says_which_edit_tables_it_checked(self, rules: RuleSet) -> None:
        two_codes = [
            {"code": "97535", "minutes": 24, "note": GOOD_97535_NOTE},
            {"code": "97530", "minutes": 10},
        ]
        steps = visit(rules, lines=two_codes).explanation.steps
        assert [step for step in steps if step.startswith(("NCCI", "MUE"))] == [
            "NCCI PTP: no edit pair among 97535, 97530 (NCCI PTP therapy excerpt (built-in) "
            "[unverified]); the built-in table holds only the pairs Handrail could source: "
            "import the quarter's PTP files for full coverage",
            "MUE units per day: 97535 1 (limit 8), 97530 1 (limit 6) (MUE Medicaid "
            "practitioner 2026Q1 (derived) [unverified])",
        ]
        alone = visit(rules).explanation.steps
        assert "NCCI PTP: 97535 billed alone: no pair to check" in alone

    def test_it_says_units_were_not_checked_when_no_mue_table_covers_the_date(
        self, rules: RuleSet
    ) -> None:
        # The built-in MUE table starts 2026-01-01; nothing covers 2025 until a clinic imports.
        result = visit(rules, date="2025-12-31")
        finding = next(f for f in result.findings if f.rule == "mue.not-loaded")
        assert (finding.severity.value, finding.message, finding.fix) == (
            "info",
            "No MUE table covers 2025-12-31: units per day were not checked against MUEs",
            "Import the CMS practitioner MUE file for that quarter with "
            "`handrail data import mue FILE`",
        )
        assert "MUE: no MUE table covers 2025-12-31: units not checked" in (
            result.explanation.steps
        )
        assert "mue.not-loaded" not in rule_ids(visit(rules, date="2026-01-01"))


class SameDayTests:
    """Lines of the patient's other visits that day (another discipline's note): one MPPR,
    NCCI pairs and MUE units per patient per day. BASE bills 97535 x2 (24 min, OT, 2026)."""

    def test_it_keeps_the_full_pe_unit_when_the_other_visit_has_less_pe(
        self, rules: RuleSet
    ) -> None:
        result = visit(rules, same_day=[{"code": "97110", "units": 2}])  # PE 0.41 < 0.51
        assert lines(result) == [("97535", 2, "GO", 56.28)]  # $32.40 + $23.88

    def test_it_gives_the_full_pe_unit_to_the_other_visit_with_more_pe(
        self, rules: RuleSet
    ) -> None:
        result = visit(rules, same_day=[{"code": "97530", "units": 1}])  # PE 0.60 > 0.51
        assert lines(result) == [("97535", 2, "GO", 47.76)]  # 2 x $23.88, half PE each
        assert (
            "MPPR: 97530, billed in another visit the same day, has the highest practice "
            "expense and keeps the day's one full-PE unit; every 'always therapy' unit of this "
            "visit is paid with 50% of its practice expense (CMS Therapy Services page: therapy "
            "MPPR, 50% of PE after the highest-PE unit)"
        ) in result.explanation.steps

    def test_it_names_the_other_visits_line_with_the_most_pe(self, rules: RuleSet) -> None:
        same_day = [{"code": "97535", "units": 1}, {"code": "97530", "units": 1}]
        steps = visit(rules, same_day=same_day).explanation.steps
        assert any(step.startswith("MPPR: 97530, billed in another visit") for step in steps)

    def test_a_tie_goes_to_the_visit_billed_first(self, rules: RuleSet) -> None:
        result = visit(rules, same_day=[{"code": "97535", "units": 1}])
        assert lines(result) == [("97535", 2, "GO", 47.76)]

    def test_it_lists_the_other_visits_lines_in_the_explanation(self, rules: RuleSet) -> None:
        same_day = [
            {"code": "97110", "units": 2},
            {"code": "97530", "units": 1, "assistant": True},
        ]
        steps = visit(rules, same_day=same_day).explanation.steps
        assert (
            "Same day, other visits: 97110 x2, 97530 x1 (CQ/CO); counted for NCCI pairs, MUE "
            "units per day and the therapy MPPR (CMS Therapy Services page: MPPR per patient "
            "per day across disciplines and settings; NCCI and MUE edits apply per date of "
            "service)"
        ) in steps

    def test_a_column_2_code_here_pairs_with_a_column_1_code_of_another_visit(
        self, rules: RuleSet
    ) -> None:
        here = [{"code": "97530", "minutes": 15}]
        result = visit(rules, lines=here, same_day=[{"code": "97140", "units": 1}])
        finding = next(f for f in result.findings if f.rule == "ncci.ptp.needs-distinct")
        assert finding.message == (
            "97530 pairs with 97140 (97140 billed in another visit) (NCCI modifier indicator "
            "1): without 59 the 97530 line will deny"
        )
        distinct = visit(
            rules, lines=here, same_day=[{"code": "97140", "units": 1}], distinct_services=True
        )
        assert lines(distinct)[0][:3] == ("97530", 1, "GO:59")

    def test_a_column_2_code_of_another_visit_is_that_visit_s_to_fix(self, rules: RuleSet) -> None:
        here = [{"code": "97140", "minutes": 15}]
        result = visit(
            rules, discipline="PT", lines=here, same_day=[{"code": "97530", "units": 1}]
        )
        assert not rule_ids(result) & {"ncci.ptp.needs-distinct", "ncci.ptp.never-bypassed"}
        assert lines(result)[0][2] == "GP"

    def test_it_counts_the_other_visits_units_against_the_mue(self, rules: RuleSet) -> None:
        result = visit(rules, same_day=[{"code": "97535", "units": 7}])
        finding = next(f for f in result.findings if f.rule == "mue.exceeded")
        assert finding.message.startswith("97535: 9 units is over the MUE of 8 per day")
        assert "mue.exceeded" not in rule_ids(
            visit(rules, same_day=[{"code": "97535", "units": 6}])
        )

    @pytest.mark.parametrize(
        ("same_day", "field", "text"),
        [
            ("97110", "same_day", "must be a list of lines"),
            ([{"units": 1}], "same_day[0].code", "is required"),
            ([{"code": "99999", "units": 1}], "same_day[0].code", "99999"),
            ([{"code": "97110"}], "same_day[0].units", "must be a whole number of units"),
            ([{"code": "97110", "units": True}], "same_day[0].units", "must be a whole number"),
            ([{"code": "97110", "units": -1}], "same_day[0].units", "from 0 to 96"),
            ([{"code": "97110", "units": 1, "assistant": "yes"}], "same_day[0].assistant", ""),
        ],
    )
    def test_it_names_the_field_of_a_bad_same_day_line(
        self, rules: RuleSet, same_day: Any, field: str, text: str
    ) -> None:
        with pytest.raises(RuleInputError) as error:
            visit(rules, same_day=same_day)
        assert error.value.field == field
        assert text in error.value.message


class CodeStatusTests:
    def test_it_refuses_97014_for_medicare(self, rules: RuleSet) -> None:
        result = visit(rules, lines=[{"code": "97014", "minutes": 15}])
        finding = next(f for f in result.findings if f.rule == "code.not-valid-for-medicare")
        assert finding.fix == "Bill G0283 instead"
        assert lines(result) == [("97014", 1, "GO", 0.0)]

    def test_it_pays_nothing_for_bundled_97010(self, rules: RuleSet) -> None:
        result = visit(rules, lines=[{"code": "97010", "minutes": 10}])
        assert "code.bundled" in rule_ids(result)
        assert result.to_dict()["payment"]["allowed"] == 0.0

    def test_it_refuses_assistant_minutes_on_an_evaluation(self, rules: RuleSet) -> None:
        result = visit(rules, lines=[{"code": "97165", "minutes": 40, "assistant_minutes": 10}])
        assert "assistant.evaluation" in rule_ids(result)

    def test_it_refuses_assistant_minutes_on_an_slp_plan(self, rules: RuleSet) -> None:
        result = visit(
            rules,
            discipline="SLP",
            diagnoses=["R13.12"],
            lines=[{"code": "92526", "minutes": 30, "assistant_minutes": 10}],
        )
        assert "assistant.slp" in rule_ids(result)
        assert lines(result)[0][2] == "GN"


class BadInputTests:
    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"date": "2026-02-30"}, "date"),
            ({"date": "20260314"}, "date"),
            ({"date": "2026-W11-1"}, "date"),
            ({"date": None}, "date"),
            ({"discipline": "PTA"}, "discipline"),
            ({"lines": []}, "lines"),
            ({"lines": [{"code": "99999", "minutes": 10}]}, "lines[0].code"),
            ({"lines": [{"code": "97535", "minutes": -5}]}, "lines[0].minutes"),
            ({"lines": [{"code": "97535", "minutes": 1441}]}, "lines[0].minutes"),
            ({"lines": [{"code": "97535", "minutes": 10.5}]}, "lines[0].minutes"),
            (
                {"lines": [{"code": "97535", "minutes": 10, "assistant_minutes": 11}]},
                "lines[0].assistant_minutes",
            ),
            ({"lines": [{"code": "97535", "minutes": 10, "units": -1}]}, "lines[0].units"),
            (
                {"lines": [{"code": "97535", "minutes": 10, "note": {"mood": "x"}}]},
                "lines[0].note.mood",
            ),
            (
                {"lines": [{"code": "97535", "minutes": 10, "previous_note": {"mood": "x"}}]},
                "lines[0].previous_note.mood",
            ),
            (
                {"lines": [{"code": "97535", "minutes": 10, "previous_note": 7}]},
                "lines[0].previous_note",
            ),
            ({"payer": {"type": "cash"}}, "payer.type"),
            ({"payer": {"unit_rule": "ama"}}, "payer.unit_rule"),
            ({"locality": "0118218"}, "locality"),
            ({"zip": "6270"}, "zip"),
            ({"telehealth": "video"}, "telehealth"),
            ({"patient_present": "yes"}, "patient_present"),
            ({"diagnoses": "I69.351"}, "diagnoses"),
            ({"threshold": {"accrued_before": "lots"}}, "threshold.accrued_before"),
            ({"threshold": {"accrued_before": -1}}, "threshold.accrued_before"),
            ({"counters": {"treatment_day": -1}}, "counters.treatment_day"),
            ({"counters": {"plan_certified": "yes"}}, "counters.plan_certified"),
            (
                {"counters": {"days_since_first_treatment": 1.5}},
                "counters.days_since_first_treatment",
            ),
            ({"lines": [{"code": "97550", "minutes": 30}], "date": "2023-12-29"}, "lines[0].code"),
        ],
    )
    def test_it_names_the_field_that_is_wrong(
        self, rules: RuleSet, changes: dict[str, Any], field: str
    ) -> None:
        with pytest.raises(RuleInputError) as error:
            visit(rules, **changes)
        assert error.value.field == field

    @pytest.mark.parametrize(
        ("changes", "field", "text"),
        [
            ({"date": "2024-05-01"}, "date", "import that year's CMS PPRRVU file"),
            ({"date": "2027-01-05"}, "date", "no Medicare conversion factor"),
        ],
    )
    def test_it_says_when_the_data_for_the_visit_is_not_loaded(
        self, rules: RuleSet, changes: dict[str, Any], field: str, text: str
    ) -> None:
        with pytest.raises(RuleInputError) as error:
            visit(rules, **changes)
        assert error.value.field == field
        assert text in error.value.message

    @pytest.mark.parametrize(
        ("changes", "field", "text"),
        [
            ({"locality": "99999-99"}, "locality", "no Medicare locality 99999-99"),
            ({"locality": "13202-1"}, "locality", "'13202-1' is not a Medicare locality"),
        ],
    )
    def test_it_refuses_a_locality_missing_from_the_tables_or_malformed(
        self, rules: RuleSet, changes: dict[str, Any], field: str, text: str
    ) -> None:
        with pytest.raises(RuleInputError) as error:
            visit(rules, **changes)
        assert error.value.field == field
        assert text in error.value.message

    def test_it_warns_when_the_zip_needs_zip_plus_four(self, local_rules: RuleSet) -> None:
        # ZIP5 2025Q4 flags 35958 (Bryant, AL) with plus-four 1: priced by ZIP+4 at CMS.
        result = visit(local_rules, zip="35958")
        assert result.to_dict()["payment"]["locality"] == "10112-00"
        finding = next(f for f in result.findings if f.rule == "payment.zip-spans-localities")
        assert (finding.severity.value, finding.message, finding.source.citation) == (
            "warning",
            "ZIP 35958 lies in more than one Medicare locality (CMS prices it by ZIP+4); "
            "priced in 10112-00 (Alabama (AL)), the locality of its ZIP5 row",
            "CMS ZIP code to carrier locality file layout (ZIP5lyout.txt): plus-four flag; "
            "such ZIPs are priced from the ZIP9 file",
        )

    def test_it_prices_one_zip_with_the_gpcis_of_each_date_s_year(
        self, local_rules: RuleSet
    ) -> None:
        # Locality answers are cached per year and release: the year boundary must show.
        sources = [
            visit(local_rules, date=day, zip="90012").payment.locality.source
            for day in ("2025-12-31", "2026-01-01", "2025-06-30", "2026-12-31")
        ]
        assert sources == [
            "GPCI2025; ZIP5 2025Q4",
            "GPCI2026; ZIP5 2025Q4",
            "GPCI2025; ZIP5 2025Q4",
            "GPCI2026; ZIP5 2025Q4",
        ]

    def test_it_does_not_warn_for_a_zip_in_one_locality(self, local_rules: RuleSet) -> None:
        result = visit(local_rules, zip="62701")
        assert "payment.zip-spans-localities" not in rule_ids(result)
        assert result.to_dict()["payment"]["locality"] != "national"

    def test_it_prices_by_zip_out_of_the_box(self, rules: RuleSet) -> None:
        result = visit(rules, zip="62701")
        assert result.to_dict()["payment"]["locality"] == "06102-99"
        assert not [f for f in result.findings if f.rule.startswith("payment.locality")]

    def test_it_prices_nationally_with_a_warning_when_the_zip_is_not_in_the_table(
        self, rules: RuleSet
    ) -> None:
        result = visit(rules, zip="00000")
        assert result.to_dict()["payment"]["locality"] == "national"
        assert lines(result) == [("97535", 2, "GO", 56.28)]
        finding = next(f for f in result.findings if f.rule == "payment.locality-not-loaded")
        assert (finding.severity.value, finding.message) == (
            "warning",
            "Priced at national rates: ZIP 00000 is not in the ZIP-to-locality table ZIP5 2025Q4",
        )


class NoCycleTests:
    def test_evaluating_visits_good_or_bad_leaves_no_reference_cycles(
        self, rules: RuleSet
    ) -> None:
        # `handrail batch` pauses the cyclic garbage collector and relies on this.
        scenarios = sorted((Path(__file__).parent / "scenarios").glob("*.json"))
        records: list[Any] = [json.loads(path.read_text()) for path in scenarios]
        records += [{"date": "2026-01-05"}, {"date": "2026-13-01", "lines": []}, [], "x"]
        for record in records:  # fill the caches first: they are meant to live on
            _evaluate_or_error(record, rules)
        gc.collect()
        gc.disable()
        try:
            answers = [_evaluate_or_error(record, rules) for record in records * 2]
            assert gc.collect() == 0
        finally:
            gc.enable()
        assert sum("error" in answer for answer in answers) == 8
        assert len(answers) == 2 * (len(scenarios) + 4)


def _evaluate_or_error(record: Any, rules: RuleSet) -> dict[str, Any]:
    try:
        return evaluate_visit(visit_record_from_dict(record), rules).to_dict()
    except RuleInputError as error:
        return {"error": error.field}
