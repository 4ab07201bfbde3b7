"""message_send on PostgreSQL: message, deliveries and audit row in one transaction, or nothing.

PostgreSQL stamps every row with the id of the transaction that inserted it
(``xmin``): rows sharing it were committed together. Events go through the
Redis channel layer only after commit; a probe channel in the recipient's group
sees what a websocket would.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.db import connection, transaction

from accounts.models import AuditEvent, Role, User
from aircop.exceptions import DomainError
from messaging import services
from messaging.models import Delivery, Message
from messaging.realtime import user_group
from messaging.routing import Targets
from tests.factories import OperationFactory, member
from tests.integration.clients import WAIT

pytestmark = pytest.mark.integration

SENTINEL = {"type": "probe.sentinel"}


def _xmin(model, **filters) -> set[int]:
    ids = list(model.objects.filter(**filters).values_list("pk", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT xmin::text FROM {model._meta.db_table} WHERE id = ANY(%s)",  # noqa: S608
            [ids],
        )
        return {int(row[0]) for row in cursor.fetchall()}


def _counts() -> tuple[int, int, int]:
    return Message.objects.count(), Delivery.objects.count(), AuditEvent.objects.count()


def _probe_events(user_id: int, send) -> tuple[list[dict], Exception | None]:
    """What a socket of ``user_id`` hears while ``send()`` runs (up to a sentinel sent after),
    and the exception ``send()`` raised, if any."""

    async def scenario():
        layer = get_channel_layer()
        probe = f"probe-{uuid.uuid4().hex}"
        await layer.group_add(user_group(user_id), probe)
        try:
            error = None
            try:
                await database_sync_to_async(send)()
            except Exception as exc:
                error = exc
            await layer.send(probe, SENTINEL)
            events = []
            while not events or events[-1] != SENTINEL:
                events.append(await asyncio.wait_for(layer.receive(probe), timeout=WAIT))
            return events[:-1], error
        finally:
            await layer.group_discard(user_group(user_id), probe)

    return asyncio.run(scenario())


@pytest.fixture
def crew(transactional_db):
    operation = OperationFactory()
    ocu = member(operation, role=Role.OCU, country="FR")
    officers = [member(operation) for _ in range(3)]
    return operation, ocu, officers


def test_send_commits_message_deliveries_and_audit_in_one_transaction(crew):
    operation, ocu, officers = crew
    before = _counts()
    sent = {}

    def send():
        sent["message"] = services.message_send(
            sender=ocu.user,
            operation=operation,
            subject="Together",
            body="Body.",
            targets=Targets(officers=True),
        )

    events, error = _probe_events(officers[0].user_id, send)

    assert error is None
    message = sent["message"]
    assert _counts() == (before[0] + 1, before[1] + 3, before[2] + 1)
    audit = AuditEvent.objects.get(action="message.sent", object_id=str(message.pk))
    assert audit.operation_id == operation.pk and audit.actor_id == ocu.user_id
    assert audit.data["recipients"] == 3
    assert set(message.deliveries.values_list("recipient_id", flat=True)) == {
        m.user_id for m in officers
    }
    # one transaction: the three writes share PostgreSQL's transaction id ...
    transactions = (
        _xmin(Message, pk=message.pk)
        | _xmin(Delivery, message=message)
        | _xmin(AuditEvent, pk=audit.pk)
    )
    assert len(transactions) == 1
    # ... distinct from the transactions that created the members
    assert transactions.isdisjoint(_xmin(User, pk=ocu.user_id))
    # and the recipient's group heard of it once, after commit
    assert [(e["type"], e["message"]["id"]) for e in events] == [("message.new", message.pk)]


def test_send_refused_by_policy_writes_and_announces_nothing(crew):
    operation, _ocu, officers = crew
    officer, other = officers[0], officers[1]
    before = _counts()

    def send():
        # an officer may not address all officers
        services.message_send(
            sender=officer.user,
            operation=operation,
            subject="Forbidden",
            body="Body.",
            targets=Targets(officers=True),
        )

    events, error = _probe_events(other.user_id, send)

    assert isinstance(error, DomainError) and error.code == "forbidden_target"
    assert _counts() == before
    assert events == []


def _subjects() -> set[str]:
    return {m.subject for m in Message.objects.all()}


def test_send_failing_after_the_message_row_leaves_no_row_and_no_event(crew, monkeypatch):
    operation, ocu, officers = crew
    before = _counts()

    def audit_fails(**kwargs):
        # the message and its deliveries are written by now (the subject is encrypted at
        # rest: compared here, not in the database)
        assert "Half" in _subjects()
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(services, "audit_record", audit_fails)

    def send():
        services.message_send(
            sender=ocu.user,
            operation=operation,
            subject="Half",
            body="Body.",
            targets=Targets(officers=True),
        )

    events, error = _probe_events(officers[0].user_id, send)

    assert isinstance(error, RuntimeError) and str(error) == "audit store unavailable"
    assert _counts() == before
    assert events == []
    assert "Half" not in _subjects()


def test_send_inside_a_transaction_that_rolls_back_is_never_announced(crew):
    operation, ocu, officers = crew
    before = _counts()

    class Abort(Exception):
        pass

    def send():
        try:
            with transaction.atomic():
                services.message_send(
                    sender=ocu.user,
                    operation=operation,
                    subject="Undone",
                    body="Body.",
                    targets=Targets(officers=True),
                )
                raise Abort
        except Abort:
            pass

    events, error = _probe_events(officers[0].user_id, send)

    assert error is None
    assert events == []
    assert _counts() == before


def _in_another_transaction(work) -> Exception | None:
    """Run ``work`` in a transaction of another connection that waits at most 300 ms for a
    lock; the exception it raised, if any."""
    import threading

    from django.db import connections

    raised: list[Exception] = []

    def run():
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '300ms'")
                work()
        except Exception as exc:
            raised.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=WAIT)
    return raised[0] if raised else None


def test_sends_share_the_operation_lock_and_a_close_waits_for_them(crew):
    from accounts.members import lock_open_operation, share_lock_operation

    operation, ocu = crew[0], crew[1].user
    with transaction.atomic():
        # given a send in progress in this operation (it holds the share lock until it commits)
        share_lock_operation(operation, member=ocu)
        # then another send in the same operation takes the lock too, without waiting
        assert _in_another_transaction(lambda: share_lock_operation(operation, member=ocu)) is None
        # and a close or a membership change waits for the send to commit
        error = _in_another_transaction(lambda: lock_open_operation(operation))
        assert error is not None and "lock timeout" in str(error)
    # once it has committed, the close goes through
    assert _in_another_transaction(lambda: lock_open_operation(operation)) is None


def _waiting_for_an_advisory_lock() -> bool:
    """Whether a session of this database waits for an advisory lock (polled up to WAIT)."""
    import time

    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            )
            if cursor.fetchone()[0]:
                return True
        time.sleep(0.02)
    return False


def test_deliveries_are_numbered_in_the_order_their_sends_commit(crew, monkeypatch):
    """A client resumes after the last message it got, from that message's delivery: a
    delivery numbered below it that commits later would never reach it."""
    import threading

    from django.db import connections

    operation, ocu, officers = crew
    paused, release = threading.Event(), threading.Event()
    audit_record = services.audit_record

    def slow_for_the_first(**kwargs):
        if kwargs["target"].subject == "first":
            paused.set()
            release.wait(WAIT)
        return audit_record(**kwargs)

    monkeypatch.setattr(services, "audit_record", slow_for_the_first)
    sent: dict[str, Message] = {}

    def send(subject):
        try:
            sent[subject] = services.message_send(
                sender=ocu.user,
                operation=operation,
                subject=subject,
                body="b",
                targets=Targets(officers=True),
            )
        finally:
            connections.close_all()

    # given a send that has numbered its deliveries and not committed
    first = threading.Thread(target=send, args=("first",))
    first.start()
    assert paused.wait(WAIT)
    # when another send starts meanwhile
    second = threading.Thread(target=send, args=("second",))
    second.start()
    # then it waits for the first to commit before numbering its own
    assert _waiting_for_an_advisory_lock()
    assert "second" not in sent
    release.set()
    first.join(WAIT)
    second.join(WAIT)
    recipient = officers[0].user
    numbered = Delivery.objects.filter(recipient=recipient).order_by("id")
    assert [d.message.subject for d in numbered] == ["first", "second"]
