"""Evaluate one visit end to end: units, CQ/CO, edits, payment, threshold, modifiers, checks.

This is the one orchestrator; each step is a small function in its own module that gets its
tables from the `RuleSet` passed in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

from handrail.rules import assistants, edits, payment, telehealth
from handrail.rules.catalog import CATALOG, Discipline
from handrail.rules.conversion import ConversionFactor, conversion_factor
from handrail.rules.diagnoses import check_diagnoses
from handrail.rules.documentation import check_documentation
from handrail.rules.model import Explanation, Finding, Severity, Source
from handrail.rules.modifiers import (
    DISCIPLINE_MODIFIERS,
    MAX_MODIFIERS_ON_837P,
    SOURCE_DISCIPLINE,
    SOURCE_KX,
    line_modifiers,
)
from handrail.rules.ruleset import RuleSet
from handrail.rules.tables import Release
from handrail.rules.threshold import (
    REVIEW_SOURCE,
    THRESHOLD_SOURCE,
    THRESHOLDS,
    ThresholdStatus,
    apply_threshold,
)
from handrail.rules.units import (
    CAREGIVER_ADDON_CODE,
    CAREGIVER_FIRST_CODE,
    CodeMinutes,
    UnitsResult,
    apply_units,
)
from handrail.rules.visit_record import SameDayLine, VisitRecord

MEDICARE_REDUCTION_PAYERS = ("medicare", "medicare-advantage")
CAREGIVER_TIME_CODES = frozenset({CAREGIVER_FIRST_CODE, CAREGIVER_ADDON_CODE})
SOURCE_PATIENT_DAY = Source(
    "CMS Therapy Services page: MPPR per patient per day across disciplines and settings; "
    "NCCI and MUE edits apply per date of service"
)
SOURCE_STATUS = Source("CMS PFS relative value file status indicators (RVU25D documentation)")


@dataclass(frozen=True, slots=True)
class ClaimLine:
    code: str
    units: int
    modifiers: tuple[str, ...]
    amount: Decimal
    unit_amounts: tuple[Decimal, ...]
    assistant: bool
    fee_release: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "units": self.units,
            "modifiers": list(self.modifiers),
            "amount": float(self.amount),
            "unit_amounts": [float(value) for value in self.unit_amounts],
            "fee_schedule": self.fee_release,
        }


@dataclass(frozen=True, slots=True)
class PaymentSummary:
    allowed: Decimal
    coinsurance: Decimal | None
    conversion_factor: ConversionFactor
    locality: payment.PricingLocality
    reductions_applied: bool

    @property
    def source(self) -> str:
        factor = self.conversion_factor
        kind = "Medicare PFS" if self.reductions_applied else "Medicare PFS reference"
        return (
            f"{kind}: CF {factor.amount} ({factor.label}, {factor.source.label()}); "
            f"locality {self.locality.key} ({self.locality.source})"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "allowed": float(self.allowed),
            "coinsurance": None if self.coinsurance is None else float(self.coinsurance),
            "source": self.source,
            "locality": self.locality.key,
            "conversion_factor": float(self.conversion_factor.amount),
        }


@dataclass(slots=True)
class VisitResult:
    record: VisitRecord
    units: UnitsResult
    claim_lines: list[ClaimLine]
    payment: PaymentSummary
    threshold: ThresholdStatus | None
    place_of_service: str
    findings: list[Finding] = field(default_factory=list)
    explanation: Explanation = field(default_factory=Explanation)

    @property
    def blocking(self) -> bool:
        return any(finding.severity is Severity.ERROR for finding in self.findings)

    def to_dict(self) -> dict[str, Any]:
        return {
            "date": self.record.date.isoformat(),
            "unit_rule": self.units.rule,
            "total_timed_minutes": self.units.total_timed_minutes,
            "total_units": sum(line.units for line in self.claim_lines),
            "place_of_service": self.place_of_service,
            "claim_lines": [line.to_dict() for line in self.claim_lines],
            "payment": self.payment.to_dict(),
            "threshold": _threshold_dict(self.threshold),
            "findings": [finding.to_dict() for finding in self.findings],
            "explanation": list(self.explanation.steps),
        }


def _threshold_dict(status: ThresholdStatus | None) -> dict[str, Any]:
    if status is None:
        return {
            "applies": False,
            "accrued_after": None,
            "kx_required": False,
            "review_flag": False,
        }
    return {
        "applies": True,
        "year": status.year,
        "group": status.group,
        "amount": float(status.amount),
        "accrued_after": float(status.accrued_after),
        "kx_required": status.kx_required,
        "review_flag": status.review_flag,
        "source": status.source.label(),
    }


@dataclass(frozen=True, slots=True)
class _DraftLine:
    code: str
    units: int
    assistant: bool


def evaluate_visit(record: VisitRecord, rules: RuleSet) -> VisitResult:
    """Evaluate one visit record. Raises RuleInputError when the data needed is not loaded."""
    explanation = Explanation()
    findings: list[Finding] = []
    minutes = _minutes_by_code(record)
    units = apply_units(
        [CodeMinutes(code, total) for code, (total, _) in minutes.items()], record.payer.unit_rule
    )
    explanation.extend(units.explanation)
    drafts = _assistant_split(record, units, minutes, findings, explanation)
    outcome = _check_edits(record, rules, drafts, explanation)
    findings.extend(outcome.findings)
    factor = conversion_factor(record.date, qp=record.qp, fees=rules.fees)
    place = payment.resolve_locality(
        rules.fees, record.date, locality=record.locality, zip5=record.zip
    )
    if place.missing_data:
        findings.append(_locality_not_loaded(place))
    if place.zip_spans_localities:
        findings.append(_zip_spans_localities(place))
    reductions = record.payer.type in MEDICARE_REDUCTION_PAYERS
    priced = payment.price_lines(
        [payment.LineToPrice(d.code, d.units, d.assistant) for d in drafts],
        on=record.date,
        fees=rules.fees,
        place=place,
        factor=factor,
        facility=record.facility,
        medicare_reductions=reductions,
        explanation=explanation,
        same_day=[payment.LineToPrice(s.code, s.units, s.assistant) for s in record.same_day],
    )
    findings.extend(_status_findings(record, priced))
    explanation.steps.extend(_releases_outside_their_window(record, rules, drafts, place))
    allowed = sum((line.amount for line in priced), Decimal("0"))
    summary = _payment_summary(record, allowed, factor, place, reductions, explanation)
    status = _threshold(record, allowed, findings, explanation)
    kx = bool(status and status.kx_required and _attested(record))
    claim_lines = _claim_lines(record, drafts, priced, outcome, kx, findings, explanation)
    findings.extend(telehealth_findings(record, explanation))
    findings.extend(_discipline_findings(record))
    findings.extend(check_documentation(record, _billed_units_per_line(record, units)))
    findings.extend(check_diagnoses(record, rules.diagnoses))
    place_of_service = telehealth.place_of_service(record.telehealth, record.facility)
    explanation.steps.append(_place_of_service_story(place_of_service))
    return VisitResult(
        record=record,
        units=units,
        claim_lines=claim_lines,
        payment=summary,
        threshold=status,
        place_of_service=place_of_service,
        findings=_located(findings, record),
        explanation=explanation,
    )


def _located(findings: list[Finding], record: VisitRecord) -> list[Finding]:
    """Findings about a code get the index of the code's line (the first line of it)."""
    if all(finding.line is not None or finding.code is None for finding in findings):
        return findings
    return [
        replace(finding, line=_line_of(record, finding.code))
        if finding.line is None and finding.code is not None
        else finding
        for finding in findings
    ]


