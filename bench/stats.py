#!/usr/bin/env python
"""Statistics benchmark: an operation's results and a country × year pivot over 200,000 seizures.

Run it from the repository root, with PostgreSQL running:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/stats.py
    .venv/bin/python bench/stats.py --seizures 50000 --runs 5 --keep-db

What it does, by itself:

1. drops and recreates a throwaway database (``--database``, default ``aircop_bench``) on the
   PostgreSQL server of ``DATABASE_URL`` (that URL's own database is never touched), migrates it;
2. creates 40 operations (two a year, 2005-2024, a few weeks each), 300 officers spread over
   them and one OCU who is a member of every operation (the pivot then covers all seizures);
3. bulk-inserts ``--seizures`` seizures (default 200,000): operations weighted (a few large ones),
   dates inside each operation, commodities, airports, departures (an airport, a country or
   none) and 0-3 transit stops drawn from realistic weights, as a pool of ``--routes`` routes
   (default 400, a few of them very common; ``--routes 0``: every route drawn at random, the
   worst case for the pivot); 3 % outside any operation;
4. times, median, p95 and max of ``--runs`` runs (after one warm-up), and the median CPU time
   of the client process plus the PostgreSQL backends (read from /proc, so only with a local
   server; the load average is printed too, as wall times follow it on a shared machine):
   ``operation_results`` for the largest operation, the pivot departure_or_transit_country ×
   year (count) for the OCU, the same pivot with a commodity filter, and the two pages through
   Django's test client;
5. prints the figures against the 200 ms target, drops the database (``--keep-db`` keeps it),
   and exits 1 if a median is over the target.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_MS = 200.0

AIRPORTS = {  # airport of seizure: weight
    "CDG": 14,
    "AMS": 12,
    "MAD": 10,
    "BRU": 8,
    "LIS": 8,
    "FRA": 7,
    "DSS": 6,
    "LOS": 6,
    "GRU": 6,
    "ACC": 4,
    "ABJ": 3,
    "ADD": 3,
    "CMN": 3,
    "BKO": 2,
    "LFW": 2,
    "RAI": 2,
    "NBO": 2,
    "JNB": 2,
    "DLA": 1,
    "LBV": 1,
    "COO": 1,
    "CKY": 1,
    "BJL": 1,
    "OUA": 1,
}
ROUTE = {  # departure or transit stop (IATA airport or ISO country): weight
    "GRU": 12,
    "LOS": 12,
    "ACC": 8,
    "DSS": 6,
    "BKO": 4,
    "CKY": 4,
    "BJL": 3,
    "COO": 3,
    "ADD": 6,
    "CMN": 4,
    "LFW": 3,
    "RAI": 3,
    "ABJ": 3,
    "NBO": 2,
    "JNB": 2,
    "BOG": 4,
    "CCS": 3,
    "EZE": 2,
    "NG": 4,
    "GH": 2,
    "SN": 2,
    "BR": 3,
    "ML": 1,
    "GN": 1,
    "GW": 1,
    "CV": 1,
    "TG": 1,
}
COMMODITIES = {  # commodity: (weight, unit, typical quantity)
    "cocaine": (40, "kg", 2.0),
    "cannabis": (15, "kg", 12.0),
    "heroin": (6, "kg", 1.5),
    "methamphetamine": (4, "kg", 1.0),
    "khat": (6, "kg", 30.0),
    "tobacco": (6, "units", 2000),
    "medicines": (5, "units", 500),
    "currency": (8, "units", 1),
    "precursors": (1, "l", 200),
    "cites": (2, "pieces", 5),
    "arms": (1, "units", 2),
    "cultural_goods": (1, "pieces", 1),
    "false_documents": (4, "units", 1),
    "other": (1, "kg", 3.0),
}
CONCEALMENTS = (
    ["checked_baggage"] * 5
    + ["cabin_baggage", "on_body", "ingested"] * 2
    + ["air_cargo", "postal", "other"]
)
DETECTIONS = ["profiling"] * 4 + ["passenger_data", "dog", "scanner", "random", "intelligence"] * 2


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Statistics benchmark (see the top of this file).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--seizures", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=7, help="timed runs of each measure")
    parser.add_argument("--database", default="aircop_bench", help="throwaway database name")
    parser.add_argument("--seed", type=int, default=2010, help="random seed")
    parser.add_argument(
        "--routes",
        type=int,
        default=400,
        help="distinct routes (departure + transit stops) flown, Zipf-weighted; 0 draws every "
        "seizure's route at random (tens of thousands of distinct routes: the worst case)",
    )
    parser.add_argument("--keep-db", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--reuse-db",
        action="store_true",
        help="time the database kept by an earlier --keep-db run (migrated, not reseeded; "
        "implies --keep-db): fast iterations",
    )
    return parser.parse_args()


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


def _pick(rng: random.Random, weights: dict):
    return rng.choices(
        list(weights), weights=[w[0] if isinstance(w, tuple) else w for w in weights.values()]
    )[0]


def seed(count: int, rng: random.Random, routes: int):
    """40 operations, 300 officers, one OCU in every operation, ``count`` seizures."""
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import connection, transaction

    from accounts.models import Membership, Operation, OperationStatus, Role, User
    from seizures.models import RouteCountries, Seizure
    from seizures.routes import month_key

    call_command("migrate", verbosity=0, interactive=False)
    unusable = make_password(None)
    with transaction.atomic():
        operations = []
        for year in range(2005, 2025):
            for half, month in enumerate((3, 10)):
                start = date(year, month, 1 + rng.randrange(10))
                operations.append(
                    Operation(
                        name=f"COCAIR {year}-{half + 1}",
                        slug=f"op{year}{half + 1}",
                        start_date=start,
                        end_date=start + timedelta(days=rng.choice((7, 14, 21, 30))),
                        status=OperationStatus.CLOSED,
                    )
                )
        Operation.objects.bulk_create(operations)
        operations = list(Operation.objects.order_by("start_date"))
        airports = list(AIRPORTS)
        users = [
            User(
                username="bench.ocu",
                full_name="Bench OCU",
                email="bench.ocu@example.org",
                country="BE",
                airport="BRU",
                password=unusable,
            )
        ] + [
            User(
                username=f"bench.officer{n:03d}",
                full_name=f"Bench officer {n}",
                email=f"bench.officer{n:03d}@example.org",
                airport=(code := airports[n % len(airports)]),
                country=_country_of(code),
                password=unusable,
            )
            for n in range(300)
        ]
        User.objects.bulk_create(users)
        ocu = User.objects.get(username="bench.ocu")
        officers = list(User.objects.filter(username__startswith="bench.officer"))
        memberships = [Membership(user=ocu, operation=op, role=Role.OCU) for op in operations]
        for officer in officers:
            for op in rng.sample(operations, 4):
                memberships.append(Membership(user=officer, operation=op))
        Membership.objects.bulk_create(memberships, ignore_conflicts=True)

    # A few large operations, many small ones.
    weights = [rng.paretovariate(1.2) for _ in operations]
    route = list(ROUTE)
    route_weights = list(ROUTE.values())

    def draw_route() -> tuple[str, list[str]]:
        departure = rng.choices(route, weights=route_weights)[0] if rng.random() < 0.85 else ""
        stops = rng.choices((0, 1, 2, 3), weights=(50, 35, 12, 3))[0]
        return departure, rng.choices(route, weights=route_weights, k=stops)

    # Traffickers fly the routes that exist: a pool of routes, a few of them very common.
    pool = [draw_route() for _ in range(routes)] if routes else []
    pool_weights = [1 / rank for rank in range(1, len(pool) + 1)]
    # What Seizure.save derives (bulk_create does not call it): each route's countries once.
    route_ids: dict[tuple, int] = {}

    def route_countries_id(departure: str, transit: list[str]) -> int:
        key = (departure, tuple(transit))
        if key not in route_ids:
            route_ids[key] = RouteCountries.for_route(departure, transit).pk
        return route_ids[key]

    batch: list[Seizure] = []
    inserted = 0
    for _n in range(count):
        op = None if rng.random() < 0.03 else rng.choices(operations, weights=weights)[0]
        if op is None:
            day = date(2005, 1, 1) + timedelta(days=rng.randrange(20 * 365))
        else:
            day = op.start_date + timedelta(
                days=rng.randrange((op.end_date - op.start_date).days + 1)
            )
        commodity = _pick(rng, COMMODITIES)
        _weight, unit, typical = COMMODITIES[commodity]
        airport = rng.choices(airports, weights=list(AIRPORTS.values()))[0]
        if pool:
            departure, transit = rng.choices(pool, weights=pool_weights)[0]
        else:
            departure, transit = draw_route()
        quantity = Decimal(str(round(max(0.001, rng.lognormvariate(0, 0.8) * typical), 3)))
        cash = commodity == "currency"
        amount = Decimal(rng.randrange(5_000, 500_000)) if cash else None
        seized_at = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(
            minutes=rng.randrange(1440)
        )
        batch.append(
            Seizure(
                operation=op,
                reported_by=rng.choice(officers),
                seized_at=seized_at,
                seized_month=month_key(seized_at),
                route_countries_id=route_countries_id(departure, transit),
                airport=airport,
                country=_country_of(airport),
                commodity=commodity,
                quantity=Decimal(1) if cash else quantity,
                unit=unit,
                currency="EUR" if cash else "",
                amount=amount,
                usd_value=(amount * Decimal("1.1")).quantize(Decimal("0.01")) if cash else None,
                concealment=rng.choice(CONCEALMENTS),
                detection=rng.choice(DETECTIONS),
                departure=departure,
                transit=transit,
                destination=rng.choice(("CDG", "MAD", "LIS", "AMS", "BRU", "FR", "")),
                persons_arrested=rng.choices((0, 1, 2, 3), weights=(20, 60, 15, 5))[0],
                companies_incriminated=1 if rng.random() < 0.03 else 0,
            )
        )
        if len(batch) == 5000:
            Seizure.objects.bulk_create(batch)
            inserted += len(batch)
            batch = []
            if inserted % 50_000 == 0:
                log(f"  {inserted:,} seizures")
    Seizure.objects.bulk_create(batch)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    largest = max(operations, key=lambda op: op.seizures.count())
    return ocu, largest


def reuse():
    """The OCU and the largest operation of a kept database, migrated to the current schema."""
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count

    from accounts.models import Operation, User

    log("migrating the kept database")
    call_command("migrate", verbosity=0, interactive=False)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE seizures_seizure")
    largest = Operation.objects.annotate(n=Count("seizures")).order_by("-n").first()
    return User.objects.get(username="bench.ocu"), largest


def _country_of(code: str) -> str:
    from accounts.airports import airport

    return code if len(code) == 2 else airport(code).country


def _database_cpu_seconds() -> float:
    """CPU time used so far by the PostgreSQL backends serving the benchmark's database (read
    from /proc: the server must run on this machine; 0 elsewhere). Parallel workers come and
    go and are not counted, so a parallel plan's CPU is under-counted."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND "
            "backend_type = 'client backend'"
        )
        pids = [pid for (pid,) in cursor.fetchall()]
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def timed(label: str, runs: int, function) -> tuple[str, float, float, float, float]:
    """label, median, p95 and max wall time (ms), and the median CPU time (ms) of this process
    plus the database backends: on a machine shared with other work, wall time varies with the
    load; CPU time much less."""
    function()  # warm-up: caches, connection
    samples, cpu = [], []
    for _n in range(runs):
        cpu_started = time.process_time() + _database_cpu_seconds()
        started = time.perf_counter()
        function()
        samples.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() + _database_cpu_seconds() - cpu_started) * 1000)
    p95 = statistics.quantiles(samples, n=20, method="inclusive")[18] if runs > 1 else samples[0]
    return label, statistics.median(samples), p95, max(samples), statistics.median(cpu)


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
            "DJANGO_ALLOWED_HOSTS": "testserver,localhost",
            "DJANGO_LOG_LEVEL": "WARNING",
        }
    )
    os.environ.pop("REDIS_URL", None)  # nothing here needs Redis
    rng = random.Random(args.seed)
    args.keep_db = args.keep_db or args.reuse_db
    if not args.reuse_db:
        log(f"recreating database {args.database!r}")
        recreate_database(admin_url, args.database)
    code = 1
    try:
        import django

        django.setup()
        from django.db import connections
        from django.test import Client

        from seizures.models import Seizure
        from seizures.statistics import operation_results, pivot_query_from, seizure_pivot
        from tests.otp import verify_client_session

        started = time.monotonic()
        if args.reuse_db:
            ocu, largest = reuse()
        else:
            log(f"migrating and inserting {args.seizures:,} seizures")
            ocu, largest = seed(args.seizures, rng, args.routes)
            log(f"seeded in {time.monotonic() - started:.0f} s")
        in_largest = Seizure.objects.filter(operation=largest).count()
        total = Seizure.objects.count()

        client = Client()
        client.force_login(ocu)
        verify_client_session(client, ocu)  # pages need a session verified by a second factor
        pivot = pivot_query_from({"rows": "departure_or_transit_country", "columns": "year"})
        pivot_cocaine = pivot_query_from(
            {"rows": "departure_or_transit_country", "columns": "year", "commodity": "cocaine"}
        )
        results_url = f"/o/{largest.slug}/results/"
        pivot_url = "/statistics/?rows=departure_or_transit_country&columns=year"

        def page(url):
            def get():
                response = client.get(url)
                assert response.status_code == 200, response.status_code

            return get

        figures = [
            timed(
                f"operation_results ({largest.slug}, {in_largest:,} seizures)",
                args.runs,
                lambda: operation_results(user=ocu, slug=largest.slug),
            ),
            timed(f"GET {results_url}", args.runs, page(results_url)),
            timed(
                f"pivot country × year, count ({total:,} seizures)",
                args.runs,
                lambda: seizure_pivot(user=ocu, query=pivot),
            ),
            timed(
                "pivot country × year, cocaine only",
                args.runs,
                lambda: seizure_pivot(user=ocu, query=pivot_cocaine),
            ),
            timed(f"GET {pivot_url}", args.runs, page(pivot_url)),
            timed(f"GET {pivot_url}&format=xlsx", args.runs, page(pivot_url + "&format=xlsx")),
        ]
        connections.close_all()
        from django.db import connection

        print()
        routes = f"{args.routes} routes" if args.routes else "random routes"
        print(
            f"Statistics benchmark: {total:,} seizures ({routes}), "
            f"{args.runs} runs each (after a warm-up)"
        )
        print(
            f"  Python {platform.python_version()}, {platform.machine()}, "
            f"PostgreSQL {connection.pg_version // 10000 if connection.pg_version else '?'}"
        )
        load = ", ".join(f"{n:.2f}" for n in os.getloadavg())
        print(f"  load average at the end: {load} ({os.cpu_count()} CPUs)")
        print(f"  {'measure':<62} {'median':>9} {'p95':>9} {'max':>9} {'cpu':>9}")
        over = False
        for label, median, p95, worst, cpu in figures:
            flag = "" if median < TARGET_MS else "  OVER TARGET"
            over = over or bool(flag)
            print(
                f"  {label:<62} {median:>6.1f} ms {p95:>6.1f} ms {worst:>6.1f} ms "
                f"{cpu:>6.1f} ms{flag}"
            )
        print(f"  target: median under {TARGET_MS:.0f} ms; cpu: median CPU time of the client")
        print("  and the database backend (parallel workers not counted)")
        code = 1 if over else 0
    finally:
        from django.db import connections

        connections.close_all()
        if args.keep_db:
            log(f"kept database {args.database!r}")
        else:
            drop_database(admin_url, args.database)
    return code


if __name__ == "__main__":
    sys.exit(main())
