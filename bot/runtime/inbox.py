"""The inbox: every event that reaches a conversation is written here first, once per event id."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert
from sqlalchemy.dialects import postgresql, sqlite

from bot.runtime.clock import Clock
from bot.storage.tables import EVENTS


@dataclass(frozen=True, slots=True)
class NewEvent:
    event_id: str
    kind: str
    payload: dict[str, Any] = field(default_factory=dict)
    customer_id: str | None = None  # customer events: the sender, resolved to their open conversation
    conversation_id: int | None = None  # results and agent actions: the conversation they belong to
    channel: str = "x"


def insert_ignoring_duplicates(connection: Connection, rows: list[dict[str, Any]]) -> int:
    """Insert inbox rows, dropping those whose event id is already there; returns how many were new."""
    if not rows:
        return 0
    dialect = connection.dialect.name
    statement: Any
    if dialect == "postgresql":
        statement = postgresql.insert(EVENTS).on_conflict_do_nothing(index_elements=["event_id"])
    elif dialect == "sqlite":
        statement = sqlite.insert(EVENTS).on_conflict_do_nothing(index_elements=["event_id"])
    else:  # pragma: no cover - only the two supported databases
        statement = insert(EVENTS)
    result = connection.execute(statement, rows)
    return int(result.rowcount or 0)


def insert_returning_new_ids(connection: Connection, rows: list[dict[str, Any]]) -> set[str]:
    """Insert inbox rows, dropping duplicates; returns the event ids that were new."""
    if not rows:
        return set()
    dialect_insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    statement = dialect_insert(EVENTS).on_conflict_do_nothing(index_elements=["event_id"]).returning(EVENTS.c.event_id)
    new: set[str] = set()
    for row in rows:  # one row per statement: RETURNING with executemany is not portable
        new.update(connection.execute(statement, row).scalars())
    return new


class Inbox:
    def __init__(self, *, engine: Engine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock

    def accept(self, events: Sequence[NewEvent]) -> int:
        """Write events durably; duplicates (same event id) are dropped. Returns the number accepted."""
        now = self._clock.now()
        with self._engine.begin() as connection:
            return insert_ignoring_duplicates(connection, [_row(event, now) for event in events])

    def accept_new_ids(self, events: Sequence[NewEvent]) -> set[str]:
        """Like ``accept``, but says which event ids were new."""
        now = self._clock.now()
        with self._engine.begin() as connection:
            return insert_returning_new_ids(connection, [_row(event, now) for event in events])


def _row(event: NewEvent, now: datetime) -> dict[str, Any]:
    return {
        "event_id": event.event_id, "kind": event.kind, "channel": event.channel, "customer_id": event.customer_id,
        "conversation_id": event.conversation_id, "payload": event.payload, "received_at": now,
    }  # fmt: skip
