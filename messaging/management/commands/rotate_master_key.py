"""Re-wrap every encrypted value and file under the newest master key of AIRCOP_MASTER_KEYS.

Rotation: prepend a new key (``python -c "from aircop.crypto import
generate_master_key_entry as g; print(g('2027-01'))"``) to AIRCOP_MASTER_KEYS, restart,
run this command, then remove the old key. Only the wrapped data key of each envelope
changes (the data ciphertext stays); values already under the newest key are skipped, and
each batch commits on its own, so the command is safe to interrupt and to run again.
"""

from __future__ import annotations

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from aircop import crypto
from aircop.encrypted_fields import Ciphertext, encrypted_fields_of
from messaging import attachments as attachment_files
from messaging.models import StoredFile
from seizures.import_services import import_contents_rewrap


class Command(BaseCommand):
    help = "Re-wrap every encrypted value under the newest master key (resumable, in batches)."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500, help="rows per transaction")

    def handle(self, *args, batch_size: int, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        crypto.reset_key_cache()  # the environment as it is now, not as it was at import
        keyring = crypto.get_keyring()
        self.stdout.write(
            f"Newest master key: {keyring.current_key_id}; keys configured: "
            f"{', '.join(keyring.key_ids)}"
        )
        total = 0
        for model in apps.get_models():
            fields = encrypted_fields_of(model)
            if fields:
                total += self._rotate(model, fields, keyring, batch_size)
        files, missing = self._rotate_files()
        uploads = import_contents_rewrap()
        self.stdout.write(f"Seizure imports waiting: {uploads} upload(s) re-wrapped")
        if missing:
            raise CommandError(
                f"{missing} stored file(s) are missing from {attachment_files.root()} (listed "
                "above): restore them from a backup and run this command again before removing "
                "an older key."
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Done: {total} value(s) and {files} file(s) re-wrapped; every encrypted value "
                f"and file is under {keyring.current_key_id}. The older keys can now be removed "
                f"from {crypto.MASTER_KEYS_ENV}."
            )
        )

    def _rotate_files(self) -> tuple[int, int]:
        """The files of every stored-file model (attachments, seizure photos): their headers
        re-wrapped in place, one file at a time (safe to interrupt and run again)."""
        rewrapped = missing = 0
        for model in apps.get_models():
            if not issubclass(model, StoredFile):
                continue
            label, scanned = model._meta.label, 0
            for stored in model._base_manager.order_by("pk").iterator(chunk_size=500):
                scanned += 1
                try:
                    rewrapped += attachment_files.rewrap(stored)
                except FileNotFoundError:
                    missing += 1
                    self.stderr.write(f"{label} {stored.pk}: file {stored.storage_name} missing")
            self.stdout.write(
                f"{label}: {scanned} record(s) scanned, files re-wrapped so far: {rewrapped}"
            )
        return rewrapped, missing

    def _rotate(self, model, fields, keyring, batch_size: int) -> int:
        label = model._meta.label
        manager = model._base_manager
        last, batch_number, scanned, rewrapped = None, 0, 0, 0
        while True:
            with transaction.atomic():
                qs = manager.select_for_update().order_by("pk")
                if last is not None:
                    qs = qs.filter(pk__gt=last)
                rows = list(qs[:batch_size])
                if not rows:
                    break
                batch_number += 1
                changed = 0
                for row in rows:
                    changes = {}
                    for field in fields:
                        stored = row.__dict__.get(field.attname)
                        if not isinstance(stored, Ciphertext):
                            continue  # empty, or not loaded
                        if crypto.needs_rewrap(stored, keyring=keyring):
                            changes[field.attname] = Ciphertext(
                                crypto.rewrap(
                                    str(stored),
                                    aad=field.associated_data(row),
                                    keyring=keyring,
                                )
                            )
                    if changes:
                        manager.filter(pk=row.pk).update(**changes)
                        changed += len(changes)
                last = rows[-1].pk
            scanned += len(rows)
            rewrapped += changed
            self.stdout.write(
                f"{label}: batch {batch_number}, {scanned} row(s) scanned, "
                f"{changed} value(s) re-wrapped in this batch ({rewrapped} so far)"
            )
        if batch_number == 0:
            self.stdout.write(f"{label}: no rows")
        return rewrapped
