"""X webhook ingest (requests per second, latency) and the X send budget under a backlog (sent / allowed).

Part 1, webhook ingest. ``dmcare serve``'s own wiring (``bot.service.build_service`` in X sandbox mode:
no X credentials, so the X sandbox stands in for X and signs with its consumer secret) runs under uvicorn
in a separate process, so the load generator does not share its GIL: X's webhook route with signature
checks on, writing a real SQLite inbox (deliveries arriving together share one commit), and the worker
process stepping conversations while requests arrive, as in production (``--no-worker`` leaves it
off). Outgoing DMs keep to X's 2026 budget. This
process loads it over N keep-alive connections (one ``httpx.AsyncClient`` each): every request is one
customer DM in a body built by the X sandbox's own payload code (Account Activity shape; ``--xaa`` of
them X Activity shape), signed with ``x-twitter-webhooks-signature``, with distinct event ids from a few
thousand customers; ``--duplicates`` of them re-deliver a DM already sent (either shape), which the inbox
must drop. A warm-up goes first, then one connection sending one request at a time, then the concurrent
run. Prints requests/s accepted, latency percentiles, answers slower than X's 3 s, non-200s, inbox rows
against distinct DMs, the CPU both processes used, how far the worker lagged, and the generator's own
ceiling: the same requests against a bare asyncio server that answers 200 at once. Latency is measured
in the load generator, from sending the request to reading the answer.

Part 2, send budget. The X sandbox (its send windows set to the budget; past them it answers 429) on a
local uvicorn server, and the bot sending through tweepy over real HTTP with a ``SendBudget`` of the
same windows, wired as ``build_service`` does; both read one movable clock. A backlog of first DMs from
``--backlog`` customers lands in the inbox at once (``--handovers`` of them ask for a person: the most
urgent replies), then virtual time moves in ``--step`` second steps for ``--hours``. The runtime is
drained (``Runtime.drain``'s loop, noting what each outbox round sent) only at steps where something can
be due: a pending event, a due command, or a waiting reply when the budget reopens; the other steps cost
nothing. Prints DMs sent, what the windows allow in that span, sent / allowed, 429s (on the wire and as
the bot recorded them), whether the most urgent DMs went first and customers were answered in arrival
order, and how full each shortest window was.

    python bench/x_ingest.py [--requests 20000] [--concurrency 32] [--customers 2000] [--no-worker]
                             [--backlog 3000] [--budget "15/15m,1440/24h"] [--hours 24] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import multiprocessing
import os
import random
import socket
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Generator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
import orjson
import uvicorn
from sqlalchemy import func, select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bench.shop import write_shop
from bot.app import build_app
from bot.conversation import Urgency
from bot.ingest.x_messages import inbox_events
from bot.runtime.send_budget import SendBudget, Window, parse_windows
from bot.service import SANDBOX_CONSUMER_SECRET, WEBHOOK_PATH, build_service
from bot.settings import X_SEND_BUDGET, Settings
from bot.storage.tables import COMMANDS, EVENTS
from integrations.x.channel import XDirectMessages
from integrations.x.client import XApi, XCredentials
from integrations.x.events import DirectMessage
from integrations.x.sandbox import RateWindow, SandboxCustomer, XSandbox, XSandboxConfig
from integrations.x.sandbox.events import DmEvent
from integrations.x.sandbox.payloads import account_activity_body, activity_body
from integrations.x.sandbox.snowflake import SnowflakeIds
from integrations.x.signatures import SIGNATURE_HEADER, sign

BOT_USER_ID = XSandboxConfig().bot_user_id  # the sandbox's shop account, in both parts
FIRST_CUSTOMER_ID = 2_000_000_000
START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # part 2's virtual start, on a whole second

# What one customer writes, in order (the 10th asks for a person, and the conversation goes to "human").
# `&` and `<` are there on purpose: v1.1 bodies carry them escaped, and the webhook must undo that.
CUSTOMER_SCRIPT = (
    "hi, my parcel still hasn't arrived and I'm worried",
    "my order is #{order}",
    "it was promised two days ago & the tracking page hasn't moved since Monday",
    "let me think about it",
    "yes please",
    "5",
    "thanks <3 you've been really helpful",
    "any update on the new parcel?",
    "hello?? still nothing here",
    "can I talk to a human please",
)
FIRST_MESSAGE = CUSTOMER_SCRIPT[0]
HANDOVER_MESSAGE = "I want to talk to a real person, now please"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def listening_socket() -> socket.socket:
    """A socket on a free local port for uvicorn (or the bare server) to serve on.

    Made with ``IPPROTO_TCP`` on purpose: asyncio sets TCP_NODELAY only on sockets whose ``proto`` says
    TCP, and a plain ``socket.socket(AF_INET, SOCK_STREAM)`` has proto 0. Without it, uvicorn's answer
    (headers and body in two writes) waits for the client's delayed ACK: ~40 ms on every request.
    uvicorn binding host and port itself (``dmcare serve``) gets TCP_NODELAY.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def customer_id(index: int) -> str:
    return str(FIRST_CUSTOMER_ID + index)


