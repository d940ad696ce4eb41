"""Sandbox behaviour beyond the Protocol contract: replacement parcels, restarts, failure injection."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from integrations.errors import PermanentIntegrationError, RetryableIntegrationError
from integrations.models import DispatchKind, SentMessage, ShipmentRef, ShipmentStatus
from integrations.sandbox import (
    DEFAULT_DEMO_DATA,
    SandboxLedger,
    SandboxServices,
    SandboxTracking,
    build_sandbox,
    load_demo_data,
)
from tests.integrations.sandbox.check_digits import tracking_format

TODAY = date(2026, 3, 10)

SHOP = """\
shop: {name: Parcel Shop, currency: USD}
customers:
  - {id: c1, x_user_id: "1600000001", handle: ann, name: Ann, tier: regular}
orders:
  - {number: "3001", customer: c1, value: "48.50", placed: today-9, promised: today-2, shipments: [
      {carrier: ups, tracking_number: 1Z5R89390357567127, status: in_transit, estimated_delivery: today+1}]}
  - {number: "3002", customer: c1, value: "30", placed: today-20, promised: today-5, shipments: [
      {carrier: china-post, tracking_number: RB123456785GB, status: exception, exception: lost}]}
  - {number: "3003", customer: c1, value: "30", placed: today-9, promised: today-2, shipments: [
      {carrier: usps, tracking_number: "9400111201080805483016", status: in_transit}]}
  - {number: "3004", customer: c1, value: "30", placed: today-9, promised: today-2, shipments: [
      {carrier: fedex, tracking_number: "986578788855", status: in_transit}]}
  - {number: "3005", customer: c1, value: "30", placed: today-9, promised: today-2, shipments: [
      {carrier: dhl, tracking_number: "3318810025", status: in_transit}]}
  - {number: "3006", customer: c1, value: "30", placed: today-9, promised: today-2, shipments: [
      {carrier: yunexpress, tracking_number: YT2412345678901234, status: in_transit}]}
  - {number: "3007", customer: c1, value: "30", placed: today, promised: today+7, shipments: []}
