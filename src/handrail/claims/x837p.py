"""The 837P professional claim file (ASC X12 005010X222A1) for a batch of claims.

Segment order and loops follow the 005010X222A1 implementation guide (as encoded in pyx12's
map `837.5010.X222.A1.xml`, which validates every file in the tests): interchange (ISA/IEA),
group (GS/GE), transaction set (ST/SE) with BHT, submitter 1000A, receiver 1000B, billing
provider 2000A/2010AA, subscriber 2000B/2010BA, payer 2010BB, patient 2000C/2010CA when the
patient is not the subscriber, claim 2300 with its diagnoses (HI), referring 2310A, rendering
2310B, and service lines 2400 (SV1, DTP*472, REF*6R).

`batch_problems` makes the checks pyx12 does not (NPI check digits, CLM02 equal to the sum of
SV102, pointers into the claim's diagnoses, replacement claims naming the claim they replace)
and the caller's diagnosis check; `write_837p` refuses a batch with any problem, so a file
that leaves Handrail has passed both. The same batch always gives the same bytes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Final

from handrail.claims.identifiers import ein_digits, ein_problem, npi_problem, taxonomy_problem
from handrail.claims.model import (
    Address,
    Batch,
    Claim,
    ClaimInputError,
    Clinician,
    Frequency,
    Insured,
    Person,
    ServiceLine,
)

SEGMENT_END: Final = "~"
ELEMENT_SEP: Final = "*"
COMPONENT_SEP: Final = ":"
REPETITION_SEP: Final = "^"
VERSION: Final = "005010X222A1"

# 005010X222A1 limits: 12 diagnoses on a claim (HI, one principal ABK and eleven ABF), 4
# pointers and 4 modifiers on a line, 50 lines on a claim; CLM01 is at most 20 characters
# for Medicare (Medicare Claims Processing Manual ch.24, companion guide) and REF*6R at most
# 30 on Medicare's side, so Handrail keeps both within them for every payer.
MAX_DIAGNOSES: Final = 12
MAX_POINTERS: Final = 4
MAX_MODIFIERS: Final = 4
MAX_LINES: Final = 50
MAX_CONTROL_NUMBER: Final = 20
MAX_LINE_CONTROL_NUMBER: Final = 30
_FORBIDDEN: Final = re.compile(r"[*~:^]")
_ICD10CM: Final = re.compile(r"[A-TV-Z][0-9][0-9A-Z]{1,5}")
_HCPCS: Final = re.compile(r"[0-9A-Z]\d{3}[0-9A-Z]")
_MODIFIER: Final = re.compile(r"[0-9A-Z]{2}")
_STATE: Final = re.compile(r"[A-Z]{2}")
_ZIP: Final = re.compile(r"\d{5}(?:\d{4})?")
_PLACE: Final = re.compile(r"\d{2}")


@dataclass(frozen=True)
class Problem:
    """Something that keeps a batch from being written: where (claim and line) and what."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


DiagnosisCheck = Callable[[str, date], str | None]
"""Given an ICD-10-CM code (no dot) and a date of service, None when the code is valid and
billable on that date, otherwise why not. The web app passes the release-aware lookup."""


def batch_problems(batch: Batch, diagnosis_check: DiagnosisCheck | None = None) -> list[Problem]:
    """Every problem of the batch, in file order; empty when it can be written."""
    problems = list(_envelope_problems(batch))
    for index, claim in enumerate(batch.claims, start=1):
        where = f"claim {index} ({claim.control_number})"
        problems.extend(Problem(where, message) for message in _claim_problems(claim))
        for line_number, line in enumerate(claim.lines, start=1):
            for message in _line_problems(claim, line):
                problems.append(Problem(f"{where} line {line_number}", message))
        if diagnosis_check is not None:
            problems.extend(_diagnosis_problems(where, claim, diagnosis_check))
    return problems


def write_837p(batch: Batch, diagnosis_check: DiagnosisCheck | None = None) -> str:
    """The 837P file of the batch, one segment per line. Raises ClaimInputError naming the
    first problem when `batch_problems` finds any."""
    problems = batch_problems(batch, diagnosis_check)
    if problems:
        raise ClaimInputError(problems[0].where, problems[0].message)
    body = list(_transaction_segments(batch))
    segments = [
        _interchange_header(batch),
        _group_header(batch),
        *body,
        _segment("GE", "1", str(batch.control.group)),
        _segment("IEA", "1", f"{batch.control.interchange:09d}"),
    ]
    return "\n".join(segments) + "\n"


