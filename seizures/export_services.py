"""Exports of the figures (results, statistics): rendered, and recorded in the audit trail in
the same transaction, so no file leaves without its audit event."""

from __future__ import annotations

from django.db import transaction

from accounts.audit import audit_record
from accounts.models import Operation, User

from . import exports
from .statistics import Pivot, PivotQuery

FORMATS = ("csv", "xlsx")


@transaction.atomic
def results_export(*, user: User, operation: Operation, figures: dict, fmt: str) -> bytes:
    """An operation's results as CSV or XLSX (``figures`` from ``operation_results``)."""
    content = exports.results_csv(figures) if fmt == "csv" else exports.results_xlsx(figures)
    audit_record(
        actor=user,
        action="results.exported",
        operation=operation,
        target=operation,
        data={"format": fmt},
    )
    return content


@transaction.atomic
def pivot_export(*, user: User, pivot: Pivot, query: PivotQuery, fmt: str) -> bytes:
    """The statistics pivot as CSV or XLSX (``pivot`` from ``seizure_pivot``)."""
    content = exports.pivot_csv(pivot) if fmt == "csv" else exports.pivot_xlsx(pivot)
    audit_record(
        actor=user,
        action="statistics.exported",
        data={"format": fmt, "query": query.as_params()},
    )
    return content