def _line_of(record: VisitRecord, code: str) -> int | None:
    for index, line in enumerate(record.lines):
        if line.code == code:
            return index
    if code in CAREGIVER_TIME_CODES:  # 97550 billed from the minutes of a 97551 line
        for index, line in enumerate(record.lines):
            if line.code in CAREGIVER_TIME_CODES:
                return index
    return None


@lru_cache(maxsize=8)
def _place_of_service_story(code: str) -> str:
    return (
        f"Place of service {code} ({telehealth.PLACE_NAMES[code]}) on every claim line "
        f"({telehealth.SOURCE_POS.label()})"
    )


def _releases_outside_their_window(
    record: VisitRecord,
    rules: RuleSet,
    drafts: Sequence[_DraftLine],
    place: payment.PricingLocality,
) -> list[str]:
    """Say so when a release answered for a date outside its effective window (the nearest
    release stands in when none in force that day is loaded: a fee schedule of the same
    year, the latest ZIP file, the latest edits)."""
    on = record.date
    used: list[Release] = []
    for code in dict.fromkeys(draft.code for draft in drafts):
        row = rules.fees.rvu(code, on)
        if row is not None:
            used.append(row.release)
    if place.key != "national":
        gpci, zip_release = rules.fees.locality_releases(on)
        used.extend(release for release in (gpci, zip_release if place.zip5 else None) if release)
    for kind in ("ptp", "mue"):
        edit_release = rules.edits.release_for(kind, on)
        if edit_release is not None:
            used.append(edit_release)
    outside = [release for release in dict.fromkeys(used) if not release.covers(on)]
    return [_outside_window_story(release, on) for release in outside]


