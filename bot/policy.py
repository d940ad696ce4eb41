"""How late or how bad a case is, and the best offer the shop's policy grants for it.

Pure functions of the order facts, the carrier's view and the policy data in the flow document.
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
    """What the remedy costs the shop in store currency, to compare with the bot's approval limit."""
    value = Decimal(0)
    if alternative.points:
        value += point_value * alternative.points
    if alternative.refund_percent:
        value += order_value * alternative.refund_percent / 100
    if alternative.coupon_order_value or alternative.reship:
        value += order_value
    return value


def expires_on(policy: Policy, today: date) -> date:
    return today + timedelta(days=policy.coupon_expiry_days)


def _date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))
