#!/usr/bin/env python
"""Background-work benchmark: the periodic scans of beat on a large PostgreSQL database.

Run it from the repository root, with PostgreSQL running:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/tasks.py
    .venv/bin/python bench/tasks.py --users 2000 --messages 20000 --fanout 200

What it does, by itself:

1. drops and recreates a throwaway database (``--database``, default ``aircop_bench_tasks``) on
   the PostgreSQL server of ``DATABASE_URL`` (that URL's own database is never touched);
2. creates one operation, one OCU and ``--users`` officers (last seen at random over the last
   120 days, a tenth never), and ``--messages`` messages over the last 14 days from the OCU,
   each delivered to ``--fanout`` random officers; a tenth are Alerts, a tenth of those urgent;
   70 % of deliveries read, urgent alerts acknowledged by half their recipients;
3. times ``--runs`` runs (after a warm-up) of each scan beat runs: the overdue urgent Alerts
   (every minute), the offline members due a digest (every period), the accounts to remind and
   to block (hourly); prints p50 / p95 and the number of ids found, then drops the database
   (unless ``--keep-db``; ``--reuse-db`` times again on a kept database). The figures count
   ids on a first run: nothing has been reminded, digested or blocked yet.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BATCH = 1000


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Scans benchmark (see the top of this file).")
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--fanout", type=int, default=100)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--database", default="aircop_bench_tasks")
    parser.add_argument("--seed", type=int, default=2017)
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument(
        "--reuse-db", action="store_true", help="time again on a database kept by --keep-db"
    )
    return parser.parse_args()


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


def seed(args, rng: random.Random) -> int:
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from accounts.models import Membership, Operation, OperationStatus, Role, User
    from messaging.models import Delivery, Message

    call_command("migrate", verbosity=0, interactive=False)
    now = timezone.now()
    operation = Operation.objects.create(
        name="COCAIR bench",
        slug="bench",
        start_date=date.today() - timedelta(days=30),
        end_date=date.today() + timedelta(days=30),
        status=OperationStatus.ACTIVE,
    )
    unusable = make_password(None)
    User.objects.bulk_create(
        [User(username="bench.ocu", full_name="OCU", email="ocu@bench", password=unusable)]
        + [
            User(
                username=f"bench.officer{n:05d}",
                full_name=f"Officer {n}",
                email=f"officer{n}@bench",
                password=unusable,
                date_joined=now - timedelta(days=200),
                last_seen_at=None
                if rng.random() < 0.1
                else now - timedelta(minutes=rng.randrange(0, 120 * 24 * 60)),
            )
            for n in range(args.users)
        ]
    )
    ocu = User.objects.get(username="bench.ocu")
    officers = list(
        User.objects.filter(username__startswith="bench.officer").values_list("pk", flat=True)
    )
    Membership.objects.bulk_create(
        [Membership(user=ocu, operation=operation, role=Role.OCU)]
        + [Membership(user_id=pk, operation=operation) for pk in officers]
    )
    made = deliveries_made = 0
    span = 14 * 24 * 3600
    while made < args.messages:
        n = min(BATCH, args.messages - made)
        messages = []
        for _i in range(n):
            alert = rng.random() < 0.1
            messages.append(
                Message(
                    operation=operation,
                    sender=ocu,
                    kind="alert" if alert else "free_text",
                    subject="bench",
                    body="bench",
                    priority="urgent" if alert and rng.random() < 0.1 else "normal",
                    created_at=now - timedelta(seconds=rng.randrange(0, span)),
                )
            )
        Message.objects.bulk_create(messages)
        deliveries = []
        for message in messages:
            urgent = message.priority == "urgent"
            for pk in rng.sample(officers, min(args.fanout, len(officers))):
                read = message.created_at if rng.random() < 0.7 else None
                acked = message.created_at if urgent and rng.random() < 0.5 else None
                deliveries.append(
                    Delivery(message=message, recipient_id=pk, read_at=read, acknowledged_at=acked)
                )
        Delivery.objects.bulk_create(deliveries, batch_size=10_000)
        made += n
        deliveries_made += len(deliveries)
        log(f"  {made:,} messages, {deliveries_made:,} deliveries")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return deliveries_made


def main() -> int:
    args = parse_args()
    sys.path.insert(0, str(ROOT))
    from bench.fanout import drop_database, recreate_database, service_urls
    from bench.search import timed

    admin_url, bench_url, _redis = service_urls(args.database)
    os.environ.update(
        {
            "DATABASE_URL": bench_url,
            "DJANGO_SETTINGS_MODULE": "aircop.settings",
            "DJANGO_DEBUG": "0",
            "DJANGO_LOG_LEVEL": "WARNING",
        }
    )
    os.environ.pop("REDIS_URL", None)
    rng = random.Random(args.seed)
    if not args.reuse_db:
        log(f"recreating database {args.database!r}")
        recreate_database(admin_url, args.database)
    try:
        import django

        django.setup()
        from accounts import hygiene
        from messaging import digests, reminders
        from messaging.models import Delivery

        if not args.reuse_db:
            started = time.monotonic()
            seed(args, rng)
            log(f"seeded in {time.monotonic() - started:.0f} s")
        deliveries = Delivery.objects.count()
        figures = [
            timed(
                "overdue urgent alerts (every minute)",
                args.runs,
                reminders.overdue_urgent_deliveries,
            ),
            timed("members due a digest (every period)", args.runs, digests.digest_recipients),
            timed("accounts to remind (hourly)", args.runs, hygiene.accounts_to_remind),
            timed("accounts to block (hourly)", args.runs, hygiene.accounts_to_block),
        ]
        print()
        print(
            f"Scans benchmark: {args.users:,} officers, {args.messages:,} messages, "
            f"{deliveries:,} deliveries, {args.runs} runs each"
        )
        print(f"  {'scan':<44} {'p50':>9} {'p95':>9} {'ids':>6}")
        for label, p50, p95, found in figures:
            print(f"  {label:<44} {p50:>6.1f} ms {p95:>6.1f} ms {found:>6}")
    finally:
        from django.db import connections

        connections.close_all()
        if args.keep_db or args.reuse_db:
            log(f"kept database {args.database!r}")
        else:
            drop_database(admin_url, args.database)
    return 0


if __name__ == "__main__":
    sys.exit(main())
