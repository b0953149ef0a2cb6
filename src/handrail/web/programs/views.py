"""Pages for the library, the program builder, issuing, versions and templates.

Thin: parse, call one service or selector, render. Reading a program is audited against its
patient like every other view of the record. Programs are clinical content: front desk does
not see them (can_view_clinical); clinicians of the case's discipline change them
(services.can_edit_programs).
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from handrail.library import DOSE_LIMITS, EQUIPMENT, REGIONS
from handrail.web.audit.models import AuditAction
from handrail.web.audit.reads import audit_read
from handrail.web.audit.services import audit_record
from handrail.web.care.selectors import case_get
from handrail.web.clinic.models import User
from handrail.web.clinic.permissions import can_view_clinical, require
from handrail.web.clinic.views import current_user
from handrail.web.messaging.models import Channel
from handrail.web.programs import selectors, services
from handrail.web.programs.handout import program_handout_pdf, template_handout_pdf
from handrail.web.programs.media import media_add, media_delete
from handrail.web.programs.models import (
    DOSE_FIELDS,
    EntryKind,
    EntrySource,
    LibraryEntry,
    Program,
    TeachingMethod,
)

METHODS = frozenset(TeachingMethod.values)
CODES = ("97535", "97537", "97110", "97112", "97530")
DOSE_LABELS = {
    "sets": "Sets",
    "reps": "Reps",
    "hold_seconds": "Hold (s)",
    "times_per_day": "Times a day",
    "days_per_week": "Days a week",
    "minutes": "Minutes",
}


def _clinical(request: HttpRequest) -> User:
    user = current_user(request)
    require(can_view_clinical(user), "Your role cannot see home programs.")
    return user


def error_lines(exc: ValidationError) -> list[str]:
    """A service's errors as "field: message" lines."""
    if not hasattr(exc, "error_dict"):
        return [" ".join(exc.messages)]
    return [
        (f"{name}: " if name != "__all__" else "") + " ".join(error.messages)
        for name, errors in exc.error_dict.items()
        for error in errors
    ]


def _flash_errors(request: HttpRequest, exc: ValidationError) -> None:
    for line in error_lines(exc):
        messages.error(request, line)


def _query(request: HttpRequest) -> selectors.LibraryQuery:
    get = request.GET
    kind = get.get("kind", "")
    code = get.get("code", "")
    region = get.get("region", "")
    equipment = get.get("equipment", "")
    return selectors.LibraryQuery(
        words=get.get("q", "")[:200],
        kind=kind if kind in EntryKind.values else "",
        region=region if region in REGIONS else "",
        equipment=equipment if equipment in EQUIPMENT else "",
        code=code if code in CODES else "",
    )


def _search_context(user: User, query: selectors.LibraryQuery) -> dict[str, Any]:
    return {
        "query": query,
        "results": selectors.library_page(user=user, query=query) if not query.empty else [],
        "favourites": selectors.favourite_entries(user=user),
        "recent": selectors.recent_entries(user=user),
        "favourite_ids": selectors.favourite_ids(user=user),
        "kinds": EntryKind.choices,
        "regions": REGIONS,
        "equipment": EQUIPMENT,
        "codes": CODES,
    }


# --- library ----------------------------------------------------------------------------


@require_GET
def library_view(request: HttpRequest) -> HttpResponse:
    user = _clinical(request)
    context = _search_context(user, _query(request))
    context["nav"] = "library"
    context["can_edit_library"] = services.can_edit_library(user)
    return render(request, "programs/library.html", context)


@require_GET
def entry_view(request: HttpRequest, entry_id: int) -> HttpResponse:
    user = _clinical(request)
    entry = selectors.entry_get(user=user, entry_id=entry_id)
    return render(
        request,
        "programs/entry.html",
        {
            "entry": entry,
            "nav": "library",
            "dose": services.dose_text({n: getattr(entry, n) for n in DOSE_FIELDS}),
            "favourite": entry.pk in selectors.favourite_ids(user=user),
            "can_edit_library": services.can_edit_library(user),
            "media": selectors.entry_media(user=user, entry=entry),
            "image_limit": settings.PROGRAM_IMAGE_MAX_BYTES // (1024 * 1024),
            "video_limit": settings.PROGRAM_VIDEO_MAX_BYTES // (1024 * 1024),
        },
    )


