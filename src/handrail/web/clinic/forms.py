from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.core.exceptions import ValidationError
from django.utils import timezone

from handrail.web.clinic.admin_services import PAYER_FIELDS
from handrail.web.clinic.models import (
    CoverageOrder,
    Discipline,
    Patient,
    Payer,
    Relationship,
    Role,
    Sex,
    User,
)
from handrail.web.clinic.services import PATIENT_FIELDS
from handrail.web.clinic.throttle import (
    Lockout,
    client_address,
    sign_in_attempt_begin,
    sign_in_attempt_failed,
    sign_in_attempt_succeeded,
)


class ThrottledLoginForm(AuthenticationForm):
    """Django's login form behind the sign-in throttle (handrail.web.clinic.throttle): the
    attempt is counted before the password is checked, and a locked account or address is
    refused without checking it. `lockout` says which, and until when."""

    lockout: Lockout | None = None

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username") or ""
        if not username or not self.cleaned_data.get("password"):
            return super().clean()  # nothing to check: Django says which field is missing
        address = client_address(self.request) if self.request else ""
        attempt = sign_in_attempt_begin(username=username, address=address)
        if isinstance(attempt, Lockout):
            self.lockout = attempt
            raise ValidationError(_lockout_message(attempt), code="locked")
        try:
            cleaned = super().clean()
        except ValidationError:
            sign_in_attempt_failed(attempt=attempt)
            raise
        sign_in_attempt_succeeded(attempt=attempt)
        return cleaned


def _lockout_message(lockout: Lockout) -> str:
    until = timezone.localtime(lockout.until).strftime("%H:%M %Z")
    who = "this account" if lockout.scope == "account" else "your network address"
    return (
        f"Too many failed sign-ins for {who}. Signing in is paused until {until} "
        f"(about {lockout.minutes_left} min); a clinic admin can lift an account's lock "
        "sooner."
    )


class AccountPasswordForm(PasswordChangeForm):
    """Django's change-password form (the current password, the new one twice). Wrong
    current passwords count against the account's sign-in throttle like wrong sign-ins, so
    an unattended session cannot be used to guess the password."""

    def __init__(self, user: User, *args: Any, address: str = "", **kwargs: Any) -> None:
        super().__init__(user, *args, **kwargs)
        self.address = address

    def clean_old_password(self) -> str:
        attempt = sign_in_attempt_begin(username=self.user.get_username(), address=self.address)
        if isinstance(attempt, Lockout):
            raise ValidationError(_lockout_message(attempt), code="locked")
        try:
            old: str = super().clean_old_password()
        except ValidationError:
            sign_in_attempt_failed(attempt=attempt)
            raise
        sign_in_attempt_succeeded(attempt=attempt)
        return old


