"""Billing pages (billers and clinic admins; 403 for other roles, 404 for another clinic's
records): billing identity, payers' ids and contracts, clinicians' NPIs, the charge master,
claims by state, a claim, and 837P batches with their download. Thin: parse a form, call one
service, render."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Model, Prefetch
from django.forms import BaseForm
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from handrail.web.audit.models import AuditAction
from handrail.web.audit.reads import audit_read
from handrail.web.audit.services import audit_change, audit_record
from handrail.web.billing import batches, claims, selectors
from handrail.web.billing.forms import (
    ChargeForm,
    ClinicBillingForm,
    ClinicianBillingForm,
    ContractForm,
    ContractRateForm,
    CorrectForm,
    ExportForm,
    PayerBillingForm,
    ThroughForm,
)
from handrail.web.billing.models import (
    ChargeEntry,
    ClaimState,
    ClinicBilling,
    ClinicianBilling,
    Contract,
    PayerBilling,
)
from handrail.web.billing.permissions import can_bill
from handrail.web.billing.services import change_state
from handrail.web.clinic.models import Clinic, Payer, Role, User
from handrail.web.clinic.permissions import clinic_id_of, require
from handrail.web.clinic.views import current_user
from handrail.web.forms import form_apply_errors

INVALID_STATUS = 422
PAGE_SIZE = 100
NOT_BILLER = "Only billers and clinic admins work with billing."


def _biller(request: HttpRequest) -> User:
    user = current_user(request)
    clinic_id_of(user)
    require(can_bill(user), NOT_BILLER)
    return user


def _clinic(user: User) -> Clinic:
    clinic = user.clinic
    if clinic is None:
        raise PermissionDenied("Your account belongs to no clinic.")
    return clinic


def _audit(user: User, obj: Model, created: bool, detail: str) -> None:
    """Billing settings changes go in the clinic's audit log (no patient)."""
    action = AuditAction.CREATE if created else AuditAction.UPDATE
    audit_record(user=user, action=action, obj=obj, patient=None, detail=detail)


def _changed(form: BaseForm) -> str:
    return "changed " + ", ".join(form.changed_data) if form.changed_data else "saved unchanged"


def _payer(user: User, payer_id: int) -> Payer:
    payer = Payer.objects.filter(clinic_id=clinic_id_of(user), pk=payer_id).first()
    if payer is None:
        raise Http404("No such payer")
    return payer


# Settings --------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def settings_view(request: HttpRequest) -> HttpResponse:
    """The clinic's billing identity, with links to payers, clinicians and charges."""
    user = _biller(request)
    identity = ClinicBilling.objects.filter(clinic_id=clinic_id_of(user)).first()
    form = ClinicBillingForm(request.POST or None, instance=identity)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            saved = form.save(commit=False)
            saved.clinic_id = clinic_id_of(user)
            saved.save()
            _audit(user, saved, identity is None, f"billing identity: {_changed(form)}")
            messages.success(request, "Saved the clinic's billing identity.")
            return redirect("billing:settings")
        status = INVALID_STATUS
    payers = Payer.objects.filter(clinic_id=clinic_id_of(user)).select_related("billing")
    clinicians = User.objects.filter(
        clinic_id=clinic_id_of(user), role__in=[Role.THERAPIST, Role.ASSISTANT], is_active=True
    ).select_related("billing")
    return render(
        request,
        "billing/settings.html",
        {"form": form, "payers": payers, "clinicians": clinicians, "nav": "billing"},
        status=status,
    )


@require_http_methods(["GET", "POST"])
def payer_view(request: HttpRequest, payer_id: int) -> HttpResponse:
    """A payer's electronic id and claim rules, and its contracts."""
    user = _biller(request)
    payer = _payer(user, payer_id)
    billing = PayerBilling.objects.filter(payer=payer).first()
    form = PayerBillingForm(request.POST or None, instance=billing, prefix="payer")
    contract_form = ContractForm(prefix="contract")
    status = 200
    if request.method == "POST":
        if form.is_valid():
            saved = form.save(commit=False)
            saved.payer = payer
            saved.save()
            _audit(user, saved, billing is None, f"{payer.name} billing: {_changed(form)}")
            messages.success(request, f"Saved {payer.name}'s billing.")
            return redirect("billing:payer", payer_id=payer.pk)
        status = INVALID_STATUS
    return _payer_page(request, payer, form, contract_form, status)


