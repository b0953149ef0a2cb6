"""Reads for the visit note page: the live panel (the engine's answer for the note as it
stands, grouped for display) and who may do what on the page.

The panel never raises for bad or incomplete input: a note without lines, a patient without
coverage or an engine input error becomes a message in the panel (never a 500).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError

from handrail.rules.catalog import CATALOG
from handrail.web.billing.pricing import contract_pricing
from handrail.web.clinic.models import Role, User
from handrail.web.clinic.permissions import can_document, can_sign
from handrail.web.clinic.selectors import coverage_primary
from handrail.web.visits.engine import EngineUnavailableError
from handrail.web.visits.models import ServiceLine, Visit
from handrail.web.visits.selectors import (
    PROGRESS_REPORT_EVERY,
    CaseCounters,
    VisitFacts,
    visit_facts,
)
from handrail.web.visits.services import visit_evaluate

SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
# Rule-id prefixes shown under "Coding edits" (NCCI procedure-to-procedure pairs, MUE unit
# limits and code validity); "doc." findings are documentation; the rest are "Other checks".
EDIT_PREFIXES = ("ncci.", "mue.", "code.")
DOC_PREFIX = "doc."
# Medicare certifies a plan for at most 90 days (Pub 100-02 ch.15 §220.1.3).
RECERT_DAYS = 90
CENTS = "0.01"


@dataclass(frozen=True, slots=True)
class PanelFinding:
    severity: str
    rule: str
    message: str
    fix: str
    source: str
    code: str  # the service line's code, or "" for visit-wide findings

    @property
    def code_label(self) -> str:
        """The code to show before the message, unless the message starts with it."""
        return "" if self.message.startswith(self.code) else self.code


@dataclass(frozen=True, slots=True)
class PanelLine:
    code: str
    minutes: int
    units: int
    modifiers: tuple[str, ...]
    amount: Decimal | None  # None: the payer's rate table has no rate for the code
    fee_schedule: str
    steps: tuple[str, ...] = ()  # the explanation's unit steps for this code


@dataclass(frozen=True, slots=True)
class Gauge:
    """The yearly therapy threshold: this patient's accrual after this visit."""

    year: int
    group: str
    amount: Decimal
    accrued: Decimal
    kx_required: bool
    review_flag: bool
    source: str

    @property
    def percent(self) -> int:
        if self.amount <= 0:
            return 0
        return int(self.accrued * 100 / self.amount)

    @property
    def remaining(self) -> Decimal:
        return max(self.amount - self.accrued, Decimal("0"))

    @property
    def low(self) -> Decimal:
        return self.amount * Decimal("0.75")

    @property
    def high(self) -> Decimal:
        return self.amount * Decimal("0.9")


@dataclass(frozen=True, slots=True)
class NotePanel:
    error: str = ""
    lines: tuple[PanelLine, ...] = ()
    total_minutes: int = 0
    total_units: int = 0
    unit_rule: str = ""
    explanation: tuple[str, ...] = ()
    edits: tuple[PanelFinding, ...] = ()
    documentation: tuple[PanelFinding, ...] = ()
    other: tuple[PanelFinding, ...] = ()
    allowed: Decimal | None = None
    coinsurance: Decimal | None = None
    payment_source: str = ""
    gauge: Gauge | None = None
    counters: CaseCounters | None = None
    progress_report_every: int = PROGRESS_REPORT_EVERY
    recert_days: int = RECERT_DAYS
    stored: bool = False  # the evaluation stored at signing, not a fresh one
    finding_count: dict[str, int] = field(default_factory=dict)


def _findings(result: dict[str, Any], codes: list[str]) -> list[PanelFinding]:
    out = []
    for item in result.get("findings") or []:
        index = item.get("line")
        out.append(
            PanelFinding(
                severity=str(item.get("severity") or ""),
                rule=str(item.get("rule") or ""),
                message=str(item.get("message") or ""),
                fix=str(item.get("fix") or ""),
                source=str(item.get("source") or ""),
                code=codes[index] if isinstance(index, int) and 0 <= index < len(codes) else "",
            )
        )
    return sorted(out, key=lambda f: (SEVERITY_ORDER.get(f.severity, 3), f.code, f.rule))


def _unit_steps(result: dict[str, Any], code: str) -> tuple[str, ...]:
    """The explanation's per-code minute steps ("97535: 25 min = 1 full 15-minute unit...");
    the pricing steps (they name the conversion factor) stay in the full list."""
    prefix = f"{code}: "
    return tuple(
        str(step)
        for step in result.get("explanation") or []
        if str(step).startswith(prefix) and " CF " not in str(step)
    )


