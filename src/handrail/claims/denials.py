"""Why a line was denied or underpaid, read from the visit: the likely causes with the fix,
most likely first.

A cause counts when the visit shows it (a fact) and counts more when the payer's reason codes
point at it too. A cause the codes point at but the visit does not show is still listed, last,
because the fix then is to argue (appeal) rather than to correct the claim.

# Sources
- NCCI pairs and the distinct-service modifiers 59/XE/XP/XS/XU: CMS, NCCI Policy Manual for
  Medicare Services (2026), chapter I section E and chapter XI section N (physical medicine);
  CMS MLN1783722 "Proper Use of Modifiers 59 & -X{EPSU}".
- KX past the therapy threshold: Social Security Act 1833(g)(7) as amended by the Bipartisan
  Budget Act of 2018 section 50202; 42 CFR 410.59(e), 410.60(e); CMS Pub. 100-04 chapter 5
  section 10.3.
- GP/GO/GN on every outpatient therapy line: CMS Pub. 100-04 chapter 5 section 20.1.
- Diagnosis valid and billable on the date of service: ICD-10-CM Official Guidelines for
  Coding and Reporting FY2026, section I.A and I.B; HIPAA code set rule 45 CFR 162.1002.
- Timely filing, one calendar year from the date of service for Medicare: 42 CFR 424.44(a);
  CMS Pub. 100-04 chapter 1 section 70. Commercial limits come from the payer's contract.
- Prior authorization: the payer's own policy (Medicare Part B has none for outpatient
  therapy; Medicare Advantage and commercial plans often do).
- Referring provider: 42 CFR 424.24(c) (certification of the plan of care) and the 837P
  loop 2310A for payers that require it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Final

MEDICARE_TIMELY_FILING_DAYS: Final = 365
DISTINCT_MODIFIERS: Final = frozenset({"59", "XE", "XP", "XS", "XU"})
DISCIPLINE_MODIFIERS: Final = frozenset({"GP", "GO", "GN"})

# Scores: the visit shows it and the codes point at it > the visit shows it > only the codes.
_FACT_AND_CODES: Final = 3
_FACT_ONLY: Final = 2
_CODES_ONLY: Final = 1


class Action(StrEnum):
    """What the biller does about a cause."""

    CORRECTED_CLAIM = "corrected_claim"  # frequency 7 with the fix
    APPEAL = "appeal"  # argue with the documentation
    WRITE_OFF = "write_off"  # nothing a claim or an appeal can change


class Cause(StrEnum):
    NCCI_BUNDLING = "ncci_bundling"
    MISSING_KX = "missing_kx"
    DISCIPLINE_MODIFIER = "discipline_modifier"
    NO_AUTHORIZATION = "no_authorization"
    NON_BILLABLE_DIAGNOSIS = "non_billable_diagnosis"
    TIMELY_FILING = "timely_filing"
    REFERRING_PROVIDER = "referring_provider"


@dataclass(frozen=True)
class NcciPartner:
    """Another code billed on the same day that forms an NCCI pair with this line's code as
    its column-two code; `bypassable` is False for a pair whose modifier indicator is 0."""

    code: str
    bypassable: bool = True


@dataclass(frozen=True)
class LineContext:
    """A denied or underpaid line with what the visit says about it. The web layer fills the
    facts from the claim, the visit's engine findings and the evaluation (plan of care)."""

    code: str
    modifiers: tuple[str, ...]
    service_date: date
    carcs: tuple[str, ...] = ()  # reason codes on the line and its claim
    rarcs: tuple[str, ...] = ()
    medicare: bool = True
    submitted_on: date | None = None
    timely_filing_days: int = MEDICARE_TIMELY_FILING_DAYS
    ncci_partners: tuple[NcciPartner, ...] = ()
    past_threshold: bool = False
    plan_discipline: str = ""  # GP, GO or GN from the plan of care; "" when unknown
    authorization_required: bool = False
    authorization_number: str = ""
    non_billable_diagnoses: tuple[str, ...] = ()
    referring_required: bool = False
    referring_npi: str = ""


@dataclass(frozen=True)
class LikelyCause:
    cause: Cause
    summary: str
    fix: str
    action: Action
    score: int
    evidence: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class _Rule:
    cause: Cause
    carcs: frozenset[str]
    rarcs: frozenset[str]


