"""Import seizures from a CSV or XLSX file: all rows or none, with a progress bar on stderr."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.http import Http404

from accounts.models import User
from accounts.selectors import membership_for
from aircop.exceptions import DomainError
from seizures.import_services import seizures_import
from seizures.importing import MAX_BYTES

STAGES = {"check": "checking ", "record": "importing"}
BAR_WIDTH = 20


class Command(BaseCommand):
    help = (
        "Import seizures from FILE (CSV or XLSX with the template's columns) as USERNAME. "
        "Every row is checked first; on any error nothing is imported, the errors are printed "
        "and the command exits with status 1."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--user", required=True, help="username of the importing officer")
        parser.add_argument("--operation", default="", help="slug of the operation")

    def handle(self, *args, file: Path, user: str, operation: str, **options):
        officer = User.objects.filter(username=user, is_active=True).first()
        if officer is None:
            raise CommandError(f"No active user named {user!r}.")
        target = None
        if operation:
            try:
                target = membership_for(user=officer, slug=operation).operation
            except Http404:
                raise CommandError(
                    f"{user!r} is not an active member of an operation {operation!r}."
                ) from None
        try:
            if file.stat().st_size > MAX_BYTES:
                raise CommandError(f"{file}: larger than {MAX_BYTES // 2**20} MB.")
            content = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"{file}: {exc.strerror or exc}") from None

        last: dict[str, int] = {}

        def progress(stage: str, done: int, total: int) -> None:
            percent = 100 * done // total if total else 100
            step = percent - percent % 5
            if last.get(stage, -1) >= step:
                return
            last[stage] = step
            filled = BAR_WIDTH * step // 100
            bar = "#" * filled + "-" * (BAR_WIDTH - filled)
            self.stderr.write(f"{STAGES[stage]} [{bar}] {step:3d}% ({done}/{total} rows)")

        try:
            result = seizures_import(
                user=officer,
                operation=target,
                filename=file.name,
                content=content,
                progress=progress,
            )
        except DomainError as exc:
            raise CommandError(f"{file}: {exc.message}") from None
        if result.errors:
            for error in result.errors:
                self.stderr.write(f"line {error['line']}, {error['field']}: {error['message']}")
            raise CommandError(
                f"{len(result.errors)} error(s) in {result.total} rows: nothing was imported."
            )
        self.stdout.write(f"{result.imported} seizures imported from {file}.")