_RELEASE_KINDS = {
    "pfs": ("fee schedule", "the CMS PPRRVU file in force that day"),
    "gpci": ("GPCI", "that year's CMS GPCI file"),
    "zip5": ("ZIP-to-locality", "the CMS ZIP5 file of that quarter"),
    "ptp": ("NCCI PTP", "that quarter's NCCI PTP files"),
    "mue": ("MUE", "that quarter's CMS practitioner MUE file"),
    "icd10cm": ("ICD-10-CM", "the CDC ICD-10-CM release of that fiscal year"),
}


@lru_cache(maxsize=1024)
def _outside_window_story(release: Release, on: date) -> str:
    kind, fix = _RELEASE_KINDS[release.kind]
    end = release.effective_to.isoformat() if release.effective_to else "onward"
    start = release.effective_from.isoformat()
    return (
        f"{kind[0].upper()}{kind[1:]} release {release.label} is in force {start}..{end}, "
        f"not on {on.isoformat()}: no {kind} release in force that day is loaded, so "
        f"its values stand in and may differ from those in force; import {fix} for exact "
        "values"
    )


def _zip_spans_localities(place: payment.PricingLocality) -> Finding:
    return Finding(
        Severity.WARNING,
        "payment.zip-spans-localities",
        f"{place.zip_spans_note} ({place.name}), the locality of its ZIP5 row",
        "Look up the patient's ZIP+4 in the CMS ZIP9 file and give that locality as MAC-LOC "
        "instead of the ZIP",
        payment.SOURCE_ZIP_PLUS_FOUR,
    )


def _locality_not_loaded(place: payment.PricingLocality) -> Finding:
    return Finding(
        Severity.WARNING,
        "payment.locality-not-loaded",
        f"Priced at national rates: {place.missing_data}",
        place.missing_fix,
        payment.SOURCE_FORMULA,
    )


def _minutes_by_code(record: VisitRecord) -> dict[str, tuple[int, int]]:
    """(total minutes, assistant-alone minutes) per code, in the order codes first appear."""
    totals: dict[str, tuple[int, int]] = {}
    for line in record.lines:
        total, assistant = totals.get(line.code, (0, 0))
        totals[line.code] = (total + line.minutes, assistant + line.assistant_minutes)
    return totals


def _billed_units_per_line(record: VisitRecord, units: UnitsResult) -> list[int]:
    """Units of each visit line; a code entered on several lines is billed on its first."""
    left: dict[str, int] = {}
    for item in units.codes:
        left[item.code] = left.get(item.code, 0) + item.units
    billed = []
    for line in record.lines:
        billed.append(left.pop(line.code, 0))
    return billed


def _assistant_split(
    record: VisitRecord,
    units: UnitsResult,
    minutes: dict[str, tuple[int, int]],
    findings: list[Finding],
    explanation: Explanation,
) -> list[_DraftLine]:
    modifier = assistants.assistant_modifier(record.discipline)
    applies = modifier is not None and record.date >= assistants.CQ_CO_REQUIRED_FROM
    drafts: list[_DraftLine] = []
    for item in units.codes:
        total, assistant = minutes.get(item.code, (item.minutes, 0))
        evaluation = assistant and CATALOG[item.code].kind == "evaluation"
        if evaluation:
            findings.append(
                _evaluation_by_assistant(item.code, _assistant_line(record, item.code))
            )
        if assistant and modifier is None:
            findings.append(_slp_assistant(item.code, _assistant_line(record, item.code)))
        if not applies or assistant == 0 or evaluation:
            if evaluation and applies:
                # Assistants may not evaluate: the evaluation is billed as the therapist's,
                # with the error finding, never with CQ/CO as if an assistant's share of it
                # were payable at 85%.
                explanation.add(
                    f"{item.code} is an evaluation: billed without {modifier}, as only the "
                    "therapist may furnish it (the assistant minutes are an error finding)",
                    SOURCE_ASSISTANTS_EVALUATE,
                )
            drafts.append(_DraftLine(item.code, item.units, False))
            continue
        split = assistants.split_units(
            item.code, item.units, total - assistant, assistant, explanation
        )
        if split.units_without or not split.units_with:
            drafts.append(_DraftLine(item.code, split.units_without, False))
        if split.units_with:
            drafts.append(_DraftLine(item.code, split.units_with, True))
    return [draft for draft in drafts if draft.units > 0]


