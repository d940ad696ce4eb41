"""How late or how bad a case is, and the best offer the shop's policy grants for it.

Pure functions of the order facts, the carrier's view, the policy data in the flow document and the
customer's history as the executor read it at lookup time (``History``, carried in the event).

The offer is the matching row's, whole and in its order (the best alternative first), for every customer
the row covers: the tier picks the row; the order value sets the amounts and whether the bot may offer it
alone (``bot_approval_limit``); the history never changes the offer, up or down. A customer compensated
recently gets the row's offer like anyone else; one at the cap, or an offer the day's budget cannot cover,
goes to a person with the offer as the proposal. Pushing back never raises it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from flows.schema import Alternative, Policy, PolicyRow
from integrations.models import delay_days

# Situations the compensation policy knows, by the carrier's exception reason (integrations.models).
CUSTOMS_REASONS = frozenset({"customs_hold", "documents_required", "payment_due"})
SITUATION_BY_EXCEPTION = {
    "lost": "lost", "destroyed": "lost", "damaged": "damaged", "unshippable": "unshippable",
    # Not lateness a voucher can make up for: the parcel needs someone to act on it.
    "address_issue": "parcel_problem", "returning": "parcel_problem", "returned": "parcel_problem",
    "refused": "parcel_problem", "not_collected": "parcel_problem", "cancelled": "parcel_problem",
    "rejected_by_carrier": "parcel_problem", "recipient_unavailable": "parcel_problem", "other": "parcel_problem",
}  # fmt: skip
# Delays (carrier_delay, weather_delay) are lateness like any other: counted in days against the promise.

CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Assessment:
    situation: str  # late|customs|lost|damaged|unshippable|parcel_problem|on_time|not_shipped|delivered
    delay_days: int
    expected_on: date | None  # the carrier's estimate or the delivery date, when known


def assess(*, promised_on: date, shipment: dict[str, Any] | None, today: date) -> Assessment:
    """Delay = (delivered or estimated date, or today once the promise has passed) - promised date."""
    if shipment is None:
        delay = max(0, (today - promised_on).days)
        return Assessment(situation="late" if delay else "not_shipped", delay_days=delay, expected_on=None)
    exception = shipment.get("exception")
    delivered_on = _date(shipment.get("delivered_on"))
    estimated = _date(shipment.get("estimated_delivery"))
    if delivered_on is not None:
        expected: date | None = delivered_on
    elif estimated is not None:
        expected = max(estimated, today)  # an estimate in the past is already broken
    else:
        expected = today if today > promised_on else None
    delay = delay_days(promised_on=promised_on, delivered_on=delivered_on, estimated=estimated, today=today)
    if exception in SITUATION_BY_EXCEPTION:
        return Assessment(situation=SITUATION_BY_EXCEPTION[exception], delay_days=delay, expected_on=expected)
    if exception in CUSTOMS_REASONS or shipment.get("in_customs"):
        return Assessment(situation="customs", delay_days=delay, expected_on=expected)
    if delay > 0:
        return Assessment(situation="late", delay_days=delay, expected_on=expected)
    situation = "delivered" if delivered_on is not None else "on_time"
    return Assessment(situation=situation, delay_days=0, expected_on=expected)


def matching_row(policy: Policy, *, situation: str, delay_days: int, tier: str) -> PolicyRow | None:
    """The first row for this situation, delay and tier; customs counts as late only once it is late."""
    for row in policy.rows:
        if situation not in row.situations or tier not in row.tiers:
            continue
        if situation in ("late", "customs") and not row.delay_days.contains(delay_days):
            continue
        if situation in ("late", "customs") and delay_days <= 0:
            continue
        return row
    return None


def alternative_value(alternative: Alternative, *, order_value: Decimal, point_value: Decimal) -> Decimal:
    """What the remedy costs the shop in store currency, to compare with the bot's limits.

    Percent and free-shipping coupons and upgraded shipping count as nothing: what they cost depends on
    an order not yet placed.
    """
    value = Decimal(0)
    if alternative.points:
        value += point_value * alternative.points
    if alternative.refund_percent:
        value += order_value * alternative.refund_percent / 100
    if alternative.coupon_order_value or alternative.reship:
        value += order_value
    return value.quantize(CENT)


@dataclass(frozen=True, slots=True)
class History:
    """What the shop already gave, read by the executor when the order was looked up."""

    customer_compensations: int = 0  # this customer's, over the cap's window
    issued_today: Decimal = Decimal(0)  # every customer's, in store currency, the shop's calendar day

    @classmethod
    def from_json(cls, data: Any) -> History:
        if not isinstance(data, dict):
            return cls()
        return cls(
            customer_compensations=int(data.get("customer_compensations", 0)),
            issued_today=Decimal(str(data.get("issued_today", "0"))),
        )


@dataclass(frozen=True, slots=True)
class Verdict:
    """The row's offer for this order, what each alternative costs, and which limits it runs into."""

    row: PolicyRow
    values: tuple[Decimal, ...]  # per alternative, in the row's order
    needs_approval: bool  # an alternative is worth more than the bot may give alone
    over_customer_cap: bool  # the customer already had the cap's number of compensations in its window
    over_daily_budget: bool  # today's issued total plus the most this offer can cost exceeds the budget

    @property
    def value(self) -> Decimal:
        """The most the offer can cost: the customer may pick any alternative."""
        return max(self.values)


def judge(policy: Policy, row: PolicyRow, *, order_value: Decimal, history: History) -> Verdict:
    values = tuple(
        alternative_value(alternative, order_value=order_value, point_value=policy.point_value)
        for alternative in row.offer
    )
    most = max(values)
    cap, budget = policy.limits.customer_cap, policy.limits.daily_budget
    return Verdict(
        row=row,
        values=values,
        needs_approval=most > policy.bot_approval_limit,
        over_customer_cap=cap is not None and history.customer_compensations >= cap.compensations,
        over_daily_budget=budget is not None and history.issued_today + most > budget,
    )


def expires_on(policy: Policy, today: date, row: PolicyRow | None = None) -> date:
    """The coupons' last valid day: the row's expiry when it sets one, else the policy's."""
    days = row.coupon_expiry_days if row is not None and row.coupon_expiry_days else policy.coupon_expiry_days
    return today + timedelta(days=days)


def minimum_spend(policy: Policy, row: PolicyRow | None = None) -> Decimal | None:
    """The coupons' minimum order value, or None for none: the row's when it sets one, else the policy's."""
    minimum = row.minimum_spend if row is not None and row.minimum_spend is not None else policy.minimum_spend
    return minimum if minimum else None


def _date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def compensation_key(order_number: str, situation: str) -> str:
    """One compensation per order and situation: a late parcel later lost is a new case, asking again is not."""
    return f"compensation:{order_number}:{situation}"
