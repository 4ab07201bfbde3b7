"""Rebuild the blind index (``SearchToken``) of every message, in batches.

Needed once for the messages stored before search existed, and after a change of the index
key (``AIRCOP_INDEX_KEY``) or of the normalisation. Each batch commits on its own (its old
tokens deleted and the new ones written together), so the command is safe to interrupt and to
run again.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from messaging.models import Message
from messaging.search_index import index_messages


class Command(BaseCommand):
    help = "Rebuild the search tokens of every message (resumable, in batches)."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500, help="messages per transaction")
        parser.add_argument("--operation", help="only the messages of this operation (slug)")

    def handle(self, *args, batch_size: int, operation: str | None, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        qs = Message.objects.order_by("id")
        if operation:
            qs = qs.filter(operation__slug=operation)
        last = 0
        messages = tokens = 0
        while batch := list(qs.filter(id__gt=last)[:batch_size]):
            tokens += index_messages(batch)
            messages += len(batch)
            last = batch[-1].pk
        self.stdout.write(f"Indexed {messages} messages: {tokens} search tokens.")
