"""Group commit for the webhook: deliveries arriving together share one inbox transaction.

Each delivery must be durable before X gets its 200, but a transaction per request makes dozens of
concurrent requests queue for SQLite's single write lock, whose waiters sleep in growing steps (the
slowest waited seconds under load). One writer takes everything that queued up while it was writing
and commits it at once: each request still waits for its own rows to be committed, and no longer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from bot.runtime.inbox import NewEvent


class GroupCommit:
    def __init__(self, *, write: Callable[[Sequence[NewEvent]], set[str]]) -> None:
        self._write = write  # commits events, returns the ids that were new (runs in a thread)
        self._waiting: list[tuple[list[NewEvent], asyncio.Future[int]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def accept(self, events: list[NewEvent]) -> int:
        """Commit ``events`` (with whatever else is waiting); returns how many of them were new."""
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._waiting.append((events, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_all())
        return await future

    async def _write_all(self) -> None:
        while self._waiting:
            group, self._waiting = self._waiting, []
            try:
                new = await asyncio.to_thread(self._write, [event for events, _ in group for event in events])
            except Exception as error:  # every request of the group answers 5xx-free with its own error
                for _, future in group:
                    if not future.done():
                        future.set_exception(error)
                continue
            for events, future in group:
                mine = {event.event_id for event in events} & new
                new -= mine  # the same DM twice in one group is new for the first request only
                if not future.done():
                    future.set_result(len(mine))
