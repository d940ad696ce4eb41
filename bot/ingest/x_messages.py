"""A DM from X, as the inbox event it becomes: one event id per X DM, whichever way it arrived."""

from __future__ import annotations

from collections.abc import Iterable

from bot.runtime.inbox import NewEvent
from integrations.x.events import DirectMessage


def inbox_event_id(message_id: str) -> str:
    # The same DM through the webhook (either payload shape) and the poller has one id: stored once.
    return f"x:dm:{message_id}"


def inbox_events(messages: Iterable[DirectMessage]) -> list[NewEvent]:
    return [
        NewEvent(
            event_id=inbox_event_id(message.event_id),
            kind="message",
            customer_id=message.sender_id,
            payload={
                "text": message.text,
                "sender_id": message.sender_id,
                "message_id": message.event_id,
                "sent_at": message.sent_at.isoformat() if message.sent_at else None,
            },
        )
        for message in messages
    ]