# --- checks ---------------------------------------------------------------------------------


def _envelope_problems(batch: Batch) -> Iterator[Problem]:
    control = batch.control
    for name, value in (
        ("interchange", control.interchange),
        ("group", control.group),
        ("transaction", control.transaction),
    ):
        if not 1 <= value <= 999_999_999:
            yield Problem("batch", f"{name} control number {value} is outside 1-999999999")
    if not batch.claims:
        yield Problem("batch", "a batch needs at least one claim")
    payers = {claim.coverage.payer.payer_id for claim in batch.claims}
    if len(payers) > 1:
        yield Problem("batch", f"one payer per batch; this one has {', '.join(sorted(payers))}")
    for party, identifier in (
        ("submitter id", batch.submitter.identifier),
        ("receiver id", batch.receiver.identifier),
    ):
        if not 2 <= len(identifier) <= 15:
            yield Problem("batch", f"{party} {identifier!r} must be 2 to 15 characters")
    provider = batch.billing_provider
    checks = (
        ("billing provider NPI", npi_problem(provider.npi)),
        ("billing provider tax id", ein_problem(provider.tax_id)),
        ("billing provider taxonomy", taxonomy_problem(provider.taxonomy)),
    )
    for name, problem in checks:
        if problem:
            yield Problem("batch", f"{name}: {problem}")
    yield from (
        Problem("batch", m) for m in _address_problems("billing provider", provider.address)
    )
    yield from (Problem("batch", m) for m in _text_problems(_batch_texts(batch)))


def _claim_problems(claim: Claim) -> Iterator[str]:
    if not 1 <= len(claim.control_number) <= MAX_CONTROL_NUMBER:
        yield f"the claim control number must be 1 to {MAX_CONTROL_NUMBER} characters"
    if not claim.lines:
        yield "a claim needs at least one service line"
    if len(claim.lines) > MAX_LINES:
        yield f"{len(claim.lines)} lines; an 837P claim holds at most {MAX_LINES}"
    if not claim.diagnoses:
        yield "a claim needs at least one diagnosis"
    if len(claim.diagnoses) > MAX_DIAGNOSES:
        yield f"{len(claim.diagnoses)} diagnoses; a claim holds at most {MAX_DIAGNOSES}"
    for code in claim.diagnoses:
        if not _ICD10CM.fullmatch(code):
            yield f"diagnosis {code!r} is not an ICD-10-CM code written without its dot"
    if len(set(claim.diagnoses)) != len(claim.diagnoses):
        yield "a diagnosis is listed twice; list each once and point to it from the lines"
    if not _PLACE.fullmatch(claim.place_of_service):
        yield f"place of service {claim.place_of_service!r} must be two digits (11, 02, 10...)"
    if claim.frequency is not Frequency.ORIGINAL and not claim.payer_claim_number:
        yield (
            f"a {claim.frequency.name.lower()} claim (frequency {claim.frequency.value}) must "
            "carry the payer's claim number of the claim it replaces or voids"
        )
    if claim.frequency is Frequency.ORIGINAL and claim.payer_claim_number:
        yield "an original claim does not carry a payer claim number; use frequency 7 or 8"
    controls = [line.control_number for line in claim.lines]
    if len(set(controls)) != len(controls):
        yield "two lines share a line control number; the 835 could not tell them apart"
    yield from _clinician_problems("rendering provider", claim.rendering)
    if claim.referring is not None:
        yield from _clinician_problems("referring provider", claim.referring)
    yield from _coverage_problems(claim)


def _coverage_problems(claim: Claim) -> Iterator[str]:
    coverage = claim.coverage
    if coverage.patient_is_subscriber and claim.patient is not None:
        yield "the patient is the subscriber (relationship 18): give no separate patient"
    if not coverage.patient_is_subscriber and claim.patient is None:
        yield f"relationship {coverage.relationship}: the patient's own name and details needed"
    if coverage.relationship not in {"18", "01", "19", "20", "21", "39", "40", "53", "G8"}:
        yield f"relationship {coverage.relationship!r} is not an X12 individual relationship code"
    if coverage.responsibility not in {"P", "S", "T"}:
        yield f"payer responsibility {coverage.responsibility!r} must be P, S or T"
    if not coverage.member_id:
        yield "the subscriber's member id is missing"
    if not coverage.payer.payer_id:
        yield "the payer's electronic payer id is missing"
    for role, insured in (("subscriber", coverage.subscriber), ("patient", claim.patient)):
        if insured is not None:
            yield from _insured_problems(role, insured)


