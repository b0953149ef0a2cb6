"""Documentation checks of a visit: 97535 notes, presence, minutes and units, plan of care."""

from __future__ import annotations

import difflib
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handrail.rules.documentation import (
    RULES,
    SOURCE_97535_NOTE,
    SOURCE_CAREGIVER_ABSENT,
    SOURCE_PROGRESS_REPORT,
    SOURCE_RECERTIFICATION,
    _shared_word_share,
    check_documentation,
)
from handrail.rules.model import Finding, RuleInputError, Severity
from handrail.rules.visit_record import Counters, LineNote, Payer, VisitLine, VisitRecord

ON = date(2026, 3, 14)

RICH = LineNote(
    baseline="Needs moderate assist and 6 verbal cues to put on a pullover shirt.",
    task="Upper-body dressing, pullover shirt, seated at the edge of the bed.",
    technique="One-handed dressing method, weak right arm into the sleeve first.",
    skilled="Graded cues and task breakdown for motor planning; unsafe without a therapist.",
    performance="Put the shirt on with minimal assist and 2 verbal cues; tolerated well.",
)
NOTE_SOURCE = "CMS Pub 100-02 ch.15 §220.3 (documentation of therapy services); MAC LCD L33631"
CODE_CHOICE_SOURCE = "Handrail code boundaries: 97535 vs 97110 and 97530 (product.md) [unverified]"

Row = tuple[str, str, int | None]  # severity, rule, line

# A narrative-only note never counts as the structured elements (see the module docstring).
NARRATIVE_ONLY = [
    ("warning", "doc.97535.missing-baseline", 0),
    ("warning", "doc.97535.missing-task", 0),
    ("warning", "doc.97535.missing-technique", 0),
    ("warning", "doc.97535.missing-skilled", 0),
    ("warning", "doc.97535.missing-performance", 0),
]


def line(
    code: str = "97535",
    minutes: int = 23,
    note: LineNote | None = RICH,
    units: int | None = None,
) -> VisitLine:
    return VisitLine(code=code, minutes=minutes, note=note, requested_units=units)


def visit(
    *lines: VisitLine,
    patient_present: bool = True,
    caregiver_present: bool = False,
    counters: Counters | None = None,
    unit_rule: str = "cms",
) -> VisitRecord:
    payer = Payer() if unit_rule == "cms" else Payer(type="commercial", unit_rule="per-code")
    return VisitRecord(
        date=ON,
        discipline="OT",
        lines=lines or (line(),),
        payer=payer,
        patient_present=patient_present,
        caregiver_present=caregiver_present,
        counters=counters,
    )


def check(record: VisitRecord, billed: list[int] | None = None) -> list[Finding]:
    return check_documentation(record, billed if billed is not None else [2] * len(record.lines))


def rows(record: VisitRecord, billed: list[int] | None = None) -> list[Row]:
    return [(f.severity.value, f.rule, f.line) for f in check(record, billed)]


def texts(record: VisitRecord, billed: list[int] | None = None) -> list[tuple[str, str, str]]:
    return [(f.rule, f.message, f.fix) for f in check(record, billed)]


class PresenceTests:
    def test_it_accepts_a_complete_97535_line(self) -> None:
        assert check(visit()) == []

    def test_it_accepts_97535_with_the_caregiver_there_too(self) -> None:
        assert check(visit(caregiver_present=True)) == []

    def test_it_refuses_97535_without_the_patient(self) -> None:
        assert check(visit(patient_present=False, caregiver_present=True)) == [
            Finding(
                severity=Severity.ERROR,
                rule="doc.97535.patient-absent",
                message=(
                    "97535 self-care training needs the patient present; "
                    "the visit says the patient was absent"
                ),
                fix=(
                    "if only the caregiver was trained, bill 97550 (first 30 minutes) and "
                    "97551 (each further 15 minutes), or 97552 for a group of caregivers"
                ),
                source=SOURCE_CAREGIVER_ABSENT,
                line=0,
            )
        ]
        assert SOURCE_CAREGIVER_ABSENT.verified is True

    def test_it_refuses_caregiver_codes_with_the_patient_present(self) -> None:
        record = visit(
            line("97550", 30, note=None),
            line("97551", 15, note=None),
            line("97552", 45, note=None),
        )
        findings = check(record, [1, 1, 1])
        assert [(f.rule, f.line) for f in findings] == [
            ("doc.caregiver.patient-present", 0),
            ("doc.caregiver.patient-present", 1),
            ("doc.caregiver.patient-present", 2),
        ]
        assert (findings[1].severity, findings[1].message, findings[1].fix) == (
            Severity.ERROR,
            "97551 is caregiver training without the patient; the visit says the patient "
            "was present",
            "bill 97535 for training the patient with the caregiver present, or mark the "
            "patient absent if the caregiver was trained alone",
        )

    def test_it_accepts_caregiver_codes_without_the_patient(self) -> None:
        record = visit(
            line("97550", 30, note=None),
            line("97551", 15, note=None),
            patient_present=False,
            caregiver_present=True,
        )
        assert check(record, [1, 1]) == []


