"""The same bot on real providers: settings switch every role from the sandbox to Shopify, AfterShip and
Smile, here fake servers speaking their wire formats over real HTTP (tests/fakes).

A customer writes about a late order; Shopify knows the order and its parcel, AfterShip its delay, Smile
pays the points (finding the customer by the e-mail Shopify holds), and one compensation per order holds
across conversations. When the carrier stays down, the customer is told so and a person takes over.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.settings import Settings
from integrations.caching import CachedOrders, CachedTracking
from integrations.loyalty.shopify_coupons import ShopifyCoupons
from integrations.loyalty.smile import SmilePoints
from tests.fakes.aftership import FakeAfterShip, FakeCheckpoint, FakeParcel
from tests.fakes.shopify import FakeShopify
from tests.fakes.smile import FakeSmile, SmileCustomer
from tests.harness import Bot, make_bot
from tests.integrations.x.sandbox.server import serve

TODAY = date(2026, 11, 23)  # the harness clock's day
CUSTOMER_X_ID = "1600000001"
PARCEL = "1Z5R89390357567127"


@dataclass
class Shop:
    bot: Bot
    shopify: FakeShopify
    aftership: FakeAfterShip
    smile: FakeSmile


@pytest.fixture
async def shop(tmp_path: Path) -> AsyncIterator[Shop]:
    shopify = FakeShopify(access_token="shpat_test", today=TODAY)
    buyer = shopify.add_customer(x_user_id=CUSTOMER_X_ID, email="ada@example.com")
    # Placed 16 days ago with the default 14-day promise: due two days ago, and still on its way.
    shopify.add_order(name="#1002", customer=buyer, total="40.00", placed_on=TODAY - timedelta(days=16),
                      tracking=(("UPS", PARCEL),))  # fmt: skip
    scan = FakeCheckpoint(time="2026-11-22T08:00:00-05:00", message="Arrival scan", subtag="InTransit_003")
    aftership = FakeAfterShip(
        parcels=[FakeParcel(tracking_number=PARCEL, tag="InTransit", checkpoints=(scan,), estimated_delivery=TODAY)]
    )
    smile = FakeSmile(customers=[SmileCustomer(id=304169228, email="ada@example.com")])
    async with serve(shopify.app) as shopify_url, serve(aftership.app) as aftership_url, serve(smile.app) as smile_url:
        bot = make_bot(
            tmp_path,
            orders_provider="shopify", coupons_provider="shopify", tracking_provider="aftership",
            points_provider="smile", shopify_base_url=shopify_url, shopify_access_token="shpat_test",
            aftership_base_url=aftership_url, aftership_api_key=aftership.api_key,
            smile_base_url=f"{smile_url}/v1", smile_api_key=smile.api_key, provider_timeout_seconds=2,
        )  # fmt: skip
        try:
            yield Shop(bot=bot, shopify=shopify, aftership=aftership, smile=smile)
        finally:
            await bot.app.aclose()


async def test_settings_put_the_real_adapters_in_every_role(shop: Shop) -> None:
    services = shop.bot.app.services
    assert isinstance(services.orders, CachedOrders)
    assert isinstance(services.tracking, CachedTracking)
    assert isinstance(services.points, SmilePoints)
    assert isinstance(services.coupons, ShopifyCoupons)


async def test_a_late_order_is_compensated_through_the_real_providers_once(shop: Shop) -> None:
    bot = shop.bot
    await bot.send(CUSTOMER_X_ID, "my package is late")
    offer = await bot.send(CUSTOMER_X_ID, "order #1002")
    assert any("2 days late" in text and "300 points" in text for text in offer), offer

    paid = await bot.send(CUSTOMER_X_ID, "yes please")

    assert any("300 points are now in your account" in text for text in paid), paid
    [transaction] = shop.smile.transactions(customer_id=304169228)
    assert transaction["points_change"] == 300
    assert shop.aftership.calls["POST /trackings"] == 1

    # Asking again in a new conversation pays nothing more.
    await bot.send(CUSTOMER_X_ID, "5")
    assert bot.conversation(CUSTOMER_X_ID)["state"] == "closed"
    await bot.send(CUSTOMER_X_ID, "hi again, my order #1002 is still late")
    assert bot.conversation(CUSTOMER_X_ID)["state"] == "human"
    assert len(shop.smile.transactions(customer_id=304169228)) == 1


async def test_someone_elses_order_reveals_nothing(shop: Shop) -> None:
    said = await shop.bot.send("1600000999", "where is order #1002?")

    assert not any(PARCEL in text or "40.00" in text for text in said)
    assert shop.bot.conversation("1600000999")["state"] == "human"
    assert ["ownership_mismatch"] in [row["reasons"] for row in shop.bot.escalations()]


async def test_a_carrier_that_stays_down_gets_an_honest_word_and_a_person(shop: Shop) -> None:
    bot = shop.bot
    shop.aftership.fail_next("503", times=1000)
    await bot.send(CUSTOMER_X_ID, "my package is late")
    said = await bot.send(CUSTOMER_X_ID, "order #1002")
    for _ in range(10):  # the lookup is retried with backoff until the customer's patience runs out
        if bot.conversation(CUSTOMER_X_ID)["state"] == "human":
            break
        said += await bot.wait(seconds=20)

    assert bot.conversation(CUSTOMER_X_ID)["state"] == "human"
    assert any("trouble reaching" in text for text in said), said
    assert ["lookup_failed"] in [row["reasons"] for row in bot.escalations()]
    assert not any("Traceback" in text or "503" in text for text in said)


async def test_no_key_token_or_email_reaches_the_logs(shop: Shop, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    shop.aftership.fail_next("503", times=1)  # a retry, so the failure paths log too

    await shop.bot.send(CUSTOMER_X_ID, "my package is late, order #1002")
    await shop.bot.send(CUSTOMER_X_ID, "yes please")

    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert logged, "the retry above is logged"
    for secret in ("shpat_test", shop.aftership.api_key, shop.smile.api_key, "ada@example.com"):
        assert secret not in logged


def test_settings_name_a_missing_key_and_never_print_the_given_ones() -> None:
    given = Settings(tracking_provider="aftership", aftership_api_key="as_key_7f3a")
    assert "as_key_7f3a" not in repr(given) and "as_key_7f3a" not in str(given)

    with pytest.raises(ValidationError) as refused:
        Settings(points_provider="smile", tracking_provider="aftership", aftership_api_key="as_key_7f3a")

    assert "DMCARE_SMILE_API_KEY" in str(refused.value)
    assert "as_key_7f3a" not in str(refused.value)