@require_POST
def media_upload_view(request: HttpRequest, entry_id: int) -> HttpResponse:
    """Upload a picture or video to an entry (multipart, field "file")."""
    user = _clinical(request)
    entry = selectors.entry_get(user=user, entry_id=entry_id)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, "file: choose a picture or video to upload.")
        return redirect("programs:entry", entry_id=entry.pk)
    try:
        media_add(
            user=user,
            entry=entry,
            stream=upload,
            size=upload.size,
            caption=request.POST.get("caption", ""),
            credit=request.POST.get("credit", ""),
        )
    except ValidationError as exc:
        _flash_errors(request, exc)
        response = redirect("programs:entry", entry_id=entry.pk)
        return response
    messages.success(request, "File added.")
    return redirect("programs:entry", entry_id=entry.pk)


@require_POST
def media_delete_view(request: HttpRequest, media_id: int) -> HttpResponse:
    user = _clinical(request)
    media = selectors.media_get(user=user, media_id=media_id)
    entry_id = media.entry_id
    media_delete(user=user, media=media)
    messages.success(request, "File removed.")
    return redirect("programs:entry", entry_id=entry_id)


RANGE_CHUNK = 4 * 1024 * 1024  # the most one range answer sends; players ask for the rest


def _byte_range(header: str, size: int) -> tuple[int, int] | None:
    """(first, last) of a single "bytes=" range (RFC 9110 §14.1.2), or None when it cannot be
    satisfied; several ranges are answered with the first."""
    spec = header.strip()
    if not spec.startswith("bytes="):
        return None
    first_spec = spec[6:].split(",")[0].strip()
    start_text, _, end_text = first_spec.partition("-")
    try:
        if start_text == "":
            length = int(end_text)
            if length <= 0:
                return None
            start, end = max(size - length, 0), size - 1
        else:
            start = int(start_text)
            end = int(end_text) if end_text else size - 1
    except ValueError:
        return None
    if start < 0 or start >= size or end < start:
        return None
    return start, min(end, size - 1, start + RANGE_CHUNK - 1)


@require_GET
def media_file_view(request: HttpRequest, media_id: int) -> HttpResponse | FileResponse:
    """The file itself, to the clinic's users only; videos seek with range requests."""
    user = _clinical(request)
    media = selectors.media_get(user=user, media_id=media_id)
    size = media.size
    header = request.headers.get("Range", "")
    if header:
        span = _byte_range(header, size)
        if span is None:
            refused = HttpResponse(status=416)
            refused["Content-Range"] = f"bytes */{size}"
            return refused
        start, end = span
        with default_storage.open(str(media.file.name), "rb") as stream:
            stream.seek(start)
            data = stream.read(end - start + 1)
        response: HttpResponse | FileResponse = HttpResponse(
            data, status=206, content_type=media.content_type
        )
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    else:
        response = FileResponse(
            default_storage.open(str(media.file.name), "rb"), content_type=media.content_type
        )
        response["Content-Length"] = str(size)
    response["Accept-Ranges"] = "bytes"
    response["Content-Disposition"] = "inline"
    response["Cache-Control"] = "private, max-age=300"
    return response


@require_POST
def entry_favourite_view(request: HttpRequest, entry_id: int) -> HttpResponse:
    user = _clinical(request)
    entry = selectors.entry_get(user=user, entry_id=entry_id)
    now = services.favourite_toggle(user=user, entry=entry)
    messages.success(request, "Added to favourites." if now else "Removed from favourites.")
    return redirect(_safe_next(request, reverse("programs:entry", args=[entry.pk])))


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next", "")
    # Only a path of this site: never an absolute or protocol-relative address.
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