class CaregiverMinutesTests:
    def test_it_sweeps_the_97550_minimum(self) -> None:
        for minutes, expected in (
            (1, ["doc.97550.under-minimum"]),
            (15, ["doc.97550.under-minimum"]),
            (16, []),
            (30, []),
        ):
            record = visit(line("97550", minutes, note=None), patient_present=False)
            assert [rule for _, rule, _ in rows(record, [1])] == expected

    def test_it_explains_the_97550_minimum(self) -> None:
        (finding,) = check(visit(line("97550", 12, note=None), patient_present=False), [1])
        assert (finding.severity, finding.message, finding.fix, finding.line) == (
            Severity.ERROR,
            "97550 needs at least 16 minutes; the visit has 12",
            "record the full caregiver-training time, or do not bill 97550 this day",
            0,
        )
        assert finding.source.verified is False

    def test_it_refuses_97551_without_97550(self) -> None:
        (finding,) = check(visit(line("97551", 15, note=None), patient_present=False), [1])
        assert (finding.severity, finding.rule, finding.message, finding.fix) == (
            Severity.ERROR,
            "doc.97551.without-97550",
            "97551 is an add-on to 97550 and is billed only with 97550 that day",
            "add the 97550 line for the first 30 minutes, or remove 97551",
        )
        assert finding.source.label() == (
            "CMS PFS relative value files RVU25D/RVU26C: 97551 global ZZZ (add-on)"
        )


class MinutesAndUnitsTests:
    def test_it_refuses_a_timed_line_without_minutes(self) -> None:
        (finding,) = check(visit(line("97110", 0, note=None)), [0])
        assert (finding.severity, finding.rule, finding.message, finding.fix, finding.line) == (
            Severity.ERROR,
            "doc.minutes.missing",
            "97110 is a timed code and the line has 0 minutes",
            "record the minutes spent in this service (pre- and post-service time excluded)",
            0,
        )
        assert finding.source.label() == "CMS Pub 100-04 ch.5 §20.2"

    def test_it_accepts_an_untimed_line_without_minutes(self) -> None:
        assert check(visit(line("97165", 0, note=None)), [1]) == []

    def test_it_reports_only_the_missing_minutes_of_97550(self) -> None:
        record = visit(line("97550", 0, note=None, units=1), patient_present=False)
        assert rows(record, [0]) == [("error", "doc.minutes.missing", 0)]

    def test_it_refuses_more_units_than_the_minutes_support(self) -> None:
        (finding,) = check(visit(line(units=2)), [1])
        assert (finding.severity, finding.rule, finding.message, finding.fix, finding.line) == (
            Severity.ERROR,
            "doc.units.unsupported",
            "23 minutes support 1 unit under the CMS total-time rule, not 2",
            "bill 1 unit, or correct the minutes if more time was spent in this service",
            0,
        )

    def test_it_names_the_per_code_rule_of_the_payer(self) -> None:
        (finding,) = check(visit(line(minutes=20, units=2), unit_rule="per-code"), [1])
        assert (
            finding.message == "20 minutes support 1 unit under the payer's per-code rule, not 2"
        )
        assert finding.source.verified is False

    def test_it_names_the_caregiver_time_rule(self) -> None:
        record = visit(line("97550", 20, note=None, units=2), patient_present=False)
        (finding,) = check(record, [1])
        assert finding.message == (
            "20 minutes support 1 unit under the caregiver-training time rule, not 2"
        )

    def test_it_explains_units_of_an_untimed_code(self) -> None:
        (finding,) = check(visit(line("97166", 60, note=None, units=2)), [1])
        assert (finding.rule, finding.message) == (
            "doc.units.unsupported",
            "97166 is untimed and supports 1 unit a day, not 2",
        )

    def test_it_notes_fewer_units_than_the_minutes_support(self) -> None:
        (finding,) = check(visit(line(minutes=38, units=2)), [3])
        assert (finding.severity, finding.rule, finding.message, finding.fix, finding.line) == (
            Severity.INFO,
            "doc.units.under-billed",
            "38 minutes support 3 units under the CMS total-time rule; the line asks for 2",
            "bill 3 units unless you mean to leave units unbilled",
            0,
        )

    def test_it_accepts_requested_units_that_match(self) -> None:
        assert check(visit(line(minutes=38, units=3)), [3]) == []

    def test_it_warns_of_timed_minutes_that_earn_no_unit(self) -> None:
        record = visit(line(), line("97110", 7, note=None))
        (finding,) = check(record, [2, 0])
        assert (finding.severity, finding.rule, finding.message, finding.fix, finding.line) == (
            Severity.WARNING,
            "doc.units.not-billable",
            "7 minutes of 97110 earn no unit of their own; under the CMS total-time rule they "
            "count toward the day's total only",
            "leave the line on the note for the record; it is not billed. Check the minutes if "
            "more time was spent",
            1,
        )

    def test_it_warns_of_minutes_below_the_per_code_minimum(self) -> None:
        (finding,) = check(visit(line("97110", 7, note=None), unit_rule="per-code"), [0])
        assert (finding.rule, finding.message) == (
            "doc.units.not-billable",
            "7 minutes of 97110 earn no unit under the payer's per-code rule",
        )

    def test_it_says_nothing_when_zero_units_were_requested(self) -> None:
        assert check(visit(line("97110", 7, note=None, units=0)), [0]) == []

    def test_it_counts_a_code_on_several_lines_as_one_service(self) -> None:
        record = visit(line(minutes=15, units=1), line(minutes=10, units=2))
        (finding,) = check(record, [2, 0])
        assert (finding.rule, finding.message, finding.line) == (
            "doc.units.unsupported",
            "25 minutes support 2 units under the CMS total-time rule, not 3",
            0,
        )

    def test_it_does_not_warn_on_the_later_lines_of_a_repeated_code(self) -> None:
        assert check(visit(line(minutes=15), line(minutes=10)), [2, 0]) == []

    def test_it_refuses_billed_units_that_do_not_match_the_lines(self) -> None:
        with pytest.raises(RuleInputError) as error:
            check_documentation(visit(line(), line()), [1])
        assert (error.value.field, error.value.message) == (
            "billed_units",
            "has 1 entries for 2 lines; give one per line",
        )


