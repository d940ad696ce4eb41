"""How long to wait before asking a provider again: its own word first, else backoff with full jitter."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

__all__ = ["RetryPolicy", "wait_from_headers"]

# A reset header further out than this is not a reset time but a mistake (or a daily quota): cap it.
_LONGEST_WAIT = 24 * 3600.0


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """Retries inside one call. Longer waits are the outbox's job: the error carries ``retry_after``.

    Attributes:
        attempts: tries in all for a request that is safe to repeat (1 = no retry).
        base_delay: the first backoff's upper bound, in seconds; it doubles with each try.
        max_delay: the longest a call waits in place, in seconds. A provider asking for more (a 429 with
            a reset a minute away) gets an error with that wait instead, so no worker sleeps on it.
    """

    attempts: int = 3
    base_delay: float = 0.2
    max_delay: float = 4.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("delays cannot be negative")

    def backoff(self, attempt: int, rng: random.Random | None = None) -> float:
        """Full jitter (AWS's "exponential backoff and jitter"): uniform in [0, min(max, base * 2^attempt)].

        Many conversations failing together must not come back in step.
        """
        ceiling = min(self.max_delay, self.base_delay * 2**attempt)
        return (rng or random).uniform(0, ceiling)


def wait_from_headers(headers: Mapping[str, str], *, now: datetime | None = None) -> float | None:
    """Seconds the provider asked us to wait, from whichever header it uses, or None when it did not say.

    - ``Retry-After``: seconds or an HTTP date (RFC 9110), AfterShip's other products and most APIs.
    - ``X-RateLimit-Reset`` / ``ratelimit-reset``: AfterShip Tracking sends a Unix time; others send
      seconds left. A value larger than a day's seconds is read as a Unix time.
    """
    now = now or datetime.now(UTC)
    lowered = {key.lower(): value for key, value in headers.items()}
    retry_after = lowered.get("retry-after")
    if retry_after is not None:
        seconds = _number(retry_after)
        if seconds is None:
            try:
                moment = parsedate_to_datetime(retry_after)
            except (TypeError, ValueError, IndexError):
                moment = None
            if moment is not None:
                moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
                seconds = (moment - now).total_seconds()
        if seconds is not None:
            return _bounded(seconds)
    for name in ("x-ratelimit-reset", "ratelimit-reset"):
        value = _number(lowered.get(name))
        if value is None:
            continue
        if value > _LONGEST_WAIT:  # a Unix time
            value = value - now.timestamp()
        return _bounded(value)
    return None


def _number(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None  # not NaN, not infinite


def _bounded(seconds: float) -> float:
    return min(max(seconds, 0.0), _LONGEST_WAIT)
