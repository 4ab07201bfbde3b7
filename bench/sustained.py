#!/usr/bin/env python
"""Sustained load: messages at a steady rate to groups of officers, for minutes.

Run it from the repository root, with PostgreSQL and Redis running:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python bench/sustained.py                  # 50 messages/s to groups of 50, 5 min
    .venv/bin/python bench/sustained.py --duration 60        # a shorter run

What it does, by itself (like bench/fanout.py, whose helpers it uses):

1. drops and recreates a throwaway database (``--database``, default ``aircop_bench``) on the
   PostgreSQL server of ``DATABASE_URL`` (never that URL's own database), migrates it; creates
   ``--groups`` operations (default 10) of ``--group-size`` officers each (default 50), one OCU
   in all of them, and an API token for each;
2. starts ``--servers`` ASGI processes (default 2, ``--server`` daphne or uvicorn, ``--layer``
   core or pubsub) sharing Redis; connects one websocket per officer, spread over them;
3. sends ``--rate`` messages a second (default 50) for ``--duration`` seconds (default 300),
   open loop: each send starts at its scheduled time whether or not earlier ones have answered,
   to the officers of one operation after the other, through the processes in turn;
4. prints the send latency (from the scheduled time to the 201, so a server that falls behind
   shows it) p50 / p95 / p99 / max, the delivery latency (201 → event, each recipient; and per
   message to its last recipient), the rate achieved, what was lost or came twice, the CPU used
   by the servers, the clients and PostgreSQL, the garbage collections that held a server 20 ms
   or more (from the servers' logs), the host's speed while sending (below), the load average
   and the command; stops its servers, deletes its Redis keys, drops the database.

The host's speed: this machine is a virtual one, and the host sometimes gives its CPUs much less
for a while (other tenants): the same work then takes more CPU time in every process at once,
whatever the code. A probe in a process of its own times a fixed piece of pure-Python work once
a second (its own CPU time, which the machine's other processes do not change: checked with a
busy loop on the other core); the report prints its median and worst, and the seconds it took
more than 1.3 times the median, to tell a slow host from slow code.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import re
import sys
import tempfile
import time
import uuid
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
# Sends in flight per ASGI process (kept-alive connections), as a reverse proxy would keep.
IN_FLIGHT_PER_SERVER = 32
# The servers log each garbage collection that holds them this long (aircop/gc_pauses.py).
GC_PAUSE_REPORTED_MS = 20
GC_PAUSE_LINE = re.compile(r"garbage collection of generation (\d) held the process for (\d+) ms")
sys.path.insert(0, str(ROOT))

from bench.fanout import (  # noqa: E402
    CHANNEL_LAYER_NAMES,
    Server,
    finish,
    group_slug,
    load_average,
    log,
    percentile,
    postgres_cpu_seconds,
    process_cpu_seconds,
    raise_open_files_limit,
    recreate_database,
    seed_groups,
    service_urls,
    start_server,
    summary,
    warm_up,
)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Sustained message load (see the top of this file).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--rate", type=float, default=50.0, help="messages per second")
    parser.add_argument("--duration", type=float, default=300.0, help="seconds of sending")
    parser.add_argument("--groups", type=int, default=10, help="operations, sent to in turn")
    parser.add_argument("--group-size", type=int, default=50, help="officers per operation")
    parser.add_argument("--servers", type=int, default=2)
    parser.add_argument("--server", choices=["daphne", "uvicorn"], default="daphne")
    parser.add_argument("--layer", choices=["core", "pubsub"], default="core")
    parser.add_argument("--database", default="aircop_bench")
    parser.add_argument("--keep-db", action="store_true")
    return parser.parse_args()


@dataclass
class Sent:
    group: int
    scheduled: float
    accepted: float = 0.0
    status: int = 0
    message_id: int = 0
    refusal: str = ""  # the status code and body, or the client's exception, of a send not accepted


# Seconds for the sender's process to start and import before its first scheduled send.
SENDER_START_SECONDS = 3.0


@dataclass
class SendPlan:
    urls: list[str]
    ocu_secret: str
    rate: float
    duration: float
    groups: int
    start_at: float  # the wall-clock time of the first send


PROBE_LOOPS = 100_000  # about 9 ms of CPU on this machine
HOST_SLOW = 1.3  # a probe this many times its median: the host was slow that second


def host_speed_probe(start_at: float, seconds: float) -> list[float]:
    """Run in a process of its own: from ``start_at``, once a second for ``seconds``, the CPU
    time (ms) of the same pure-Python work (see the top of this file)."""
    time.sleep(max(0.0, start_at - time.time()))
    samples = []
    while time.time() < start_at + seconds:
        started = time.thread_time()
        total = 0
        for number in range(PROBE_LOOPS):
            total += number * number % 7
        samples.append((time.thread_time() - started) * 1000)
        time.sleep(1.0)
    return samples


def send_schedule(plan: SendPlan) -> tuple[list[Sent], float, float]:
    """Run in the sender's own process: every send of the plan, open loop. Returns the sends,
    the process's CPU seconds while sending, and the seconds from the first scheduled send to
    the last answer."""
    return asyncio.run(_send_schedule(plan))


class StaleConnection(ConnectionError):
    """The server closed a kept-alive connection before answering on it."""


class KeptAlive:
    """JSON POSTs over at most ``size`` kept-alive HTTP/1.1 connections to one server, as a
    reverse proxy keeps them; the sends beyond wait here, in an O(1) queue, with their clock
    running from their scheduled time.

    The load generator's own client, because it shares the machine's 2 cores with the servers
    it measures: httpx used 2.6 ms of CPU per send (0.13 of a core at 50/s), this about a
    tenth of it. (Before that, an unbounded httpx pool queued thousands of sends in an
    overloaded run, whose bookkeeping spun a core while the servers sat idle.)"""

    def __init__(self, url: str, size: int) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname, parts.port
        self.gate = asyncio.Semaphore(size)
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def post_json(self, path: str, secret: str, payload: dict) -> tuple[int, bytes]:
        body = json.dumps(payload).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Authorization: Bearer {secret}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        async with self.gate:
            while True:
                reused = bool(self.idle)
                if reused:
                    reader, writer = self.idle.pop()
                else:
                    reader, writer = await asyncio.open_connection(self.host, self.port)
                try:
                    writer.write(head + body)
                    status, answer, keep = await self._response(reader)
                    break
                except StaleConnection:
                    # The server closed it while idle (its keep-alive timeout), before reading
                    # the request: send it again on another, as a reverse proxy does.
                    writer.close()
                    if not reused:
                        raise
                except BaseException:
                    writer.close()
                    raise
            if keep:
                self.idle.append((reader, writer))
            else:
                writer.close()
            return status, answer

    @staticmethod
    async def _response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
        status_line = await reader.readline()
        if not status_line:
            raise StaleConnection
        status = int(status_line.split()[1])
        headers = {}
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip().lower()
        if "content-length" in headers:
            answer = await reader.readexactly(int(headers["content-length"]))
        else:  # chunked
            chunks = []
            while size := int((await reader.readline()).split(b";")[0], 16):
                chunks.append(await reader.readexactly(size))
                await reader.readline()
            await reader.readline()
            answer = b"".join(chunks)
        return status, answer, headers.get("connection") != "close"

    async def close(self) -> None:
        for _, writer in self.idle:
            writer.close()


async def _send_one(server: KeptAlive, secret: str, sent: Sent, number: int) -> None:
    try:
        status, answer = await server.post_json(
            f"/api/v1/operations/{group_slug(sent.group)}/messages",
            secret,
            {
                "kind": "free_text",
                "subject": f"Sustained {number}",
                "body": "Sustained load. " * 10,
                "to": {"officers": True},
            },
        )
        sent.status = status
        if status == 201:
            sent.message_id = json.loads(answer)["id"]
        else:
            sent.refusal = f"{status} {answer[:200].decode(errors='replace')}"
    except Exception as exc:
        sent.status = -1
        sent.refusal = f"{type(exc).__name__}: {exc}"
    sent.accepted = time.time()


async def _send_schedule(plan: SendPlan) -> tuple[list[Sent], float, float]:
    servers = [KeptAlive(url, IN_FLIGHT_PER_SERVER) for url in plan.urls]
    total = int(plan.rate * plan.duration)
    sent_all: list[Sent] = []
    tasks = []
    await asyncio.sleep(max(0.0, plan.start_at - time.time()))
    cpu_before = time.process_time()
    for n in range(total):
        scheduled = plan.start_at + n / plan.rate
        delay = scheduled - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        sent = Sent(group=n % plan.groups, scheduled=scheduled)
        sent_all.append(sent)
        server = servers[n % len(servers)]
        tasks.append(asyncio.create_task(_send_one(server, plan.ocu_secret, sent, n)))
        if n and n % int(plan.rate * 30) == 0:
            log(f"{n} sends started, {sum(1 for s in sent_all if s.accepted)} answered")
    await asyncio.gather(*tasks)
    seconds = time.time() - plan.start_at
    cpu = time.process_time() - cpu_before
    for server in servers:
        await server.close()
    return sent_all, cpu, seconds


@dataclass
class Listener:
    group: int
    received: dict[int, float] = field(default_factory=dict)
    duplicates: int = 0
    error: str | None = None


class Load:
    def __init__(self, args, secrets: list[str], ocu_secret: str, servers: list[Server]):
        self.args, self.secrets, self.ocu_secret, self.servers = args, secrets, ocu_secret, servers
        self.listeners = [Listener(n // args.group_size) for n in range(len(secrets))]
        self.sent: list[Sent] = []
        self.cpu_share: dict[str, float] = {}
        self.host_probe: list[float] = []

    async def listen(self, n: int, gate: asyncio.Semaphore, ready: asyncio.Queue) -> None:
        from websockets.asyncio.client import connect

        listener = self.listeners[n]
        try:
            async with gate:
                ws = await connect(
                    self.servers[n % len(self.servers)].ws_url,
                    additional_headers={"Authorization": f"Bearer {self.secrets[n]}"},
                    open_timeout=60,
                    ping_interval=None,
                    max_queue=None,
                )
                assert json.loads(await ws.recv())["type"] == "hello"
                await ws.send(json.dumps({"type": "resume", "after": 0}))
                while json.loads(await ws.recv())["type"] != "resume.done":
                    pass
        except Exception as exc:
            listener.error = f"{type(exc).__name__}: {exc}"
            await ready.put(n)
            return
        await ready.put(n)
        try:
            async for raw in ws:
                now = time.time()
                event = json.loads(raw)
                if event.get("type") != "message.new":
                    continue
                message_id = event["message"]["id"]
                if message_id in listener.received:
                    listener.duplicates += 1
                else:
                    listener.received[message_id] = now
        except Exception as exc:
            listener.error = f"{type(exc).__name__}: {exc}"
        finally:
            await ws.close()

    def cpu(self) -> dict[str, float | None]:
        """CPU seconds so far of the ASGI processes, the listeners and PostgreSQL (Linux)."""
        servers = [process_cpu_seconds(s.process.pid) for s in self.servers]
        return {
            "ASGI processes": None if None in servers else sum(servers),
            "listeners (this process)": time.process_time(),
            "PostgreSQL": postgres_cpu_seconds(),
        }

    async def run(self) -> None:

        gate, ready = asyncio.Semaphore(20), asyncio.Queue()
        listeners = [
            asyncio.create_task(self.listen(n, gate, ready)) for n in range(len(self.secrets))
        ]
        for _ in listeners:
            await ready.get()
        failed = [x for x in self.listeners if x.error]
        log(
            f"{len(self.listeners) - len(failed)} websockets connected"
            + (f"; first failure: {failed[0].error}" if failed else "")
        )
        # The sender runs in a process of its own, as it would on another machine: its clock
        # is not held up by this process's 500 websockets, nor theirs by it.
        plan = SendPlan(
            urls=[s.url for s in self.servers],
            ocu_secret=self.ocu_secret,
            rate=self.args.rate,
            duration=self.args.duration,
            groups=self.args.groups,
            start_at=time.time() + SENDER_START_SECONDS,
        )
        total = int(self.args.rate * self.args.duration)
        log(f"sending {total} messages at {self.args.rate:g}/s for {self.args.duration:g} s")
        loop = asyncio.get_running_loop()
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=2, mp_context=spawn) as pool:
            sending = loop.run_in_executor(pool, send_schedule, plan)
            probing = loop.run_in_executor(
                pool, host_speed_probe, plan.start_at, self.args.duration
            )
            await asyncio.sleep(max(0.0, plan.start_at - time.time()))
            cpu_before = self.cpu()
            self.sent, sender_cpu, self.send_seconds = await sending
            self.host_probe = await probing
        cpu_after = self.cpu()
        self.cpu_share = {
            role: (cpu_after[role] - cpu_before[role]) / self.send_seconds
            for role in cpu_after
            if cpu_after[role] is not None and cpu_before[role] is not None
        }
        self.cpu_share["sender (its own process)"] = sender_cpu / self.send_seconds
        await asyncio.sleep(5)  # the last events
        for task in listeners:
            task.cancel()
        await asyncio.gather(*listeners, return_exceptions=True)


def gc_pauses(log_dir: Path) -> list[tuple[int, float]]:
    """(generation, ms) of each garbage collection the servers logged (aircop/gc_pauses.py)."""
    pauses = []
    for path in log_dir.glob("*.log"):
        text = path.read_text(errors="replace")
        pauses += [(int(g), float(ms)) for g, ms in GC_PAUSE_LINE.findall(text)]
    return pauses


def report(load: Load, args, load_before: str, pauses: list[tuple[int, float]]) -> int:
    accepted = [s for s in load.sent if s.status == 201]
    refused = len(load.sent) - len(accepted)
    send_latency = [s.accepted - s.scheduled for s in accepted]
    per_event, to_last = [], []
    lost = 0
    by_group: dict[int, list[Listener]] = {}
    for listener in load.listeners:
        by_group.setdefault(listener.group, []).append(listener)
    for sent in accepted:
        arrivals = []
        for listener in by_group[sent.group]:
            at = listener.received.get(sent.message_id)
            if at is None:
                lost += 1
            else:
                arrivals.append(at)
                per_event.append(at - sent.accepted)
        if arrivals:
            to_last.append(max(arrivals) - sent.accepted)
    duplicates = sum(x.duplicates for x in load.listeners)
    failed = [x for x in load.listeners if x.error]
    expected = len(accepted) * args.group_size
    print()
    print(
        f"aircop sustained load: {args.rate:g} messages/s to groups of {args.group_size} "
        f"({args.groups} operations) for {args.duration:g} s; {args.servers} {args.server} "
        f"process(es), {CHANNEL_LAYER_NAMES[args.layer]}; {os.cpu_count()} CPUs shared with the "
        f"clients (the listeners and the sender) and other work"
    )
    print(
        f"  sends: {len(load.sent)} started, {len(accepted)} accepted (201), {refused} refused; "
        f"achieved {len(accepted) / load.send_seconds:.1f} messages/s"
    )
    if refused:
        reasons = Counter(s.refusal for s in load.sent if s.status != 201)
        for reason, count in reasons.most_common(5):
            print(f"  refused {count}×: {reason}")
    print(summary("send: scheduled → 201", send_latency))
    print(summary("201 → event", per_event))
    print(summary("201 → last recipient", to_last))
    if load.cpu_share:
        shares = ", ".join(f"{role} {share:.2f}" for role, share in load.cpu_share.items())
        print(f"  CPU while sending, in cores (of {os.cpu_count()}): {shares}")
    print(
        f"  received {len(per_event)} / {expected}; lost {lost}; duplicates {duplicates}; "
        f"clients that failed: {len(failed)}"
    )
    if failed:
        print(f"  first client failure: {failed[0].error}")
    full = [ms for generation, ms in pauses if generation == 2]
    print(
        f"  garbage collections holding a server {GC_PAUSE_REPORTED_MS} ms or more: "
        f"{len(pauses)}, of which {len(full)} full"
        + (f"; longest {max(ms for _, ms in pauses):.0f} ms" if pauses else "")
    )
    if load.host_probe:
        median = percentile(load.host_probe, 50)
        slow = sum(1 for ms in load.host_probe if ms > HOST_SLOW * median)
        print(
            f"  host speed while sending (fixed work, CPU ms, once a second): median {median:.1f},"
            f" worst {max(load.host_probe):.1f}; seconds over {HOST_SLOW:g}× the median: {slow}"
            f" of {len(load.host_probe)}"
        )
    p99 = percentile([v * 1000 for v in send_latency], 99) if send_latency else float("nan")
    print(
        f"  send p99 {p99:.0f} ms (target < 150 ms); load average before {load_before}, "
        f"after {load_average()}"
    )
    print("command:", " ".join(["python", "bench/sustained.py", *sys.argv[1:]]))
    return 0 if not (lost or duplicates or failed or refused) else 1


def main() -> int:
    args = parse_args()
    admin_url, bench_url, redis_url = service_urls(args.database)
    prefix = f"aircop-bench-{uuid.uuid4().hex[:12]}"
    raise_open_files_limit()
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
            "AIRCOP_GC_PAUSE_WARNING_MS": str(GC_PAUSE_REPORTED_MS),
        }
    )
    log_dir = Path(tempfile.mkdtemp(prefix="aircop-bench-"))
    servers: list[Server] = []
    code = 1
    try:
        log(f"recreating database {args.database!r}")
        recreate_database(admin_url, args.database)
        import django

        django.setup()
        officers = args.groups * args.group_size
        log(f"migrating, creating 1 OCU + {officers} officers in {args.groups} operations")
        seed_data = seed_groups(args.groups, args.group_size)
        from django.db import connections

        connections.close_all()
        load_before = load_average()
        servers = [
            start_server(dict(os.environ), log_dir, f"{args.server}-{n}", args.server)
            for n in range(args.servers)
        ]
        warm_up(servers, seed_data.ocu_secret)
        load = Load(args, seed_data.officer_secrets, seed_data.ocu_secret, servers)
        asyncio.run(load.run())
        code = report(load, args, load_before, gc_pauses(log_dir))
    finally:
        if finish(
            servers,
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