class NoteElementsTests:
    def test_it_refuses_a_97535_line_without_a_note(self) -> None:
        for note in (None, LineNote()):
            assert check(visit(line(note=note))) == [
                Finding(
                    severity=Severity.ERROR,
                    rule="doc.97535.no-note",
                    message="97535 line has no note",
                    fix=(
                        "document the functional baseline, the task trained, the technique or "
                        "device taught, why it needed a skilled clinician and what the patient "
                        "did"
                    ),
                    source=SOURCE_97535_NOTE,
                    line=0,
                )
            ]

    def test_it_labels_the_note_source_unverified(self) -> None:
        assert SOURCE_97535_NOTE.label() == f"{NOTE_SOURCE} [unverified]"

    @pytest.mark.parametrize(
        ("element", "message", "fix"),
        [
            (
                "baseline",
                "97535 note does not state the functional baseline",
                "write the patient's current level at the task, e.g. \"needs moderate assist "
                'and 6 verbal cues to put on a pullover shirt"',
            ),
            (
                "task",
                "97535 note does not state the task trained",
                'name the daily activity trained, e.g. "upper-body dressing, pullover shirt, '
                'seated at the edge of the bed"',
            ),
            (
                "technique",
                "97535 note does not state the technique, strategy or device taught",
                'name the technique, strategy or device taught, e.g. "one-handed dressing '
                'method, weak arm into the sleeve first"',
            ),
            (
                "skilled",
                "97535 note does not state the reason the session needed a skilled clinician",
                'say why a therapist was needed, e.g. "graded cues and task breakdown for left '
                "neglect; unsafe to practise without a therapist's judgment\"",
            ),
            (
                "performance",
                "97535 note does not state the patient's performance (errors, cues, carryover)",
                'write what the patient did, e.g. "put the shirt on with minimal assist and '
                '2 verbal cues; sequenced it correctly on the third try"',
            ),
        ],
    )
    def test_it_warns_of_each_missing_element(self, element: str, message: str, fix: str) -> None:
        fields = {
            name: getattr(RICH, name)
            for name in ("baseline", "task", "technique", "skilled", "performance")
        }
        fields[element] = ""
        assert check(visit(line(note=LineNote(**fields)))) == [
            Finding(
                severity=Severity.WARNING,
                rule=f"doc.97535.missing-{element}",
                message=message,
                fix=fix,
                source=SOURCE_97535_NOTE,
                line=0,
            )
        ]

    def test_it_does_not_count_the_narrative_as_an_element(self) -> None:
        narrative = LineNote(text=RICH.combined())
        findings = check(visit(line(note=narrative)))
        assert [(f.severity.value, f.rule) for f in findings] == [
            ("warning", "doc.97535.missing-baseline"),
            ("warning", "doc.97535.missing-task"),
            ("warning", "doc.97535.missing-technique"),
            ("warning", "doc.97535.missing-skilled"),
            ("warning", "doc.97535.missing-performance"),
        ]
        assert findings[1].fix.endswith(
            "; if the narrative already says it, put it in the task field"
        )

    def test_it_reports_only_the_missing_elements_of_a_partial_note(self) -> None:
        note = LineNote(task=RICH.task, performance=RICH.performance)
        assert [rule for _, rule, _ in rows(visit(line(note=note)))] == [
            "doc.97535.missing-baseline",
            "doc.97535.missing-technique",
            "doc.97535.missing-skilled",
        ]


