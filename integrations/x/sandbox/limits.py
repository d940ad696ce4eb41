"""Rate limits like X's: fixed windows that open with the first request and the three ``x-rate-limit-*`` headers.

Each window (e.g. 200 per 15 min, 1,000 per 24 h) opens at the first request counted after the previous
one closed, and closes ``seconds`` later, when its whole budget comes back at once: the behaviour of
X's 15-minute buckets, and what ``x-rate-limit-reset`` promises. A request is allowed only if every
window has budget left; then it is counted in all of them. A refused (429) request is not counted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from integrations.x.sandbox.config import RateWindow

__all__ = ["RateLimiter", "RateStatus"]


@dataclass(frozen=True, kw_only=True)
class RateStatus:
    """What the headers say after a request: the window that decided, its budget left and its reset."""

    allowed: bool
    limit: int
    remaining: int
    reset: int  # epoch seconds

    def headers(self) -> dict[str, str]:
        return {
            "x-rate-limit-limit": str(self.limit),
            "x-rate-limit-remaining": str(self.remaining),
            "x-rate-limit-reset": str(self.reset),
        }


class _Window:
    def __init__(self, window: RateWindow) -> None:
        self.limit = window.limit
        self.seconds = window.seconds
        self.opened_at: float | None = None
        self.used = 0

    def roll(self, now: float) -> None:
        if self.opened_at is not None and now >= self.opened_at + self.seconds:
            self.opened_at, self.used = None, 0

    def reset(self, now: float) -> int:
        return math.ceil((self.opened_at if self.opened_at is not None else now) + self.seconds)

    def status(self, now: float, *, allowed: bool) -> RateStatus:
        return RateStatus(
            allowed=allowed, limit=self.limit, remaining=max(self.limit - self.used, 0), reset=self.reset(now)
        )


class RateLimiter:
    """One budget (e.g. all DM sends of the account). The first window is the one the headers report."""

    def __init__(self, *, windows: tuple[RateWindow, ...]) -> None:
        if not windows:
            raise ValueError("a rate limiter needs at least one window")
        self._windows = [_Window(w) for w in windows]

    def acquire(self, at: datetime) -> RateStatus:
        """Count one request if every window has budget; else refuse and report the window that is exhausted."""
        now = at.timestamp()
        for window in self._windows:
            window.roll(now)
        exhausted = [w for w in self._windows if w.used >= w.limit]
        if exhausted:
            # The client must wait for the latest of them; that is the reset it is told.
            blocking = max(exhausted, key=lambda w: w.reset(now))
            return blocking.status(now, allowed=False)
        for window in self._windows:
            if window.opened_at is None:
                window.opened_at = now
            window.used += 1
        return self._windows[0].status(now, allowed=True)

    def peek(self, at: datetime) -> RateStatus:
        """The headers' values without counting a request."""
        now = at.timestamp()
        for window in self._windows:
            window.roll(now)
        return self._windows[0].status(now, allowed=self._windows[0].used < self._windows[0].limit)

    def exhausted(self, at: datetime) -> RateStatus:
        """A refusal in the first window's terms, whatever the budget (for forced 429s)."""
        now = at.timestamp()
        self._windows[0].roll(now)
        status = self._windows[0].status(now, allowed=False)
        return RateStatus(allowed=False, limit=status.limit, remaining=0, reset=status.reset)
