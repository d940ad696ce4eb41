"""X-style snowflake ids: the creation time in the high bits, so ordering by id is ordering by time."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

__all__ = ["X_EPOCH_MS", "SnowflakeIds", "snowflake_time"]

X_EPOCH_MS: Final = 1_288_834_974_657  # 2010-11-04T01:42:54.657Z, X's snowflake epoch
_SEQUENCE_BITS: Final = 22  # X packs datacenter, worker and sequence here; the sandbox is one worker


class SnowflakeIds:
    """Hands out strictly increasing ids for creation times, even if two land in one millisecond.

    ``after`` is the largest id already used (e.g. read back from a journal), so a restarted sandbox
    never reuses or goes below an id it handed out before.
    """

    def __init__(self, *, after: int = 0) -> None:
        self._last = after

    def next_id(self, at: datetime) -> str:
        ms = int(at.timestamp() * 1000) - X_EPOCH_MS
        candidate = max(ms, 0) << _SEQUENCE_BITS
        self._last = max(candidate, self._last + 1)
        return str(self._last)

    def seen(self, event_id: str) -> None:
        self._last = max(self._last, int(event_id))


def snowflake_time(event_id: str) -> datetime:
    """When an id was minted (to the millisecond)."""
    return datetime.fromtimestamp(((int(event_id) >> _SEQUENCE_BITS) + X_EPOCH_MS) / 1000, tz=UTC)
