#!/usr/bin/env python
"""Search benchmark: the messages database (blind index) over 100,000 messages or more.

Run it from the repository root, with PostgreSQL running:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/search.py
    .venv/bin/python bench/search.py --messages 1000000 --runs 20 --keep-db

What it does, by itself:

1. drops and recreates a throwaway database (``--database``, default ``aircop_bench``) on the
   PostgreSQL server of ``DATABASE_URL`` (that URL's own database is never touched), migrates it;
2. creates ``--operations`` operations (default 4), one OCU and 200 officers who are members of
   every one; bulk-inserts ``--messages`` messages, spread evenly over the operations
   (subject and body encrypted as in production, words drawn from a Zipf-weighted vocabulary),
   a third of them Alerts with a passenger (name, document number, PNR) and a flight, each
   addressed to 5 officers (Delivery rows), and their search tokens (keyed digests);
3. times ``--runs`` runs (after a warm-up) of ``search_messages`` as one officer, fetching the
   first page (50 rows): a keyword query of two common words, a document number, and a listing
   filtered by kind and priority, in the first operation; prints p50 / p95, then drops the
   database (unless ``--keep-db``; ``--reuse-db`` times again on a kept database).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VOCABULARY = [f"word{n}" for n in range(5000)]
BATCH = 2000


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Search benchmark (see the top of this file).")
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--database", default="aircop_bench")
    parser.add_argument("--seed", type=int, default=2017)
    parser.add_argument("--operations", type=int, default=4)
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument(
        "--reuse-db",
        action="store_true",
        help="time the queries on a database kept by an earlier --keep-db run, without refilling",
    )
    return parser.parse_args()


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


def seed(count: int, operation_count: int, rng: random.Random):
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import connection

    from accounts.models import Membership, Operation, OperationStatus, Role, User
    from aircop.crypto.blind_index import blind_index, normalise_token
    from messaging.models import (
        AlertDetails,
        AlertSubject,
        Delivery,
        Message,
        SearchField,
        SearchToken,
    )

    call_command("migrate", verbosity=0, interactive=False)
    operations = [
        Operation.objects.create(
            name=f"COCAIR bench {n}",
            slug="bench" if n == 0 else f"bench-{n}",
            start_date=date(2025, 1, 1),
            end_date=date(2025, 12, 31),
            status=OperationStatus.ACTIVE,
        )
        for n in range(operation_count)
    ]
    unusable = make_password(None)
    User.objects.bulk_create(
        [
            User(
                username="bench.ocu",
                full_name="Bench OCU",
                country="BE",
                airport="BRU",
                password=unusable,
            )
        ]
        + [
            User(
                username=f"bench.officer{n:03d}",
                full_name=f"Officer {n}",
                country="SN",
                airport="DSS",
                password=unusable,
            )
            for n in range(200)
        ]
    )
    ocu = User.objects.get(username="bench.ocu")
    officers = list(User.objects.filter(username__startswith="bench.officer").order_by("id"))
    Membership.objects.bulk_create(
        [Membership(user=ocu, operation=op, role=Role.OCU) for op in operations]
        + [Membership(user=u, operation=op) for u in officers for op in operations]
    )
    keyword = {w: blind_index(w, purpose="keyword") for w in VOCABULARY}
    weights = [1 / (rank + 1) for rank in range(len(VOCABULARY))]
    start = datetime(2025, 1, 1, tzinfo=UTC)
    made = 0
    while made < count:
        n = min(BATCH, count - made)
        messages, words_of, alerts = [], [], []
        for i in range(n):
            words = set(rng.choices(VOCABULARY, weights=weights, k=12))
            alert = rng.random() < 1 / 3
            operation = operations[(made + i) % operation_count]
            messages.append(
                Message(
                    operation=operation,
                    sender=ocu if alert else rng.choice(officers),
                    kind="alert" if alert else "free_text",
                    subject=" ".join(sorted(words)[:3]),
                    body=" ".join(sorted(words)),
                    priority="urgent" if rng.random() < 0.1 else "normal",
                    created_at=start + timedelta(seconds=30 * (made + i)),
                )
            )
            words_of.append(words)
            alerts.append(alert)
        Message.objects.bulk_create(messages)
        details, subjects, deliveries, tokens = [], [], [], []
        for message, words, alert in zip(messages, words_of, alerts, strict=True):
            tokens += [
                SearchToken(
                    message=message,
                    operation_id=message.operation_id,
                    field="keyword",
                    digest=keyword[w],
                )
                for w in words
            ]
            for user in rng.sample(officers, 5):
                if user.pk != message.sender_id:
                    deliveries.append(Delivery(message=message, recipient=user))
            if alert:
                flight = f"ET{rng.randrange(100, 999)}"
                document = f"P{message.pk:08d}"
                details.append(
                    AlertDetails(
                        message=message,
                        flight_number=flight,
                        flight_date=date(2025, 6, 1),
                        departure_airport="GRU",
                        destination_airport="DSS",
                    )
                )
                subjects.append(
                    AlertSubject(
                        message=message,
                        name=f"Passenger {message.pk}",
                        document_number=document,
                        pnr=f"R{message.pk:05d}",
                    )
                )
                for field, value in (
                    (SearchField.FLIGHT, flight),
                    (SearchField.DOCUMENT, document),
                    (SearchField.PNR, f"R{message.pk:05d}"),
                ):
                    tokens.append(
                        SearchToken(
                            message=message,
                            operation_id=message.operation_id,
                            field=field,
                            digest=blind_index(
                                normalise_token(value, field.value), purpose=field.value
                            ),
                        )
                    )
        AlertDetails.objects.bulk_create(details)
        AlertSubject.objects.bulk_create(subjects)
        Delivery.objects.bulk_create(deliveries)
        SearchToken.objects.bulk_create(tokens, batch_size=10_000)
        made += n
        if made % 20_000 == 0 or made == count:
            log(f"  {made:,} messages")
    with connection.cursor() as cursor:
        # What autovacuum does to a table in use: statistics and the visibility map (without
        # it, index-only scans of a freshly bulk-loaded table fetch every heap page).
        cursor.execute("VACUUM ANALYZE")


def timed(label: str, runs: int, function) -> tuple[str, float, float, int]:
    """Median and p95 in ms of ``runs`` calls after a warm-up one, and what that one returned:
    a number of rows, or the rows themselves (counted)."""
    found = function()
    rows = found if isinstance(found, int) else len(found)
    samples = []
    for _n in range(runs):
        started = time.perf_counter()
        function()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return label, statistics.median(samples), p95, rows


def main() -> int:
    args = parse_args()
    sys.path.insert(0, str(ROOT))
    from bench.fanout import drop_database, recreate_database, service_urls

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
        from accounts.models import Membership, User
        from messaging.models import AlertSubject, Message, SearchToken
        from messaging.selectors import search_messages

        if not args.reuse_db:
            started = time.monotonic()
            log(
                f"migrating and inserting {args.messages:,} messages "
                f"over {args.operations} operations"
            )
            seed(args.messages, args.operations, rng)
            log(f"seeded in {time.monotonic() - started:.0f} s")
        args.messages = Message.objects.count()
        log(f"{args.messages:,} messages, {SearchToken.objects.count():,} search tokens")
        # One officer of the first operation, and a document number they can see there.
        officer = User.objects.get(username="bench.officer000")
        membership = Membership.objects.get(user=officer, operation__slug="bench")
        visible = AlertSubject.objects.filter(
            message__operation_id=membership.operation_id,
            message__deliveries__recipient=officer,
        ).first()
        document = visible.document_number if visible else "P00000001"

        def first_page(**filters):
            def run():
                return len(
                    list(search_messages(user=officer, membership=membership, **filters)[:50])
                )

            return run

        figures = [
            timed("keyword search q='word1 word2'", args.runs, first_page(q="word1 word2")),
            timed("keyword search, rare word q='word4321'", args.runs, first_page(q="word4321")),
            timed(
                f"identifier search document={document}", args.runs, first_page(document=document)
            ),
            timed(
                "filtered listing kind=alert priority=urgent",
                args.runs,
                first_page(kind="alert", priority="urgent"),
            ),
        ]
        print()
        print(
            f"Search benchmark: {args.messages:,} messages, {args.runs} runs each, "
            f"as one officer (first page of 50)"
        )
        print(f"  {'measure':<52} {'p50':>9} {'p95':>9} {'rows':>5}")
        for label, p50, p95, rows in figures:
            print(f"  {label:<52} {p50:>6.1f} ms {p95:>6.1f} ms {rows:>5}")
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
