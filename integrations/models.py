"""The normalized model every integration speaks, whatever the provider.

Adapters translate provider payloads into these frozen values at their boundary; the engine and the
flow only ever see these. Money is a Decimal in the store's currency; dates are calendar dates in the
shop's time zone, because lateness is counted in whole days against a promised date.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum


class Tier(StrEnum):
    """Loyalty tier, which picks the row of the compensation table."""

    NEW = "new"
    REGULAR = "regular"
    VIP = "vip"


class ShipmentStatus(StrEnum):
    """Where the parcel is, in the few words every carrier API can be mapped onto (tables in integrations/carriers)."""

    PENDING = "pending"  # label created or info received: not yet in the carrier's hands
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    AVAILABLE_FOR_PICKUP = "available_for_pickup"  # waiting at a pickup point or locker
    DELIVERY_ATTEMPTED = "delivery_attempted"  # a failed attempt; the carrier will try again
    DELIVERED = "delivered"
    EXCEPTION = "exception"  # see ExceptionReason
    EXPIRED = "expired"  # the provider stopped tracking: no news for weeks
    UNKNOWN = "unknown"  # the carrier has no information (yet)


class ExceptionReason(StrEnum):
    """Why a parcel is not simply on its way; set for EXCEPTION and DELIVERY_ATTEMPTED, and for delays."""

    CUSTOMS_HOLD = "customs_hold"
    DOCUMENTS_REQUIRED = "documents_required"  # customs wants papers (ID, invoice) before it releases it
    PAYMENT_DUE = "payment_due"  # duties, taxes or cash on delivery to pay
    ADDRESS_ISSUE = "address_issue"
    RECIPIENT_UNAVAILABLE = "recipient_unavailable"
    REFUSED = "refused"
    NOT_COLLECTED = "not_collected"  # left at a pickup point too long
    CARRIER_DELAY = "carrier_delay"  # processing, misroute, late flight, generic delay
    WEATHER_DELAY = "weather_delay"
    LOST = "lost"
    DAMAGED = "damaged"
    DESTROYED = "destroyed"  # disposed of, e.g. by customs
    RETURNING = "returning"  # on its way back to the shop
    RETURNED = "returned"  # back at the shop
    CANCELLED = "cancelled"
    REJECTED_BY_CARRIER = "rejected_by_carrier"  # did not meet the carrier's rules
    UNSHIPPABLE = "unshippable"  # the shop cannot ship it at all (out of stock, restricted destination)
    OTHER = "other"


@dataclass(frozen=True, kw_only=True)
class Customer:
    customer_id: str
    x_user_id: str
    handle: str
    name: str
    tier: Tier


@dataclass(frozen=True, kw_only=True)
class ShipmentRef:
    """What an order knows about one of its parcels: enough to ask the carrier."""

    carrier: str
    tracking_number: str


@dataclass(frozen=True, kw_only=True)
class Order:
    number: str
    value: Decimal
    currency: str
    customer_id: str
    # The X account the shop has on file for the buyer; None when it has none, which proves nothing:
    # the bot then treats the order as not the sender's and reveals nothing about it.
    owner_x_user_id: str | None
    customer_tier: Tier
    placed_on: date
    promised_on: date
    shipments: tuple[ShipmentRef, ...] = ()

    def belongs_to(self, x_user_id: str) -> bool:
        return self.owner_x_user_id is not None and self.owner_x_user_id == x_user_id


@dataclass(frozen=True, kw_only=True)
class NoSuchOrder:
    """The order system found no order with this reference.

    ``visible_since`` says how far back it could look: Shopify shows only the last 60 days of orders to
    an app without ``read_all_orders``, so an empty answer about an older order is no proof of absence.
    None means every order was searched.
    """

    number: str
    visible_since: date | None = None

    def rules_out(self, placed_on: date | None = None) -> bool:
        """Whether the search was conclusive (for an order placed on ``placed_on``, when known)."""
        if self.visible_since is None:
            return True
        return placed_on is not None and placed_on >= self.visible_since


@dataclass(frozen=True, kw_only=True)
class Checkpoint:
    """One scan or event the carrier reported, oldest first in ``Shipment.checkpoints``."""

    time: datetime | None  # aware when the carrier gave an offset or UTC; carriers report local times
    message: str
    location: str | None = None
    status: ShipmentStatus | None = None
    raw_code: str | None = None  # the provider's own code (AfterShip subtag, 17TRACK sub_status, ...)


@dataclass(frozen=True, kw_only=True)
class Shipment:
    carrier: str
    tracking_number: str
    status: ShipmentStatus
    exception: ExceptionReason | None = None
    estimated_delivery: date | None = None
    delivered_on: date | None = None
    last_event: str | None = None
    in_customs: bool = False  # with customs right now; informational, not a problem by itself
    checkpoints: tuple[Checkpoint, ...] = ()
    raw_status: str | None = None  # the provider's own status code, for the agent's eyes

    def delay_days(self, *, promised_on: date, today: date) -> int:
        """Whole days later than promised: see ``delay_days``."""
        return delay_days(
            promised_on=promised_on, delivered_on=self.delivered_on, estimated=self.estimated_delivery, today=today
        )


def delay_days(*, promised_on: date, delivered_on: date | None, estimated: date | None, today: date) -> int:
    """Whole days between the promised date and the delivery: the actual one, else the estimate.

    An estimate already in the past is broken, so it counts as today; with no estimate the parcel is
    late by however long the promise has passed. Never negative: early is on time.
    """
    if delivered_on is not None:
        expected = delivered_on
    elif estimated is not None:
        expected = max(estimated, today)
    else:
        expected = today
    return max(0, (expected - promised_on).days)


@dataclass(frozen=True, kw_only=True)
class Coupon:
    code: str
    percent_off: int | None  # None for a free-shipping or fixed-amount coupon
    free_shipping: bool
    amount_off: Decimal | None
    expires_on: date
    # The order subtotal, in the store's currency, the code needs before it applies; None: no minimum.
    # Never 0: zero means no minimum, so it is kept as None and "none" has one spelling.
    minimum_spend: Decimal | None


def coupon_request_problem(
    percent_off: int | None,
    free_shipping: bool,
    amount_off: Decimal | None,
    expires_on: date,
    *,
    minimum_spend: Decimal | None,
    today: date,
) -> str | None:
    """Why any shop would refuse a coupon asked for like this, or None when it is acceptable.

    A ``minimum_spend`` of 0 is accepted and means none (see ``no_minimum_as_none``).
    """
    if percent_off is None and amount_off is None and not free_shipping:
        return "a coupon needs a percentage, an amount or free shipping"
    if percent_off is not None and not 1 <= percent_off <= 100:
        return f"percent_off must be within 1..100, got {percent_off}"
    if amount_off is not None and (not amount_off.is_finite() or amount_off <= 0):
        return f"amount_off must be positive, got {amount_off}"
    # is_finite first: comparing a NaN raises InvalidOperation, and Infinity would pass as "0 or more".
    if minimum_spend is not None and (not minimum_spend.is_finite() or minimum_spend < 0):
        return f"minimum_spend must be 0 or more, got {minimum_spend}"
    if expires_on < today:
        return f"the coupon would already be expired ({expires_on} is before {today})"
    return None


def no_minimum_as_none(minimum_spend: Decimal | None) -> Decimal | None:
    """A coupon's minimum as ``Coupon`` keeps it: 0 (the policy's "none") becomes None."""
    return minimum_spend if minimum_spend else None


@dataclass(frozen=True, kw_only=True)
class PointsAward:
    transaction_id: str
    points: int


@dataclass(frozen=True, kw_only=True)
class Refund:
    refund_id: str
    amount: Decimal
    currency: str


class DispatchKind(StrEnum):
    RESHIP = "reship"  # send a replacement parcel
    EXPEDITE = "expedite"  # upgrade the shipping of a parcel not yet handed over


@dataclass(frozen=True, kw_only=True)
class Dispatch:
    kind: DispatchKind
    carrier: str
    tracking_number: str
    estimated_delivery: date | None = None


@dataclass(frozen=True, kw_only=True)
class SentMessage:
    message_id: str
    recipient_id: str
    text: str
    idempotency_key: str
    meta: dict[str, str] = field(default_factory=dict)
    rate_limit: RateLimit | None = None  # what the channel's rate-limit headers said after this send


@dataclass(frozen=True, kw_only=True)
class RateLimit:
    """A provider's own count of what is left, from its response headers (X: ``x-rate-limit-*``)."""

    limit: int
    remaining: int
    reset_at: datetime  # aware UTC: when ``remaining`` goes back to ``limit``
