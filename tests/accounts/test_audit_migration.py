"""The migration that builds the chain over the audit events written before it."""

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from accounts.models import AuditEvent

BEFORE = [("accounts", "0002_operation_ack_minutes_normal_and_more")]


def chain_events_written_before_the_migration():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    User, Operation = old.get_model("accounts", "User"), old.get_model("accounts", "Operation")
    OldEvent = old.get_model("accounts", "AuditEvent")
    user = User.objects.create(username="veteran", full_name="V")
    operation = Operation.objects.create(
        name="Old", slug="old", start_date="2016-01-01", end_date="2016-01-31"
    )
    for n, action in enumerate(["message.sent", "seizure.recorded", "api_token.created"]):
        OldEvent.objects.create(
            actor=user,
            operation=operation if n < 2 else None,
            action=action,
            data={"n": n, "ratio": 0.25},
            created_at=timezone.now(),
        )
    executor = MigrationExecutor(connection)  # the graph again, then everything forward
    executor.migrate(executor.loader.graph.leaf_nodes())

    events = list(AuditEvent.objects.order_by("sequence"))
    assert [(e.sequence, e.action) for e in events] == [
        (1, "message.sent"),
        (2, "seizure.recorded"),
        (3, "api_token.created"),
    ]
    assert events[0].data == {"n": 0, "ratio": "0.25"}
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    assert "3 audit events verified." in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_existing_events_are_chained_in_the_order_they_were_written():
    chain_events_written_before_the_migration()
