"""Recovery codes are stored as keyed digests (accounts.two_factor.recovery_code_digest), and
the migration digests the codes stored in clear before it, which keep working."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django_otp.plugins.otp_static.models import StaticToken

from accounts import two_factor
from accounts.models import User
from tests.factories import UserFactory
from tests.otp import totp_device

BEFORE = [("accounts", "0006_authenticator"), ("otp_static", "0003_add_timestamps")]


@pytest.mark.django_db
def test_no_recovery_code_is_stored_and_each_still_signs_in_once():
    user = UserFactory()
    totp_device(user)
    codes = two_factor.recovery_codes_regenerate(user=user)

    stored = set(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))
    assert len(stored) == len(codes) == 10
    assert not stored & set(codes)
    assert not any(code in token for token in stored for code in codes)
    assert all(len(token) == 16 and int(token, 16) >= 0 for token in stored)

    assert two_factor.second_factor_verify(user=user, code=codes[3].upper()) is not None
    assert two_factor.second_factor_verify(user=user, code=codes[3]) is None  # used up
    assert two_factor.recovery_codes_left(user=user) == 9


@pytest.mark.django_db(transaction=True)
def test_the_migration_digests_the_codes_stored_in_clear():
    # given a user's recovery codes, stored in clear before the migration
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    user = old.get_model("accounts", "User").objects.create(username="veteran", full_name="V")
    device = old.get_model("otp_static", "StaticDevice").objects.create(
        user=user, name=two_factor.RECOVERY_DEVICE_NAME, confirmed=True
    )
    for code in ("abcdefgh", "stuvwxyz"):
        old.get_model("otp_static", "StaticToken").objects.create(device=device, token=code)

    # when the project migrates
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    # then neither code is in the database, and both still sign in, once each
    stored = set(StaticToken.objects.values_list("token", flat=True))
    assert stored == {two_factor.recovery_code_digest(c) for c in ("abcdefgh", "stuvwxyz")}
    veteran = User.objects.get(pk=user.pk)
    totp_device(veteran)
    assert two_factor.second_factor_verify(user=veteran, code="ABCD-EFGH") is not None
    assert two_factor.second_factor_verify(user=veteran, code="abcdefgh") is None
    assert two_factor.recovery_codes_left(user=veteran) == 1
