"""``dmcare serve``: the bot on X, with its web server.

Two processes share the database:

* the web process (uvicorn): X's webhook, which only checks the signature and writes the inbox, so it
  answers X in milliseconds; and, with no X credentials, the X sandbox and its chat page;
* the worker process: the runtime stepping conversations and running the outbox (DMs go out through
  tweepy within the send budget), and the X poller.

Separate processes, not threads: stepping conversations is CPU work, and sharing one interpreter's
lock with it made the webhook's answers wait (p99 over a second under load). The worker notices new
inbox rows by polling every 50 ms, an indexed query that costs next to nothing when idle.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from multiprocessing.process import BaseProcess
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy import Engine

from bot.app import build_app
from bot.ingest.carrier_push import CarrierPushIntake, aftership_push_router
from bot.ingest.group_commit import GroupCommit
from bot.ingest.x_poller import XPoller
from bot.ingest.x_webhook import WebhookIntake, x_webhook_router
from bot.runtime.clock import Clock, SystemClock
from bot.runtime.inbox import Inbox
from bot.runtime.send_budget import SendBudget, Window, parse_windows
from bot.settings import SANDBOX_READ_BUDGET, SANDBOX_SEND_BUDGET, X_READ_BUDGET, X_SEND_BUDGET, Settings
from bot.storage.database import create_database_engine, upgrade
from flows.compiler import compile_flow
from flows.loader import load_default_flow, load_flow_file
from integrations.sandbox import DEFAULT_DEMO_DATA
from integrations.sandbox.demo_data import load_demo_data
from integrations.x.channel import XDirectMessages
from integrations.x.client import XApi, XCredentials
from integrations.x.sandbox import RateWindow, SandboxCustomer, XSandbox, XSandboxConfig

log = logging.getLogger(__name__)

SANDBOX_PATH = "/sandbox/x"
WEBHOOK_PATH = "/webhooks/x"
AFTERSHIP_WEBHOOK_PATH = "/webhooks/aftership"
# Not a secret: the sandbox signs its deliveries with it, as X signs with the app's consumer secret.
SANDBOX_CONSUMER_SECRET = "sandbox-consumer-secret"
WORKER_POLL_SECONDS = 0.05


@dataclass(frozen=True, kw_only=True)
class WorkerPlan:
    """What the worker process needs to build its half (sent to it pickled)."""

    settings: Settings
    api_base_url: str
    bot_user_id: str


class Worker:
    """The worker process: started once the web server answers, stopped with SIGTERM."""

    def __init__(self, plan: WorkerPlan) -> None:
        self._plan = plan
        self._process: BaseProcess | None = None

    def start(self) -> None:
        # spawn, not fork: the web process has threads and an event loop a fork would copy half of.
        self._process = multiprocessing.get_context("spawn").Process(
            target=run_worker, args=(self._plan,), name="dmcare-worker"
        )
        self._process.start()

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.is_alive()

    def stop(self, timeout: float = 20.0) -> None:
        process = self._process
        if process is None or process.pid is None:
            return
        if process.is_alive():
            process.terminate()  # SIGTERM: the worker finishes its round and closes
            process.join(timeout)
        if process.is_alive():
            log.error("the worker did not stop within %.0f s; killing it (its work stays in the database)", timeout)
            process.kill()
            process.join()


def run_worker(plan: WorkerPlan) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    asyncio.run(_work(plan))


async def _work(plan: WorkerPlan) -> None:
    settings = plan.settings
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for received in (signal.SIGTERM, signal.SIGINT):  # Ctrl-C reaches the whole process group
        loop.add_signal_handler(received, stop.set)
    clock = SystemClock()
    # The sandbox takes any user token; a placeholder keeps the real OAuth 2.0 code path in use.
    credentials = settings.x_credentials() or XCredentials(oauth2_user_token="sandbox")
    api = XApi(credentials=credentials, base_url=plan.api_base_url, timeout=settings.x_timeout_seconds, clock=clock.now)
    channel = XDirectMessages(api=api, bot_user_id=plan.bot_user_id)
    app = build_app(
        settings, clock=clock, channel=channel,
        send_budget=SendBudget(name="x.dm_send", windows=send_windows(settings)),
    )  # fmt: skip
    app.runtime.poll_interval = min(app.runtime.poll_interval, WORKER_POLL_SECONDS)
    work = [app.runtime.run_forever(stop)]
    if settings.x_receive in ("polling", "both"):
        poller = XPoller(
            api=api, engine=app.engine, clock=clock, bot_user_id=plan.bot_user_id,
            read_budget=SendBudget(name="x.dm_read", windows=read_windows(settings)),
            first_backfill=timedelta(hours=settings.x_first_backfill_hours), accepted=app.runtime.wake,
        )  # fmt: skip
        work.append(poller.run(stop, interval=settings.x_poll_interval_seconds))
    try:
        await asyncio.gather(*work)
    finally:
        await channel.aclose()
        await app.aclose()


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # uvicorn re-raises SIGINT/SIGTERM once it has stopped, which would end the process before the
        # worker finishes its round and the database is closed; stop the server and return instead.
        loop = asyncio.get_running_loop()
        for received in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(received, self.handle_exit, received, None)
        try:
            yield
        finally:
            for received in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(received)


@dataclass
class Service:
    settings: Settings
    engine: Engine
    web: FastAPI
    worker: Worker
    sandbox: XSandbox | None

    async def serve(self) -> None:
        server = _Server(
            uvicorn.Config(self.web, host=self.settings.host, port=self.settings.port, log_level="warning",
                           access_log=False)
        )  # fmt: skip
        serving = asyncio.create_task(server.serve())
        try:
            while not server.started:
                if serving.done():
                    serving.result()  # start-up failed (port taken, ...): raise its error
                    return
                await asyncio.sleep(0.02)
            if self.sandbox is not None and self.sandbox.config.webhook_url is not None:
                # As X does when a webhook is registered: challenge it before delivering anything.
                if not await self.sandbox.check_webhook():
                    log.error("the X sandbox's CRC check of %s failed", self.sandbox.config.webhook_url)
            # The worker starts once the server answers: its poller and sends may talk to this very server.
            self.worker.start()
            await serving
        finally:
            await self.close()

    async def close(self) -> None:
        await asyncio.to_thread(self.worker.stop)
        if self.sandbox is not None:
            await self.sandbox.aclose()
        self.engine.dispose()


async def build_service(settings: Settings, *, clock: Clock | None = None) -> Service:
    """Wire the bot for X: the real X when credentials are configured, the X sandbox otherwise."""
    clock = clock or SystemClock()
    # Refuse a bad flow or demo file here, with the field at fault, not later in the worker process.
    compile_flow(load_flow_file(settings.flow_file) if settings.flow_file else load_default_flow())
    load_demo_data(settings.demo_data or DEFAULT_DEMO_DATA, today=clock.now().date())
    credentials = settings.x_credentials()
    sandbox: XSandbox | None = None
    if credentials is None:
        sandbox = _x_sandbox(settings, clock)
        consumer_secret = SANDBOX_CONSUMER_SECRET
        base_url = settings.x_api_base_url or settings.base_url() + SANDBOX_PATH
        bot_user_id = sandbox.config.bot_user_id
    else:
        if settings.x_consumer_secret is None and settings.x_receive != "polling":
            raise ValueError(
                "DMCARE_X_CONSUMER_SECRET is needed for the webhook (X signs deliveries with it); "
                "or set DMCARE_X_RECEIVE=polling"
            )
        consumer_secret = settings.x_consumer_secret.get_secret_value() if settings.x_consumer_secret else ""
        base_url = settings.x_api_base_url or "https://api.twitter.com"
        bot_user_id = settings.x_user_id or await _ask_who_we_are(credentials, base_url, settings)
    engine = create_database_engine(settings.database_url)
    upgrade(engine)  # before the worker starts, so the two processes never migrate at once
    inbox = Inbox(engine=engine, clock=clock)
    worker = Worker(WorkerPlan(settings=settings, api_base_url=base_url, bot_user_id=bot_user_id))
    web = FastAPI(title="dmcare", docs_url=None, redoc_url=None, openapi_url=None)
    if settings.x_receive in ("webhook", "both"):
        intake = WebhookIntake(
            consumer_secret=consumer_secret, accept=GroupCommit(write=inbox.accept_new_ids).accept,
            bot_user_id=bot_user_id, max_body_bytes=settings.webhook_max_body_bytes,
        )  # fmt: skip
        web.include_router(x_webhook_router(intake, path=WEBHOOK_PATH))
    if settings.aftership_webhook_secret is not None:
        # AfterShip's pushes: news about parcels that open conversations follow.
        push = CarrierPushIntake(
            engine=engine, secret=settings.aftership_webhook_secret.get_secret_value(),
            accept=GroupCommit(write=inbox.accept_new_ids).accept, max_body_bytes=settings.webhook_max_body_bytes,
        )  # fmt: skip
        web.include_router(aftership_push_router(push, path=AFTERSHIP_WEBHOOK_PATH))
    if sandbox is not None:
        web.mount(SANDBOX_PATH, sandbox.app)

    @web.get("/healthz")
    async def health() -> JSONResponse:
        working = worker.alive
        return JSONResponse(
            {"status": "ok" if working else "degraded", "worker": "running" if working else "stopped",
             "x": "sandbox" if sandbox is not None else "x"},
            status_code=200 if working else 503,
        )  # fmt: skip

    @web.get("/")
    async def home() -> Response:
        if sandbox is not None:
            return RedirectResponse(f"{SANDBOX_PATH}/chat")
        return JSONResponse({"service": "dmcare", "webhook": WEBHOOK_PATH})

    return Service(settings=settings, engine=engine, web=web, worker=worker, sandbox=sandbox)


def send_windows(settings: Settings) -> tuple[Window, ...]:
    default = SANDBOX_SEND_BUDGET if settings.uses_x_sandbox else X_SEND_BUDGET
    return parse_windows(settings.x_send_budget or default)


def read_windows(settings: Settings) -> tuple[Window, ...]:
    default = SANDBOX_READ_BUDGET if settings.uses_x_sandbox else X_READ_BUDGET
    return parse_windows(settings.x_read_budget or default)


def _x_sandbox(settings: Settings, clock: Clock) -> XSandbox:
    data = load_demo_data(settings.demo_data or DEFAULT_DEMO_DATA, today=clock.now().date())
    customers = tuple(
        SandboxCustomer(user_id=customer.x_user_id, handle=customer.handle, name=customer.name)
        for customer in data.customers.values()
    )
    ledger = settings.default_ledger_path()
    config = XSandboxConfig(
        consumer_secret=SANDBOX_CONSUMER_SECRET,
        customers=customers,
        # The sandbox plays X with the same budget the bot keeps to.
        send_windows=_sandbox_windows(send_windows(settings)),
        read_windows=_sandbox_windows(read_windows(settings)),
        webhook_url=settings.base_url() + WEBHOOK_PATH if settings.x_receive != "polling" else None,
        journal=Path(str(ledger) + ".x.jsonl") if ledger is not None else None,
    )
    return XSandbox(config=config, clock=clock.now)


def _sandbox_windows(windows: tuple[Window, ...]) -> tuple[RateWindow, ...]:
    return tuple(RateWindow(limit=window.limit, seconds=int(window.length.total_seconds())) for window in windows)


async def _ask_who_we_are(credentials: XCredentials, base_url: str, settings: Settings) -> str:
    api = XApi(credentials=credentials, base_url=base_url, timeout=settings.x_timeout_seconds)
    try:
        return await api.me()
    finally:
        await api.aclose()
