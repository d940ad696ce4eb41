"""Loading demo data: relative dates, and errors that name the file and the field to fix."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from integrations.models import ExceptionReason, ShipmentStatus, Tier
from integrations.sandbox import DemoDataError, load_demo_data
from integrations.sandbox.demo_dates import parse_demo_date

TODAY = date(2026, 3, 10)

Document = dict[str, Any]


def _valid_document() -> Document:
    return {
        "shop": {"name": "Test Shop", "currency": "USD"},
        "customers": [
            {"id": "c1", "x_user_id": "1500000001", "handle": "@ann", "name": "Ann", "tier": "new"},
            {"id": "c2", "x_user_id": "1500000002", "handle": "bo", "name": "王芳", "tier": "vip"},
        ],
        "orders": [
            {
                "number": "1001",
                "customer": "c1",
                "value": "24.99",
                "currency": "USD",
                "placed": "today-10",
                "promised": "today-3",
                "shipments": [
                    {
                        "carrier": "UPS",
                        "tracking_number": "1Z5R89390357567127",
                        "status": "in_transit",
                        "estimated_delivery": "today+2",
                        "last_event": "Departed facility",
                    }
                ],
            },
            {
                "number": "1002",
                "customer": "c2",
                "value": 80,
                "placed": "2026-03-01",
                "promised": "2026-03-08",
                "shipments": [
                    {
                        "carrier": "dhl",
                        "tracking_number": "3318810025",
                        "status": "delivered",
                        "exception": "damaged",
                        "delivered": "today-1",
                    }
                ],
            },
        ],
    }


def _write(tmp_path: Path, document: object) -> Path:
    path = tmp_path / "demo.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _broken(change: Callable[[Document], None]) -> Document:
    document = _valid_document()
    change(document)
    return document


# -- dates ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("today", date(2026, 3, 10)),
        ("today-3", date(2026, 3, 7)),
        ("today+10", date(2026, 3, 20)),
        ("Today - 10", date(2026, 2, 28)),  # across a month end
        ("2026-03-05", date(2026, 3, 5)),
    ],
)
def test_demo_dates_are_absolute_or_relative_to_today(text: str, expected: date) -> None:
    assert parse_demo_date(text, today=TODAY) == expected


@pytest.mark.parametrize("text", ["tomorow", "today+", "today*2", "05/03/2026", "2026-02-30", "", "today+1d"])
def test_anything_else_is_not_a_demo_date(text: str) -> None:
    with pytest.raises(ValueError, match=r"use YYYY-MM-DD or today±N"):
        parse_demo_date(text, today=TODAY)


def test_loader_resolves_relative_dates_against_the_given_day(tmp_path: Path) -> None:
    data = load_demo_data(_write(tmp_path, _valid_document()), today=TODAY)

    late = data.order("1001")
    assert late is not None
    assert (late.placed_on, late.promised_on) == (date(2026, 2, 28), date(2026, 3, 7))
    parcel = data.shipment("1Z5R89390357567127")
    assert parcel is not None
    assert parcel.estimated_delivery == date(2026, 3, 12)


def test_loader_reads_the_fields_it_documents(tmp_path: Path) -> None:
    data = load_demo_data(_write(tmp_path, _valid_document()), today=TODAY)

    assert data.today == TODAY
    assert (data.shop.name, data.shop.currency, data.shop.timezone) == ("Test Shop", "USD", "UTC")
    ann = data.customers["c1"]
    assert (ann.x_user_id, ann.handle, ann.tier) == ("1500000001", "ann", Tier.NEW)  # "@" dropped
    other = data.order("1002")
    assert other is not None
    assert (other.value, other.currency, other.customer_tier, other.owner_x_user_id) == (
        Decimal("80"),
        "USD",
        Tier.VIP,
        "1500000002",
    )
    damaged = data.shipment("3318810025")
    assert damaged is not None
    assert (damaged.status, damaged.delivered_on, damaged.exception) == (
        ShipmentStatus.DELIVERED,
        date(2026, 3, 9),
        ExceptionReason.DAMAGED,
    )
    assert data.shipments["1Z5R89390357567127"].carrier == "ups"  # carrier slugs are lower case


def test_unquoted_yaml_numbers_and_amounts_keep_their_digits(tmp_path: Path) -> None:
    path = tmp_path / "demo.yaml"
    path.write_text(
        "shop: {name: S, currency: USD}\n"
        "customers: [{id: c1, x_user_id: 1500000001, handle: a, name: A, tier: new}]\n"
        "orders: [{number: 1001, customer: c1, value: 48.50, placed: 2026-03-01, promised: today,\n"
        "  shipments: [{carrier: dhl, tracking_number: 0123456701, status: pending}]}]\n",
        encoding="utf-8",
    )

    data = load_demo_data(path, today=TODAY)

    order = data.order("1001")
    assert order is not None
    assert str(order.value) == "48.50"  # not the float 48.5
    assert order.owner_x_user_id == "1500000001"
    assert order.placed_on == date(2026, 3, 1)
    assert order.shipments[0].tracking_number == "0123456701"  # not the octal integer 0123456701


# -- errors --------------------------------------------------------------------------------------------


def _set(path: str, value: object) -> Callable[[Document], None]:
    """A change that sets document[a][0][b]... = value, written like 'orders.0.promised'."""

    def change(document: Document) -> None:
        *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
        target: Any = document
        for part in parents:
            target = target[part]
        target[last] = value

    return change


def _delete(path: str) -> Callable[[Document], None]:
    def change(document: Document) -> None:
        *parents, last = path.split(".")
        target: Any = document
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        del target[last]

    return change


def _append_copy(section: str, index: int, **changes: object) -> Callable[[Document], None]:
    def change(document: Document) -> None:
        item = copy.deepcopy(document[section][index])
        item.update(changes)
        document[section].append(item)

    return change


BROKEN = [
    pytest.param(
        _set("orders.1.promised", "tomorow"),
        "orders[1].promised: 'tomorow' is not a date (use YYYY-MM-DD or today±N)",
        id="bad-date",
    ),
    pytest.param(
        _set("orders.0.placed", "2026-02-30"),
        "orders[0].placed: '2026-02-30' is not a date on the calendar",
        id="impossible-date",
    ),
    pytest.param(
        _set("customers.1.tier", "gold"),
        "customers[1].tier: Input should be 'new', 'regular' or 'vip', got 'gold'",
        id="bad-tier",
    ),
    pytest.param(
        _set("orders.0.customer", "c99"), "orders[0].customer: unknown customer 'c99'", id="unknown-customer"
    ),
    pytest.param(
        _append_copy("orders", 0, number="#1001", shipments=[]),
        "orders[2].number: duplicate order number '1001' (first at orders[0].number)",
        id="duplicate-order",
    ),
    pytest.param(
        _append_copy("orders", 0, number="1003"),
        "orders[2].shipments[0].tracking_number: duplicate tracking number '1Z5R89390357567127' "
        "(first at orders[0].shipments[0].tracking_number)",
        id="duplicate-tracking",
    ),
    pytest.param(
        _append_copy("customers", 0, id="c3", handle="cy"),
        "customers[2].x_user_id: duplicate x_user_id '1500000001' (first at customers[0].x_user_id)",
        id="duplicate-x-user",
    ),
    pytest.param(_set("orders.0.colour", "red"), "orders[0].colour: unknown field", id="unknown-field"),
    pytest.param(_delete("customers.0.x_user_id"), "customers[0].x_user_id: is required", id="missing-field"),
    pytest.param(
        _set("customers.0.x_user_id", "@ann"),
        "customers[0].x_user_id: '@ann' is not an X user id",
        id="bad-x-user-id",
    ),
    pytest.param(
        _set("orders.0.value", "-5"), "orders[0].value: '-5' must be a positive amount", id="bad-value"
    ),
    pytest.param(
        _set("orders.0.currency", "EUR"),
        "orders[0].currency: 'EUR' differs from the shop currency 'USD'",
        id="foreign-currency",
    ),
    pytest.param(
        _set("shop.currency", "usd"),
        "shop.currency: 'usd' is not an ISO 4217 currency code",
        id="bad-currency",
    ),
    pytest.param(
        _set("shop.timezone", "Mars/Olympus"),
        "shop.timezone: 'Mars/Olympus' is not an IANA time zone",
        id="bad-timezone",
    ),
    pytest.param(
        _set("orders.0.promised", "today-20"),
        "orders[0]: promised (2026-02-18) is before placed (2026-02-28)",
        id="promise-before-purchase",
    ),
    pytest.param(
        _delete("orders.1.shipments.0.delivered"),
        "orders[1].shipments[0]: status is delivered but no 'delivered' date is given",
        id="delivered-without-date",
    ),
    pytest.param(
        _set("orders.0.shipments.0.status", "exception"),
        "orders[0].shipments[0]: status is exception but no 'exception' reason is given",
        id="exception-without-reason",
    ),
    pytest.param(
        _set("orders.0.shipments.0.exception", "stolen"),
        "orders[0].shipments[0].exception: Input should be",
        id="bad-exception",
    ),
    pytest.param(_set("warehouses", []), "warehouses: unknown section", id="unknown-section"),
    pytest.param(_delete("shop"), "shop: is required", id="missing-shop"),
    pytest.param(_set("orders", {"1001": {}}), "orders: must be a list", id="orders-not-a-list"),
]


@pytest.mark.parametrize(("change", "expected"), BROKEN)
def test_each_problem_names_the_file_and_the_field(
    tmp_path: Path, change: Callable[[Document], None], expected: str
) -> None:
    path = _write(tmp_path, _broken(change))

    with pytest.raises(DemoDataError) as raised:
        load_demo_data(path, today=TODAY)

    (problem,) = raised.value.problems  # exactly one, and it is this one
    assert problem.startswith(expected)
    assert str(raised.value).startswith(f"{path}: {expected}")


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    def three_problems(document: Document) -> None:
        document["customers"][0]["tier"] = "gold"  # invalid, yet still known: orders[0] is no orphan
        document["customers"][1]["handle"] = "not a handle"
        document["orders"][1]["customer"] = "c404"
        document["orders"][0]["promised"] = "someday"

    with pytest.raises(DemoDataError) as raised:
        load_demo_data(_write(tmp_path, _broken(three_problems)), today=TODAY)

    where = [problem.split(":")[0] for problem in raised.value.problems]
    assert where == ["customers[0].tier", "customers[1].handle", "orders[0].promised", "orders[1].customer"]
    assert len(str(raised.value).splitlines()) == 4


def test_the_exact_message_for_a_bad_date(tmp_path: Path) -> None:
    path = _write(tmp_path, _broken(_set("orders.1.promised", "tomorow")))

    with pytest.raises(DemoDataError) as raised:
        load_demo_data(path, today=TODAY)

    assert (
        str(raised.value)
        == f"{path}: orders[1].promised: 'tomorow' is not a date (use YYYY-MM-DD or today±N)"
    )


def test_a_file_that_is_not_yaml_is_reported_with_its_name(tmp_path: Path) -> None:
    path = tmp_path / "shop.yaml"
    path.write_text("shop: {name: [unclosed\n", encoding="utf-8")

    with pytest.raises(DemoDataError, match=r"shop\.yaml: not valid YAML"):
        load_demo_data(path, today=TODAY)


def test_a_missing_file_is_reported_with_its_name(tmp_path: Path) -> None:
    with pytest.raises(DemoDataError, match=r"nowhere\.yaml: cannot read the file"):
        load_demo_data(tmp_path / "nowhere.yaml", today=TODAY)


def test_demo_data_error_is_a_value_error() -> None:
    assert issubclass(DemoDataError, ValueError)