def _payer_page(
    request: HttpRequest,
    payer: Payer,
    form: PayerBillingForm,
    contract_form: ContractForm,
    status: int,
    rate_forms: dict[int, ContractRateForm] | None = None,
) -> HttpResponse:
    contracts = list(
        Contract.objects.filter(payer=payer)
        .prefetch_related(Prefetch("rates"))
        .order_by("-effective_from")
    )
    forms = rate_forms or {}
    rows = [
        (contract, forms.get(contract.pk) or ContractRateForm(prefix=f"rate{contract.pk}"))
        for contract in contracts
    ]
    return render(
        request,
        "billing/payer.html",
        {
            "payer": payer,
            "form": form,
            "contract_form": contract_form,
            "contracts": rows,
            "nav": "billing",
        },
        status=status,
    )


@require_POST
def contract_add_view(request: HttpRequest, payer_id: int) -> HttpResponse:
    user = _biller(request)
    payer = _payer(user, payer_id)
    form = ContractForm(request.POST, prefix="contract")
    if form.is_valid():
        if Contract.objects.filter(
            payer=payer, effective_from=form.cleaned_data["effective_from"]
        ).exists():
            form.add_error("effective_from", "This payer already has a contract from that date.")
        else:
            contract = form.save(commit=False)
            contract.payer = payer
            contract.clinic_id = payer.clinic_id
            contract.save()
            _audit(user, contract, True, str(contract))
            messages.success(request, "Added the contract.")
            return redirect("billing:payer", payer_id=payer.pk)
    billing = PayerBilling.objects.filter(payer=payer).first()
    return _payer_page(
        request, payer, PayerBillingForm(instance=billing, prefix="payer"), form, INVALID_STATUS
    )


@require_POST
def contract_rate_add_view(request: HttpRequest, payer_id: int, contract_id: int) -> HttpResponse:
    user = _biller(request)
    payer = _payer(user, payer_id)
    contract = Contract.objects.filter(payer=payer, pk=contract_id).first()
    if contract is None:
        raise Http404("No such contract")
    form = ContractRateForm(request.POST, prefix=f"rate{contract.pk}")
    if form.is_valid():
        if contract.rates.filter(
            code=form.cleaned_data["code"], effective_from=form.cleaned_data["effective_from"]
        ).exists():
            form.add_error("code", "This code already has a rate from that date.")
        else:
            rate = form.save(commit=False)
            rate.contract = contract
            rate.save()
            _audit(user, rate, True, f"{payer.name} rate {rate.code} {rate.rate}")
            messages.success(request, f"Added the rate for {rate.code}.")
            return redirect("billing:payer", payer_id=payer.pk)
    billing = PayerBilling.objects.filter(payer=payer).first()
    return _payer_page(
        request,
        payer,
        PayerBillingForm(instance=billing, prefix="payer"),
        ContractForm(prefix="contract"),
        INVALID_STATUS,
        {contract.pk: form},
    )


