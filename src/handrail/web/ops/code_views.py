"""The code reference pages: /codes/ lists the catalog, /codes/<code>/ shows one code.

Every signed-in role may read them. The answer is `handrail.officialdata.reference.
code_answer`, the same function `handrail code` prints; the local price is the clinic's
ZIP code's Medicare locality. Thin: parse, call, render.
"""

from __future__ import annotations

from datetime import date

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from handrail.officialdata.reference import CodeAnswer, code_answer
from handrail.rules.catalog import CATALOG
from handrail.rules.model import RuleInputError
from handrail.rules.reference import nearest_codes
from handrail.rules.visit_record import parse_date
from handrail.web.clinic.views import current_user
from handrail.web.visits.engine import ruleset

BAD_REQUEST = 400
NOT_FOUND = 404


@require_GET
def code_index_view(request: HttpRequest) -> HttpResponse:
    codes = [(spec.code, spec.name) for spec in CATALOG.values()]
    return render(request, "ops/code_index.html", {"codes": codes})


@require_GET
def code_reference_view(request: HttpRequest, code: str) -> HttpResponse:
    given = code.strip().upper()
    if given not in CATALOG:
        unknown_code = {"code": code, "nearest": nearest_codes(code)}
        return render(request, "ops/code_unknown.html", unknown_code, status=NOT_FOUND)
    unknown = sorted(set(request.GET) - {"date"})
    if unknown:
        return _bad(request, given, f"{unknown[0]}: unknown parameter; give only date")
    on: date = timezone.localdate()
    if request.GET.get("date"):
        try:
            on = parse_date(request.GET["date"], "date")
        except RuleInputError as error:
            return _bad(request, given, str(error))
    clinic = current_user(request).clinic
    clinic_zip = clinic.zip.strip()[:5] if clinic is not None else ""
    rules = ruleset()
    local_problem = ""
    answer: CodeAnswer
    try:
        answer = code_answer(given, on, rules, zip5=clinic_zip or None)
    except RuleInputError as error:  # the clinic's ZIP is malformed or not in the ZIP file
        answer = code_answer(given, on, rules)
        local_problem = f"clinic ZIP {clinic_zip}: {error.message}"
    context: dict[str, object] = {
        "answer": answer.to_dict(),
        "on": on,
        "clinic_zip": clinic_zip,
        "local_problem": local_problem,
    }
    return render(request, "ops/code.html", context)


def _bad(request: HttpRequest, code: str, message: str) -> HttpResponse:
    context = {"code": code, "error": message}
    return render(request, "ops/code_unknown.html", context, status=BAD_REQUEST)
