"""Fixtures for the X sandbox tests: a settable clock, demo customers, and running sandboxes."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import pytest
import tweepy.asynchronous

from integrations.x.sandbox import SandboxCustomer, XSandbox, XSandboxConfig
from tests.integrations.x.sandbox.receiver import WebhookReceiver
from tests.integrations.x.sandbox.server import serve, tweepy_client

ADA = SandboxCustomer(user_id="1700000000000000001", handle="ada_parcel", name="Ada Lovelace")
BO = SandboxCustomer(user_id="1700000000000000002", handle="bo_waits", name="Bo Ramírez")
BOT_ID = XSandboxConfig().bot_user_id
SECRET = XSandboxConfig().consumer_secret
T0 = datetime(2026, 3, 10, 12, 0, 0, tzinfo=UTC)


class FakeClock:
    """The sandbox's clock, moved by hand."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)

    @property
    def epoch(self) -> int:
        return int(self.at.timestamp())


@dataclass(frozen=True, kw_only=True)
class Running:
    sandbox: XSandbox
    base_url: str
    client: tweepy.asynchronous.AsyncClient  # OAuth 1.0a, dicts or Response objects per client_options


class Start(Protocol):
    def __call__(self, *, client_options: dict[str, Any] | None = None, **config: Any) -> Awaitable[Running]: ...


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
async def start(clock: FakeClock) -> AsyncIterator[Start]:
    """Start a sandbox (customers ADA and BO plus ``config``) under uvicorn, with a tweepy client on it."""
    async with contextlib.AsyncExitStack() as stack:

        async def _start(*, client_options: dict[str, Any] | None = None, **config: Any) -> Running:
            sandbox = XSandbox(config=XSandboxConfig(customers=(ADA, BO), **config), clock=clock)
            stack.push_async_callback(sandbox.aclose)
            base_url = await stack.enter_async_context(serve(sandbox.app))
            client = await stack.enter_async_context(tweepy_client(base_url, **(client_options or {})))
            return Running(sandbox=sandbox, base_url=base_url, client=client)

        yield _start


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[WebhookReceiver, str]]:
    """A webhook receiver served on its own port; yields it and its URL."""
    receiving = WebhookReceiver(secret=SECRET)
    async with serve(receiving.app) as base_url:
        yield receiving, f"{base_url}/webhook"


# Retries in milliseconds instead of X's 3 s / 27 s / 242 s, so retry tests take no time.
FAST_RETRIES: dict[str, Any] = {"delivery_retries": (0.01, 0.02), "delivery_timeout": 0.5}
