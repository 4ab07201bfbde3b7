"""Management commands: seed_demo and issue_token."""

import io
from base64 import b32encode
from datetime import date

import pytest
from django.core.management import CommandError, call_command

from accounts import two_factor
from accounts.lifecycle import operations_advance
from accounts.models import Authenticator, Membership, Operation, User
from accounts.selectors import user_for_token
from messaging.models import Message

pytestmark = pytest.mark.django_db


def run(*args, **options):
    out = io.StringIO()
    call_command(*args, stdout=out, **options)
    return out.getvalue()


def test_seed_demo_creates_cocair_and_a_separate_operation_and_prints_logins(settings):
    settings.DEBUG = True
    out = run("seed_demo", password="demo-pass-123")
    cocair = Operation.objects.get(slug="cocair")
    assert cocair.name == "COCAIR VI"
    # Running today, so that the scheduled lifecycle leaves it active.
    assert cocair.start_date < date.today() < cocair.end_date
    assert cocair.status == "active"
    operations_advance()
    cocair.refresh_from_db()
    assert cocair.status == "active"
    airports = set(
        Membership.objects.filter(operation=cocair).values_list("user__airport", flat=True)
    )
    assert {"DSS", "LOS", "GRU", "LFW", "BKO", "RAI", "ACC", "ABJ", "BRU"} <= airports
    assert Operation.objects.filter(slug="caribe").exists()
    assert "ocu.brussels" in out and "demo-pass-123" in out
    assert User.objects.get(username="dakar.customs").check_password("demo-pass-123")
    assert Message.objects.filter(operation=cocair).exists()


def test_seed_demo_is_idempotent(settings):
    settings.DEBUG = True
    run("seed_demo")
    counts = (User.objects.count(), Membership.objects.count(), Message.objects.count())
    run("seed_demo")
    assert (User.objects.count(), Membership.objects.count(), Message.objects.count()) == counts


def test_seed_demo_refuses_without_debug_unless_forced(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError):
        run("seed_demo")
    assert not Operation.objects.exists()
    run("seed_demo", force=True)
    assert Operation.objects.filter(slug="cocair").exists()


def test_issue_token_prints_a_working_token():
    user = User.objects.create_user(username="script", full_name="Reporting script")
    secret = run("issue_token", "script").strip()
    assert user_for_token(secret=secret) == user


def test_issue_token_for_unknown_user_is_a_clear_error():
    with pytest.raises(CommandError, match="No active user"):
        run("issue_token", "nobody")


def test_seed_demo_gives_each_demo_user_an_authenticator_whose_key_it_prints(settings):
    settings.DEBUG = True
    out = run("seed_demo")
    device = Authenticator.objects.get(user__username="dakar.customs", confirmed=True)
    assert b32encode(device.bin_key).decode() in out
    run("seed_demo")  # the same key on every run: the tester's app keeps working
    assert Authenticator.objects.get(user__username="dakar.customs").pk == device.pk

    code = run("demo_totp_code", "dakar.customs").strip()
    assert two_factor.second_factor_verify(user=device.user, code=code) == device


def test_demo_totp_code_refuses_without_debug(settings):
    settings.DEBUG = True
    run("seed_demo")
    settings.DEBUG = False
    with pytest.raises(CommandError):
        run("demo_totp_code", "dakar.customs")
