"""A whole X world for tests: the X sandbox and dmcare's webhook on real local servers, and the bot
sending through tweepy's real HTTP path; the sandbox and the bot share one movable clock."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from bot.ingest.group_commit import GroupCommit
from bot.ingest.x_webhook import WebhookIntake, x_webhook_router
from bot.runtime.executors import Services
from bot.runtime.inbox import NewEvent
from bot.runtime.send_budget import SendBudget, parse_windows
from integrations.sandbox import DEFAULT_DEMO_DATA, SandboxServices
from integrations.sandbox.demo_data import load_demo_data
from integrations.x.channel import XDirectMessages
from integrations.x.client import XApi, XCredentials
from integrations.x.sandbox import SandboxCustomer, XSandbox, XSandboxConfig
from tests.harness import START, Bot, MovableClock, make_bot
from tests.integrations.x.sandbox.server import serve

SECRET = "test-consumer-secret"
OAUTH1 = XCredentials(consumer_key="ck", consumer_secret="cs", access_token="1-at", access_token_secret="ats")


@dataclass
class XWorld:
    bot: Bot
    sandbox: XSandbox
    sandbox_url: str
    webhook_url: str
    api: XApi
    channel: XDirectMessages
    rebuild: Callable[[], Bot]

    def restart(self) -> None:
        """The bot process stops and starts again on the same database; X (the sandbox) stays up."""
        self.bot.app.close()
        self.bot = self.rebuild()

    @property
    def bot_user_id(self) -> str:
        return self.sandbox.config.bot_user_id

    async def settle(self) -> None:
        """Until nothing moves: webhook deliveries in, conversations stepped, DMs out (and echoed)."""
        for _ in range(20):
            await self.sandbox.deliveries_settled()
            before = len(self.sandbox.events())
            await self.bot.app.runtime.drain()
            await self.sandbox.deliveries_settled()
            if len(self.sandbox.events()) == before and not self.pending_inbox():
                return
        raise AssertionError("the X world did not settle")

    def deliveries(self, *, from_customers: bool) -> list[Any]:
        """The webhook deliveries of customers' DMs, or of the bot's own (X's echoes)."""
        senders = {event["id"]: event["sender_id"] for event in self.sandbox.events()}
        return [
            delivery
            for delivery in self.sandbox.deliveries()
            if (senders[delivery.event_id] != self.bot_user_id) == from_customers
        ]

    def pending_inbox(self) -> int:
        return len([row for row in self.bot.events() if row["processed_at"] is None])

    def bot_dms_to(self, user_id: str) -> list[str]:
        return [
            event["text"]
            for event in self.sandbox.events()
            if event["sender_id"] == self.bot_user_id and user_id in event["dm_conversation_id"].split("-")
        ]


def demo_customers() -> tuple[SandboxCustomer, ...]:
    data = load_demo_data(DEFAULT_DEMO_DATA, today=START.date())
    return tuple(SandboxCustomer(user_id=c.x_user_id, handle=c.handle, name=c.name) for c in data.customers.values())


@contextlib.asynccontextmanager
async def x_world(
    tmp_path: Path,
    *,
    budget: str = "15/15m,1440/24h",
    timeout: float = 5.0,
    credentials: XCredentials = OAUTH1,
    webhook: bool = True,
    **sandbox_options: Any,
) -> AsyncIterator[XWorld]:
    clock = MovableClock()
    holder: dict[str, Bot] = {}

    def write(events: Sequence[NewEvent]) -> set[str]:
        return holder["bot"].app.runtime.inbox.accept_new_ids(events)

    web = FastAPI()
    intake = WebhookIntake(consumer_secret=SECRET, accept=GroupCommit(write=write).accept)
    web.include_router(x_webhook_router(intake))
    async with serve(web) as web_url:
        config = XSandboxConfig(
            consumer_secret=SECRET, customers=demo_customers(), delivery_retries=(0.05, 0.1),
            webhook_url=f"{web_url}/webhooks/x" if webhook else None, **sandbox_options,
        )  # fmt: skip
        sandbox = XSandbox(config=config, clock=clock.now)
        async with serve(sandbox.app) as sandbox_url:
            api = XApi(credentials=credentials, base_url=sandbox_url, timeout=timeout, clock=clock.now)
            channel = XDirectMessages(api=api, bot_user_id=config.bot_user_id)

            def use_x(services: Services, _: SandboxServices) -> Services:
                return replace(services, channel=channel)

            def build() -> Bot:
                holder["bot"] = make_bot(
                    tmp_path, clock=clock, customize=use_x,
                    send_budget=SendBudget(name="x.dm_send", windows=parse_windows(budget)),
                )  # fmt: skip
                return holder["bot"]

            world = XWorld(
                bot=build(), sandbox=sandbox, sandbox_url=sandbox_url, webhook_url=f"{web_url}/webhooks/x",
                api=api, channel=channel, rebuild=build,
            )  # fmt: skip
            try:
                yield world
            finally:
                await api.aclose()
                await sandbox.aclose()
                world.bot.app.close()
