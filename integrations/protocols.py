"""The narrow seams between dmcare and the outside world.

Each Protocol has a sandbox implementation (integrations/sandbox) and real adapters (integrations/carriers,
orders, loyalty, x); which one serves each role is configuration (integrations/providers.py).
Every call that changes something outside takes an ``idempotency_key``: calling again with the same key
must return the first result and change nothing, so the outbox can retry after a crash.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from integrations.models import (
    Coupon,
    Dispatch,
    DispatchKind,
    NoSuchOrder,
    Order,
    PointsAward,
    Refund,
    SentMessage,
    Shipment,
)


class OrderSystem(Protocol):
    async def find_order(self, number: str) -> Order | NoSuchOrder:
        """The order with this reference as the customer typed it ("#1001", "1001"), or why there is none."""
        ...


class RefundService(Protocol):
    async def refund(self, *, order_number: str, amount: Decimal, idempotency_key: str) -> Refund: ...


class DispatchService(Protocol):
    async def dispatch(self, *, order_number: str, kind: DispatchKind, idempotency_key: str) -> Dispatch:
        """Reship or expedite the order; the result carries the new tracking number."""
        ...


class TrackingService(Protocol):
    async def track(self, *, carrier: str, tracking_number: str) -> Shipment | None:
        """The carrier's current view of the parcel, or None when the carrier does not know it."""
        ...


class PointsProgram(Protocol):
    async def award_points(
        self, *, customer_id: str, points: int, reason: str, idempotency_key: str
    ) -> PointsAward: ...


class CouponIssuer(Protocol):
    async def create_coupon(
        self,
        *,
        customer_id: str,
        percent_off: int | None,
        free_shipping: bool,
        amount_off: Decimal | None,
        expires_on: date,
        minimum_spend: Decimal | None,
        idempotency_key: str,
    ) -> Coupon:
        """A single-use code for this customer, valid until the end of ``expires_on``.

        ``minimum_spend`` is the order subtotal the code needs before it applies; None or 0 is no minimum,
        and the coupon returned says None for both. A negative or non-finite minimum is refused.
        """
        ...


class DirectMessageChannel(Protocol):
    async def send(self, *, recipient_id: str, text: str, idempotency_key: str) -> SentMessage:
        """Deliver one DM. A second call with the same key must not deliver it again.

        A channel whose provider has no idempotency keys (X) raises OutcomeUnknownError when it cannot
        tell whether the DM went out; the caller settles that with ``find_sent`` before sending again.
        """
        ...

    async def find_sent(
        self, *, recipient_id: str, text: str, since: datetime, exclude: frozenset[str] = frozenset()
    ) -> SentMessage | None:
        """The DM with this text sent to ``recipient_id`` at or after ``since``, if one went out.

        ``exclude`` lists message ids already accounted for, so the same words sent twice on purpose
        are not mistaken for each other.
        """
        ...
