"""The outbox page (staff) and the unsubscribe page (patients, no account)."""

from __future__ import annotations

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from handrail.web.audit.reads import audit_read
from handrail.web.clinic.models import Role, User
from handrail.web.clinic.views import current_user
from handrail.web.messaging import selectors
from handrail.web.messaging.models import Consent, Message, MessageStatus, WithdrawnVia
from handrail.web.messaging.services import consent_withdraw, message_retry
from handrail.web.messaging.tokens import consent_id_from_token

OUTBOX_ROLES = (Role.ADMIN, Role.THERAPIST, Role.ASSISTANT)


def _require_outbox(user: User) -> None:
    if user.role not in OUTBOX_ROLES or user.clinic_id is None:
        raise PermissionDenied("The outbox is for clinic admins and clinicians.")


@audit_read("message outbox")
@require_GET
def outbox_view(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    _require_outbox(user)
    status = request.GET.get("status", "")
    if status and status not in MessageStatus.values:
        status = ""
    return render(
        request,
        "messaging/outbox.html",
        {
            "nav": "outbox",
            "rows": selectors.outbox(user=user, status=status or None),
            "counts": selectors.outbox_counts(user=user),
            "status": status,
            "statuses": MessageStatus.choices,
        },
    )


@require_POST
def retry_view(request: HttpRequest, message_id: int) -> HttpResponse:
    user = current_user(request)
    _require_outbox(user)
    try:
        message = selectors.message_for_user(user=user, message_id=message_id)
    except Message.DoesNotExist:
        raise Http404("No such message.") from None
    try:
        message_retry(message=message, by=user)
    except ValidationError as exc:
        flash.error(request, " ".join(exc.messages))
    else:
        flash.success(request, f"The email to {message.to_address} is queued again.")
    return redirect("messaging:outbox")


def _consent_for(token: str) -> Consent | None:
    consent_id = consent_id_from_token(token)
    if consent_id is None:
        return None
    return Consent.objects.select_related("clinic").filter(id=consent_id).first()


@login_not_required
@csrf_exempt  # the signed token is the credential; mail programs post without a CSRF token
@require_http_methods(["GET", "POST"])
def unsubscribe_view(request: HttpRequest, token: str) -> HttpResponse:
    consent = _consent_for(token)
    if consent is None:
        return render(request, "messaging/unsubscribe_invalid.html", status=404)
    done = consent.withdrawn_at is not None
    if request.method == "POST" and not done:
        consent = consent_withdraw(consent=consent, via=WithdrawnVia.UNSUBSCRIBE_LINK)
        done = True
    return render(
        request,
        "messaging/unsubscribe.html",
        {"consent": consent, "done": done, "clinic": consent.clinic},
    )