@require_POST
def entry_copy_view(request: HttpRequest, entry_id: int) -> HttpResponse:
    user = _clinical(request)
    entry = selectors.entry_get(user=user, entry_id=entry_id)
    try:
        copy = services.library_entry_copy(user=user, entry=entry)
    except ValidationError as exc:
        _flash_errors(request, exc)
        return redirect("programs:entry", entry_id=entry.pk)
    messages.success(request, "Copied to your clinic's library: change it as you need.")
    return redirect("programs:entry-edit", entry_id=copy.pk)


def _entry_data(request: HttpRequest) -> dict[str, Any]:
    post = request.POST
    data: dict[str, Any] = {
        name: post.get(name, "")
        for name in ("title", "kind", "summary", "position", "billing_code")
    }
    for name in ("steps", "cues", "precautions", "topics"):
        data[name] = post.get(name, "")
    for name in ("regions", "disciplines", "equipment"):
        data[name] = post.getlist(name)
    for name in DOSE_FIELDS:
        data[name] = post.get(name, "")
    return data


def _entry_form(
    request: HttpRequest, entry: LibraryEntry | None, values: dict[str, Any], errors: list[str]
) -> HttpResponse:
    return render(
        request,
        "programs/entry_form.html",
        {
            "entry": entry,
            "values": values,
            "errors": errors,
            "nav": "library",
            "kinds": EntryKind.choices,
            "codes": CODES,
            "regions": REGIONS,
            "equipment": EQUIPMENT,
            "disciplines": ("PT", "OT", "SLP"),
            "dose_fields": [(n, DOSE_LABELS[n], DOSE_LIMITS[n]) for n in DOSE_FIELDS],
        },
        status=400 if errors else 200,
    )


def _lines(values: dict[str, Any]) -> dict[str, Any]:
    shown = dict(values)
    for name in ("steps", "cues", "precautions", "topics"):
        if isinstance(shown.get(name), list):
            shown[name] = "\n".join(shown[name])
    return shown


@require_http_methods(["GET", "POST"])
def entry_create_view(request: HttpRequest) -> HttpResponse:
    user = _clinical(request)
    require(services.can_edit_library(user), "Your role cannot add library entries.")
    if request.method == "POST":
        data = _entry_data(request)
        try:
            entry = services.library_entry_create(user=user, data=data)
        except ValidationError as exc:
            return _entry_form(request, None, data, error_lines(exc))
        messages.success(request, "Entry added to your clinic's library.")
        return redirect("programs:entry", entry_id=entry.pk)
    values = {"kind": "exercise", "billing_code": "97110", "regions": [], "equipment": []}
    return _entry_form(request, None, values, [])


@require_http_methods(["GET", "POST"])
def entry_edit_view(request: HttpRequest, entry_id: int) -> HttpResponse:
    user = _clinical(request)
    entry = selectors.entry_get(user=user, entry_id=entry_id)
    require(services.can_edit_library(user), "Your role cannot change library entries.")
    if entry.is_builtin:
        messages.error(request, "Built-in entries cannot be changed: copy it first.")
        return redirect("programs:entry", entry_id=entry.pk)
    if request.method == "POST":
        data = _entry_data(request)
        try:
            services.library_entry_update(user=user, entry=entry, data=data)
        except ValidationError as exc:
            return _entry_form(request, entry, data, error_lines(exc))
        messages.success(request, "Entry saved.")
        return redirect("programs:entry", entry_id=entry.pk)
    return _entry_form(request, entry, _lines(services.entry_form_values(entry)), [])


# --- programs ---------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def program_create_view(request: HttpRequest, case_id: int) -> HttpResponse:
    user = _clinical(request)
    case = case_get(user=user, case_id=case_id)
    require(services.can_edit_programs(user), "Only therapists and assistants build programs.")
    templates = selectors.template_list(user=user)
    errors: list[str] = []
    if request.method == "POST":
        template = None
        template_id = request.POST.get("template", "")
        try:
            if template_id:
                if not template_id.isdigit():
                    raise ValidationError({"template": "Pick a template from the list."})
                template = selectors.template_get(user=user, template_id=int(template_id))
            program = services.program_create(
                user=user, case=case, title=request.POST.get("title", ""), template=template
            )
        except ValidationError as exc:
            errors = error_lines(exc)
        else:
            return redirect("programs:builder", program_id=program.pk)
    return render(
        request,
        "programs/program_create.html",
        {
            "case": case,
            "patient": case.patient,
            "templates": templates,
            "errors": errors,
            "title": request.POST.get("title", ""),
        },
        status=400 if errors else 200,
    )