class VagueNoteTests:
    @pytest.mark.parametrize(
        "text",
        [
            "ADL training performed",
            "ADL training performed.",
            "Self-care training",
            "self care/home management training provided x 23 min",
            "Pt tolerated treatment well.",
            "Continue POC",
            "Instructed in HEP",
            "ADL training performed. Pt tolerated treatment well, no c/o pain. Continue POC.",
            "Pt instructed in HEP; verbalized understanding. Progressing toward goals.",
            "Skilled OT services provided. Patient tolerated session well.",
            "ADL retraining performed with patient in session today per plan of care",
            "Worked on ADLs, pt did great",
            "Pt was very motivated and engaged; participated well in self-care training",
            "Self care training, 2 units",
        ],
    )
    def test_it_refuses_boilerplate(self, text: str) -> None:
        assert texts(visit(line(note=LineNote(text=text)))) == [
            (
                "doc.97535.vague",
                "97535 note is boilerplate with no specifics of this session "
                '(like "ADL training performed" or "pt tolerated treatment well")',
                "describe this session: the patient's level before, the task trained, the "
                "technique or device taught, why a therapist was needed and what the patient "
                "did (assist level, cues, errors)",
            )
        ]

    def test_it_refuses_boilerplate_spread_over_the_fields(self) -> None:
        note = LineNote(
            baseline="ADLs",
            task="ADL training",
            technique="instructed",
            skilled="skilled",
            performance="tolerated well",
        )
        assert rows(visit(line(note=note))) == [("error", "doc.97535.vague", 0)]

    @pytest.mark.parametrize(
        "text",
        [
            "Pt tolerated well. Trained tub transfer bench use with grab bar, min A x1.",
            "Donned shirt with hemi-dressing method, 2 verbal cues",
            "ADL training performed: meal prep at the stove, seated, with reacher",
        ],
    )
    def test_it_accepts_a_specific_note_with_boilerplate_words(self, text: str) -> None:
        assert rows(visit(line(note=LineNote(text=text)))) == NARRATIVE_ONLY

    def test_it_accepts_a_rich_note_that_says_tolerated_well(self) -> None:
        assert "tolerated well" in RICH.performance
        assert check(visit(line(note=RICH))) == []


class CodeChoiceTests:
    def test_it_suggests_97110_for_exercise_billed_as_97535(self) -> None:
        note = LineNote(
            baseline="R shoulder flexion 3-/5.",
            task="Theraband rows and shoulder flexion, 3 sets of 10 reps.",
            technique="Red theraband, progressive resistance.",
            skilled="Monitoring form and scapular substitution.",
            performance="Completed 3x10 with good form; fatigue by the last set.",
        )
        assert texts(visit(line(note=note))) == [
            (
                "doc.97535.looks-like-97110",
                "97535 note describes exercise (strength, range of motion or endurance) and no "
                "daily-living task",
                "bill exercise as 97110; if the exercise was part of training a daily task, "
                "name the task and how it was trained",
            )
        ]
        assert check(visit(line(note=note)))[0].source.label() == CODE_CHOICE_SOURCE

    @pytest.mark.parametrize(
        "text",
        [
            "AROM of both shoulders, 2 x 15, then 2 lb dumbbell curls",
            "Endurance on the UBE for 8 minutes at level 3",
            "Strengthening of the hip abductors with a cuff weight",
        ],
    )
    def test_it_recognises_exercise_words(self, text: str) -> None:
        assert rows(visit(line(note=LineNote(text=text)))) == [
            *NARRATIVE_ONLY,
            ("warning", "doc.97535.looks-like-97110", 0),
        ]

    def test_it_accepts_exercise_inside_a_daily_task(self) -> None:
        note = LineNote(text="Grip strengthening while practising buttoning a shirt, 10 reps")
        assert rows(visit(line(note=note))) == NARRATIVE_ONLY

    def test_it_suggests_97530_for_transfers_outside_a_daily_routine(self) -> None:
        note = LineNote(
            baseline="Mod A for sit to stand from low surfaces.",
            task="Sit to stand and stand pivot transfers bed to chair.",
            technique="Nose over toes, hand placement on armrests.",
            skilled="Hands-on facilitation of weight shift; fall risk.",
            performance="Min A x3 trials, one loss of balance corrected.",
        )
        assert texts(visit(line(note=note))) == [
            (
                "doc.97535.looks-like-97530",
                "97535 note describes dynamic functional activity (transfers, balance, lifting) "
                "outside a daily-living routine",
                "bill dynamic functional activity as 97530; transfers trained inside a toileting "
                "or bathing routine stay 97535: name the routine",
            )
        ]

    def test_it_keeps_transfers_inside_a_toileting_routine_as_97535(self) -> None:
        note = LineNote(
            baseline="Mod A for toilet transfers at home.",
            task="Toilet transfer with clothing management and hygiene.",
            technique="Grab bar and raised toilet seat, stand pivot to the left.",
            skilled="Sequencing cues and guarding for fall risk.",
            performance="Min A, 2 cues for hand placement; managed pants independently.",
        )
        assert check(visit(line(note=note))) == []

    def test_it_keeps_a_home_program_revision_as_97535(self) -> None:
        # product.md: teaching (and revising) the home program is self-care training.
        note = LineNote(
            baseline="Contact guard for the home program; loses balance reaching to the floor.",
            task="Home program revision (daily home routine).",
            technique="Taught the updated written and picture handout.",
            skilled="Grading of the task and safety judgement: high fall risk (TUG 19 s).",
            performance="Two losses of balance corrected with contact guard.",
        )
        assert check(visit(line(note=note))) == []

    def test_it_suggests_97535_for_daily_living_training_billed_as_97110(self) -> None:
        note = LineNote(
            text="Trained one-handed shoe tying and sock aid use for lower-body dressing"
        )
        assert texts(visit(line("97110", 23, note=note)), [2]) == [
            (
                "doc.97110.looks-like-97535",
                "97110 note describes daily-living training (dressing, bathing, toileting, "
                "meals, adaptive equipment, home safety) and no exercise",
                "bill training in daily activities as 97535 and document its baseline, task, "
                "technique, why skilled and performance; keep 97110 for exercise for strength, "
                "range of motion or endurance",
            )
        ]

    @pytest.mark.parametrize(
        "text",
        [
            "Hip strengthening to improve toilet transfers, 3x10 bridges",
            "Shoulder AROM and theraband rows",
            "",
        ],
    )
    def test_it_accepts_exercise_billed_as_97110(self, text: str) -> None:
        assert check(visit(line("97110", 23, note=LineNote(text=text))), [2]) == []

    def test_it_accepts_97110_without_a_note(self) -> None:
        assert check(visit(line("97110", 23, note=None)), [2]) == []


