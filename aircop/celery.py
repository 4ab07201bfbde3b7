"""The Celery application; configuration comes from Django settings (CELERY_*)."""

import os

from celery import Celery
from django.db import OperationalError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aircop.settings")

app = Celery("aircop")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Failures worth another try, with backoff (``autoretry_for`` of every task that talks to the
# outside): SMTP errors are OSErrors, as are refused or dropped connections and timeouts; a
# database that went away raises OperationalError. Every task claims its work before doing it
# and releases the claim when it fails, so a retry never sends twice.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (OSError, OperationalError)
RETRY_OPTIONS = {
    "autoretry_for": TRANSIENT_ERRORS,
    "retry_backoff": 10,  # about 10 s, 20 s, 40 s ... (with jitter), at most 10 minutes
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 8,
}
from aircop.request_id import connect_celery_signals  # noqa: E402

connect_celery_signals()
