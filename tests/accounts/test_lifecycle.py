"""The life of an operation: planned → active on its start date → closed after its end date
(scheduled task, or by hand) → archived; what each status allows."""

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.urls import reverse

from accounts.lifecycle import operation_set_status, operations_advance
from accounts.models import AuditEvent, Operation, OperationStatus, Role
from accounts.tasks import operations_advance_task
from aircop.exceptions import Conflict, DomainError
from messaging.routing import Targets
from messaging.services import message_send
from seizures.models import Seizure
from seizures.services import seizure_create
from tests.factories import OperationFactory, member
from tests.seizures.test_register import seizure_input

pytestmark = pytest.mark.django_db

Status = OperationStatus


def at(day: date, hour: int = 12):
    """Freeze the clock on ``day`` (UTC, the project's time zone)."""
    return time_machine.travel(datetime(day.year, day.month, day.day, hour, tzinfo=UTC), tick=False)


@pytest.fixture
def planned():
    """COCAIR VII runs from 9 to 17 December 2026 (both days included)."""
    operation = OperationFactory(
        slug="cocair-7",
        start_date=date(2026, 12, 9),
        end_date=date(2026, 12, 17),
        status=Status.PLANNED,
    )
    ocu = member(operation, Role.OCU, "BE", "BRU", username="ocu7")
    officer = member(operation, Role.OFFICER, "SN", "DSS", username="officer7")
    return operation, ocu, officer


def send(membership, operation):
    return message_send(
        sender=membership.user,
        operation=operation,
        subject="Day report",
        body="All quiet.",
        targets=Targets(officers=True),
    )


def status_of(operation) -> str:
    return Operation.objects.get(pk=operation.pk).status


def test_an_operation_stays_planned_before_its_start_date(planned):
    operation, *_ = planned
    with at(date(2026, 12, 8), hour=23):
        assert operations_advance() == []
    assert status_of(operation) == Status.PLANNED


def test_an_operation_becomes_active_on_its_start_date_then_closed_after_its_end_date(planned):
    operation, *_ = planned
    with at(date(2026, 12, 9), hour=0):
        changes = operations_advance()
    assert [(c.slug, c.previous, c.status) for c in changes] == [
        ("cocair-7", Status.PLANNED, Status.ACTIVE)
    ]
    with at(date(2026, 12, 17), hour=23):  # its last day: still active
        assert operations_advance() == []
    assert status_of(operation) == Status.ACTIVE
    with at(date(2026, 12, 18), hour=0):
        operations_advance()
    assert status_of(operation) == Status.CLOSED
    events = AuditEvent.objects.filter(action="operation.status_changed").order_by("id")
    assert [(e.data["from"], e.data["to"], e.data["automatic"]) for e in events] == [
        ("planned", "active", True),
        ("active", "closed", True),
    ]
    assert all(e.actor is None and e.operation_id == operation.pk for e in events)


def test_a_planned_operation_whose_dates_passed_is_closed_directly(planned):
    operation, *_ = planned
    with at(date(2027, 1, 5)):
        operations_advance()
    assert status_of(operation) == Status.CLOSED


def test_the_scheduled_task_is_idempotent(planned):
    _operation, *_ = planned
    with at(date(2026, 12, 10)):
        first = operations_advance_task.apply().get()
        second = operations_advance_task.apply().get()
    assert first == [{"slug": "cocair-7", "from": "planned", "to": "active"}]
    assert second == []
    assert AuditEvent.objects.filter(action="operation.status_changed").count() == 1


def test_the_task_leaves_archived_and_closed_operations_alone(planned):
    operation, *_ = planned
    Operation.objects.filter(pk=operation.pk).update(status=Status.ARCHIVED)
    with at(date(2026, 12, 10)):
        assert operations_advance() == []
    assert status_of(operation) == Status.ARCHIVED


def test_the_beat_schedule_runs_the_lifecycle_task(settings):
    from aircop.celery import app

    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "accounts.operations_advance" in tasks
    app.loader.import_default_modules()
    assert "accounts.operations_advance" in app.tasks


def test_sending_works_while_active_and_is_refused_once_closed_by_date(planned):
    operation, ocu, _officer = planned
    with at(date(2026, 12, 12)):
        operations_advance()
        operation.refresh_from_db()
        assert send(ocu, operation).pk
    with at(date(2026, 12, 18)):
        operations_advance()
        operation.refresh_from_db()
        with pytest.raises(Conflict) as refused:
            send(ocu, operation)
    assert refused.value.code == "operation_closed"
    assert "closed" in refused.value.message