def _insured_problems(role: str, insured: Insured) -> Iterator[str]:
    if insured.sex not in {"F", "M", "U"}:
        yield f"{role} sex {insured.sex!r} must be F, M or U"
    if not insured.person.last_name:
        yield f"{role} last name is missing"
    yield from _address_problems(role, insured.address)


def _clinician_problems(role: str, clinician: Clinician) -> Iterator[str]:
    problem = npi_problem(clinician.npi)
    if problem:
        yield f"{role} NPI: {problem}"
    if clinician.taxonomy:
        problem = taxonomy_problem(clinician.taxonomy)
        if problem:
            yield f"{role} taxonomy: {problem}"
    if not clinician.person.last_name:
        yield f"{role} last name is missing"


def _line_problems(claim: Claim, line: ServiceLine) -> Iterator[str]:
    if not _HCPCS.fullmatch(line.code):
        yield f"{line.code!r} is not a CPT/HCPCS code (five characters)"
    if len(line.modifiers) > MAX_MODIFIERS:
        yield f"{len(line.modifiers)} modifiers; a line takes at most {MAX_MODIFIERS}"
    for modifier in line.modifiers:
        if not _MODIFIER.fullmatch(modifier):
            yield f"modifier {modifier!r} must be two letters or digits"
    if line.charge <= 0:
        yield (
            f"charge {line.charge} must be more than zero (set the clinic's charge for "
            f"{line.code})"
        )
    if line.charge != line.charge.quantize(Decimal("0.01")):
        yield f"charge {line.charge} has more than two decimals"
    if line.units < 1:
        yield f"{line.units} units; a billed line has at least one unit"
    if not 1 <= len(line.diagnosis_pointers) <= MAX_POINTERS:
        yield f"a line points to 1 to {MAX_POINTERS} diagnoses, not {len(line.diagnosis_pointers)}"
    for pointer in line.diagnosis_pointers:
        if not 1 <= pointer <= len(claim.diagnoses):
            count = len(claim.diagnoses)
            yield f"diagnosis pointer {pointer} points past the claim's {count} codes"
    if not 1 <= len(line.control_number) <= MAX_LINE_CONTROL_NUMBER:
        yield f"the line control number must be 1 to {MAX_LINE_CONTROL_NUMBER} characters"


def _diagnosis_problems(where: str, claim: Claim, check: DiagnosisCheck) -> Iterator[Problem]:
    dates = sorted({line.service_date for line in claim.lines})
    for code in claim.diagnoses:
        for day in dates:
            problem = check(code, day)
            if problem:
                yield Problem(where, f"diagnosis {code} on {day.isoformat()}: {problem}")


def _address_problems(role: str, address: Address) -> Iterator[str]:
    if not address.line1 or not address.city:
        yield f"{role} address needs a street line and a city"
    if not _STATE.fullmatch(address.state):
        yield f"{role} state {address.state!r} must be a two-letter code"
    if not _ZIP.fullmatch(address.zip_code):
        yield f"{role} ZIP {address.zip_code!r} must be 5 or 9 digits without a hyphen"


def _text_problems(texts: Iterator[tuple[str, str]]) -> Iterator[str]:
    for name, value in texts:
        if _FORBIDDEN.search(value):
            yield f"{name} {value!r} contains one of * ~ : ^, which X12 reserves; remove it"


