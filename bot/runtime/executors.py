"""Carry out commands against the integrations; results come back to the conversation as events.

Every executor is safe to run twice with the same command: outside effects go through the provider
with an idempotency key, and compensation is recorded locally under a unique key before any provider
is called, so a crash between "paid" and "marked done" can never pay again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, func, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from bot.storage.tables import COMPENSATIONS, CONVERSATIONS, ESCALATIONS, MESSAGES
from flows.vocabulary import PRIORITIES
from integrations.errors import RateLimitedError, RetryableIntegrationError
from integrations.models import DispatchKind, NoSuchOrder, Order, RateLimit, Shipment
from integrations.protocols import (
    CouponIssuer,
    DirectMessageChannel,
    DispatchService,
    OrderSystem,
    PointsProgram,
    RefundService,
    TrackingService,
)

# Which failure event a command reports when it gives up, so the flow can hand over honestly.
FAILURE_EVENTS = {
    "lookup_order": "lookup_failed",
    "lookup_tracking": "lookup_failed",
    "issue_compensation": "compensation_failed",
    "dispatch": "dispatch_failed",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Services:
    """One implementation per role; which provider plays each is configuration (integrations/providers.py)."""

    orders: OrderSystem
    refunds: RefundService
    dispatches: DispatchService
    tracking: TrackingService
    points: PointsProgram
    coupons: CouponIssuer
    channel: DirectMessageChannel


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a finished command leaves behind: its result, and the event to feed back, if any."""

    result: dict[str, Any]
    event_kind: str | None = None
    event_payload: dict[str, Any] | None = None
    issued_compensation_key: str | None = None  # marked issued in the same commit as the command
    rate_limit: RateLimit | None = None  # what the channel said is left of its rate limit
    # Parcels (carrier, tracking number) the conversation follows from now on, so a carrier's push about
    # them reaches it; written in the same commit as the command.
    follows: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class CommandRun:
    id: int
    conversation_id: int
    kind: str
    payload: dict[str, Any]
    idempotency_key: str
    attempts: int = 0  # how many times it ran before this one
    created_at: datetime | None = None
    uncertain_since: datetime | None = None  # an earlier attempt began then and its outcome is unknown


