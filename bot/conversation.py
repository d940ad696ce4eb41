"""What the decision core reads and writes: a conversation's stored state, one event, one decision."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum
from typing import Any

JSON = dict[str, Any]


class Urgency(IntEnum):
    """Which waiting DM goes out first when the channel's send budget is short: smaller first."""

    HANDOVER = 0  # telling the customer that a person takes over
    FIRST_ANSWER = 1  # the first thing a customer hears from us, and what a person writes
    ANSWER = 2  # the bot answering what the customer said
    FOLLOW_UP = 3  # the bot speaking on its own: a reminder after silence, a later status


@dataclass(slots=True)
class ConversationSnapshot:
    """A conversation as stored: enough to decide the next step, nothing held in memory between steps."""

    conversation_id: int
    customer_id: str  # the customer's X user id: replies go there, ownership is checked against it
    flow_key: tuple[str, int, str]  # (flow, version, checksum): a conversation stays on its flow version
    state: str
    revision: int  # bumped by every step; stale timeouts are recognised by it
    context: JSON = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Event:
    kind: str  # one of flows.vocabulary.EVENTS
    payload: JSON
    occurred_at: datetime
    event_id: str


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """An effect the runtime must carry out, exactly once per idempotency key."""

    kind: str
    payload: JSON
    idempotency_key: str
    delay_seconds: int = 0  # run no earlier than this many seconds after the step
    priority: int = Urgency.ANSWER  # for send_reply: see Urgency


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    author: str  # "bot" or "agent"
    text: str
    language: str


@dataclass(slots=True)
class Decision:
    source: str
    target: str
    transition_index: int | None  # None when the event was not given to the machine (a stale timer)
    revision: int
    context: JSON
    facts: dict[str, bool]
    outgoing: list[OutgoingMessage]
    commands: list[CommandSpec]
    note: str = ""
    # What the compensation policy decided in this step (rows of policy_decisions), committed with the step.
    audit: list[JSON] = field(default_factory=list)

    @property
    def is_noop(self) -> bool:
        return self.transition_index is None
