"""Signed webhook POSTs with X's retry schedule, made in the background.

First attempts go out one at a time, in the order they were submitted (so a test can reason about
order); a failed one (non-200, error, or no answer within the timeout) is retried on its own schedule
without holding up the rest, then given up on (logged; the event stays available to polling).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from integrations.x.signatures import SIGNATURE_HEADER, sign

__all__ = ["Delivery", "DeliveryAttempt", "WebhookDeliverer"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class DeliveryAttempt:
    status: int | None  # None: no answer (connection error or timeout)
    error: str | None = None


@dataclass(kw_only=True)
class Delivery:
    """One webhook body on its way; ``attempts`` grows as it is tried."""

    event_id: str
    shape: str  # "account_activity" or "activity"
    body: bytes
    attempts: list[DeliveryAttempt] = field(default_factory=list)
    outcome: str = "pending"  # "delivered", "failed" or "cancelled"


class WebhookDeliverer:
    """POSTs bodies to ``url`` signed with ``secret``; ``settled()`` waits until none is pending."""

    def __init__(
        self,
        *,
        url: str,
        secret: str,
        retries: tuple[float, ...],
        timeout: float,
        http: Callable[[], httpx.AsyncClient],
    ) -> None:
        self._url = url
        self._secret = secret
        self._retries = retries
        self._timeout = timeout
        self._http = http
        self._queue: deque[Delivery] = deque()
        self._wake = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None
        self._retrying: set[asyncio.Task[None]] = set()
        self._pending = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._log: list[Delivery] = []
        self._closed = False

    @property
    def log(self) -> list[Delivery]:
        """Every delivery so far, in submission order."""
        return list(self._log)

    def submit(self, delivery: Delivery) -> None:
        if self._closed:
            raise RuntimeError("the webhook deliverer is closed")
        self._log.append(delivery)
        self._queue.append(delivery)
        self._pending += 1
        self._idle.clear()
        self._wake.set()
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._work(), name="x-sandbox-webhook")

    async def settled(self) -> None:
        await self._idle.wait()

    async def aclose(self) -> None:
        self._closed = True
        tasks = [t for t in (self._worker, *self._retrying) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for delivery in self._log:
            if delivery.outcome == "pending":
                delivery.outcome = "cancelled"
        self._queue.clear()
        self._pending = 0
        self._idle.set()

    async def _work(self) -> None:
        while True:
            while not self._queue:
                self._wake.clear()
                await self._wake.wait()
            delivery = self._queue.popleft()
            try:
                delivered = await self._attempt(delivery)
            except Exception:
                self._broken(delivery)
                continue
            if delivered:
                self._finish(delivery, "delivered")
            elif not self._retries:
                self._give_up(delivery)
            else:
                task = asyncio.create_task(self._retry(delivery), name=f"x-sandbox-webhook-retry-{delivery.event_id}")
                self._retrying.add(task)
                task.add_done_callback(self._retrying.discard)

    async def _retry(self, delivery: Delivery) -> None:
        try:
            for wait in self._retries:
                await asyncio.sleep(wait)
                if await self._attempt(delivery):
                    self._finish(delivery, "delivered")
                    return
        except Exception:
            self._broken(delivery)
            return
        self._give_up(delivery)

    async def _attempt(self, delivery: Delivery) -> bool:
        headers = {"content-type": "application/json", SIGNATURE_HEADER: sign(self._secret, delivery.body)}
        try:
            response = await self._http().post(self._url, content=delivery.body, headers=headers, timeout=self._timeout)
        except httpx.HTTPError as error:
            delivery.attempts.append(DeliveryAttempt(status=None, error=f"{type(error).__name__}: {error}"))
            log.info("webhook delivery of DM %s (%s) got no answer: %r", delivery.event_id, delivery.shape, error)
            return False
        delivery.attempts.append(DeliveryAttempt(status=response.status_code))
        if response.status_code != 200:
            log.info("webhook answered %s to DM %s (%s)", response.status_code, delivery.event_id, delivery.shape)
        return response.status_code == 200

    def _give_up(self, delivery: Delivery) -> None:
        log.warning(
            "gave up delivering DM %s (%s) to %s after %d attempts; it stays available to GET /2/dm_events",
            delivery.event_id,
            delivery.shape,
            self._url,
            len(delivery.attempts),
        )
        self._finish(delivery, "failed")

    def _broken(self, delivery: Delivery) -> None:
        # Not a webhook failure but a bug or a bad URL: say so loudly, and keep settled() from waiting forever.
        log.exception("delivering DM %s to %s broke", delivery.event_id, self._url)
        self._finish(delivery, "failed")

    def _finish(self, delivery: Delivery, outcome: str) -> None:
        delivery.outcome = outcome
        self._pending -= 1
        if self._pending == 0:
            self._idle.set()
