"""Group commit: concurrent deliveries share a transaction, each learns what of its own was new."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import pytest

from bot.ingest.group_commit import GroupCommit
from bot.runtime.inbox import NewEvent


def dm(number: int) -> NewEvent:
    return NewEvent(event_id=f"x:dm:{number}", kind="message", customer_id="42", payload={"text": "hi"})


class SlowStore:
    def __init__(self) -> None:
        self.stored: set[str] = set()
        self.transactions: list[list[str]] = []
        self.gate = threading.Event()

    def write(self, events: Sequence[NewEvent]) -> set[str]:
        self.gate.wait(5)  # the first transaction is slow, so the others queue up behind it
        self.transactions.append([event.event_id for event in events])
        new = {event.event_id for event in events} - self.stored
        self.stored |= new
        return new


async def test_requests_waiting_together_are_committed_together() -> None:
    store = SlowStore()
    commit = GroupCommit(write=store.write)
    first = asyncio.create_task(commit.accept([dm(1)]))
    await asyncio.sleep(0.05)
    rest = [asyncio.create_task(commit.accept([dm(n)])) for n in range(2, 12)]
    duplicate = asyncio.create_task(commit.accept([dm(5)]))
    await asyncio.sleep(0.05)
    store.gate.set()
    assert await first == 1
    assert [await task for task in rest] == [1] * 10
    assert await duplicate == 0  # the same DM twice in one group counts once
    assert len(store.transactions) == 2  # the first alone, then everything that queued behind it


async def test_a_failed_commit_fails_every_request_of_its_group() -> None:
    def broken(events: Sequence[NewEvent]) -> set[str]:
        raise OSError("disk full")

    commit = GroupCommit(write=broken)
    results = await asyncio.gather(commit.accept([dm(1)]), commit.accept([dm(2)]), return_exceptions=True)
    assert all(isinstance(result, OSError) for result in results)
    with pytest.raises(OSError):
        await commit.accept([dm(3)])  # and the next one still gets its own answer
