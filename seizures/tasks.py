"""Celery tasks of the seizure register: thin wrappers over services, taking ids."""

from __future__ import annotations

from celery import shared_task

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
