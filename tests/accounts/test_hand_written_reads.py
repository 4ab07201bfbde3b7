"""The reads every request makes, written in SQL (aircop.rows): the same rule and the same
instances as the ORM's. Here on SQLite; on PostgreSQL, every API request and send of the
integration tier goes through them."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.http import Http404
from django.utils import timezone

from accounts.members import share_lock_operation
from accounts.models import ApiToken, Membership, OperationStatus, Role
from accounts.selectors import membership_for, token_for_secret
from accounts.services import api_token_create, api_token_revoke
from aircop.rows import columns, instances
from messaging.models import Message
from messaging.routing import Targets
from messaging.services import message_send
from tests.factories import OperationFactory, member

pytestmark = pytest.mark.django_db


def field_values(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def test_a_token_is_read_with_its_user_as_the_orm_reads_them(officer):
    token, secret = api_token_create(user=officer.user, name="script")

    found = token_for_secret(secret=secret)

    orm = ApiToken.objects.select_related("user").get(pk=token.pk)
    assert field_values(found) == field_values(orm)
    assert field_values(found.user) == field_values(orm.user)
    assert found.user.full_name == officer.user.full_name
    assert found.expires_at.tzinfo is not None


@pytest.mark.parametrize("case", ["revoked", "expired", "deactivated", "blocked", "unknown", ""])
def test_no_token_for_a_revoked_or_expired_secret_nor_for_an_unusable_user(officer, case):
    token, secret = api_token_create(user=officer.user, name="script")
    user = officer.user
    if case == "revoked":
        api_token_revoke(user=user, token_id=token.pk)
    elif case == "expired":
        ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(1))
    elif case == "deactivated":
        user.is_active = False
        user.save(update_fields=["is_active"])
    elif case == "blocked":
        user.blocked_at = timezone.now()
        user.save(update_fields=["blocked_at"])
    elif case == "unknown":
        secret = secret[:-4] + "abcd"
    else:
        secret = ""

    assert token_for_secret(secret=secret) is None


def test_a_membership_is_read_with_its_operation_as_the_orm_reads_them(cocair, ocu):
    found = membership_for(user=ocu.user, slug="cocair")

    orm = Membership.objects.select_related("operation").get(pk=ocu.pk)
    assert field_values(found) == field_values(orm)
    assert field_values(found.operation) == field_values(orm.operation)
    assert found.operation.name == "COCAIR VI"
    assert found.user is ocu.user
    assert found.role == Role.OCU


def test_no_membership_outside_the_operation_after_leaving_or_once_archived(cocair, officer):
    other = member(OperationFactory(slug="elsewhere"), Role.OCU)
    with pytest.raises(Http404):
        membership_for(user=other.user, slug="cocair")
    with pytest.raises(Http404):
        membership_for(user=officer.user, slug="no-such-operation")

    cocair.status = OperationStatus.ARCHIVED
    cocair.save(update_fields=["status"])
    with pytest.raises(Http404):
        membership_for(user=officer.user, slug="cocair")

    cocair.status = OperationStatus.ACTIVE
    cocair.save(update_fields=["status"])
    Membership.objects.filter(pk=officer.pk).update(active=False)
    with pytest.raises(Http404):
        membership_for(user=officer.user, slug="cocair")


def test_no_membership_for_a_deactivated_user(cocair, officer):
    officer.user.is_active = False
    with pytest.raises(Http404):
        membership_for(user=officer.user, slug="cocair")


def test_the_send_lock_reads_the_senders_role_or_none(cocair, ocu, officer):
    outsider = member(OperationFactory(slug="elsewhere"), Role.OCU)
    with transaction.atomic():
        status, membership = share_lock_operation(cocair, member=ocu.user)
        assert status == OperationStatus.ACTIVE
        assert (membership.pk, membership.role) == (ocu.pk, Role.OCU)
        assert membership.user is ocu.user and membership.operation is cocair
        assert share_lock_operation(cocair, member=outsider.user) == (status, None)

    Membership.objects.filter(pk=officer.pk).update(active=False)
    with transaction.atomic():
        assert share_lock_operation(cocair, member=officer.user)[1] is None


def test_rows_keep_an_encrypted_field_encrypted_until_read(cocair, ocu, officer):
    message = message_send(
        sender=ocu.user,
        operation=cocair,
        subject="Passenger on AF718",
        body="Control at the gate.",
        targets=Targets(officers=True),
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns(Message, 'x')} FROM {Message._meta.db_table} x WHERE x.id = %s",  # noqa: S608
            [message.pk],
        )
        (found,) = instances(cursor.fetchone(), (Message,))

    assert found.subject == "Passenger on AF718"
    assert found.body == "Control at the gate."
    assert found.created_at == Message.objects.get(pk=message.pk).created_at
