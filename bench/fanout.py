#!/usr/bin/env python
"""Websocket fan-out benchmark: an OCU broadcasts, N officers' websockets receive.

Run it from the repository root, with PostgreSQL and Redis running:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python bench/fanout.py --clients 200

    make bench                                     # the same, with the defaults
    .venv/bin/python bench/fanout.py --clients 1000 --servers 2 --messages 20

What it does, by itself:

1. drops and recreates a throwaway database (``--database``, default ``aircop_bench``) on the
   PostgreSQL server of ``DATABASE_URL`` (that URL's own database is never touched), migrates it;
2. creates one operation with one OCU and N officers (bulk inserts) and an API token for each
   (``accounts.services.api_token_create``);
3. starts ``--servers`` daphne processes (default 1) on that database, sharing the Redis channel
   layer under a prefix of this run (``bench/server_settings.py``; DEBUG off);
4. connects N websocket clients (asyncio + websockets, ``Authorization: Bearer``, no Origin),
   spread round-robin over the servers, each waiting for ``hello`` and a ``resume.done``;
5. has the OCU send ``--messages`` messages (default 20), one after the other, to all officers
   through ``POST /api/v1/operations/bench/messages`` on the first server; after each 201 it waits
   until every client has the event (or ``--timeout`` seconds) before the next send;
6. prints, over every (message, recipient) pair, the latency in ms from the 201 ("send
   accepted") to the event's arrival at the client: p50 / p95 / p99 / max, and the same from the
   moment the POST left and from the message's server-side ``created_at``; the pairs that never
   arrived ("lost") and the events that came twice ("duplicates"); the environment;
7. stops its servers, deletes its Redis keys, drops the database (``--keep-db`` keeps it), and
   exits 1 if an event was lost, came twice, or a client failed to connect.

Events are pushed when the send commits, before the HTTP response is written, so an event can
arrive before its 201: such latencies "from 201" are negative. The clients run in this one
process, on the same machine as the servers: on a small machine they compete for the CPU, and
the figures include that.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
SLUG = "bench"


# --- arguments and environment -----------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Websocket fan-out benchmark (see the top of this file).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--clients", type=int, default=200, help="officers, one websocket each")
    parser.add_argument("--messages", type=int, default=20, help="broadcasts, sent one by one")
    parser.add_argument("--servers", type=int, default=1, help="daphne processes sharing Redis")
    parser.add_argument("--database", default="aircop_bench", help="throwaway database name")
    parser.add_argument(
        "--timeout", type=float, default=30.0, help="seconds to wait for one message's fan-out"
    )
    parser.add_argument(
        "--connect-concurrency", type=int, default=50, help="websocket handshakes in flight"
    )
    parser.add_argument("--keep-db", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    if args.clients < 1 or args.messages < 1 or args.servers < 1:
        parser.error("--clients, --messages and --servers must be at least 1")
    return args


def service_urls(database: str) -> tuple[str, str, str]:
    """(admin URL of the PostgreSQL server, URL of the bench database, Redis URL)."""
    admin = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    parsed = urlparse(admin)
    if parsed.scheme not in ("postgres", "postgresql"):
        sys.exit(f"DATABASE_URL must point at PostgreSQL, not {parsed.scheme or admin!r}")
    if not redis_url.startswith("redis://"):
        sys.exit("REDIS_URL must point at Redis (redis://...)")
    if parsed.path.lstrip("/") == database:
        sys.exit(f"--database {database} is DATABASE_URL's own database: choose another name")
    return admin, urlunparse(parsed._replace(path=f"/{database}")), redis_url


def raise_open_files_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else 65536
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


# --- database: recreate, migrate, seed -----------------------------------------------------


def recreate_database(admin_url: str, database: str) -> None:
    import psycopg
    from psycopg import sql

    name = sql.Identifier(database)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(name))


def drop_database(admin_url: str, database: str) -> None:
    import psycopg
    from psycopg import sql

    name = sql.Identifier(database)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))


@dataclass
class Seed:
    ocu_secret: str
    officer_secrets: list[str]
    officer_usernames: list[str]


def seed(clients: int) -> Seed:
    """One operation, one OCU, ``clients`` officers, a token each (Django already set up)."""
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import transaction

    from accounts.models import Membership, Operation, OperationStatus, Role, User
    from accounts.services import api_token_create

    call_command("migrate", verbosity=0, interactive=False)
    unusable = make_password(None)
    today = date.today()
    with transaction.atomic():
        operation = Operation.objects.create(
            name="Fan-out bench",
            slug=SLUG,
            start_date=today,
            end_date=today + timedelta(days=30),
            status=OperationStatus.ACTIVE,
        )
        ocu = User(
            username="bench.ocu",
            full_name="Bench OCU",
            email="bench.ocu@example.org",
            country="BE",
            airport="BRU",
            password=unusable,
        )
        officers = [
            User(
                username=f"bench.officer{n:05d}",
                full_name=f"Bench officer {n}",
                email=f"bench.officer{n:05d}@example.org",
                country="SN",
                airport="DSS",
                password=unusable,
            )
            for n in range(clients)
        ]
        User.objects.bulk_create([ocu, *officers], batch_size=1000)
        users = {u.username: u for u in User.objects.filter(username__startswith="bench.")}
        Membership.objects.bulk_create(
            [Membership(user=users[ocu.username], operation=operation, role=Role.OCU)]
            + [
                Membership(user=users[o.username], operation=operation, role=Role.OFFICER)
                for o in officers
            ],
            batch_size=1000,
        )
        ocu_secret = api_token_create(user=users[ocu.username], name="bench", days=1)[1]
        officer_secrets = [
            api_token_create(user=users[o.username], name="bench", days=1)[1] for o in officers
        ]
    return Seed(ocu_secret, officer_secrets, [o.username for o in officers])


# --- servers --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    port: int
    process: subprocess.Popen
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(env: dict[str, str], log_dir: Path, name: str) -> Server:
    port = free_port()
    log_path = log_dir / f"{name}-{port}.log"
    with log_path.open("w") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "daphne",
                "--verbosity",
                "0",  # no access log; errors still reach the log through Django's logging
                "-b",
                "127.0.0.1",
                "-p",
                str(port),
                "aircop.asgi:application",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"daphne exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return Server(port, process, log_path)
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"daphne did not listen on {port} within 60 s:\n{log_path.read_text()}")


def server_problems(servers: list[Server]) -> str:
    """A summary of the errors the servers logged, with the first traceback; '' if none."""
    markers = ("Exception inside application", "Internal Server Error")
    lines = [line for s in servers for line in s.log_path.read_text().splitlines()]
    counts = {m: sum(1 for line in lines if line.startswith(m)) for m in markers}
    if not any(counts.values()) and not any(line.startswith("Traceback") for line in lines):
        return ""
    summary = ", ".join(f"{n} × {m!r}" for m, n in counts.items())
    first = next(i for i, line in enumerate(lines) if line.startswith(("Traceback", *markers)))
    end = next(
        (i for i in range(first + 1, len(lines)) if lines[i].startswith(markers)), len(lines)
    )
    tail = [line for line in lines[first:end] if line.strip()][-25:]
    return (
        "  the servers logged errors: "
        + summary
        + "; the first one ends:\n    "
        + ("\n    ".join(tail))
    )


def delete_redis_keys(redis_url: str, prefix: str) -> int:
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start : start + 1000])
        return len(keys)
    finally:
        client.close()


# --- clients and the broadcast ------------------------------------------------------------


@dataclass
class Client:
    index: int
    received: dict[int, float] = field(default_factory=dict)  # message id -> wall-clock time
    created_at: dict[int, float] = field(default_factory=dict)
    duplicates: int = 0
    error: str | None = None


@dataclass
class Sent:
    message_id: int
    posted: float  # the POST left
    accepted: float  # its 201 arrived
    recipients: int
    done: asyncio.Event = field(default_factory=asyncio.Event)
    count: int = 0


class Bench:
    def __init__(self, args, seed_data: Seed, servers: list[Server]):
        self.args, self.seed, self.servers = args, seed_data, servers
        self.clients = [Client(n) for n in range(args.clients)]
        self.sent: dict[int, Sent] = {}
        self.failed_sends: list[tuple[int, int, str]] = []  # (message no., HTTP status, body)
        self.stop = asyncio.Event()

    def _record(self, client: Client, event: dict, now: float) -> None:
        message = event["message"]
        message_id = message["id"]
        if message_id in client.received:
            client.duplicates += 1
            return
        client.received[message_id] = now
        client.created_at[message_id] = datetime.fromisoformat(message["created_at"]).timestamp()
        sent = self.sent.get(message_id)
        if sent is None:  # before its 201 (or a send answered with an error)
            return
        sent.count += 1
        if sent.count >= self.args.clients:
            sent.done.set()

    async def _client(self, client: Client, gate: asyncio.Semaphore, ready: asyncio.Queue) -> None:
        from websockets.asyncio.client import connect

        server = self.servers[client.index % len(self.servers)]
        headers = {"Authorization": f"Bearer {self.seed.officer_secrets[client.index]}"}
        try:
            async with gate:
                ws = await connect(
                    server.ws_url,
                    additional_headers=headers,
                    open_timeout=60,
                    max_queue=None,
                    ping_interval=None,
                )
                hello = json.loads(await asyncio.wait_for(ws.recv(), 60))
                if hello.get("type") != "hello":
                    raise RuntimeError(f"expected hello, got {hello}")
                await ws.send(json.dumps({"type": "resume", "after": 0}))
                while json.loads(await asyncio.wait_for(ws.recv(), 60))["type"] != "resume.done":
                    pass
        except Exception as exc:
            client.error = f"{type(exc).__name__}: {exc}"
            await ready.put(client)
            return
        await ready.put(client)
        try:
            async for raw in ws:
                now = time.time()
                event = json.loads(raw)
                if event.get("type") == "message.new":
                    self._record(client, event, now)
        except Exception as exc:  # the connection dropped
            if not self.stop.is_set():
                client.error = f"{type(exc).__name__}: {exc}"
        finally:
            await ws.close()

    async def run(self) -> None:
        import httpx

        gate = asyncio.Semaphore(self.args.connect_concurrency)
        ready: asyncio.Queue = asyncio.Queue()
        started = time.monotonic()
        tasks = [asyncio.create_task(self._client(c, gate, ready)) for c in self.clients]
        for _ in self.clients:
            await ready.get()
        failed = [c for c in self.clients if c.error]
        log(
            f"{len(self.clients) - len(failed)} of {len(self.clients)} websockets connected in "
            f"{time.monotonic() - started:.1f} s"
            + (f"; first failure: {failed[0].error}" if failed else "")
        )
        body = "Bench broadcast. " * 20
        async with httpx.AsyncClient(base_url=self.servers[0].url, timeout=60) as http:
            for n in range(self.args.messages):
                posted = time.time()
                response = await http.post(
                    f"/api/v1/operations/{SLUG}/messages",
                    headers={"Authorization": f"Bearer {self.seed.ocu_secret}"},
                    json={
                        "kind": "free_text",
                        "subject": f"Bench {n}",
                        "body": body,
                        "to": {"officers": True},
                    },
                )
                accepted = time.time()
                if response.status_code != 201:
                    text = " ".join(response.text.split())[:200]
                    self.failed_sends.append((n, response.status_code, text))
                    log(f"message {n}: HTTP {response.status_code}: {text}")
                    continue
                payload = response.json()
                sent = Sent(payload["id"], posted, accepted, len(payload["recipients"]))
                sent.count = sum(1 for c in self.clients if sent.message_id in c.received)
                self.sent[sent.message_id] = sent
                if sent.count >= self.args.clients:
                    sent.done.set()
                try:
                    await asyncio.wait_for(sent.done.wait(), self.args.timeout)
                except TimeoutError:
                    log(f"message {n}: {sent.count}/{self.args.clients} after {self.args.timeout}s")
        # Let late duplicates show themselves before closing.
        await asyncio.sleep(1.0)
        self.stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


# --- figures --------------------------------------------------------------------------------


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def summary(label: str, values: list[float]) -> str:
    if not values:
        return f"  {label:<24} (none)"
    ms = [v * 1000 for v in values]
    return (
        f"  {label:<24} p50 {percentile(ms, 50):8.1f}   p95 {percentile(ms, 95):8.1f}   "
        f"p99 {percentile(ms, 99):8.1f}   max {max(ms):8.1f}   mean {statistics.fmean(ms):8.1f}"
    )


def report(bench: Bench, args, setup_seconds: float) -> int:
    from_accepted, from_posted, from_created = [], [], []
    lost = duplicates = 0
    for sent in bench.sent.values():
        for client in bench.clients:
            at = client.received.get(sent.message_id)
            if at is None:
                lost += 1
                continue
            from_accepted.append(at - sent.accepted)
            from_posted.append(at - sent.posted)
            from_created.append(at - client.created_at[sent.message_id])
    duplicates = sum(c.duplicates for c in bench.clients)
    failed = [c for c in bench.clients if c.error]
    short = [s for s in bench.sent.values() if s.recipients != args.clients]
    before_201 = sum(1 for v in from_accepted if v < 0)
    expected = len(bench.sent) * args.clients

    print()
    print("aircop websocket fan-out")
    print(
        f"  environment: {os.cpu_count()} CPUs, {platform.python_implementation()} "
        f"{platform.python_version()}, {platform.system()} {platform.release()}; "
        f"{args.servers} daphne process(es) + this client process on the same machine; "
        "PostgreSQL + Redis channel layer"
    )
    print(
        f"  load: {args.clients} websocket clients, {len(bench.sent)} broadcasts to all of them, "
        f"sent one at a time = {expected} deliveries expected (set-up {setup_seconds:.1f} s)"
    )
    print("  latency per recipient, ms:")
    print(summary("201 → event", from_accepted))
    print(summary("POST sent → event", from_posted))
    print(summary("created_at → event", from_created))
    print(summary("send: POST → 201", [s.accepted - s.posted for s in bench.sent.values()]))
    print(
        f"  received {len(from_accepted)} / {expected}; lost {lost}; duplicates {duplicates}; "
        f"events that arrived before their 201: {before_201}; "
        f"clients that failed: {len(failed)}"
    )
    if short:
        print(f"  sends whose 201 listed fewer than {args.clients} recipients: {len(short)}")
    if failed:
        print(f"  first client failure: {failed[0].error}")
    orphans = sum(1 for c in bench.clients for i in c.received if i not in bench.sent)
    if bench.failed_sends:
        n, status, text = bench.failed_sends[0]
        print(
            f"  sends refused: {len(bench.failed_sends)} of {args.messages} (first: message {n}, "
            f"HTTP {status}: {text}); events received for them: {orphans}"
        )
    ok = not (lost or duplicates or failed or short or bench.failed_sends)
    print("  result:", "OK" if ok else "FAILED (lost or duplicate events, failed sends or clients)")
    return 0 if ok else 1


# --- main -------------------------------------------------------------------------------------


def main() -> int:
    args = parse_args()
    admin_url, bench_url, redis_url = service_urls(args.database)
    prefix = f"aircop-bench-{uuid.uuid4().hex[:12]}"
    open_files = raise_open_files_limit()
    if open_files < 2 * args.clients + 200:
        log(f"warning: open-files limit {open_files} may be too low for {args.clients} clients")

    os.environ.update(
        {
            "DATABASE_URL": bench_url,
            "REDIS_URL": redis_url,
            "DJANGO_SETTINGS_MODULE": "bench.server_settings",
            "AIRCOP_CHANNEL_PREFIX": prefix,
            "DJANGO_DEBUG": "0",
            "DJANGO_LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
    )
    sys.path.insert(0, str(ROOT))
    log_dir = Path(tempfile.mkdtemp(prefix="aircop-bench-"))
    servers: list[Server] = []
    code = 1
    started = time.monotonic()
    try:
        log(f"recreating database {args.database!r}")
        recreate_database(admin_url, args.database)
        import django

        django.setup()
        log(f"migrating, creating 1 OCU + {args.clients} officers and their tokens")
        seed_data = seed(args.clients)
        from django.db import connections

        connections.close_all()
        log(f"starting {args.servers} daphne process(es)")
        servers = [
            start_server(dict(os.environ), log_dir, f"daphne{n}") for n in range(args.servers)
        ]
        bench = Bench(args, seed_data, servers)
        setup_seconds = time.monotonic() - started
        asyncio.run(bench.run())
        code = report(bench, args, setup_seconds)
        for server in servers:
            if server.process.poll() is not None:
                print(f"  server on {server.port} died ({server.process.returncode}); log:")
                print(server.log_path.read_text()[-3000:])
                code = 1
    except KeyboardInterrupt:
        log("interrupted")
        code = 130
    finally:
        for server in servers:
            server.stop()
        problems = server_problems(servers)
        if problems:
            print(problems)
            print(f"  (server logs kept in {log_dir})")
            code = code or 1
        else:
            shutil.rmtree(log_dir, ignore_errors=True)
        try:
            deleted = delete_redis_keys(redis_url, prefix)
            log(f"deleted {deleted} Redis keys under {prefix}")
        except Exception as exc:
            log(f"could not delete Redis keys under {prefix}: {exc}")
        if not args.keep_db:
            try:
                from django.db import connections

                connections.close_all()
            except Exception:  # noqa: S110 (Django may never have been set up)
                pass
            drop_database(admin_url, args.database)
            log(f"dropped database {args.database!r}")
    return code


if __name__ == "__main__":
    sys.exit(main())
