#!/usr/bin/env python
"""Websocket fan-out benchmark: an OCU broadcasts, N officers' websockets receive.

Run it from the repository root, with PostgreSQL and Redis running:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python bench/fanout.py --clients 200

    make bench                                     # the same, with the defaults
    .venv/bin/python bench/fanout.py --clients 1000 --servers 2 --messages 20
    # side by side in one run: daphne and uvicorn, RedisChannelLayer and RedisPubSubChannelLayer,
    # to 100 and to 1,000 recipients (docs/performance.md)
    .venv/bin/python bench/fanout.py --compare --clients 100,1000 --servers 2 --messages 50

What it does, by itself:

1. drops and recreates a throwaway database (``--database``, default ``aircop_bench``) on the
   PostgreSQL server of ``DATABASE_URL`` (that URL's own database is never touched), migrates it;
2. creates one OCU and N officers (bulk inserts) and an API token for each
   (``accounts.services.api_token_create``); one operation per size in ``--clients`` (a
   comma-separated list) with the first N officers;
3. starts ``--servers`` ASGI processes (default 1; ``--server`` daphne or uvicorn) on that
   database, sharing the Redis channel layer (``--layer`` core: RedisChannelLayer, or pubsub:
   RedisPubSubChannelLayer) under a prefix of this run (``bench/server_settings.py``; DEBUG off);
4. connects N websocket clients (asyncio + websockets, ``Authorization: Bearer``, no Origin),
   spread round-robin over the servers, each waiting for ``hello`` and a ``resume.done``;
5. has the OCU send ``--messages`` messages (default 20), one after the other, to all officers
   through ``POST /api/v1/operations/bench/messages`` on the first server; after each 201 it waits
   until every client has the event (or ``--timeout`` seconds) before the next send;
6. prints, over every (message, recipient) pair, the latency in ms from the 201 ("send
   accepted") to the event's arrival at the client: p50 / p95 / p99 / max, and the same from the
   moment the POST left and from the message's server-side ``created_at``; per broadcast, from
   the 201 to the *last* recipient's event (p50 / p99); the pairs that never arrived ("lost")
   and the events that came twice ("duplicates"); the environment and the machine's load
   average (``uptime``: the figures depend on what else runs);
7. stops its servers, deletes its Redis keys, and does it again for every (server, layer, size)
   asked (``--compare`` = both servers and both layers), then prints one table of them all;
   drops the database (``--keep-db`` keeps it), and exits 1 if an event was lost, came twice, or
   a client failed to connect.

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
    parser.add_argument(
        "--clients",
        default="200",
        help="officers, one websocket each; a comma-separated list runs each size",
    )
    parser.add_argument("--messages", type=int, default=20, help="broadcasts, sent one by one")
    parser.add_argument("--servers", type=int, default=1, help="ASGI processes sharing Redis")
    parser.add_argument("--server", choices=["daphne", "uvicorn", "both"], default="daphne")
    parser.add_argument(
        "--layer",
        choices=["core", "pubsub", "both"],
        default="core",
        help="core: RedisChannelLayer; pubsub: RedisPubSubChannelLayer",
    )
    parser.add_argument(
        "--compare", action="store_true", help="both servers and both layers, in one run"
    )
    parser.add_argument("--database", default="aircop_bench", help="throwaway database name")
    parser.add_argument(
        "--timeout", type=float, default=30.0, help="seconds to wait for one message's fan-out"
    )
    parser.add_argument(
        "--connect-concurrency", type=int, default=20, help="websocket handshakes in flight"
    )
    parser.add_argument("--keep-db", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    try:
        args.sizes = [int(n) for n in args.clients.split(",")]
    except ValueError:
        parser.error("--clients takes numbers separated by commas")
    if min(args.sizes) < 1 or args.messages < 1 or args.servers < 1:
        parser.error("--clients, --messages and --servers must be at least 1")
    if args.compare:
        args.server, args.layer = "both", "both"
    args.server_kinds = ["daphne", "uvicorn"] if args.server == "both" else [args.server]
    args.layers = ["core", "pubsub"] if args.layer == "both" else [args.layer]
    return args


def load_average() -> str:
    """The machine's load average (1, 5, 15 min), as ``uptime`` prints it."""
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f}, {five:.2f}, {fifteen:.2f}"


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