def _program_context(user: User, program: Program) -> dict[str, Any]:
    items = list(selectors.program_items(program=program))
    latest = program.versions.order_by("-number").first()
    snapshot = [services.item_snapshot(item) for item in items]
    return {
        "program": program,
        "case": program.case,
        "patient": program.patient,
        "items": [
            {
                "item": item,
                "dose": services.dose_text(row),
                "fields": [
                    (name, DOSE_LABELS[name], getattr(item, name), DOSE_LIMITS[name])
                    for name in DOSE_FIELDS
                ],
            }
            for item, row in zip(items, snapshot, strict=True)
        ],
        "sections": program.sections.all(),
        "latest": latest,
        "unissued": services.snapshot_changes(latest.items, snapshot) if latest else [],
        "can_edit": _can_edit(user, program),
    }


def _can_edit(user: User, program: Program) -> bool:
    return services.can_edit_programs(user) and user.discipline == program.case.discipline


@audit_read("home program")
@require_GET
def program_builder_view(request: HttpRequest, program_id: int) -> HttpResponse:
    user = _clinical(request)
    program = selectors.program_get(user=user, program_id=program_id)
    context = _program_context(user, program)
    context.update(_search_context(user, _query(request)))
    return render(request, "programs/builder.html", context)


def _builder(program: Program, anchor: str = "") -> HttpResponse:
    url = reverse("programs:builder", args=[program.pk])
    return redirect(url + (f"#{anchor}" if anchor else ""))


@require_POST
def item_add_view(request: HttpRequest, program_id: int) -> HttpResponse:
    user = _clinical(request)
    program = selectors.program_get(user=user, program_id=program_id)
    data: dict[str, Any] = {"entry_id": request.POST.get("entry_id", "")}
    for name in DOSE_FIELDS:
        if request.POST.get(name, "") != "":
            data[name] = request.POST[name]
    try:
        item = services.program_item_add(
            user=user, program=program, item=services.item_input(data)
        )
    except ValidationError as exc:
        _flash_errors(request, exc)
        return _builder(program)
    messages.success(request, f"Added {item.entry.title}.")
    return _builder(program, f"item-{item.pk}")


@require_POST
def item_update_view(request: HttpRequest, program_id: int, item_id: int) -> HttpResponse:
    user = _clinical(request)
    program = selectors.program_get(user=user, program_id=program_id)
    item = selectors.item_get(program=program, item_id=item_id)
    data: dict[str, Any] = {name: request.POST.get(name, "") for name in DOSE_FIELDS}
    data["notes"] = request.POST.get("notes", "")
    data["section"] = request.POST.get("section", "")
    try:
        services.program_item_update(user=user, item=item, data=data)
    except ValidationError as exc:
        messages.error(request, f"{item.entry.title}: " + "; ".join(error_lines(exc)))
    else:
        messages.success(request, f"Saved {item.entry.title}.")
    return _builder(program, f"item-{item.pk}")


@require_POST
def item_remove_view(request: HttpRequest, program_id: int, item_id: int) -> HttpResponse:
    user = _clinical(request)
    program = selectors.program_get(user=user, program_id=program_id)
    item = selectors.item_get(program=program, item_id=item_id)
    services.program_item_remove(user=user, item=item)
    messages.success(request, f"Removed {item.entry.title}.")
    return _builder(program)


@require_POST
def item_move_view(request: HttpRequest, program_id: int, item_id: int) -> HttpResponse:
    """The keyboard way to reorder: Move up / Move down buttons, plain form posts."""
    user = _clinical(request)
    program = selectors.program_get(user=user, program_id=program_id)
    item = selectors.item_get(program=program, item_id=item_id)
    offset = {"up": -1, "down": 1}.get(request.POST.get("direction", ""), 0)
    try:
        services.program_item_move(user=user, item=item, offset=offset)
    except ValidationError as exc:
        _flash_errors(request, exc)
    return _builder(program, f"item-{item.pk}")


