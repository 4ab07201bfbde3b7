#!/usr/bin/env python
"""The send path alone: CPU time and queries of one API send, in-process, on PostgreSQL.

Run it from the repository root, with PostgreSQL and Redis running:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python bench/send.py                       # 300 sends to groups of 50
    .venv/bin/python bench/send.py --sends 1000 --group-size 50 --queries

What it does, by itself:

1. drops and recreates a throwaway database (``--database``, default ``aircop_bench_send``) on the
   PostgreSQL server of ``DATABASE_URL`` (never that URL's own database), migrates it, creates
   ``--groups`` operations of ``--group-size`` officers and one OCU, with API tokens (as
   bench/sustained.py does);
2. sends ``--sends`` free-text messages as the OCU to the officers of one operation after the
   other, through the project's own ASGI application (``aircop.asgi``, driven by httpx's ASGI
   transport) and the real API (middleware, authentication, validation, the service in the
   request's worker thread as under an ASGI server, the commit, the event published to the
   Redis channel layer from the event loop), one at a time: the cost of one send on a web
   process with nothing else to do, which bounds how many a process accepts a second;
3. prints the wall and CPU time per send (mean, p50, p99) of this process and of PostgreSQL (read
   from /proc, on Linux with a local server), the queries per send (and with ``--queries``, the
   SQL of one send); drops the database (unless ``--keep-db``).

To see where the time goes, sample it from outside while it runs, on the thread holding the GIL:
``py-spy record --gil -p <pid> -f raw -o send.txt`` (py-spy is not a dependency of the project).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from collections import deque
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.fanout import (  # noqa: E402
    drop_database,
    group_slug,
    load_average,
    log,
    percentile,
    postgres_cpu_seconds,
    recreate_database,
    seed_groups,
    service_urls,
)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Send path benchmark (see the top of this file).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--sends", type=int, default=300)
    parser.add_argument("--groups", type=int, default=10)
    parser.add_argument("--group-size", type=int, default=50)
    parser.add_argument("--queries", action="store_true", help="print the SQL of one send")
    parser.add_argument("--database", default="aircop_bench_send")
    parser.add_argument("--keep-db", action="store_true")
    return parser.parse_args()


async def send_all(
    args, ocu_secret: str
) -> tuple[list[float], list[float], list[int], list[str], float | None]:
    import httpx
    from django.db.backends.signals import connection_created

    from aircop.asgi import application

    # The real ASGI application, in this process: Django runs each request's view on a thread
    # of its own, with a connection of its own (from the pool). Each such connection logs the
    # statements it sends into one log, read after each send: through an execute wrapper, which
    # costs next to nothing (Django's debug cursor, which formats every query, cost a tenth of
    # a send's CPU); BEGIN and COMMIT are not statements of the cursor and are not counted.
    queries_log: deque = deque()

    def log_query(execute, sql, params, many, context):
        queries_log.append(sql)
        return execute(sql, params, many, context)

    def log_queries(sender, connection, **kwargs) -> None:
        # Once per connection object: a kept request thread reuses its own for each new
        # connection it takes from the pool.
        if log_query not in connection.execute_wrappers:
            connection.execute_wrappers.append(log_query)

    connection_created.connect(log_queries)
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=application), base_url="http://testserver"
    )
    headers = {"Authorization": f"Bearer {ocu_secret}"}
    walls, cpus, counts, one_send = [], [], [], []

    async def send(n: int) -> None:
        response = await client.post(
            f"/api/v1/operations/{group_slug(n % args.groups)}/messages",
            json={
                "kind": "free_text",
                "subject": f"Send {n}",
                "body": "Send path. " * 10,
                "to": {"officers": True},
            },
            headers=headers,
        )
        if response.status_code != 201:
            sys.exit(f"send {n}: {response.status_code} {response.content[:300]!r}")

    for n in range(20):  # warm-up: imports, caches, connections
        await send(n)
    postgres_before = postgres_cpu_seconds()
    for n in range(args.sends):
        queries_log.clear()
        wall, cpu = time.perf_counter(), time.process_time()
        await send(n)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
        counts.append(len(queries_log))
        if n == 0:
            one_send = list(queries_log)
    postgres_after = postgres_cpu_seconds()
    postgres = None if postgres_before is None else (postgres_after - postgres_before) / args.sends
    await client.aclose()
    return walls, cpus, counts, one_send, postgres


def main() -> int:
    args = parse_args()
    admin_url, bench_url, redis_url = service_urls(args.database)
    os.environ.update(
        {
            "DATABASE_URL": bench_url,
            "REDIS_URL": redis_url,
            "DJANGO_SETTINGS_MODULE": "bench.server_settings",
            "AIRCOP_CHANNEL_PREFIX": f"aircop-bench-{uuid.uuid4().hex[:12]}",
            "DJANGO_DEBUG": "0",
            "DJANGO_LOG_LEVEL": "WARNING",
        }
    )
    load_before = load_average()
    log(f"recreating database {args.database!r}")
    recreate_database(admin_url, args.database)
    try:
        import django

        django.setup()
        from django.conf import settings

        settings.ALLOWED_HOSTS = ["testserver", *settings.ALLOWED_HOSTS]
        officers = args.groups * args.group_size
        log(f"migrating, creating 1 OCU + {officers} officers in {args.groups} operations")
        seeded = seed_groups(args.groups, args.group_size)
        log(f"sending {args.sends} messages, one at a time")
        walls, cpus, counts, one_send, postgres = asyncio.run(send_all(args, seeded.ocu_secret))
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep_db:
            drop_database(admin_url, args.database)

    def ms(values: list[float]) -> str:
        values = [v * 1000 for v in values]
        return (
            f"mean {statistics.fmean(values):.1f} ms, p50 {percentile(values, 50):.1f} ms, "
            f"p99 {percentile(values, 99):.1f} ms"
        )

    if args.queries:
        print("\nthe statements of one send (besides BEGIN and COMMIT):")
        for number, sql in enumerate(one_send, 1):
            print(f"  {number:2d}. {sql[:300]}")
    print()
    print(
        f"aircop send path: {args.sends} API sends (free text) to groups of {args.group_size}, "
        f"one at a time, in-process (the ASGI application, through httpx), PostgreSQL + Redis"
    )
    print(f"  wall per send: {ms(walls)}")
    print(f"  CPU per send (this process): {ms(cpus)}")
    if postgres is not None:
        print(f"  CPU per send (PostgreSQL, every postgres process): mean {postgres * 1000:.1f} ms")
    print(f"  statements per send (besides BEGIN and COMMIT): {min(counts)}–{max(counts)}")
    print(f"  load average before {load_before}, after {load_average()}")
    print("command:", " ".join(["python", "bench/send.py", *sys.argv[1:]]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
