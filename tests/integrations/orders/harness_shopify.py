"""The Shopify adapters in the Protocol contract suite: FakeShopify seeded like the contract shop, over HTTP.

The contract shop (tests/integrations/conftest.py) as Shopify holds it: order #2001, 80.00 USD, placed
ten days ago, parcel UPS 1Z5R89390357567127, bought by a customer tagged VIP whose X user id is in the
``dmcare.x_user_id`` metafield. The helpers here are shared with the Shopify tests.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest

from integrations.http import CircuitBreaker, RetryPolicy
from integrations.journal import MemoryIssuanceJournal
from integrations.loyalty.shopify_coupons import ShopifyCoupons
from integrations.models import Tier
from integrations.orders.shopify import ShopifyOrders
from integrations.orders.shopify_admin import ShopifyAdmin
from tests.fakes.shopify import FakeCustomer, FakeShopify
from tests.integrations.conftest import TODAY, CouponsUnderTest, OrdersUnderTest, RefundsUnderTest
from tests.integrations.x.sandbox.server import serve

__all__ = [
    "FAST",
    "NOW",
    "TOKEN",
    "contract_shop",
    "shopify_admin",
    "shopify_coupons",
    "shopify_orders",
    "shopify_refunds",
]

TOKEN = "shpat_contract_secret_5f3a9c"
OWNER_X_USER_ID = "1700000001"
UNKNOWN_CUSTOMER = "gid://shopify/Customer/404404"
NOW = datetime.combine(TODAY, time(9, 30), tzinfo=UTC)  # the coupons' start time, on the contract's today
# Tiny delays keep the fault tests fast; a breaker that never opens keeps them independent of each other.
FAST = RetryPolicy(attempts=3, base_delay=0.005, max_delay=0.5)


def contract_shop() -> tuple[FakeShopify, FakeCustomer]:
    """The contract shop in a FakeShopify, and its one customer."""
    fake = FakeShopify(access_token=TOKEN, today=TODAY)
    ada = fake.add_customer(tags=("VIP",), number_of_orders=3, x_user_id=OWNER_X_USER_ID)
    fake.add_order(
        name="#2001",
        customer=ada,
        total="80.00",
        placed_on=TODAY - timedelta(days=10),
        tracking=(("UPS", "1Z5R89390357567127"),),
    )
    return fake, ada


@contextlib.asynccontextmanager
async def shopify_admin(
    fake: FakeShopify, *, token: str = TOKEN, timeout: float = 2.0, retry: RetryPolicy = FAST
) -> AsyncIterator[ShopifyAdmin]:
    """A ShopifyAdmin talking to ``fake`` over a real socket, closed afterwards."""
    async with serve(fake.app) as base_url:
        admin = ShopifyAdmin.connect(
            base_url=base_url,
            access_token=token,
            timeout=timeout,
            retry=retry,
            breaker=CircuitBreaker(service="shopify", failure_threshold=1000),
        )
        try:
            yield admin
        finally:
            await admin.aclose()


@pytest.fixture
async def shopify_orders() -> AsyncIterator[OrdersUnderTest]:
    fake, _ = contract_shop()
    async with shopify_admin(fake) as admin:
        yield OrdersUnderTest(
            system=ShopifyOrders(admin=admin, today=lambda: TODAY),
            order_number="2001",
            order_value=Decimal("80.00"),
            owner_x_user_id=OWNER_X_USER_ID,
            owner_tier=Tier.VIP,
            unknown_order_number="9999",
        )


@pytest.fixture
async def shopify_refunds() -> AsyncIterator[RefundsUnderTest]:
    fake, _ = contract_shop()
    async with shopify_admin(fake) as admin:
        yield RefundsUnderTest(
            service=ShopifyOrders(admin=admin, today=lambda: TODAY),
            order_number="2001",
            order_value=Decimal("80.00"),
            unknown_order_number="9999",
            effects=lambda: fake.refunds_made,
        )


@pytest.fixture
async def shopify_coupons() -> AsyncIterator[CouponsUnderTest]:
    fake, ada = contract_shop()
    async with shopify_admin(fake) as admin:
        yield CouponsUnderTest(
            service=ShopifyCoupons(
                admin=admin, journal=MemoryIssuanceJournal(), today=lambda: TODAY, clock=lambda: NOW
            ),
            customer_id=ada.id,
            unknown_customer_id=UNKNOWN_CUSTOMER,
            today=TODAY,
            effects=lambda: fake.discounts_created,
            minimum_held=lambda code: _minimum_subtotal(fake, code),
        )


def _minimum_subtotal(fake: FakeShopify, code: str) -> Decimal | None:
    discount = fake.discount(code)
    assert discount is not None, f"Shopify holds no discount {code}"
    return discount.minimum_subtotal
