"""The database tables. Every step commits the conversation, its messages and its commands together."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Table, Text, text
from sqlmodel import Field, SQLModel


def _json(nullable: bool = False) -> Any:
    return Field(default=None if nullable else {}, sa_column=Column(JSON, nullable=nullable))


class FlowVersion(SQLModel, table=True):
    __tablename__ = "flow_versions"
    __table_args__ = (Index("uq_flow_version", "flow_id", "version", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    flow_id: str
    version: int
    checksum: str
    document: str = Field(sa_column=Column(Text, nullable=False))
    published_at: datetime
    active: bool = True


class Conversation(SQLModel, table=True):
    __tablename__ = "conversations"
    __table_args__ = (
        # At most one open conversation per customer and channel: a new DM after "closed" starts afresh.
        Index(
            "uq_open_conversation", "channel", "customer_id", unique=True,
            sqlite_where=text("is_open"), postgresql_where=text("is_open"),
        ),
    )  # fmt: skip

    id: int | None = Field(default=None, primary_key=True)
    channel: str = "x"
    customer_id: str = Field(index=True)
    flow_id: str
    flow_version: int
    flow_checksum: str
    state: str
    revision: int = 0
    is_open: bool = True
    context: dict[str, Any] = _json()
    created_at: datetime
    updated_at: datetime


class InboundEvent(SQLModel, table=True):
    """The inbox. ``event_id`` is unique, so a redelivered event is dropped at the door."""

    __tablename__ = "inbound_events"
    __table_args__ = (Index("ix_inbound_pending", "processed_at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(unique=True)
    kind: str
    channel: str = "x"
    customer_id: str | None = None
    conversation_id: int | None = Field(default=None, index=True)
    payload: dict[str, Any] = _json()
    received_at: datetime
    processed_at: datetime | None = None
    outcome: str | None = None


class Message(SQLModel, table=True):
    __tablename__ = "messages"

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(index=True)
    direction: str  # "in" or "out"
    author: str  # customer, bot or agent
    text: str = Field(sa_column=Column(Text, nullable=False))
    language: str | None = None
    event_id: str | None = None  # the inbound event a customer message came from
    command_key: str | None = Field(default=None, index=True)  # the send command it goes out with
    external_id: str | None = None  # the channel's id once delivered
    created_at: datetime
    delivered_at: datetime | None = None


class Command(SQLModel, table=True):
    """The outbox. A command runs until done; its idempotency key makes a re-run harmless."""

    __tablename__ = "commands"
    __table_args__ = (Index("ix_commands_due", "status", "not_before", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(index=True)
    kind: str
    payload: dict[str, Any] = _json()
    idempotency_key: str = Field(unique=True)
    status: str = "pending"  # pending, done, failed, cancelled (a timer the conversation moved past)
    # Which waiting DM goes first when the send budget is short (bot.conversation.Urgency): smaller first.
    priority: int = Field(default=2, sa_column_kwargs={"server_default": "2"})
    # When an attempt whose outcome we never learned began (a timeout after the request left, a crash
    # mid-send); the next attempt looks for the DM sent since then before sending again.
    uncertain_since: datetime | None = None
    attempts: int = 0
    not_before: datetime
    result: dict[str, Any] | None = _json(nullable=True)
    error: str | None = None
    created_at: datetime
    completed_at: datetime | None = None


class Compensation(SQLModel, table=True):
    """Written before the provider is called: the unique key is what makes paying twice impossible.

    The key is ``compensation:{order}:{situation}``: one compensation per order and situation.
    """

    __tablename__ = "compensations"
    # The policy's limits read this customer's recent compensations, and what every customer got today.
    __table_args__ = (
        Index("ix_compensations_customer_created", "customer_id", "created_at"),
        Index("ix_compensations_created", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(unique=True)
    conversation_id: int = Field(index=True)
    order_number: str = Field(index=True)
    customer_id: str
    situation: str
    policy_row: str
    alternative: dict[str, Any] = _json()
    value: str | None = None  # what the chosen remedy costs the shop, store currency (Decimal as text)
    status: str = "issuing"  # issuing, issued, failed
    result: dict[str, Any] | None = _json(nullable=True)
    created_at: datetime
    issued_at: datetime | None = None


class PolicyDecision(SQLModel, table=True):
    """The audit log: one row per decision the compensation policy made, written with the step that made it.

    ``decision`` is offered, escalated (a person decides, with the proposal), issued or refused (nothing
    more is paid); ``rule`` is the policy row, or the limit that decided (approval_limit, customer_cap,
    daily_budget, already_compensated, refund_instead, no_raise); ``detail`` has the alternatives, their
    values and the counts the limits were checked against.
    """

    __tablename__ = "policy_decisions"

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(index=True)
    order_number: str | None = Field(default=None, index=True)
    customer_id: str | None = None
    situation: str | None = None
    decision: str
    rule: str
    detail: dict[str, Any] = _json()
    created_at: datetime


class Escalation(SQLModel, table=True):
    __tablename__ = "escalations"

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(unique=True)
    conversation_id: int = Field(index=True)
    reasons: list[str] = Field(default=[], sa_column=Column(JSON, nullable=False))
    priority: str
    proposal: dict[str, Any] | None = _json(nullable=True)
    status: str = "open"
    sla_due_at: datetime
    created_at: datetime


class SendAttempt(SQLModel, table=True):
    """One request that counts against a send budget, written when it is claimed (before it is sent)."""

    __tablename__ = "send_attempts"
    __table_args__ = (Index("ix_send_attempts_budget_at", "budget", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    budget: str
    at: datetime


class RateLimitReading(SQLModel, table=True):
    """The provider's own count, from its last response's headers; it can only tighten our budget."""

    __tablename__ = "rate_limit_readings"

    budget: str = Field(primary_key=True)
    limit: int
    remaining: int
    reset_at: datetime
    after_attempt: int  # the reading already counts the attempts up to this SendAttempt id
    observed_at: datetime


class IngestCursor(SQLModel, table=True):
    """Where a poller got to, so a restart resumes and backfills instead of starting over."""

    __tablename__ = "ingest_cursors"

    name: str = Field(primary_key=True)
    state: dict[str, Any] = _json()
    updated_at: datetime


class ProviderIssuance(SQLModel, table=True):
    """A change asked of a provider with no idempotency keys of its own (Smile points, Shopify codes).

    Written under its unique key before the call and completed after it: a row still "started" on the
    next try means an earlier call may have gone through, so the adapter looks for it before asking again.
    """

    __tablename__ = "provider_issuances"

    idempotency_key: str = Field(primary_key=True)
    provider: str
    kind: str
    status: str  # started | done
    attempts: int = 1
    result: dict[str, Any] | None = _json(nullable=True)
    created_at: datetime
    updated_at: datetime


class ShipmentWatch(SQLModel, table=True):
    """A conversation following a parcel, so a carrier's push reaches every conversation about it."""

    __tablename__ = "shipment_watches"

    tracking_number: str = Field(primary_key=True)  # normalized: upper case, no spaces
    conversation_id: int = Field(primary_key=True)
    carrier: str
    created_at: datetime