def _cpu_seconds(stat: str) -> float:
    """User + system CPU seconds in the text of a /proc/<pid>/stat."""
    fields = stat[stat.rfind(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU of one process so far (Linux /proc), or None where unreadable."""
    try:
        return _cpu_seconds(Path(f"/proc/{pid}/stat").read_text())
    except OSError:
        return None


def postgres_cpu_seconds() -> float | None:
    """User + system CPU of every ``postgres`` process of this machine so far (Linux /proc),
    or None where that cannot be read (another OS, a remote server)."""
    proc = Path("/proc")
    if not proc.is_dir():
        return None
    total = 0.0
    for entry in proc.iterdir():
        try:
            stat = (entry / "stat").read_text() if entry.name.isdigit() else ""
        except OSError:
            continue
        if stat[stat.find("(") + 1 : stat.rfind(")")] == "postgres":
            total += _cpu_seconds(stat)
    return total


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


def slug_for(size: int) -> str:
    return f"{SLUG}-{size}"


def seed(clients: int, operations: dict[str, range] | None = None) -> Seed:
    """One OCU, ``clients`` officers and a token each; ``operations`` maps each operation's slug
    to the officers (indexes) who are its members, with the OCU (default: one operation
    ``bench`` of them all). Django must be set up."""
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import transaction

    from accounts.models import Membership, Operation, OperationStatus, Role, User
    from accounts.services import api_token_create

    operations = operations or {SLUG: range(clients)}
    call_command("migrate", verbosity=0, interactive=False)
    unusable = make_password(None)
    today = date.today()
    with transaction.atomic():
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
        for slug, members in operations.items():
            operation = Operation.objects.create(
                name=f"Bench {slug}",
                slug=slug,
                start_date=today,
                end_date=today + timedelta(days=30),
                status=OperationStatus.ACTIVE,
            )
            Membership.objects.bulk_create(
                [Membership(user=users[ocu.username], operation=operation, role=Role.OCU)]
                + [
                    Membership(
                        user=users[officers[n].username], operation=operation, role=Role.OFFICER
                    )
                    for n in members
                ],
                batch_size=1000,
            )
        ocu_secret = api_token_create(user=users[ocu.username], name="bench", days=1)[1]
        officer_secrets = [
            api_token_create(user=users[o.username], name="bench", days=1)[1] for o in officers
        ]
    return Seed(ocu_secret, officer_secrets, [o.username for o in officers])


# --- servers --------------------------------------------------------------------------------


def group_slug(group: int) -> str:
    """The slug of operation ``group`` made by :func:`seed_groups`."""
    return f"group-{group}"


def seed_groups(groups: int, size: int) -> Seed:
    """One OCU in ``groups`` operations of ``size`` officers each (``group_slug``), with tokens."""
    return seed(
        groups * size,
        {group_slug(g): range(g * size, (g + 1) * size) for g in range(groups)},
    )


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


def server_command(kind: str, port: int) -> list[str]:
    """The command line of one ASGI process: daphne or uvicorn, no access log (errors still
    reach the log through Django's logging)."""
    if kind == "uvicorn":
        return [
            sys.executable,
            "-m",
            "uvicorn",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--lifespan",
            "off",
            "--no-access-log",
            "--log-level",
            "warning",
            "--ws-per-message-deflate",  # as the Dockerfile
            "false",
            "aircop.asgi:application",
        ]
    return [
        sys.executable,
        "-m",
        "daphne",
        # daphne refuses (403) a websocket whose handshake takes more than 5 s by default: a
        # reconnection storm on a busy machine takes longer. The Dockerfile sets the same.
        "--websocket_connect_timeout",
        "30",
        "--verbosity",
        "0",
        "-b",
        "127.0.0.1",
        "-p",
        str(port),
        "aircop.asgi:application",
    ]


def start_server(env: dict[str, str], log_dir: Path, name: str, kind: str = "daphne") -> Server:
    port = free_port()
    log_path = log_dir / f"{name}-{port}.log"
    with log_path.open("w") as out:
        process = subprocess.Popen(
            server_command(kind, port), cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{kind} exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return Server(port, process, log_path)
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{kind} did not listen on {port} within 60 s:\n{log_path.read_text()}")


def warm_up(servers: list[Server], ocu_secret: str) -> None:
    """Load the whole app in each process (URL conf, API, authentication) before measuring."""
    import httpx

    for server in servers:
        httpx.get(f"{server.url}/health/ready", timeout=60)
        httpx.get(
            f"{server.url}/api/v1/operations",
            headers={"Authorization": f"Bearer {ocu_secret}"},
            timeout=60,
        )


def server_problems(servers: list[Server]) -> str:
    """A summary of the errors the servers logged, with the first traceback; '' if none."""
    markers = ("Exception inside application", "Internal Server Error")
    lines = [line for s in servers for line in s.log_path.read_text().splitlines()]
    counts = {m: sum(1 for line in lines if m in line) for m in markers}
    if not any(counts.values()) and not any(line.startswith("Traceback") for line in lines):
        return ""
    summary = ", ".join(f"{n} × {m!r}" for m, n in counts.items())
    first = next(
        i
        for i, line in enumerate(lines)
        if line.startswith("Traceback") or any(m in line for m in markers)
    )
    end = next(
        (i for i in range(first + 1, len(lines)) if any(m in lines[i] for m in markers)),
        len(lines),
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


def finish(
    servers: list[Server],
    *,
    log_dir: Path,
    redis_url: str,
    prefix: str,
    admin_url: str,
    database: str,
    keep_db: bool,
) -> bool:
    """A benchmark's clean-up: stops its servers, prints what they logged wrong (keeping their
    logs) or removes the logs, deletes the run's Redis keys, drops its database unless kept.
    True when the servers logged errors."""
    for server in servers:
        server.stop()
    problems = server_problems(servers)
    if problems:
        print(problems)
        print(f"  (server logs kept in {log_dir})")
    else:
        shutil.rmtree(log_dir, ignore_errors=True)
    try:
        deleted = delete_redis_keys(redis_url, prefix)
        log(f"deleted {deleted} Redis keys under {prefix}")
    except Exception as exc:
        log(f"could not delete Redis keys under {prefix}: {exc}")
    if not keep_db:
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: S110 (Django may never have been set up)
            pass
        drop_database(admin_url, database)
        log(f"dropped database {database!r}")
    return bool(problems)


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
    last: float = 0.0  # the last recipient's event arrived


class Bench:
    def __init__(self, args, seed_data: Seed, servers: list[Server], size: int):
        self.args, self.seed, self.servers, self.size = args, seed_data, servers, size
        self.clients = [Client(n) for n in range(size)]
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
        if sent.count >= self.size:
            sent.done.set()
        if now > sent.last:
            sent.last = now

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
                    f"/api/v1/operations/{slug_for(self.size)}/messages",
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
                early = [
                    c.received[sent.message_id]
                    for c in self.clients
                    if sent.message_id in c.received
                ]
                sent.count, sent.last = len(early), max(early, default=0.0)
                self.sent[sent.message_id] = sent
                if sent.count >= self.size:
                    sent.done.set()
                try:
                    await asyncio.wait_for(sent.done.wait(), self.args.timeout)
                except TimeoutError:
                    log(f"message {n}: {sent.count}/{self.size} after {self.args.timeout}s")
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


@dataclass
class Run:
    """One (server, layer, size) run's figures, for the closing table."""

    server: str
    layer: str
    size: int
    load_before: str
    load_after: str = ""
    last_p50: float = 0.0  # ms, per broadcast: 201 → the last recipient's event
    last_p99: float = 0.0
    posted_last_p50: float = 0.0  # ms, per broadcast: POST sent → the last recipient's event
    posted_last_p99: float = 0.0
    event_p50: float = 0.0  # ms, per recipient: 201 → event
    event_p99: float = 0.0
    send_p50: float = 0.0  # ms, POST → 201
    received: int = 0
    expected: int = 0
    lost: int = 0
    duplicates: int = 0
    ok: bool = False


def report(bench: Bench, args, setup_seconds: float, run: Run) -> int:
    from_accepted, from_posted, from_created = [], [], []
    lost = duplicates = 0
    size = bench.size
    for sent in bench.sent.values():
        for client in bench.clients:
            at = client.received.get(sent.message_id)
            if at is None:
                lost += 1
                continue
            from_accepted.append(at - sent.accepted)
            from_posted.append(at - sent.posted)
            from_created.append(at - client.created_at[sent.message_id])
    complete = [s for s in bench.sent.values() if s.count >= size]
    to_last = [s.last - s.accepted for s in complete]
    posted_to_last = [s.last - s.posted for s in complete]
    duplicates = sum(c.duplicates for c in bench.clients)
    failed = [c for c in bench.clients if c.error]
    short = [s for s in bench.sent.values() if s.recipients != size]
    before_201 = sum(1 for v in from_accepted if v < 0)
    expected = len(bench.sent) * size

    print()
    print(f"aircop websocket fan-out: {run.server}, {run.layer} layer, {size} recipients")
    print(
        f"  environment: {os.cpu_count()} CPUs, {platform.python_implementation()} "
        f"{platform.python_version()}, {platform.system()} {platform.release()}; "
        f"{args.servers} {run.server} process(es) + this client process on the same machine; "
        f"PostgreSQL + Redis ({CHANNEL_LAYER_NAMES[run.layer]}); "
        f"load average before {run.load_before}, after {load_average()}"
    )
    print(
        f"  load: {size} websocket clients, {len(bench.sent)} broadcasts to all of them, "
        f"sent one at a time = {expected} deliveries expected (set-up {setup_seconds:.1f} s)"
    )
    print("  per broadcast, ms:")
    print(summary("201 → last recipient", to_last))
    print(summary("POST → last recipient", posted_to_last))
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
        print(f"  sends whose 201 listed fewer than {size} recipients: {len(short)}")
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

    def ms(values, pct):
        return percentile([v * 1000 for v in values], pct) if values else float("nan")

    run.load_after = load_average()
    run.last_p50, run.last_p99 = ms(to_last, 50), ms(to_last, 99)
    run.posted_last_p50, run.posted_last_p99 = ms(posted_to_last, 50), ms(posted_to_last, 99)
    run.event_p50, run.event_p99 = ms(from_accepted, 50), ms(from_accepted, 99)
    run.send_p50 = ms([s.accepted - s.posted for s in bench.sent.values()], 50)
    run.received, run.expected, run.lost, run.duplicates = (
        len(from_accepted),
        expected,
        lost,
        duplicates,
    )
    run.ok = ok
    return 0 if ok else 1


CHANNEL_LAYER_NAMES = {"core": "RedisChannelLayer", "pubsub": "RedisPubSubChannelLayer"}


def print_table(runs: list[Run], args) -> None:
    print()
    print(
        "Summary (ms; per broadcast: from the 201 'send accepted', and from the POST leaving, to "
        "the last recipient's event; per recipient: 201 → event):"
    )
    print(
        "| server | channel layer | recipients | 201 → last p50 / p99 | POST → last p50 / p99 "
        "| event p50 / p99 | send p50 | received | lost | duplicated "
        "| load average before / after |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in runs:
        print(
            f"| {r.server} | {CHANNEL_LAYER_NAMES[r.layer]} | {r.size} | "
            f"{r.last_p50:.0f} / {r.last_p99:.0f} | {r.posted_last_p50:.0f} / "
            f"{r.posted_last_p99:.0f} | {r.event_p50:.0f} / {r.event_p99:.0f} | {r.send_p50:.0f} | "
            f"{r.received} / {r.expected} | {r.lost} | {r.duplicates} | "
            f"{r.load_before} / {r.load_after} |"
        )
    print("command:", " ".join(["python", "bench/fanout.py", *sys.argv[1:]]))


# --- main -------------------------------------------------------------------------------------


def main() -> int:
    args = parse_args()
    admin_url, bench_url, redis_url = service_urls(args.database)
    prefix = f"aircop-bench-{uuid.uuid4().hex[:12]}"
    open_files = raise_open_files_limit()
    biggest = max(args.sizes)
    if open_files < 2 * biggest + 200:
        log(f"warning: open-files limit {open_files} may be too low for {biggest} clients")

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
    all_servers: list[Server] = []
    runs: list[Run] = []
    code = 0
    started = time.monotonic()
    try:
        log(f"recreating database {args.database!r}")
        recreate_database(admin_url, args.database)
        import django

        django.setup()
        log(f"migrating, creating 1 OCU + {biggest} officers and their tokens")
        seed_data = seed(biggest, {slug_for(n): range(n) for n in args.sizes})
        from django.db import connections

        connections.close_all()
        setup_seconds = time.monotonic() - started
        for kind in args.server_kinds:
            for layer in args.layers:
                for size in args.sizes:
                    env = {**os.environ, "AIRCOP_CHANNEL_LAYER": layer}
                    log(
                        f"starting {args.servers} {kind} process(es), {layer} layer, {size} clients"
                    )
                    run = Run(kind, layer, size, load_average())
                    servers = [
                        start_server(env, log_dir, f"{kind}-{layer}-{size}-{n}", kind)
                        for n in range(args.servers)
                    ]
                    all_servers += servers
                    warm_up(servers, seed_data.ocu_secret)
                    bench = Bench(args, seed_data, servers, size)
                    asyncio.run(bench.run())
                    code |= report(bench, args, setup_seconds, run)
                    runs.append(run)
                    for server in servers:
                        if server.process.poll() is not None:
                            print(f"  server on {server.port} died ({server.process.returncode})")
                            print(server.log_path.read_text()[-3000:])
                            code = 1
                        server.stop()
                    delete_redis_keys(redis_url, prefix)
        print_table(runs, args)
    except KeyboardInterrupt:
        log("interrupted")
        code = 130
    finally:
        if finish(
            all_servers,
            log_dir=log_dir,
            redis_url=redis_url,
            prefix=prefix,
            admin_url=admin_url,
            database=args.database,
            keep_db=args.keep_db,
        ):
            code = code or 1
    return code


if __name__ == "__main__":
    sys.exit(main())