def _assistant_line(record: VisitRecord, code: str) -> int | None:
    """The first line of `code` with assistant minutes."""
    for index, line in enumerate(record.lines):
        if line.code == code and line.assistant_minutes:
            return index
    return None


SOURCE_ASSISTANTS_EVALUATE = Source(
    "CMS Pub 100-02 ch.15 §230.1-230.2 (assistants may not evaluate)", verified=False
)


def _evaluation_by_assistant(code: str, line: int | None) -> Finding:
    return Finding(
        Severity.ERROR,
        "assistant.evaluation",
        f"{code} is an evaluation: assistants may not furnish evaluations or re-evaluations",
        "Record the evaluation under the therapist; remove the assistant minutes",
        SOURCE_ASSISTANTS_EVALUATE,
        line=line,
    )


def _slp_assistant(code: str, line: int | None) -> Finding:
    return Finding(
        Severity.ERROR,
        "assistant.slp",
        f"{code}: Medicare has no benefit for services of a speech-language pathology "
        "assistant, so assistant minutes on an SLP plan cannot be billed",
        "Bill only the minutes the speech-language pathologist furnished",
        Source("SSA §1834(v) (CQ/CO exist for PTA/OTA only)"),
        line=line,
    )


def _check_edits(
    record: VisitRecord, rules: RuleSet, drafts: Sequence[_DraftLine], explanation: Explanation
) -> edits.EditOutcome:
    outcome = edits.EditOutcome()
    billed: dict[str, int] = {}
    for draft in drafts:
        billed[draft.code] = billed.get(draft.code, 0) + draft.units
    day = dict(billed)  # the patient's whole day: this visit and the others (NCCI, MUE)
    for other in record.same_day:
        day[other.code] = day.get(other.code, 0) + other.units
    if record.same_day:
        explanation.steps.append(_same_day_story(record.same_day))
    edits.check_ptp(
        day,
        on=record.date,
        edits=rules.edits,
        distinct_services=record.distinct_services,
        distinct_modifier=record.payer.distinct_modifier,
        outcome=outcome,
        explanation=explanation,
        here=frozenset(billed),
    )
    edits.check_mue(
        {code: day[code] for code in billed},
        on=record.date,
        edits=rules.edits,
        outcome=outcome,
        explanation=explanation,
    )
    return outcome


def _same_day_story(lines: Sequence[SameDayLine]) -> str:
    listed = ", ".join(
        f"{line.code} x{line.units}{' (CQ/CO)' if line.assistant else ''}" for line in lines
    )
    return (
        f"Same day, other visits: {listed}; counted for NCCI pairs, MUE units per day and "
        f"the therapy MPPR ({SOURCE_PATIENT_DAY.label()})"
    )


def _status_findings(record: VisitRecord, priced: Sequence[payment.PricedLine]) -> list[Finding]:
    found: list[Finding] = []
    for line in priced:
        spec = CATALOG[line.code]
        if line.status == "I" and record.payer.is_medicare:
            found.append(
                Finding(
                    Severity.ERROR,
                    "code.not-valid-for-medicare",
                    f"{line.code} is not valid for Medicare (status I in {line.release})",
                    f"Bill {spec.medicare_replacement or 'the Medicare code'} instead",
                    SOURCE_STATUS,
                    code=line.code,
                )
            )
        elif line.status == "B" and record.payer.is_medicare:
            found.append(
                Finding(
                    Severity.WARNING,
                    "code.bundled",
                    f"{line.code} is bundled by Medicare (status B in {line.release}): it is "
                    "never paid separately",
                    f"Leave {line.code} off the claim or expect $0; its time is part of the "
                    "other services",
                    SOURCE_STATUS,
                    code=line.code,
                )
            )
    return found


def _payment_summary(
    record: VisitRecord,
    allowed: Decimal,
    factor: ConversionFactor,
    place: payment.PricingLocality,
    reductions: bool,
    explanation: Explanation,
) -> PaymentSummary:
    insurance = payment.coinsurance(allowed) if record.payer.is_medicare else None
    if insurance is not None:
        explanation.add(
            f"Allowed ${allowed:.2f}; patient coinsurance 20% = ${insurance:.2f} "
            "(Part B deductible not included)",
            payment.SOURCE_COINSURANCE,
        )
    else:
        explanation.add(
            f"Medicare fee schedule reference amount ${allowed:.2f}; "
            f"the {record.payer.type} payer's contract may differ"
        )
    return PaymentSummary(allowed, insurance, factor, place, reductions)