@require_POST
def program_reorder_view(request: HttpRequest, program_id: int) -> HttpResponse:
    """Drag and drop posts the new order as JSON {"order": [item ids]}; answers JSON."""
    user = _clinical(request)
    program = selectors.program_get(user=user, program_id=program_id)
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return JsonResponse({"errors": {"order": 'Send JSON: {"order": [ids]}.'}}, status=400)
    if not isinstance(body, dict) or set(body) - {"order"}:
        return JsonResponse({"errors": {"body": "Send only the field order."}}, status=400)
    order = body.get("order")
    if not isinstance(order, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) for i in order
    ):
        return JsonResponse({"errors": {"order": "Give a list of item ids."}}, status=400)
    try:
        services.program_reorder(user=user, program=program, item_ids=order)
    except ValidationError as exc:
        return JsonResponse({"errors": exc.message_dict}, status=400)
    except PermissionDenied as exc:
        return JsonResponse({"errors": {"program": str(exc)}}, status=403)
    return JsonResponse({"order": order})


@require_POST
def section_add_view(request: HttpRequest, program_id: int) -> HttpResponse:
    user = _clinical(request)
    program = selectors.program_get(user=user, program_id=program_id)
    try:
        section = services.program_section_add(
            user=user, program=program, title=request.POST.get("title", "")
        )
    except ValidationError as exc:
        _flash_errors(request, exc)
    else:
        messages.success(request, f"Section {section.title!r} added: put items in it.")
    return _builder(program)


def _visit_choice(request: HttpRequest, program: Program) -> tuple[Any, list[Any]]:
    visits = services.issuable_visits(program=program)
    raw = request.POST.get("visit_id", request.GET.get("visit_id", ""))
    if raw in ("", "none"):
        return None, visits
    chosen = next((v for v in visits if str(v.pk) == raw), None)
    if chosen is None:
        raise ValidationError({"visit_id": "Pick a draft note of this program's case."})
    return chosen, visits


def _seen_version(request: HttpRequest) -> int | None:
    """The program version the issue page showed; None when not sent (older pages)."""
    value = request.POST.get("version", "").strip()
    if not value.isdigit():
        if value:
            raise ValidationError({"version": "Reload the page and issue again."})
        return None
    return int(value)


@require_http_methods(["GET", "POST"])
def program_issue_view(request: HttpRequest, program_id: int) -> HttpResponse:
    """Issue during a visit (the instruction goes on its note, billable when new) or outside
    one (sent, not billable: the page says why)."""
    user = _clinical(request)
    program = selectors.program_get(user=user, program_id=program_id)
    require(_can_edit(user, program), "Only clinicians of the case's discipline issue it.")
    errors: list[str] = []
    try:
        visit, visits = _visit_choice(request, program)
    except ValidationError as exc:
        errors = error_lines(exc)
        visit, visits = None, services.issuable_visits(program=program)
    if request.method == "POST" and not errors:
        minutes = {
            key.removeprefix("minutes_"): value
            for key in request.POST
            if key.startswith("minutes_") and (value := request.POST.get(key, "").strip())
        }
        try:
            version = services.program_issue(
                user=user,
                program=program,
                visit=visit,
                teaching_methods=request.POST.getlist("teaching_methods"),
                minutes=minutes,
                seen_version=_seen_version(request),
            )
        except ValidationError as exc:
            errors = error_lines(exc)
        else:
            where = "on the note" if version.billable else "not billable"
            messages.success(request, f"Issued version {version.number} ({where}).")
            if _patient_has_no_way_in(program):
                messages.info(
                    request,
                    "The patient has no link to this program yet: make one on its Patient "
                    "side (it is shown once), or record their consent to email so that "
                    "each issue sends them one.",
                )
            return redirect("programs:versions", program_id=program.pk)
    else:
        audit_record(
            user=user,
            action=AuditAction.VIEW,
            obj=program,
            patient=program.patient,
            detail="issue",
        )
    preview = services.issue_preview(program=program, during_visit=visit is not None)
    lines = [
        {"code": line.code, "titles": [preview.titles[k] for k in line.entry_keys]}
        for line in preview.event.lines
    ]
    return render(
        request,
        "programs/issue.html",
        {
            "program": program,
            "patient": program.patient,
            "case": program.case,
            "visits": visits,
            "visit": visit,
            "preview": preview,
            "lines": lines,
            "unbilled": [preview.titles.get(k, k) for k in preview.event.unbilled],
            "methods": TeachingMethod.choices,
            "chosen_methods": request.POST.getlist("teaching_methods")
            or ["demonstration", "return_demonstration", "written_handout"],
            "errors": errors,
        },
        status=400 if errors else 200,
    )