class Executors:
    def __init__(self, *, services: Services, engine: Engine, first_response_sla: timedelta) -> None:
        self._services = services
        self._engine = engine
        self._sla = first_response_sla
        self._reserved: dict[str, dict[str, Any]] = {}
        self._earlier: dict[str, dict[str, dict[str, Any]]] = {}  # order number -> situation -> record

    def prepare(self, runs: list[CommandRun], now: datetime) -> None:
        """Read and write in one go what this round's commands need from the database.

        Every compensation is recorded under its unique key, in one commit, before anything is paid;
        the earlier compensations of the orders being looked up are read with one query.
        """
        lookups = [_order_key(run.payload["order_number"]) for run in runs if run.kind == "lookup_order"]
        if lookups:
            self._earlier = self._compensations_of(lookups)
        runs_paying = [run for run in runs if run.kind == "issue_compensation"]
        if not runs_paying:
            return
        rows = [_compensation_row(run, now) for run in runs_paying]
        with self._engine.begin() as connection:
            dialect_insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
            if connection.dialect.name == "postgresql":
                # Limits are counted and the row written under one lock: two workers cannot both fit under.
                connection.execute(text("SELECT pg_advisory_xact_lock(hashtext('dmcare.compensation_limits'))"))
            for run, row in zip(runs_paying, rows, strict=True):
                # Offers are checked when made; a payment is checked again, one row at a time, so offers made
                # together near a limit (or accepted the next day) cannot all pass. A held row pays nothing.
                held = self._limit_reached(connection, run.payload, row["idempotency_key"])
                if held is not None:
                    row["status"], row["result"] = "held", {"held": held}
                connection.execute(
                    dialect_insert(COMPENSATIONS).on_conflict_do_nothing(index_elements=["idempotency_key"]), row
                )
            stored = (
                connection.execute(
                    select(COMPENSATIONS).where(
                        COMPENSATIONS.c.idempotency_key.in_([row["idempotency_key"] for row in rows])
                    )
                )
                .mappings()
                .all()
            )
        self._reserved.update({row["idempotency_key"]: dict(row) for row in stored})

    def _limit_reached(self, connection: Connection, payload: dict[str, Any], key: str) -> str | None:
        """The limit this payment would break ("customer_cap", "daily_budget"), or None when it fits."""
        limits = payload.get("limits")
        if not limits:
            return None
        exists = connection.execute(
            select(COMPENSATIONS.c.idempotency_key).where(COMPENSATIONS.c.idempotency_key == key)
        ).first()
        if exists is not None:
            return None  # already recorded: a retry, judged when it was first written
        counted = COMPENSATIONS.c.status.not_in(("failed", "held"))
        if limits.get("customer_cap") is not None:
            earlier = connection.execute(
                select(func.count()).select_from(COMPENSATIONS).where(
                    COMPENSATIONS.c.customer_id == payload["customer_id"],
                    COMPENSATIONS.c.created_at >= _instant(limits["window_start"]), counted,
                )
            ).scalar_one()  # fmt: skip
            if earlier >= int(limits["customer_cap"]):
                return "customer_cap"
        if limits.get("daily_budget") is not None and payload.get("value"):
            values = connection.execute(
                select(COMPENSATIONS.c.value).where(
                    COMPENSATIONS.c.created_at >= _instant(limits["day_start"]), counted
                )
            ).scalars()
            spent = sum((Decimal(value) for value in values if value), Decimal(0))
            if spent + Decimal(str(payload["value"])) > Decimal(limits["daily_budget"]):
                return "daily_budget"
        return None

    async def run(self, command: CommandRun, now: datetime) -> Outcome:
        handler = getattr(self, f"_{command.kind}", None)
        if handler is None:
            raise ValueError(f"no executor for command kind {command.kind!r}")
        outcome: Outcome = await handler(command, now)
        return outcome

    async def _send_reply(self, command: CommandRun, now: datetime) -> Outcome:
        recipient, text = command.payload["recipient_id"], command.payload["text"]
        channel = self._services.channel
        if command.uncertain_since is not None:
            # An earlier attempt may have gone out (timeout after the request left, crash mid-send):
            # look for it first, so the customer never gets the same DM twice.
            try:
                found = await channel.find_sent(
                    recipient_id=recipient, text=text, since=command.uncertain_since,
                    exclude=self._delivered_ids(recipient),
                )  # fmt: skip
            except RateLimitedError as error:
                # The lookup's limit is the read limit: it must not be taken for the send budget's.
                raise RetryableIntegrationError(
                    f"looking for an earlier attempt: {error}", service=error.service, retry_after=error.retry_after
                ) from None
            if found is not None:
                return Outcome(result={"message_id": found.message_id, "reconciled": True}, rate_limit=None)
        sent = await channel.send(recipient_id=recipient, text=text, idempotency_key=command.idempotency_key)
        return Outcome(result={"message_id": sent.message_id}, rate_limit=sent.rate_limit)

    def _delivered_ids(self, recipient_id: str) -> frozenset[str]:
        """The channel ids of every DM to this customer already accounted for, in any conversation."""
        with self._engine.connect() as connection:
            return frozenset(
                connection.execute(
                    select(MESSAGES.c.external_id)
                    .join(CONVERSATIONS, CONVERSATIONS.c.id == MESSAGES.c.conversation_id)
                    .where(CONVERSATIONS.c.customer_id == recipient_id, MESSAGES.c.external_id.is_not(None))
                ).scalars()
            )

    async def _lookup_order(self, command: CommandRun, now: datetime) -> Outcome:
        number = command.payload["order_number"]
        order = await self._services.orders.find_order(number)
        if isinstance(order, NoSuchOrder):
            # An order system that cannot see old orders has not proved this one does not exist.
            conclusive = order.rules_out()
            absent = {"order_number": number, "conclusive": conclusive,
                      "visible_since": order.visible_since.isoformat() if order.visible_since else None}  # fmt: skip
            return Outcome(result={"found": False, "conclusive": conclusive}, event_kind="order_not_found",
                           event_payload=absent)  # fmt: skip
        owned = order.belongs_to(command.payload["customer_id"])
        # Someone else's order: the event says so and carries nothing else, so nothing can leak.
        payload: dict[str, Any] = {"owned": owned, "order": _order_facts(order) if owned else None}
        if owned:
            payload["order"]["compensated"] = self._earlier_compensation(order.number)
            # The counts the policy's limits are checked against, read now so the decision stays pure.
            payload["order"]["history"] = self._history(order.customer_id, command.payload.get("count_since"), now)
        return Outcome(result={"found": True, "owned": owned}, event_kind="order_found", event_payload=payload)

    def _earlier_compensation(self, order_number: str) -> dict[str, dict[str, Any]]:
        """What this order was already given, by situation, by any conversation: one per order and situation."""
        if order_number not in self._earlier:  # the shop's number differs from what the customer typed
            self._earlier.update(self._compensations_of([order_number]))
        return self._earlier[order_number]

    def _compensations_of(self, order_numbers: list[str]) -> dict[str, dict[str, dict[str, Any]]]:
        found: dict[str, dict[str, dict[str, Any]]] = {number: {} for number in order_numbers}
        key = COMPENSATIONS.c.idempotency_key
        # compensation:{order}:{situation}, and compensation:{order} as written before situations had keys.
        matches = [
            condition
            for number in order_numbers
            for condition in (
                key == f"compensation:{number}",
                key.startswith(f"compensation:{number}:", autoescape=True),
            )
        ]
        with self._engine.connect() as connection:
            for row in connection.execute(
                select(key, COMPENSATIONS.c.situation, COMPENSATIONS.c.alternative, COMPENSATIONS.c.status).where(
                    or_(*matches)
                )
            ):
                for number in order_numbers:
                    if row.idempotency_key == f"compensation:{number}" or row.idempotency_key.startswith(
                        f"compensation:{number}:"
                    ):
                        found[number][row.situation] = {"alternative": row.alternative, "status": row.status}
        return found

    def _history(self, customer_id: str, since: dict[str, str] | None, now: datetime) -> dict[str, Any]:
        """This customer's compensations in the cap's window, and what every customer got in the shop's day.

        The core says where each count starts (``count_since`` in the lookup command: the window's and the
        shop day's first instant), because only the flow knows the window and the shop's time zone.
        A compensation counts from when it was recorded, unless it failed.
        """
        since = since or {}
        window_start = _instant(since.get("customer")) or now - timedelta(days=90)
        day_start = _instant(since.get("shop_day")) or now.replace(hour=0, minute=0, second=0, microsecond=0)
        counted = COMPENSATIONS.c.status.not_in(("failed", "held"))  # held: stopped by a limit, never paid
        with self._engine.connect() as connection:
            customer = connection.execute(
                select(func.count()).select_from(COMPENSATIONS).where(
                    COMPENSATIONS.c.customer_id == customer_id, COMPENSATIONS.c.created_at >= window_start, counted
                )
            ).scalar_one()  # fmt: skip
            values = connection.execute(
                select(COMPENSATIONS.c.value).where(COMPENSATIONS.c.created_at >= day_start, counted)
            ).scalars()
            today = sum((Decimal(value) for value in values if value), Decimal("0.00"))
        return {
            "customer_compensations": int(customer), "issued_today": str(today),
            "window_start": window_start.isoformat(), "day_start": day_start.isoformat(),
        }  # fmt: skip

    async def _lookup_tracking(self, command: CommandRun, now: datetime) -> Outcome:
        """Every parcel of the order: a split shipment is judged by its worst parcel, not its first."""
        found = []
        for parcel in command.payload["shipments"]:
            carrier, number = parcel["carrier"], parcel["tracking_number"]
            shipment = await self._services.tracking.track(carrier=carrier, tracking_number=number)
            found.append(
                shipment_facts(shipment)
                if shipment is not None
                else {"carrier": carrier, "tracking_number": number, "status": "unknown"}
            )
        return Outcome(
            result={"statuses": [parcel["status"] for parcel in found]},
            follows=tuple((parcel["carrier"], parcel["tracking_number"]) for parcel in command.payload["shipments"]),
            event_kind="tracking_found",
            event_payload={"shipments": found},
        )

    async def _issue_compensation(self, command: CommandRun, now: datetime) -> Outcome:
        payload = command.payload
        key = payload["compensation_key"]
        record = self._reserved.pop(key, None)
        if record is None:
            self.prepare([command], now)
            record = self._reserved.pop(key)
        if record["status"] == "held":
            held = {"rule": (record["result"] or {}).get("held"), "value": payload.get("value")}
            return Outcome(result=held, event_kind="compensation_held", event_payload=held)
        if record["status"] == "issued":
            earlier = dict(record["result"] or {})
            earlier["already_issued"] = record["conversation_id"] != command.conversation_id
            return Outcome(result=earlier, event_kind="compensation_issued", event_payload=earlier)
        # The alternative chosen is the one recorded first; a later conversation cannot swap it.
        alternative: dict[str, Any] = record["alternative"]
        # Parts already paid by an earlier attempt (points awarded, then the refund call timed out):
        # each part is written down the moment it succeeds and never asked for again.
        done: dict[str, Any] = dict((record["result"] or {}).get("parts", {}))
        parts = self._compensation_parts(alternative, payload)
        for position, (part, pay) in enumerate(parts):
            if part not in done:
                done[part] = await pay()
                if position < len(parts) - 1:
                    self._remember_part(key, done)  # the last part is written with the command's completion
        issued: dict[str, Any] = {"coupons": [], "already_issued": False, "parts": done}
        for part, result in done.items():
            if part == "points":
                issued["points"], issued["points_transaction"] = result["points"], result["transaction_id"]
            elif part == "refund":
                issued["refund"] = result
            else:
                issued["coupons"].append(result)
        return Outcome(
            result=issued, event_kind="compensation_issued", event_payload=issued, issued_compensation_key=key
        )

    def _compensation_parts(
        self, alternative: dict[str, Any], payload: dict[str, Any]
    ) -> list[tuple[str, Callable[[], Awaitable[dict[str, Any]]]]]:
        """Each part of the chosen remedy with the call that pays it, under its own idempotency key."""
        key = payload["compensation_key"]
        customer = payload["customer_id"]
        value = Decimal(str(payload["order_value"]))
        expires = date.fromisoformat(payload["expires_on"])
        # The policy's minimum spend, as the offer stated it; a command written before offers had one has none.
        minimum = Decimal(str(payload["minimum_spend"])) if payload.get("minimum_spend") else None
        points, coupons, refunds = self._services.points, self._services.coupons, self._services.refunds
        parts: list[tuple[str, Callable[[], Awaitable[dict[str, Any]]]]] = []

        def coupon(
            part: str, *, percent_off: int | None, free_shipping: bool, amount_off: Decimal | None,
            minimum_spend: Decimal | None,
        ) -> tuple[str, Callable[[], Awaitable[dict[str, Any]]]]:  # fmt: skip
            async def pay() -> dict[str, Any]:
                made = await coupons.create_coupon(
                    customer_id=customer, percent_off=percent_off, free_shipping=free_shipping, amount_off=amount_off,
                    expires_on=expires, minimum_spend=minimum_spend, idempotency_key=f"{key}:{part}",
                )  # fmt: skip
                return {
                    "code": made.code, "expires_on": made.expires_on.isoformat(), "part": part,
                    # What the shop holds, which is what the customer's code needs, not merely what was asked.
                    "minimum_spend": None if made.minimum_spend is None else str(made.minimum_spend),
                }  # fmt: skip

            return part, pay

        if alternative.get("points"):

            async def award() -> dict[str, Any]:
                given = await points.award_points(
                    customer_id=customer, points=int(alternative["points"]),
                    reason=f"Sorry about order #{payload['order_number']}", idempotency_key=f"{key}:points",
                )  # fmt: skip
                return {"points": given.points, "transaction_id": given.transaction_id}

            parts.append(("points", award))
        # Each coupon carries the minimum the offer told the customer about, and only that one. The offer's
        # words give every coupon, the order-value make-good included, its minimum ("...on orders of 25.00 USD
        # or more"), so that coupon gets it too: a policy that wants none there says so (a row's
        # minimum_spend: 0), the runtime does not overrule it. Upgraded shipping was offered with no minimum
        # in its words ("free upgraded express shipping"), so its voucher gets none.
        if alternative.get("coupon_percent"):
            parts.append(coupon("coupon_percent", percent_off=alternative["coupon_percent"], free_shipping=False,
                                amount_off=None, minimum_spend=minimum))  # fmt: skip
        if alternative.get("free_shipping_coupon"):
            parts.append(coupon("free_shipping_coupon", percent_off=None, free_shipping=True, amount_off=None,
                                minimum_spend=minimum))  # fmt: skip
        if payload.get("upgrade_voucher"):
            # "Free upgraded shipping" for a parcel already on its way applies to the next order.
            parts.append(coupon("upgraded_shipping", percent_off=None, free_shipping=True, amount_off=None,
                                minimum_spend=None))  # fmt: skip
        if alternative.get("coupon_order_value"):
            parts.append(coupon("coupon_order_value", percent_off=None, free_shipping=False, amount_off=value,
                                minimum_spend=minimum))  # fmt: skip
        if alternative.get("refund_percent"):

            async def refund() -> dict[str, Any]:
                amount = (value * int(alternative["refund_percent"]) / 100).quantize(Decimal("0.01"))
                made = await refunds.refund(
                    order_number=payload["order_number"], amount=amount, idempotency_key=f"{key}:refund"
                )
                return {"amount": str(made.amount), "currency": made.currency, "refund_id": made.refund_id}

            parts.append(("refund", refund))
        return parts

    def _remember_part(self, key: str, done: dict[str, Any]) -> None:
        with self._engine.begin() as connection:
            connection.execute(
                update(COMPENSATIONS).where(COMPENSATIONS.c.idempotency_key == key).values(result={"parts": done})
            )

    async def _dispatch(self, command: CommandRun, now: datetime) -> Outcome:
        dispatch = await self._services.dispatches.dispatch(
            order_number=command.payload["order_number"], kind=DispatchKind(command.payload["kind"]),
            idempotency_key=command.payload["dispatch_key"],
        )  # fmt: skip
        facts = {
            "kind": dispatch.kind.value, "carrier": dispatch.carrier, "tracking_number": dispatch.tracking_number,
            "estimated_delivery": dispatch.estimated_delivery.isoformat() if dispatch.estimated_delivery else None,
        }  # fmt: skip
        return Outcome(result=facts, event_kind="dispatched", event_payload=facts,
                       follows=((dispatch.carrier, dispatch.tracking_number),))  # fmt: skip

    async def _escalate(self, command: CommandRun, now: datetime) -> Outcome:
        """Open an escalation, or raise the one already open for this conversation.

        A conversation waits for one person: a later reason (the customer getting angrier) joins the
        open escalation, whose priority and SLA only ever move up. Running this twice changes nothing more.
        """
        payload = command.payload
        sla = timedelta(seconds=payload["sla_seconds"]) if payload.get("sla_seconds") else self._sla
        due = now + sla
        with self._engine.begin() as connection:
            open_one = connection.execute(
                select(ESCALATIONS.c.id, ESCALATIONS.c.reasons, ESCALATIONS.c.priority, ESCALATIONS.c.sla_due_at,
                       ESCALATIONS.c.proposal)
                .where(ESCALATIONS.c.conversation_id == command.conversation_id, ESCALATIONS.c.status == "open")
                .order_by(ESCALATIONS.c.id.desc())
                .limit(1)
            ).first()  # fmt: skip
            if open_one is not None:
                reasons = list(open_one.reasons) + [r for r in payload["reasons"] if r not in open_one.reasons]
                priority = min(open_one.priority, payload["priority"], key=PRIORITIES.index)
                connection.execute(
                    update(ESCALATIONS).where(ESCALATIONS.c.id == open_one.id).values(
                        reasons=reasons, priority=priority, sla_due_at=min(_aware(open_one.sla_due_at), due),
                        proposal=open_one.proposal or payload.get("proposal"),
                    )
                )  # fmt: skip
                return Outcome(result={"reasons": reasons, "priority": priority, "raised": open_one.id})
            row = {
                "idempotency_key": command.idempotency_key, "conversation_id": command.conversation_id,
                "reasons": payload["reasons"], "priority": payload["priority"], "proposal": payload.get("proposal"),
                "status": "open", "sla_due_at": due, "created_at": now,
            }  # fmt: skip
            dialect_insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
            connection.execute(
                dialect_insert(ESCALATIONS).on_conflict_do_nothing(index_elements=["idempotency_key"]), row
            )
        return Outcome(result={"reasons": payload["reasons"], "priority": payload["priority"]})

    async def _resolve_escalations(self, command: CommandRun, now: datetime) -> Outcome:
        with self._engine.begin() as connection:
            resolved = connection.execute(
                update(ESCALATIONS)
                .where(ESCALATIONS.c.conversation_id == command.conversation_id, ESCALATIONS.c.status == "open")
                .values(status="resolved")
            ).rowcount
        return Outcome(result={"resolved": int(resolved or 0)})

    async def _schedule_timeout(self, command: CommandRun, now: datetime) -> Outcome:
        # The command only becomes due when the timer fires; firing is feeding the timeout event back.
        return Outcome(result={"fired_at": now.isoformat()}, event_kind="timeout", event_payload=dict(command.payload))


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive UTC datetimes; PostgreSQL aware ones."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# The agent sees the latest few scans; the whole history stays with the carrier.
CHECKPOINTS_KEPT = 5