class PlanOfCareTests:
    def test_it_sweeps_the_progress_report_counter(self) -> None:
        expected: dict[int, list[Row]] = {day: [] for day in range(0, 9)}
        expected[9] = [("info", "doc.poc.progress-report-next", None)]
        for day in (10, 11, 12, 30):
            expected[day] = [("warning", "doc.poc.progress-report-due", None)]
        for day, want in expected.items():
            assert rows(visit(counters=Counters(treatment_day=day))) == want, day

    def test_it_explains_the_progress_report_findings(self) -> None:
        def finding(day: int) -> Finding:
            (only,) = check(visit(counters=Counters(treatment_day=day)))
            return only

        body = (
            "the therapist (not the assistant) writes a progress report: progress toward each "
            "goal with measurements, and whether the plan changes"
        )
        assert (finding(9).message, finding(9).fix) == (
            "treatment day 9 since the last progress report: a progress report is due at the "
            "next treatment day",
            f"at the next treatment day, {body}",
        )
        assert (finding(10).message, finding(10).fix) == (
            "treatment day 10 since the last progress report: a progress report is due at "
            "this visit",
            f"at this visit, {body}",
        )
        assert finding(11).message == (
            "treatment day 11 since the last progress report: the progress report is overdue "
            "(at least one every 10 treatment days)"
        )
        assert finding(10).source == SOURCE_PROGRESS_REPORT
        assert finding(10).source.label() == "CMS Pub 100-02 ch.15 §220.3.D"

    def test_it_sweeps_the_certification_counter(self) -> None:
        for since, want in (
            (0, []),
            (1, []),
            (79, []),
            (80, [("warning", "doc.poc.recert-due-soon", None)]),
            (85, [("warning", "doc.poc.recert-due-soon", None)]),
            (90, [("warning", "doc.poc.recert-due-soon", None)]),
            (91, [("error", "doc.poc.recert-overdue", None)]),
            (365, [("error", "doc.poc.recert-overdue", None)]),
        ):
            assert rows(visit(counters=Counters(days_since_certification=since))) == want, since

    def test_it_explains_the_certification_findings(self) -> None:
        (soon,) = check(visit(counters=Counters(days_since_certification=84)))
        (late,) = check(visit(counters=Counters(days_since_certification=91)))
        assert (soon.message, soon.fix) == (
            "plan of care certified 84 days ago: a certification covers up to 90 days",
            "send the updated plan of care to the physician/NPP for recertification before day 90",
        )
        assert (late.message, late.fix) == (
            "plan of care certified 91 days ago: treatment past the certified 90 days needs a "
            "recertified plan",
            "get the plan recertified (signed and dated by the physician/NPP) before billing "
            "treatment past the certified period",
        )
        assert late.source == SOURCE_RECERTIFICATION
        assert late.source.label() == "CMS Pub 100-02 ch.15 §220.1.3"

    def test_it_says_nothing_without_counters(self) -> None:
        assert check(visit(counters=Counters())) == []
        assert check(visit(counters=None)) == []


