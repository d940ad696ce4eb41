"""Polling X for DMs, for accounts without a webhook (the common case on cheaper X plans).

``GET /2/dm_events`` returns the last 30 days, newest first. A poll walks pages down until it meets
the newest DM it already has (the cursor, kept in the database), so the DMs that arrived while the bot
was down are backfilled on the next start. Each page costs one request of a small read budget; a walk
that runs out of budget keeps its place and resumes at the next poll. The DMs of one poll are written
to the inbox oldest first, with the cursor, in one transaction: a crash repeats the poll, and the inbox
drops what it already has, so webhook and poller can run together.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from sqlalchemy import Engine, select
from sqlalchemy.dialects import postgresql, sqlite

from bot.ingest.x_messages import inbox_events
from bot.runtime.clock import Clock
from bot.runtime.inbox import insert_ignoring_duplicates
from bot.runtime.send_budget import SendBudget, exhausted
from bot.storage.tables import INGEST_CURSORS
from integrations.errors import IntegrationError, PermanentIntegrationError, RateLimitedError
from integrations.x.client import XApi
from integrations.x.events import DirectMessage, MalformedDelivery, decode_dm_event

log = logging.getLogger(__name__)

CURSOR: Final = "x.dm_events"
RETENTION: Final = timedelta(days=30)  # X returns no DM event older than this
OVERLAP: Final = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class PollResult:
    pages: int
    new: int  # DMs the inbox did not have yet
    caught_up: bool  # False: the walk stopped for the read budget and resumes next time


class XPoller:
    def __init__(
        self,
        *,
        api: XApi,
        engine: Engine,
        clock: Clock,
        bot_user_id: str,
        read_budget: SendBudget,
        first_backfill: timedelta = timedelta(hours=24),
        accepted: Callable[[], None] = lambda: None,
    ) -> None:
        self._api = api
        self._engine = engine
        self._clock = clock
        self._bot = bot_user_id
        self._budget = read_budget
        self._first_backfill = min(first_backfill, RETENTION)
        self._accepted = accepted

    async def poll_once(self) -> PollResult:
        now = self._clock.now()
        state = self._load()
        walk: dict[str, Any] = state.get("walk") or {"top": None, "top_at": None, "token": None}
        floor_id = int(state["newest"]) if state.get("newest") else 0
        if state.get("newest_at"):
            # Read a little below the newest DM we have: X may show a DM a moment after a newer one.
            floor_time = datetime.fromisoformat(state["newest_at"]) - OVERLAP
        elif floor_id:
            floor_time = now - RETENTION
        else:
            floor_time = now - self._first_backfill  # the very first start
        floor_time = max(floor_time, now - RETENTION)
        found: list[DirectMessage] = []
        pages, caught_up = 0, False
        while True:
            attempt = self._spend_one_read(now)
            if attempt is None:
                break
            try:
                page = await self._api.dm_events(pagination_token=walk["token"])
            except RateLimitedError as error:
                with self._engine.begin() as connection:
                    self._budget.observe(connection, exhausted(error, now), now, after_attempt=attempt)
                log.warning("polling X: %s", error)
                break
            except PermanentIntegrationError as error:
                if walk["token"] is not None:
                    # A page token X no longer takes: walk again from the newest page; the inbox drops
                    # what it already has.
                    walk["token"] = None
                    log.warning("polling X: restarting a walk whose page token was refused: %s", error)
                    continue
                log.error("polling X failed: %s", error)
                break
            except IntegrationError as error:
                log.warning("polling X failed: %s", error)
                break
            pages += 1
            if page.rate_limit is not None:
                with self._engine.begin() as connection:
                    self._budget.observe(connection, page.rate_limit, now, after_attempt=attempt)
            reached_floor = False
            for position, raw in enumerate(page.events):
                event_id = str(raw.get("id", ""))
                created = _created_at(raw)
                if walk["top"] is None and event_id.isdigit():
                    walk["top"], walk["top_at"] = event_id, created.isoformat() if created else None
                if created is not None and created < floor_time:
                    reached_floor = True
                    break
                if created is None and event_id.isdigit() and int(event_id) <= floor_id:
                    reached_floor = True
                    break
                message = self._decode(raw, position)
                if message is not None and _one_to_one(message):
                    found.append(message)
            walk["token"] = page.next_token
            if reached_floor or page.next_token is None:
                caught_up = True
                break
        new = self._store(found, walk, caught_up, state)
        if new:
            self._accepted()
        return PollResult(pages=pages, new=new, caught_up=caught_up)

    async def run(self, stop: asyncio.Event, *, interval: float) -> None:
        while not stop.is_set():
            try:
                await self.poll_once()
            except Exception:  # the poller must outlive a database hiccup; its cursor is intact
                log.exception("X poll failed; trying again at the next interval")
            try:
                await asyncio.wait_for(stop.wait(), timeout=interval)
            except TimeoutError:
                pass

    def _decode(self, raw: dict[str, Any], position: int) -> DirectMessage | None:
        try:
            return decode_dm_event(raw, bot_user_id=self._bot, path=f"data[{position}]")
        except MalformedDelivery as error:
            # One odd event must not stall the inbox behind it; the field is named, the text is not.
            log.warning("skipping a DM event X sent in an unexpected shape: %s", error.path)
            return None

    def _spend_one_read(self, now: datetime) -> int | None:
        """The budget attempt id of one more read, or None when the read budget is spent."""
        with self._engine.begin() as connection:
            granted, attempt = self._budget.take(connection, now, 1)
        return attempt if granted else None

    def _load(self) -> dict[str, Any]:
        with self._engine.connect() as connection:
            state = connection.execute(
                select(INGEST_CURSORS.c.state).where(INGEST_CURSORS.c.name == CURSOR)
            ).scalar_one_or_none()
        return dict(state or {})

    def _store(self, found: list[DirectMessage], walk: dict[str, Any], caught_up: bool, state: dict[str, Any]) -> int:
        """The DMs oldest first, and the cursor moved past them, in one transaction."""
        found.sort(key=lambda message: int(message.event_id))
        if caught_up and walk["top"] is not None and int(walk["top"]) > int(state.get("newest") or 0):
            next_state: dict[str, Any] = {"newest": walk["top"], "newest_at": walk["top_at"], "walk": None}
        elif caught_up:
            next_state = {**state, "walk": None}
        else:
            next_state = {**state, "walk": walk}
        now = self._clock.now()
        rows = [
            {"event_id": event.event_id, "kind": event.kind, "channel": event.channel,
             "customer_id": event.customer_id, "conversation_id": None, "payload": event.payload, "received_at": now}
            for event in inbox_events(found)
        ]  # fmt: skip
        with self._engine.begin() as connection:
            new = insert_ignoring_duplicates(connection, rows)
            dialect_insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
            connection.execute(
                dialect_insert(INGEST_CURSORS)
                .values(name=CURSOR, state=next_state, updated_at=now)
                .on_conflict_do_update(index_elements=["name"], set_={"state": next_state, "updated_at": now})
            )
        return new


def _created_at(raw: dict[str, Any]) -> datetime | None:
    value = raw.get("created_at")
    if not isinstance(value, str):
        return None
    try:
        created = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return created.astimezone(UTC) if created.tzinfo else None
    except (ValueError, OverflowError):
        return None


def _one_to_one(message: DirectMessage) -> bool:
    # Group conversations have a bare numeric id; dmcare answers one customer at a time.
    return message.conversation_id is None or "-" in message.conversation_id