"""


@pytest.fixture
def shop_file(tmp_path: Path) -> Path:
    path = tmp_path / "shop.yaml"
    path.write_text(SHOP, encoding="utf-8")
    return path


@pytest.fixture
def sandbox(shop_file: Path) -> SandboxServices:
    return build_sandbox(data_path=shop_file, ledger_path=None, today=TODAY)


# -- replacement parcels -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("order_number", "carrier", "number_format"),
    [
        ("3001", "ups", "UPS"),
        ("3002", "china-post", "UPU S10"),
        ("3003", "usps", "USPS IMpb 22"),
        ("3004", "fedex", "FedEx Express 12"),
        ("3005", "dhl", "DHL Express 10"),
        ("3006", "ups", "UPS"),  # a format the sandbox cannot mint: fall back to UPS
        ("3007", "ups", "UPS"),  # nothing shipped yet: fall back to UPS
    ],
)
async def test_a_replacement_has_the_carrier_and_a_valid_number_of_the_first_parcel(
    sandbox: SandboxServices, order_number: str, carrier: str, number_format: str
) -> None:
    dispatch = await sandbox.orders.dispatch(
        order_number=order_number, kind=DispatchKind.RESHIP, idempotency_key=f"reship-{order_number}"
    )

    assert dispatch.carrier == carrier
    assert tracking_format(dispatch.tracking_number) == number_format


async def test_an_s10_replacement_keeps_its_service_and_country(sandbox: SandboxServices) -> None:
    dispatch = await sandbox.orders.dispatch(
        order_number="3002", kind=DispatchKind.RESHIP, idempotency_key="k"
    )

    assert dispatch.tracking_number.startswith("RB")
    assert dispatch.tracking_number.endswith("GB")


@pytest.mark.parametrize(("kind", "days"), [(DispatchKind.RESHIP, 3), (DispatchKind.EXPEDITE, 1)])
async def test_the_carrier_knows_the_replacement_as_a_label_just_created(
    sandbox: SandboxServices, kind: DispatchKind, days: int
) -> None:
    dispatch = await sandbox.orders.dispatch(order_number="3001", kind=kind, idempotency_key="k")

    shipment = await sandbox.tracking.track(
        carrier=dispatch.carrier, tracking_number=dispatch.tracking_number
    )

    assert dispatch.estimated_delivery == TODAY + timedelta(days=days)
    assert shipment is not None
    assert shipment.status is ShipmentStatus.PENDING
    assert shipment.estimated_delivery == TODAY + timedelta(days=days)
    assert shipment.last_event is not None and "label" in shipment.last_event.lower()


async def test_the_order_lists_the_replacement_after_its_original_parcel(sandbox: SandboxServices) -> None:
    dispatch = await sandbox.orders.dispatch(
        order_number="3001", kind=DispatchKind.RESHIP, idempotency_key="k"
    )

    order = await sandbox.orders.find_order("3001")

    assert order is not None
    assert order.shipments == (
        ShipmentRef(carrier="ups", tracking_number="1Z5R89390357567127"),
        ShipmentRef(carrier=dispatch.carrier, tracking_number=dispatch.tracking_number),
    )


async def test_the_same_key_gives_the_same_number_even_without_memory(shop_file: Path) -> None:
    # Derived from the key, not drawn at random: a retry after losing an in-memory ledger still agrees.
    numbers = set()
    for _ in range(2):
        fresh = build_sandbox(data_path=shop_file, ledger_path=None, today=TODAY)
        dispatch = await fresh.orders.dispatch(
            order_number="3001", kind=DispatchKind.RESHIP, idempotency_key="k"
        )
        numbers.add(dispatch.tracking_number)

    assert len(numbers) == 1


# -- refunds, coupons, keys ----------------------------------------------------------------------------


async def test_partial_refunds_may_not_add_up_to_more_than_the_order(sandbox: SandboxServices) -> None:
    await sandbox.orders.refund(order_number="3001", amount=Decimal("30.00"), idempotency_key="r1")

    with pytest.raises(PermanentIntegrationError, match=r"18\.50 USD left"):
        await sandbox.orders.refund(order_number="3001", amount=Decimal("20.00"), idempotency_key="r2")
    last = await sandbox.orders.refund(order_number="3001", amount=Decimal("18.50"), idempotency_key="r3")
    assert last.amount == Decimal("18.50")


async def test_a_key_reused_for_another_kind_of_effect_is_rejected(sandbox: SandboxServices) -> None:
    await sandbox.orders.refund(order_number="3001", amount=Decimal("1"), idempotency_key="shared")

    with pytest.raises(PermanentIntegrationError, match="already used for a refund"):
        await sandbox.orders.dispatch(order_number="3001", kind=DispatchKind.RESHIP, idempotency_key="shared")


async def test_coupon_codes_read_as_an_apology_and_are_stable_per_key(sandbox: SandboxServices) -> None:
    coupon = await sandbox.loyalty.create_coupon(
        customer_id="c1",
        percent_off=10,
        free_shipping=False,
        amount_off=None,
        expires_on=TODAY + timedelta(days=30),
        minimum_spend=None,
        idempotency_key="coupon-for-ticket-7",
    )

    assert coupon.code.startswith("SORRY-")
    assert len(coupon.code) == len("SORRY-") + 6
    other_sandbox = build_sandbox(data_path=DEFAULT_DEMO_DATA, ledger_path=None, today=TODAY)
    again = await other_sandbox.loyalty.create_coupon(
        customer_id="c01",
        percent_off=10,
        free_shipping=False,
        amount_off=None,
        expires_on=TODAY + timedelta(days=30),
        minimum_spend=None,
        idempotency_key="coupon-for-ticket-7",
    )
    assert again.code == coupon.code


async def test_an_already_expired_coupon_is_rejected(sandbox: SandboxServices) -> None:
    with pytest.raises(PermanentIntegrationError, match="expired"):
        await sandbox.loyalty.create_coupon(
            customer_id="c1",
            percent_off=10,
            free_shipping=False,
            amount_off=None,
            expires_on=TODAY - timedelta(days=1),
            minimum_spend=None,
            idempotency_key="late",
        )


# -- tracking ------------------------------------------------------------------------------------------


async def test_tracking_numbers_match_however_the_customer_pastes_them(sandbox: SandboxServices) -> None:
    shipment = await sandbox.tracking.track(carrier="UPS", tracking_number="1z5r 8939 0357 5671 27")

    assert shipment is not None
    assert shipment.tracking_number == "1Z5R89390357567127"


async def test_injected_failures_are_retryable_and_only_hit_their_numbers(shop_file: Path) -> None:
    data = load_demo_data(shop_file, today=TODAY)
    tracking = SandboxTracking(data=data, ledger=SandboxLedger(None), fail_numbers=frozenset({"3318810025"}))

    with pytest.raises(RetryableIntegrationError):
        await tracking.track(carrier="dhl", tracking_number="3318810025")
    assert await tracking.track(carrier="fedex", tracking_number="986578788855") is not None


# -- direct messages -----------------------------------------------------------------------------------


async def test_each_dm_reaches_the_terminal_once(shop_file: Path) -> None:
    printed: list[SentMessage] = []
    sandbox = build_sandbox(data_path=shop_file, ledger_path=None, today=TODAY, on_delivered=printed.append)

    await sandbox.channel.send(recipient_id="1600000001", text="Hello", idempotency_key="dm-1")
    await sandbox.channel.send(recipient_id="1600000001", text="Hello", idempotency_key="dm-1")

    assert [m.text for m in printed] == ["Hello"]
    assert sandbox.channel.delivered == printed


@pytest.mark.parametrize("recipient_id", ["@ann", "", "16000x"])
async def test_a_dm_to_something_that_is_not_an_x_user_id_is_rejected(
    sandbox: SandboxServices, recipient_id: str
) -> None:
    with pytest.raises(PermanentIntegrationError):
        await sandbox.channel.send(recipient_id=recipient_id, text="Hello", idempotency_key="k")
    assert sandbox.channel.delivered == []


# -- restarts ------------------------------------------------------------------------------------------


async def test_a_restarted_sandbox_answers_retries_without_repeating_them(
    shop_file: Path, tmp_path: Path
) -> None:
    ledger_path = tmp_path / "ledger.jsonl"
    printed: list[SentMessage] = []
    first = build_sandbox(
        data_path=shop_file, ledger_path=ledger_path, today=TODAY, on_delivered=printed.append
    )
    sent = await first.channel.send(recipient_id="1600000001", text="Sorry!", idempotency_key="dm-1")
    refund = await first.orders.refund(
        order_number="3001", amount=Decimal("48.50"), idempotency_key="refund-1"
    )
    dispatch = await first.orders.dispatch(
        order_number="3001", kind=DispatchKind.RESHIP, idempotency_key="ship-1"
    )
    points = await first.loyalty.award_points(
        customer_id="c1", points=100, reason="late", idempotency_key="pts-1"
    )

    # The process is killed; `make run` starts again on the same ledger and the outbox retries everything.
    second = build_sandbox(
        data_path=shop_file, ledger_path=ledger_path, today=TODAY, on_delivered=printed.append
    )

    assert await second.channel.send(recipient_id="1600000001", text="Sorry!", idempotency_key="dm-1") == sent
    assert printed == [sent]  # not printed a second time
    assert second.channel.delivered == [sent]
    assert (
        await second.orders.refund(order_number="3001", amount=Decimal("48.50"), idempotency_key="refund-1")
        == refund
    )
    assert (
        await second.orders.dispatch(order_number="3001", kind=DispatchKind.RESHIP, idempotency_key="ship-1")
        == dispatch
    )
    assert (
        await second.loyalty.award_points(
            customer_id="c1", points=100, reason="late", idempotency_key="pts-1"
        )
        == points
    )
    assert await second.tracking.track(carrier=dispatch.carrier, tracking_number=dispatch.tracking_number)
    assert len(second.ledger) == 4


async def test_refunds_made_before_a_restart_still_count(shop_file: Path, tmp_path: Path) -> None:
    ledger_path = tmp_path / "ledger.jsonl"
    first = build_sandbox(data_path=shop_file, ledger_path=ledger_path, today=TODAY)
    await first.orders.refund(order_number="3001", amount=Decimal("48.50"), idempotency_key="refund-1")

    second = build_sandbox(data_path=shop_file, ledger_path=ledger_path, today=TODAY)

    with pytest.raises(PermanentIntegrationError, match="exceeds"):
        await second.orders.refund(order_number="3001", amount=Decimal("1"), idempotency_key="refund-2")