class OrderAndRegistryTests:
    def test_it_lists_line_findings_in_line_order_then_visit_findings(self) -> None:
        record = visit(
            line(note=None),
            line("97110", 7, note=None),
            counters=Counters(treatment_day=10, days_since_certification=91),
            patient_present=False,
        )
        assert rows(record, [1, 0]) == [
            ("error", "doc.97535.patient-absent", 0),
            ("error", "doc.97535.no-note", 0),
            ("warning", "doc.units.not-billable", 1),
            ("warning", "doc.poc.progress-report-due", None),
            ("error", "doc.poc.recert-overdue", None),
        ]

    def test_it_registers_every_rule_id_once(self) -> None:
        assert len(RULES) == len(set(RULES)) == 26
        assert all(rule.startswith("doc.") for rule in RULES)


def repeated(previous: LineNote, note: LineNote = RICH) -> list[tuple[str, str, str]]:
    """Findings of one 97535 line written `note` after a visit that wrote `previous`."""
    record = visit(VisitLine(code="97535", minutes=23, note=note, previous_note=previous))
    return [(f.rule, f.message, f.source.label()) for f in check(record)]


REPEATED_SOURCE = (
    "Handrail rule: a note repeated with no progression reads as maintenance (product.md) "
    "[unverified]"
)


class RepeatedNoteTests:
    def test_it_flags_a_note_copied_word_for_word(self) -> None:
        # Case, spacing and punctuation do not make a copy new.
        copy = LineNote(
            baseline=RICH.baseline.upper(),
            task=RICH.task,
            technique=RICH.technique + "  ",
            skilled=RICH.skilled.replace(";", ","),
            performance=RICH.performance,
        )
        assert repeated(copy) == [
            (
                "doc.97535.repeated-note",
                "97535 note repeats the previous visit's note word for word: with no change "
                "shown, the session reads as maintenance and copied notes are an audit target",
                REPEATED_SOURCE,
            )
        ]

    def test_it_flags_a_note_changed_by_a_word_or_two(self) -> None:
        nearly = LineNote(
            baseline=RICH.baseline,
            task=RICH.task,
            technique=RICH.technique,
            skilled=RICH.skilled,
            performance=RICH.performance.replace("tolerated well", "tolerated it"),
        )
        (found,) = repeated(nearly)
        assert found[0] == "doc.97535.repeated-note"
        assert "nearly word for word (98%)" in found[1]

    def test_it_flags_the_same_performance_in_an_otherwise_new_note(self) -> None:
        new_task = LineNote(
            baseline="Needs minimal assist for lower-body dressing; cannot reach her feet.",
            task="Lower-body dressing: socks and trousers, seated in a chair with arms.",
            technique="Sock aid and reacher; trousers over the weak leg first.",
            skilled="Hip precautions and balance need graded cues and a safe set-up.",
            performance=RICH.performance,
        )
        assert repeated(new_task) == [
            (
                "doc.97535.same-performance",
                "97535 performance is the same as at the previous visit: no progression is shown",
                REPEATED_SOURCE,
            )
        ]

    def test_it_accepts_a_note_that_shows_progress(self) -> None:
        progressed = LineNote(
            baseline=RICH.baseline,
            task=RICH.task,
            technique=RICH.technique,
            skilled=RICH.skilled,
            performance="Put the shirt on with set-up only and 1 verbal cue; sequenced it alone.",
        )
        assert repeated(progressed) == []

    def test_it_says_nothing_without_a_previous_note_or_with_an_empty_one(self) -> None:
        assert rows(visit(line())) == []
        assert repeated(LineNote()) == []

    def test_the_rule_ids_are_registered(self) -> None:
        assert {"doc.97535.repeated-note", "doc.97535.same-performance"} <= set(RULES)


