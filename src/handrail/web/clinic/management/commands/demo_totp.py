"""`manage.py demo_totp USERNAME`: the code a demo user's authenticator app would show now.

For trying the demo clinic without a phone: its admin and biller must sign in with a
second factor. Sign in, open the set-up page (or reach the code step), run this, type the
code. Only for users of the synthetic demo clinic: a real clinic's codes live on its
staff's phones, and this command refuses to print them.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from handrail.web.clinic.management.commands.load_demo import DEMO_CLINIC
from handrail.web.clinic.models import User


class Command(BaseCommand):
    help = "Print the current two-factor code of a demo clinic user (synthetic demo only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        username = str(options["username"])
        user = User.objects.filter(username=username).select_related("clinic").first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        if user.clinic is None or user.clinic.name != DEMO_CLINIC:
            raise CommandError(
                f"{username} is not a user of the demo clinic ({DEMO_CLINIC}); real users "
                "read their codes from their own authenticator app."
            )
        # The confirmed authenticator, else the one being set up right now.
        device = TOTPDevice.objects.filter(user=user).order_by("-confirmed", "-pk").first()
        if device is None:
            raise CommandError(
                f"{username} has no authenticator yet: sign in as {username} and open "
                "/account/two-factor/ (admins and billers are taken there), then run this again."
            )
        app = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        left = device.step - int(app.time - device.t0) % device.step
        self.stdout.write(f"{app.token():0{device.digits}d}  (valid for {left} more seconds)")
