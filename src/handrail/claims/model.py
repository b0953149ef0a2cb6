"""What a professional claim holds, as plain values: who bills, who is insured, who pays,
what was done. The web app builds these from a signed visit; `x837p.write_837p` turns a
batch of them into an ASC X12 005010X222A1 file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum


class FieldError(ValueError):
    """A value refused with the field that holds it: `field_name` names the field, `message`
    says why and how to fix it. The claims package's errors (claims, appeals, FHIR exports,
    denial reports) are kinds of it, so a page or the API can point at the field."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field_name = field_name
        self.message = message


class ClaimInputError(FieldError):
    """A claim that cannot be written: `field_name` names the claim field."""


class Frequency(StrEnum):
    """CLM05-3, the claim frequency type code (NUBC): an original claim, a replacement of a
    claim the payer already adjudicated, or a void of one."""

    ORIGINAL = "1"
    REPLACEMENT = "7"
    VOID = "8"


@dataclass(frozen=True)
class Address:
    line1: str
    city: str
    state: str
    zip_code: str
    line2: str = ""


@dataclass(frozen=True)
class Party:
    """The sender or receiver of a file (submitter, clearinghouse): a name and the id the
    clearinghouse assigned (ISA06/ISA08, GS02/GS03, NM109 of 1000A/1000B)."""

    name: str
    identifier: str


@dataclass(frozen=True)
class Contact:
    name: str
    phone: str
    email: str = ""


@dataclass(frozen=True)
class BillingProvider:
    """The clinic as it bills (loop 2010AA): an organisation with its group NPI, its tax id and
    the taxonomy of its specialty."""

    name: str
    npi: str
    tax_id: str
    taxonomy: str
    address: Address


@dataclass(frozen=True)
class Person:
    last_name: str
    first_name: str
    middle_name: str = ""


@dataclass(frozen=True)
class Clinician:
    """A rendering or referring provider (loops 2310A/2310B): an individual NPI."""

    person: Person
    npi: str
    taxonomy: str = ""


@dataclass(frozen=True)
class Insured:
    """Someone named on the claim as subscriber or patient: demographics, address, sex
    (F, M or U) and birth date."""

    person: Person
    address: Address
    birth_date: date
    sex: str


@dataclass(frozen=True)
class Payer:
    """The payer (loop 2010BB) and how it is billed: its electronic payer id and the claim
    filing indicator of SBR09 (MB Medicare Part B, CI commercial, MC Medicaid, ...)."""

    name: str
    payer_id: str
    filing_indicator: str


@dataclass(frozen=True)
class Coverage:
    """Who holds the policy. `relationship` is the patient's relationship to the subscriber
    (X12 individual relationship code: 18 self, 01 spouse, 19 child, G8 other)."""

    subscriber: Insured
    member_id: str
    payer: Payer
    relationship: str = "18"
    group_number: str = ""
    responsibility: str = "P"  # SBR01: P primary, S secondary, T tertiary

    @property
    def patient_is_subscriber(self) -> bool:
        return self.relationship == "18"


@dataclass(frozen=True)
class ServiceLine:
    """One line (loop 2400): a code with up to four modifiers, its charge and units, the date
    of service, up to four pointers into the claim's diagnoses (1-based) and the line item
    control number the 835 echoes back (REF*6R)."""

    code: str
    modifiers: tuple[str, ...]
    charge: Decimal
    units: int
    service_date: date
    diagnosis_pointers: tuple[int, ...]
    control_number: str


@dataclass(frozen=True)
class Claim:
    """One claim (loop 2300): the patient control number (CLM01, echoed back as CLP01), place
    of service, frequency (with the payer's claim number for a replacement or void), ICD-10-CM
    codes (without the dot, first is the principal), prior authorization, the rendering and
    referring providers, and the lines."""

    control_number: str
    coverage: Coverage
    place_of_service: str
    diagnoses: tuple[str, ...]
    lines: tuple[ServiceLine, ...]
    rendering: Clinician
    patient: Insured | None = None  # None when the patient is the subscriber
    referring: Clinician | None = None
    frequency: Frequency = Frequency.ORIGINAL
    payer_claim_number: str = ""
    prior_authorization: str = ""

    @property
    def total_charge(self) -> Decimal:
        return sum((line.charge for line in self.lines), Decimal("0"))


@dataclass(frozen=True)
class ControlNumbers:
    """The envelope's control numbers, persisted and never reused by the caller: ISA13
    (interchange, 1-999999999), GS06 (group) and ST02 (transaction set)."""

    interchange: int
    group: int
    transaction: int


@dataclass(frozen=True)
class Batch:
    """One 837P file: one sender, one receiver, one billing provider, claims for one payer."""

    submitter: Party
    submitter_contact: Contact
    receiver: Party
    billing_provider: BillingProvider
    claims: tuple[Claim, ...]
    control: ControlNumbers
    created: datetime
    production: bool = False  # ISA15: P for production files, T for test files
    reference: str = ""  # BHT03; the ST control number when empty