def _attested(record: VisitRecord) -> bool:
    return bool(record.threshold and record.threshold.medical_necessity_attested)


def _threshold(
    record: VisitRecord, allowed: Decimal, findings: list[Finding], explanation: Explanation
) -> ThresholdStatus | None:
    if not record.payer.is_medicare:
        return None
    if record.date.year > _LAST_THRESHOLD_YEAR:
        # A new year priced from an imported fee schedule: its KX amount comes with the next
        # Handrail release, so the visit is priced and the threshold is said to be unchecked.
        findings.append(_finding_threshold_unknown(record.date.year))
        explanation.add(
            f"Therapy threshold {record.date.year}: not known to this Handrail release; "
            "KX not checked",
            THRESHOLD_SOURCE,
        )
        return None
    before = record.threshold.accrued_before if record.threshold else Decimal("0")
    status = apply_threshold(
        on=record.date,
        discipline=record.discipline,
        accrued_before=before,
        visit_allowed=allowed,
        explanation=explanation,
    )
    if record.threshold is None:
        findings.append(_finding_no_accrual(status))
    if status.kx_required and not _attested(record):
        findings.append(_finding_kx_unattested(status))
    elif status.nearing:
        findings.append(_finding_nearing(status))
    if status.review_flag:
        findings.append(_finding_review(status))
    return status


_LAST_THRESHOLD_YEAR = max(THRESHOLDS)


@lru_cache(maxsize=8)
def _finding_threshold_unknown(year: int) -> Finding:
    return Finding(
        Severity.WARNING,
        "threshold.unknown-year",
        f"No {year} therapy (KX) threshold is known to this Handrail release: whether this "
        "visit needs KX was not checked",
        f"Check the {year} amount in the CY{year} PFS final rule before billing past it, and "
        "update Handrail for its threshold table",
        THRESHOLD_SOURCE,
    )


def _finding_no_accrual(status: ThresholdStatus) -> Finding:
    return Finding(
        Severity.INFO,
        "threshold.no-accrual",
        f"No year-to-date {status.group} amount was given; the threshold check counts this "
        "visit only",
        "Give the patient's allowed therapy amount so far this year",
        status.source,
    )


def _finding_kx_unattested(status: ThresholdStatus) -> Finding:
    return Finding(
        Severity.ERROR,
        "threshold.kx-unattested",
        f"This visit takes the {status.year} {status.group} total to "
        f"${status.accrued_after:,.2f}, over the ${status.amount:,} threshold; without KX "
        "the lines will deny, and KX needs documented medical necessity",
        "Document why continued therapy is medically necessary and attest it, so KX is added",
        SOURCE_KX,
    )


def _finding_nearing(status: ThresholdStatus) -> Finding:
    left = status.amount - status.accrued_after
    return Finding(
        Severity.WARNING,
        "threshold.nearing",
        f"{status.group} total ${status.accrued_after:,.2f} is within ${left:,.2f} of the "
        f"{status.year} threshold (${status.amount:,})",
        "Document medical necessity now so KX can be added once the threshold is passed",
        status.source,
    )


def _finding_review(status: ThresholdStatus) -> Finding:
    return Finding(
        Severity.WARNING,
        "threshold.targeted-review",
        f"{status.group} total ${status.accrued_after:,.2f} is over $3,000: the claim may be "
        "picked for targeted medical review",
        "Make sure goals, progress and medical necessity are documented in every note",
        REVIEW_SOURCE,
    )