@require_http_methods(["GET", "POST"])
def clinician_view(request: HttpRequest, staff_id: int) -> HttpResponse:
    """A clinician's NPI (check digit verified) and taxonomy, for the rendering provider."""
    user = _biller(request)
    clinician = User.objects.filter(
        clinic_id=clinic_id_of(user), pk=staff_id, role__in=[Role.THERAPIST, Role.ASSISTANT]
    ).first()
    if clinician is None:
        raise Http404("No such clinician")
    current = ClinicianBilling.objects.filter(user=clinician).first()
    initial = {"npi": clinician.npi, "taxonomy": current.taxonomy if current else ""}
    form = ClinicianBillingForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            with transaction.atomic():
                User.objects.filter(pk=clinician.pk).update(npi=form.cleaned_data["npi"])
                ClinicianBilling.objects.update_or_create(
                    user=clinician, defaults={"taxonomy": form.cleaned_data["taxonomy"]}
                )
                _audit(
                    user,
                    clinician,
                    False,
                    audit_change(f"{clinician} NPI", clinician.npi, form.cleaned_data["npi"]),
                )
            messages.success(request, f"Saved {clinician}'s NPI.")
            return redirect("billing:settings")
        status = INVALID_STATUS
    return render(
        request,
        "billing/clinician.html",
        {"form": form, "clinician": clinician, "nav": "billing"},
        status=status,
    )


@require_http_methods(["GET", "POST"])
def charges_view(request: HttpRequest) -> HttpResponse:
    """The charge master: a charge per code with effective dates."""
    user = _biller(request)
    form = ChargeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            exists = ChargeEntry.objects.filter(
                clinic_id=clinic_id_of(user),
                code=form.cleaned_data["code"],
                effective_from=form.cleaned_data["effective_from"],
            ).exists()
            if exists:
                form.add_error("effective_from", "This code already has a charge from that date.")
            else:
                entry = form.save(commit=False)
                entry.clinic_id = clinic_id_of(user)
                entry.save()
                _audit(user, entry, True, f"charge {entry}")
                messages.success(request, f"Added the charge for {entry.code}.")
                return redirect("billing:charges")
        status = INVALID_STATUS
    entries = ChargeEntry.objects.filter(clinic_id=clinic_id_of(user))
    return render(
        request,
        "billing/charges.html",
        {"form": form, "entries": entries, "nav": "billing"},
        status=status,
    )


# Claims ----------------------------------------------------------------------------------


@audit_read("claim list")
def claims_view(request: HttpRequest) -> HttpResponse:
    """Claims by state, and the form that makes claims from signed notes."""
    user = _biller(request)
    state = request.GET.get("state", "")
    if state and state not in ClaimState.values:
        state = ""
    counts = selectors.claim_counts(user=user)
    page = Paginator(selectors.claim_list(user=user, state=state), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "billing/claims.html",
        {
            "claims": page,
            "states": [(value, label, counts[value]) for value, label in ClaimState.choices],
            "state": state,
            "through_form": ThroughForm(initial={"through": timezone.localdate()}),
            "nav": "claims",
        },
    )


@require_POST
def claims_make_view(request: HttpRequest) -> HttpResponse:
    user = _biller(request)
    form = ThroughForm(request.POST)
    if not form.is_valid():
        messages.error(request, "through: give a date like 2026-11-16.")
        return redirect("billing:claims")
    made = claims.claims_from_visits(
        user=user,
        clinic=_clinic(user),
        through=form.cleaned_data["through"],
    )
    ready = sum(1 for c in made.claims if c.state == ClaimState.READY)
    messages.success(
        request,
        f"Made {len(made.claims)} claim(s): {ready} ready, {len(made.claims) - ready} held.",
    )
    for text in made.skipped[:20]:
        messages.warning(request, text)
    return redirect("billing:claims")


@audit_read("claim page")
def claim_view(request: HttpRequest, claim_id: int) -> HttpResponse:
    user = _biller(request)
    claim = selectors.claim_get(user=user, claim_id=claim_id)
    return render(
        request,
        "billing/claim.html",
        {
            "claim": claim,
            "detail": selectors.claim_detail(claim),
            "events": claim.events.select_related("by"),
            "correct_form": CorrectForm(initial={"payer_claim_number": claim.payer_claim_number}),
            "correctable": claim.state in claims.CORRECTABLE,
            "nav": "claims",
        },
    )


