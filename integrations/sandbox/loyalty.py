"""The sandbox loyalty program: points and coupons, each issued once per idempotency key."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Final

from pydantic import TypeAdapter

from integrations.errors import PermanentIntegrationError
from integrations.models import Coupon, PointsAward, coupon_request_problem, no_minimum_as_none
from integrations.sandbox.demo_data import DemoData
from integrations.sandbox.idempotency import previous_result, record_result, token_from_key
from integrations.sandbox.ledger import SandboxLedger

__all__ = ["COUPON", "POINTS", "SandboxLoyalty"]

SERVICE: Final = "sandbox-loyalty"
POINTS: Final = "points"
COUPON: Final = "coupon"

_AWARDS = TypeAdapter(PointsAward)
_COUPONS = TypeAdapter(Coupon)


class SandboxLoyalty:
    """PointsProgram and CouponIssuer for the demo customers; an unknown customer is refused as a real program would."""

    def __init__(self, *, data: DemoData, ledger: SandboxLedger) -> None:
        self._data = data
        self._ledger = ledger

    async def award_points(
        self, *, customer_id: str, points: int, reason: str, idempotency_key: str
    ) -> PointsAward:
        previous = previous_result(self._ledger, key=idempotency_key, kind=POINTS, service=SERVICE)
        if previous is not None:
            return _AWARDS.validate_python(previous)
        self._require_customer(customer_id)
        if points <= 0:
            raise PermanentIntegrationError(f"points must be positive, got {points}", service=SERVICE)
        award = PointsAward(
            transaction_id="pts_" + token_from_key(idempotency_key, purpose=POINTS, length=12).lower(),
            points=points,
        )
        record_result(
            self._ledger,
            key=idempotency_key,
            kind=POINTS,
            request={"customer_id": customer_id, "points": points, "reason": reason},
            result=_AWARDS.dump_python(award, mode="json"),
        )
        return award

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
        previous = previous_result(self._ledger, key=idempotency_key, kind=COUPON, service=SERVICE)
        if previous is not None:
            # A ledger written before coupons had minimums holds none: those coupons were made without one.
            return _COUPONS.validate_python({"minimum_spend": None, **previous})
        self._require_customer(customer_id)
        problem = coupon_request_problem(
            percent_off, free_shipping, amount_off, expires_on, minimum_spend=minimum_spend, today=self._data.today
        )
        if problem is not None:
            raise PermanentIntegrationError(problem, service=SERVICE)
        coupon = Coupon(
            code="SORRY-" + token_from_key(idempotency_key, purpose=COUPON, length=6),
            percent_off=percent_off,
            free_shipping=free_shipping,
            amount_off=amount_off,
            expires_on=expires_on,
            minimum_spend=no_minimum_as_none(minimum_spend),
        )
        record_result(
            self._ledger,
            key=idempotency_key,
            kind=COUPON,
            request={"customer_id": customer_id},
            result=_COUPONS.dump_python(coupon, mode="json"),
        )
        return coupon

    def _require_customer(self, customer_id: str) -> None:
        if customer_id not in self._data.customers:
            raise PermanentIntegrationError(f"no loyalty member {customer_id!r}", service=SERVICE)
