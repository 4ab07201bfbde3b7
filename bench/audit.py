#!/usr/bin/env python
"""Audit trail benchmark: appending to the hash chain, alone and concurrently, and verifying it.

Run it from the repository root, with PostgreSQL running:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/audit.py
    .venv/bin/python bench/audit.py --appends 4000 --threads 1,4,8 --events 1000000

What it does, by itself:

1. drops and recreates a throwaway database (``--database``, default ``aircop_bench_audit``) on
   the PostgreSQL server of ``DATABASE_URL`` (that URL's own database is never touched),
   migrates it, creates users and an operation;
2. for each thread count of ``--threads``: ``--appends`` calls of ``audit_record``, each in its
   own transaction (as a service would), spread over the threads; prints commits per second and
   the p50 / p95 time of one append-and-commit; the same first with a plain INSERT in a scratch
   table (the baseline: same commits, no chain lock);
3. fills the trail to ``--events`` events (hashes computed as ``audit_record`` does, inserted in
   batches), then times ``manage.py verify_audit`` over the whole chain and the first page of the
   audit page's query (administrator, all events; OCU, one operation);
4. drops the database (unless ``--keep-db``).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BATCH = 2000


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Audit benchmark (see the top of this file).")
    parser.add_argument("--appends", type=int, default=2000)
    parser.add_argument("--threads", default="1,4,8")
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--database", default="aircop_bench_audit")
    parser.add_argument("--keep-db", action="store_true")
    return parser.parse_args()


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


def appends(
    total: int, threads: int, users: list, *, baseline: bool = False
) -> tuple[float, list[float]]:
    """``audit_record`` in a transaction each; with ``baseline``, a plain INSERT instead (the
    same commit, no chain): what the chain's lock costs."""
    from django.db import connection, connections, transaction

    from accounts.audit import audit_record

    def append(user, n):
        if baseline:
            with connection.cursor() as cursor:
                cursor.execute("INSERT INTO bench_baseline (n) VALUES (%s)", [n])
        else:
            audit_record(actor=user, action="message.read", data={"n": n})

    durations: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(threads)

    def work(user, count):
        mine = []
        barrier.wait()
        for n in range(count):
            started = time.perf_counter()
            with transaction.atomic():
                append(user, n)
            mine.append(time.perf_counter() - started)
        with lock:
            durations.extend(mine)
        connections.close_all()

    workers = [
        threading.Thread(target=work, args=(users[i], total // threads)) for i in range(threads)
    ]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return time.perf_counter() - started, durations


def fill(target: int, user, operation) -> None:
    """Bring the trail to ``target`` events, chained exactly as audit_record chains them."""
    from django.db import connection

    from accounts.audit.chain import event_hash, normalised_data
    from accounts.models import AuditEvent

    head = AuditEvent.objects.order_by("-sequence").values_list("sequence", "hash").first()
    sequence, prev = head
    moment = datetime.now(UTC) - timedelta(days=30)
    sql = (
        "INSERT INTO accounts_auditevent (sequence, prev_hash, hash, actor_id, operation_id, "
        "action, object_type, object_id, data, created_at) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s)"
    )
    rows = []
    while sequence < target:
        sequence += 1
        moment += timedelta(seconds=10)
        op_id = operation.pk if sequence % 3 else None
        data = normalised_data({"n": sequence, "ip": "192.0.2.1"})
        fields = {
            "sequence": sequence,
            "prev_hash": prev,
            "actor_id": user.pk,
            "operation_id": op_id,
            "action": "message.sent" if op_id else "user.logged_in",
            "object_type": "messaging.message" if op_id else "",
            "object_id": str(sequence) if op_id else "",
            "data": data,
            "created_at": moment,
        }
        prev = event_hash(**fields)
        rows.append(
            (
                sequence,
                fields["prev_hash"],
                prev,
                user.pk,
                op_id,
                fields["action"],
                fields["object_type"],
                fields["object_id"],
                json.dumps(data),
                moment,
            )
        )
        if len(rows) == BATCH or sequence == target:
            with connection.cursor() as cursor:
                cursor.executemany(sql, rows)
            rows = []


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
    log(f"recreating database {args.database!r}")
    recreate_database(admin_url, args.database)
    try:
        import django

        django.setup()
        from datetime import date

        from django.core.management import call_command
        from django.db import connection

        from accounts.audit.selectors import AuditFilters, audit_events_for
        from accounts.models import AuditEvent, Membership, Operation, Role, User

        call_command("migrate", verbosity=0, interactive=False)
        thread_counts = [int(t) for t in args.threads.split(",")]
        users = [
            User.objects.create(username=f"bench{n}", full_name=f"Bench {n}")
            for n in range(max(thread_counts))
        ]
        admin = User.objects.create(username="bench.admin", full_name="Admin", is_staff=True)
        operation = Operation.objects.create(
            name="Bench", slug="bench", start_date=date(2017, 12, 9), end_date=date(2017, 12, 17)
        )
        Membership.objects.create(user=users[0], operation=operation, role=Role.OCU)

        with connection.cursor() as cursor:
            cursor.execute("CREATE TABLE bench_baseline (id bigserial PRIMARY KEY, n integer)")
        for baseline in (True, False):
            what = "plain INSERT (baseline)" if baseline else "audit_record"
            for threads in thread_counts:
                elapsed, durations = appends(args.appends, threads, users, baseline=baseline)
                durations.sort()
                p95 = durations[int(len(durations) * 0.95)] * 1000
                log(
                    f"{what}, {threads} thread(s): {len(durations) / elapsed:,.0f} commits/s; "
                    f"one write + commit p50 {statistics.median(durations) * 1000:.2f} ms, "
                    f"p95 {p95:.2f} ms"
                )

        log(f"filling the trail to {args.events:,} events")
        fill(args.events, users[0], operation)
        out = io.StringIO()
        started = time.perf_counter()
        call_command("verify_audit", stdout=out)
        elapsed = time.perf_counter() - started
        count = AuditEvent.objects.count()
        log(
            f"verify_audit over {count:,} events: {elapsed:.1f} s "
            f"({count / elapsed:,.0f} events/s): {out.getvalue().splitlines()[0]}"
        )
        for label, user, filters in (
            ("administrator, all events", admin, AuditFilters()),
            ("OCU, its operation", users[0], AuditFilters(operation="bench")),
            ("administrator, one action", admin, AuditFilters(action="user.logged_in")),
        ):
            runs = []
            for _ in range(7):
                started = time.perf_counter()
                events = audit_events_for(user=user, filters=filters)
                total = events.count()
                first = list(events[:50])
                runs.append(time.perf_counter() - started)
            log(
                f"audit page query ({label}): count {total:,} + first 50 rows: "
                f"median {statistics.median(runs) * 1000:.1f} ms ({len(first)} rows)"
            )
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep_db:
            drop_database(admin_url, args.database)
            log(f"dropped database {args.database!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
