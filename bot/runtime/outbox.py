"""Run due commands from the outbox and feed their results back into the inbox.

Commands of different conversations run concurrently; the replies of one conversation go out in the
order they were decided, and a reply waiting on a retry holds back the replies after it. Completion
(command done, result event in the inbox, message marked delivered) is one transaction, so a crash
leaves the command pending and it runs again under the same idempotency key.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from bot.runtime.clock import Clock
from bot.runtime.executors import FAILURE_EVENTS, CommandRun, Executors, Outcome
from bot.runtime.send_budget import SendBudget, exhausted
from bot.runtime.trace import Trace
from bot.storage.bulk import BulkWriter
from bot.storage.tables import COMMANDS, ESCALATIONS
from integrations.caching import tracking_key
from integrations.errors import (
    OutcomeUnknownError,
    PermanentIntegrationError,
    RateLimitedError,
    RetryableIntegrationError,
)
from integrations.models import RateLimit

log = logging.getLogger(__name__)


class Outbox:
    def __init__(
        self,
        *,
        engine: Engine,
        executors: Executors,
        clock: Clock,
        max_attempts: int = 5,
        keep_sending_for: timedelta = timedelta(hours=24),
        lease: timedelta = timedelta(seconds=60),  # longer than the slowest command can take
        trace: Trace | None = None,
        send_budget: SendBudget | None = None,
        lookup_patience: timedelta = timedelta(seconds=45),
    ) -> None:
        self._engine = engine
        self._lookup_patience = lookup_patience
        self._budget = send_budget
        self._round_attempt = 0  # the last budget attempt claimed by the round under way
        self._executors = executors
        self._clock = clock
        self._max_attempts = max_attempts
        self._keep_sending_for = keep_sending_for
        self._lease = lease
        self._trace = trace
        self._bulk: BulkWriter | None = None

    def recover(self) -> int:
        """At start-up: take back the commands a killed process was running.

        On SQLite one dmcare process owns the file, so whatever is marked running belonged to a process
        that is gone; it runs again now under the same idempotency key. On PostgreSQL other workers may
        be alive, so their leases are left to expire (a minute at most).
        """
        if self._engine.dialect.name != "sqlite":
            return 0
        with self._engine.begin() as connection:
            result = connection.execute(
                update(COMMANDS)
                .where(COMMANDS.c.status == "running")
                .values(status="pending", not_before=self._clock.now())
            )
        return int(result.rowcount or 0)

    async def run_due(self, limit: int = 500) -> int:
        """Run the commands that are due; returns how many finished or were rescheduled."""
        now = self._clock.now()
        runs = self._claim(now, limit)
        if not runs:
            return 0
        self._executors.prepare(runs, now)
        by_conversation: dict[int, list[CommandRun]] = defaultdict(list)
        for run in runs:
            by_conversation[run.conversation_id].append(run)
        finished = await asyncio.gather(*(self._run_in_order(group, now) for group in by_conversation.values()))
        self._complete([item for group in finished for item in group], now)
        return len(runs)

    def _claim(self, now: datetime, limit: int) -> list[CommandRun]:
        """Take the due commands for this worker: marked running under a lease, in one transaction.

        A second worker skips what this one holds (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite: one
        writer at a time). A worker that dies leaves its lease to expire, and the command is taken again
        under the same idempotency key.
        """
        due = or_(COMMANDS.c.status == "pending", COMMANDS.c.status == "running") & (COMMANDS.c.not_before <= now)
        with self._engine.begin() as connection:
            query = select(*_RUN_COLUMNS).where(due).order_by(COMMANDS.c.id).limit(limit)
            if self._budget is not None:
                query = query.where(COMMANDS.c.kind != "send_reply")
            if connection.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = list(connection.execute(query).all())
            if self._budget is not None:
                rows += self._claim_budgeted_replies(connection, now, limit)
            if not rows:
                return []
            conversations = {row.conversation_id for row in rows}
            # The oldest unsent reply of each conversation, due or not: later replies wait for it.
            first_reply: dict[int, int] = dict(
                connection.execute(
                    select(COMMANDS.c.conversation_id, func.min(COMMANDS.c.id))
                    .where(
                        COMMANDS.c.status.in_(("pending", "running")),
                        COMMANDS.c.kind == "send_reply",
                        COMMANDS.c.conversation_id.in_(conversations),
                    )
                    .group_by(COMMANDS.c.conversation_id)
                ).all()  # fmt: skip
            )
            due_ids = {row.id for row in rows}
            runs = [
                CommandRun(id=row.id, conversation_id=row.conversation_id, kind=row.kind, payload=row.payload,
                           idempotency_key=row.idempotency_key, attempts=row.attempts, created_at=row.created_at,
                           uncertain_since=row.uncertain_since)
                for row in rows
                # A reply waits while an earlier reply of its conversation waits for a retry.
                if row.kind != "send_reply" or first_reply.get(row.conversation_id) in due_ids
            ]  # fmt: skip
            if runs:
                connection.execute(
                    update(COMMANDS)
                    .where(COMMANDS.c.id.in_([run.id for run in runs]))
                    .values(status="running", not_before=now + self._lease)
                )
                # Until this attempt's answer is written down, whether the DM went out is unknown.
                sends = [run.id for run in runs if run.kind == "send_reply" and run.uncertain_since is None]
                if sends:
                    connection.execute(update(COMMANDS).where(COMMANDS.c.id.in_(sends)).values(uncertain_since=now))
        return runs

    def _claim_budgeted_replies(self, connection: Connection, now: datetime, limit: int) -> list[Any]:
        """The replies the send budget allows now: each conversation's next reply, most urgent first.

        A conversation's replies keep their order, so only its oldest unsent reply is a candidate; it
        goes with the urgency of the most urgent reply waiting behind it. Each one taken is counted
        against the budget in this transaction, before it is sent.
        """
        assert self._budget is not None
        room = min(limit, self._budget.available(connection, now))
        if room <= 0:
            return []
        waiting = (
            select(
                COMMANDS.c.conversation_id,
                func.min(COMMANDS.c.id).label("head"),
                func.min(COMMANDS.c.priority).label("urgency"),
            )
            .where(COMMANDS.c.kind == "send_reply", COMMANDS.c.status.in_(("pending", "running")))
            .group_by(COMMANDS.c.conversation_id)
            .subquery()
        )
        query = (
            select(*_RUN_COLUMNS)
            .join(waiting, COMMANDS.c.id == waiting.c.head)
            .where(COMMANDS.c.not_before <= now)
            .order_by(waiting.c.urgency, COMMANDS.c.id)
            .limit(room)
        )
        if connection.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True, of=COMMANDS)
        heads = list(connection.execute(query).all())
        granted, last_attempt = self._budget.take(connection, now, len(heads))
        self._round_attempt = max(self._round_attempt, last_attempt)
        return heads[:granted]

    async def _run_in_order(self, group: list[CommandRun], now: datetime) -> list[tuple[CommandRun, Any]]:
        done: list[tuple[CommandRun, Any]] = []
        blocked = False
        for run in group:
            if blocked and run.kind == "send_reply":
                continue  # keep this conversation's replies in order behind the one that failed
            outcome = await self._attempt(run, now)
            done.append((run, outcome))
            if run.kind == "send_reply" and not isinstance(outcome, Outcome):
                blocked = True
        return done

    async def _attempt(self, run: CommandRun, now: datetime) -> Outcome | Exception:
        try:
            return await self._executors.run(run, now)
        except Exception as error:  # every failure is recorded on the command and retried or reported
            if not isinstance(error, RetryableIntegrationError | PermanentIntegrationError):
                log.exception("command %s (%s) failed unexpectedly", run.id, run.kind)
            return error

    def _complete(self, finished: list[tuple[CommandRun, Outcome | Exception]], now: datetime) -> None:
        commands: list[tuple[Any, ...]] = []
        events: list[tuple[Any, ...]] = []
        delivered: list[tuple[Any, ...]] = []
        issued: list[tuple[Any, ...]] = []
        undelivered: list[CommandRun] = []
        unpaid: list[tuple[str, str]] = []
        readings: list[RateLimit] = []
        followed: list[tuple[Any, ...]] = []
        with self._engine.begin() as connection:
            writer = self._writer(connection)
            stamp = writer.stamp(now)
            for run, outcome in finished:
                tries = run.attempts + 1
                status, error, result, not_before, completed = "done", None, None, stamp, stamp
                uncertain: Any = None
                event_kind: str | None = None
                event_payload: dict[str, Any] | None = None
                if isinstance(outcome, Outcome):
                    result = outcome.result
                    event_kind, event_payload = outcome.event_kind, outcome.event_payload
                    if outcome.issued_compensation_key is not None:
                        issued.append((writer.json(outcome.result), stamp, outcome.issued_compensation_key))
                    if run.kind == "send_reply":
                        delivered.append((stamp, outcome.result.get("message_id"), run.idempotency_key))
                    if outcome.rate_limit is not None:
                        readings.append(outcome.rate_limit)
                    followed.extend(
                        (tracking_key(number), run.conversation_id, carrier, stamp)
                        for carrier, number in outcome.follows
                    )
                else:
                    error = f"{type(outcome).__name__}: {outcome}"[:1000]
                    if isinstance(outcome, RateLimitedError) and run.kind == "send_reply":
                        readings.append(exhausted(outcome, now))
                    if run.kind == "send_reply" and (
                        run.uncertain_since is not None or isinstance(outcome, OutcomeUnknownError)
                    ):
                        # Once a send may have gone out it stays uncertain until it is done or found: a
                        # later attempt that failed for certain (even the lookup) says nothing about it.
                        uncertain = writer.stamp(run.uncertain_since or now)
                    retry_at = now + _backoff(tries, outcome, persistent=run.kind in PERSISTENT)
                    if self._retry(run, tries, outcome, retry_at):
                        status, completed = "pending", None
                        not_before = writer.stamp(retry_at)
                    else:
                        status = "failed"
                        event_kind = FAILURE_EVENTS.get(run.kind)
                        event_payload = {"command": run.kind, "error": error}
                        if run.kind in PERSISTENT:
                            undelivered.append(run)
                        if run.kind == "issue_compensation":
                            # Not paid (or only partly): the row says so; the parts paid stay recorded.
                            unpaid.append(("failed", run.payload["compensation_key"]))
                commands.append((tries, status, error, writer.json(result), not_before, completed, uncertain, run.id))
                if event_kind is not None:
                    events.append(
                        (f"result:{run.idempotency_key}", event_kind, "x", None, run.conversation_id,
                         writer.json(event_payload or {}), stamp)
                    )  # fmt: skip
                if self._trace is not None:
                    self._trace(
                        {"type": "command", "kind": run.kind, "key": run.idempotency_key,
                         "conversation": run.conversation_id, "status": status, "attempt": tries, "error": error,
                         "event": event_kind}
                    )  # fmt: skip
            writer.update(
                connection, "commands",
                ("attempts", "status", "error", "result", "not_before", "completed_at", "uncertain_since"), "id",
                commands, json_columns=frozenset({"result"}), only_if="status = 'running'",
            )  # fmt: skip
            if readings and self._budget is not None:
                # The tightest answer of the round counts every send the round made.
                tightest = min(readings, key=lambda reading: (reading.remaining, -reading.reset_at.timestamp()))
                self._budget.observe(connection, tightest, now, after_attempt=self._round_attempt)
            self._escalate_undelivered(connection, undelivered, now)
            writer.update(connection, "compensations", ("status",), "idempotency_key", unpaid)
            writer.insert(
                connection, "inbound_events", INBOX_COLUMNS, events,
                json_columns=frozenset({"payload"}), ignore_conflicts_on="event_id",
            )  # fmt: skip
            writer.update(
                connection, "compensations", ("status", "result", "issued_at"), "idempotency_key",
                [("issued", result, at, key) for result, at, key in issued], json_columns=frozenset({"result"}),
            )  # fmt: skip
            writer.update(connection, "messages", ("delivered_at", "external_id"), "command_key", delivered)
            writer.insert(
                connection, "shipment_watches", ("tracking_number", "conversation_id", "carrier", "created_at"),
                followed, ignore_conflicts_on="tracking_number, conversation_id",
            )  # fmt: skip

    def _retry(self, run: CommandRun, tries: int, error: Exception, retry_at: datetime) -> bool:
        if isinstance(error, PermanentIntegrationError):
            return False
        if run.kind in PERSISTENT:
            # A reply or a hand-over is never given up after a few quick tries: it waits out an outage.
            return run.created_at is None or retry_at - run.created_at < self._keep_sending_for
        if run.kind in LOOKUPS and run.created_at is not None and retry_at - run.created_at > self._lookup_patience:
            # The customer is waiting on this answer: past the patience, a person beats more silence.
            return False
        return tries < self._max_attempts

    def _escalate_undelivered(self, connection: Connection, runs: list[CommandRun], now: datetime) -> None:
        """A reply or hand-over that could not be delivered for good goes to a person, never nowhere."""
        if not runs:
            return
        dialect_insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
        connection.execute(
            dialect_insert(ESCALATIONS).on_conflict_do_nothing(index_elements=["idempotency_key"]),
            [
                {
                    "idempotency_key": f"undelivered:{run.idempotency_key}", "conversation_id": run.conversation_id,
                    "reasons": [f"{run.kind}_failed"], "priority": "urgent", "proposal": None, "status": "open",
                    "sla_due_at": now, "created_at": now,
                }
                for run in runs
            ],
        )  # fmt: skip

    def _writer(self, connection: Connection) -> BulkWriter:
        if self._bulk is None:
            self._bulk = BulkWriter(connection.dialect.name)
        return self._bulk


_RUN_COLUMNS = (
    COMMANDS.c.id, COMMANDS.c.conversation_id, COMMANDS.c.kind, COMMANDS.c.payload, COMMANDS.c.idempotency_key,
    COMMANDS.c.attempts, COMMANDS.c.created_at, COMMANDS.c.uncertain_since,
)  # fmt: skip

INBOX_COLUMNS = ("event_id", "kind", "channel", "customer_id", "conversation_id", "payload", "received_at")


# Commands that must reach the customer or an agent: retried for hours, not a few seconds.
PERSISTENT = frozenset({"send_reply", "escalate"})
# Commands a customer is waiting on: retried only as long as ``lookup_patience`` allows.
LOOKUPS = frozenset({"lookup_order", "lookup_tracking"})


def _backoff(tries: int, error: Exception, *, persistent: bool = False) -> timedelta:
    retry_after = getattr(error, "retry_after", None)
    if retry_after:
        return timedelta(seconds=float(retry_after))
    # Exponential with full jitter, capped: many conversations failing at once must not retry in step.
    cap = 300.0 if persistent else 60.0
    return timedelta(seconds=random.uniform(0, min(cap, 0.5 * 2**tries)))