def _claim_action(request: HttpRequest, claim_id: int, action: str) -> HttpResponse:
    user = _biller(request)
    claim = selectors.claim_get(user=user, claim_id=claim_id)
    try:
        if action == "acknowledge":
            claims.claim_acknowledge(user=user, claim=claim)
            messages.success(request, "Warnings acknowledged: the claim is ready.")
        elif action == "rescrub":
            fresh = claims.claim_rescrub(user=user, claim=claim)
            messages.success(request, f"Scrubbed again: {fresh.get_state_display().lower()}.")
        elif action == "close":
            reason = request.POST.get("reason", "").strip()[:300]
            if not reason:
                raise ValidationError({"reason": "Say why the claim is closed."})
            change_state(claim, ClaimState.CLOSED, by=user, reason=reason)
            messages.success(request, "Closed the claim.")
        elif action == "correct":
            form = CorrectForm(request.POST)
            if not form.is_valid():
                raise ValidationError({name: errors[0] for name, errors in form.errors.items()})
            new = claims.claim_correct(
                user=user,
                claim=claim,
                frequency=form.cleaned_data["frequency"],
                payer_claim_number=form.cleaned_data["payer_claim_number"],
            )
            messages.success(
                request, f"Made {new.control_number} ({new.get_frequency_display()})."
            )
            return redirect("billing:claim", claim_id=new.pk)
    except ValidationError as exc:
        for name, errors in exc.message_dict.items():
            for text in errors:
                messages.error(request, f"{name}: {text}")
    return redirect("billing:claim", claim_id=claim.pk)


@require_POST
def claim_acknowledge_view(request: HttpRequest, claim_id: int) -> HttpResponse:
    return _claim_action(request, claim_id, "acknowledge")


@require_POST
def claim_rescrub_view(request: HttpRequest, claim_id: int) -> HttpResponse:
    return _claim_action(request, claim_id, "rescrub")


@require_POST
def claim_close_view(request: HttpRequest, claim_id: int) -> HttpResponse:
    return _claim_action(request, claim_id, "close")


@require_POST
def claim_correct_view(request: HttpRequest, claim_id: int) -> HttpResponse:
    return _claim_action(request, claim_id, "correct")


# Batches ---------------------------------------------------------------------------------


def batches_view(request: HttpRequest) -> HttpResponse:
    """837P batches (payer, counts and totals; no patient data) and the export form."""
    user = _biller(request)
    form = ExportForm(clinic_id=clinic_id_of(user), today=timezone.localdate())
    return _batches_page(request, user, form, 200)


def _batches_page(request: HttpRequest, user: User, form: ExportForm, status: int) -> HttpResponse:
    ready = selectors.claim_counts(user=user)[ClaimState.READY]
    return render(
        request,
        "billing/batches.html",
        {
            "form": form,
            "batches": selectors.batch_list(user=user)[:100],
            "ready": ready,
            "nav": "batches",
        },
        status=status,
    )


@require_POST
def batch_export_view(request: HttpRequest) -> HttpResponse:
    user = _biller(request)
    form = ExportForm(request.POST, clinic_id=clinic_id_of(user), today=timezone.localdate())
    if form.is_valid():
        try:
            batch = batches.batch_create(
                user=user, payer=form.cleaned_data["payer"], through=form.cleaned_data["through"]
            )
        except ValidationError as exc:
            form_apply_errors(form, exc)
        else:
            messages.success(
                request,
                f"Exported batch {batch.isa_control:09d}: {batch.claim_count} claim(s), "
                f"{batch.total_charge}.",
            )
            return redirect("billing:batches")
    return _batches_page(request, user, form, INVALID_STATUS)


def batch_download_view(request: HttpRequest, batch_id: int) -> HttpResponse:
    """The stored 837P file (each patient in it gets a VIEW event)."""
    user = _biller(request)
    batch = selectors.batch_get(user=user, batch_id=batch_id)
    response = HttpResponse(
        batches.batch_x12(user=user, batch=batch), content_type="text/plain; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{selectors.batch_filename(batch)}"'
    return response
