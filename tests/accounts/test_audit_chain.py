"""The audit trail's hash chain: built on every append, verified by `verify_audit`, and never
updated nor deleted by the application."""

import io
from contextlib import contextmanager
from itertools import pairwise

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.models.deletion import ProtectedError

from accounts.audit import audit_record
from accounts.audit.chain import GENESIS_HASH, event_hash
from accounts.models import AppendOnlyError, AuditEvent, Operation, User
from tests.factories import OperationFactory, UserFactory

pytestmark = pytest.mark.django_db


def verify(*args):
    out = io.StringIO()
    call_command("verify_audit", *args, stdout=out)
    return out.getvalue()


@contextmanager
def as_attacker():
    """Raw SQL with the database's own protection off, as someone with rights on the database
    would do it (PostgreSQL: the append-only trigger switched off for this transaction)."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # triggers off (needs a superuser)
            cursor.execute("SET LOCAL session_replication_role = replica")
        yield cursor
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = DEFAULT")


@pytest.fixture
def trail():
    """Five events by one officer in one operation."""
    officer = UserFactory(username="officer")
    operation = OperationFactory(slug="cocair")
    return [
        audit_record(
            actor=officer,
            action="message.sent",
            operation=operation,
            target=operation,
            data={"n": n, "note": "Café 🛫", "nested": {"b": [1, True, None], "a": 0.5}},
        )
        for n in range(5)
    ]


def test_each_event_links_to_the_one_before_and_hashes_its_content(trail):
    events = list(AuditEvent.objects.order_by("sequence"))
    assert [e.sequence for e in events] == [1, 2, 3, 4, 5]
    assert events[0].prev_hash == GENESIS_HASH
    for before, after in pairwise(events):
        assert after.prev_hash == before.hash
    for event in events:  # as read back from the database
        assert event.hash == event_hash(**event.chain_fields())
    assert events[2].data["nested"]["a"] == "0.5"  # floats are kept as text (see chain.py)


def test_verify_audit_reports_a_sound_chain_with_its_count_and_head(trail):
    out = verify()
    assert "5 audit events verified." in out
    assert f"Head: 5:{trail[-1].hash}" in out
    assert "intact" in out


def test_verify_audit_on_an_empty_trail():
    assert "0 audit events verified." in verify()


def test_verify_audit_detects_an_updated_row(trail):
    with as_attacker() as cursor:
        cursor.execute("UPDATE accounts_auditevent SET action = 'message.read' WHERE sequence = 3")
    with pytest.raises(CommandError, match=r"event 3 \(altered\)") as error:
        verify()
    assert error.value.returncode == 1


def test_verify_audit_detects_a_deleted_row(trail):
    with as_attacker() as cursor:
        cursor.execute("DELETE FROM accounts_auditevent WHERE sequence = 2")
    out = io.StringIO()
    with pytest.raises(CommandError, match=r"event 2 \(deleted\): event\(s\) 2 missing"):
        call_command("verify_audit", stdout=out)
    assert "1 audit events verified." in out.getvalue()


def test_verify_audit_detects_an_inserted_row(trail):
    """The attacker knows the algorithm: makes room at 3, forges a well-hashed event there."""
    second = AuditEvent.objects.get(sequence=2)
    forged = {
        "sequence": 3,
        "prev_hash": second.hash,
        "actor_id": second.actor_id,
        "operation_id": second.operation_id,
        "action": "message.sent",
        "object_type": "",
        "object_id": "",
        "data": {},
        "created_at": second.created_at,
    }
    with as_attacker() as cursor:
        cursor.execute(
            "UPDATE accounts_auditevent SET sequence = sequence + 1000 WHERE sequence >= 3"
        )
        cursor.execute(
            "UPDATE accounts_auditevent SET sequence = sequence - 999 WHERE sequence >= 1003"
        )
        cursor.execute(
            "INSERT INTO accounts_auditevent (sequence, prev_hash, hash, actor_id, operation_id,"
            " action, object_type, object_id, data, created_at)"
            " VALUES (%s, %s, %s, %s, %s, %s, '', '', '{}', %s)",
            [
                3,
                second.hash,
                event_hash(**forged),
                second.actor_id,
                second.operation_id,
                "message.sent",
                second.created_at,
            ],
        )
    out = io.StringIO()
    with pytest.raises(CommandError, match=r"event 3 \(inserted\): event 3 was inserted"):
        call_command("verify_audit", stdout=out)
    assert "2 audit events verified." in out.getvalue()


def test_verify_audit_detects_a_row_appended_without_the_chain(trail):
    with as_attacker() as cursor:
        cursor.execute(
            "INSERT INTO accounts_auditevent (sequence, prev_hash, hash, action, object_type,"
            " object_id, data, created_at) VALUES (6, %s, %s, 'user.logged_in', '', '', '{}',"
            " %s)",
            ["f" * 64, "e" * 64, trail[0].created_at],
        )
    with pytest.raises(CommandError, match=r"event 6 \(inserted\)"):
        verify()


def test_verify_audit_head_detects_events_removed_from_the_end(trail):
    head = f"4:{trail[3].hash}"
    assert "Event 4 is still the one recorded." in verify("--head", head)
    with as_attacker() as cursor:
        cursor.execute("DELETE FROM accounts_auditevent WHERE sequence >= 4")
    with pytest.raises(CommandError, match=r"event 4 \(deleted\)"):
        verify("--head", head)


def test_the_model_refuses_to_update_or_delete_an_event(trail):
    event = AuditEvent.objects.get(sequence=1)
    event.action = "message.read"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(sequence=1).update(action="message.read")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.bulk_create([AuditEvent(action="x")])
    with pytest.raises(AppendOnlyError):  # outside the chain
        AuditEvent.objects.create(action="message.sent")
    assert "5 audit events verified." in verify()


def test_an_audited_user_or_operation_cannot_be_deleted_an_unaudited_one_can(trail):
    with pytest.raises(ProtectedError):
        User.objects.get(username="officer").delete()
    with pytest.raises(ProtectedError):
        Operation.objects.get(slug="cocair").delete()
    UserFactory(username="never-acted").delete()
    OperationFactory(slug="never-used").delete()
    assert "5 audit events verified." in verify()


def test_the_admin_explains_why_an_audited_user_cannot_be_deleted(client, trail):
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(superuser)
    officer = User.objects.get(username="officer")
    page = client.get(f"/admin/accounts/user/{officer.pk}/delete/")
    assert page.status_code == 200
    assert "Cannot delete user" in page.content.decode()
    client.post(f"/admin/accounts/user/{officer.pk}/delete/", {"post": "yes"})
    assert User.objects.filter(username="officer").exists()