class InitialCertificationTests:
    """Timely certification: within 30 days of the first treatment (Pub 100-02 §220.1.3)."""

    @staticmethod
    def found(started: int, certified: bool | None) -> list[Row]:
        counters = Counters(days_since_first_treatment=started, plan_certified=certified)
        return rows(visit(line(), counters=counters))

    def test_it_sweeps_the_30_day_window(self) -> None:
        expected = {
            **{day: [("info", "doc.poc.certification-pending", None)] for day in range(0, 23)},
            **{day: [("warning", "doc.poc.certification-pending", None)] for day in range(23, 31)},
            **{day: [("error", "doc.poc.certification-late", None)] for day in range(31, 41)},
        }
        assert {day: self.found(day, False) for day in range(0, 41)} == expected

    def test_it_is_quiet_for_a_certified_plan_or_when_the_clinic_does_not_say(self) -> None:
        assert [self.found(day, True) for day in (0, 30, 31, 200)] == [[], [], [], []]
        assert [self.found(day, None) for day in (0, 31)] == [[], []]
        assert rows(visit(line(), counters=Counters(plan_certified=False))) == []

    def test_it_says_how_many_days_are_left_and_what_to_do(self) -> None:
        (pending,) = check(
            visit(line(), counters=Counters(days_since_first_treatment=26, plan_certified=False))
        )
        assert pending.message == (
            "plan of care not certified yet: day 26 of the 30 days allowed for timely "
            "certification (4 left)"
        )
        assert pending.fix.startswith("get the plan signed and dated by the physician/NPP")
        (late,) = check(
            visit(line(), counters=Counters(days_since_first_treatment=45, plan_certified=False))
        )
        assert late.message == (
            "plan of care not certified 45 days after the first treatment: timely "
            "certification was due within 30 days, and Medicare pays therapy only under a "
            "certified plan"
        )
        assert late.fix.endswith("a late certification is accepted with the reason for the delay")
        assert late.source == SOURCE_RECERTIFICATION


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from("abcdefgh"), max_size=30),
    st.lists(st.sampled_from("abcdefgh"), max_size=30),
)
def test_the_shared_word_share_bounds_the_sequence_ratio(
    now: list[str], before: list[str]
) -> None:
    # The repeated-note check skips SequenceMatcher when this bound is under 90%: it must
    # never be lower than the ratio it stands in for.
    if not now and not before:
        return
    ratio = difflib.SequenceMatcher(None, now, before, autojunk=False).ratio()
    assert _shared_word_share(now, before) >= ratio
    assert _shared_word_share(now, before) == pytest.approx(
        difflib.SequenceMatcher(None, now, before, autojunk=False).quick_ratio()
    )


class RepeatedNoteBoundaryTests:
    """90% of the words in order is the line (REPEATED_NOTE_SIMILARITY), swept at 10 words."""

    @staticmethod
    def findings(changed: int) -> list[str]:
        words = [
            "seated",
            "upper",
            "body",
            "dressing",
            "pullover",
            "shirt",
            "sleeve",
            "first",
            "two",
            "cues",
        ]
        before = LineNote(text=" ".join(words))
        now_words = [*words[: len(words) - changed], *(f"new{n}" for n in range(changed))]
        now = LineNote(text=" ".join(now_words))
        record = visit(VisitLine(code="97535", minutes=23, note=now, previous_note=before))
        return [f.message for f in check(record) if f.rule == "doc.97535.repeated-note"]

    def test_it_flags_ninety_percent_and_not_eighty(self) -> None:
        assert [len(self.findings(changed)) for changed in range(0, 4)] == [1, 1, 0, 0]
        assert "word for word:" in self.findings(0)[0]
        assert "nearly word for word (90%)" in self.findings(1)[0]


