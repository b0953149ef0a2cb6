"""Claims from signed visits, scrubbed before they can be sent.

A signed visit (co-signed too when its payer requires an assistant's note to be) becomes one
claim for its primary payer, built from what was stored at signing: the engine's claim lines
(code, units and modifiers: GP/GO/GN, CQ/CO, KX, 59/X, 95) and place of service, the plan's
ICD-10-CM codes (at most 12, principal first; each line points to up to 4 of them) and its
certifying physician/NPP as referring provider, the therapist as rendering provider (the
co-signing therapist for an assistant's note: assistants bill under their supervisor,
Pub 100-02 ch.15 §230.1), the charge master's charges and the payer's authorization number.

The scrub holds a claim with the reasons when the engine's findings at signing include an
error or when something the 837P needs is missing or wrong (the same checks `batch_problems`
makes at export, run on the claim alone); a claim whose only findings are warnings is held
until a biller acknowledges them, and is then ready.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from handrail.claims import model as x
from handrail.claims.identifiers import npi_problem
from handrail.claims.x837p import MAX_DIAGNOSES, MAX_POINTERS, batch_problems
from handrail.web.billing.counters import next_control
from handrail.web.billing.models import (
    Claim,
    ClaimFrequency,
    ClaimLine,
    ClaimState,
    ClinicBilling,
    CounterName,
    PayerBilling,
)
from handrail.web.billing.pricing import cents, unit_charge
from handrail.web.billing.services import change_state, record_event
from handrail.web.care.icd10 import icd10_normalise, icd10_problem
from handrail.web.care.selectors import authorization_in_effect, plan_in_effect
from handrail.web.clinic.models import Clinic, Coverage, Relationship, Role, User
from handrail.web.clinic.selectors import coverage_primary
from handrail.web.visits.models import Visit, VisitStatus

HOLD = "error"
# Medicare's timely filing limit: a claim is filed within one calendar year of the date of
# service (42 CFR 424.44; Pub 100-04 ch.1 §70). Older notes are never turned into claims.
TIMELY_FILING_DAYS = 365
WARN = "warning"


def diagnosis_check(code: str, on: date) -> str | None:
    """The release-aware ICD-10-CM check (`x837p.DiagnosisCheck`), for codes without the dot."""
    return icd10_problem(icd10_normalise(code), on)


def claimable_visits(
    clinic: Clinic | int, *, through: date, payer_id: int | None = None
) -> QuerySet[Visit]:
    """Signed visits in the year up to `through` (the timely filing window) with no original
    claim yet (for `payer_id`'s patients when given). Co-signature is checked when the claim
    is made."""
    clinic_id = clinic if isinstance(clinic, int) else clinic.pk
    visits = Visit.objects.filter(
        clinic_id=clinic_id,
        status=VisitStatus.SIGNED,
        date__lte=through,
        date__gt=through - timedelta(days=TIMELY_FILING_DAYS),
    ).exclude(
        Exists(Claim.objects.filter(visit=OuterRef("pk"), frequency=ClaimFrequency.ORIGINAL))
    )
    if payer_id is not None:
        visits = visits.filter(
            case__patient__coverages__payer_id=payer_id, case__patient__coverages__order=1
        )
    return visits.select_related("case__patient", "clinician", "cosigned_by").order_by(
        "date", "pk"
    )


def awaiting_cosignature(visit: Visit, coverage: Coverage | None) -> bool:
    return (
        visit.clinician.role == Role.ASSISTANT
        and visit.cosigned_by_id is None
        and coverage is not None
        and coverage.payer.assistant_cosign_required
    )


@dataclass(frozen=True)
class Made:
    claims: list[Claim]
    skipped: list[str]  # visits left out and why (no coverage, awaiting co-signature)


def claims_from_visits(
    *, user: User, clinic: Clinic, through: date, payer_id: int | None = None
) -> Made:
    """Make a claim for each claimable visit up to `through`; each claim in its own
    transaction so one visit's trouble never stops another's claim."""
    made: list[Claim] = []
    skipped: list[str] = []
    for visit in claimable_visits(clinic, through=through, payer_id=payer_id):
        coverage = coverage_primary(patient=visit.case.patient)
        if coverage is None:
            skipped.append(f"{visit}: the patient has no primary coverage")
            continue
        if awaiting_cosignature(visit, coverage):
            skipped.append(f"{visit}: awaiting the therapist's co-signature")
            continue
        try:
            made.append(claim_from_visit(user=user, visit=visit))
        except ValidationError as exc:  # e.g. another biller made it a moment ago
            skipped.append(f"{visit}: {' '.join(exc.messages)}")
        except IntegrityError:  # the same race, caught by the one-original constraint
            skipped.append(f"{visit}: this visit already has a claim for this payer")
    return Made(made, skipped)


@transaction.atomic
def claim_from_visit(*, user: User, visit: Visit) -> Claim:
    """The original claim of a signed visit for its primary payer, scrubbed (held or ready)."""
    visit = Visit.objects.select_for_update().select_related("case__patient").get(pk=visit.pk)
    if visit.status != VisitStatus.SIGNED:
        raise ValidationError({"visit": "Only a signed note can be billed."})
    coverage = coverage_primary(patient=visit.case.patient)
    if coverage is None:
        raise ValidationError({"coverage": "The patient has no primary coverage to bill."})
    if awaiting_cosignature(visit, coverage):
        raise ValidationError(
            {
                "cosigned_by": "This payer needs the therapist's co-signature on an "
                "assistant's note."
            }
        )
    if Claim.objects.filter(visit=visit, payer=coverage.payer, frequency="1").exists():
        raise ValidationError({"visit": "This visit already has a claim for this payer."})
    claim = _new_claim(visit, coverage, frequency=ClaimFrequency.ORIGINAL)
    _scrub_and_record(claim, by=user, reason="made from the signed note")
    return claim


def _new_claim(
    visit: Visit, coverage: Coverage, *, frequency: str, replaces: Claim | None = None
) -> Claim:
    clinic = visit.clinic
    number = next_control(clinic.pk, CounterName.CLAIM)
    control = f"HR{number:08d}"
    plan = plan_in_effect(case=visit.case, on=visit.date)
    diagnoses = [
        icd10_normalise(str(code)).replace(".", "") for code in (plan.diagnoses if plan else [])
    ]
    authorization = authorization_in_effect(case=visit.case, on=visit.date)
    rendering = visit.clinician
    if visit.clinician.role == Role.ASSISTANT and visit.cosigned_by is not None:
        rendering = visit.cosigned_by
    evaluation = visit.evaluation if isinstance(visit.evaluation, dict) else {}
    claim = Claim.objects.create(
        clinic=clinic,
        visit=visit,
        patient=visit.case.patient,
        payer=coverage.payer,
        coverage=coverage,
        state=ClaimState.HELD,
        control_number=control,
        frequency=frequency,
        replaces=replaces,
        payer_claim_number=replaces.payer_claim_number if replaces else "",
        total_charge=Decimal("0"),
        place_of_service=str(evaluation.get("place_of_service") or visit.place_of_service),
        diagnoses=diagnoses[:MAX_DIAGNOSES],
        rendering=rendering,
        referring_name=plan.certifier_name if plan else "",
        referring_npi=plan.certifier_npi if plan else "",
        prior_authorization=authorization.number
        if authorization and authorization.payer_id == coverage.payer_id
        else "",
    )
    visit_lines = {line.code: line for line in visit.lines.all()}
    pointers = list(range(1, min(len(claim.diagnoses), MAX_POINTERS) + 1)) or [1]
    total = Decimal("0")
    engine_lines = [line for line in evaluation.get("claim_lines") or [] if isinstance(line, dict)]
    billed = [line for line in engine_lines if int(line.get("units") or 0) >= 1]
    for line_number, engine_line in enumerate(billed, start=1):
        code = str(engine_line.get("code") or "")
        units = int(engine_line.get("units") or 0)
        per_unit = unit_charge(clinic.pk, code, visit.date)
        # A code with no charge master entry holds the claim (the scrub names it); the line
        # is kept, at a placeholder of 0.01, so the claim shows what would be billed, and
        # scrubbing again once the charge exists prices it.
        charge = cents((per_unit or Decimal("0")) * units)
        if charge <= 0:
            charge = Decimal("0.01")
        ClaimLine.objects.create(
            claim=claim,
            clinic=clinic,
            number=line_number,
            code=code,
            modifiers=[str(m) for m in engine_line.get("modifiers") or []],
            units=units,
            charge=charge,
            service_date=visit.date,
            diagnosis_pointers=pointers,
            line_control_number=f"{control}-{line_number}",
            visit_line=visit_lines.get(code),
        )
        total += charge
    claim.total_charge = total
    claim.save(update_fields=["total_charge"])
    return claim


# --- the scrub ----------------------------------------------------------------------------


def _reason(field: str, message: str) -> dict[str, str]:
    return {"field": field, "message": message}


def scrub(claim: Claim) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """(hold reasons, warnings) of the claim as it stands: each names the field to fix."""
    holds: list[dict[str, str]] = []
    warnings: list[dict[str, str]] = []
    visit = claim.visit
    evaluation = visit.evaluation if isinstance(visit.evaluation, dict) else None
    if evaluation is None:
        holds.append(
            _reason("evaluation", "No engine evaluation was stored when the note was signed.")
        )
    else:
        for finding in evaluation.get("findings") or []:
            if not isinstance(finding, dict):
                continue
            text = f"{finding.get('rule', '')}: {finding.get('message', '')}".strip(": ")
            if finding.get("fix"):
                text = f"{text} Fix: {finding['fix']}"
            if finding.get("severity") == HOLD:
                holds.append(_reason("finding", text))
            elif finding.get("severity") == WARN:
                warnings.append(_reason("finding", text))
    lines = list(claim.lines.all())
    if not lines:
        holds.append(_reason("lines", "The note has no billable units."))
    for line in lines:
        if unit_charge(claim.clinic_id, line.code, line.service_date) is None:
            holds.append(
                _reason(
                    "charge",
                    f"No charge for {line.code} on {line.service_date.isoformat()} in the "
                    "charge master; add one (a charge of 0 cannot be billed).",
                )
            )
    plan_codes = _plan_diagnoses(visit)
    if len(plan_codes) > MAX_DIAGNOSES:
        warnings.append(
            _reason(
                "diagnoses",
                f"The plan lists {len(plan_codes)} diagnoses; the claim carries the first "
                f"{MAX_DIAGNOSES}.",
            )
        )
    billing = ClinicBilling.objects.filter(clinic_id=claim.clinic_id).first()
    payer_billing = PayerBilling.objects.filter(payer_id=claim.payer_id).first()
    if billing is None:
        holds.append(
            _reason(
                "clinic billing",
                "The clinic's billing identity (group NPI, TIN, taxonomy, pay-to address) "
                "is not set.",
            )
        )
    if payer_billing is None:
        holds.append(_reason("payer id", f"{claim.payer.name} has no electronic payer id."))
    if not claim.rendering.npi:
        holds.append(_reason("rendering NPI", f"{claim.rendering} has no NPI."))
    elif problem := npi_problem(claim.rendering.npi):
        holds.append(_reason("rendering NPI", problem))
    needs_referring = payer_billing is None or payer_billing.requires_referring_provider
    if needs_referring and not claim.referring_npi:
        holds.append(
            _reason(
                "referring provider",
                "The plan of care names no certifying physician/NPP NPI; add it to the plan.",
            )
        )
    elif claim.referring_npi and (problem := npi_problem(claim.referring_npi)):
        holds.append(_reason("referring NPI", problem))
    if needs_referring and claim.referring_npi and not claim.referring_name.strip():
        holds.append(_reason("referring provider", "The plan names no certifying physician."))
    if billing is not None and payer_billing is not None and not holds:
        for found in batch_problems(one_claim_batch(claim, billing), diagnosis_check):
            where = found.where
            if " line " in where:
                where = "line " + where.rsplit(" line ", 1)[1]
            elif where != "batch":
                where = "claim"
            holds.append(_reason(where, found.message))
    elif not claim.diagnoses:
        holds.append(_reason("diagnoses", "The plan of care has no ICD-10-CM code."))
    return holds, warnings


def _plan_diagnoses(visit: Visit) -> list[Any]:
    plan = plan_in_effect(case=visit.case, on=visit.date)
    return list(plan.diagnoses) if plan else []


def _scrub_and_record(claim: Claim, *, by: User | None, reason: str) -> None:
    holds, warnings = scrub(claim)
    claim.hold_reasons = holds
    claim.warnings = warnings
    claim.warnings_acknowledged_by = None
    claim.warnings_acknowledged_at = None
    ready = not holds and not warnings
    claim.state = ClaimState.READY if ready else ClaimState.HELD
    claim.save()
    record_event(claim, "", by=by, reason=reason if ready else f"{reason}; held by the scrub")


@transaction.atomic
def claim_rescrub(*, user: User, claim: Claim) -> Claim:
    """Scrub a held (or rejected) claim again after its causes were fixed."""
    locked = Claim.objects.select_for_update().get(pk=claim.pk)
    if locked.state not in (ClaimState.HELD, ClaimState.REJECTED):
        raise ValidationError({"state": "Only a held or rejected claim is scrubbed again."})
    if locked.state == ClaimState.REJECTED:
        # Rejected before adjudication: it goes out again in a new batch (the old batch
        # keeps its file as sent).
        locked.batch = None
    _refresh_from_plan(locked)
    _refresh_charges(locked)
    holds, warnings = scrub(locked)
    locked.hold_reasons, locked.warnings = holds, warnings
    locked.warnings_acknowledged_by = None
    locked.warnings_acknowledged_at = None
    locked.save()
    if not holds and not warnings:
        change_state(locked, ClaimState.READY, by=user, reason="scrubbed again: nothing holds it")
    elif locked.state == ClaimState.REJECTED:
        change_state(locked, ClaimState.HELD, by=user, reason="scrubbed again: still held")
    return Claim.objects.get(pk=locked.pk)


def _refresh_from_plan(claim: Claim) -> None:
    """What a biller fixes outside the claim: the plan's diagnoses and certifying provider,
    the authorization number. The lines stay as the signed note billed them."""
    visit = claim.visit
    plan = plan_in_effect(case=visit.case, on=visit.date)
    codes = [icd10_normalise(str(c)).replace(".", "") for c in (plan.diagnoses if plan else [])]
    claim.diagnoses = codes[:MAX_DIAGNOSES]
    claim.referring_name = plan.certifier_name if plan else ""
    claim.referring_npi = plan.certifier_npi if plan else ""
    authorization = authorization_in_effect(case=visit.case, on=visit.date)
    claim.prior_authorization = (
        authorization.number if authorization and authorization.payer_id == claim.payer_id else ""
    )
    pointers = list(range(1, min(len(claim.diagnoses), MAX_POINTERS) + 1)) or [1]
    claim.lines.update(diagnosis_pointers=pointers)


def _refresh_charges(claim: Claim) -> None:
    total = Decimal("0")
    for line in claim.lines.all():
        per_unit = unit_charge(claim.clinic_id, line.code, line.service_date)
        if per_unit is not None:
            line.charge = cents(per_unit * line.units)
            line.save(update_fields=["charge"])
        total += line.charge
    claim.total_charge = total


@transaction.atomic
def claim_acknowledge(*, user: User, claim: Claim) -> Claim:
    """A biller accepts the scrub's warnings of a held claim that has no hold reason: ready."""
    locked = Claim.objects.select_for_update().get(pk=claim.pk)
    if locked.state != ClaimState.HELD:
        raise ValidationError({"state": "Only a held claim's warnings are acknowledged."})
    if locked.hold_reasons:
        raise ValidationError(
            {"hold_reasons": "Errors hold this claim; fix them and scrub it again."}
        )
    locked.warnings_acknowledged_by = user
    locked.warnings_acknowledged_at = timezone.now()
    locked.save(
        update_fields=["warnings_acknowledged_by", "warnings_acknowledged_at", "updated_at"]
    )
    shown = "; ".join(w["message"] for w in locked.warnings)[:400]
    return change_state(
        locked, ClaimState.READY, by=user, reason=f"warnings acknowledged: {shown}"
    )


CORRECTABLE = (ClaimState.PAID, ClaimState.PARTLY_PAID, ClaimState.DENIED, ClaimState.APPEALED)


@transaction.atomic
def claim_correct(
    *, user: User, claim: Claim, frequency: str, payer_claim_number: str = ""
) -> Claim:
    """A replacement (7, rebuilt from the visit as it is now, scrubbed again) or a void (8, the
    same lines) of an adjudicated claim, naming the payer's claim number; the original is
    closed with the reason."""
    if frequency not in (ClaimFrequency.REPLACEMENT, ClaimFrequency.VOID):
        raise ValidationError({"frequency": "Choose 7 (replacement) or 8 (void)."})
    original = Claim.objects.select_for_update().get(pk=claim.pk)
    if original.state not in CORRECTABLE:
        raise ValidationError(
            {
                "state": "Only a claim the payer adjudicated (paid, partly paid, denied, "
                "appealed) can be replaced or voided."
            }
        )
    number = payer_claim_number.strip() or original.payer_claim_number
    if not number:
        raise ValidationError(
            {"payer_claim_number": "The payer's claim number (from the remittance) is needed."}
        )
    if len(number) > 50 or any(ch in number for ch in "*~:^"):
        raise ValidationError({"payer_claim_number": "At most 50 characters, none of * ~ : ^."})
    if original.payer_claim_number != number:
        original.payer_claim_number = number
        original.save(update_fields=["payer_claim_number", "updated_at"])
    coverage = original.coverage or coverage_primary(patient=original.patient)
    if coverage is None:
        raise ValidationError({"coverage": "The patient has no coverage to bill."})
    if frequency == ClaimFrequency.REPLACEMENT:
        new = _new_claim(original.visit, coverage, frequency=frequency, replaces=original)
    else:
        new = _void_of(original)
    _scrub_and_record(
        new, by=user, reason=f"{new.get_frequency_display().lower()} of {original.control_number}"
    )
    change_state(
        original,
        ClaimState.CLOSED,
        by=user,
        reason=f"{new.get_frequency_display().lower()} {new.control_number} sent in its place",
    )
    return new


def _void_of(original: Claim) -> Claim:
    number = next_control(original.clinic_id, CounterName.CLAIM)
    control = f"HR{number:08d}"
    new = Claim.objects.create(
        clinic_id=original.clinic_id,
        visit=original.visit,
        patient=original.patient,
        payer=original.payer,
        coverage=original.coverage,
        state=ClaimState.HELD,
        control_number=control,
        frequency=ClaimFrequency.VOID,
        replaces=original,
        payer_claim_number=original.payer_claim_number,
        total_charge=original.total_charge,
        place_of_service=original.place_of_service,
        diagnoses=original.diagnoses,
        rendering=original.rendering,
        referring_name=original.referring_name,
        referring_npi=original.referring_npi,
        prior_authorization=original.prior_authorization,
    )
    for line in original.lines.all():
        ClaimLine.objects.create(
            claim=new,
            clinic_id=original.clinic_id,
            number=line.number,
            code=line.code,
            modifiers=line.modifiers,
            units=line.units,
            charge=line.charge,
            service_date=line.service_date,
            diagnosis_pointers=line.diagnosis_pointers,
            line_control_number=f"{control}-{line.number}",
            visit_line=line.visit_line,
        )
    return new


# --- to the 837P's values -------------------------------------------------------------------


def _split_name(name: str) -> x.Person:
    """ "Dr. Ann Lee, MD" -> Lee, Ann: titles and credentials dropped, the last word the
    surname."""
    text = name.split(",")[0].strip()
    words = [
        w for w in text.replace(".", " ").split() if w.lower() not in {"dr", "mr", "ms", "mrs"}
    ]
    if not words:
        return x.Person(last_name="", first_name="")
    return x.Person(last_name=words[-1], first_name=" ".join(words[:-1]))


def _address(line1: str, city: str, state: str, zip_code: str, line2: str = "") -> x.Address:
    return x.Address(
        line1=line1.strip(),
        line2=line2.strip(),
        city=city.strip(),
        state=state.strip().upper(),
        zip_code=zip_code.replace("-", "").strip(),
    )


def billing_provider(billing: ClinicBilling) -> x.BillingProvider:
    return x.BillingProvider(
        name=billing.legal_name,
        npi=billing.group_npi,
        tax_id=billing.tax_id,
        taxonomy=billing.taxonomy,
        address=_address(
            billing.address_line1,
            billing.city,
            billing.state,
            billing.zip_code,
            billing.address_line2,
        ),
    )


FILING_BY_TYPE = {
    "medicare": "MB",
    "medicare-advantage": "16",
    "medicaid": "MC",
    "commercial": "CI",
    "workers-comp": "WC",
    "other": "ZZ",
}


def claim_values(claim: Claim) -> x.Claim:
    """The claim as the 837P writer's values."""
    patient = claim.patient
    payer_billing = PayerBilling.objects.filter(payer_id=claim.payer_id).first()
    coverage = claim.coverage
    member_id = coverage.member_id if coverage else ""
    address = _address(patient.address, patient.city, patient.state, patient.zip)
    as_insured = x.Insured(
        person=x.Person(last_name=patient.last_name, first_name=patient.first_name),
        address=address,
        birth_date=patient.birth_date,
        sex=patient.sex,
    )
    relationship = coverage.relationship if coverage else Relationship.SELF
    subscriber, claim_patient = as_insured, None
    if relationship != Relationship.SELF:
        assert coverage is not None and coverage.subscriber_birth_date is not None
        # The patient is someone else's dependent (005010X222A1 loop 2000C): the insured is
        # the subscriber of loop 2010BA. The insured's address is not kept (2010BA N3/N4 are
        # only sent when the subscriber is the patient); the patient's stands in for the
        # writer's checks.
        subscriber = x.Insured(
            person=x.Person(
                last_name=coverage.subscriber_last_name,
                first_name=coverage.subscriber_first_name,
            ),
            address=address,
            birth_date=coverage.subscriber_birth_date,
            sex=coverage.subscriber_sex,
        )
        claim_patient = as_insured
    payer = x.Payer(
        name=claim.payer.name,
        payer_id=payer_billing.electronic_id if payer_billing else "",
        filing_indicator=(payer_billing.filing_indicator if payer_billing else "")
        or FILING_BY_TYPE.get(claim.payer.type, "ZZ"),
    )
    rendering_taxonomy = ""
    clinician_billing = getattr(claim.rendering, "billing", None)
    if clinician_billing is not None:
        rendering_taxonomy = clinician_billing.taxonomy
    referring = None
    if claim.referring_npi:  # without one, 2310A is left out (the scrub held it if needed)
        referring = x.Clinician(person=_split_name(claim.referring_name), npi=claim.referring_npi)
    return x.Claim(
        control_number=claim.control_number,
        coverage=x.Coverage(
            subscriber=subscriber, member_id=member_id, payer=payer, relationship=relationship
        ),
        patient=claim_patient,
        place_of_service=claim.place_of_service,
        diagnoses=tuple(claim.diagnoses),
        lines=tuple(
            x.ServiceLine(
                code=line.code,
                modifiers=tuple(line.modifiers),
                charge=line.charge,
                units=line.units,
                service_date=line.service_date,
                diagnosis_pointers=tuple(int(p) for p in line.diagnosis_pointers),
                control_number=line.line_control_number,
            )
            for line in claim.lines.all()
        ),
        rendering=x.Clinician(
            person=x.Person(
                last_name=claim.rendering.last_name or claim.rendering.username,
                first_name=claim.rendering.first_name,
            ),
            npi=claim.rendering.npi,
            taxonomy=rendering_taxonomy,
        ),
        referring=referring,
        frequency=x.Frequency(claim.frequency),
        payer_claim_number=claim.payer_claim_number if claim.frequency != "1" else "",
        prior_authorization=claim.prior_authorization,
    )


def envelope(
    billing: ClinicBilling, claims: tuple[x.Claim, ...], control: x.ControlNumbers, created: Any
) -> x.Batch:
    return x.Batch(
        submitter=x.Party(billing.submitter_name, billing.submitter_id),
        submitter_contact=x.Contact(
            billing.contact_name, billing.contact_phone, billing.contact_email
        ),
        receiver=x.Party(billing.receiver_name, billing.receiver_id),
        billing_provider=billing_provider(billing),
        claims=claims,
        control=control,
        created=created,
        production=billing.production,
    )


def one_claim_batch(claim: Claim, billing: ClinicBilling) -> x.Batch:
    """The claim alone in a batch, for the scrub (its control numbers are placeholders)."""
    return envelope(billing, (claim_values(claim),), x.ControlNumbers(1, 1, 1), timezone.now())