# The tables as SQLAlchemy Core objects, for the runtime's batched statements.
FLOWS: Table = FlowVersion.__table__  # type: ignore[attr-defined]
CONVERSATIONS: Table = Conversation.__table__  # type: ignore[attr-defined]
EVENTS: Table = InboundEvent.__table__  # type: ignore[attr-defined]
MESSAGES: Table = Message.__table__  # type: ignore[attr-defined]
COMMANDS: Table = Command.__table__  # type: ignore[attr-defined]
COMPENSATIONS: Table = Compensation.__table__  # type: ignore[attr-defined]
ESCALATIONS: Table = Escalation.__table__  # type: ignore[attr-defined]
SEND_ATTEMPTS: Table = SendAttempt.__table__  # type: ignore[attr-defined]
RATE_LIMIT_READINGS: Table = RateLimitReading.__table__  # type: ignore[attr-defined]
INGEST_CURSORS: Table = IngestCursor.__table__  # type: ignore[attr-defined]
ISSUANCES: Table = ProviderIssuance.__table__  # type: ignore[attr-defined]
SHIPMENT_WATCHES: Table = ShipmentWatch.__table__  # type: ignore[attr-defined]
POLICY_DECISIONS: Table = PolicyDecision.__table__  # type: ignore[attr-defined]
