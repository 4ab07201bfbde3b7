"""A real Celery worker (``celery -A aircop worker``) over Redis, on the test database.

An urgent Alert left unacknowledged past its deadline produces exactly one e-mail, even when its
reminder task is enqueued twice and the periodic scan runs as well, with two worker processes
taking tasks at the same time. The worker writes e-mail to files (Django's file backend, set
through the environment), which the test reads.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from django.utils import timezone

from accounts.models import Role
from messaging import tasks
from messaging.models import Delivery, Message
from tests.conftest import ROOT, server_environment
from tests.factories import OperationFactory, member
from tests.tasks.helpers import PASSENGER, send_alert

pytestmark = pytest.mark.integration

SUCCEEDED = re.compile(
    r"Task (?P<name>[\w.]+)\[(?P<id>[\w-]+)\] succeeded in [\d.e-]+s: (?P<ret>.*)"
)


class Worker:
    def __init__(self, queue: str, mail_dir: Path, log: Path, process: subprocess.Popen):
        self.queue, self.mail_dir, self.log, self.process = queue, mail_dir, log, process

    def successes(self) -> list[re.Match]:
        return list(SUCCEEDED.finditer(self.log.read_text()))

    def wait_for(self, predicate, what: str, limit: float = 60) -> list[re.Match]:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the worker exited:\n{self.log.read_text()}")
            found = self.successes()
            if predicate(found):
                return found
            time.sleep(0.2)
        raise AssertionError(f"the worker did not {what} within {limit} s:\n{self.log.read_text()}")

    def emails(self) -> list[str]:
        return (
            [p.read_text() for p in sorted(self.mail_dir.glob("*"))]
            if self.mail_dir.exists()
            else []
        )


@pytest.fixture
def worker(transactional_db, tmp_path):
    queue = f"aircop-it-{uuid.uuid4().hex[:12]}"
    mail_dir = tmp_path / "mail"
    log = tmp_path / "worker.log"
    env = {
        **server_environment(),
        "AIRCOP_CELERY_QUEUE": queue,
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "DJANGO_EMAIL_FILE_PATH": str(mail_dir),
        "AIRCOP_SITE_URL": "https://aircop.test",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "aircop",
            "worker",
            "--queues",
            queue,
            "--hostname",
            f"{queue}@%h",
            "--concurrency",
            "2",
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while " ready." not in log.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"the worker did not start:\n{log.read_text()}")
        time.sleep(0.2)
    yield Worker(queue, mail_dir, log, process)
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    try:
        keys = list(client.scan_iter(match=f"*{queue}*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def test_an_overdue_urgent_alert_produces_exactly_one_email(worker):
    cocair = OperationFactory(slug="cocair-it", name="COCAIR IT", ack_minutes_urgent=15)
    ocu = member(cocair, Role.OCU, "BE", "BRU", username="ocu-it")
    officer = member(cocair, Role.OFFICER, "SN", "DSS", username="officer-it")
    alert = send_alert(ocu, cocair)
    Message.objects.filter(pk=alert.pk).update(created_at=timezone.now() - timedelta(minutes=20))
    delivery = Delivery.objects.get(message=alert, recipient=officer.user)

    direct = [
        tasks.alert_reminder_send.apply_async((delivery.pk,), queue=worker.queue).id,
        tasks.alert_reminder_send.apply_async((delivery.pk,), queue=worker.queue).id,
    ]
    scan = tasks.alert_reminders_enqueue.apply_async(queue=worker.queue).id

    # Wait until the scan has run, then until every reminder task it enqueued has run too.
    found = worker.wait_for(lambda ms: scan in {m["id"] for m in ms}, "run the scan")
    enqueued = int(next(m["ret"] for m in found if m["id"] == scan))
    found = worker.wait_for(
        lambda ms: (
            set(direct) <= {m["id"] for m in ms}
            and sum(m["name"] == "messaging.alert_reminder_send" for m in ms) == 2 + enqueued
        ),
        "run the reminder tasks",
    )
    sent = [m["ret"] for m in found if m["name"] == "messaging.alert_reminder_send"]
    assert sorted(sent) == ["False"] * (1 + enqueued) + ["True"]

    (email,) = worker.emails()
    assert f"To: {officer.user.email}" in email
    assert f"https://aircop.test/o/cocair-it/messages/{alert.pk}/" in email
    assert PASSENGER not in email
    delivery.refresh_from_db()
    assert delivery.reminded_at is not None