# Which reason codes point at which cause (see data/reason_codes_2026.json for the meanings).
_RULES: Final = (
    _Rule(Cause.NCCI_BUNDLING, frozenset({"97", "236", "234"}), frozenset({"M15", "M80", "N20"})),
    _Rule(Cause.MISSING_KX, frozenset({"119"}), frozenset({"N640"})),
    _Rule(Cause.DISCIPLINE_MODIFIER, frozenset({"4"}), frozenset()),
    _Rule(Cause.NO_AUTHORIZATION, frozenset({"197", "15"}), frozenset({"N54"})),
    _Rule(Cause.NON_BILLABLE_DIAGNOSIS, frozenset({"146", "11", "167"}), frozenset({"M76"})),
    _Rule(Cause.TIMELY_FILING, frozenset({"29"}), frozenset()),
    _Rule(Cause.REFERRING_PROVIDER, frozenset(), frozenset({"N286"})),
)


def likely_causes(line: LineContext) -> list[LikelyCause]:
    """The causes the visit or the reason codes support, most likely first (ties keep the
    order of `_RULES`). An empty list means neither the visit nor the codes point anywhere we
    know; the reason code explanations are then all there is."""
    carcs = {c.strip().upper() for c in line.carcs}
    rarcs = {c.strip().upper() for c in line.rarcs}
    found: list[LikelyCause] = []
    for rule in _RULES:
        coded = sorted(carcs & rule.carcs) + sorted(rarcs & rule.rarcs)
        fact = _FACTS[rule.cause](line)
        if fact is None and not coded:
            continue
        evidence = []
        if fact is not None:
            evidence.append(fact.evidence)
        if coded:
            evidence.append(f"the payer's reason codes point at it ({', '.join(coded)})")
        if fact is not None:
            score = _FACT_AND_CODES if coded else _FACT_ONLY
            found.append(
                LikelyCause(
                    rule.cause, fact.summary, fact.fix, fact.action, score, tuple(evidence)
                )
            )
        else:
            summary, fix = _UNSUPPORTED[rule.cause]
            found.append(
                LikelyCause(rule.cause, summary, fix, Action.APPEAL, _CODES_ONLY, tuple(evidence))
            )
    # sorted() is stable, so equal scores keep the table's order.
    return sorted(found, key=lambda cause: -cause.score)


@dataclass(frozen=True)
class _Fact:
    summary: str
    fix: str
    action: Action
    evidence: str


# --- what the visit shows, one function per cause ------------------------------------------


def _ncci(line: LineContext) -> _Fact | None:
    if not line.ncci_partners or DISTINCT_MODIFIERS & set(line.modifiers):
        return None
    never = [p.code for p in line.ncci_partners if not p.bypassable]
    if never:
        return _Fact(
            summary=f"{line.code} is bundled into {', '.join(never)} on the same day and no "
            "modifier may separate them.",
            fix="Nothing to correct: the pair can never be billed apart. Write the line off.",
            action=Action.WRITE_OFF,
            evidence=f"NCCI pair with {', '.join(never)} (modifier indicator 0)",
        )
    partners = ", ".join(p.code for p in line.ncci_partners)
    return _Fact(
        summary=f"{line.code} was billed with {partners} on the same day with no 59 or X "
        "modifier, so the payer bundled it.",
        fix=f"If {line.code} was done in a separate time interval or on a separate body area "
        "and the note says so, add 59 (or XU/XS) to it and send a corrected claim.",
        action=Action.CORRECTED_CLAIM,
        evidence=f"NCCI pair with {partners} and no 59/X modifier on the line",
    )


def _kx(line: LineContext) -> _Fact | None:
    if not (line.medicare and line.past_threshold) or "KX" in line.modifiers:
        return None
    return _Fact(
        summary="The patient's therapy this year was past the KX threshold and the line has "
        "no KX modifier.",
        fix="If the therapy remains medically necessary and the note documents why, add KX "
        "and send a corrected claim.",
        action=Action.CORRECTED_CLAIM,
        evidence="past the therapy threshold on the date of service, no KX on the line",
    )


def _discipline(line: LineContext) -> _Fact | None:
    present = DISCIPLINE_MODIFIERS & set(line.modifiers)
    if not present:
        wanted = line.plan_discipline or "GP, GO or GN"
        return _Fact(
            summary="The line has no therapy discipline modifier.",
            fix=f"Add {wanted} (the discipline of the plan of care) and send a corrected claim.",
            action=Action.CORRECTED_CLAIM,
            evidence="no GP/GO/GN on the line",
        )
    if line.plan_discipline and line.plan_discipline not in present:
        return _Fact(
            summary=f"The line carries {', '.join(sorted(present))} but the plan of care is "
            f"under {line.plan_discipline}.",
            fix=f"Replace the modifier with {line.plan_discipline} and send a corrected claim.",
            action=Action.CORRECTED_CLAIM,
            evidence=f"discipline modifier differs from the plan of care ({line.plan_discipline})",
        )
    return None


