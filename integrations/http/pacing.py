"""Keep under a provider's request rate instead of running into its 429s (AfterShip 5/s, Smile 10/s)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

__all__ = ["RequestPacer"]


class RequestPacer:
    """A token bucket: ``rate`` requests per second on average, bursts of up to ``burst``.

    One pacer per provider and process. Callers wait their turn in order; nothing is dropped.
    """

    def __init__(
        self,
        *,
        rate: float,
        burst: int = 1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        if burst < 1:
            raise ValueError("burst must be at least 1")
        self._interval = 1.0 / rate
        self._burst = burst
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(burst)
        self._updated = clock()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            now = self._clock()
            self._tokens = min(self._burst, self._tokens + (now - self._updated) / self._interval)
            self._updated = now
            if self._tokens < 1:
                wait = (1 - self._tokens) * self._interval
                await self._sleep(wait)
                self._tokens = 1.0
                self._updated = self._clock()
            self._tokens -= 1
