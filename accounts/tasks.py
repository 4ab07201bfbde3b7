"""Celery tasks of accounts: thin wrappers over services, taking ids or nothing."""

from __future__ import annotations

from celery import shared_task

from .lifecycle import operations_advance


@shared_task(
    name="accounts.operations_advance", ignore_result=True, soft_time_limit=100, time_limit=120
)
def operations_advance_task() -> list[dict]:
    """Planned operations become active on their start date, and are closed after their end
    date. Idempotent: a second run the same day changes nothing."""
    return [{"slug": c.slug, "from": c.previous, "to": c.status} for c in operations_advance()]
