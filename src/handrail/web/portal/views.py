"""The patient's pages (a link with a token, no account) and the staff pages of a program's
patient side (links, progress, clinicians' notes) and the flags worklist.

Patient pages: every request is counted against the token and the client address first
(throttle.py); an unknown, revoked or expired link gets one plain page that says to contact
the clinic and nothing more (the same page and status for each, so a guesser learns
nothing). The log form posts with Django's CSRF cookie and token: no session is needed, and
another site cannot post a session into the patient's log.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.contrib import messages as flash
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from handrail.handouts.pdf import Handout, HandoutImage, HandoutItem, render_handout
from handrail.web.audit.reads import audit_read
from handrail.web.clinic.permissions import can_view_clinical, require
from handrail.web.clinic.throttle import client_address
from handrail.web.clinic.views import current_user
from handrail.web.messaging.models import WithdrawnVia
from handrail.web.messaging.schedule import WEEKDAY_NAMES
from handrail.web.messaging.services import active_consent, consent_record, consent_withdraw
from handrail.web.portal import reminders, selectors, services
from handrail.web.portal.models import AccessAction, Difficulty, PatientLink
from handrail.web.portal.throttle import link_hit
from handrail.web.programs.models import EntryMedia, MediaKind, Program, ProgramVersion
from handrail.web.programs.services import can_edit_programs, dose_text
from handrail.web.programs.views import _byte_range

# --- the patient's pages -------------------------------------------------------------------


def _closed(request: HttpRequest, status: int = 404) -> HttpResponse:
    return render(request, "portal/link_closed.html", status=status)


def _open(
    request: HttpRequest, token: str, action: str, *, log: bool = True
) -> PatientLink | HttpResponse:
    """The working link of the token, or the response to send instead (429 or closed)."""
    address = client_address(request)
    retry_at = link_hit(token_hash=services.token_hash(token[:200]), address=address)
    if retry_at is not None:
        response = render(request, "portal/slow_down.html", status=429)
        seconds = max(1, int((retry_at - timezone.now()).total_seconds()))
        response["Retry-After"] = str(seconds)
        return response
    state = services.link_resolve(token)
    if not state.ok or state.link is None:
        if state.link is not None:
            services.access_record(link=state.link, action=AccessAction.REFUSED, address=address)
        return _closed(request)
    if log:
        services.access_record(link=state.link, action=action, address=address)
    return state.link


def program_media(program: Program, version: ProgramVersion) -> dict[int, list[EntryMedia]]:
    """The clinic's pictures and videos of the version's entries, by entry id."""
    entry_ids = [row["entry_id"] for row in version.items]
    media: dict[int, list[EntryMedia]] = {}
    for row in EntryMedia.objects.filter(clinic_id=program.clinic_id, entry_id__in=entry_ids):
        media.setdefault(row.entry_id, []).append(row)
    return media


def _items(program: Program, version: ProgramVersion) -> list[dict[str, Any]]:
    media = program_media(program, version)
    return [
        {**row, "dose": dose_text(row), "media": media.get(row["entry_id"], [])}
        for row in version.items
    ]


def reminder_context(program: Program) -> dict[str, Any]:
    plan = getattr(program, "reminders", None)
    return {
        "reminder_plan": plan,
        "weekday_names": list(enumerate(WEEKDAY_NAMES)),
        "reminder_days": [WEEKDAY_NAMES[d] for d in plan.weekdays] if plan else [],
        "reminder_at": plan.at.strftime("%H:%M") if plan else "08:00",
        "reminder_zone": plan.time_zone if plan else settings.TIME_ZONE,
    }


def _page_context(link: PatientLink) -> dict[str, Any]:
    program = link.program
    version = services.latest_version(program)
    assert version is not None  # a link is made only for an issued program
    return {
        **reminder_context(program),
        "clinic": program.clinic,
        "program": program,
        "first_name": program.patient.first_name,
        "version": version,
        "items": _items(program, version),
        "difficulties": Difficulty.choices,
    }


@login_not_required
@require_http_methods(["GET", "POST"])
def patient_program_view(request: HttpRequest, token: str) -> HttpResponse:
    action = AccessAction.LOG if request.method == "POST" else AccessAction.VIEW
    opened = _open(request, token, action)
    if isinstance(opened, HttpResponse):
        return opened
    context = _page_context(opened)
    today = timezone.localdate()
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {"day": today.isoformat(), "items": []}
    status = 200
    if request.method == "POST":
        data = {
            k: request.POST.get(k, "")
            for k in request.POST
            if k not in ("csrfmiddlewaretoken", "items")
        }
        items = request.POST.getlist("items")
        try:
            services.session_log_create(link=opened, data=data, items=items, today=today)
        except ValidationError as exc:
            errors = exc.message_dict
            values = {**data, "items": items}
            status = 400
        else:
            flash.success(request, "Saved. Well done!")
            return redirect("portal:program", token=token)
    context.update(
        {
            # "items" would shadow dict.items in the template: the field is "done" there.
            "errors": {("done" if k == "items" else k): " ".join(v) for k, v in errors.items()},
            "error_list": [m for messages in errors.values() for m in messages],
            "values": values,
            "today": today,
            "start": services.program_start(opened.program),
            "pains": range(0, 11),
        }
    )
    return render(request, "portal/program.html", context, status=status)


def _reminders_set(request: HttpRequest, program: Program, via: str, by: Any = None) -> None:
    try:
        plan = reminders.reminder_plan_set(
            program=program,
            weekdays=request.POST.getlist("weekdays"),
            at=request.POST.get("at", ""),
            time_zone=request.POST.get("time_zone", ""),
            via=via,
            by=by,
        )
    except ValidationError as exc:
        for message in exc.messages:
            flash.error(request, message)
    else:
        flash.success(request, "Reminders saved." if plan is not None else "Reminders stopped.")


@login_not_required
@require_POST
def patient_reminders_view(request: HttpRequest, token: str) -> HttpResponse:
    """The patient chooses the days and time of their reminders (CSRF-checked form)."""
    opened = _open(request, token, AccessAction.REMINDERS)
    if isinstance(opened, HttpResponse):
        return opened
    _reminders_set(request, opened.program, reminders.via_patient())
    return redirect(reverse("portal:program", kwargs={"token": token}) + "#reminders")


@login_not_required
@require_GET
def patient_print_view(request: HttpRequest, token: str) -> HttpResponse:
    opened = _open(request, token, AccessAction.PRINT)
    if isinstance(opened, HttpResponse):
        return opened
    return render(request, "portal/print.html", _page_context(opened))


def _images(media: list[EntryMedia]) -> tuple[HandoutImage, ...]:
    images: list[HandoutImage] = []
    for row in media:
        if row.kind != MediaKind.IMAGE:
            continue
        try:
            with default_storage.open(str(row.file.name), "rb") as stream:
                data = stream.read()
        except OSError:  # a file gone from storage costs one picture, not the handout
            continue
        images.append(HandoutImage(data=data, caption=row.caption, credit=row.credit))
    return tuple(images)


def handout_of(program: Program, version: ProgramVersion) -> Handout:
    """The version as a handout: clinic name, patient's first name, items in order with
    their pictures and credit lines."""
    media = program_media(program, version)
    return Handout(
        clinic_name=program.clinic.name,
        program_title=program.title,
        patient_first_name=program.patient.first_name,
        issued_on=timezone.localdate(version.issued_at),
        version=version.number,
        items=tuple(
            HandoutItem(
                title=row["title"],
                dose=dose_text(row),
                steps=tuple(row.get("steps") or ()),
                precautions=tuple(row.get("precautions") or ()),
                notes=row.get("notes") or "",
                section=row.get("section") or "",
                images=_images(media.get(row["entry_id"], [])),
            )
            for row in version.items
        ),
    )


@login_not_required
@require_GET
def patient_handout_view(request: HttpRequest, token: str) -> HttpResponse:
    opened = _open(request, token, AccessAction.PDF)
    if isinstance(opened, HttpResponse):
        return opened
    version = services.latest_version(opened.program)
    assert version is not None
    pdf = render_handout(handout_of(opened.program, version))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = 'inline; filename="home-program.pdf"'
    return response


@login_not_required
@require_GET
def patient_media_view(
    request: HttpRequest, token: str, media_id: int
) -> HttpResponse | FileResponse:
    """A picture or video of an item of this link's program (its latest version), and of
    nothing else: another entry's or another clinic's file answers as a closed link does.
    Videos seek with range requests."""
    opened = _open(request, token, AccessAction.VIEW, log=False)
    if isinstance(opened, HttpResponse):
        return opened
    version = services.latest_version(opened.program)
    entry_ids = [row["entry_id"] for row in version.items] if version else []
    media = EntryMedia.objects.filter(
        pk=media_id, clinic_id=opened.program.clinic_id, entry_id__in=entry_ids
    ).first()
    if media is None:
        return _closed(request)
    header = request.headers.get("Range", "")
    response: HttpResponse | FileResponse
    if header:
        span = _byte_range(header, media.size)
        if span is None:
            response = HttpResponse(status=416)
            response["Content-Range"] = f"bytes */{media.size}"
            return response
        start, end = span
        with default_storage.open(str(media.file.name), "rb") as stream:
            stream.seek(start)
            data = stream.read(end - start + 1)
        response = HttpResponse(data, status=206, content_type=media.content_type)
        response["Content-Range"] = f"bytes {start}-{end}/{media.size}"
    else:
        response = FileResponse(
            default_storage.open(str(media.file.name), "rb"), content_type=media.content_type
        )
        response["Content-Length"] = str(media.size)
    response["Accept-Ranges"] = "bytes"
    response["Content-Disposition"] = "inline"
    response["Cache-Control"] = "private, max-age=300"
    return response


# --- staff ---------------------------------------------------------------------------------


@audit_read("program progress and patient links")
@require_GET
def program_patient_side_view(request: HttpRequest, program_id: int) -> HttpResponse:
    """A program's patient side: its links, the patient's progress and log, clinicians'
    notes. Audited as a view of the patient's record."""
    user = current_user(request)
    program = selectors.program_for_staff(user=user, program_id=program_id)
    today = timezone.localdate()
    return render(
        request,
        "portal/staff_program.html",
        {
            "nav": "patients",
            "program": program,
            "progress": selectors.program_progress(program=program, today=today),
            "logs": selectors.recent_logs(program=program),
            "notes": selectors.clinician_notes(program=program),
            "links": selectors.links_of(program=program)[:20],
            "expires_on": services.link_expires_on(program),
            "issued": services.latest_version(program) is not None,
            "can_edit": can_edit_programs(user),
            "new_link": request.session.pop(f"portal-new-link-{program.pk}", ""),
            "consent": active_consent(program.patient),
            **reminder_context(program),
        },
    )