def _claim_lines(
    record: VisitRecord,
    drafts: Sequence[_DraftLine],
    priced: Sequence[payment.PricedLine],
    outcome: edits.EditOutcome,
    kx: bool,
    findings: list[Finding],
    explanation: Explanation,
) -> list[ClaimLine]:
    assistant_mod = assistants.assistant_modifier(record.discipline)
    lines = []
    for draft, price in zip(drafts, priced, strict=True):
        modifiers = line_modifiers(
            discipline=record.discipline,
            assistant_modifier=assistant_mod if draft.assistant else None,
            distinct_modifier=(
                record.payer.distinct_modifier
                if draft.code in outcome.distinct_modifier_codes
                else None
            ),
            telehealth=record.telehealth is not None,
            kx=kx,
        )
        if len(modifiers) > MAX_MODIFIERS_ON_837P:
            findings.append(_too_many_modifiers(draft.code, modifiers))
        lines.append(
            ClaimLine(
                draft.code,
                draft.units,
                modifiers,
                price.amount,
                price.unit_amounts,
                draft.assistant,
                price.release,
            )
        )
    explanation.steps.append(_discipline_step(record.discipline))
    if record.telehealth:
        explanation.add(
            "Telehealth: modifier 95 on every line", telehealth.modifier_95_source(record.date)
        )
    if kx:
        explanation.add(
            "KX on every line: over the threshold, medical necessity attested", SOURCE_KX
        )
    return lines


@lru_cache(maxsize=8)
def _discipline_step(discipline: Discipline) -> str:
    return (
        f"Discipline modifier {DISCIPLINE_MODIFIERS[discipline]} on every line of the "
        f"{discipline} plan of care ({SOURCE_DISCIPLINE.label()})"
    )


def _too_many_modifiers(code: str, modifiers: Sequence[str]) -> Finding:
    return Finding(
        Severity.WARNING,
        "claim.too-many-modifiers",
        f"{code} needs {len(modifiers)} modifiers ({' '.join(modifiers)}); an 837P line holds 4",
        "Ask the payer which modifier to drop (usually the informational one last)",
        Source("ASC X12 005010X222A1 SV101-3 to SV101-6"),
        code=code,
    )


def telehealth_findings(record: VisitRecord, explanation: Explanation) -> list[Finding]:
    """Medicare telehealth: the therapists' window and each code on the list that day."""
    if record.telehealth is None or not record.payer.is_medicare:
        return []
    if telehealth.therapist_telehealth_allowed(record.date):
        return _telehealth_codes(record, explanation)
    return [
        Finding(
            Severity.ERROR,
            "telehealth.outside-window",
            f"Therapists may furnish Medicare telehealth from "
            f"{telehealth.WINDOW_START.isoformat()} through {telehealth.WINDOW_END.isoformat()}; "
            f"{record.date.isoformat()} is outside that window",
            "Furnish the visit in person, or bill a non-Medicare payer that covers telehealth",
            telehealth.SOURCE_WINDOW,
        )
    ]


def _telehealth_codes(record: VisitRecord, explanation: Explanation) -> list[Finding]:
    """Each code billed by telehealth must be on the Medicare telehealth list that day."""
    found: list[Finding] = []
    seen: set[str] = set()
    for index, line in enumerate(record.lines):
        if line.code in seen:
            continue
        seen.add(line.code)
        listed = telehealth.listing_on(line.code, record.date)
        if listed is not None:
            explanation.add(
                f"Telehealth list: {line.code} is on the Medicare telehealth list on "
                f"{record.date.isoformat()} (listed {listed.period()})",
                listed.source,
            )
        else:
            found.append(_not_on_telehealth_list(line.code, record.date, index))
    return found


def _not_on_telehealth_list(code: str, on: date, index: int) -> Finding:
    periods = telehealth.listings(code)
    if periods:
        listed = "; it is listed " + ", ".join(row.period() for row in periods)
        later = [row for row in periods if row.effective_from > on]
        source = (later[0] if later else periods[-1]).source
    else:
        listed, source = "", telehealth.SOURCE_NOT_LISTED
    return Finding(
        Severity.ERROR,
        "telehealth.code-not-listed",
        f"{code} is not on the Medicare telehealth list on {on.isoformat()}{listed}: "
        "furnished by telehealth it will deny",
        f"Furnish {code} in person (a visit of its own, without telehealth), or bill a payer "
        "that covers it by telehealth",
        source,
        line=index,
    )


def _discipline_findings(record: VisitRecord) -> list[Finding]:
    found = []
    for index, line in enumerate(record.lines):
        spec = CATALOG[line.code]
        if record.discipline not in spec.disciplines:
            usual = "/".join(sorted(spec.disciplines))
            found.append(
                Finding(
                    Severity.WARNING,
                    "code.discipline",
                    f"{line.code} ({spec.name}) is a {usual} service; billing it under a "
                    f"{record.discipline} plan of care invites a denial",
                    f"Check the code, or bill it under the {usual} plan of care that covers it",
                    SOURCE_DISCIPLINE,
                    line=index,
                )
            )
    return found