# ----------------------------------------------------------------------------------------------------
# Part 1: webhook ingest
# ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Delivery:
    body: bytes
    headers: dict[str, str]
    dm_id: str
    duplicate: bool


@dataclass
class PlanMaker:
    """Signed webhook deliveries: distinct DMs from ``customers`` people, some re-delivered, some in XAA shape."""

    customers: int
    rng: random.Random
    ids: SnowflakeIds = field(default_factory=SnowflakeIds)
    written: list[int] = field(default_factory=list)  # DMs each customer has sent so far
    sent: list[DmEvent] = field(default_factory=list)  # every distinct DM planned, for re-deliveries
    configs: dict[str, XSandboxConfig] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.written = [0] * self.customers

    def plan(self, count: int, *, duplicates: float, xaa: float) -> list[Delivery]:
        repeats = set(self.rng.sample(range(count), round(count * duplicates)))
        xaa_positions = set(self.rng.sample(range(count), round(count * xaa)))
        deliveries = []
        for position in range(count):
            repeat = position in repeats and bool(self.sent)
            # A re-delivery is a DM already planned (maybe still in flight): same DM event id, either shape.
            event = self.rng.choice(self.sent) if repeat else self._new_dm()
            shape = activity_body if position in xaa_positions else account_activity_body
            raw = orjson.dumps(shape(event, config=self._config(event.sender_id)))
            headers = {"content-type": "application/json", SIGNATURE_HEADER: sign(SANDBOX_CONSUMER_SECRET, raw)}
            deliveries.append(Delivery(body=raw, headers=headers, dm_id=event.id, duplicate=repeat))
        return deliveries

    def _new_dm(self) -> DmEvent:
        index = self.rng.randrange(self.customers)
        text = CUSTOMER_SCRIPT[self.written[index] % len(CUSTOMER_SCRIPT)].format(order=100_000 + index)
        self.written[index] += 1
        now = datetime.now(UTC)
        created = now.replace(microsecond=now.microsecond // 1000 * 1000)  # X's timestamps are milliseconds
        event = DmEvent(
            id=self.ids.next_id(created), sender_id=customer_id(index), recipient_id=BOT_USER_ID, created_at=created,
            text=text,
        )  # fmt: skip
        self.sent.append(event)
        return event

    def _config(self, user_id: str) -> XSandboxConfig:
        # One small config per customer: the payload code looks names up in a list, and 2,000 customers
        # in one list would make building the bodies the slow part.
        config = self.configs.get(user_id)
        if config is None:
            index = int(user_id) - FIRST_CUSTOMER_ID
            customer = SandboxCustomer(user_id=user_id, handle=f"b{index}", name=f"Customer {index}")
            config = self.configs[user_id] = XSandboxConfig(customers=(customer,))
        return config


@dataclass
class LoadResult:
    latencies_ms: list[float]
    statuses: Counter[int]
    seconds: float
    new: int  # what the webhook answered: DMs new to the inbox
    duplicates: int  # ... and DMs it already had
    client_cpu_seconds: float


async def fire(url: str, plan: list[Delivery], concurrency: int) -> LoadResult:
    """Send ``plan`` over ``concurrency`` keep-alive connections, each request as soon as its connection is free."""
    latencies = [0.0] * len(plan)
    statuses: Counter[int] = Counter()
    totals = {"new": 0, "duplicates": 0}
    cursor = iter(range(len(plan)))

    async def connection() -> None:
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30.0, trust_env=False) as client:
            for index in cursor:
                delivery = plan[index]
                began = time.perf_counter()
                try:
                    response = await client.post(WEBHOOK_PATH, content=delivery.body, headers=delivery.headers)
                except httpx.HTTPError as error:
                    latencies[index] = (time.perf_counter() - began) * 1000
                    statuses[-1] += 1
                    print(f"  request failed: {type(error).__name__}: {error}", file=sys.stderr)
                    continue
                latencies[index] = (time.perf_counter() - began) * 1000
                statuses[response.status_code] += 1
                if response.status_code == 200:
                    answer = orjson.loads(response.content)
                    totals["new"] += answer["new"]
                    totals["duplicates"] += answer["duplicates"]

    cpu = time.process_time()
    began = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(min(concurrency, len(plan)))))
    seconds = time.perf_counter() - began
    return LoadResult(
        latencies_ms=latencies, statuses=statuses, seconds=seconds, new=totals["new"],
        duplicates=totals["duplicates"], client_cpu_seconds=time.process_time() - cpu,
    )  # fmt: skip


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of another process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def serve_ingest_process(workdir: str, worker: bool, report: Any, stop: Any) -> None:
    """The server process: ``dmcare serve``'s app and worker on a free port until ``stop`` is set."""
    asyncio.run(_serve_ingest(Path(workdir), worker, report, stop))


