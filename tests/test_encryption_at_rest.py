"""Encryption at rest: no sensitive plaintext anywhere in the database, rows bound to their
ciphertext, master key rotation."""

from __future__ import annotations

import os
import secrets
import string
import subprocess
from datetime import date
from io import StringIO
from pathlib import Path

import pytest
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.db import connection, transaction

from accounts.models import Role
from aircop import crypto
from messaging.formatted import AlertInput, SubjectInput
from messaging.models import AlertSubject, Message
from messaging.routing import Targets
from messaging.services import message_send
from seizures.models import Seizure
from seizures.services import seizure_record
from tests.factories import OperationFactory, member
from tests.seizures.test_register import seizure_input


def _canary() -> str:
    # Letters only: it survives the normalisation of names and document numbers.
    return "QZX" + "".join(secrets.choice(string.ascii_uppercase) for _ in range(16))


@pytest.fixture
def people():
    operation = OperationFactory(slug="cocair", name="COCAIR VI")
    ocu = member(operation, Role.OCU, "BE", "BRU", username="ocu")
    officer = member(operation, Role.OFFICER, "SN", "DSS", username="officer")
    return operation, ocu, officer


def _send_everything(people, canary: str) -> dict[str, object]:
    operation, ocu, officer = people
    text = message_send(
        sender=ocu.user,
        operation=operation,
        subject=f"Subject {canary}",
        body=f"Body with {canary} inside.",
        targets=Targets(officers=True),
    )
    alert = message_send(
        sender=ocu.user,
        operation=operation,
        kind="alert",
        body=f"Alert body {canary}",
        targets=Targets(officers=True),
        details=AlertInput(
            flight_number="AT525",
            flight_date=date.today(),
            departure_airport="GRU",
            destination_airport="DSS",
            subjects=(
                SubjectInput(
                    name=f"{canary} Jane",
                    date_of_birth=date(1988, 4, 2),
                    document_number=canary,
                ),
            ),
        ),
    )
    seizure = seizure_record(
        reported_by=officer.user,
        operation=operation,
        data=seizure_input(),
        notes=f"Notes {canary}",
    )
    return {"text": text, "alert": alert, "seizure": seizure}


def _rows_containing(needle: str) -> list[str]:
    needle = needle.lower()
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            for row in cursor.fetchall():
                for value in row:
                    if isinstance(value, bytes | bytearray | memoryview):
                        value = bytes(value).decode("latin-1")
                    if needle in str(value).lower():
                        found.append(f"{table}: {str(value)[:80]}")
    return found


@pytest.mark.django_db(transaction=True)
def test_the_canary_is_nowhere_in_the_database_and_reads_back(people):
    canary = _canary()
    sent = _send_everything(people, canary)

    assert _rows_containing(canary) == []
    if connection.vendor == "sqlite":
        path = Path(connection.settings_dict["NAME"])
        for file in (path, Path(f"{path}-wal"), Path(f"{path}-journal")):
            if file.exists():
                assert canary.encode() not in file.read_bytes(), file
                assert canary.lower().encode() not in file.read_bytes(), file

    text = Message.objects.get(pk=sent["text"].pk)
    assert text.subject == f"Subject {canary}"
    assert text.body == f"Body with {canary} inside."
    person = AlertSubject.objects.get(message_id=sent["alert"].pk)
    assert canary in person.name and person.document_number == canary
    assert person.date_of_birth == date(1988, 4, 2)
    assert Seizure.objects.get(pk=sent["seizure"].pk).notes == f"Notes {canary}"


