"""Every DM event the sandbox knows, in creation order, optionally kept in a journal across restarts."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from datetime import UTC, datetime
from pathlib import Path

from integrations.x.sandbox.events import DmEvent, conversation_id
from integrations.x.sandbox.journal import EventJournal
from integrations.x.sandbox.snowflake import SnowflakeIds

__all__ = ["EventStore"]


class EventStore:
    """Creates DM events (id from the clock, stamped to the millisecond) and answers queries over them.

    Events are kept oldest first; ids grow with creation, so id order is time order.
    """

    def __init__(self, *, clock: Callable[[], datetime], journal_path: Path | None = None) -> None:
        self._clock = clock
        self._events: list[DmEvent] = []
        self._journal = EventJournal(path=journal_path) if journal_path is not None else None
        if self._journal is not None:
            loaded = [DmEvent.from_record(record) for record in self._journal.records()]
            self._events = sorted({e.id: e for e in loaded}.values(), key=lambda e: int(e.id))
        self._by_id = {e.id: e for e in self._events}
        self._ids = SnowflakeIds(after=int(self._events[-1].id) if self._events else 0)

    def now(self) -> datetime:
        at = self._clock()
        if at.tzinfo is None:
            raise ValueError("the sandbox clock must return timezone-aware datetimes")
        return at.astimezone(UTC)

    def create(self, *, sender_id: str, recipient_id: str, text: str, media_ids: tuple[str, ...] = ()) -> DmEvent:
        now = self.now()
        at = now.replace(microsecond=now.microsecond // 1000 * 1000)
        event = DmEvent(
            id=self._ids.next_id(at),
            sender_id=sender_id,
            recipient_id=recipient_id,
            created_at=at,
            text=text,
            media_ids=media_ids,
        )
        if self._journal is not None:
            self._journal.append(event.to_record())  # on disk before anyone is told it exists
        self._events.append(event)
        self._by_id[event.id] = event
        return event

    def get(self, event_id: str) -> DmEvent | None:
        return self._by_id.get(event_id)

    def __iter__(self) -> Iterator[DmEvent]:
        return iter(list(self._events))

    def __len__(self) -> int:
        return len(self._events)

    def newest_first(
        self,
        *,
        since: datetime | None = None,
        dm_conversation_id: str | None = None,
        event_types: Collection[str] | None = None,
    ) -> list[DmEvent]:
        return [
            e
            for e in reversed(self._events)
            if (since is None or e.created_at >= since)
            and (dm_conversation_id is None or e.dm_conversation_id == dm_conversation_id)
            and (event_types is None or e.event_type in event_types)
        ]

    def conversation(self, user_a: str, user_b: str, *, after_id: int = 0) -> list[DmEvent]:
        """The 1:1 conversation's events with an id above ``after_id``, oldest first."""
        wanted = conversation_id(user_a, user_b)
        return [e for e in self._events if int(e.id) > after_id and e.dm_conversation_id == wanted]

    def close(self) -> None:
        if self._journal is not None:
            self._journal.close()