def _batch_texts(batch: Batch) -> Iterator[tuple[str, str]]:
    yield "submitter name", batch.submitter.name
    yield "submitter contact", batch.submitter_contact.name
    yield "submitter email", batch.submitter_contact.email
    yield "receiver name", batch.receiver.name
    yield "billing provider name", batch.billing_provider.name
    yield from _address_texts("billing provider", batch.billing_provider.address)
    for claim in batch.claims:
        label = f"claim {claim.control_number}"
        yield f"{label} control number", claim.control_number
        yield f"{label} member id", claim.coverage.member_id
        yield f"{label} group number", claim.coverage.group_number
        yield f"{label} payer name", claim.coverage.payer.name
        yield f"{label} payer claim number", claim.payer_claim_number
        yield f"{label} prior authorization", claim.prior_authorization
        for role, insured in (
            ("subscriber", claim.coverage.subscriber),
            ("patient", claim.patient),
        ):
            if insured is not None:
                yield from _person_texts(f"{label} {role}", insured.person)
                yield from _address_texts(f"{label} {role}", insured.address)
        for role, clinician in (("rendering", claim.rendering), ("referring", claim.referring)):
            if clinician is not None:
                yield from _person_texts(f"{label} {role} provider", clinician.person)
        for line in claim.lines:
            yield f"{label} line control number", line.control_number


def _person_texts(label: str, person: Person) -> Iterator[tuple[str, str]]:
    yield f"{label} last name", person.last_name
    yield f"{label} first name", person.first_name
    yield f"{label} middle name", person.middle_name


def _address_texts(label: str, address: Address) -> Iterator[tuple[str, str]]:
    yield f"{label} address", address.line1
    yield f"{label} address line 2", address.line2
    yield f"{label} city", address.city


# --- segments -------------------------------------------------------------------------------


def _segment(tag: str, *elements: str) -> str:
    """One segment with trailing empty elements dropped (X12 forbids trailing separators)."""
    values = list(elements)
    while values and values[-1] == "":
        values.pop()
    return ELEMENT_SEP.join([tag, *values]) + SEGMENT_END


def _upper(value: str) -> str:
    return value.strip().upper()


def _money(amount: Decimal) -> str:
    return f"{amount.quantize(Decimal('0.01'))}"


def _interchange_header(batch: Batch) -> str:
    created = batch.created
    return _segment(
        "ISA",
        "00",
        " " * 10,
        "00",
        " " * 10,
        "ZZ",
        batch.submitter.identifier.ljust(15),
        "ZZ",
        batch.receiver.identifier.ljust(15),
        created.strftime("%y%m%d"),
        created.strftime("%H%M"),
        REPETITION_SEP,
        "00501",
        f"{batch.control.interchange:09d}",
        "0",
        "P" if batch.production else "T",
        COMPONENT_SEP,
    )


def _group_header(batch: Batch) -> str:
    return _segment(
        "GS",
        "HC",
        batch.submitter.identifier,
        batch.receiver.identifier,
        batch.created.strftime("%Y%m%d"),
        batch.created.strftime("%H%M"),
        str(batch.control.group),
        "X",
        VERSION,
    )


def _transaction_segments(batch: Batch) -> Iterator[str]:
    st_control = f"{batch.control.transaction:04d}"
    segments = [
        _segment("ST", "837", st_control, VERSION),
        _segment(
            "BHT",
            "0019",
            "00",
            batch.reference or st_control,
            batch.created.strftime("%Y%m%d"),
            batch.created.strftime("%H%M"),
            "CH",
        ),
        *_submitter_receiver(batch),
        *_billing_provider(batch),
    ]
    hl = 1
    for claim in batch.claims:
        claim_segments, hl = _claim_hierarchy(claim, hl)
        segments.extend(claim_segments)
    yield from segments
    # SE01 counts the segments from ST to SE, both included.
    yield _segment("SE", str(len(segments) + 1), st_control)


def _submitter_receiver(batch: Batch) -> Iterator[str]:
    contact = batch.submitter_contact
    yield _segment("NM1", "41", "2", _upper(batch.submitter.name), "", "", "", "", "46",
                   batch.submitter.identifier)  # fmt: skip
    email = ("EM", contact.email) if contact.email else ("", "")
    yield _segment("PER", "IC", _upper(contact.name), "TE", _digits(contact.phone), *email)
    yield _segment("NM1", "40", "2", _upper(batch.receiver.name), "", "", "", "", "46",
                   batch.receiver.identifier)  # fmt: skip


def _billing_provider(batch: Batch) -> Iterator[str]:
    provider = batch.billing_provider
    yield _segment("HL", "1", "", "20", "1")
    yield _segment("PRV", "BI", "PXC", provider.taxonomy)
    yield _segment("NM1", "85", "2", _upper(provider.name), "", "", "", "", "XX", provider.npi)
    yield from _address(provider.address)
    yield _segment("REF", "EI", ein_digits(provider.tax_id))


