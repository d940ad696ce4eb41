"""The sandbox order system: the demo shop's orders, plus the refunds and dispatches made since."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Final

from pydantic import TypeAdapter

from integrations.errors import PermanentIntegrationError
from integrations.models import Dispatch, DispatchKind, NoSuchOrder, Order, Refund, ShipmentRef
from integrations.sandbox.demo_data import DemoData
from integrations.sandbox.idempotency import previous_result, record_result, token_from_key
from integrations.sandbox.ledger import LedgerIndex, LedgerRecord, SandboxLedger
from integrations.sandbox.matching import order_key, tracking_key
from integrations.sandbox.tracking_numbers import mint_like, mint_ups

__all__ = ["DISPATCH", "REFUND", "SandboxOrders", "dispatches_by_tracking_number"]

SERVICE: Final = "sandbox-orders"
REFUND: Final = "refund"
DISPATCH: Final = "dispatch"

_FALLBACK_CARRIER: Final = "ups"
_DAYS_TO_DELIVER: Final = {DispatchKind.RESHIP: 3, DispatchKind.EXPEDITE: 1}

_REFUNDS = TypeAdapter(Refund)
_DISPATCHES = TypeAdapter(Dispatch)


def _dispatch(record: LedgerRecord) -> Dispatch:
    return _DISPATCHES.validate_python(record["payload"]["result"])


def _refund(record: LedgerRecord) -> Refund:
    return _REFUNDS.validate_python(record["payload"]["result"])


def _for_order(record: LedgerRecord) -> str:
    order_number: str = record["payload"]["request"]["order_number"]
    return order_number


def dispatches_by_tracking_number(ledger: SandboxLedger) -> LedgerIndex[Dispatch]:
    """The replacement parcels the sandbox has sent, by tracking number (one per number)."""
    return LedgerIndex(
        ledger, kind=DISPATCH, group_by=lambda r: _dispatch(r).tracking_number, value=_dispatch
    )


class SandboxOrders:
    """OrderSystem, RefundService and DispatchService over a demo shop.

    Refunds and dispatches live in the ledger, so they survive restarts.
    """

    def __init__(self, *, data: DemoData, ledger: SandboxLedger) -> None:
        self._data = data
        self._ledger = ledger
        self._refunds = LedgerIndex(ledger, kind=REFUND, group_by=_for_order, value=_refund)
        self._dispatches = LedgerIndex(ledger, kind=DISPATCH, group_by=_for_order, value=_dispatch)
        self._dispatched_numbers = dispatches_by_tracking_number(ledger)

    async def find_order(self, number: str) -> Order | NoSuchOrder:
        order = self._data.order(number)
        if order is None:
            return NoSuchOrder(number=number)  # the demo shop knows all its orders
        dispatched = tuple(
            ShipmentRef(carrier=d.carrier, tracking_number=d.tracking_number)
            for d in self._dispatches.get(order_key(order.number))
        )
        return replace(order, shipments=order.shipments + dispatched) if dispatched else order

    async def refund(self, *, order_number: str, amount: Decimal, idempotency_key: str) -> Refund:
        previous = previous_result(self._ledger, key=idempotency_key, kind=REFUND, service=SERVICE)
        if previous is not None:
            return _REFUNDS.validate_python(previous)
        order = self._existing(order_number)
        # Like Shopify, refunds may be partial but never exceed what is left to refund.
        refundable = order.value - sum(
            (r.amount for r in self._refunds.get(order_key(order.number))), Decimal(0)
        )
        if not amount.is_finite() or amount <= 0:
            raise PermanentIntegrationError(f"refund amount must be positive, got {amount}", service=SERVICE)
        if amount > refundable:
            raise PermanentIntegrationError(
                f"refund of {amount} {order.currency} exceeds the {refundable} {order.currency} "
                f"left to refund on order {order.number}",
                service=SERVICE,
            )
        refund = Refund(
            refund_id="re_" + token_from_key(idempotency_key, purpose=REFUND, length=12).lower(),
            amount=amount,
            currency=order.currency,
        )
        record_result(
            self._ledger,
            key=idempotency_key,
            kind=REFUND,
            request={"order_number": order_key(order.number), "amount": str(amount)},
            result=_REFUNDS.dump_python(refund, mode="json"),
        )
        return refund

    async def dispatch(self, *, order_number: str, kind: DispatchKind, idempotency_key: str) -> Dispatch:
        previous = previous_result(self._ledger, key=idempotency_key, kind=DISPATCH, service=SERVICE)
        if previous is not None:
            return _DISPATCHES.validate_python(previous)
        order = self._existing(order_number)
        carrier, tracking_number = self._new_parcel(order, seed=idempotency_key)
        dispatch = Dispatch(
            kind=kind,
            carrier=carrier,
            tracking_number=tracking_number,
            estimated_delivery=self._data.today + timedelta(days=_DAYS_TO_DELIVER[kind]),
        )
        record_result(
            self._ledger,
            key=idempotency_key,
            kind=DISPATCH,
            request={"order_number": order_key(order.number), "kind": kind.value},
            result=_DISPATCHES.dump_python(dispatch, mode="json"),
        )
        return dispatch

    def _existing(self, order_number: str) -> Order:
        order = self._data.order(order_number)
        if order is None:
            raise PermanentIntegrationError(f"no order {order_number!r}", service=SERVICE)
        return order

    def _new_parcel(self, order: Order, *, seed: str) -> tuple[str, str]:
        """Carrier and tracking number of the replacement: same carrier and format as the first parcel."""
        for attempt in range(100):
            salted = (
                seed if attempt == 0 else f"{seed}#{attempt}"
            )  # a collision is improbable, not impossible
            first = order.shipments[0] if order.shipments else None
            number = mint_like(first.tracking_number, seed=salted) if first else None
            carrier = first.carrier if first and number else _FALLBACK_CARRIER
            number = number or mint_ups(seed=salted)
            taken = self._data.shipment(number) is not None or self._dispatched_numbers.get(
                tracking_key(number)
            )
            if not taken:
                return carrier, number
        raise PermanentIntegrationError("could not mint an unused tracking number", service=SERVICE)
