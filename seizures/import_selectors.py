"""Reads of the bulk import, scoped to the acting user: a job is its creator's only."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from accounts.models import User

from .models import ImportJob


def import_jobs_of(*, user: User) -> QuerySet[ImportJob]:
    if not user.is_authenticated or not user.is_active:
        return ImportJob.objects.none()
    return ImportJob.objects.filter(created_by=user).defer("content")


def import_job_for(*, user: User, job_id: int) -> ImportJob:
    """The user's own import job; 404 for anyone else, administrators included."""
    job = import_jobs_of(user=user).select_related("operation").filter(pk=job_id).first()
    if job is None:
        raise Http404
    return job
