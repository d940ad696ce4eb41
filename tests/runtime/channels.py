"""A DM channel in front of the sandbox's that tests can script: down, rate limited, losing answers."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

from bot.runtime.executors import Services
from integrations.errors import OutcomeUnknownError, RateLimitedError, RetryableIntegrationError
from integrations.models import RateLimit, SentMessage
from integrations.protocols import DirectMessageChannel
from integrations.sandbox import SandboxServices


@dataclass
class ScriptedChannel:
    inner: DirectMessageChannel
    down: bool = False  # every send fails, retryably, and nothing is delivered
    rate_limited_until: datetime | None = None  # every send is refused with a 429 until then
    lose_answers: int = 0  # the next sends are delivered, but their answer is lost
    lookup_failures: list[Exception] = field(default_factory=list)  # raised by the next find_sent calls
    calls: Counter[str] = field(default_factory=Counter)  # sends asked for, by idempotency key
    lookups: int = 0  # find_sent calls

    async def send(self, *, recipient_id: str, text: str, idempotency_key: str) -> SentMessage:
        self.calls[idempotency_key] += 1
        if self.down:
            raise RetryableIntegrationError("X is down", service="x")
        if self.rate_limited_until is not None:
            reading = RateLimit(limit=15, remaining=0, reset_at=self.rate_limited_until)
            raise RateLimitedError("rate limited", service="x", retry_after=60.0, rate_limit=reading)
        await asyncio.sleep(0)  # let a second worker interleave, as a network call would
        sent = await self.inner.send(recipient_id=recipient_id, text=text, idempotency_key=idempotency_key)
        if self.lose_answers:
            self.lose_answers -= 1
            raise OutcomeUnknownError("timed out after the request left", service="x")
        return sent

    async def find_sent(
        self, *, recipient_id: str, text: str, since: datetime, exclude: frozenset[str] = frozenset()
    ) -> SentMessage | None:
        self.lookups += 1
        if self.lookup_failures:
            raise self.lookup_failures.pop(0)
        return await self.inner.find_sent(recipient_id=recipient_id, text=text, since=since, exclude=exclude)


def scripted(holder: dict[str, ScriptedChannel]) -> Callable[[Services, SandboxServices], Services]:
    """A ``customize`` for make_bot that puts a ScriptedChannel in front and leaves it in ``holder``."""

    def customize(services: Services, sandbox: SandboxServices) -> Services:
        holder["channel"] = ScriptedChannel(inner=services.channel)
        return replace(services, channel=holder["channel"])

    return customize
