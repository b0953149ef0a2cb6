"""What a line is charged and what a payer should pay for it.

The charge is the clinic's charge master: units x the charge in effect on the date of
service. The expected payment is the payer's contract in effect on that date: a percent of the
Medicare fee schedule amount the rules engine computed for the line (with its multiple
procedure payment reduction, handrail.rules.payment), or the contract's rate per unit of the
code. A Medicare payer with no contract is paid from the fee schedule itself (CMS Pub 100-04
ch.5 §10.2); any other payer with no contract has no expected amount Handrail can state.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from handrail.web.billing.models import (
    ChargeEntry,
    ClaimLine,
    Contract,
    ContractKind,
    ContractRate,
    DatedRow,
    row_in_effect,
)
from handrail.web.clinic.models import Clinic, Payer, PayerType

CENTS = Decimal("0.01")
HUNDRED = Decimal(100)


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENTS, rounding=ROUND_HALF_UP)


def unit_charge(clinic: Clinic | int, code: str, on: date) -> Decimal | None:
    """The charge master's charge for one unit of `code` on `on`, or None when it has none."""
    clinic_id = clinic if isinstance(clinic, int) else clinic.pk
    entry = row_in_effect(ChargeEntry.objects.filter(clinic_id=clinic_id, code=code), on)
    return entry.charge if entry else None


def contract_in_effect(payer: Payer | int, on: date) -> Contract | None:
    payer_id = payer if isinstance(payer, int) else payer.pk
    return row_in_effect(Contract.objects.filter(payer_id=payer_id), on)


@dataclass(frozen=True)
class Expected:
    """An expected payment and where it comes from (shown next to the figure)."""

    amount: Decimal | None
    source: str


def contract_label(contract: Contract) -> str:
    if contract.kind == ContractKind.PERCENT_OF_MEDICARE:
        what = f"{contract.percent.normalize():f}% of the Medicare fee schedule"  # type: ignore[union-attr]
    else:
        what = "rate table"
    return f"{contract.payer.name} contract, {what}, from {contract.effective_from.isoformat()}"


def contract_amount(
    contract: Contract,
    *,
    code: str,
    units: int,
    medicare_amount: Decimal | None,
    on: date,
    rates: Iterable[ContractRate] | None = None,
) -> Expected:
    """What `contract` pays for `units` of `code` on `on`, the engine's Medicare amount for
    the line given; `rates` are the contract's rates for the code when already read."""
    label = contract_label(contract)
    if contract.kind == ContractKind.PERCENT_OF_MEDICARE:
        if medicare_amount is None:
            return Expected(None, f"{label}; no Medicare amount for {code} to apply it to")
        percent = contract.percent or Decimal(0)
        return Expected(cents(medicare_amount * percent / HUNDRED), label)
    if rates is None:
        rates = ContractRate.objects.filter(contract=contract, code=code)
    rate = row_in_effect(rates, on)
    if rate is None:
        return Expected(None, f"{label}; no rate for {code} on {on.isoformat()}")
    return Expected(cents(rate.rate * units), f"{label}; {code} at {rate.rate} a unit")


def medicare_line_amount(evaluation: Any, code: str, modifiers: list[str]) -> Decimal | None:
    """The engine's fee-schedule amount of the stored evaluation's line with this code (and
    these modifiers when the code has more than one line, e.g. a CQ split)."""
    if not isinstance(evaluation, dict):
        return None
    lines = [
        line
        for line in evaluation.get("claim_lines") or []
        if isinstance(line, dict) and line.get("code") == code
    ]
    exact = [line for line in lines if list(line.get("modifiers") or []) == list(modifiers)]
    chosen = exact or lines
    if not chosen or chosen[0].get("amount") is None:
        return None
    return cents(Decimal(str(chosen[0]["amount"])))


def expected_for(
    *,
    payer: Payer,
    code: str,
    units: int,
    modifiers: list[str],
    on: date,
    evaluation: Any,
    contracts: Iterable[Contract] | None = None,
    rates: Iterable[ContractRate] | None = None,
) -> Expected:
    """What `payer` should pay; `contracts` (the payer's) and `rates` (for the code) when
    already read, else they are read here."""
    medicare = medicare_line_amount(evaluation, code, modifiers)
    if contracts is not None:
        contract = row_in_effect(contracts, on)
    else:
        contract = contract_in_effect(payer, on)
    if contract is not None:
        return contract_amount(
            contract, code=code, units=units, medicare_amount=medicare, on=on, rates=rates
        )
    if payer.type == PayerType.MEDICARE:
        if medicare is None:
            return Expected(None, "Medicare fee schedule; no amount for this line")
        return Expected(medicare, "Medicare physician fee schedule (the engine's estimate)")
    return Expected(None, f"No contract on file for {payer.name} on {on.isoformat()}")