@pytest.mark.django_db
def test_a_ciphertext_moved_to_another_row_does_not_decrypt(people):
    operation, ocu, _officer = people
    first, second = (
        message_send(
            sender=ocu.user,
            operation=operation,
            subject="s",
            body=text,
            targets=Targets(officers=True),
        )
        for text in ("first secret", "second secret")
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, body FROM messaging_message WHERE id IN (%s, %s)", [first.pk, second.pk]
        )
        bodies = dict(cursor.fetchall())
        for pk, other in ((first.pk, second.pk), (second.pk, first.pk)):
            cursor.execute(
                "UPDATE messaging_message SET body = %s WHERE id = %s", [bodies[other], pk]
            )
    for pk in (first.pk, second.pk):
        message = Message.objects.get(pk=pk)
        with pytest.raises(crypto.DecryptionError, match="does not decrypt"):
            message.body  # noqa: B018
    # The subject of the same row is intact: only the swapped values fail.
    assert Message.objects.get(pk=first.pk).subject == "s"


@pytest.mark.django_db
def test_no_filter_on_an_encrypted_field_and_no_plaintext_update(people):
    with pytest.raises(FieldError, match="encrypted"):
        list(Message.objects.filter(subject="Alert"))
    with pytest.raises(FieldError, match="encrypted"):
        list(Message.objects.filter(body__icontains="x"))
    with pytest.raises(FieldError, match="encrypted"), transaction.atomic():
        Message.objects.update(body="plaintext")
    assert list(Message.objects.filter(body="")) == []
    assert list(AlertSubject.objects.filter(date_of_birth__isnull=True)) == []


@pytest.fixture
def master_keys(monkeypatch):
    """Two master key entries, A and B, with A alone in the environment (the cached keyring
    follows the environment again after the test)."""
    key_a = crypto.generate_master_key_entry("key-a")
    key_b = crypto.generate_master_key_entry("key-b")
    monkeypatch.setenv(crypto.MASTER_KEYS_ENV, key_a)
    crypto.reset_key_cache()
    yield key_a, key_b
    monkeypatch.undo()
    crypto.reset_key_cache()


@pytest.mark.django_db
def test_rotate_master_key_then_the_old_key_can_go(people, master_keys, monkeypatch):
    key_a, key_b = master_keys
    canary = _canary()
    sent = _send_everything(people, canary)
    monkeypatch.setenv(crypto.MASTER_KEYS_ENV, f"{key_b},{key_a}")
    out = StringIO()
    call_command("rotate_master_key", "--batch-size", "1", stdout=out)
    assert "messaging.Message: batch 1," in out.getvalue()
    again = StringIO()
    call_command("rotate_master_key", stdout=again)  # resumable: nothing left to do
    assert "Done: 0 value(s) and 0 file(s) re-wrapped" in again.getvalue()

    monkeypatch.setenv(crypto.MASTER_KEYS_ENV, key_b)
    crypto.reset_key_cache()
    for message in Message.objects.all():
        assert message.subject and message.body is not None
    assert Message.objects.get(pk=sent["text"].pk).body == f"Body with {canary} inside."
    person = AlertSubject.objects.get(message_id=sent["alert"].pk)
    assert person.document_number == canary
    assert Seizure.objects.get(pk=sent["seizure"].pk).notes == f"Notes {canary}"
    with connection.cursor() as cursor:
        cursor.execute("SELECT subject FROM messaging_message")
        assert {crypto.envelope_key_id(s) for (s,) in cursor.fetchall()} == {"key-b"}


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_the_canary_is_not_in_a_pg_dump(people):
    assert connection.vendor == "postgresql"
    canary = _canary()
    _send_everything(people, canary)
    db = connection.settings_dict
    env = {**os.environ}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    dump = subprocess.run(
        [
            "/usr/bin/pg_dump",
            "--data-only",
            "-h",
            db["HOST"] or "127.0.0.1",
            "-p",
            str(db["PORT"] or 5432),
            "-U",
            db["USER"] or "postgres",
            db["NAME"],
        ],
        env=env,
        capture_output=True,
        check=True,
    ).stdout
    assert b"messaging_message" in dump
    assert canary.encode() not in dump
    assert canary.lower().encode() not in dump