def _patient_has_no_way_in(program: Program) -> bool:
    """No working link to the program, and no email consent that would send one."""
    if program.patient_links.filter(revoked_at__isnull=True).exists():
        return False
    return not program.patient.consents.filter(
        channel=Channel.EMAIL, withdrawn_at__isnull=True
    ).exists()


@audit_read("program versions")
@require_GET
def program_versions_view(request: HttpRequest, program_id: int) -> HttpResponse:
    user = _clinical(request)
    program = selectors.program_get(user=user, program_id=program_id)
    versions = [
        {
            "version": v,
            "rows": [dict(row, dose=services.dose_text(row)) for row in v.items],
            "methods": [
                TeachingMethod(m).label.lower() for m in v.teaching_methods if m in METHODS
            ],
        }
        for v in selectors.program_versions(program=program)
    ]
    return render(
        request,
        "programs/versions.html",
        {
            "program": program,
            "patient": program.patient,
            "case": program.case,
            "versions": versions,
        },
    )


@audit_read("program handout")
@require_GET
def program_handout_view(request: HttpRequest, program_id: int) -> HttpResponse:
    """The patient's handout PDF: the last issued version (or the draft, marked as such)."""
    user = _clinical(request)
    program = selectors.program_get(user=user, program_id=program_id)
    response = HttpResponse(program_handout_pdf(program), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="home-program-{program.pk}.pdf"'
    return response


@audit_read("untaught programs worklist")
@require_GET
def untaught_view(request: HttpRequest) -> HttpResponse:
    user = _clinical(request)
    programs = list(selectors.untaught_programs(user=user))
    return render(request, "programs/untaught.html", {"programs": programs, "nav": "worklists"})


# --- templates --------------------------------------------------------------------------


@require_GET
def template_list_view(request: HttpRequest) -> HttpResponse:
    user = _clinical(request)
    return render(
        request,
        "programs/templates.html",
        {
            "templates": selectors.template_list(user=user).prefetch_related("items__entry"),
            "nav": "library",
            "can_edit_library": services.can_edit_library(user),
        },
    )


@require_POST
def template_from_program_view(request: HttpRequest, program_id: int) -> HttpResponse:
    user = _clinical(request)
    program = selectors.program_get(user=user, program_id=program_id)
    try:
        template = services.template_from_program(
            user=user,
            program=program,
            title=request.POST.get("title", ""),
            description=request.POST.get("description", ""),
        )
    except ValidationError as exc:
        _flash_errors(request, exc)
        return _builder(program)
    messages.success(request, f"Template {template.title!r} saved.")
    return redirect("programs:templates")


@require_POST
def template_delete_view(request: HttpRequest, template_id: int) -> HttpResponse:
    user = _clinical(request)
    template = selectors.template_get(user=user, template_id=template_id)
    services.template_delete(user=user, template=template)
    messages.success(request, f"Template {template.title!r} removed.")
    return redirect("programs:templates")


@require_GET
def template_handout_view(request: HttpRequest, template_id: int) -> HttpResponse:
    """A template as a blank handout: lines for the name, date, doses and notes."""
    user = _clinical(request)
    template = selectors.template_get(user=user, template_id=template_id)
    response = HttpResponse(template_handout_pdf(template), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="template-{template.pk}.pdf"'
    return response


def entry_source_label(entry: LibraryEntry) -> str:
    return EntrySource(entry.source).label
