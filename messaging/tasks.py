"""Celery tasks of messaging: thin wrappers over messaging.reminders and messaging.digests.

The ``*_enqueue`` tasks run on beat's schedule (CELERY_BEAT_SCHEDULE) and enqueue one task per
item; each item task takes ids, is idempotent (a second run sends nothing) and retries on
transient failures.
"""

from __future__ import annotations

from datetime import datetime

from celery import shared_task

from aircop.celery import RETRY_OPTIONS

from . import digests, reminders


@shared_task(name="messaging.alert_reminders_enqueue", ignore_result=True)
def alert_reminders_enqueue() -> int:
    ids = reminders.overdue_urgent_deliveries()
    for delivery_id in ids:
        alert_reminder_send.delay(delivery_id)
    return len(ids)


@shared_task(name="messaging.alert_reminder_send", ignore_result=True, **RETRY_OPTIONS)
def alert_reminder_send(delivery_id: int) -> bool:
    return reminders.alert_reminder_send(delivery_id=delivery_id)


@shared_task(name="messaging.digests_enqueue", ignore_result=True)
def digests_enqueue() -> int:
    period = digests.period_start()
    ids = digests.digest_recipients()
    for user_id in ids:
        digest_send.delay(user_id, period.isoformat())
    return len(ids)


@shared_task(name="messaging.digest_send", ignore_result=True, **RETRY_OPTIONS)
def digest_send(user_id: int, period: str) -> bool:
    return digests.digest_send(user_id=user_id, period=datetime.fromisoformat(period))