def _authorization(line: LineContext) -> _Fact | None:
    if not line.authorization_required or line.authorization_number.strip():
        return None
    return _Fact(
        summary="The payer requires prior authorization and the claim carried none.",
        fix="If an authorization was obtained, send a corrected claim with its number; "
        "otherwise ask the payer for a retro-authorization or appeal.",
        action=Action.CORRECTED_CLAIM,
        evidence="authorization required by the payer, none on the claim",
    )


def _diagnosis(line: LineContext) -> _Fact | None:
    if not line.non_billable_diagnoses:
        return None
    codes = ", ".join(line.non_billable_diagnoses)
    return _Fact(
        summary=f"Diagnosis {codes} was not billable on {line.service_date.isoformat()}.",
        fix="Replace it with the complete, billable code valid on the date of service and "
        "send a corrected claim.",
        action=Action.CORRECTED_CLAIM,
        evidence=f"non-billable diagnosis on the date of service: {codes}",
    )


def _timely(line: LineContext) -> _Fact | None:
    if line.submitted_on is None:
        return None
    days = (line.submitted_on - line.service_date).days
    if days <= line.timely_filing_days:
        return None
    return _Fact(
        summary=f"The claim was first sent {days} days after the date of service, past the "
        f"{line.timely_filing_days}-day filing limit.",
        fix="Only proof of an earlier, timely submission (or a payer error) can reverse it: "
        "appeal with that proof, otherwise write the line off.",
        action=Action.WRITE_OFF,
        evidence=f"submitted {days} days after the service (limit {line.timely_filing_days})",
    )


def _referring(line: LineContext) -> _Fact | None:
    if not line.referring_required or line.referring_npi.strip():
        return None
    return _Fact(
        summary="The payer requires the referring (certifying) provider and the claim had none.",
        fix="Add the certifying physician's or NPP's name and NPI and send a corrected claim.",
        action=Action.CORRECTED_CLAIM,
        evidence="no referring provider NPI on the claim",
    )


_FACTS: Final = {
    Cause.NCCI_BUNDLING: _ncci,
    Cause.MISSING_KX: _kx,
    Cause.DISCIPLINE_MODIFIER: _discipline,
    Cause.NO_AUTHORIZATION: _authorization,
    Cause.NON_BILLABLE_DIAGNOSIS: _diagnosis,
    Cause.TIMELY_FILING: _timely,
    Cause.REFERRING_PROVIDER: _referring,
}

# When only the codes point at a cause: the visit looks right, so the fix is to argue it.
_UNSUPPORTED: Final = {
    Cause.NCCI_BUNDLING: (
        "The payer bundled the line, but the visit shows no unmodified NCCI pair.",
        "Appeal with the note showing the services were distinct (separate time or area).",
    ),
    Cause.MISSING_KX: (
        "The payer applied a benefit limit, but the visit shows no missing KX.",
        "Check the patient's therapy total with the payer; appeal with the note if KX was "
        "sent and the therapy was necessary.",
    ),
    Cause.DISCIPLINE_MODIFIER: (
        "The payer refused a modifier, but the line's discipline modifier matches the plan.",
        "Check the other modifiers on the line; appeal if they are right.",
    ),
    Cause.NO_AUTHORIZATION: (
        "The payer says authorization was missing, but the claim carried one or none was "
        "required.",
        "Appeal with the authorization letter covering the date of service.",
    ),
    Cause.NON_BILLABLE_DIAGNOSIS: (
        "The payer refused the diagnosis, but it was billable on the date of service.",
        "Check the payer's coverage policy for the diagnosis; appeal with the plan of care.",
    ),
    Cause.TIMELY_FILING: (
        "The payer says the claim was late, but it was sent within the filing limit.",
        "Appeal with the clearinghouse acceptance report showing the first submission date.",
    ),
    Cause.REFERRING_PROVIDER: (
        "The payer says the referring provider was missing or wrong, but the claim had one.",
        "Check the NPI against NPPES and the certifying physician's enrollment, then resend.",
    ),
}