def _instant(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _order_key(typed: str) -> str:
    """The order number as shops store it, from what the customer typed: no '#', upper case."""
    return typed.strip().lstrip("#").upper()


def _compensation_row(run: CommandRun, now: datetime) -> dict[str, Any]:
    payload = run.payload
    return {
        "idempotency_key": payload["compensation_key"], "conversation_id": run.conversation_id,
        "order_number": payload["order_number"], "customer_id": payload["customer_id"],
        "situation": payload["situation"], "policy_row": payload["policy_row"],
        "alternative": payload["alternative"], "value": payload.get("value"), "status": "issuing", "result": None,
        "created_at": now,
    }  # fmt: skip


def _order_facts(order: Order) -> dict[str, Any]:
    return {
        "number": order.number, "value": str(order.value), "currency": order.currency,
        "customer_id": order.customer_id, "tier": order.customer_tier.value,
        "placed_on": order.placed_on.isoformat(), "promised_on": order.promised_on.isoformat(),
        "shipments": [{"carrier": s.carrier, "tracking_number": s.tracking_number} for s in order.shipments],
    }  # fmt: skip


def shipment_facts(shipment: Shipment) -> dict[str, Any]:
    """What the flow and the agent see of a parcel: the normalized view, latest checkpoints only."""
    return {
        "carrier": shipment.carrier, "tracking_number": shipment.tracking_number, "status": shipment.status.value,
        "exception": shipment.exception.value if shipment.exception else None,
        "estimated_delivery": shipment.estimated_delivery.isoformat() if shipment.estimated_delivery else None,
        "delivered_on": shipment.delivered_on.isoformat() if shipment.delivered_on else None,
        "last_event": shipment.last_event, "in_customs": shipment.in_customs, "raw_status": shipment.raw_status,
        "checkpoints": [
            {"time": c.time.isoformat() if c.time else None, "message": c.message, "location": c.location}
            for c in shipment.checkpoints[-CHECKPOINTS_KEPT:]
        ],
    }  # fmt: skip
