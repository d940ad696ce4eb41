"""Apply inbox events to conversations: one step each, in order, committed in batches.

A batch takes the oldest unprocessed events, runs each through its conversation's decision core (in
event order, so a conversation never sees two events at once), and writes the new states, messages,
commands and the processed marks in ONE transaction. A crash before the commit leaves every event of
the batch unprocessed, to be done again; a crash after it has lost nothing. Grouping the commit across
conversations is what makes durable steps cheap.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, text, update

from bot.conversation import ConversationSnapshot, Decision, Event, Urgency
from bot.core.step import running_timer_key
from bot.runtime.clock import Clock
from bot.runtime.flow_registry import FlowRegistry
from bot.runtime.trace import Trace
from bot.storage.bulk import BulkWriter
from bot.storage.tables import COMMANDS, CONVERSATIONS, EVENTS
from flows.compiler import FlowError, NoTransition
from flows.vocabulary import NEWS_EVENTS

log = logging.getLogger(__name__)


# Serialises batches across processes on PostgreSQL, so one conversation never runs in two workers.
_PG_BATCH_LOCK = 0x646D63617265  # "dmcare"


@dataclass(slots=True)
class _Live:
    """A conversation as it stands inside the current batch."""

    snapshot: ConversationSnapshot
    is_open: bool
    changed: bool = False


class EventProcessor:
    def __init__(
        self,
        *,
        engine: Engine,
        flows: FlowRegistry,
        clock: Clock,
        trace: Trace | None = None,
        max_hold_seconds: float = 0.05,
        on_news: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        """
        Args:
            on_news: told the payload of every news event (a carrier's push) as it is taken, before any
                flow runs: the worker's lookup caches drop what the news makes stale.
        """
        self._engine = engine
        self._on_news = on_news
        self._max_hold = max_hold_seconds  # decision time per batch, while the write lock is held
        self._flows = flows
        self._clock = clock
        self._trace = trace
        self._bulk: BulkWriter | None = None

    def process_batch(self, limit: int = 500) -> int:
        """Process up to ``limit`` pending events; returns how many were taken."""
        now = self._clock.now()
        with self._engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_BATCH_LOCK})
            rows = (
                connection.execute(
                    select(EVENTS).where(EVENTS.c.processed_at.is_(None)).order_by(EVENTS.c.id).limit(limit)
                )
                .mappings()
                .all()
            )
            if not rows:
                return 0
            rows = _in_sent_order(rows)
            live = self._load_conversations(connection, rows)
            self._open_conversations(connection, rows, live, now)
            batch = _Batch(now=now)
            deadline = time.perf_counter() + self._max_hold
            for row in rows:
                outcome, conversation = self._apply(connection, row, live, batch)
                batch.outcomes.append((row["id"], outcome, conversation))
                if time.perf_counter() > deadline:
                    # The batch holds the database's write lock, and the webhook waits on it to answer X:
                    # commit what is decided; the rest stays pending for the next batch.
                    break
            self._write(connection, live, batch)
        return len(batch.outcomes)

    # --- loading --------------------------------------------------------------------------------------

    def _load_conversations(self, connection: Connection, rows: Any) -> dict[Any, _Live]:
        ids = {row["conversation_id"] for row in rows if row["conversation_id"] is not None}
        customers = {(row["channel"], row["customer_id"]) for row in rows if row["conversation_id"] is None}
        found: list[Any] = []
        if ids:
            found += connection.execute(select(CONVERSATIONS).where(CONVERSATIONS.c.id.in_(ids))).mappings().all()
        if customers:
            found += (
                connection.execute(
                    select(CONVERSATIONS).where(
                        CONVERSATIONS.c.is_open.is_(True),
                        CONVERSATIONS.c.customer_id.in_({customer for _, customer in customers}),
                    )
                )
                .mappings()
                .all()
            )
        live: dict[Any, _Live] = {}
        for conversation in found:
            entry = _Live(
                snapshot=ConversationSnapshot(
                    conversation_id=conversation["id"],
                    customer_id=conversation["customer_id"],
                    flow_key=(
                        conversation["flow_id"],
                        conversation["flow_version"],
                        conversation["flow_checksum"],
                    ),
                    state=conversation["state"],
                    revision=conversation["revision"],
                    context=dict(conversation["context"] or {}),
                ),
                is_open=conversation["is_open"],
            )
            live[conversation["id"]] = entry
            if conversation["is_open"]:
                live[(conversation["channel"], conversation["customer_id"])] = entry
        return live

    def _open_conversations(self, connection: Connection, rows: Any, live: dict[Any, _Live], now: datetime) -> None:
        """Open, in one statement, a conversation for every customer writing without one."""
        needed: dict[tuple[str, str], None] = {}
        for row in rows:
            key = (row["channel"], row["customer_id"])
            if row["kind"] == "message" and row["conversation_id"] is None and row["customer_id"] and key not in live:
                needed[key] = None
        if not needed:
            return
        flow_key, core = self._flows.active_core()
        initial = core.document.initial
        created = connection.execute(
            insert(CONVERSATIONS).returning(
                CONVERSATIONS.c.id, CONVERSATIONS.c.channel, CONVERSATIONS.c.customer_id
            ),
            [
                {
                    "channel": channel, "customer_id": customer, "flow_id": flow_key[0], "flow_version": flow_key[1],
                    "flow_checksum": flow_key[2], "state": initial, "revision": 0, "is_open": True, "context": {},
                    "created_at": now, "updated_at": now,
                }
                for channel, customer in needed
            ],
        ).all()  # fmt: skip
        for conversation in created:
            snapshot = ConversationSnapshot(
                conversation_id=conversation.id, customer_id=conversation.customer_id, flow_key=flow_key,
                state=initial, revision=0, context={},
            )  # fmt: skip
            entry = _Live(snapshot=snapshot, is_open=True)
            live[conversation.id] = entry
            live[(conversation.channel, conversation.customer_id)] = entry

    # --- one event ------------------------------------------------------------------------------------

    def _apply(self, connection: Connection, row: Any, live: dict[Any, _Live], batch: _Batch) -> tuple[str, int | None]:
        if row["kind"] in NEWS_EVENTS and self._on_news is not None:
            self._on_news(row["payload"])
        if row["conversation_id"] is not None:
            entry = live.get(row["conversation_id"])
        else:
            entry = live.get((row["channel"], row["customer_id"]))
            if entry is not None and not entry.is_open and row["kind"] == "message":
                # The conversation closed earlier in this batch: this message starts the next one, and
                # the database must see the old one closed first (one open conversation per customer).
                connection.execute(
                    update(CONVERSATIONS)
                    .where(CONVERSATIONS.c.id == entry.snapshot.conversation_id)
                    .values(is_open=False)
                )
                entry = None
            if entry is None and row["kind"] == "message" and row["customer_id"]:
                fresh: dict[Any, _Live] = {}
                self._open_conversations(connection, [row], fresh, batch.now)
                entry = fresh[(row["channel"], row["customer_id"])]
                live[entry.snapshot.conversation_id] = entry
                live[(row["channel"], row["customer_id"])] = entry
        if entry is None:
            return self._report(row, "dropped: no conversation for this event", None)
        snapshot = entry.snapshot
        if not entry.is_open:
            batch.customer_message(snapshot, row, language=None)
            return self._report(row, "kept: the conversation is closed", snapshot.conversation_id)
        event = Event(
            kind=row["kind"], payload=row["payload"], occurred_at=row["received_at"], event_id=row["event_id"]
        )
        core = self._flows.core(snapshot.flow_key)
        try:
            decision = core.decide(snapshot, event)
            batch.check_keys(decision)
        except Exception as error:  # one bad event must not hold back every other one
            if isinstance(error, NoTransition) and row["kind"] in NEWS_EVENTS:
                # News the flow does not act on here (a parcel update while a person owns the conversation,
                # or mid-lookup) changes nothing; the event stays in the inbox for the agent to see.
                return self._report(row, "ignored: the flow does not act on this news here", snapshot.conversation_id)
            # Never silent, never stuck: the event is marked with the error, the conversation goes to a
            # person (the bot stops talking), and the rest of the batch goes on.
            kind = "flow error" if isinstance(error, FlowError) else f"{type(error).__name__}"
            log.error("%s in conversation %s on %s event: %s", kind, snapshot.conversation_id, row["kind"], error)
            batch.customer_message(snapshot, row, language=snapshot.context.get("language"))
            human = core.flow.human_state
            if human is not None and snapshot.state != human:
                snapshot.state = human
                snapshot.revision += 1
                entry.changed = True
            batch.escalate_flow_error(snapshot, row["id"], f"{kind}: {error}")
            return self._report(row, f"error: {kind}: {error}", snapshot.conversation_id)
        batch.customer_message(snapshot, row, language=decision.context.get("language"))
        if not decision.is_noop:
            snapshot.state = decision.target
            snapshot.revision = decision.revision
            snapshot.context = decision.context
            entry.changed = True
            entry.is_open = decision.target not in core.flow.final_states
            batch.decision(snapshot, decision)
        note = f" ({decision.note})" if decision.note else ""
        return self._report(row, f"{decision.source} -> {decision.target}{note}", snapshot.conversation_id, decision)

    def _report(
        self, row: Any, outcome: str, conversation_id: int | None, decision: Decision | None = None
    ) -> tuple[str, int | None]:
        if self._trace is not None:
            record: dict[str, Any] = {
                "type": "transition", "event": row["kind"], "event_id": row["event_id"],
                "conversation": conversation_id, "outcome": outcome,
            }  # fmt: skip
            if decision is not None:
                record.update(
                    source=decision.source, target=decision.target, transition=decision.transition_index,
                    facts=dict(decision.facts),
                    commands=[{"kind": c.kind, "key": c.idempotency_key} for c in decision.commands],
                )  # fmt: skip
            self._trace(record)
        return outcome, conversation_id

    # --- writing --------------------------------------------------------------------------------------

    def _write(self, connection: Connection, live: dict[Any, _Live], batch: _Batch) -> None:
        writer = self._writer(connection)
        now = writer.stamp(batch.now)
        changed = list({id(entry): entry for entry in live.values() if entry.changed}.values())
        if changed:
            writer.update(
                connection, "conversations", ("state", "revision", "context", "is_open", "updated_at"), "id",
                [
                    (e.snapshot.state, e.snapshot.revision, writer.json(e.snapshot.context), e.is_open, now,
                     e.snapshot.conversation_id)
                    for e in changed
                ],
                json_columns=frozenset({"context"}),
            )  # fmt: skip
            # A step supersedes the timers armed before it (the new state arms its own below), except the one
            # its state still waits on: news that left the conversation where it was keeps that one running.
            running = [key for entry in changed if (key := running_timer_key(entry.snapshot)) is not None]
            connection.execute(
                update(COMMANDS)
                .where(
                    COMMANDS.c.conversation_id.in_([entry.snapshot.conversation_id for entry in changed]),
                    COMMANDS.c.kind == "schedule_timeout",
                    COMMANDS.c.status == "pending",
                    COMMANDS.c.idempotency_key.not_in(running),
                )
                .values(status="cancelled", completed_at=batch.now)
            )
        writer.insert(
            connection, "messages", MESSAGE_COLUMNS,
            [(*message[:8], now, None) for message in batch.messages],
        )  # fmt: skip
        writer.insert(
            connection, "commands", COMMAND_COLUMNS,
            [
                (conversation, kind, writer.json(payload), key, "pending", 0,
                 writer.stamp(batch.now + timedelta(seconds=delay)), None, None, now, None, priority)
                for conversation, kind, payload, key, delay, priority in batch.commands
            ],
            json_columns=frozenset({"payload", "result"}),
        )  # fmt: skip
        # The policy's decisions are audited in the commit of the steps that made them.
        writer.insert(
            connection, "policy_decisions", AUDIT_COLUMNS,
            [(*row[:6], writer.json(row[6]), now) for row in batch.audit], json_columns=frozenset({"detail"}),
        )  # fmt: skip
        writer.update(
            connection, "inbound_events", ("processed_at", "outcome", "conversation_id"), "id",
            [(now, outcome, conversation, event_row) for event_row, outcome, conversation in batch.outcomes],
        )  # fmt: skip

    def _writer(self, connection: Connection) -> BulkWriter:
        if self._bulk is None:
            self._bulk = BulkWriter(connection.dialect.name)
        return self._bulk


def _in_sent_order(rows: Sequence[Any]) -> list[Any]:
    """A customer's DMs in the order they were written, though X may deliver them out of order.

    Only the places a customer's messages already hold in the batch are reshuffled among them, by X's
    snowflake id (which grows with time) or their sent time; every other event keeps its place.
    """
    places: dict[tuple[str, str], list[int]] = defaultdict(list)
    for position, row in enumerate(rows):
        if row["kind"] == "message" and row["conversation_id"] is None and row["customer_id"]:
            places[(row["channel"], row["customer_id"])].append(position)
    ordered = list(rows)
    for positions in places.values():
        if len(positions) > 1:
            messages = sorted((rows[position] for position in positions), key=_written_at)
            for position, row in zip(positions, messages, strict=True):
                ordered[position] = row
    return ordered


def _written_at(row: Any) -> tuple[int, str, int]:
    # X's snowflake id grows with time and is on every DM; without one, the time sent, then arrival.
    payload = row["payload"] or {}
    message_id = str(payload.get("message_id") or "")
    snowflake = int(message_id) if message_id.isascii() and message_id.isdigit() else 2**63
    return (snowflake, str(payload.get("sent_at") or "~"), row["id"])


MESSAGE_COLUMNS = (
    "conversation_id", "direction", "author", "text", "language", "event_id", "command_key", "external_id",
    "created_at", "delivered_at",
)  # fmt: skip
AUDIT_COLUMNS = (
    "conversation_id", "order_number", "customer_id", "situation", "decision", "rule", "detail", "created_at",
)  # fmt: skip
COMMAND_COLUMNS = (
    "conversation_id", "kind", "payload", "idempotency_key", "status", "attempts", "not_before", "result", "error",
    "created_at", "completed_at", "priority",
)  # fmt: skip


@dataclass(slots=True)
class _Batch:
    """The rows a batch will write, gathered while its events are decided."""

    now: datetime
    messages: list[tuple[Any, ...]] = field(default_factory=list)
    commands: list[tuple[int, str, dict[str, Any], str, int, int]] = field(default_factory=list)
    outcomes: list[tuple[int, str, int | None]] = field(default_factory=list)
    audit: list[tuple[Any, ...]] = field(default_factory=list)
    _keys: set[str] = field(default_factory=set)

    def customer_message(self, snapshot: ConversationSnapshot, row: Any, *, language: str | None) -> None:
        if row["kind"] != "message":
            return
        payload = row["payload"]
        self.messages.append(
            (snapshot.conversation_id, "in", "customer", str(payload.get("text", "")), language, row["event_id"],
             None, payload.get("message_id"))
        )  # fmt: skip

    def decision(self, snapshot: ConversationSnapshot, decision: Decision) -> None:
        conversation = snapshot.conversation_id
        send_keys = iter(command.idempotency_key for command in decision.commands if command.kind == "send_reply")
        for outgoing in decision.outgoing:
            self.messages.append(
                (conversation, "out", outgoing.author, outgoing.text, outgoing.language, None, next(send_keys), None)
            )
        for command in decision.commands:
            self.commands.append(
                (
                    conversation,
                    command.kind,
                    command.payload,
                    command.idempotency_key,
                    command.delay_seconds,
                    command.priority,
                )
            )
        for entry in decision.audit:
            self.audit.append(
                (conversation, entry["order_number"], entry["customer_id"], entry["situation"], entry["decision"],
                 entry["rule"], entry["detail"])
            )  # fmt: skip

    def check_keys(self, decision: Decision) -> None:
        """Two commands with one idempotency key would fail the whole batch's commit: refuse the event."""
        keys = [command.idempotency_key for command in decision.commands]
        if len(set(keys)) != len(keys) or self._keys.intersection(keys):
            raise ValueError(f"the decision repeats a command key: {sorted(keys)}")
        self._keys.update(keys)

    def escalate_flow_error(self, snapshot: ConversationSnapshot, event_row: int, error: str) -> None:
        payload = {"reasons": ["flow_error"], "priority": "high", "state": snapshot.state, "detail": error[:500]}
        self.commands.append(
            (
                snapshot.conversation_id,
                "escalate",
                payload,
                f"c{snapshot.conversation_id}:e{event_row}:flow-error",
                0,
                Urgency.ANSWER,
            )
        )
