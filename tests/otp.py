"""Second-factor helpers for tests.

``tests/conftest.py`` patches the test client's ``force_login`` (and ``aforce_login``) so that it
produces what the app's login flow produces: a session verified by a second factor (a
confirmed TOTP device of the user, recorded in the session as django-otp does). Plain
``client.force_login(user)`` therefore keeps working everywhere. ``force_login_unverified``
gives the session of a login that skipped the second factor (what the app must refuse).
"""

from __future__ import annotations

import time

from django.test.client import ClientMixin
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP

from accounts.models import Authenticator

# Django's own, captured before tests/conftest.py replaces them.
ORIGINAL_FORCE_LOGIN = ClientMixin.force_login
ORIGINAL_AFORCE_LOGIN = ClientMixin.aforce_login

# Test devices accept codes a few steps ahead, so that one user can log in several times
# within 30 seconds (each code is accepted once) without waiting for the clock.
TEST_DEVICE_TOLERANCE = 5


def totp_device(user) -> Authenticator:
    """The user's confirmed authenticator (created for the test when missing)."""
    device = Authenticator.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = Authenticator.objects.create(
            user=user, name="test", confirmed=True, tolerance=TEST_DEVICE_TOLERANCE
        )
    return device


def totp_code(device: Authenticator, *, step_offset: int = 0) -> str:
    """The code the user's phone shows now (``step_offset`` steps later)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + step_offset * device.step
    return f"{totp.token():0{device.digits}d}"


def unused_totp_code(device: Authenticator) -> str:
    """A code the device has not accepted yet: the current one, or a later step when the
    current one was used (within the device's tolerance)."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    offset = max(0, device.last_t + 1 - totp.t())
    if offset > device.tolerance:
        raise AssertionError("more logins of one user within 30 seconds than the tolerance")
    return totp_code(device, step_offset=offset)


def verify_client_session(client, user) -> None:
    """Mark the test client's (signed-in) session as verified by the user's authenticator."""
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = totp_device(user).persistent_id
    session.save()


def force_login_verified(self, user, backend=None):
    ORIGINAL_FORCE_LOGIN(self, user, backend)
    verify_client_session(self, user)


async def aforce_login_verified(self, user, backend=None):
    from asgiref.sync import sync_to_async

    await ORIGINAL_AFORCE_LOGIN(self, user, backend)
    await sync_to_async(verify_client_session)(self, user)


def force_login_unverified(client, user) -> None:
    """A signed-in session without a second factor (Django's own force_login)."""
    ORIGINAL_FORCE_LOGIN(client, user)