class TokenForm(forms.Form):
    """A sign-in code: 6 digits from the authenticator app, or (`numeric=False`) a
    recovery code."""

    token = forms.CharField(label="Code", max_length=32, strip=True)

    def __init__(self, *args: Any, numeric: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        attrs = {"autocomplete": "one-time-code", "autofocus": "autofocus", "spellcheck": "false"}
        if numeric:
            attrs["inputmode"] = "numeric"
        self.fields["token"].widget.attrs.update(attrs)
        self.fields["token"].help_text = (
            "The 6 digits your app shows now"
            if numeric
            else "The 6 digits your app shows now, or one of your recovery codes"
        )


class PasskeyNameForm(forms.Form):
    """The name of a passkey about to be added (the device it lives on, say)."""

    name = forms.CharField(
        label="Name",
        max_length=64,
        strip=True,
        help_text="Where this passkey lives, e.g. 'Front desk laptop' or 'Security key'",
    )


class PasskeyRemoveForm(forms.Form):
    """Removing a passkey asks for the password again. Wrong passwords count against the
    account's sign-in throttle like wrong sign-ins (an unattended session cannot be used to
    guess it, nor to strip a factor)."""

    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, user: User, *args: Any, address: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.address = address

    def clean_password(self) -> str:
        password: str = self.cleaned_data["password"]
        attempt = sign_in_attempt_begin(username=self.user.get_username(), address=self.address)
        if isinstance(attempt, Lockout):
            raise ValidationError(_lockout_message(attempt), code="locked")
        if not self.user.check_password(password):
            sign_in_attempt_failed(attempt=attempt)
            raise ValidationError("That is not your password.", code="password_incorrect")
        sign_in_attempt_succeeded(attempt=attempt)
        return password


class StaffPasswordForm(forms.Form):
    """A new password an admin sets for a colleague (checked against that colleague)."""

    password = forms.CharField(
        label="New password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="They must change it when they next sign in. "
        + " ".join(password_validation.password_validators_help_texts()),
    )
    password_confirm = forms.CharField(
        label="New password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args: Any, staff: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.staff = staff

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        password = cleaned.get("password")
        if password and cleaned.get("password_confirm") not in (None, password):
            self.add_error("password_confirm", "The two passwords differ.")
        return cleaned


class PatientForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Patient
        fields = list(PATIENT_FIELDS)  # what patient_create/patient_update accept
        widgets = {"birth_date": forms.DateInput(attrs={"type": "date"})}


class CoverageForm(forms.Form):
    payer = forms.ModelChoiceField(queryset=Payer.objects.none())
    member_id = forms.CharField(max_length=40, label="Member ID")
    order = forms.TypedChoiceField(choices=CoverageOrder.choices, coerce=int, initial=1)
    relationship = forms.ChoiceField(
        choices=Relationship.choices,
        initial=Relationship.SELF,
        required=False,
        label="Patient's relationship to the insured",
        help_text="Left out: self",
    )
    subscriber_first_name = forms.CharField(
        max_length=100,
        required=False,
        label="Insured's first name",
        help_text="When the patient is not the insured",
    )
    subscriber_last_name = forms.CharField(
        max_length=100, required=False, label="Insured's last name"
    )
    subscriber_birth_date = forms.DateField(
        required=False,
        label="Insured's birth date",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    subscriber_sex = forms.ChoiceField(
        choices=[("", "---------"), *Sex.choices], required=False, label="Insured's sex"
    )

    def clean_relationship(self) -> str:
        value: str = self.cleaned_data.get("relationship") or Relationship.SELF
        return value

    def __init__(self, *args: Any, payers: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["payer"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = payers


class StaffEditForm(forms.Form):
    """A colleague's account as an admin edits it; the rules live in `admin_services`."""

    first_name = forms.CharField(max_length=150)
    last_name = forms.CharField(max_length=150)
    email = forms.EmailField(required=False, label="E-mail")
    role = forms.ChoiceField(choices=Role.choices)
    discipline = forms.ChoiceField(
        choices=[("", "None"), *Discipline.choices],
        required=False,
        help_text="Therapists and assistants only",
    )
    npi = forms.CharField(
        max_length=10, required=False, label="NPI", help_text="10 digits; clinicians who bill"
    )


class StaffCreateForm(StaffEditForm):
    username = forms.CharField(max_length=150, help_text="Letters, digits and @/./+/-/_ only")
    password = forms.CharField(
        label="Initial password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=" ".join(password_validation.password_validators_help_texts()),
    )
    password_confirm = forms.CharField(
        label="Initial password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    field_order = ["username", "first_name", "last_name", "email", "role", "discipline", "npi"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        password = cleaned.get("password")
        if password and cleaned.get("password_confirm") not in (None, password):
            self.add_error("password_confirm", "The two passwords differ.")
        if password:
            # Said together with the other fields' errors; the service checks it again.
            candidate = User(
                username=cleaned.get("username", ""),
                first_name=cleaned.get("first_name", ""),
                last_name=cleaned.get("last_name", ""),
                email=cleaned.get("email", ""),
            )
            try:
                password_validation.validate_password(password, user=candidate)
            except ValidationError as exc:
                self.add_error("password", exc.messages)
        return cleaned


class PayerForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Payer
        fields = list(PAYER_FIELDS)  # what payer_add/payer_update accept
        labels = {
            "unit_rule": "Unit rule",
            "distinct_modifier": "Distinct-service modifier",
            "requires_authorization": "Requires prior authorization",
            "telehealth_allowed": "Covers telehealth",
            "assistant_cosign_required": "Assistant notes need a therapist's co-signature",
        }
        help_texts = {
            "distinct_modifier": "Put on the column-2 code of an NCCI pair when services "
            "were distinct",
        }
