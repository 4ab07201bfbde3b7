import re

from django.core.management.base import BaseCommand, CommandError

from accounts.audit.chain import CHAIN_COLUMNS, verify_chain
from accounts.models import AuditEvent

HEAD = re.compile(r"^(\d+):([0-9a-f]{64})$")


class Command(BaseCommand):
    help = (
        "Walk the audit trail's hash chain and report the first altered, inserted or deleted "
        "event. Exit status 1 on a break. --head SEQUENCE:HASH (printed by an earlier run and "
        "kept elsewhere) also proves that no event up to that one was removed from the end."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--head",
            default="",
            help="SEQUENCE:HASH of an event recorded earlier, which must still be in the chain",
        )
        parser.add_argument("--batch-size", type=int, default=2000)

    def handle(self, *args, head, batch_size, **options):
        expected = HEAD.match(head.strip().lower()) if head else None
        if head and expected is None:
            raise CommandError("--head takes SEQUENCE:HASH (64 hexadecimal digits)")
        rows = (
            AuditEvent.objects.order_by("sequence")
            .values_list(*CHAIN_COLUMNS)
            .iterator(chunk_size=batch_size)
        )
        try:
            report = verify_chain(rows)
        finally:
            rows.close()  # a walk stopped at a break closes its database cursor now
        self.stdout.write(f"{report.verified} audit events verified.")
        if report.problem is not None:
            problem = report.problem
            raise CommandError(
                f"Audit chain broken at event {problem.sequence} ({problem.kind}): "
                f"{problem.detail}.",
                returncode=1,
            )
        self.stdout.write(f"Head: {report.head_sequence}:{report.head_hash}")
        if expected is not None:
            sequence, digest = int(expected[1]), expected[2]
            kept = AuditEvent.objects.filter(sequence=sequence).values_list("hash", flat=True)
            if list(kept) != [digest]:
                raise CommandError(
                    f"Audit chain broken at event {sequence} (deleted): the event recorded as "
                    f"{sequence}:{digest[:12]}… is no longer in the chain.",
                    returncode=1,
                )
            self.stdout.write(f"Event {sequence} is still the one recorded.")
        self.stdout.write(self.style.SUCCESS("The audit chain is intact."))