def _claim_hierarchy(claim: Claim, last_hl: int) -> tuple[list[str], int]:
    """The subscriber loop (and the patient loop when the patient is someone else) and the
    claim under it. Each claim gets its own subscriber loop: simpler for payers to split."""
    coverage = claim.coverage
    subscriber_hl = last_hl + 1
    has_patient_loop = claim.patient is not None
    segments = [
        _segment("HL", str(subscriber_hl), "1", "22", "1" if has_patient_loop else "0"),
        _segment(
            "SBR",
            coverage.responsibility,
            "18" if coverage.patient_is_subscriber else "",
            coverage.group_number,
            "",
            "",
            "",
            "",
            "",
            coverage.payer.filing_indicator,
        ),
        *_person_name("IL", coverage.subscriber.person, ("MI", coverage.member_id)),
    ]
    if coverage.patient_is_subscriber:
        segments.extend(_demographics(coverage.subscriber))
    segments.append(
        _segment(
            "NM1",
            "PR",
            "2",
            _upper(coverage.payer.name),
            "",
            "",
            "",
            "",
            "PI",
            coverage.payer.payer_id,
        )  # fmt: skip
    )
    last = subscriber_hl
    if claim.patient is not None:
        last = subscriber_hl + 1
        segments.append(_segment("HL", str(last), str(subscriber_hl), "23", "0"))
        segments.append(_segment("PAT", coverage.relationship))
        segments.extend(_person_name("QC", claim.patient.person, None))
        segments.extend(_demographics(claim.patient))
    segments.extend(_claim_segments(claim))
    return segments, last


def _claim_segments(claim: Claim) -> Iterator[str]:
    place = f"{claim.place_of_service}{COMPONENT_SEP}B{COMPONENT_SEP}{claim.frequency.value}"
    # CLM06 provider signature on file, CLM07 assigned (A), CLM08 benefits assigned,
    # CLM09 release of information (Y): what a clinic's intake paperwork establishes.
    yield _segment("CLM", claim.control_number, _money(claim.total_charge), "", "", place,
                   "Y", "A", "Y", "Y")  # fmt: skip
    if claim.prior_authorization:
        yield _segment("REF", "G1", claim.prior_authorization)
    if claim.payer_claim_number:
        yield _segment("REF", "F8", claim.payer_claim_number)
    codes = [
        f"{'ABK' if index == 0 else 'ABF'}{COMPONENT_SEP}{code}"
        for index, code in enumerate(claim.diagnoses)
    ]
    yield _segment("HI", *codes)
    if claim.referring is not None:
        yield from _person_name("DN", claim.referring.person, ("XX", claim.referring.npi))
    yield from _person_name("82", claim.rendering.person, ("XX", claim.rendering.npi))
    if claim.rendering.taxonomy:
        yield _segment("PRV", "PE", "PXC", claim.rendering.taxonomy)
    for number, line in enumerate(claim.lines, start=1):
        yield from _line_segments(number, line)


def _line_segments(number: int, line: ServiceLine) -> Iterator[str]:
    procedure = COMPONENT_SEP.join(["HC", line.code, *line.modifiers])
    pointers = COMPONENT_SEP.join(str(pointer) for pointer in line.diagnosis_pointers)
    yield _segment("LX", str(number))
    yield _segment("SV1", procedure, _money(line.charge), "UN", str(line.units), "", "", pointers)
    yield _segment("DTP", "472", "D8", line.service_date.strftime("%Y%m%d"))
    yield _segment("REF", "6R", line.control_number)


def _person_name(entity: str, person: Person, identifier: tuple[str, str] | None) -> list[str]:
    qualifier, value = identifier if identifier else ("", "")
    return [
        _segment(
            "NM1",
            entity,
            "1",
            _upper(person.last_name),
            _upper(person.first_name),
            _upper(person.middle_name),
            "",
            "",
            qualifier,
            value,
        )
    ]


def _demographics(insured: Insured) -> Iterator[str]:
    yield from _address(insured.address)
    yield _segment("DMG", "D8", insured.birth_date.strftime("%Y%m%d"), insured.sex)


def _address(address: Address) -> Iterator[str]:
    yield _segment("N3", _upper(address.line1), _upper(address.line2))
    yield _segment("N4", _upper(address.city), address.state, address.zip_code)


def _digits(phone: str) -> str:
    return re.sub(r"\D", "", phone)