@require_POST
def link_create_view(request: HttpRequest, program_id: int) -> HttpResponse:
    user = current_user(request)
    program = selectors.program_for_staff(user=user, program_id=program_id)
    require(can_edit_programs(user), "Your role cannot give patients links.")
    try:
        _link, token = services.link_create(program=program, by=user, note="made by staff")
    except ValidationError as exc:
        flash.error(request, " ".join(exc.messages))
    else:
        # Shown once on the next page (the session, not the URL, carries it there).
        request.session[f"portal-new-link-{program.pk}"] = services.link_url(token)
    return redirect("portal:staff-program", program_id=program.pk)


@require_POST
def links_revoke_view(request: HttpRequest, program_id: int) -> HttpResponse:
    user = current_user(request)
    program = selectors.program_for_staff(user=user, program_id=program_id)
    require(can_edit_programs(user), "Your role cannot revoke patients' links.")
    count = services.links_revoke(program=program, by=user)
    flash.success(request, f"Revoked {count} link(s). They now show 'contact the clinic'.")
    return redirect("portal:staff-program", program_id=program.pk)


@require_POST
def note_add_view(request: HttpRequest, program_id: int) -> HttpResponse:
    user = current_user(request)
    program = selectors.program_for_staff(user=user, program_id=program_id)
    require(can_edit_programs(user), "Your role cannot write clinicians' notes.")
    try:
        services.clinician_note_add(user=user, program=program, text=request.POST.get("text", ""))
    except ValidationError as exc:
        flash.error(request, "Note: " + " ".join(exc.messages))
    else:
        flash.success(request, "Note saved.")
    return redirect("portal:staff-program", program_id=program.pk)


