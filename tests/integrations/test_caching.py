"""The caches in front of real providers: repeated and concurrent lookups cost one provider call."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import pytest

from integrations.caching import CachedOrders, CachedTracking
from integrations.errors import RetryableIntegrationError
from integrations.models import NoSuchOrder, Order, Shipment, ShipmentStatus, Tier


@dataclass
class CountingCarrier:
    """A carrier that answers after a pause and counts what it was asked."""

    known: dict[str, Shipment] = field(default_factory=dict)
    calls: int = 0
    fail: bool = False

    async def track(self, *, carrier: str, tracking_number: str) -> Shipment | None:
        self.calls += 1
        await asyncio.sleep(0.01)
        if self.fail:
            raise RetryableIntegrationError("down", service="carrier")
        return self.known.get(tracking_number)


def parcel(number: str, status: ShipmentStatus = ShipmentStatus.IN_TRANSIT) -> Shipment:
    return Shipment(carrier="ups", tracking_number=number, status=status)


async def test_concurrent_lookups_of_one_parcel_are_one_call() -> None:
    carrier = CountingCarrier(known={"1Z1": parcel("1Z1")})
    cached = CachedTracking(inner=carrier, ttl=60)

    answers = await asyncio.gather(*(cached.track(carrier="UPS", tracking_number="1Z1") for _ in range(30)))

    assert carrier.calls == 1
    assert {answer.tracking_number for answer in answers if answer} == {"1Z1"}


async def test_a_parcel_typed_differently_is_the_same_parcel() -> None:
    carrier = CountingCarrier(known={"1Z1": parcel("1Z1")})
    cached = CachedTracking(inner=carrier, ttl=60)

    await cached.track(carrier="ups", tracking_number="1Z1")
    await cached.track(carrier="UPS Ground", tracking_number=" 1z1 ")

    assert carrier.calls == 1


async def test_an_unknown_parcel_is_asked_again_sooner_than_a_known_one() -> None:
    carrier = CountingCarrier()
    cached = CachedTracking(inner=carrier, ttl=60, empty_ttl=0)

    assert await cached.track(carrier="ups", tracking_number="NEW1") is None
    carrier.known["NEW1"] = parcel("NEW1")
    assert await cached.track(carrier="ups", tracking_number="NEW1") is not None
    assert carrier.calls == 2


async def test_failures_are_not_cached() -> None:
    carrier = CountingCarrier(known={"1Z1": parcel("1Z1")}, fail=True)
    cached = CachedTracking(inner=carrier, ttl=60)

    with pytest.raises(RetryableIntegrationError):
        await cached.track(carrier="ups", tracking_number="1Z1")
    carrier.fail = False
    assert await cached.track(carrier="ups", tracking_number="1Z1") is not None
    assert carrier.calls == 2


async def test_a_push_replaces_the_cached_view() -> None:
    carrier = CountingCarrier(known={"1Z1": parcel("1Z1")})
    cached = CachedTracking(inner=carrier, ttl=60)
    await cached.track(carrier="ups", tracking_number="1Z1")

    cached.prime(parcel("1Z1", ShipmentStatus.DELIVERED))

    seen = await cached.track(carrier="ups", tracking_number="1Z1")
    assert seen is not None and seen.status is ShipmentStatus.DELIVERED
    assert carrier.calls == 1


@dataclass
class CountingShop:
    calls: int = 0

    async def find_order(self, number: str) -> Order | NoSuchOrder:
        self.calls += 1
        await asyncio.sleep(0.01)
        if number.strip().lstrip("#").strip() != "1001":
            return NoSuchOrder(number=number, visible_since=date(2026, 9, 1))
        return Order(number="1001", value=Decimal("10"), currency="USD", customer_id="c",
                     owner_x_user_id="1", customer_tier=Tier.NEW, placed_on=date(2026, 11, 1),
                     promised_on=date(2026, 11, 10))  # fmt: skip


async def test_orders_typed_differently_are_one_lookup() -> None:
    shop = CountingShop()
    cached = CachedOrders(inner=shop, ttl=30)

    answers = await asyncio.gather(cached.find_order("#1001"), cached.find_order("1001"), cached.find_order("# 1001"))

    assert shop.calls == 1
    assert all(isinstance(answer, Order) for answer in answers)


async def test_not_found_keeps_the_number_as_each_customer_typed_it() -> None:
    cached = CachedOrders(inner=CountingShop(), ttl=30)

    first = await cached.find_order("#4711")
    second = await cached.find_order("4711")

    assert isinstance(first, NoSuchOrder) and isinstance(second, NoSuchOrder)
    assert (first.number, second.number) == ("#4711", "4711")
    assert second.visible_since == date(2026, 9, 1)
