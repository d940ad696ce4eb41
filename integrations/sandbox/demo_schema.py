"""The schema of the demo-data file: one pydantic model per YAML mapping, unknown keys refused.

Field validators raise ValueError with a message that quotes the offending value, because the loader
prints it after the field path for a person editing YAML by hand. Dates are resolved while validating,
so validation needs ``context={"today": date}``.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    model_validator,
)

from integrations.models import ExceptionReason, ShipmentStatus, Tier
from integrations.sandbox.demo_dates import parse_demo_date
from integrations.sandbox.matching import tracking_key

__all__ = ["CustomerSpec", "OrderSpec", "ShipmentSpec", "ShopSpec"]


def _scalar_as_text(value: object) -> object:
    # The loader keeps numbers as text, but a caller's own dict may say `number: 1001`: an identifier.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _stripped_nonempty(value: str) -> str:
    text = value.strip()
    if not text:
        raise ValueError("must not be empty")
    return text


def _identifier(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", value):
        raise ValueError(f"{value!r} is not an identifier (letters, digits, '_', '.', '-')")
    return value


def _currency(value: str) -> str:
    if not re.fullmatch(r"[A-Z]{3}", value):
        raise ValueError(f"{value!r} is not an ISO 4217 currency code such as USD")
    return value


def _time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not an IANA time zone such as Asia/Shanghai") from None
    return value


def _x_user_id(value: str) -> str:
    # X user ids are 64-bit integers sent as strings; the DM sender's id is how ownership is checked.
    if not re.fullmatch(r"[1-9][0-9]{0,19}", value):
        raise ValueError(f'{value!r} is not an X user id (a number such as "1500000001")')
    return value


def _x_handle(value: str) -> str:
    handle = value.removeprefix("@")
    if not re.fullmatch(r"[A-Za-z0-9_]{1,15}", handle):
        raise ValueError(f"{value!r} is not an X handle (1-15 letters, digits or '_')")
    return handle


def _order_number(value: str) -> str:
    number = value.strip().removeprefix("#").strip()
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9-]{0,31}", number):
        raise ValueError(f'{value!r} is not an order number such as "1001"')
    return number


def _tracking_number(value: str) -> str:
    number = tracking_key(value)
    if not re.fullmatch(r"[A-Z0-9]{8,40}", number):
        raise ValueError(f"{value!r} is not a tracking number (8-40 letters and digits)")
    return number


def _money(value: object) -> Decimal:
    # The loader hands amounts over as text; a float from a caller's own dict goes through str() so that
    # 24.99 stays 24.99 rather than 24.989999999999998.
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ValueError(f"{value!r} is not an amount such as 24.99")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"{value!r} is not an amount such as 24.99") from None
    if not amount.is_finite() or amount <= 0:
        raise ValueError(f"{value!r} must be a positive amount")
    return amount


def _demo_date(value: object, info: ValidationInfo) -> date:
    context = info.context
    if not isinstance(context, dict) or not isinstance(context.get("today"), date):
        raise RuntimeError("demo-data validation needs context={'today': date}")
    return parse_demo_date(value, today=context["today"])


Text = Annotated[str, AfterValidator(_stripped_nonempty)]
Identifier = Annotated[str, BeforeValidator(_scalar_as_text), AfterValidator(_identifier)]
CurrencyCode = Annotated[str, AfterValidator(_currency)]
XUserId = Annotated[str, BeforeValidator(_scalar_as_text), AfterValidator(_x_user_id)]
XHandle = Annotated[str, AfterValidator(_x_handle)]
OrderNumber = Annotated[str, BeforeValidator(_scalar_as_text), AfterValidator(_order_number)]
TrackingNumber = Annotated[str, BeforeValidator(_scalar_as_text), AfterValidator(_tracking_number)]
Money = Annotated[Decimal, BeforeValidator(_money)]
DemoDate = Annotated[date, BeforeValidator(_demo_date)]

_SPEC = ConfigDict(extra="forbid", frozen=True)


class ShopSpec(BaseModel):
    model_config = _SPEC

    name: Text
    currency: CurrencyCode
    timezone: Annotated[str, AfterValidator(_time_zone)] = "UTC"


class CustomerSpec(BaseModel):
    model_config = _SPEC

    id: Identifier
    x_user_id: XUserId
    handle: XHandle
    name: Text
    tier: Tier


class ShipmentSpec(BaseModel):
    model_config = _SPEC

    carrier: Annotated[Text, AfterValidator(str.lower)]
    tracking_number: TrackingNumber
    status: ShipmentStatus
    exception: ExceptionReason | None = None
    estimated_delivery: DemoDate | None = None
    delivered: DemoDate | None = None
    last_event: Text | None = None

    @model_validator(mode="after")
    def _status_agrees_with_dates(self) -> Self:
        # Delay is counted from the delivery date when there is one, so the two must not contradict.
        if self.status is ShipmentStatus.DELIVERED and self.delivered is None:
            raise ValueError("status is delivered but no 'delivered' date is given")
        if self.status is not ShipmentStatus.DELIVERED and self.delivered is not None:
            raise ValueError(f"a 'delivered' date is given but status is {self.status.value}")
        if self.status is ShipmentStatus.EXCEPTION and self.exception is None:
            raise ValueError("status is exception but no 'exception' reason is given")
        return self


class OrderSpec(BaseModel):
    model_config = _SPEC

    number: OrderNumber
    customer: Identifier
    value: Money
    currency: CurrencyCode | None = None  # the shop's currency when omitted
    placed: DemoDate
    promised: DemoDate
    shipments: list[ShipmentSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _promise_after_purchase(self) -> Self:
        if self.promised < self.placed:
            raise ValueError(f"promised ({self.promised}) is before placed ({self.placed})")
        return self
