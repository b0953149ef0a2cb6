"""Property test (issue 9): random valid claims make 837P files that pyx12 validates with no
error and whose totals add up, and the remittance paying them (with denials and provider
adjustments) validates, reads back to the same figures and balances. Kept to a few dozen
examples: each pyx12 validation costs about a quarter of a second."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handrail.claims import x835
from handrail.claims.model import Batch, Claim, ServiceLine
from handrail.claims.synthetic import Denial, remittance_for, synthetic_batch
from handrail.claims.x12_validation import x12_errors
from handrail.claims.x835 import balance_problems, read_835
from handrail.claims.x835_write import Envelope, write_835
from handrail.claims.x837p import write_837p

CODES = ("97110", "97112", "97140", "97530", "97535", "97750", "92507", "G0283")
MODIFIERS = ("GP", "GO", "GN", "59", "XU", "KX", "CQ", "CO", "95")
EXAMPLES = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def lines(draw: st.DrawFn, control: str, day: date, diagnoses: int) -> tuple[ServiceLine, ...]:
    count = draw(st.integers(1, 6))
    out = []
    for index in range(1, count + 1):
        out.append(
            ServiceLine(
                code=draw(st.sampled_from(CODES)),
                modifiers=tuple(draw(st.lists(st.sampled_from(MODIFIERS), max_size=4,
                                              unique=True))),
                charge=Decimal(draw(st.integers(1, 999_999))) / 100,
                units=draw(st.integers(1, 12)),
                service_date=day,
                diagnosis_pointers=tuple(sorted(draw(st.sets(st.integers(1, diagnoses),
                                                             min_size=1, max_size=4)))),
                control_number=f"{control}-{index}",
            )
        )  # fmt: skip
    return tuple(out)


@st.composite
def batches(draw: st.DrawFn) -> Batch:
    """A batch whose people come from the synthetic builder and whose lines are random."""
    size = draw(st.integers(1, 3))
    base = synthetic_batch(size, seed=draw(st.integers(0, 10_000)))
    claims: list[Claim] = []
    for claim in base.claims:
        extra = ("R2681", "M25561", "Z471")[: draw(st.integers(0, 3))]
        diagnoses = tuple(dict.fromkeys(claim.diagnoses + extra))
        day = date(2026, 1, 1) + timedelta(days=draw(st.integers(0, 330)))
        claims.append(
            Claim(
                control_number=claim.control_number,
                coverage=claim.coverage,
                place_of_service=draw(st.sampled_from(("11", "02", "10", "12"))),
                diagnoses=diagnoses,
                lines=draw(lines(claim.control_number, day, len(diagnoses))),
                rendering=claim.rendering,
            )
        )
    return Batch(
        base.submitter, base.submitter_contact, base.receiver, base.billing_provider,
        tuple(claims), base.control, base.created,
    )  # fmt: skip


def _segments(text: str, tag: str) -> list[list[str]]:
    return [s.rstrip("~").split("*") for s in text.splitlines() if s.startswith(tag + "*")]


@EXAMPLES
@given(batches())
def test_random_claims_make_837p_files_pyx12_accepts_and_that_add_up(batch: Batch) -> None:
    text = write_837p(batch)
    assert x12_errors(text) == []
    clm = _segments(text, "CLM")
    sv1 = _segments(text, "SV1")
    assert [row[1] for row in clm] == [claim.control_number for claim in batch.claims]
    assert [Decimal(row[2]) for row in clm] == [claim.total_charge for claim in batch.claims]
    assert sum(Decimal(row[2]) for row in sv1) == sum(Decimal(row[2]) for row in clm)
    refs = [row[2] for row in _segments(text, "REF") if row[1] == "6R"]
    assert refs == [line.control_number for claim in batch.claims for line in claim.lines]


@EXAMPLES
@given(batches(), st.data())
def test_the_paying_remittance_validates_reads_back_and_balances(
    batch: Batch, data: st.DataObject
) -> None:
    every_line = [(c.control_number, ln.control_number) for c in batch.claims for ln in c.lines]
    denied = data.draw(st.lists(st.sampled_from(every_line), unique=True, max_size=3))
    withheld = data.draw(st.integers(0, 500)) / Decimal(100)
    plb = (x835.ProviderAdjustment("WO", "SY0", withheld),) if withheld else ()
    remittance = remittance_for(
        batch,
        deny=tuple(Denial(claim, line, remarks=("N20",)) for claim, line in denied),
        provider_adjustments=plb,
    )
    if remittance.total_paid < 0:
        return  # a payer recovers more than it pays with a debit, not a negative BPR02
    text = write_835([remittance], Envelope("MEDICAREB01", "SYNREHAB01", 1, datetime(2026, 12, 1)))
    assert x12_errors(text) == []
    [read] = read_835(text)  # raises if anything does not balance
    assert balance_problems(read) == []
    assert read.total_paid == remittance.total_paid
    assert [(c.control_number, c.paid, c.charge) for c in read.claims] == [
        (c.control_number, c.paid, c.charge) for c in remittance.claims
    ]
    assert [ln.control_number for c in read.claims for ln in c.lines] == [
        ln.control_number for c in batch.claims for ln in c.lines
    ]
    denied_lines = {line for _claim, line in denied}
    assert {
        ln.control_number for c in read.claims for ln in c.lines if ln.paid == 0
    } >= denied_lines