def _decimal(value: Any, places: str | None = None) -> Decimal | None:
    """A number of the engine's answer as a Decimal, or None where the engine gives none
    (a payer without coinsurance, a threshold that does not apply) or a stored evaluation of
    an older shape lacks it: a missing figure is left blank, never a 500."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return None
    if not number.is_finite():
        return None
    return number.quantize(Decimal(places)) if places else number


def _gauge(threshold: dict[str, Any] | None) -> Gauge | None:
    if not threshold or not threshold.get("applies"):
        return None
    amount = _decimal(threshold.get("amount"))
    accrued = _decimal(threshold.get("accrued_after"))
    year = threshold.get("year")
    if amount is None or accrued is None or not isinstance(year, int):
        return None
    return Gauge(
        year=year,
        group=str(threshold.get("group") or ""),
        amount=amount,
        accrued=accrued,
        kx_required=bool(threshold.get("kx_required")),
        review_flag=bool(threshold.get("review_flag")),
        source=str(threshold.get("source") or ""),
    )


def _evaluation(visit: Visit, facts: VisitFacts) -> tuple[dict[str, Any] | None, str]:
    if visit.is_signed:
        if visit.evaluation is None:
            return None, "No estimate was stored when this note was signed (no coverage)."
        return visit.evaluation, ""
    try:
        return visit_evaluate(visit=visit, facts=facts), ""
    except ValidationError as exc:
        return None, " ".join(exc.messages)
    except EngineUnavailableError as exc:
        return None, f"The rules engine cannot read its official data: {exc}"


def note_panel(*, visit: Visit, facts: VisitFacts | None = None) -> NotePanel:
    """The live panel for a note: units per code, modifiers, findings, payment, threshold
    gauge and the case's counters on the visit date. `facts`: the note's lookups when the
    caller already read them (visit_facts), else read here."""
    facts = facts or visit_facts(visit=visit)
    counters = facts.counters
    result, error = _evaluation(visit, facts)
    if result is None:
        return NotePanel(error=error, counters=counters)
    lines: list[ServiceLine] = facts.lines
    codes = [line.code for line in lines]
    minutes = {line.code: line.total_minutes for line in lines}
    findings = _findings(result, codes)
    payment = result.get("payment") or {}
    count: dict[str, int] = {}
    for item in findings:
        count[item.severity] = count.get(item.severity, 0) + 1
    engine_lines = [claim for claim in result.get("claim_lines") or [] if isinstance(claim, dict)]
    amounts: list[Decimal | None] = [
        _decimal(claim.get("amount"), CENTS) or Decimal("0.00") for claim in engine_lines
    ]
    allowed = _decimal(payment.get("allowed"), CENTS)
    coinsurance = _decimal(payment.get("coinsurance"), CENTS)
    payment_source = str(payment.get("source") or "")
    # A payer with a contract pays by it (a percent of these fee-schedule amounts or a rate
    # per code), not by the Medicare fee schedule; its patient share is the contract's.
    contract = contract_pricing(
        facts.coverage.payer if facts.coverage else None, visit.date, result
    )
    if contract is not None and len(contract.amounts) == len(engine_lines):
        amounts = list(contract.amounts)
        allowed, coinsurance, payment_source = contract.allowed, None, contract.source
    return NotePanel(
        lines=tuple(
            PanelLine(
                code=str(claim.get("code") or ""),
                minutes=minutes.get(str(claim.get("code") or ""), 0),
                units=int(claim.get("units") or 0),
                modifiers=tuple(str(m) for m in claim.get("modifiers") or ()),
                amount=amount,
                fee_schedule=str(claim.get("fee_schedule") or ""),
                steps=_unit_steps(result, str(claim.get("code") or "")),
            )
            for claim, amount in zip(engine_lines, amounts, strict=True)
        ),
        total_minutes=int(result.get("total_timed_minutes") or 0),
        total_units=int(result.get("total_units") or 0),
        unit_rule=str(result.get("unit_rule") or ""),
        explanation=tuple(str(step) for step in result.get("explanation") or []),
        edits=tuple(f for f in findings if f.rule.startswith(EDIT_PREFIXES)),
        documentation=tuple(f for f in findings if f.rule.startswith(DOC_PREFIX)),
        other=tuple(f for f in findings if not f.rule.startswith((*EDIT_PREFIXES, DOC_PREFIX))),
        allowed=allowed,
        # Only Medicare's answer carries the patient's 20% coinsurance (CMS Pub 100-04 ch.5,
        # handrail.rules.payment); another payer's share is its contract's, so None.
        coinsurance=coinsurance,
        payment_source=payment_source,
        gauge=_gauge(result.get("threshold")),
        counters=counters,
        stored=visit.is_signed,
        finding_count=count,
    )


@dataclass(frozen=True, slots=True)
class NoteAccess:
    """What the signed-in user may do on this note page."""

    edit: bool
    sign: bool
    sign_reason: str  # why the sign button is missing, shown to the user
    cosign: bool
    addendum: bool
    cosign_required: bool  # an assistant's note whose primary payer needs a co-signature


def note_access(*, user: User, visit: Visit, facts: VisitFacts | None = None) -> NoteAccess:
    """`facts`: the note's lookups when the caller already read them (its coverage is used)."""
    discipline = visit.case.discipline
    clinician = can_document(user) and (
        user.pk == visit.clinician_id or user.discipline == discipline
    )
    coverage = facts.coverage if facts else coverage_primary(patient=visit.case.patient)
    cosign_required = (
        visit.clinician.role == Role.ASSISTANT
        and coverage is not None
        and coverage.payer.assistant_cosign_required
    )
    sign, reason = False, ""
    if visit.is_signed:
        reason = "Signed and locked."
    elif not can_sign(user):
        reason = f"A {user.get_role_display().lower()} cannot sign notes."
    elif user.role == Role.ASSISTANT and user.pk != visit.clinician_id:
        reason = "An assistant signs only their own notes."
    elif user.role == Role.THERAPIST and user.discipline != discipline:
        reason = f"Only a {discipline} therapist can sign this note."
    else:
        sign = True
    return NoteAccess(
        edit=clinician and not visit.is_signed,
        sign=sign,
        sign_reason=reason,
        cosign=(
            visit.is_signed
            and cosign_required
            and visit.cosigned_by_id is None
            and user.role == Role.THERAPIST
            and user.discipline == discipline
        ),
        addendum=clinician and visit.is_signed,
        cosign_required=cosign_required,
    )


def code_choices(*, discipline: str, exclude: set[str]) -> list[tuple[str, str]]:
    """Codes of the catalog this discipline bills, with our own short names (no CPT text)."""
    return [
        (spec.code, f"{spec.code} · {spec.name}")
        for spec in sorted(CATALOG.values(), key=lambda s: s.code)
        if discipline in spec.disciplines and spec.code not in exclude
    ]
