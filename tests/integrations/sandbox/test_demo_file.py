"""The bundled demo shop loads and still covers every support case the bot must handle.

Each case is checked by what the bot will compute (delay = (delivered or estimated) - promised, the
exception, the tier, the value), so an edit to demo.yaml that quietly breaks a case fails here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pytest

from integrations.models import Customer, ExceptionReason, Order, Shipment, ShipmentStatus, Tier
from integrations.sandbox import DEFAULT_DEMO_DATA, DemoData, load_demo_data
from tests.integrations.sandbox.check_digits import tracking_format

HIGH_VALUE = 500


@dataclass(frozen=True)
class Case:
    handle: str  # the customer who writes to the bot
    order_number: str
    holds: Callable[[Customer, Order, Shipment, int | None], bool]  # (asker, order, parcel, delay)


def _late(
    low: int, high: int, tier: Tier | None = None
) -> Callable[[Customer, Order, Shipment, int | None], bool]:
    def holds(customer: Customer, order: Order, parcel: Shipment, delay: int | None) -> bool:
        return (
            parcel.exception is None
            and parcel.status is not ShipmentStatus.DELIVERED
            and delay is not None
            and low <= delay <= high
            and (tier is None or customer.tier is tier)
            and order.value < HIGH_VALUE
        )

    return holds


CASES = {
    "on time": Case(
        "emma_rdz",
        "1001",
        lambda c, o, p, d: (
            p.status is ShipmentStatus.IN_TRANSIT and p.exception is None and d is not None and d <= 0
        ),
    ),
    "late 1-3 days, new customer": Case("liam_oc", "1002", _late(1, 3, Tier.NEW)),
    "late 1-3 days, regular customer": Case("sofia_mts", "1003", _late(1, 3, Tier.REGULAR)),
    "late 1-3 days, VIP": Case("wangfang_sh", "1004", _late(1, 3, Tier.VIP)),
    "late 4-7 days": Case("noah_becker", "1005", _late(4, 7)),
    "late over 7 days": Case("lina_88", "1006", _late(8, 10_000)),
    "customs hold": Case(
        "olivia_park", "1007", lambda c, o, p, d: p.exception is ExceptionReason.CUSTOMS_HOLD and (d or 0) > 0
    ),
    "lost": Case("zhangwei_bj", "1008", lambda c, o, p, d: p.exception is ExceptionReason.LOST),
    "damaged": Case(
        "ava_j",
        "1009",
        lambda c, o, p, d: p.status is ShipmentStatus.DELIVERED and p.exception is ExceptionReason.DAMAGED,
    ),
    "cannot ship": Case(
        "chenjie_sz",
        "1010",
        lambda c, o, p, d: p.status is ShipmentStatus.PENDING and p.exception is ExceptionReason.UNSHIPPABLE,
    ),
    "high value": Case("lucas_weber", "1011", lambda c, o, p, d: o.value >= HIGH_VALUE and (d or 0) > 0),
    "someone else's order": Case("jack_t", "1012", lambda c, o, p, d: o.owner_x_user_id != c.x_user_id),
}

TODAYS = [date(2026, 3, 10), date(2027, 12, 31)]  # relative dates must keep the cases on any day


def _delay(order: Order, parcel: Shipment, today: date) -> int | None:
    reference = parcel.delivered_on or parcel.estimated_delivery
    if reference is None:  # no estimate: late by as long as the promise is overdue
        return max(0, (today - order.promised_on).days)
    return (reference - order.promised_on).days


@pytest.fixture(params=TODAYS, ids=str)
def demo(request: pytest.FixtureRequest) -> DemoData:
    return load_demo_data(DEFAULT_DEMO_DATA, today=request.param)


@pytest.mark.parametrize("name", CASES)
def test_demo_covers_the_case(demo: DemoData, name: str) -> None:
    case = CASES[name]
    asker = next((c for c in demo.customers.values() if c.handle == case.handle), None)
    order = demo.order(case.order_number)
    assert asker is not None, f"{name}: no customer @{case.handle}"
    assert order is not None, f"{name}: no order {case.order_number}"
    parcel = demo.shipment(order.shipments[0].tracking_number)
    assert parcel is not None

    assert case.holds(asker, order, parcel, _delay(order, parcel, demo.today)), name


def test_every_case_has_its_own_customer_and_order() -> None:
    handles = [case.handle for case in CASES.values()]
    orders = [case.order_number for case in CASES.values()]
    assert len(set(handles)) == len(handles)
    assert len(set(orders)) == len(orders)


def test_each_case_customer_asks_about_their_own_order_except_the_ownership_case(demo: DemoData) -> None:
    for name, case in CASES.items():
        order = demo.order(case.order_number)
        asker = next(c for c in demo.customers.values() if c.handle == case.handle)
        assert order is not None
        owns = order.owner_x_user_id == asker.x_user_id
        assert owns is (name != "someone else's order"), name


def test_only_the_high_value_case_is_high_value(demo: DemoData) -> None:
    # Otherwise the "late" cases would be escalated for their value and never reach compensation.
    high = [o.number for o in demo.orders.values() if o.value >= HIGH_VALUE]
    assert high == [CASES["high value"].order_number]


def test_every_demo_tracking_number_has_a_valid_check_digit(demo: DemoData) -> None:
    invalid = [number for number in demo.shipments if tracking_format(number) is None]
    assert invalid == []


def test_ids_look_like_the_real_ones(demo: DemoData) -> None:
    assert demo.shop.currency == "USD"
    assert all(o.currency == "USD" for o in demo.orders.values())
    assert all(re.fullmatch(r"\d{4,5}", number) for number in demo.orders)
    assert all(re.fullmatch(r"15\d{8}", c.x_user_id) for c in demo.customers.values())
    assert any(re.search(r"[\u4e00-\u9fff]", c.name) for c in demo.customers.values())
