"""Plain-text rendering of CLI answers for people (the --json output is the contract)."""

from __future__ import annotations

from typing import Any

from handrail.rules.units import UnitsResult
from handrail.rules.visit import VisitResult


def _steps(steps: list[str]) -> str:
    return "".join(f"  {number}. {step}\n" for number, step in enumerate(steps, start=1))


def units(result: UnitsResult) -> str:
    rows = "".join(
        f"  {item.code:<6} {item.minutes:>4} min  {item.units:>2} unit(s)\n"
        for item in result.codes
    )
    return (
        f"Rule: {result.rule}\n{rows}"
        f"Total: {result.total_timed_minutes} timed minutes, {result.total_units} unit(s)\n"
        f"How:\n{_steps(result.explanation.steps)}"
    )


def price(doc: dict[str, Any], name: str) -> str:
    rvu, gpci = doc["rvu"], doc["gpci"]
    return (
        f"{doc['code']}{' ' + name if name else ''} ({doc['date']}, {doc['locality_name']}, "
        f"{doc['rate']})\n"
        f"  RVU  work {rvu['work']:.2f}  PE {rvu['pe']:.2f}  MP {rvu['mp']:.2f}\n"
        f"  GPCI work {gpci['work']:.3f}  PE {gpci['pe']:.3f}  MP {gpci['mp']:.3f}\n"
        f"  Conversion factor {doc['conversion_factor']}\n"
        f"  Per unit ${doc['unit_amount']:.2f}; {doc['units']} unit(s) ${doc['amount']:.2f}"
        f" (with therapy MPPR ${doc['amount_with_mppr']:.2f})\n"
        f"  Source: {doc['source']}\n" + (f"  Note: {doc['note']}\n" if "note" in doc else "")
    )


def edits(doc: dict[str, Any]) -> str:
    lines = [f"Edits on {doc['date']}:"]
    if not doc["pairs"]:
        lines.append("  No NCCI procedure-to-procedure pair among these codes.")
    for pair in doc["pairs"]:
        lines.append(
            f"  PTP {pair['column1']} / {pair['column2']}: modifier indicator "
            f"{pair['modifier_indicator']} ({pair['source']})"
        )
    for mue in doc["mue"]:
        lines.append(f"  MUE {mue['code']}: at most {mue['max_units']} per day ({mue['source']})")
    return "\n".join(lines) + "\n"


def visit(result: VisitResult) -> str:
    doc = result.to_dict()
    out = [
        f"Visit {doc['date']} ({result.record.discipline}, {result.record.payer.type}, "
        f"{doc['unit_rule']} rule, POS {doc['place_of_service']})",
        f"Timed minutes {doc['total_timed_minutes']}, units {doc['total_units']}",
        "Claim lines:",
    ]
    for line in doc["claim_lines"]:
        modifiers = ":".join(line["modifiers"])
        out.append(f"  {line['code']}:{modifiers:<14} x{line['units']}  ${line['amount']:>8.2f}")
    pay = doc["payment"]
    coinsurance = "n/a" if pay["coinsurance"] is None else f"${pay['coinsurance']:.2f}"
    out.append(f"Allowed ${pay['allowed']:.2f}; patient coinsurance {coinsurance}")
    out.append(f"  Source: {pay['source']}")
    threshold = doc["threshold"]
    if threshold["applies"]:
        kx = "yes" if threshold["kx_required"] else "no"
        accrued, amount = threshold["accrued_after"], threshold["amount"]
        out.append(
            f"Threshold {threshold['year']} {threshold['group']}: "
            f"${accrued:,.2f} of ${amount:,.0f}; KX {kx}"
        )
    out.append(f"Findings ({len(doc['findings'])}):")
    for finding in doc["findings"]:
        where = f" line {finding['line'] + 1}" if "line" in finding else ""
        out.append(
            f"  [{finding['severity'].upper()}] {finding['rule']}{where}: {finding['message']}"
        )
        out.append(f"      Fix: {finding['fix']}  ({finding['source']})")
    out.append("How:")
    return "\n".join(out) + "\n" + _steps(doc["explanation"])


BATCH_SUMMARY_RULES = 10  # findings listed in the human summary; --json lists them all


def batch_summary(summary: dict[str, Any]) -> str:
    rate = summary["visits_per_second"]
    lines = [
        f"{summary['visits']} visits ({summary['ok']} evaluated, {summary['errors']} refused as "
        "bad input) "
        f"in {summary['seconds']} s, {rate} visits/s -> {summary['output']}"
    ]
    if summary["ok"]:
        lines.append(
            f"Allowed ${summary['allowed_total']:,.2f} in all; "
            f"{summary['visits_with_error_findings']} of {summary['ok']} visits have an error "
            "finding (will deny as they stand)"
        )
    findings = summary["findings"]
    for finding in findings[:BATCH_SUMMARY_RULES]:
        lines.append(f"  {finding['count']:>9,}  {finding['severity']:<7}  {finding['rule']}")
    if len(findings) > BATCH_SUMMARY_RULES:
        lines.append(f"  ... {len(findings) - BATCH_SUMMARY_RULES} more rules (--json lists all)")
    return "\n".join(lines)


def data_import(doc: dict[str, Any]) -> str:
    verb = "Replaced" if doc.get("replaced") else "Imported"
    lines = [
        f"{verb} {doc['kind']} release {doc['label']}: {doc['rows']:,} rows from "
        f"{doc['file_name']} (sha256 {str(doc['sha256'])[:12]}), effective "
        f"{doc['effective_from']} to {doc.get('effective_to') or 'further notice'}"
    ]
    lines.extend(f"  {message}" for message in doc.get("messages", [])[1:])
    return "\n".join(lines) + "\n"


def data_status(releases: list[dict[str, Any]]) -> str:
    if not releases:
        return "No data releases loaded.\n"
    header = f"{'kind':<8} {'release':<62} {'effective':<24} {'rows':>7}  origin"
    lines = ["Loaded data releases (imported ones win over built-in ones):", header]
    for release in releases:
        span = f"{release['effective_from']}..{release.get('effective_to') or ''}"
        label = str(release["label"]) + ("" if release.get("verified", True) else " [unverified]")
        lines.append(
            f"{release['kind']:<8} {label:<62} {span:<24} {release['rows']:>7,}  "
            f"{release['origin']} {str(release.get('sha256') or '')[:12]}".rstrip()
        )
    return "\n".join(lines) + "\n"