@audit_read("home program flags worklist")
@require_GET
def flags_view(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    require(can_view_clinical(user), "Your role cannot see home programs.")
    today: date = timezone.localdate()
    rows = selectors.flagged_programs(user=user, today=today)
    return render(request, "portal/flags.html", {"nav": "worklists", "rows": rows, "today": today})


@require_POST
def reminders_set_view(request: HttpRequest, program_id: int) -> HttpResponse:
    user = current_user(request)
    program = selectors.program_for_staff(user=user, program_id=program_id)
    require(can_edit_programs(user), "Your role cannot set a patient's reminders.")
    _reminders_set(request, program, reminders.via_staff(), by=user)
    return redirect("portal:staff-program", program_id=program.pk)


@require_POST
def consent_view(request: HttpRequest, program_id: int) -> HttpResponse:
    """Record the patient's consent to emails (address, how), or withdraw it."""
    user = current_user(request)
    program = selectors.program_for_staff(user=user, program_id=program_id)
    require(can_edit_programs(user), "Your role cannot record consent here.")
    if request.POST.get("withdraw") == "1":
        consent = active_consent(program.patient)
        if consent is not None:
            consent_withdraw(consent=consent, via=WithdrawnVia.STAFF, by=user)
        flash.success(request, "Consent withdrawn: no more emails.")
        return redirect("portal:staff-program", program_id=program.pk)
    try:
        consent_record(
            patient=program.patient,
            address=request.POST.get("address", ""),
            how=request.POST.get("how", ""),
            recorded_by=user,
        )
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            flash.error(request, f"{name}: " + " ".join(messages))
    else:
        flash.success(request, "Consent to emails recorded.")
    return redirect("portal:staff-program", program_id=program.pk)
