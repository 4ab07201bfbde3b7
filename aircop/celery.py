"""The Celery application; configuration comes from Django settings (CELERY_*)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aircop.settings")

app = Celery("aircop")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

from aircop.request_id import connect_celery_signals  # noqa: E402

connect_celery_signals()
