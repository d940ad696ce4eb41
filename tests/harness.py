"""Drive the real runtime end to end: the sandbox shop, a SQLite file, and a clock the test moves."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.app import App, build_app
from bot.runtime.inbox import NewEvent
from bot.runtime.send_budget import SendBudget
from bot.settings import Settings
from bot.storage.tables import Command, Conversation, Escalation, InboundEvent, Message
from integrations.models import SentMessage

START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
_event_numbers = itertools.count(1)


@dataclass
class MovableClock:
    current: datetime = START

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


@dataclass
class Bot:
    app: App
    clock: MovableClock
    delivered: list[SentMessage] = field(default_factory=list)
    trace: list[dict[str, Any]] = field(default_factory=list)

    async def send(self, customer_id: str, text: str, *, event_id: str | None = None) -> list[str]:
        """Deliver one customer DM, let the bot settle, and return the texts it sent back."""
        before = len(self.delivered)
        event_id = event_id or f"test:{next(_event_numbers)}"
        self.app.runtime.inbox.accept(
            [NewEvent(event_id=event_id, kind="message", customer_id=customer_id,
                      payload={"text": text, "sender_id": customer_id})]
        )  # fmt: skip
        await self.app.runtime.drain()
        return [message.text for message in self.delivered[before:]]

    async def agent(self, conversation_id: int, kind: str, text: str = "") -> list[str]:
        before = len(self.delivered)
        self.app.runtime.inbox.accept(
            [NewEvent(event_id=f"agent:{next(_event_numbers)}", kind=kind, conversation_id=conversation_id,
                      payload={"text": text})]
        )  # fmt: skip
        await self.app.runtime.drain()
        return [message.text for message in self.delivered[before:]]

    async def wait(self, **delta: float) -> list[str]:
        before = len(self.delivered)
        self.clock.advance(**delta)
        await self.app.runtime.drain()
        return [message.text for message in self.delivered[before:]]

    def conversation(self, customer_id: str) -> Any:
        with self.app.engine.connect() as connection:
            table = Conversation.__table__  # type: ignore[attr-defined]
            return (
                connection.execute(select(table).where(table.c.customer_id == customer_id).order_by(table.c.id.desc()))
                .mappings()
                .first()
            )

    def rows(self, model: Any, **where: Any) -> list[Any]:
        table = model.__table__
        query = select(table).order_by(table.c.id)
        for name, value in where.items():
            query = query.where(table.c[name] == value)
        with self.app.engine.connect() as connection:
            return list(connection.execute(query).mappings().all())

    def commands(self, **where: Any) -> list[Any]:
        return self.rows(Command, **where)

    def escalations(self) -> list[Any]:
        return self.rows(Escalation)

    def messages(self, **where: Any) -> list[Any]:
        return self.rows(Message, **where)

    def events(self, **where: Any) -> list[Any]:
        return self.rows(InboundEvent, **where)


def make_bot(
    tmp_path: Path,
    *,
    database_url: str | None = None,
    customize: Any = None,
    send_budget: SendBudget | None = None,
    clock: MovableClock | None = None,
    **settings: Any,
) -> Bot:
    clock = clock or MovableClock()
    bot: Bot
    delivered: list[SentMessage] = []
    trace: list[dict[str, Any]] = []
    options: dict[str, Any] = {
        "database_url": database_url or f"sqlite:///{tmp_path / 'dmcare.db'}",
        "sandbox_ledger": tmp_path / "ledger.jsonl",
        **settings,
    }
    app = build_app(
        Settings(**options),
        clock=clock,
        trace=trace.append,
        on_delivered=delivered.append,
        customize=customize,
        send_budget=send_budget,
    )
    bot = Bot(app=app, clock=clock, delivered=delivered, trace=trace)
    return bot
