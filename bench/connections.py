#!/usr/bin/env python
"""Connections held: N authenticated websockets left idle; memory per connection, CPU at idle.

Run it from the repository root, with PostgreSQL and Redis running:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python bench/connections.py --clients 5000 --servers 2 --server both

What it does, by itself (like bench/fanout.py, whose helpers it uses):

1. drops and recreates a throwaway database (``--database``, default ``aircop_bench``) on the
   PostgreSQL server of ``DATABASE_URL`` (that URL's own database is never touched), migrates it,
   creates one operation with N officers and an API token each;
2. for each server asked (``--server daphne``, ``uvicorn`` or ``both``): starts ``--servers``
   processes (channel layer ``--layer``), loads the app in each (one request), reads each
   process's resident memory (``/proc/PID/status`` VmRSS);
3. opens N websockets (``Authorization: Bearer``, no Origin), spread over the processes, each
   waiting for ``hello`` and its ``resume.done``; reads the memory again after a settling pause;
4. leaves them idle for ``--idle`` seconds (default 60: the servers' own keep-alive pings, every
   20 s, happen in it) and reads the CPU time the processes used meanwhile (``/proc/PID/stat``);
5. checks every socket still answers (``ping`` → ``pong``), then closes them and stops the
   servers; prints memory per connection ((RSS after − RSS before) / N), CPU at idle (% of one
   core, all processes together), the machine's load average, and the command; drops the
   database (unless ``--keep-db``) and deletes its Redis keys.

The clients run in this process on the same machine: their memory is not counted, their CPU
(nothing while idle) competes with the servers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.fanout import (  # noqa: E402
    CHANNEL_LAYER_NAMES,
    Server,
    delete_redis_keys,
    finish,
    load_average,
    log,
    raise_open_files_limit,
    recreate_database,
    seed,
    service_urls,
    start_server,
)

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Idle websockets held (see the top of this file).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--clients", type=int, default=5000)
    parser.add_argument("--servers", type=int, default=2, help="ASGI processes sharing Redis")
    parser.add_argument("--server", choices=["daphne", "uvicorn", "both"], default="daphne")
    parser.add_argument("--layer", choices=["core", "pubsub"], default="core")
    parser.add_argument("--idle", type=float, default=60.0, help="seconds of idle measurement")
    parser.add_argument("--connect-concurrency", type=int, default=20)
    parser.add_argument("--database", default="aircop_bench")
    parser.add_argument("--keep-db", action="store_true")
    return parser.parse_args()


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


@dataclass
class Figures:
    server: str
    connected: int = 0
    failed: int = 0
    answered: int = 0
    rss_before: int = 0
    rss_after: int = 0
    cpu_percent: float = 0.0
    connect_seconds: float = 0.0
    load_before: str = ""
    load_after: str = ""


async def hold(args, secrets: list[str], servers: list[Server], figures: Figures) -> None:
    from websockets.asyncio.client import connect

    gate = asyncio.Semaphore(args.connect_concurrency)
    sockets = []

    async def one(n: int):
        server = servers[n % len(servers)]
        async with gate:
            ws = await connect(
                server.ws_url,
                additional_headers={"Authorization": f"Bearer {secrets[n]}"},
                open_timeout=120,
                ping_interval=None,  # idle: the client sends nothing at all
                max_queue=None,
            )
            if json.loads(await asyncio.wait_for(ws.recv(), 120))["type"] != "hello":
                raise RuntimeError("no hello")
            await ws.send(json.dumps({"type": "resume", "after": 0}))
            while json.loads(await asyncio.wait_for(ws.recv(), 120))["type"] != "resume.done":
                pass
            sockets.append(ws)

    started = time.monotonic()
    results = await asyncio.gather(*(one(n) for n in range(args.clients)), return_exceptions=True)
    figures.connect_seconds = time.monotonic() - started
    errors = [r for r in results if isinstance(r, BaseException)]
    figures.connected, figures.failed = len(sockets), len(errors)
    log(
        f"{len(sockets)} of {args.clients} websockets open in {figures.connect_seconds:.1f} s"
        + (f"; first failure: {type(errors[0]).__name__}: {errors[0]}" if errors else "")
    )
    await asyncio.sleep(5)  # let the servers settle (delivered marks, garbage)
    figures.rss_after = sum(rss_bytes(s.process.pid) for s in servers)
    log(f"idle for {args.idle:.0f} s")
    cpu_before = sum(cpu_seconds(s.process.pid) for s in servers)
    idle_started = time.monotonic()
    await asyncio.sleep(args.idle)
    cpu_used = sum(cpu_seconds(s.process.pid) for s in servers) - cpu_before
    figures.cpu_percent = 100 * cpu_used / (time.monotonic() - idle_started)

    async def still_there(ws) -> bool:
        try:
            await ws.send(json.dumps({"type": "ping"}))
            while json.loads(await asyncio.wait_for(ws.recv(), 120))["type"] != "pong":
                pass
            return True
        except Exception:
            return False

    gate = asyncio.Semaphore(200)

    async def check(ws) -> bool:
        async with gate:
            return await still_there(ws)

    figures.answered = sum(await asyncio.gather(*(check(ws) for ws in sockets)))
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)


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
            "AIRCOP_CHANNEL_LAYER": args.layer,
            "DJANGO_DEBUG": "0",
            "DJANGO_LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
    )
    log_dir = Path(tempfile.mkdtemp(prefix="aircop-bench-"))
    kinds = ["daphne", "uvicorn"] if args.server == "both" else [args.server]
    all_servers: list[Server] = []
    servers: list[Server] = []
    results: list[Figures] = []
    code = 0
    try:
        log(f"recreating database {args.database!r}")
        recreate_database(admin_url, args.database)
        import django
        import httpx

        django.setup()
        log(f"migrating, creating 1 OCU + {args.clients} officers and their tokens")
        seed_data = seed(args.clients)
        from django.db import connections

        connections.close_all()
        for kind in kinds:
            figures = Figures(kind, load_before=load_average())
            log(f"starting {args.servers} {kind} process(es)")
            servers = [
                start_server(dict(os.environ), log_dir, f"{kind}-{n}", kind)
                for n in range(args.servers)
            ]
            all_servers += servers
            for server in servers:  # load the whole app before the first reading
                httpx.get(f"{server.url}/health/ready", timeout=30)
            time.sleep(2)
            figures.rss_before = sum(rss_bytes(s.process.pid) for s in servers)
            asyncio.run(hold(args, seed_data.officer_secrets, servers, figures))
            figures.load_after = load_average()
            results.append(figures)
            for server in servers:
                if server.process.poll() is not None:
                    log(f"{kind} on {server.port} died ({server.process.returncode})")
                    code = 1
                server.stop()
            servers = []
            delete_redis_keys(redis_url, prefix)
            if figures.failed or figures.answered != args.clients:
                code = 1
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

    print()
    print(
        f"aircop connections held: {args.clients} authenticated idle websockets over "
        f"{args.servers} process(es), {CHANNEL_LAYER_NAMES[args.layer]}, "
        f"{os.cpu_count()} CPUs shared with the clients (this process) and other work"
    )
    print(
        "| server | open | answered after idle | connect time s | RSS before MB | RSS after MB "
        "| per connection KB | CPU at idle (% of one core) | load average before / after |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for f in results:
        per = (f.rss_after - f.rss_before) / max(f.connected, 1) / 1024
        print(
            f"| {f.server} | {f.connected} / {args.clients} | {f.answered} | "
            f"{f.connect_seconds:.0f} | {f.rss_before / 2**20:.0f} | {f.rss_after / 2**20:.0f} | "
            f"{per:.1f} | {f.cpu_percent:.1f} | {f.load_before} / {f.load_after} |"
        )
    print("command:", " ".join(["python", "bench/connections.py", *sys.argv[1:]]))
    return code


if __name__ == "__main__":
    sys.exit(main())