async def _serve_ingest(workdir: Path, worker: bool, report: Any, stop: Any) -> None:
    sock = listening_socket()
    port = sock.getsockname()[1]
    settings = Settings(
        database_url=f"sqlite:///{workdir / 'ingest.db'}", demo_data=workdir / "shop.yaml",
        sandbox_ledger=workdir / "ledger.jsonl", host="127.0.0.1", port=port, x_receive="webhook",
        x_send_budget=X_SEND_BUDGET,
    )  # fmt: skip
    service = await build_service(settings)
    if worker:
        service.worker.start()
    try:
        # As Service.serve does, on a socket bound before the settings were made (they need its port).
        async with serve_here(service.web, sock=sock) as url:
            report.put(("ready", url, str(workdir / "ingest.db")))
            while not stop.is_set():
                await asyncio.sleep(0.05)
    finally:
        await service.close()
        report.put(("closed", "", ""))


_NULL_BODY = b'{"received":1,"new":1,"duplicates":0,"echoes":0,"ignored":0}'
_NULL_RESPONSE = (
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n" % len(_NULL_BODY) + _NULL_BODY
)


class _NullHttp(asyncio.Protocol):
    """HTTP/1.1 keep-alive that reads each request and answers 200 at once: the load generator's ceiling."""

    def __init__(self) -> None:
        self.buffer = b""
        self.transport: Any = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (head := self.buffer.find(b"\r\n\r\n")) >= 0:
            length = 0
            for line in self.buffer[:head].split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if len(self.buffer) < head + 4 + length:
                return
            self.buffer = self.buffer[head + 4 + length :]
            self.transport.write(_NULL_RESPONSE)


def serve_null_process(report: Any, stop: Any) -> None:
    asyncio.run(_serve_null(report, stop))


async def _serve_null(report: Any, stop: Any) -> None:
    sock = listening_socket()
    server = await asyncio.get_running_loop().create_server(_NullHttp, sock=sock)
    report.put(("ready", f"http://127.0.0.1:{sock.getsockname()[1]}", ""))
    while not stop.is_set():
        await asyncio.sleep(0.05)
    server.close()
    report.put(("closed", "", ""))


@dataclass
class IngestFigures:
    concurrent: LoadResult
    sequential: LoadResult
    ceiling: LoadResult | None  # the same requests against a server that only answers 200
    unique_dms: int
    duplicate_requests: int
    xaa_requests: int
    inbox_rows: int
    expected_rows: int
    inbox_matches: bool
    processed_at_end: int
    catch_up_seconds: float | None
    server_cpu_seconds: float


def inbox_state(database: str) -> tuple[set[str], int]:
    """The DM event ids in the inbox and how many events the worker has stepped (read-only, beside the server)."""
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30)) as connection:
        ids = {row[0] for row in connection.execute("SELECT event_id FROM inbound_events WHERE event_id LIKE 'x:dm:%'")}
        processed = connection.execute(
            "SELECT count(*) FROM inbound_events WHERE event_id LIKE 'x:dm:%' AND processed_at IS NOT NULL"
        ).fetchone()[0]
    return ids, int(processed)


@contextlib.contextmanager
def server_process(target: Any, *args: Any) -> Generator[tuple[str, int, str], None, None]:
    """Run ``target(*args, report, stop)`` in a fresh (spawned) process; yields its URL, pid and database."""
    context = multiprocessing.get_context("spawn")
    report = context.Queue()
    stop = context.Event()
    # Not a daemon: the server starts dmcare's worker process, and daemons may not have children.
    process = context.Process(target=target, args=(*args, report, stop))
    process.start()
    try:
        kind, url, database = report.get(timeout=180)
        if kind != "ready" or process.pid is None:
            raise RuntimeError(f"the server process said {kind!r}")
        yield url, process.pid, database
    finally:
        stop.set()
        with contextlib.suppress(Exception):  # the figures are taken; a slow shutdown only waits
            report.get(timeout=60)
        process.join(30)
        if process.is_alive():
            process.terminate()
            process.join(10)


