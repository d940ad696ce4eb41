"""A short cache in front of a provider, with concurrent lookups of one key coalesced into one call.

Thirty customers asking about one stuck container in the same minute cost one carrier call, not thirty.
Only answers are cached, never errors: the next lookup after a failure asks again. An answer that is
"nothing" (no such parcel yet) is kept for less time than a real one, because it may soon change.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["CoalescingCache", "CacheStats"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class CacheStats:
    """Counts for the bench and the metrics page."""

    __slots__ = ("coalesced", "hits", "loads")

    def __init__(self) -> None:
        self.hits = 0  # answered from the cache
        self.coalesced = 0  # joined a load already in flight
        self.loads = 0  # went to the provider


class CoalescingCache(Generic[K, V]):
    def __init__(
        self,
        *,
        ttl: float,
        empty_ttl: float | None = None,
        max_entries: int = 10_000,
        is_empty: Callable[[V], bool] = lambda value: value is None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """
        Args:
            ttl: seconds an answer is reused.
            empty_ttl: seconds an empty answer (``is_empty``) is reused; default a tenth of ``ttl``.
            max_entries: the least recently used answers are dropped beyond this.
        """
        if ttl < 0 or max_entries < 1:
            raise ValueError("ttl must be >= 0 and max_entries >= 1")
        self._ttl = ttl
        self._empty_ttl = ttl / 10 if empty_ttl is None else empty_ttl
        self._max_entries = max_entries
        self._is_empty = is_empty
        self._clock = clock
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._in_flight: dict[K, asyncio.Future[V]] = {}
        self._overtaken: set[K] = set()  # put or forgotten while its load was out: the load's answer is older
        self.stats = CacheStats()

    async def get(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        """The cached answer for ``key``, the answer of a load already running, or a new load's."""
        while True:
            entry = self._entries.get(key)
            if entry is not None:
                expires_at, value = entry
                if self._clock() < expires_at:
                    self._entries.move_to_end(key)
                    self.stats.hits += 1
                    return value
                del self._entries[key]
            running = self._in_flight.get(key)
            if running is None:
                return await self._load(key, load)
            self.stats.coalesced += 1
            try:
                # shield: one waiter giving up must not cancel the load the others are waiting for.
                return await asyncio.shield(running)
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if not running.cancelled() or (task is not None and task.cancelling()):
                    raise  # this waiter itself was cancelled (perhaps in the same tick as the loader)
                # The caller that was loading was cancelled: this one loads (or joins the next load).

    async def _load(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        future: asyncio.Future[V] = asyncio.get_running_loop().create_future()
        self._in_flight[key] = future
        self.stats.loads += 1
        try:
            value = await load()
        except asyncio.CancelledError:
            future.cancel()
            raise
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # marked retrieved, so a future nobody else awaited does not warn
            raise
        else:
            if key not in self._overtaken:
                self._store(key, value)
            future.set_result(value)
            return value
        finally:
            if self._in_flight.get(key) is future:
                del self._in_flight[key]
                self._overtaken.discard(key)

    def put(self, key: K, value: V) -> None:
        """Remember ``value`` as the answer for ``key`` (a provider's push is fresher than any lookup).

        A load of ``key`` already under way still answers its callers, but does not replace this value.
        """
        self._overtake(key)
        self._store(key, value)

    def forget(self, key: K) -> None:
        """Drop the answer for ``key``; a load of it already under way is not kept either."""
        self._overtake(key)
        self._entries.pop(key, None)

    def _overtake(self, key: K) -> None:
        if key in self._in_flight:
            self._overtaken.add(key)

    def _store(self, key: K, value: V) -> None:
        ttl = self._empty_ttl if self._is_empty(value) else self._ttl
        if ttl <= 0:
            self._entries.pop(key, None)
            return
        self._entries[key] = (self._clock() + ttl, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)
