"""ShopifyOrders and ShopifyAdmin against FakeShopify over real HTTP: lookups, refunds, Shopify's failures.

The contract suite (test_protocols.py) covers what every OrderSystem and RefundService promises; these
tests cover what is Shopify's own: order names, tiers from tags, the 60-day window, GraphQL errors.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from integrations.errors import (
    OutcomeUnknownError,
    PermanentIntegrationError,
    RateLimitedError,
    RetryableIntegrationError,
)
from integrations.http import ProviderHttp, RetryPolicy
from integrations.models import NoSuchOrder, Order, ShipmentRef, Tier
from integrations.orders.shopify import ShopifyOrders, TierRule, carrier_name, order_reference
from integrations.orders.shopify_admin import ShopifyAdmin
from tests.fakes.shopify import FakeShopify
from tests.integrations.conftest import TODAY
from tests.integrations.orders.harness_shopify import FAST, TOKEN, UNKNOWN_CUSTOMER, contract_shop, shopify_admin
from tests.integrations.x.sandbox.server import serve

OWNER = "1700000001"


async def find(fake: FakeShopify, typed: str, **options: object) -> Order | NoSuchOrder:
    async with shopify_admin(fake) as admin:
        orders = ShopifyOrders(admin=admin, today=lambda: TODAY, **options)
        return await orders.find_order(typed)


async def found(fake: FakeShopify, typed: str, **options: object) -> Order:
    order = await find(fake, typed, **options)
    assert isinstance(order, Order), order
    return order


# -- finding orders ------------------------------------------------------------------------------------


async def test_an_order_carries_its_value_currency_owner_tier_dates_and_parcels() -> None:
    fake = FakeShopify(access_token=TOKEN, today=TODAY)
    buyer = fake.add_customer(tags=("VIP", "newsletter"), x_user_id=OWNER)
    fake.add_order(
        name="#1001",
        customer=buyer,
        total="129.90",
        currency="EUR",
        placed_on=date(2026, 3, 1),
        tracking=(("UPS", "1Z5R89390357567127"), ("DHL Express", "JD014600003828479785"), ("USPS", None)),
    )

    order = await found(fake, "1001")

    assert (order.number, order.value, order.currency) == ("1001", Decimal("129.90"), "EUR")
    assert order.customer_id == buyer.id
    assert order.owner_x_user_id == OWNER
    assert order.customer_tier is Tier.VIP
    assert (order.placed_on, order.promised_on) == (date(2026, 3, 1), date(2026, 3, 15))  # 14 days by default
    assert order.shipments == (  # a tracking entry without a number cannot be tracked: left out
        ShipmentRef(carrier="ups", tracking_number="1Z5R89390357567127"),
        ShipmentRef(carrier="dhl", tracking_number="JD014600003828479785"),
    )


async def test_the_promised_date_comes_from_the_order_metafield_when_the_shop_keeps_one() -> None:
    fake = FakeShopify(access_token=TOKEN, today=TODAY)
    fake.add_order(name="#1001", placed_on=date(2026, 3, 1), promised_on="2026-03-05")

    assert (await found(fake, "1001")).promised_on == date(2026, 3, 5)
    assert (await found(fake, "1001", promise_days=3)).promised_on == date(2026, 3, 5)


async def test_without_a_metafield_the_promise_is_the_order_date_plus_promise_days() -> None:
    fake = FakeShopify(access_token=TOKEN, today=TODAY)
    fake.add_order(name="#1001", placed_on=date(2026, 3, 1))

    assert (await found(fake, "1001", promise_days=5)).promised_on == date(2026, 3, 6)


async def test_the_order_date_is_the_shops_calendar_date() -> None:
    fake = FakeShopify(access_token=TOKEN, today=TODAY, timezone="America/Los_Angeles")
    fake.add_order(name="#1001", created_at=datetime(2026, 3, 1, 3, 0, tzinfo=UTC))  # 7 pm on Feb 28 in LA

    assert (await found(fake, "1001")).placed_on == date(2026, 2, 28)


@pytest.mark.parametrize("typed", ["#2001", " 2001 ", "# 2001", "2001", "＃２００１"])
async def test_an_order_is_found_however_the_customer_types_its_number(typed: str) -> None:
    fake, _ = contract_shop()

    assert (await found(fake, typed)).number == "2001"


async def test_an_order_of_a_shop_with_a_prefix_is_found_by_its_full_name() -> None:
    fake = FakeShopify(access_token=TOKEN, today=TODAY)
    fake.add_order(name="SHOP-1002")

    assert (await found(fake, "shop-1002")).number == "SHOP-1002"
    assert (await found(fake, "#SHOP-1002")).number == "SHOP-1002"


async def test_a_bare_number_is_found_under_the_shops_configured_prefixes() -> None:
    fake = FakeShopify(access_token=TOKEN, today=TODAY)
    fake.add_order(name="SHOP-1002")

    assert isinstance(await find(fake, "1002"), NoSuchOrder)
    assert (await found(fake, "1002", order_prefixes=("SHOP-",))).number == "SHOP-1002"


async def test_only_the_exact_name_matches() -> None:
    fake = FakeShopify(access_token=TOKEN, today=TODAY)
    fake.add_order(name="#10010")

    assert isinstance(await find(fake, "1001"), NoSuchOrder)


async def test_text_that_cannot_be_an_order_name_is_not_sent_to_shopify() -> None:
    fake, _ = contract_shop()

    absent = await find(fake, "2001 OR name:#2002")

    assert absent == NoSuchOrder(number="2001 OR name:#2002")
    assert fake.operations["FindOrder"] == 0


async def test_someone_elses_order_does_not_belong_to_the_sender() -> None:
    fake, _ = contract_shop()

    order = await found(fake, "2001")

    assert order.belongs_to(OWNER)
    assert not order.belongs_to("1700000002")


async def test_a_customer_without_an_x_account_owns_nothing_we_can_show() -> None:
    fake = FakeShopify(access_token=TOKEN, today=TODAY)
    fake.add_order(name="#1001", customer=fake.add_customer())

    order = await found(fake, "1001")

    assert order.owner_x_user_id is None
    assert not order.belongs_to("")


async def test_an_x_tag_on_the_customer_names_the_owner_when_the_metafield_is_empty() -> None:
    fake = FakeShopify(access_token=TOKEN, today=TODAY)
    fake.add_order(name="#1001", customer=fake.add_customer(tags=("X:1700000009",)))

    assert (await found(fake, "1001")).owner_x_user_id == "1700000009"


async def test_the_metafield_named_in_the_settings_holds_the_x_user_id() -> None:
    fake = FakeShopify(access_token=TOKEN, today=TODAY)
    buyer = fake.add_customer()
    buyer.metafields[("custom", "x_id")] = "1700000042"
    fake.add_order(name="#1001", customer=buyer)

    assert (await found(fake, "1001")).owner_x_user_id is None
    assert (await found(fake, "1001", x_user_id_metafield="custom.x_id")).owner_x_user_id == "1700000042"


async def test_an_order_without_a_customer_has_no_owner_and_is_new() -> None:
    fake = FakeShopify(access_token=TOKEN, today=TODAY)
    fake.add_order(name="#1001")

    order = await found(fake, "1001")

    assert (order.customer_id, order.owner_x_user_id, order.customer_tier) == ("", None, Tier.NEW)


@pytest.mark.parametrize(
    ("tags", "number_of_orders", "tier"),
    [
        (("vip",), 1, Tier.VIP),
        (("VIP", "regular"), 9, Tier.VIP),
        (("Regular",), 1, Tier.REGULAR),
        ((), 2, Tier.REGULAR),
        ((), 1, Tier.NEW),
    ],
)
async def test_the_tier_comes_from_tags_then_the_number_of_orders(
    tags: tuple[str, ...], number_of_orders: int, tier: Tier
) -> None:
    fake = FakeShopify(access_token=TOKEN, today=TODAY)
    fake.add_order(name="#1001", customer=fake.add_customer(tags=tags, number_of_orders=number_of_orders))

    assert (await found(fake, "1001")).customer_tier is tier


def test_the_tier_rule_takes_the_shops_own_tags() -> None:
    rule = TierRule(vip_tags=frozenset({"Gold"}), regular_tags=frozenset(), regular_after_orders=5)

    assert rule.tier(tags=["gold"], number_of_orders=0) is Tier.VIP
    assert rule.tier(tags=["vip", "regular"], number_of_orders=4) is Tier.NEW
    assert rule.tier(tags=[], number_of_orders=5) is Tier.REGULAR


@pytest.mark.parametrize(
    ("company", "carrier"),
    [("UPS", "ups"), ("FedEx", "fedex"), ("DHL Express", "dhl"), ("China  Post", "china-post"),
     ("Royal Mail", "royal-mail"), (None, "unknown")],
)  # fmt: skip
def test_tracking_companies_map_onto_our_carrier_names(company: str | None, carrier: str) -> None:
    assert carrier_name(company) == carrier


def test_order_references_are_normalised_and_search_syntax_refused() -> None:
    assert [order_reference(t) for t in ("#1001", " # 1001 ", "shop-1001-a")] == ["1001", "1001", "SHOP-1001-A"]
    assert [order_reference(t) for t in ("", "#", "1001 OR x", "name:1001", '"1001"')] == [None] * 5


# -- customers' emails --------------------------------------------------------------------------------


async def test_a_customers_email_comes_from_shopify_and_is_remembered() -> None:
    fake = FakeShopify(access_token=TOKEN, today=TODAY)
    buyer = fake.add_customer(email="ada@example.com")
    fake.add_order(name="#1001", customer=buyer)
    async with shopify_admin(fake) as admin:
        orders = ShopifyOrders(admin=admin, today=lambda: TODAY)
        order = await orders.find_order("1001")
        assert isinstance(order, Order)

        first = await orders.customer_email(order.customer_id)
        again = await orders.customer_email(order.customer_id)

    assert first == again == "ada@example.com"
    assert fake.operations["CustomerEmail"] == 1  # the second answer was remembered


async def test_a_customer_without_an_email_or_unknown_to_shopify_has_none_and_is_asked_again() -> None:
    fake = FakeShopify(access_token=TOKEN, today=TODAY)
    silent = fake.add_customer()
    async with shopify_admin(fake) as admin:
        orders = ShopifyOrders(admin=admin)
        answers = [await orders.customer_email(customer_id) for customer_id in (silent.id, UNKNOWN_CUSTOMER) * 2]

    assert answers == [None] * 4
    assert fake.operations["CustomerEmail"] == 4  # an email may be added later: absences are not remembered


async def test_an_id_that_is_no_customer_gid_has_no_email_and_is_not_sent_to_shopify() -> None:
    fake, _ = contract_shop()
    async with shopify_admin(fake) as admin:
        orders = ShopifyOrders(admin=admin)
        answers = [await orders.customer_email(customer_id) for customer_id in ("", "123", "gid://shopify/Order/1")]

    assert answers == [None] * 3
    assert fake.operations["CustomerEmail"] == 0


async def test_reading_emails_without_read_customers_is_permanent() -> None:
    fake = FakeShopify(access_token=TOKEN, today=TODAY, scopes=frozenset({"read_orders"}))
    buyer = fake.add_customer(email="ada@example.com")

    with pytest.raises(PermanentIntegrationError, match="access denied.*read_customers"):
        async with shopify_admin(fake) as admin:
            await ShopifyOrders(admin=admin).customer_email(buyer.id)


async def test_a_customers_email_never_reaches_the_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    fake = FakeShopify(access_token=TOKEN, today=TODAY)
    buyer = fake.add_customer(email="private.person@example.com")
    fake.fail_next("503", operation="CustomerEmail")
    fake.fail_next("throttled", operation="CustomerEmail")
    async with shopify_admin(fake) as admin:
        assert await ShopifyOrders(admin=admin).customer_email(buyer.id) == "private.person@example.com"

    assert any("throttled" in record.getMessage() for record in caplog.records)  # the logs were captured
    assert "private.person" not in caplog.text


# -- the 60-day window ---------------------------------------------------------------------------------


async def test_an_old_order_is_invisible_without_read_all_orders_and_not_ruled_out() -> None:
    fake, ada = contract_shop()
    fake.add_order(name="#1500", customer=ada, placed_on=TODAY - timedelta(days=90))

    absent = await find(fake, "#1500")

    assert absent == NoSuchOrder(number="#1500", visible_since=TODAY - timedelta(days=60))
    assert isinstance(absent, NoSuchOrder)
    assert not absent.rules_out()
    assert not absent.rules_out(placed_on=TODAY - timedelta(days=90))
    assert absent.rules_out(placed_on=TODAY - timedelta(days=5))


async def test_with_read_all_orders_old_orders_are_found_and_absence_is_conclusive() -> None:
    fake, ada = contract_shop()
    fake.scopes.add("read_all_orders")
    fake.add_order(name="#1500", customer=ada, placed_on=TODAY - timedelta(days=90))

    assert (await found(fake, "1500")).placed_on == TODAY - timedelta(days=90)
    absent = await find(fake, "9999")
    assert absent == NoSuchOrder(number="9999", visible_since=None)
    assert isinstance(absent, NoSuchOrder) and absent.rules_out()


async def test_the_scopes_are_asked_once() -> None:
    fake, _ = contract_shop()
    async with shopify_admin(fake) as admin:
        orders = ShopifyOrders(admin=admin, today=lambda: TODAY)
        await orders.find_order("9998")
        await orders.find_order("9999")

    assert fake.operations["GrantedScopes"] == 1
    assert fake.operations["FindOrder"] == 2


# -- refunds -------------------------------------------------------------------------------------------


async def test_a_refund_goes_back_to_the_payment_with_the_key_in_its_note() -> None:
    fake, _ = contract_shop()
    async with shopify_admin(fake) as admin:
        refund = await ShopifyOrders(admin=admin).refund(
            order_number="#2001", amount=Decimal("12.50"), idempotency_key="conv-7:refund"
        )

    (made,) = fake.orders[0].refunds
    assert (refund.refund_id, refund.amount, refund.currency) == (made.id, Decimal("12.50"), "USD")
    assert made.note is not None and "conv-7:refund" in made.note
    (sale, back) = fake.orders[0].transactions
    assert (back.kind, back.parent_id, back.gateway, back.amount) == ("REFUND", sale.id, sale.gateway, Decimal("12.50"))


async def test_a_refund_is_spread_over_the_payments_in_order() -> None:
    fake = FakeShopify(access_token=TOKEN, today=TODAY)
    order = fake.add_order(
        name="#1001", total="80.00", payments=(("gift_card", "50.00"), ("shopify_payments", "30.00"))
    )
    async with shopify_admin(fake) as admin:
        await ShopifyOrders(admin=admin).refund(order_number="1001", amount=Decimal("60"), idempotency_key="k")

    refunded = [(t.gateway, t.amount) for t in order.transactions if t.kind == "REFUND"]
    assert refunded == [("gift_card", Decimal("50.00")), ("shopify_payments", Decimal("10"))]


async def test_a_full_refund_asked_again_with_its_key_returns_the_same_refund() -> None:
    fake, _ = contract_shop()
    async with shopify_admin(fake) as admin:
        orders = ShopifyOrders(admin=admin)
        first = await orders.refund(order_number="2001", amount=Decimal("80.00"), idempotency_key="full")
        again = await orders.refund(order_number="2001", amount=Decimal("80.00"), idempotency_key="full")

    assert again == first
    assert fake.refunds_made == 1
    assert fake.operations["CreateRefund"] == 1  # the second found the first by its note


async def test_a_refund_whose_answer_was_lost_is_made_once() -> None:
    fake, _ = contract_shop()
    fake.fail_next("lost_response", operation="CreateRefund")
    async with shopify_admin(fake) as admin:
        orders = ShopifyOrders(admin=admin)
        # @idempotent makes the refund repeatable: the client asks again at once and Shopify answers
        # with the refund it already made.
        refund = await orders.refund(order_number="2001", amount=Decimal("30"), idempotency_key="lost")

    assert fake.refunds_made == 1
    assert fake.operations["CreateRefund"] == 2
    assert refund.refund_id == fake.orders[0].refunds[0].id


async def test_a_refund_beyond_what_is_left_is_rejected() -> None:
    fake, _ = contract_shop()
    async with shopify_admin(fake) as admin:
        orders = ShopifyOrders(admin=admin)
        await orders.refund(order_number="2001", amount=Decimal("50"), idempotency_key="first")
        with pytest.raises(PermanentIntegrationError, match=r"exceeds the 30\.00 USD left"):
            await orders.refund(order_number="2001", amount=Decimal("40"), idempotency_key="second")

    assert fake.refunds_made == 1


async def test_a_refund_shopify_refuses_is_permanent() -> None:
    fake, _ = contract_shop()
    fake.fail_next("user_error")
    async with shopify_admin(fake) as admin:
        with pytest.raises(PermanentIntegrationError, match="Refused by the fake"):
            await ShopifyOrders(admin=admin).refund(order_number="2001", amount=Decimal("5"), idempotency_key="k")

    assert fake.refunds_made == 0


# -- what Shopify's GraphQL answers mean -------------------------------------------------------------


async def test_a_throttled_query_waits_for_the_bucket_and_asks_again() -> None:
    fake, _ = contract_shop()
    fake.fail_next("throttled")  # 5 of the 10 points needed, 100 points a second: 50 ms
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    async with serve(fake.app) as base_url:
        http = ProviderHttp(service="shopify", base_url=base_url, headers={"X-Shopify-Access-Token": TOKEN})
        admin = ShopifyAdmin(http=http, retry=FAST, sleep=sleep)
        try:
            order = await ShopifyOrders(admin=admin, today=lambda: TODAY).find_order("2001")
        finally:
            await admin.aclose()

    assert isinstance(order, Order)
    assert waits == [pytest.approx(0.05)]
    assert fake.operations["FindOrder"] == 2


async def test_a_long_throttle_is_handed_to_the_caller_with_its_wait() -> None:
    fake, _ = contract_shop()
    fake.restore_rate = 1.0  # 5 points missing: 5 s, longer than a call waits in place
    fake.fail_next("throttled")

    with pytest.raises(RateLimitedError) as raised:
        await find(fake, "2001")

    assert raised.value.retry_after == pytest.approx(5.0)
    assert fake.operations["FindOrder"] == 1


async def test_a_query_costing_more_than_the_bucket_holds_is_permanent() -> None:
    fake, _ = contract_shop()
    fake.maximum_available = 5.0
    fake.fail_next("throttled")

    with pytest.raises(PermanentIntegrationError, match="can never run"):
        await find(fake, "2001")


async def test_a_429_is_waited_out_and_asked_again() -> None:
    fake, _ = contract_shop()
    fake.fail_next("429")

    assert (await found(fake, "2001")).number == "2001"
    assert fake.operations["FindOrder"] == 2


async def test_a_5xx_on_a_read_is_retried() -> None:
    fake, _ = contract_shop()
    fake.fail_next("503")

    assert (await found(fake, "2001")).number == "2001"
    assert fake.operations["FindOrder"] == 2


async def test_a_read_failing_every_time_is_retryable_not_unknown() -> None:
    fake, _ = contract_shop()
    fake.fail_next("500", times=3)

    with pytest.raises(RetryableIntegrationError) as raised:
        await find(fake, "2001")

    assert not isinstance(raised.value, OutcomeUnknownError)
    assert fake.operations["FindOrder"] == 3


async def test_an_answer_that_is_no_graphql_response_is_retryable() -> None:
    fake, _ = contract_shop()
    fake.fail_next("malformed")

    with pytest.raises(RetryableIntegrationError, match="neither data nor errors") as raised:
        await find(fake, "2001")

    assert not isinstance(raised.value, OutcomeUnknownError)


async def test_shopifys_internal_error_on_a_read_is_retryable() -> None:
    fake, _ = contract_shop()
    fake.fail_next("internal_error")

    with pytest.raises(RetryableIntegrationError, match="failed internally") as raised:
        await find(fake, "2001")

    assert not isinstance(raised.value, OutcomeUnknownError)


async def test_a_hanging_shopify_times_out_and_the_read_is_asked_again() -> None:
    fake, _ = contract_shop()
    fake.fail_next("hang")
    async with shopify_admin(fake, timeout=0.3) as admin:
        started = time.monotonic()
        order = await ShopifyOrders(admin=admin, today=lambda: TODAY).find_order("2001")

    assert isinstance(order, Order)
    assert 0.3 <= time.monotonic() - started < 2.0
    assert fake.operations["FindOrder"] == 2


async def test_a_missing_scope_is_permanent_and_says_so() -> None:
    fake, _ = contract_shop()
    fake.scopes.discard("read_orders")

    with pytest.raises(PermanentIntegrationError, match="access denied.*read_orders"):
        await find(fake, "2001")


async def test_other_graphql_errors_are_permanent_and_name_shopifys_message() -> None:
    fake, _ = contract_shop()
    async with shopify_admin(fake) as admin:
        with pytest.raises(PermanentIntegrationError, match="Field doesn't exist"):
            await admin.query("query Nonsense { nothing { id } }", {}, repeatable=True)


async def test_a_refused_token_is_retried_later_without_naming_the_token() -> None:
    fake, _ = contract_shop()

    with pytest.raises(RetryableIntegrationError, match="access token was refused") as raised:
        async with shopify_admin(fake, token="shpat_wrong_token_1234") as admin:
            await ShopifyOrders(admin=admin).find_order("2001")

    assert raised.value.retry_after == 60.0
    assert "shpat_wrong_token_1234" not in str(raised.value)
    assert fake.operations["FindOrder"] == 0  # refused before anything was read


async def test_the_access_token_never_reaches_the_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    fake, _ = contract_shop()
    fake.fail_next("throttled")
    fake.fail_next("503")
    async with shopify_admin(fake) as admin:
        orders = ShopifyOrders(admin=admin, today=lambda: TODAY)
        await orders.find_order("2001")
        await orders.find_order("9999")
        await orders.refund(order_number="2001", amount=Decimal("1"), idempotency_key="log-test")
    with pytest.raises(RetryableIntegrationError):
        async with shopify_admin(fake, token=TOKEN + "-revoked") as admin:
            await ShopifyOrders(admin=admin).find_order("2001")

    assert any("throttled" in record.getMessage() for record in caplog.records)  # the logs were captured
    assert TOKEN not in caplog.text
    assert TOKEN not in repr([record.__dict__ for record in caplog.records])


def test_connect_needs_one_address_and_a_token() -> None:
    with pytest.raises(ValueError, match="shop_domain or base_url"):
        ShopifyAdmin.connect(access_token=TOKEN)
    with pytest.raises(ValueError, match="access token"):
        ShopifyAdmin.connect(shop_domain="acme", access_token=" ")
    with pytest.raises(ValueError, match="not a shop domain"):
        ShopifyAdmin.connect(shop_domain="acme/../evil", access_token=TOKEN)
    with pytest.raises(ValueError, match="API version"):
        ShopifyAdmin.connect(shop_domain="acme", access_token=TOKEN, api_version="latest")


async def test_a_shop_domain_becomes_its_myshopify_admin_url_unless_a_base_url_is_given() -> None:
    admin = ShopifyAdmin.connect(shop_domain="Acme", access_token=TOKEN, retry=RetryPolicy(attempts=1))
    proxied = ShopifyAdmin.connect(shop_domain="acme", base_url="http://proxy.test/", access_token=TOKEN)
    try:
        assert "https://acme.myshopify.com" in repr(admin)
        assert "/admin/api/2026-07/graphql.json" in repr(admin)
        assert TOKEN not in repr(admin)
        assert "http://proxy.test" in repr(proxied) and "myshopify" not in repr(proxied)
    finally:
        await admin.aclose()
        await proxied.aclose()
