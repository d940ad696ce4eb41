"""Knobs that make the sandbox misbehave the way X sometimes does, for tests.

Each knob arms the next N occurrences and disarms itself; ``clear()`` disarms everything. The order in
which a send meets them: auth (401), ``force_429``, the rate limit, ``next_sends_fail_with``, validation
(400/403), the DM is created, then ``hang_after_create`` / ``drop_connection_after_create``.
"""

from __future__ import annotations

from typing import Literal

__all__ = ["SandboxFaults"]

Budget = Literal["send", "read"]


class SandboxFaults:
    """Mutable test knobs of one ``XSandbox``.

    * ``next_sends_fail_with(status, count)``: the next sends answer ``status`` (500, 503, 401, 403, ...)
      with a Problem body and create nothing.
    * ``hang_after_create(seconds, count)``: the DM is created (and echoed), then the answer is held back
      for ``seconds``: a client that times out cannot know the DM went out.
    * ``drop_connection_after_create(count)``: the DM is created, then the connection is cut mid-answer
      (the status line and headers leave, the promised body never does).
    * ``force_429(count, budget=...)``: the next sends (or reads) get a 429 whatever their budget.
    * ``duplicate_deliveries``: while True, every webhook delivery is made twice (the copy has its own
      XAA ``event_uuid``; the DM event id is the same, which is what a bot must dedupe on).
    * ``reverse_next_deliveries(n)``: hold the next ``n`` customer DMs' deliveries, then deliver them
      newest first once the n-th has been written.
    """

    def __init__(self) -> None:
        self._disarm()

    def _disarm(self) -> None:
        self.duplicate_deliveries = False
        self._fail_statuses: list[int] = []
        self._hangs: list[float] = []  # seconds, one per armed send
        self._drops = 0
        self._forced_429: dict[Budget, int] = {"send": 0, "read": 0}
        self._reverse = 0

    def next_sends_fail_with(self, status: int, count: int = 1) -> None:
        if not 400 <= status <= 599:
            raise ValueError(f"a failing send answers 4xx or 5xx, not {status}")
        self._fail_statuses.extend([status] * _positive(count))

    def hang_after_create(self, seconds: float, count: int = 1) -> None:
        if seconds < 0:
            raise ValueError("seconds must be >= 0")
        self._hangs.extend([seconds] * _positive(count))

    def drop_connection_after_create(self, count: int = 1) -> None:
        self._drops += _positive(count)

    def force_429(self, count: int = 1, *, budget: Budget = "send") -> None:
        self._forced_429[budget] += _positive(count)

    def reverse_next_deliveries(self, n: int) -> None:
        if n < 2:
            raise ValueError("reversing needs at least 2 deliveries")
        self._reverse = n

    def clear(self) -> None:
        self._disarm()

    # -- consumed by the sandbox ------------------------------------------------------------------

    def take_send_failure(self) -> int | None:
        return self._fail_statuses.pop(0) if self._fail_statuses else None

    def take_hang(self) -> float | None:
        return self._hangs.pop(0) if self._hangs else None

    def take_drop(self) -> bool:
        if self._drops:
            self._drops -= 1
            return True
        return False

    def take_forced_429(self, budget: Budget) -> bool:
        if self._forced_429[budget]:
            self._forced_429[budget] -= 1
            return True
        return False

    def take_reverse_batch_size(self) -> int:
        """The size of the batch to hold now (0: deliver normally); arms only once."""
        n, self._reverse = self._reverse, 0
        return n


def _positive(count: int) -> int:
    if count < 1:
        raise ValueError("count must be at least 1")
    return count
