"""Audit rows: called by services inside their transaction, never by views."""

from __future__ import annotations

from typing import Any

from django.db import models

from .models import AuditEvent, Operation, User


def audit_record(
    *,
    actor: User | None,
    action: str,
    operation: Operation | None = None,
    target: models.Model | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    return AuditEvent.objects.create(
        actor=actor,
        operation=operation,
        action=action,
        object_type=target._meta.label_lower if target is not None else "",
        object_id=str(target.pk) if target is not None else "",
        data=data or {},
    )
