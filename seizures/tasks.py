"""Celery tasks of the seizure register: thin wrappers over services, taking ids."""

from __future__ import annotations

from celery import shared_task

from aircop.celery import RETRY_OPTIONS

from . import export_jobs
from .import_services import import_job_run


@shared_task(
    name="seizures.import_seizures",
    ignore_result=True,
    # A file of 50,000 rows takes minutes on a small server.
    soft_time_limit=1700,
    time_limit=1800,
)
def import_seizures_task(job_id: int) -> None:
    """Import the file of a pending ImportJob; running it again for the same job does nothing."""
    import_job_run(job_id=job_id)


@shared_task(name="seizures.export_build", ignore_result=True, **RETRY_OPTIONS)
def export_build(job_id: int) -> bool:
    """Build a pending ExportJob; running it again for the same job does nothing."""
    return export_jobs.export_job_build(job_id=job_id)


@shared_task(name="seizures.export_jobs_expire", ignore_result=True)
def export_jobs_expire() -> int:
    return export_jobs.export_jobs_expire()
