"""The visit note page. Thin views: parse a form, call one service, render.

Live parts answer HTMX requests with out-of-band fragments (the field errors next to each
field, the save status and the live panel), so the field being typed in is never replaced.
Status codes: 422 for input the services or forms refuse (errors rendered next to the
fields), 409 for any change to a signed note, 403 for a role that may not act.
"""

from __future__ import annotations

from functools import partial
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms import BaseForm
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from handrail.web.audit.reads import PAGE_TOKEN, audit_read, page_token
from handrail.web.audit.selectors import audit_changes_by_others
from handrail.web.billing.permissions import can_bill
from handrail.web.billing.selectors import claim_for_visit
from handrail.web.clinic.models import User
from handrail.web.clinic.views import current_user
from handrail.web.forms import form_apply_errors
from handrail.web.notes.forms import (
    AddendumForm,
    LineAddForm,
    LineNoteForm,
    SignForm,
    TimerSegmentForm,
    VisitHeaderForm,
)
from handrail.web.notes.selectors import code_choices, note_access, note_panel
from handrail.web.visits.engine import EngineUnavailableError
from handrail.web.visits.models import ServiceLine, Visit
from handrail.web.visits.selectors import visit_facts, visit_get
from handrail.web.visits.services import (
    RECONCILE_CHOICES,
    ReconcileChoice,
    ReconcileNeededError,
    SignNeedsReasonError,
    StaleEditError,
    TimerConflictError,
    service_line_add,
    service_line_change,
    service_line_delete,
    timer_segment_add,
    timer_start,
    timer_stop,
    visit_add_addendum,
    visit_cosign,
    visit_minutes_mismatches,
    visit_reconcile_minutes,
    visit_sign,
    visit_update,
)

LOCKED_STATUS = 409
ENGINE_DOWN_STATUS = 503
INVALID_STATUS = 422
HEADER_FIELDS = (
    "visit_type",
    "telehealth",
    "patient_present",
    "caregiver_present",
    "distinct_services",
    "medical_necessity_attested",
    "narrative",
)


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _status_for(exc: ValidationError) -> int:
    """409 when the note is locked (the services key that error "status"), the edit is
    based on an older version than the stored one ("version"), or a timer conflicts with
    the server's (already running, or running at a sign); else 422."""
    if isinstance(exc, TimerConflictError):
        return LOCKED_STATUS
    if hasattr(exc, "error_dict") and ("status" in exc.error_dict or "version" in exc.error_dict):
        return LOCKED_STATUS
    return INVALID_STATUS


def _line_get(visit: Visit, line_id: int) -> ServiceLine:
    line = visit.lines.filter(pk=line_id).first()
    if line is None:
        raise Http404("No such service line on this note.")
    return line


def _header_initial(visit: Visit) -> dict[str, Any]:
    return {
        "visit_type": visit.visit_type,
        "telehealth": visit.telehealth,
        "patient_present": visit.patient_present,
        "caregiver_present": visit.caregiver_present,
        "distinct_services": visit.distinct_services,
        "medical_necessity_attested": visit.medical_necessity_attested,
        "narrative": visit.narrative,
        "version": visit.version,
    }


def _line_form(line: ServiceLine) -> LineNoteForm:
    return LineNoteForm(
        initial={
            "therapist_minutes": line.therapist_minutes,
            "assistant_minutes": line.assistant_minutes,
            **line.note_dict(),
            "version": line.version,
        },
        prefix=f"l{line.pk}",
    )


def _timer_poll_url(user: User, visit: Visit) -> str:
    token = page_token(user=user, url_ids={"visit_id": visit.pk})
    return f"{reverse('notes:timers', args=[visit.pk])}?{urlencode({PAGE_TOKEN: token})}"


