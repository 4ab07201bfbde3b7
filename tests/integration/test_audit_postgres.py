"""The audit trail on PostgreSQL: the trigger refuses UPDATE and DELETE, a tampered chain is
found, concurrent appends make one unbroken chain, and the migration chains old events."""

import io
import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, connections, transaction

from accounts.audit import audit_record
from accounts.models import AuditEvent, User
from tests.accounts.test_audit_migration import chain_events_written_before_the_migration
from tests.factories import OperationFactory, UserFactory

pytestmark = pytest.mark.integration


def verify():
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    return out.getvalue()


@pytest.fixture
def trail():
    officer = UserFactory(username="officer")
    operation = OperationFactory(slug="cocair")
    return [
        audit_record(actor=officer, action="message.sent", operation=operation, data={"n": n})
        for n in range(4)
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE accounts_auditevent SET action = 'message.read' WHERE sequence = 2",
        "DELETE FROM accounts_auditevent WHERE sequence = 2",
        "DELETE FROM accounts_auditevent",
    ],
)
def test_the_trigger_refuses_to_update_or_delete_audit_rows(trail, sql):
    assert connection.vendor == "postgresql"
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)
    assert AuditEvent.objects.count() == 4
    assert "4 audit events verified." in verify()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("sql", "found"),
    [
        ("UPDATE accounts_auditevent SET data = '{\"n\": 9}' WHERE sequence = 3", r"3 \(altered\)"),
        ("DELETE FROM accounts_auditevent WHERE sequence = 3", r"3 \(deleted\)"),
        (
            "INSERT INTO accounts_auditevent (sequence, prev_hash, hash, action, object_type,"
            " object_id, data, created_at) SELECT 5, repeat('a', 64), repeat('b', 64),"
            " 'user.logged_in', '', '', '{}', now()",
            r"5 \(inserted\)",
        ),
    ],
)
def test_verify_audit_finds_rows_tampered_with_by_someone_with_database_rights(trail, sql, found):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")  # triggers off
        cursor.execute(sql)
        cursor.execute("SET LOCAL session_replication_role = DEFAULT")
    with pytest.raises(CommandError, match=found):
        verify()


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_make_one_unbroken_chain():
    users = [UserFactory(username=f"writer{n}") for n in range(6)]
    errors = []
    start = threading.Barrier(len(users))

    def write(user_id):
        try:
            user = User.objects.get(pk=user_id)
            start.wait()
            for n in range(20):
                with transaction.atomic():
                    audit_record(actor=user, action="message.read", data={"n": n})
        except Exception as exc:  # reported below, in the test's thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(u.pk,)) for u in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert list(AuditEvent.objects.order_by("sequence").values_list("sequence", flat=True)) == (
        list(range(1, 121))
    )
    assert "120 audit events verified." in verify()


@pytest.mark.django_db(transaction=True)
def test_the_migration_chains_events_written_before_it_on_postgresql():
    chain_events_written_before_the_migration()
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM accounts_auditevent")
