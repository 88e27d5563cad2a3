"""``tongban totp USERNAME``: print the current TOTP code of a staff user's device, for clicking through the demo.

Refused unless ``TONGBAN_DEBUG`` is on or ``TONGBAN_DEMO=1`` is set: on a real deployment nobody but the
staff member's phone should know their codes.
"""

import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tongban.identity.selectors import user_get_by_login


def demo_mode():
    return bool(settings.DEBUG) or os.environ.get("TONGBAN_DEMO", "") == "1"


class Command(BaseCommand):
    help = "Print the current TOTP code of a staff user (demo only: needs TONGBAN_DEBUG or TONGBAN_DEMO=1)."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        if not demo_mode():
            raise CommandError(
                "Refused: `tongban totp` works only in the demo (set TONGBAN_DEMO=1 or TONGBAN_DEBUG=1)."
            )
        user = user_get_by_login(username)
        if user is None:
            raise CommandError(f"No user {username!r}.")
        device = TOTPDevice.objects.filter(user=user).order_by("-confirmed", "id").first()
        if device is None:
            raise CommandError(f"{username} has no TOTP device yet: sign in once to set one up.")
        code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift)
        self.stdout.write(f"{code:0{device.digits}d}")