@pytest.mark.django_db(transaction=True)
def test_the_migration_encrypts_existing_rows_and_the_reverse_decrypts(people):
    from django.db.migrations.executor import MigrationExecutor

    operation, ocu, _officer = people
    before = [("messaging", "0002_alertdetails_alertsubject_responsedetails_and_more")]
    after = [("messaging", "0005_encrypted_fields_uid_unique")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        old = executor.loader.project_state(before).apps
        OldMessage, OldSubject = (
            old.get_model("messaging", "Message"),
            old.get_model("messaging", "AlertSubject"),
        )
        message = OldMessage.objects.create(
            operation_id=operation.pk, sender_id=ocu.user_id, subject="Old subject", body="Old"
        )
        OldSubject.objects.create(
            message=message, name="DOE John", date_of_birth=date(1988, 4, 2), pnr="K7QX2M"
        )
        executor = MigrationExecutor(connection)
        executor.migrate(after)
        assert _rows_containing("Old subject") == [] and _rows_containing("K7QX2M") == []
        migrated = Message.objects.get(pk=message.pk)
        assert (migrated.subject, migrated.body) == ("Old subject", "Old")
        person = AlertSubject.objects.get(message_id=message.pk)
        assert (person.name, person.date_of_birth, person.pnr) == (
            "DOE John",
            date(1988, 4, 2),
            "K7QX2M",
        )
        executor = MigrationExecutor(connection)
        executor.migrate(before)
        with connection.cursor() as cursor:
            cursor.execute("SELECT subject FROM messaging_message WHERE id = %s", [message.pk])
            assert cursor.fetchone()[0] == "Old subject"
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db
def test_rotate_master_key_re_wraps_stored_files_and_waiting_imports(
    people, master_keys, monkeypatch, settings, tmp_path, django_capture_on_commit_callbacks
):
    from messaging import attachments
    from seizures.import_services import import_job_create
    from seizures.models import ImportJob, ImportStatus
    from seizures.tasks import import_seizures_task
    from tests.messaging.test_attachments import png, upload
    from tests.seizures.test_import import csv_bytes, row

    settings.AIRCOP_ATTACHMENT_ROOT = tmp_path / "attachments"
    operation, ocu, _officer = people
    key_a, key_b = master_keys
    # given an image attachment (a file and its thumbnail) and an import waiting for its
    # task, all under key A
    image = png()
    message = message_send(
        sender=ocu.user,
        operation=operation,
        subject="Photo",
        body="b",
        targets=Targets(users=["officer"]),
        attachments=[upload("bag.png", image)],
    )
    attachment = message.attachments.get()
    thumbnail = b"".join(attachments.open_plaintext(attachment, thumbnail=True))
    ocu.user.memberships.update(role=Role.OCU)
    with django_capture_on_commit_callbacks(execute=False):
        job = import_job_create(
            user=ocu.user, operation=operation, filename="s.csv", content=csv_bytes([row()])
        )

    # when the key is rotated to B, and A removed
    monkeypatch.setenv(crypto.MASTER_KEYS_ENV, f"{key_b},{key_a}")
    out = StringIO()
    call_command("rotate_master_key", stdout=out)
    assert "and 2 file(s) re-wrapped" in out.getvalue()
    assert "1 upload(s) re-wrapped" in out.getvalue()
    monkeypatch.setenv(crypto.MASTER_KEYS_ENV, key_b)
    crypto.reset_key_cache()

    # then the file, its thumbnail and the upload still read, under key B only
    assert b"".join(attachments.open_plaintext(attachment)) == image
    assert b"".join(attachments.open_plaintext(attachment, thumbnail=True)) == thumbnail
    for name in (attachment.storage_name, attachment.thumbnail_storage_name):
        with (settings.AIRCOP_ATTACHMENT_ROOT / name).open("rb") as stored:
            assert not crypto.stream_needs_rewrap(stored)
    assert sorted(p.name for p in settings.AIRCOP_ATTACHMENT_ROOT.iterdir()) == sorted(
        [attachment.storage_name, attachment.thumbnail_storage_name]
    )
    import_seizures_task(job.pk)
    job.refresh_from_db()
    assert (job.status, job.imported) == (ImportStatus.DONE, 1), job.errors
    assert ImportJob.objects.get(pk=job.pk).content is None
