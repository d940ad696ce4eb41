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
    PENDING = "pending"  # label created or order not yet handed to the carrier
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    EXCEPTION = "exception"  # see ExceptionReason
    UNKNOWN = "unknown"  # the carrier has no information


class ExceptionReason(StrEnum):
    CUSTOMS_HOLD = "customs_hold"
    DOCUMENTS_REQUIRED = "documents_required"
    ADDRESS_ISSUE = "address_issue"
    CARRIER_DELAY = "carrier_delay"
    LOST = "lost"
    DAMAGED = "damaged"
    RETURNED = "returned"
    UNSHIPPABLE = "unshippable"  # the shop cannot ship it at all (out of stock, restricted destination)


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
    owner_x_user_id: str
    customer_tier: Tier
    placed_on: date
    promised_on: date
    shipments: tuple[ShipmentRef, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Shipment:
    carrier: str
    tracking_number: str
    status: ShipmentStatus
    exception: ExceptionReason | None = None
    estimated_delivery: date | None = None
    delivered_on: date | None = None
    last_event: str | None = None


@dataclass(frozen=True, kw_only=True)
class Coupon:
    code: str
    percent_off: int | None  # None for a free-shipping or fixed-amount coupon
    free_shipping: bool
    amount_off: Decimal | None
    expires_on: date


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
