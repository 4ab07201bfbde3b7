"""TOTP secrets are encrypted at rest (accounts.Authenticator), and the migration moves the
plaintext secrets of django-otp's own devices in."""

import time

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django_otp.oath import TOTP

from accounts import two_factor
from accounts.models import Authenticator
from tests.factories import UserFactory

BEFORE = [("accounts", "0005_operation_admin"), ("otp_totp", "0003_add_timestamps")]


def code_now(key_hex: str) -> str:
    totp = TOTP(bytes.fromhex(key_hex), 30, 0, 6, 0)
    totp.time = time.time()
    return f"{totp.token():06d}"


@pytest.mark.django_db
def test_the_secret_is_stored_encrypted_and_still_verifies_codes():
    # given a user enrolling an authenticator
    user = UserFactory()
    device = two_factor.totp_enrolment_device(user=user)
    secret = Authenticator.objects.get(pk=device.pk).key
    assert len(bytes.fromhex(secret)) == 20
    # then the database holds no part of the secret
    with connection.cursor() as cursor:
        cursor.execute("SELECT key FROM accounts_authenticator WHERE id = %s", [device.pk])
        stored = cursor.fetchone()[0]
    assert secret not in stored and secret[:8] not in stored
    # and the code the user's phone shows confirms it, once
    assert two_factor.totp_enrolment_confirm(user=user, code=code_now(secret)) is not None
    assert two_factor.second_factor_verify(user=user, code=code_now(secret)) is None  # replayed
    assert two_factor.totp_device_of(user=user).pk == device.pk


@pytest.mark.django_db(transaction=True)
def test_the_migration_encrypts_the_secrets_of_existing_devices():
    # given a confirmed django-otp TOTP device, from before the migration
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    user = old.get_model("accounts", "User").objects.create(username="veteran", full_name="V")
    secret = "3132333435363738393031323334353637383930"
    old.get_model("otp_totp", "TOTPDevice").objects.create(
        user=user, name="authenticator", confirmed=True, key=secret, last_t=7
    )

    # when the project migrates
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    # then the device is an authenticator whose secret reads back, and nowhere in clear
    device = Authenticator.objects.get(user_id=user.pk)
    assert (device.key, device.confirmed, device.last_t) == (secret, True, 7)
    with connection.cursor() as cursor:
        cursor.execute("SELECT key FROM accounts_authenticator")
        assert secret not in cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM otp_totp_totpdevice")
        assert cursor.fetchone()[0] == 0
    assert two_factor.second_factor_verify(user=device.user, code=code_now(secret)) == device
