"""The running bot: the event processor and the outbox, taking turns until there is nothing to do."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from bot.runtime.clock import Clock
from bot.runtime.flow_registry import FlowRegistry
from bot.runtime.inbox import Inbox
from bot.runtime.outbox import Outbox
from bot.runtime.processor import EventProcessor

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    inbox: Inbox
    processor: EventProcessor
    outbox: Outbox
    flows: FlowRegistry
    clock: Clock
    batch_size: int = 500
    poll_interval: float = 0.2

    def __post_init__(self) -> None:
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Tell the loop new events are waiting, so it does not sleep out its poll interval."""
        self._wake.set()

    async def step(self) -> int:
        """One round: apply pending events, then run due commands. Returns the work done."""
        processed = self.processor.process_batch(self.batch_size)
        ran = await self.outbox.run_due(self.batch_size)
        return processed + ran

    async def drain(self, *, max_rounds: int = 10_000) -> None:
        """Work until no event is pending and no command is due (future timers stay scheduled)."""
        for _ in range(max_rounds):
            if await self.step() == 0:
                return
        raise RuntimeError("the runtime did not settle; a command may be re-triggering itself")

    async def run_forever(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                worked = await self.step()
            except Exception:  # a database hiccup must not end the bot; the work is still in the tables
                log.exception("runtime step failed; retrying")
                worked = 0
            if worked == 0:
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=self.poll_interval)
                except TimeoutError:
                    pass
