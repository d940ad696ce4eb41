"""The normalized model's own rules: lateness in whole days, and what a "not found" proves."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from integrations.models import NoSuchOrder, Order, Shipment, ShipmentStatus, Tier, delay_days

PROMISED = date(2026, 11, 20)


@pytest.mark.parametrize(
    ("delivered_on", "estimated", "today", "late"),
    [
        (date(2026, 11, 23), None, date(2026, 11, 30), 3),  # delivered: the delivery date counts, not today
        (date(2026, 11, 18), None, date(2026, 11, 30), 0),  # early is on time, never negative
        (None, date(2026, 11, 26), date(2026, 11, 21), 6),  # on its way: the estimate counts
        (None, date(2026, 11, 22), date(2026, 11, 25), 5),  # an estimate already past is broken: today counts
        (None, None, date(2026, 11, 24), 4),  # no estimate: late by however long the promise has passed
        (None, None, date(2026, 11, 19), 0),  # no estimate, promise still ahead
        (date(2026, 11, 21), date(2026, 11, 30), date(2026, 12, 5), 1),  # delivered beats any estimate
    ],
)
def test_delay_in_days_against_the_promised_date(
    delivered_on: date | None, estimated: date | None, today: date, late: int
) -> None:
    assert delay_days(promised_on=PROMISED, delivered_on=delivered_on, estimated=estimated, today=today) == late
    shipment = Shipment(carrier="ups", tracking_number="1Z", status=ShipmentStatus.IN_TRANSIT,
                        delivered_on=delivered_on, estimated_delivery=estimated)  # fmt: skip
    assert shipment.delay_days(promised_on=PROMISED, today=today) == late


def test_a_search_of_every_order_rules_an_order_out() -> None:
    assert NoSuchOrder(number="1001").rules_out()


def test_a_search_of_recent_orders_rules_out_only_recent_ones() -> None:
    absent = NoSuchOrder(number="1001", visible_since=date(2026, 9, 24))

    assert not absent.rules_out()  # the order's date is unknown: it may be older
    assert not absent.rules_out(date(2026, 8, 1))
    assert absent.rules_out(date(2026, 10, 1))


@pytest.mark.parametrize(("owner", "sender", "owned"), [("42", "42", True), ("42", "43", False), (None, "42", False)])
def test_an_order_belongs_only_to_the_x_account_on_file(owner: str | None, sender: str, owned: bool) -> None:
    order = Order(number="1001", value=Decimal("10"), currency="USD", customer_id="c",
                  owner_x_user_id=owner, customer_tier=Tier.NEW, placed_on=PROMISED, promised_on=PROMISED)  # fmt: skip
    assert order.belongs_to(sender) is owned