def run_ingest(arguments: argparse.Namespace, workdir: Path) -> IngestFigures:
    write_shop(workdir / "shop.yaml", arguments.customers, first_x_user_id=FIRST_CUSTOMER_ID)
    maker = PlanMaker(customers=arguments.customers, rng=random.Random(20261123))
    warmup = maker.plan(arguments.warmup, duplicates=0.0, xaa=0.0)
    sequential = maker.plan(arguments.sequential, duplicates=arguments.duplicates, xaa=arguments.xaa)
    concurrent = maker.plan(arguments.requests, duplicates=arguments.duplicates, xaa=arguments.xaa)
    expected = {f"x:dm:{event.id}" for event in maker.sent}

    ceiling: LoadResult | None = None
    if arguments.calibrate:
        with server_process(serve_null_process) as (url, _, _):
            ceiling = asyncio.run(fire(url, concurrent[: arguments.calibrate], arguments.concurrency))
    worker = not arguments.no_worker
    catch_up: float | None = None
    with server_process(serve_ingest_process, str(workdir), worker) as (url, pid, database):
        asyncio.run(fire(url, warmup, arguments.concurrency))
        sequential_result = asyncio.run(fire(url, sequential, 1))
        cpu_before = process_cpu_seconds(pid)
        concurrent_result = asyncio.run(fire(url, concurrent, arguments.concurrency))
        server_cpu = process_cpu_seconds(pid) - cpu_before
        finished = time.perf_counter()
        ids, processed_at_end = inbox_state(database)
        processed = processed_at_end
        while worker and processed < len(ids) and time.perf_counter() < finished + arguments.catch_up_timeout:
            time.sleep(0.1)
            processed = inbox_state(database)[1]
        if worker and processed >= len(ids):
            catch_up = time.perf_counter() - finished
    return IngestFigures(
        concurrent=concurrent_result, sequential=sequential_result, ceiling=ceiling,
        unique_dms=sum(1 for d in concurrent if not d.duplicate),
        duplicate_requests=sum(1 for d in concurrent if d.duplicate),
        xaa_requests=sum(1 for d in concurrent if b'"event_uuid"' in d.body),
        inbox_rows=len(ids), expected_rows=len(expected), inbox_matches=ids == expected,
        processed_at_end=processed_at_end, catch_up_seconds=catch_up, server_cpu_seconds=server_cpu,
    )  # fmt: skip


def print_ingest(arguments: argparse.Namespace, figures: IngestFigures) -> None:
    result = figures.concurrent
    latency = result.latencies_ms
    worker = "off (--no-worker)" if arguments.no_worker else "on"
    print(
        f"X webhook ingest: dmcare serve's app (X sandbox mode) under uvicorn in its own process, signature checks on,"
        f" SQLite inbox, worker {worker}; the load generator shares the machine's {os.cpu_count()} cores"
    )
    print(
        f"  requests            {len(latency):,} over {arguments.concurrency} keep-alive connections"
        f" ({figures.unique_dms:,} distinct DMs from {arguments.customers:,} customers,"
        f" {figures.duplicate_requests:,} re-deliveries, {figures.xaa_requests:,} in X Activity shape)"
    )
    print(f"  wall time           {result.seconds:.2f} s")
    print(f"  accepted            {result.statuses.get(200, 0) / result.seconds:,.0f} requests/s (answered 200)")
    print(
        f"  latency             p50 {percentile(latency, 0.5):.1f} ms, p90 {percentile(latency, 0.9):.1f} ms,"
        f" p99 {percentile(latency, 0.99):.1f} ms, max {max(latency):,.1f} ms (send -> answer, at the client)"
    )
    retry_after = XSandboxConfig().delivery_timeout
    slow = sum(1 for ms in latency if ms > retry_after * 1000)
    label = f"slower than {retry_after:g} s"
    print(f"  {label:<20}{slow} request{'' if slow == 1 else 's'} (X would count them as failed and deliver again)")
    print(f"  non-200 answers     {_non_200(result)}")
    print(
        f"  webhook said        {result.new:,} new, {result.duplicates:,} duplicates"
        f" (sent: {figures.unique_dms:,} distinct DMs, {figures.duplicate_requests:,} re-deliveries)"
    )
    print(
        f"  inbox rows          {figures.inbox_rows:,} DMs, for {figures.expected_rows:,} distinct DMs sent in all"
        f" (warm-up and one-connection phases included); each DM exactly once:"
        f" {'yes' if figures.inbox_matches else 'NO'}"
    )
    print(
        f"  CPU                 server process {figures.server_cpu_seconds:.1f} s"
        f" ({figures.server_cpu_seconds / result.seconds * 100:.0f}% of one core,"
        f" {figures.server_cpu_seconds / len(latency) * 1e6:,.0f} us/request; the worker process not included);"
        f" load generator {result.client_cpu_seconds:.1f} s"
        f" ({result.client_cpu_seconds / result.seconds * 100:.0f}% of one core)"
    )
    if not arguments.no_worker:
        caught = (
            f"caught up {figures.catch_up_seconds:.1f} s after the last answer"
            if figures.catch_up_seconds is not None
            else f"not caught up {arguments.catch_up_timeout:.0f} s after the last answer"
        )
        print(
            f"  worker              had stepped {figures.processed_at_end:,} of {figures.inbox_rows:,} inbox DMs"
            f" when the last answer came; {caught}"
        )
    sequential = figures.sequential
    one = sequential.latencies_ms
    print(
        f"  one connection      {len(one):,} requests one at a time: p50 {percentile(one, 0.5):.1f} ms,"
        f" p99 {percentile(one, 0.99):.1f} ms, {len(one) / sequential.seconds:,.0f} requests/s,"
        f" non-200 {_non_200(sequential)}"
    )
    if figures.ceiling is not None:
        ceiling = figures.ceiling
        print(
            f"  generator ceiling   {len(ceiling.latencies_ms) / ceiling.seconds:,.0f} requests/s: the first"
            f" {len(ceiling.latencies_ms):,} of these requests against a bare asyncio server (own process) that"
            f" answers 200 at once; generator at {ceiling.client_cpu_seconds / ceiling.seconds * 100:.0f}% of one core"
        )


