"""The second factor of every user (django-otp): one TOTP device, and single-use recovery codes.

A user without a confirmed TOTP device enrols at the next login: the app shows a QR code
(rendered here as SVG, no external service) and the secret, the user confirms a first code,
and receives recovery codes, shown once and stored only as keyed digests
(``recovery_code_digest``: a copy of the database signs no one in). A TOTP code is accepted
once (django-otp keeps the last time step used, ``last_t``); a recovery code is deleted when
used. Wrong codes are throttled by django-otp (1, 2, 4 ... seconds) and counted as failed logins
by django-axes (``accounts.login_flow``). An administrator resets a user's second factor: the
user enrols again at the next login.
"""

from __future__ import annotations

from datetime import datetime

import segno
from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

from aircop.crypto.blind_index import blind_index
from aircop.exceptions import Conflict

from .audit import audit_record
from .models import Authenticator, User

TOTP_DEVICE_NAME = "authenticator"
RECOVERY_DEVICE_NAME = "recovery"
# django-otp's token column holds 16 characters: the first 16 hex digits (64 bits) of the
# digest. A code has 40 random bits; without the index key no digest can be tried offline.
RECOVERY_DIGEST_LENGTH = 16


def recovery_code_digest(code: str) -> str:
    """What is stored of a (normalised) recovery code: its HMAC under the blind index key."""
    return blind_index(code, purpose="recovery-code")[:RECOVERY_DIGEST_LENGTH]


# --- reads -----------------------------------------------------------------------------


def totp_device_of(*, user: User) -> Authenticator | None:
    """The user's confirmed authenticator, or None (the user must enrol)."""
    return Authenticator.objects.filter(user=user, confirmed=True).first()


def recovery_codes_left(*, user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def qr_code_svg(uri: str) -> str:
    """An inline SVG QR code of ``uri`` (no image service, no script)."""
    return segno.make(uri, error="m").svg_inline(
        scale=5, dark="#000", light="#fff", title=_("QR code for your authenticator app")
    )


def normalise_code(code: str) -> str:
    """What people type: spaces and dashes in codes, capitals in recovery codes."""
    return "".join(code.split()).replace("-", "").lower()


def verify_wait_until(device: Device) -> datetime | None:
    """When a throttled device accepts a code again, or None when it accepts one now."""
    allowed, data = device.verify_is_allowed()
    if allowed:
        return None
    return (data or {}).get("locked_until")


# --- writes ----------------------------------------------------------------------------


@transaction.atomic
def totp_enrolment_device(*, user: User) -> Authenticator:
    """The unconfirmed authenticator the user is enrolling (the same one on each reload, so a
    code scanned from a previous page still works)."""
    User.objects.select_for_update().get(pk=user.pk)
    if Authenticator.objects.filter(user=user, confirmed=True).exists():
        raise Conflict(_("A second factor is already set up."), field="code")
    device = Authenticator.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = Authenticator.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return device


@transaction.atomic
def totp_enrolment_confirm(*, user: User, code: str) -> tuple[Authenticator, list[str]] | None:
    """Confirm the enrolling authenticator with its first code; returns it with fresh recovery
    codes (to show once), or None when the code is wrong."""
    User.objects.select_for_update().get(pk=user.pk)
    if Authenticator.objects.filter(user=user, confirmed=True).exists():
        raise Conflict(_("A second factor is already set up."), field="code")
    device = (
        Authenticator.objects.select_for_update()
        .filter(user=user, confirmed=False)
        .order_by("pk")
        .first()
    )
    if device is None or not device.verify_token(normalise_code(code)):
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    Authenticator.objects.filter(user=user, confirmed=False).delete()
    codes = _recovery_codes_replace(user=user)
    audit_record(actor=user, action="two_factor.enrolled", target=user)
    return device, codes


@transaction.atomic
def second_factor_verify(*, user: User, code: str) -> Device | None:
    """The device that accepts ``code`` (a TOTP code, else a recovery code, which is used up),
    or None. Each TOTP code is accepted once."""
    code = normalise_code(code)
    totp = Authenticator.objects.select_for_update().filter(user=user, confirmed=True).first()
    if totp is None:
        return None
    if code.isdigit() and len(code) == totp.digits:
        return totp if totp.verify_token(code) else None
    recovery = (
        StaticDevice.objects.select_for_update()
        .filter(user=user, confirmed=True, name=RECOVERY_DEVICE_NAME)
        .first()
    )
    if recovery is None or not recovery.verify_token(recovery_code_digest(code)):
        # A wrong recovery code slows the authenticator too: one throttle for the person.
        totp.throttle_increment()
        return None
    audit_record(
        actor=user,
        action="two_factor.recovery_code_used",
        target=user,
        data={"left": recovery.token_set.count()},
    )
    return recovery


@transaction.atomic
def recovery_codes_regenerate(*, user: User) -> list[str]:
    """New recovery codes for a user who has a second factor; the old ones stop working."""
    if totp_device_of(user=user) is None:
        raise Conflict(_("Set up the authenticator first."), field="code")
    codes = _recovery_codes_replace(user=user)
    audit_record(actor=user, action="two_factor.recovery_codes_renewed", target=user)
    return codes


@transaction.atomic
def second_factor_reset(*, actor: User, user: User) -> None:
    """An administrator removes the user's authenticator and recovery codes: the user's
    verified sessions end (their device is gone) and the next login enrols again."""
    User.objects.select_for_update().get(pk=user.pk)
    Authenticator.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    audit_record(
        actor=actor, action="two_factor.reset", target=user, data={"username": user.username}
    )


def _recovery_codes_replace(*, user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
    codes: set[str] = set()
    while len(codes) < settings.AIRCOP_RECOVERY_CODES:
        codes.add(StaticToken.random_token())
    StaticToken.objects.bulk_create(
        [StaticToken(device=device, token=recovery_code_digest(c)) for c in codes]
    )
    return sorted(codes)
