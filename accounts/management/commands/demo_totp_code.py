"""The code a demo user's authenticator shows now: for testers without a phone (demo only)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import TOTP

from accounts.models import User
from accounts.two_factor import totp_device_of


class Command(BaseCommand):
    help = "Print the current second-factor code of a user (only when DEBUG is on: the demo)."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        if not settings.DEBUG:
            raise CommandError("DEBUG is off: second-factor codes come from the user's phone.")
        user = User.objects.filter(username=username).first()
        device = totp_device_of(user=user) if user is not None else None
        if device is None:
            raise CommandError(
                f"{username} has no authenticator: they set one up at their next login."
            )
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        self.stdout.write(f"{totp.token():0{device.digits}d}")