def _non_200(result: LoadResult) -> str:
    others = {status: count for status, count in sorted(result.statuses.items()) if status != 200}
    detail = ", ".join(f"{'no answer' if status < 0 else status}: {count}" for status, count in others.items())
    return f"{sum(others.values())}" + (f" ({detail})" if detail else "")


# ----------------------------------------------------------------------------------------------------
# Part 2: the send budget under a backlog
# ----------------------------------------------------------------------------------------------------


@dataclass
class MovableClock:
    current: datetime = START

    def now(self) -> datetime:
        return self.current


class StatusCounter:
    """ASGI middleware counting the statuses the sandbox answers to POSTs (the DM sends)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.statuses: Counter[int] = Counter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return

        async def counting(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.statuses[message["status"]] += 1
            await send(message)

        await self.app(scope, receive, counting)


class _QuietServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # leave Ctrl-C to Python


@contextlib.asynccontextmanager
async def serve_here(app: ASGIApp, *, sock: socket.socket | None = None) -> AsyncIterator[str]:
    """uvicorn on ``sock`` (default: a free local port), in this event loop, until the block ends; yields its URL."""
    sock = sock or listening_socket()
    server = _QuietServer(uvicorn.Config(app, lifespan="off", log_level="warning", access_log=False))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("uvicorn stopped before it started")
            await asyncio.sleep(0.005)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
        sock.close()


def allowed_in(windows: tuple[Window, ...], span: timedelta) -> int:
    """The most sends the windows permit in a span of this length: per window, its limit once per started length."""
    return min(window.limit * math.ceil(span / window.length) for window in windows)


def next_due(engine: Any, budget: SendBudget, now: datetime) -> datetime | None:
    """When the runtime can next have work: a pending event, a due command, or a reply the budget lets out."""
    with engine.connect() as connection:
        pending = connection.execute(
            select(func.count()).select_from(EVENTS).where(EVENTS.c.processed_at.is_(None))
        ).scalar_one()
        if pending:
            return now
        waiting = COMMANDS.c.status.in_(("pending", "running"))
        other = connection.execute(
            select(func.min(COMMANDS.c.not_before)).where(waiting, COMMANDS.c.kind != "send_reply")
        ).scalar_one()
        reply = connection.execute(
            select(func.min(COMMANDS.c.not_before)).where(waiting, COMMANDS.c.kind == "send_reply")
        ).scalar_one()
        candidates = [other] if other is not None else []
        if reply is not None:
            candidates.append(max(reply, budget.next_opening(connection, now)))
    return min(candidates) if candidates else None


@dataclass(frozen=True, slots=True)
class SendRound:
    """One outbox round that sent DMs: when, the newest reply decided before it claimed, and what it sent."""

    at: datetime
    decided: int  # the largest send_reply command id that existed when the round claimed
    sent: frozenset[int]  # send_reply command ids this round completed


async def drain_observed(runtime: Any, engine: Any, rounds: list[SendRound]) -> None:
    """``Runtime.drain``, step for step (a batch of events, then the due commands, until neither does anything),
    noting between the two halves of each step which replies existed and which the outbox then sent."""
    replies = COMMANDS.c.kind == "send_reply"
    with engine.connect() as connection:
        done = set(connection.execute(select(COMMANDS.c.id).where(replies, COMMANDS.c.status == "done")).scalars())
    for _ in range(10_000):
        processed = runtime.processor.process_batch(runtime.batch_size)
        with engine.connect() as connection:
            decided = connection.execute(select(func.max(COMMANDS.c.id)).where(replies)).scalar_one() or 0
        ran = await runtime.outbox.run_due(runtime.batch_size)
        if ran:
            with engine.connect() as connection:
                now_done = set(
                    connection.execute(select(COMMANDS.c.id).where(replies, COMMANDS.c.status == "done")).scalars()
                )
            if now_done - done:
                rounds.append(SendRound(at=runtime.clock.now(), decided=decided, sent=frozenset(now_done - done)))
            done = now_done
        if processed + ran == 0:
            return
    raise RuntimeError("the runtime did not settle")


@dataclass
class BudgetFigures:
    spec: str
    windows: tuple[Window, ...]
    span: timedelta
    waiting: Counter[int]  # DMs waiting after the backlog was stepped, by urgency
    sent: Counter[int]  # DMs sent, by urgency
    sent_on_wire: int  # DMs the sandbox created for the bot
    statuses: Counter[int]  # what the sandbox answered to sends
    rate_limited_recorded: int  # sends the bot recorded as rate limited
    inversions: int  # DMs sent while a more urgent reply, already decided, waited
    ahead_of_unstepped: int  # DMs sent while a more urgent customer DM had arrived but was not yet stepped
    batch_size: int  # inbox events per runtime step
    handovers_done_at: timedelta | None
    others_began_at: timedelta | None
    served_customers: int
    served_in_arrival_order: bool
    per_window: list[int]  # sends per shortest window, aligned to the start
    drains: int
    ticks: int
    seconds: float


async def run_budget(spec: str, arguments: argparse.Namespace, workdir: Path) -> BudgetFigures:
    windows = parse_windows(spec)
    span = timedelta(hours=arguments.hours)
    step = timedelta(seconds=arguments.step)
    clock = MovableClock()
    backlog = arguments.backlog
    handovers = set(random.Random(7).sample(range(backlog), round(backlog * arguments.handovers)))
    customers = tuple(
        SandboxCustomer(user_id=customer_id(index), handle=f"b{index}", name=f"Customer {index}")
        for index in range(backlog)
    )
    config = XSandboxConfig(
        customers=customers, webhook_url=None,
        send_windows=tuple(RateWindow(limit=w.limit, seconds=int(w.length.total_seconds())) for w in windows),
    )  # fmt: skip
    sandbox = XSandbox(config=config, clock=clock.now)
    wire = StatusCounter(sandbox.app)
    budget = SendBudget(name="x.dm_send", windows=windows)
    async with serve_here(wire) as url:
        # As build_service wires the bot for the X sandbox: tweepy with an OAuth 2.0 user token.
        api = XApi(credentials=XCredentials(oauth2_user_token="sandbox"), base_url=url, timeout=10.0, clock=clock.now)
        channel = XDirectMessages(api=api, bot_user_id=config.bot_user_id)
        settings = Settings(database_url=f"sqlite:///{workdir / 'budget.db'}", sandbox_ledger=workdir / "ledger.jsonl")
        app = build_app(settings, clock=clock, channel=channel, send_budget=budget)
        try:
            ids = SnowflakeIds()
            messages = [
                DirectMessage(
                    event_id=ids.next_id(START),
                    sender_id=customer_id(index),
                    recipient_id=BOT_USER_ID,
                    text=HANDOVER_MESSAGE if index in handovers else FIRST_MESSAGE,
                    sent_at=START,
                    conversation_id=f"{customer_id(index)}-{BOT_USER_ID}",  # smaller user id first, as X does
                )
                for index in range(backlog)
            ]
            app.runtime.inbox.accept(inbox_events(messages))
            began = time.perf_counter()
            end = START + span
            now = START
            drains = 0
            waiting: Counter[int] | None = None
            rounds: list[SendRound] = []
            while now < end:
                clock.current = now
                await drain_observed(app.runtime, app.engine, rounds)
                drains += 1
                if waiting is None:
                    waiting = _replies_by_urgency(app.engine)
                due = next_due(app.engine, budget, now)
                if due is None:
                    break
                # The next step at or after `due` (at least one step on): the steps between cost nothing.
                now += max(1, math.ceil((due - now) / step)) * step
            seconds = time.perf_counter() - began
            return _budget_figures(
                spec, windows, span, app.engine, sandbox, wire, waiting or Counter(), rounds, backlog, handovers,
                drains, math.ceil(span / step), seconds, app.runtime.batch_size,
            )  # fmt: skip
        finally:
            await api.aclose()
            await sandbox.aclose()
            app.close()


def _replies_by_urgency(engine: Any) -> Counter[int]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(COMMANDS.c.priority, func.count())
            .where(COMMANDS.c.kind == "send_reply")
            .group_by(COMMANDS.c.priority)
        ).all()
    return Counter({int(priority): int(count) for priority, count in rows})


def _budget_figures(
    spec: str,
    windows: tuple[Window, ...],
    span: timedelta,
    engine: Any,
    sandbox: XSandbox,
    wire: StatusCounter,
    waiting: Counter[int],
    rounds: list[SendRound],
    backlog: int,
    handovers: set[int],
    drains: int,
    ticks: int,
    seconds: float,
    batch_size: int,
) -> BudgetFigures:
    with engine.connect() as connection:
        replies = connection.execute(
            select(
                COMMANDS.c.id, COMMANDS.c.conversation_id, COMMANDS.c.priority, COMMANDS.c.status,
                COMMANDS.c.created_at, COMMANDS.c.completed_at, COMMANDS.c.payload, COMMANDS.c.error,
            ).where(COMMANDS.c.kind == "send_reply").order_by(COMMANDS.c.id)
        ).all()  # fmt: skip
    # A conversation's replies leave in order, each with the urgency of the most urgent one behind it.
    urgency_of: dict[int, int] = {}
    for row in replies:
        urgency_of[row.conversation_id] = min(urgency_of.get(row.conversation_id, 99), row.priority)
    urgency = {row.id: urgency_of[row.conversation_id] for row in replies}
    created = {row.id: row.created_at for row in replies}
    sent_in: dict[int, int] = {}  # reply id -> index of the round that sent it
    for index, send_round in enumerate(rounds):
        sent_in.update(dict.fromkeys(send_round.sent, index))
    inversions = ahead = 0
    for index, send_round in enumerate(rounds):
        # Replies still waiting when this round claimed (sent later, or never), split by whether they were decided.
        later = [i for i in urgency if created[i] <= send_round.at and sent_in.get(i, len(rounds)) > index]
        decided = min((urgency[i] for i in later if i <= send_round.decided), default=99)
        undecided = min((urgency[i] for i in later if i > send_round.decided), default=99)
        inversions += sum(1 for i in send_round.sent if urgency[i] > decided)
        ahead += sum(1 for i in send_round.sent if decided >= urgency[i] > undecided)
    sent: Counter[int] = Counter()
    sends: list[tuple[datetime, int]] = []
    served: set[int] = set()
    for row in replies:
        if row.status == "done":
            sent[row.priority] += 1
            sends.append((row.completed_at, urgency[row.id]))
            served.add(int(row.payload["recipient_id"]) - FIRST_CUSTOMER_ID)
    handover_sends = sorted(at for at, level in sends if level == Urgency.HANDOVER)
    all_handovers_sent = bool(handover_sends) and len(handover_sends) == waiting[Urgency.HANDOVER]
    other_sends = sorted(at for at, level in sends if level != Urgency.HANDOVER)
    ordinary = [index for index in range(backlog) if index not in handovers]
    answered = served - handovers
    shortest = min(windows, key=lambda window: window.length)
    per_window = [0] * math.ceil(span / shortest.length)
    for at, _ in sends:
        per_window[min(len(per_window) - 1, int((at - START) / shortest.length))] += 1
    bot_events = [event for event in sandbox.events() if event["sender_id"] == sandbox.config.bot_user_id]
    return BudgetFigures(
        spec=spec, windows=windows, span=span, waiting=waiting, sent=sent, sent_on_wire=len(bot_events),
        statuses=wire.statuses,
        rate_limited_recorded=sum(1 for row in replies if row.error and row.error.startswith("RateLimitedError")),
        inversions=inversions, ahead_of_unstepped=ahead,
        handovers_done_at=(handover_sends[-1] - START) if all_handovers_sent else None,
        others_began_at=(other_sends[0] - START) if other_sends else None,
        served_customers=len(answered), served_in_arrival_order=answered == set(ordinary[: len(answered)]),
        per_window=per_window, drains=drains, ticks=ticks, seconds=seconds, batch_size=batch_size,
    )  # fmt: skip


def _clock_time(offset: timedelta | None) -> str:
    if offset is None:
        return "-"
    minutes = int(offset.total_seconds()) // 60
    return f"+{minutes // 60:02d}:{minutes % 60:02d}"


def print_budget(arguments: argparse.Namespace, figures: BudgetFigures) -> None:
    allowed = allowed_in(figures.windows, figures.span)
    sent = sum(figures.sent.values())
    hours = figures.span.total_seconds() / 3600
    print(
        f"X send budget under a backlog: {arguments.backlog:,} customers' first DMs in the inbox at once,"
        f" budget {figures.spec}, {hours:g} virtual hours in {arguments.step:g} s steps,"
        " tweepy over HTTP to the X sandbox enforcing the same windows"
    )
    names = {Urgency.HANDOVER: "hand-overs to a person", Urgency.FIRST_ANSWER: "first answers"}
    parts = ", ".join(
        f"{figures.waiting[level]:,} {names.get(Urgency(level), Urgency(level).name.lower())}"
        for level in sorted(figures.waiting)
    )
    print(f"  DMs waiting         {sum(figures.waiting.values()):,} ({parts})")
    print(f"  DMs sent            {sent:,} (the sandbox created {figures.sent_on_wire:,} DMs from the bot)")
    per_window = ", ".join(
        f"{window.limit}/{_length(window.length)} -> {window.limit * math.ceil(figures.span / window.length):,}"
        for window in figures.windows
    )
    print(
        f"  allowed             {allowed:,} in {hours:g} h (min over windows of limit x windows started: {per_window})"
    )
    print(f"  sent / allowed      {sent / allowed * 100:.1f} %")
    too_many = figures.statuses.get(429, 0)
    answers = ", ".join(f"{status}: {count:,}" for status, count in sorted(figures.statuses.items()))
    print(
        f"  429s                {too_many} (the sandbox answered {sum(figures.statuses.values()):,} sends: {answers};"
        f" the bot recorded {figures.rate_limited_recorded} rate-limited sends)"
    )
    handovers = figures.waiting.get(Urgency.HANDOVER, 0)
    if handovers:
        print(
            f"  urgent first        {figures.sent.get(Urgency.HANDOVER, 0):,} of {handovers:,} hand-overs sent,"
            f" the last at {_clock_time(figures.handovers_done_at)};"
            f" other DMs began at {_clock_time(figures.others_began_at)} (virtual h:mm after the backlog)"
        )
    print(f"  urgency order       {figures.inversions} DMs sent while a more urgent reply, already decided, waited")
    if figures.ahead_of_unstepped:
        print(
            f"                      {figures.ahead_of_unstepped:,} sent while more urgent customer DMs of the backlog"
            f" were still in the inbox, not yet stepped (the runtime sends between inbox batches of"
            f" {figures.batch_size} events)"
        )
    print(
        f"  arrival order       the {figures.served_customers:,} customers answered are the first"
        f" {figures.served_customers:,} to have written: {'yes' if figures.served_in_arrival_order else 'NO'}"
    )
    shortest = min(figures.windows, key=lambda window: window.length)
    full = sum(1 for count in figures.per_window if count >= shortest.limit)
    print(
        f"  per {_length(shortest.length)} window      min {min(figures.per_window)}, max {max(figures.per_window)}"
        f" sends (limit {shortest.limit}); {full} of {len(figures.per_window)} windows full"
    )
    print(
        f"  wall time           {figures.seconds:.1f} s for {hours:g} virtual hours"
        f" ({figures.drains} drains over {figures.ticks:,} steps)"
    )


def _length(length: timedelta) -> str:
    seconds = int(length.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0 and seconds >= size and not (unit == "d" and seconds == 86400):
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part", choices=("all", "ingest", "budget"), default="all")
    parser.add_argument("--requests", type=int, default=20_000, help="webhook requests under concurrency")
    parser.add_argument("--concurrency", type=int, default=32, help="keep-alive connections")
    parser.add_argument("--customers", type=int, default=2_000, help="distinct customers writing (part 1)")
    parser.add_argument("--sequential", type=int, default=500, help="requests on one connection, one at a time")
    parser.add_argument("--warmup", type=int, default=300, help="requests before anything is measured")
    parser.add_argument("--duplicates", type=float, default=0.05, help="share of requests re-delivering a DM")
    parser.add_argument("--xaa", type=float, default=0.05, help="share of requests in X Activity shape")
    parser.add_argument("--no-worker", action="store_true", help="serve the webhook without the runtime worker")
    parser.add_argument(
        "--calibrate", type=int, default=3_000, help="requests sent to a bare server first, for the ceiling (0: skip)"
    )
    parser.add_argument("--catch-up-timeout", type=float, default=60.0, help="seconds to wait for the worker")
    parser.add_argument("--backlog", type=int, default=3_000, help="customers whose first DMs wait at once (part 2)")
    parser.add_argument("--handovers", type=float, default=0.05, help="share of the backlog asking for a person")
    parser.add_argument(
        "--budget", action="append", help=f'send windows, e.g. "200/15m,1000/24h"; repeatable (default {X_SEND_BUDGET})'
    )
    parser.add_argument("--hours", type=float, default=24.0, help="virtual hours the backlog is worked")
    parser.add_argument("--step", type=float, default=10.0, help="virtual seconds per clock step")
    parser.add_argument("--quick", action="store_true", help="a fast run: fewer requests, a smaller backlog")
    arguments = parser.parse_args()
    if arguments.quick:
        arguments.requests = min(arguments.requests, 3_000)
        arguments.sequential = min(arguments.sequential, 300)
        arguments.warmup = min(arguments.warmup, 100)
        arguments.calibrate = min(arguments.calibrate, 2_000)
        arguments.backlog = min(arguments.backlog, 1_000)
        arguments.hours = min(arguments.hours, 6.0)
    budgets = arguments.budget or [X_SEND_BUDGET]
    for spec in budgets:
        try:
            parse_windows(spec)
        except ValueError as error:
            parser.error(str(error))
    print(
        f"machine: {os.cpu_count()} CPU cores, load average {os.getloadavg()[0]:.2f} before the run"
        " (other busy processes make every figure below a lower bound)"
    )
    with tempfile.TemporaryDirectory(prefix="dmcare-bench-x-") as workdir:
        if arguments.part in ("all", "ingest"):
            figures = run_ingest(arguments, Path(workdir))
            print_ingest(arguments, figures)
        for index, spec in enumerate(budgets if arguments.part in ("all", "budget") else []):
            run_dir = Path(workdir) / f"budget{index}"
            run_dir.mkdir()
            print_budget(arguments, asyncio.run(run_budget(spec, arguments, run_dir)))


if __name__ == "__main__":
    main()