def expected_amount(line: ClaimLine) -> Expected:
    """What the claim's payer should pay for the line (the remittance side compares it with
    what was paid to flag underpayments)."""
    claim = line.claim
    return expected_for(
        payer=claim.payer,
        code=line.code,
        units=line.units,
        modifiers=list(line.modifiers),
        on=line.service_date,
        evaluation=claim.visit.evaluation,
    )


def expected_amounts(lines: Sequence[ClaimLine]) -> dict[int, Expected]:
    """`expected_amount` of many lines (line id -> Expected) in two queries whatever their
    number: the contracts of their payers and the rate tables' rates for their codes. Each
    line's claim, with its payer and visit, must be loaded (select_related)."""
    payer_ids = {line.claim.payer_id for line in lines}
    contracts: dict[int, list[Contract]] = defaultdict(list)
    for read in Contract.objects.filter(payer_id__in=payer_ids).select_related("payer"):
        contracts[read.payer_id].append(read)
    rates: dict[tuple[int, str], list[ContractRate]] = defaultdict(list)
    tables = [c.pk for cs in contracts.values() for c in cs if c.kind == ContractKind.RATE_TABLE]
    if tables:
        for rate in ContractRate.objects.filter(
            contract_id__in=tables, code__in={line.code for line in lines}
        ):
            rates[(rate.contract_id, rate.code)].append(rate)
    out: dict[int, Expected] = {}
    for line in lines:
        claim = line.claim
        payer_contracts = contracts.get(claim.payer_id, [])
        contract = row_in_effect(payer_contracts, line.service_date)
        out[line.pk] = expected_for(
            payer=claim.payer,
            code=line.code,
            units=line.units,
            modifiers=list(line.modifiers),
            on=line.service_date,
            evaluation=claim.visit.evaluation,
            contracts=payer_contracts,
            rates=rates.get((contract.pk, line.code), []) if contract is not None else [],
        )
    return out


@dataclass(frozen=True)
class ContractPricing:
    """A note's lines priced by the payer's contract: one amount per engine claim line (None
    where a rate table has no rate for the code), the total when every line is priced, and
    the contract named as the source."""

    amounts: tuple[Decimal | None, ...]
    allowed: Decimal | None
    source: str


def contract_pricing(payer: Payer | None, on: date, evaluation: Any) -> ContractPricing | None:
    """The engine's claim lines priced by `payer`'s contract in effect on `on`, or None when it
    has none (the engine's Medicare fee-schedule amounts stand). One query, two for a rate
    table (its rates are read together)."""
    if payer is None or not isinstance(evaluation, dict):
        return None
    contract = row_in_effect(
        Contract.objects.filter(payer_id=payer.pk).select_related("payer"), on
    )
    if contract is None:
        return None
    rates: dict[str, Decimal] = {}
    if contract.kind == ContractKind.RATE_TABLE:
        in_effect = ContractRate.objects.filter(DatedRow.in_effect_filter(on), contract=contract)
        for rate in in_effect.order_by("effective_from"):
            rates[rate.code] = rate.rate  # the latest start wins
    amounts: list[Decimal | None] = []
    missing: list[str] = []
    for line in evaluation.get("claim_lines") or []:
        if not isinstance(line, dict):
            continue
        code = str(line.get("code") or "")
        units = int(line.get("units") or 0)
        if contract.kind == ContractKind.PERCENT_OF_MEDICARE:
            medicare = line.get("amount")
            amounts.append(
                None
                if medicare is None
                else cents(Decimal(str(medicare)) * (contract.percent or 0) / HUNDRED)
            )
        elif code in rates:
            amounts.append(cents(rates[code] * units))
        else:
            amounts.append(None)
            missing.append(code)
    source = contract_label(contract)
    if missing:
        source = f"{source}; no rate for {', '.join(missing)}"
    priced = [a for a in amounts if a is not None]
    allowed = sum(priced, Decimal("0")) if len(priced) == len(amounts) else None
    return ContractPricing(tuple(amounts), allowed, source)
