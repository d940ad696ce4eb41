"""``dmcare serve``: the bot on X, with its web server.

One process runs two things:

* the web server (uvicorn, main thread): X's webhook, which only writes the inbox so it answers in
  milliseconds; and, with no X credentials, the X sandbox and its chat page;
* the worker (its own thread and event loop): the runtime stepping conversations and running the
  outbox (DMs go out through tweepy within the send budget), and the X poller.

Keeping the worker off the server's event loop is what lets a busy batch never delay X's 200.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from fastapi.responses import JSONResponse, RedirectResponse, Response

from bot.app import App, build_app
from bot.ingest.x_poller import XPoller
from bot.ingest.x_webhook import WebhookIntake, x_webhook_router
from bot.runtime.clock import Clock, SystemClock
from bot.runtime.send_budget import SendBudget, Window, parse_windows
from bot.settings import SANDBOX_READ_BUDGET, SANDBOX_SEND_BUDGET, X_READ_BUDGET, X_SEND_BUDGET, Settings
from integrations.sandbox import DEFAULT_DEMO_DATA
from integrations.sandbox.demo_data import load_demo_data
from integrations.x.channel import XDirectMessages
from integrations.x.client import XApi, XCredentials
from integrations.x.sandbox import RateWindow, SandboxCustomer, XSandbox, XSandboxConfig

log = logging.getLogger(__name__)

SANDBOX_PATH = "/sandbox/x"
WEBHOOK_PATH = "/webhooks/x"
# Not a secret: the sandbox signs its deliveries with it, as X signs with the app's consumer secret.
SANDBOX_CONSUMER_SECRET = "sandbox-consumer-secret"


@dataclass
class Worker:
    """The runtime and the poller on their own thread; ``wake`` may be called from any thread."""

    app: App
    channel: XDirectMessages
    poller: XPoller | None = None
    poll_interval: float = 60.0
    _loop: asyncio.AbstractEventLoop | None = None
    _stop: asyncio.Event | None = None
    _thread: threading.Thread | None = None
    _ready: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._main, name="dmcare-worker", daemon=True)
        self._thread.start()
        self._ready.wait()

    def wake(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self.app.runtime.wake)

    def stop(self, timeout: float = 10.0) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout)

    def _main(self) -> None:
        asyncio.run(self._work())

    async def _work(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._ready.set()
        tasks = [asyncio.create_task(self.app.runtime.run_forever(self._stop))]
        if self.poller is not None:
            tasks.append(asyncio.create_task(self.poller.run(self._stop, interval=self.poll_interval)))
        try:
            await asyncio.gather(*tasks)
        finally:
            await self.channel.aclose()  # its HTTP session belongs to this loop


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
    app: App
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
        self.worker.stop()
        if self.sandbox is not None:
            await self.sandbox.aclose()
        self.app.close()


async def build_service(settings: Settings, *, clock: Clock | None = None) -> Service:
    """Wire the bot for X: the real X when credentials are configured, the X sandbox otherwise."""
    clock = clock or SystemClock()
    credentials = settings.x_credentials()
    sandbox: XSandbox | None = None
    if credentials is None:
        sandbox = _x_sandbox(settings, clock)
        consumer_secret = SANDBOX_CONSUMER_SECRET
        base_url = settings.x_api_base_url or settings.base_url() + SANDBOX_PATH
        bot_user_id = sandbox.config.bot_user_id
        # The sandbox takes any user token; a placeholder keeps the real OAuth 2.0 code path in use.
        credentials = XCredentials(oauth2_user_token="sandbox")
    else:
        if settings.x_consumer_secret is None and settings.x_receive != "polling":
            raise ValueError(
                "DMCARE_X_CONSUMER_SECRET is needed for the webhook (X signs deliveries with it); "
                "or set DMCARE_X_RECEIVE=polling"
            )
        consumer_secret = settings.x_consumer_secret.get_secret_value() if settings.x_consumer_secret else ""
        base_url = settings.x_api_base_url or "https://api.twitter.com"
        bot_user_id = settings.x_user_id or await _ask_who_we_are(credentials, base_url, settings)
    api = XApi(credentials=credentials, base_url=base_url, timeout=settings.x_timeout_seconds, clock=clock.now)
    send_budget = SendBudget(name="x.dm_send", windows=send_windows(settings))
    channel = XDirectMessages(api=api, bot_user_id=bot_user_id)
    app = build_app(settings, clock=clock, channel=channel, send_budget=send_budget)
    worker = Worker(app=app, channel=channel, poll_interval=settings.x_poll_interval_seconds)
    if settings.x_receive in ("polling", "both"):
        worker.poller = XPoller(
            api=api, engine=app.engine, clock=clock, bot_user_id=bot_user_id,
            read_budget=SendBudget(name="x.dm_read", windows=read_windows(settings)),
            first_backfill=timedelta(hours=settings.x_first_backfill_hours), accepted=worker.wake,
        )  # fmt: skip
    web = FastAPI(title="dmcare", docs_url=None, redoc_url=None, openapi_url=None)
    if settings.x_receive in ("webhook", "both"):
        intake = WebhookIntake(
            consumer_secret=consumer_secret, accept=app.runtime.inbox.accept, accepted=worker.wake,
            bot_user_id=bot_user_id, max_body_bytes=settings.webhook_max_body_bytes,
        )  # fmt: skip
        web.include_router(x_webhook_router(intake, path=WEBHOOK_PATH))
    if sandbox is not None:
        web.mount(SANDBOX_PATH, sandbox.app)

    @web.get("/healthz")
    async def health() -> JSONResponse:
        return JSONResponse({"status": "ok", "x": "sandbox" if sandbox is not None else "x"})

    @web.get("/")
    async def home() -> Response:
        if sandbox is not None:
            return RedirectResponse(f"{SANDBOX_PATH}/chat")
        return JSONResponse({"service": "dmcare", "webhook": WEBHOOK_PATH})

    return Service(settings=settings, app=app, web=web, worker=worker, sandbox=sandbox)


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