def test_a_closed_operation_refuses_messages_on_the_page_and_the_api(client, planned):
    operation, ocu, _officer = planned
    with at(date(2026, 12, 20)):
        operations_advance()
        client.force_login(ocu.user)
        page = client.post(
            reverse("messaging:compose", args=[operation.slug]),
            {"subject": "Late", "body": "x", "to_officers": "on", "priority": "normal"},
        )
        api = client.post(
            f"/api/v1/operations/{operation.slug}/messages",
            {"kind": "free_text", "subject": "Late", "body": "x", "to": {"officers": True}},
            content_type="application/json",
        )
    assert page.status_code == 400
    assert "closed" in page.content.decode()
    assert api.status_code == 409
    assert api.json()["field"] == "operation"


def test_a_closed_operation_keeps_its_history_and_results_for_its_members(client, planned):
    operation, ocu, officer = planned
    with at(date(2026, 12, 12)):
        operations_advance()
        operation.refresh_from_db()
        message = send(ocu, operation)
    with at(date(2026, 12, 20)):
        operations_advance()
        client.force_login(officer.user)
        inbox = client.get(reverse("messaging:inbox", args=[operation.slug]))
        detail = client.get(reverse("messaging:detail", args=[operation.slug, message.pk]))
        search = client.get(reverse("messaging:search", args=[operation.slug]), {"q": "quiet"})
        results = client.get(reverse("statistics:results", args=[operation.slug]))
    assert inbox.status_code == detail.status_code == search.status_code == 200
    assert results.status_code == 200
    assert "Day report" in inbox.content.decode()


def test_a_closed_operation_takes_no_new_seizure(planned):
    operation, _ocu, officer = planned
    with at(date(2026, 12, 18)):
        operations_advance()
        operation.refresh_from_db()
        with pytest.raises(Conflict) as refused:
            seizure_create(reported_by=officer.user, operation=operation, data=seizure_input())
    assert refused.value.code == "operation_closed"
    assert not Seizure.objects.exists()


def test_an_administrator_moves_an_operation_by_hand_one_step_at_a_time(admin, planned):
    operation, *_ = planned
    operation_set_status(actor=admin, operation=operation, status=Status.ACTIVE)
    operation_set_status(actor=admin, operation=operation, status=Status.CLOSED)
    with pytest.raises(DomainError) as backwards:
        operation_set_status(actor=admin, operation=operation, status=Status.ACTIVE)
    assert backwards.value.field == "status"
    operation_set_status(actor=admin, operation=operation, status=Status.ARCHIVED)
    assert status_of(operation) == Status.ARCHIVED
    events = AuditEvent.objects.filter(action="operation.status_changed").order_by("id")
    assert [(e.actor, e.data["to"], e.data["automatic"]) for e in events] == [
        (admin, "active", False),
        (admin, "closed", False),
        (admin, "archived", False),
    ]


def test_the_close_button_closes_and_members_see_it_read_only(client, admin, planned):
    operation, _ocu, officer = planned
    client.force_login(admin)
    response = client.post(
        reverse("manage:status", args=[operation.slug]), {"status": "closed"}, follow=True
    )
    assert response.status_code == 200
    assert status_of(operation) == Status.CLOSED
    client.force_login(officer.user)
    compose = client.get(reverse("messaging:compose", args=[operation.slug]))
    assert "This operation is closed" in compose.content.decode()


def test_an_ocu_lead_cannot_change_the_status(client, planned):
    operation, ocu, _officer = planned
    client.force_login(ocu.user)
    response = client.post(reverse("manage:status", args=[operation.slug]), {"status": "closed"})
    assert response.status_code == 404
    assert status_of(operation) == Status.PLANNED


def test_an_archived_operation_is_visible_to_administrators_only(client, admin, planned):
    operation, ocu, officer = planned
    Operation.objects.filter(pk=operation.pk).update(status=Status.CLOSED)
    operation_set_status(actor=admin, operation=operation, status=Status.ARCHIVED)
    for membership in (ocu, officer):
        client.force_login(membership.user)
        assert client.get(reverse("messaging:inbox", args=[operation.slug])).status_code == 404
        assert client.get(reverse("statistics:results", args=[operation.slug])).status_code == 404
        assert client.get(reverse("manage:operation", args=[operation.slug])).status_code == 404
        assert client.get(f"/api/v1/operations/{operation.slug}/inbox").status_code == 404
    client.force_login(admin)
    page = client.get(reverse("manage:operation", args=[operation.slug]))
    assert page.status_code == 200
    assert "Archived" in page.content.decode()