def _render_note(
    request: HttpRequest,
    visit: Visit,
    *,
    add_form: LineAddForm | None = None,
    addendum_form: AddendumForm | None = None,
    sign_confirm: dict[str, Any] | None = None,
    reconcile_confirm: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    user = current_user(request)
    lines = list(visit.lines.prefetch_related("segments", "segments__by"))
    facts = visit_facts(visit=visit)
    return render(
        request,
        "notes/note.html",
        {
            "visit": visit,
            "case": visit.case,
            "patient": visit.case.patient,
            "access": note_access(user=user, visit=visit, facts=facts),
            "header_form": VisitHeaderForm(initial=_header_initial(visit), prefix="v"),
            "lines": [(line, _line_form(line)) for line in lines],
            "add_form": add_form or LineAddForm(),
            "code_choices": code_choices(
                discipline=visit.case.discipline, exclude={line.code for line in lines}
            ),
            "addenda": visit.addenda.select_related("author"),
            "addendum_form": addendum_form or AddendumForm(),
            "panel": note_panel(visit=visit, facts=facts),
            # The timer poll's URL carries the page's token: its view event covers the polls.
            "timer_poll_url": _timer_poll_url(user, visit),
            # The claim's state (and for billers a link to it); therapists see no more.
            "claim": claim_for_visit(visit_id=visit.pk) if visit.is_signed else None,
            "can_bill": can_bill(user),
            "sign_confirm": sign_confirm,
            "reconcile_confirm": reconcile_confirm,
            # Issue 7: a draft someone else edited shows who changed what before it is signed.
            "changes_by_others": []
            if visit.is_signed
            else audit_changes_by_others(
                obj=visit, patient=visit.case.patient, author_id=visit.clinician_id
            ),
        },
        status=status,
    )


def _render_live(
    request: HttpRequest,
    visit: Visit,
    *,
    form: BaseForm | None,
    slot: str,
    saved: bool,
    message: str = "",
    status: int = 200,
    line: ServiceLine | None = None,
    state: ServiceLine | None = None,
    stale: bool = False,
) -> HttpResponse:
    """Out-of-band fragments: each field's error slot, the save status, the panel, the
    saved version (of the header, or of `state`, the line saved) and, for timer stops
    (`line`), the line's minutes and segments. `stale`: the edit was refused as based on an
    older version; the status offers a reload."""
    facts = visit_facts(visit=visit)
    return render(
        request,
        "notes/_live.html",
        {
            "visit": visit,
            "form": form,
            "slot": slot,
            "saved": saved,
            "saved_at": timezone.localtime(),
            "message": message,
            "line": line,
            "state": state or line,
            "stale": stale,
            "access": note_access(user=current_user(request), visit=visit, facts=facts),
            "panel": note_panel(visit=visit, facts=facts),
        },
        status=status,
    )


def _after_post(request: HttpRequest, visit: Visit, ok: bool, text: str) -> HttpResponse:
    """Without HTMX (no JavaScript) every post goes back to the page with a message."""
    (messages.success if ok else messages.error)(request, text)
    return redirect("notes:note", visit_id=visit.pk)


@audit_read("note")
@require_GET
def note_view(request: HttpRequest, visit_id: int) -> HttpResponse:
    user = current_user(request)
    visit = visit_get(user=user, visit_id=visit_id)
    return _render_note(request, visit)


@audit_read("live panel")
@require_GET
def panel_view(request: HttpRequest, visit_id: int) -> HttpResponse:
    visit = visit_get(user=current_user(request), visit_id=visit_id)
    return render(request, "notes/_panel.html", {"visit": visit, "panel": note_panel(visit=visit)})


@require_POST
def header_save_view(request: HttpRequest, visit_id: int) -> HttpResponse:
    user = current_user(request)
    visit = visit_get(user=user, visit_id=visit_id)
    form = VisitHeaderForm(request.POST, prefix="v")
    form.is_valid()
    data = form.cleaned_data
    fields = {name: data[name] for name in HEADER_FIELDS if name in data}
    status, message, saved = 200, "", False
    if form.non_field_errors():  # unknown fields: refuse the whole post
        status, message = INVALID_STATUS, " ".join(str(e) for e in form.non_field_errors())
    else:
        try:
            visit = visit_update(user=user, visit=visit, version=data.get("version"), **fields)
            saved = True
        except ValidationError as exc:
            status, message = _status_for(exc), " ".join(exc.messages)
            form_apply_errors(form, exc)
        if saved and form.errors:
            status = INVALID_STATUS
    if not _is_htmx(request):
        return _after_post(request, visit, status == 200, message or "Saved.")
    return _render_live(
        request,
        visit,
        form=form,
        slot="v",
        saved=saved,
        message=message,
        status=status,
        stale=status == LOCKED_STATUS and "version" in form.errors,
    )


@require_POST
def line_add_view(request: HttpRequest, visit_id: int) -> HttpResponse:
    user = current_user(request)
    visit = visit_get(user=user, visit_id=visit_id)
    form = LineAddForm(request.POST)
    if form.is_valid():
        try:
            service_line_add(user=user, visit=visit, code=form.cleaned_data["code"].strip())
        except ValidationError as exc:
            form_apply_errors(form, exc)
            return _render_note(request, visit, add_form=form, status=_status_for(exc))
        return redirect("notes:note", visit_id=visit.pk)
    return _render_note(request, visit, add_form=form, status=INVALID_STATUS)


def _typed_minutes(data: dict[str, Any]) -> dict[str, int]:
    """The minutes to save: both boxes valid and changed from what the page last showed
    (equal to it means the user did not type minutes: keep what a timer may have set)."""
    names = LineNoteForm.MINUTE_FIELDS
    if not all(name in data for name in names):
        return {}
    typed = tuple(data[name] for name in names)
    if typed == tuple(data.get(f"{name}_was") for name in names):
        return {}
    return dict(zip(names, typed, strict=True))


@require_POST
def line_save_view(request: HttpRequest, visit_id: int, line_id: int) -> HttpResponse:
    """The line's autosave. Each field is checked on its own: a bad value is shown beside its
    field and the valid fields still save (a decimal in a minutes box keeps the note's text).
    Based on an older version of the line than the stored one: 409, nothing saved."""
    user = current_user(request)
    visit = visit_get(user=user, visit_id=visit_id)
    form = LineNoteForm(request.POST, prefix=f"l{line_id}")
    form.is_valid()
    data = form.cleaned_data
    note = {name: data[name] for name in LineNoteForm.NOTE_FIELDS if name in data}
    minutes = _typed_minutes(data)
    status, message, line = 200, "", None
    if form.non_field_errors():  # unknown fields: refuse the whole post
        status, message = INVALID_STATUS, " ".join(str(e) for e in form.non_field_errors())
    else:
        change = partial(
            service_line_change,
            user=user,
            line=ServiceLine(pk=line_id, visit=visit),
            version=data.get("version"),
            note=note,
        )
        try:
            try:
                line = change(
                    therapist_minutes=minutes.get("therapist_minutes"),
                    assistant_minutes=minutes.get("assistant_minutes"),
                )
            except StaleEditError:
                raise
            except ValidationError as exc:
                # Minutes the services refuse (the visit's day would pass 24 hours) are
                # shown beside them; the note's text is saved without them.
                if not minutes or not set(exc.message_dict) <= set(LineNoteForm.MINUTE_FIELDS):
                    raise
                form_apply_errors(form, exc)
                line = change()
        except ServiceLine.DoesNotExist:
            raise Http404("No such service line on this note.") from None
        except ValidationError as exc:
            status, message = _status_for(exc), " ".join(exc.messages)
            form_apply_errors(form, exc)
        if line is not None and form.errors:
            status = INVALID_STATUS
    if not _is_htmx(request):
        return _after_post(request, visit, status == 200, message or "Line saved.")
    return _render_live(
        request,
        visit,
        form=form,
        slot=f"l{line_id}",
        saved=line is not None,
        message=message,
        status=status,
        state=line,
        stale=status == LOCKED_STATUS and "version" in form.errors,
    )


@require_POST
def line_delete_view(request: HttpRequest, visit_id: int, line_id: int) -> HttpResponse:
    user = current_user(request)
    visit = visit_get(user=user, visit_id=visit_id)
    line = _line_get(visit, line_id)
    try:
        service_line_delete(user=user, line=line)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return _render_note(request, visit, status=_status_for(exc))
    messages.success(request, f"Removed {line.code}.")
    return redirect("notes:note", visit_id=visit.pk)


@require_POST
def segment_add_view(request: HttpRequest, visit_id: int, line_id: int) -> HttpResponse:
    user = current_user(request)
    visit = visit_get(user=user, visit_id=visit_id)
    line = _line_get(visit, line_id)
    form = TimerSegmentForm(request.POST, prefix=f"t{line.pk}")
    status, message = 200, ""
    if form.is_valid():
        try:
            timer_segment_add(user=user, line=line, **form.cleaned_data)
        except ValidationError as exc:
            status, message = _status_for(exc), " ".join(exc.messages)
            form_apply_errors(form, exc)
    else:
        status = INVALID_STATUS
        message = "The timer was not saved: " + "; ".join(
            f"{name} {' '.join(str(e) for e in errs).lower()}"
            for name, errs in form.errors.items()
        )
    if not _is_htmx(request):
        return _after_post(request, visit, status == 200, message or f"{line.code} timer saved.")
    line.refresh_from_db()
    return _render_live(
        request,
        visit,
        form=None,
        slot=f"t{line.pk}",
        saved=status == 200,
        message=message,
        status=status,
        line=line,
    )


def _render_timers(
    request: HttpRequest,
    visit: Visit,
    *,
    changed: set[int],
    slot: int | None = None,
    message: str = "",
    status: int = 200,
) -> HttpResponse:
    """Out-of-band fragments after a timer start or stop, or for the page's poll: every
    line's timer as the server has it (running or not, on whichever device it was started)
    and its runs; for `changed` lines (a run stopped) their minutes, saved version and the
    live panel. Minutes of unchanged lines are left alone, so nothing being typed is
    replaced."""
    lines = list(visit.lines.prefetch_related("segments", "segments__by"))
    facts = visit_facts(visit=visit) if changed else None
    return render(
        request,
        "notes/_timer_live.html",
        {
            "visit": visit,
            "lines": lines,
            "changed": changed,
            "slot": slot,
            "message": message,
            "access": note_access(user=current_user(request), visit=visit, facts=facts),
            "panel": note_panel(visit=visit, facts=facts) if facts else None,
        },
        status=status,
    )


@audit_read("note timers", part_of_page=True)
@require_GET
def timers_view(request: HttpRequest, visit_id: int) -> HttpResponse:
    """What the page polls (and asks again when it gets the focus): the timers as the server
    has them, so a timer started on another tab or device shows running here. The page's
    poll carries the page's token and records no audit event (the page's view covers it);
    asked without it, the timers are a read like any other."""
    visit = visit_get(user=current_user(request), visit_id=visit_id)
    return _render_timers(request, visit, changed=set())


@require_POST
def timer_start_view(request: HttpRequest, visit_id: int, line_id: int) -> HttpResponse:
    user = current_user(request)
    visit = visit_get(user=user, visit_id=visit_id)
    line = _line_get(visit, line_id)
    status, message, changed = 200, "", set()
    try:
        started = timer_start(user=user, line=line)
        changed = {segment.line_id for segment in started.stopped}
    except ValidationError as exc:
        status, message = _status_for(exc), " ".join(exc.messages)
    if not _is_htmx(request):
        return _after_post(request, visit, status == 200, message or f"{line.code} timer started.")
    return _render_timers(
        request, visit, changed=changed, slot=line.pk, message=message, status=status
    )


@require_POST
def timer_stop_view(request: HttpRequest, visit_id: int, line_id: int) -> HttpResponse:
    """Stop the line's timer; stopping one that no longer runs (stopped on another tab)
    changes nothing and says so."""
    user = current_user(request)
    visit = visit_get(user=user, visit_id=visit_id)
    line = _line_get(visit, line_id)
    status, message, changed = 200, "", set()
    try:
        stopped = timer_stop(user=user, line=line)
        if stopped.segment is None:
            message = (
                f"The {line.code} timer was not running (stopped elsewhere); nothing changed."
            )
        else:
            changed = {line.pk}
            if stopped.capped:
                message = (
                    f"The {line.code} timer ran past midnight: it stopped at the end of the "
                    "visit's day, and only that day's time counts."
                )
    except ValidationError as exc:
        status, message = _status_for(exc), " ".join(exc.messages)
    if not _is_htmx(request):
        ok = status == 200
        return _after_post(request, visit, ok, message or f"{line.code} timer stopped.")
    return _render_timers(
        request, visit, changed=changed, slot=line.pk, message=message, status=status
    )


def _reconcile_choices(data: Any) -> tuple[list[ReconcileChoice], list[int]]:
    """The reconcile form's choices ("reconcile-<line id>": timer, keep or edit, with
    "keep_reason-<line id>"), and the lines the therapist chose to edit instead."""
    choices: list[ReconcileChoice] = []
    edit: list[int] = []
    for key, value in data.items():
        prefix, _, line_id = key.partition("-")
        if prefix != "reconcile" or not line_id.isdigit():
            continue
        if value == "edit":
            edit.append(int(line_id))
        elif value in RECONCILE_CHOICES:
            reason = data.get(f"keep_reason-{line_id}", "")
            choices.append(ReconcileChoice(int(line_id), value, reason))
        else:
            raise ValidationError({"reconcile": f"Choose timer, keep or edit, not {value!r}."})
    return choices, edit


def _reconcile_confirm(visit: Visit, error: str = "") -> dict[str, Any]:
    return {"mismatches": visit_minutes_mismatches(visit=visit), "error": error}


def _sign_confirm(exc: SignNeedsReasonError, visit: Visit, form: SignForm) -> dict[str, Any]:
    """The confirmation that lists the error findings and asks why to sign anyway."""
    codes = [line.code for line in visit.lines.all()]
    findings = []
    for item in exc.findings:
        index = item.get("line")
        findings.append(
            {
                "rule": item["rule"],
                "message": item["message"],
                "fix": item.get("fix") or "",
                "code": codes[index] if isinstance(index, int) and 0 <= index < len(codes) else "",
            }
        )
    asked = bool(form.is_bound and "reason" in form.data)  # "sign anyway" posted, no reason
    return {"findings": findings, "form": form, "reason_missing": asked}


def _sign_checked(
    request: HttpRequest, visit: Visit, user: User, cosign: bool, reason: str = ""
) -> HttpResponse:
    try:
        if cosign:
            visit_cosign(user=user, visit=visit)
        else:
            visit_sign(user=user, visit=visit, reason=reason)
    except SignNeedsReasonError as exc:
        fresh = visit_get(user=user, visit_id=visit.pk)
        confirm = _sign_confirm(exc, fresh, SignForm(request.POST))
        return _render_note(request, fresh, sign_confirm=confirm, status=INVALID_STATUS)
    except ReconcileNeededError:
        fresh = visit_get(user=user, visit_id=visit.pk)
        return _render_note(
            request, fresh, reconcile_confirm=_reconcile_confirm(fresh), status=LOCKED_STATUS
        )
    except ValidationError as exc:
        for text in exc.messages:
            messages.error(request, text)
        return _render_note(
            request, visit_get(user=user, visit_id=visit.pk), status=_status_for(exc)
        )
    except EngineUnavailableError as exc:
        # Signing stores the engine's estimate; without its data the note stays a draft.
        messages.error(request, f"Not signed: the rules engine cannot read its data ({exc}).")
        return _render_note(
            request, visit_get(user=user, visit_id=visit.pk), status=ENGINE_DOWN_STATUS
        )
    messages.success(
        request,
        "Co-signed." if cosign else "Signed. The note is locked; changes go in addenda.",
    )
    return redirect("notes:note", visit_id=visit.pk)


@require_POST
def sign_view(request: HttpRequest, visit_id: int) -> HttpResponse:
    user = current_user(request)
    visit = visit_get(user=user, visit_id=visit_id)
    form = SignForm(request.POST)
    if not form.is_valid():
        messages.error(
            request, " ".join(str(e) for e in form.errors.get("reason", ["Not signed."]))
        )
        return _render_note(request, visit, status=INVALID_STATUS)
    try:
        choices, edit = _reconcile_choices(request.POST)
        if choices:
            visit_reconcile_minutes(user=user, visit=visit, choices=choices)
    except ValidationError as exc:
        fresh = visit_get(user=user, visit_id=visit.pk)
        confirm = _reconcile_confirm(fresh, " ".join(exc.messages))
        return _render_note(request, fresh, reconcile_confirm=confirm, status=_status_for(exc))
    if edit:
        codes = dict(visit.lines.filter(pk__in=edit).values_list("pk", "code"))
        messages.info(
            request,
            f"Not signed: change the minutes of {', '.join(codes.values())}, then sign again.",
        )
        first = next(iter(codes.values()), "")
        return redirect(
            reverse("notes:note", args=[visit.pk]) + (f"#line-{first}" if first else "")
        )
    return _sign_checked(request, visit, user, cosign=False, reason=form.cleaned_data["reason"])


@require_POST
def cosign_view(request: HttpRequest, visit_id: int) -> HttpResponse:
    user = current_user(request)
    return _sign_checked(request, visit_get(user=user, visit_id=visit_id), user, cosign=True)


@require_POST
def addendum_view(request: HttpRequest, visit_id: int) -> HttpResponse:
    user = current_user(request)
    visit = visit_get(user=user, visit_id=visit_id)
    form = AddendumForm(request.POST)
    if form.is_valid():
        try:
            visit_add_addendum(user=user, visit=visit, **form.cleaned_data)
        except ValidationError as exc:
            form_apply_errors(form, exc)
            return _render_note(request, visit, addendum_form=form, status=_status_for(exc))
        messages.success(request, "Addendum added.")
        return redirect("notes:note", visit_id=visit.pk)
    return _render_note(request, visit, addendum_form=form, status=INVALID_STATUS)