# What was trained decides the code (issue: a goal naming an ADL made exercise look like
# 97535). Each row: code, baseline, task, technique, expected code-choice rules. Skilled need
# and performance are filled so no element is missing.
T97110 = "doc.97535.looks-like-97110"
T97530 = "doc.97535.looks-like-97530"
T97535 = "doc.97110.looks-like-97535"
CODE_CHOICE_TABLE: list[tuple[str, str, str, str, list[str]]] = [
    # 97535 lines whose task and technique are exercise, whatever the baseline or goal says
    (
        "97535",
        "Needs mod A for lower-body dressing.",
        "Theraband rows and shoulder flexion, 3 sets of 10.",
        "Red theraband, progressive resistance.",
        [T97110],
    ),
    (
        "97535",
        "Unable to bathe independently; goal: independent showering.",
        "Hip abductor strengthening, 3x12 side-lying.",
        "2 lb cuff weight.",
        [T97110],
    ),
    (
        "97535",
        "Max A for toileting.",
        "Bridges and squats to improve toilet transfers.",
        "3 sets of 10, verbal cues for form.",
        [T97110],
    ),
    (
        "97535",
        "Urge incontinence 4x a day; needs assist for continence care.",
        "Pelvic floor strengthening, quick flicks and 10 s holds.",
        "3 sets of 10 in supine, then sitting.",
        [T97110],
    ),
    (
        "97535",
        "Leaks with cough; baseline 2 pads a day.",
        "Pelvic floor muscle training toward continence.",
        "Kegels 3x10 with 5 s holds.",
        [T97110],
    ),
    (
        "97535",
        "Dependent for meal prep.",
        "UBE 8 minutes for endurance for kitchen tasks.",
        "Level 3 resistance.",
        [T97110],
    ),
    (
        "97535",
        "Min A for upper-body dressing.",
        "Shoulder AROM 2 x 15 to improve reach for dressing.",
        "Wall slides and pulleys.",
        [T97110],
    ),
    (
        "97535",
        "Mod A grooming at the sink.",
        "Grip strengthening with putty, goal: brushing teeth independently.",
        "Medium resistance putty, 3 sets.",
        [T97110],
    ),
    # 97535 lines whose task is a daily-living routine, with or without exercise inside it
    (
        "97535",
        "Incontinent on the way to the toilet twice a day.",
        "Toileting routine: timed voiding every 2 hours, clothing management and hygiene.",
        "Urge suppression before standing, grab bar on the left.",
        [],
    ),
    (
        "97535",
        "Mod A for lower-body dressing.",
        "Lower-body dressing seated, pants and socks.",
        "Sock aid and reacher, hemi-dressing technique.",
        [],
    ),
    (
        "97535",
        "Needs cues for meal prep safety.",
        "Simple meal prep at the stove.",
        "Energy conservation and one-handed cutting board.",
        [],
    ),
    (
        "97535",
        "Weak grip; drops buttons.",
        "Buttoning a shirt with grip strengthening, 10 reps.",
        "Buttonhook, then fingers only.",
        [],
    ),
    (
        "97535",
        "Mod A toilet transfers at home.",
        "Toilet transfer with clothing management.",
        "Raised seat and grab bar, stand pivot to the left.",
        [],
    ),
    (
        "97535",
        "Needs contact guard in the shower.",
        "Sit to stand for tub transfers in the shower routine.",
        "Tub bench and grab bar.",
        [],
    ),
    (
        "97535",
        "Strength 3/5 both legs; goal: return to strength training.",
        "Bathing at the sink, upper body.",
        "Long-handled sponge.",
        [],
    ),
    # 97535 lines whose task is dynamic activity outside a routine
    (
        "97535",
        "Mod A for dressing.",
        "Sit to stand and stand pivot transfers bed to chair.",
        "Hand placement on armrests.",
        [T97530],
    ),
    (
        "97535",
        "Unsteady when bathing.",
        "Dynamic balance, reaching outside base of support.",
        "Obstacle course in the gym.",
        [T97530],
    ),
    # 97110 lines: daily-living training billed as exercise, and exercise with ADL goals
    (
        "97110",
        "Needs mod A for dressing; 3-/5 shoulder strength.",
        "Upper-body dressing with a reacher.",
        "Over-the-head method for the shirt.",
        [T97535],
    ),
    (
        "97110",
        "Weak grip; goal: strength for self-care.",
        "Toileting routine with clothing management.",
        "Grab bar and toilet paper aid.",
        [T97535],
    ),
    (
        "97110",
        "Dependent in bathing.",
        "Shoulder flexion 3x10 to improve reach for bathing.",
        "Yellow theraband.",
        [],
    ),
    (
        "97110",
        "Incontinence with lifting.",
        "Pelvic floor strengthening, 3 sets of 10.",
        "Biofeedback, 5 s holds.",
        [],
    ),
    (
        "97110",
        "Dressing with mod A.",
        "Grip strengthening while practising buttoning, 10 reps.",
        "Putty then buttons.",
        [],
    ),
]


class CodeChoiceByWhatWasTrainedTests:
    def test_the_table_covers_both_directions(self) -> None:
        assert len(CODE_CHOICE_TABLE) >= 20
        expected = {rule for *_, rules in CODE_CHOICE_TABLE for rule in rules}
        assert expected == {T97110, T97530, T97535}
        assert sum(1 for *_, rules in CODE_CHOICE_TABLE if not rules) >= 8

    @pytest.mark.parametrize(
        ("code", "baseline", "task", "technique", "expected"), CODE_CHOICE_TABLE
    )
    def test_it_judges_the_task_and_technique(
        self, code: str, baseline: str, task: str, technique: str, expected: list[str]
    ) -> None:
        note = LineNote(
            baseline=baseline,
            task=task,
            technique=technique,
            skilled="Graded cues and hands-on guarding; unsafe without a therapist.",
            performance="Min A and 2 verbal cues on the last trial.",
        )
        assert rows(visit(line(code, 23, note=note)), [2]) == [
            ("warning", rule, 0) for rule in expected
        ]

    def test_it_ignores_a_goal_in_the_skilled_need(self) -> None:
        note = LineNote(
            baseline="Needs assist for dressing.",
            task="Theraband rows, 3 sets of 10.",
            technique="Red band.",
            skilled="Form cues so that she can dress independently.",
            performance="Completed all sets.",
        )
        assert rows(visit(line(note=note))) == [("warning", T97110, 0)]

    def test_it_reads_the_narrative_when_task_and_technique_are_blank(self) -> None:
        for text, expected in (
            ("Theraband rows 3x10 for dressing", [T97110]),
            ("Dressing training with a sock aid", []),
            ("Bed mobility and sit to stand practice", [T97530]),
        ):
            note = LineNote(text=text)
            assert rows(visit(line(note=note))) == [
                *NARRATIVE_ONLY,
                *(("warning", rule, 0) for rule in expected),
            ]
