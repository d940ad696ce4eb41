"""A send budget that is never exceeded: X allows a bot only a few DMs per window.

The budget is configuration (windows such as 15 per 15 minutes and 1,440 per 24 hours), counted in the
database so that a restart or a second worker cannot forget what was spent. Every request is written
as an attempt when it is claimed, before it leaves, so a crash mid-send still counts. X's own
``x-rate-limit-*`` headers correct it: when X says fewer remain (another app on the same account, a
different plan), the reading wins until its reset time. A reading can only tighten the budget, never
widen it past the configuration.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, func, insert, select, text
from sqlalchemy.dialects import postgresql, sqlite

from bot.storage.tables import RATE_LIMIT_READINGS, SEND_ATTEMPTS
from integrations.errors import RateLimitedError
from integrations.models import RateLimit

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_WINDOW = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*([smhd])\s*$")
# Serialises budget claims across workers on PostgreSQL (SQLite has one writer at a time anyway).
_PG_BUDGET_LOCK = 0x646D62756467  # "dmbudg"


@dataclass(frozen=True, slots=True)
class Window:
    limit: int
    length: timedelta

    def __str__(self) -> str:
        return f"{self.limit}/{int(self.length.total_seconds())}s"


def parse_windows(spec: str) -> tuple[Window, ...]:
    """``"15/15m,1440/24h"`` -> two windows. Raises ValueError naming the part it cannot read."""
    windows = []
    for part in spec.split(","):
        match = _WINDOW.match(part)
        if match is None:
            raise ValueError(f"send budget {part.strip()!r}: expected LIMIT/LENGTH with a unit s, m, h or d")
        limit, amount, unit = int(match[1]), int(match[2]), match[3]
        if limit < 1 or amount < 1:
            raise ValueError(f"send budget {part.strip()!r}: limit and length must be positive")
        windows.append(Window(limit=limit, length=timedelta(seconds=amount * _UNITS[unit])))
    if not windows:
        raise ValueError("send budget: at least one window is needed")
    return tuple(windows)


class SendBudget:
    def __init__(self, *, name: str, windows: tuple[Window, ...]) -> None:
        self.name = name
        self.windows = windows
        self._longest = max(window.length for window in windows)

    def take(self, connection: Connection, now: datetime, wanted: int) -> tuple[int, int]:
        """Spend up to ``wanted`` requests now, inside the caller's transaction.

        Returns how many were granted and the id of the last attempt written (0 when none), which a
        later rate-limit reading uses to tell what X had already counted.
        """
        if wanted <= 0:
            return 0, 0
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_BUDGET_LOCK})
        granted = min(wanted, self.available(connection, now))
        if granted == 0:
            return 0, 0
        connection.execute(insert(SEND_ATTEMPTS), [{"budget": self.name, "at": now}] * granted)
        last = connection.execute(
            select(func.max(SEND_ATTEMPTS.c.id)).where(SEND_ATTEMPTS.c.budget == self.name)
        ).scalar_one()
        # Attempts older than the longest window can never count again.
        connection.execute(
            delete(SEND_ATTEMPTS).where(SEND_ATTEMPTS.c.budget == self.name, SEND_ATTEMPTS.c.at <= now - self._longest)
        )
        return granted, int(last)

    def available(self, connection: Connection, now: datetime) -> int:
        left = min(window.limit - self._spent_since(connection, now - window.length) for window in self.windows)
        reading = connection.execute(
            select(RATE_LIMIT_READINGS).where(RATE_LIMIT_READINGS.c.budget == self.name)
        ).first()
        if reading is not None and reading.reset_at > now:
            spent_after = connection.execute(
                select(func.count()).where(
                    SEND_ATTEMPTS.c.budget == self.name, SEND_ATTEMPTS.c.id > reading.after_attempt
                )
            ).scalar_one()
            left = min(left, reading.remaining - int(spent_after))
        return max(0, left)

    def next_opening(self, connection: Connection, now: datetime) -> datetime:
        """When at least one request will be allowed again (``now`` if one is allowed already)."""
        if self.available(connection, now) > 0:
            return now
        candidates = []
        for window in self.windows:
            spent = self._spent_since(connection, now - window.length)
            if spent >= window.limit:
                # The window reopens when its oldest counted attempts age out.
                oldest = connection.execute(
                    select(SEND_ATTEMPTS.c.at)
                    .where(SEND_ATTEMPTS.c.budget == self.name, SEND_ATTEMPTS.c.at > now - window.length)
                    .order_by(SEND_ATTEMPTS.c.at)
                    .offset(spent - window.limit)
                    .limit(1)
                ).scalar_one()
                candidates.append(oldest + window.length)
        reading = connection.execute(
            select(RATE_LIMIT_READINGS.c.reset_at).where(RATE_LIMIT_READINGS.c.budget == self.name)
        ).scalar_one_or_none()
        if reading is not None and reading > now:
            candidates.append(reading)
        return max(candidates) if candidates else now

    def observe(self, connection: Connection, reading: RateLimit, now: datetime, *, after_attempt: int) -> None:
        """Remember what the provider said; ``after_attempt`` is the last attempt its count includes."""
        row = {
            "budget": self.name, "limit": reading.limit, "remaining": reading.remaining, "reset_at": reading.reset_at,
            "after_attempt": after_attempt, "observed_at": now,
        }  # fmt: skip
        dialect_insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
        statement = dialect_insert(RATE_LIMIT_READINGS).values(row)
        stored = RATE_LIMIT_READINGS.c
        connection.execute(
            statement.on_conflict_do_update(
                index_elements=["budget"],
                set_={key: value for key, value in row.items() if key != "budget"},
                # A 429 stands until its reset: a looser answer to a request made before it cannot lift it.
                where=~((stored.remaining == 0) & (stored.reset_at > now) & (stored.reset_at >= reading.reset_at)),
            )
        )

    def _spent_since(self, connection: Connection, start: datetime) -> int:
        return int(
            connection.execute(
                select(func.count()).where(SEND_ATTEMPTS.c.budget == self.name, SEND_ATTEMPTS.c.at > start)
            ).scalar_one()
        )


def exhausted(error: RateLimitedError, now: datetime) -> RateLimit:
    """What a 429 says: nothing more until X's reset (or the wait it asked for), whatever else it said."""
    reset = now + timedelta(seconds=float(error.retry_after or 60))
    if error.rate_limit is not None:
        return RateLimit(limit=error.rate_limit.limit, remaining=0, reset_at=max(reset, error.rate_limit.reset_at))
    return RateLimit(limit=0, remaining=0, reset_at=reset)
