"""Beat's schedule names tasks the worker knows, and the item tasks retry transient failures."""

import importlib
from importlib.util import find_spec

from django.apps import apps
from django.conf import settings

from aircop.celery import app


def _import_task_modules():
    """What a worker imports at start: CELERY_IMPORTS and every app's tasks module."""
    for name in settings.CELERY_IMPORTS:
        importlib.import_module(name)
    for config in apps.get_app_configs():
        if find_spec(f"{config.name}.tasks") is not None:
            importlib.import_module(f"{config.name}.tasks")


def test_every_scheduled_task_is_registered():
    _import_task_modules()
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        assert entry["task"] in app.tasks, f"{name}: {entry['task']} is not a registered task"


def test_item_tasks_retry_on_transient_failures():
    _import_task_modules()
    for name in (
        "messaging.alert_reminder_send",
        "messaging.digest_send",
        "accounts.account_block_remind",
        "accounts.account_block_idle",
        "seizures.export_build",
    ):
        task = app.tasks[name]
        assert OSError in task.autoretry_for, name
        assert task.max_retries and task.retry_backoff, name
