"""Implementations under test for the Protocol contract suite (test_protocols.py).

Each Protocol has a list of fixture names, one per implementation. The contract classes are
parametrized over that list with ``indirect=True`` (aiogram's storage tests do the same), so a real
adapter joins the suite by adding one fixture that returns the same kind of harness: the service, the
identifiers it knows, and a way to count the effects the outside world has seen.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from integrations.models import SentMessage, ShipmentStatus, Tier
from integrations.protocols import (
    CouponIssuer,
    DirectMessageChannel,
    DispatchService,
    OrderSystem,
    PointsProgram,
    RefundService,
    TrackingService,
)
from integrations.sandbox import SandboxLedger, build_sandbox
from integrations.sandbox.loyalty import COUPON, POINTS
from integrations.sandbox.orders import DISPATCH, REFUND
from integrations.x.channel import XDirectMessages
from integrations.x.client import XApi, XCredentials
from integrations.x.sandbox import SandboxCustomer, XSandbox, XSandboxConfig
from tests.integrations.x.sandbox.server import serve

TODAY = date(2026, 3, 10)

# A shop of its own, so that editing the bundled demo cannot change what the contract tests see.
CONTRACT_SHOP = """\
shop: {name: Contract Shop, currency: USD}
customers:
  - {id: cust-1, x_user_id: "1700000001", handle: "@owner_one", name: Ada Owner, tier: vip}
orders:
  - number: "2001"
    customer: cust-1
    value: "80.00"
    placed: today-10
    promised: today-2
    shipments:
      - {carrier: ups, tracking_number: 1Z5R89390357567127, status: in_transit, estimated_delivery: today+1}
"""


@dataclass(frozen=True, kw_only=True)
class OrdersUnderTest:
    system: OrderSystem
    order_number: str
    order_value: Decimal
    owner_x_user_id: str
    owner_tier: Tier
    unknown_order_number: str


@dataclass(frozen=True, kw_only=True)
class RefundsUnderTest:
    service: RefundService
    order_number: str
    order_value: Decimal
    unknown_order_number: str
    effects: Callable[[], int]  # refunds made so far


@dataclass(frozen=True, kw_only=True)
class DispatchesUnderTest:
    service: DispatchService
    order_number: str
    known_tracking_numbers: tuple[str, ...]  # the order's parcels before any dispatch
    unknown_order_number: str
    effects: Callable[[], int]  # dispatches made so far


@dataclass(frozen=True, kw_only=True)
class TrackingUnderTest:
    service: TrackingService
    carrier: str
    tracking_number: str
    status: ShipmentStatus
    estimated_delivery: date
    unknown_tracking_number: str  # check-digit valid, but never shipped


@dataclass(frozen=True, kw_only=True)
class PointsUnderTest:
    service: PointsProgram
    customer_id: str
    unknown_customer_id: str
    effects: Callable[[], int]  # points awards made so far


@dataclass(frozen=True, kw_only=True)
class CouponsUnderTest:
    service: CouponIssuer
    customer_id: str
    unknown_customer_id: str
    today: date
    effects: Callable[[], int]  # coupons created so far
    minimum_held: Callable[[str], Decimal | None]  # the minimum spend the provider holds for a code


@dataclass(frozen=True, kw_only=True)
class ChannelUnderTest:
    channel: DirectMessageChannel
    recipient_id: str
    deliveries: Callable[[], list[SentMessage]]  # what recipients have received, in order


ORDER_SYSTEMS = ["sandbox_orders", "shopify_orders"]
REFUND_SERVICES = ["sandbox_refunds", "shopify_refunds"]
DISPATCH_SERVICES = ["sandbox_dispatches"]
TRACKING_SERVICES = ["sandbox_tracking", "seventeen_track_tracking", "aftership_tracking"]
POINTS_PROGRAMS = ["sandbox_points", "smile_points"]
COUPON_ISSUERS = ["sandbox_coupons", "shopify_coupons"]
DM_CHANNELS = ["sandbox_channel", "x_channel"]


@pytest.fixture
def order_system(request: pytest.FixtureRequest) -> OrdersUnderTest:
    harness: OrdersUnderTest = request.getfixturevalue(request.param)
    return harness


@pytest.fixture
def tracking_service(request: pytest.FixtureRequest) -> TrackingUnderTest:
    harness: TrackingUnderTest = request.getfixturevalue(request.param)
    return harness


@pytest.fixture
def refund_service(request: pytest.FixtureRequest) -> RefundsUnderTest:
    harness: RefundsUnderTest = request.getfixturevalue(request.param)
    return harness


@pytest.fixture
def dispatch_service(request: pytest.FixtureRequest) -> DispatchesUnderTest:
    harness: DispatchesUnderTest = request.getfixturevalue(request.param)
    return harness


@pytest.fixture
def points_program(request: pytest.FixtureRequest) -> PointsUnderTest:
    harness: PointsUnderTest = request.getfixturevalue(request.param)
    return harness


@pytest.fixture
def coupon_issuer(request: pytest.FixtureRequest) -> CouponsUnderTest:
    harness: CouponsUnderTest = request.getfixturevalue(request.param)
    return harness


@pytest.fixture
def dm_channel(request: pytest.FixtureRequest) -> ChannelUnderTest:
    harness: ChannelUnderTest = request.getfixturevalue(request.param)
    return harness


# -- the sandbox ---------------------------------------------------------------------------------------


@pytest.fixture
def contract_shop_file(tmp_path: Path) -> Path:
    path = tmp_path / "contract-shop.yaml"
    path.write_text(CONTRACT_SHOP, encoding="utf-8")
    return path


@pytest.fixture
def sandbox_orders(contract_shop_file: Path) -> OrdersUnderTest:
    sandbox = build_sandbox(data_path=contract_shop_file, ledger_path=None, today=TODAY)
    return OrdersUnderTest(
        system=sandbox.orders,
        order_number="2001",
        order_value=Decimal("80.00"),
        owner_x_user_id="1700000001",
        owner_tier=Tier.VIP,
        unknown_order_number="9999",
    )


@pytest.fixture
def sandbox_refunds(contract_shop_file: Path) -> RefundsUnderTest:
    sandbox = build_sandbox(data_path=contract_shop_file, ledger_path=None, today=TODAY)
    return RefundsUnderTest(
        service=sandbox.orders,
        order_number="2001",
        order_value=Decimal("80.00"),
        unknown_order_number="9999",
        effects=lambda: sum(1 for r in sandbox.ledger.records() if r["kind"] == REFUND),
    )


@pytest.fixture
def sandbox_dispatches(contract_shop_file: Path) -> DispatchesUnderTest:
    sandbox = build_sandbox(data_path=contract_shop_file, ledger_path=None, today=TODAY)
    return DispatchesUnderTest(
        service=sandbox.orders,
        order_number="2001",
        known_tracking_numbers=("1Z5R89390357567127",),
        unknown_order_number="9999",
        effects=lambda: sum(1 for r in sandbox.ledger.records() if r["kind"] == DISPATCH),
    )


@pytest.fixture
def sandbox_tracking(contract_shop_file: Path) -> TrackingUnderTest:
    sandbox = build_sandbox(data_path=contract_shop_file, ledger_path=None, today=TODAY)
    return TrackingUnderTest(
        service=sandbox.tracking,
        carrier="ups",
        tracking_number="1Z5R89390357567127",
        status=ShipmentStatus.IN_TRANSIT,
        estimated_delivery=date(2026, 3, 11),
        unknown_tracking_number="1Z879E930346834440",
    )


@pytest.fixture
def sandbox_points(contract_shop_file: Path) -> PointsUnderTest:
    sandbox = build_sandbox(data_path=contract_shop_file, ledger_path=None, today=TODAY)
    return PointsUnderTest(
        service=sandbox.loyalty,
        customer_id="cust-1",
        unknown_customer_id="cust-404",
        effects=lambda: sum(1 for r in sandbox.ledger.records() if r["kind"] == POINTS),
    )


@pytest.fixture
def sandbox_coupons(contract_shop_file: Path) -> CouponsUnderTest:
    sandbox = build_sandbox(data_path=contract_shop_file, ledger_path=None, today=TODAY)
    return CouponsUnderTest(
        service=sandbox.loyalty,
        customer_id="cust-1",
        unknown_customer_id="cust-404",
        today=TODAY,
        effects=lambda: sum(1 for r in sandbox.ledger.records() if r["kind"] == COUPON),
        minimum_held=lambda code: _sandbox_minimum(sandbox.ledger, code),
    )


def _sandbox_minimum(ledger: SandboxLedger, code: str) -> Decimal | None:
    """The minimum spend the sandbox recorded for the coupon with this code."""
    held = next(r["payload"]["result"] for r in ledger.records(COUPON) if r["payload"]["result"]["code"] == code)
    return None if held["minimum_spend"] is None else Decimal(held["minimum_spend"])


@pytest.fixture
def sandbox_channel(contract_shop_file: Path) -> ChannelUnderTest:
    received: list[SentMessage] = []
    sandbox = build_sandbox(data_path=contract_shop_file, ledger_path=None, today=TODAY, on_delivered=received.append)
    return ChannelUnderTest(channel=sandbox.channel, recipient_id="1700000001", deliveries=lambda: received)


# -- X, through tweepy over real HTTP, against the X sandbox ---------------------------------------------


@pytest.fixture
async def x_channel() -> AsyncIterator[ChannelUnderTest]:
    customer = SandboxCustomer(user_id="1700000001", handle="contract_ada", name="Ada")
    x = XSandbox(config=XSandboxConfig(customers=(customer,)))
    async with serve(x.app) as base_url:
        api = XApi(credentials=XCredentials(oauth2_user_token="contract"), base_url=base_url)
        channel = XDirectMessages(api=api, bot_user_id=x.config.bot_user_id)

        def deliveries() -> list[SentMessage]:
            return [
                SentMessage(
                    message_id=event["id"], recipient_id=customer.user_id, text=event["text"], idempotency_key=""
                )
                for event in x.events()
                if event["sender_id"] == x.config.bot_user_id
            ]

        try:
            yield ChannelUnderTest(channel=channel, recipient_id=customer.user_id, deliveries=deliveries)
        finally:
            await api.aclose()
            await x.aclose()


from tests.integrations.carriers.harness_aftership import aftership_tracking  # noqa: E402,F401
from tests.integrations.carriers.harness_seventeen_track import seventeen_track_tracking  # noqa: E402,F401
from tests.integrations.loyalty.harness_smile import smile_points  # noqa: E402,F401
from tests.integrations.orders.harness_shopify import shopify_coupons, shopify_orders, shopify_refunds  # noqa: E402,F401
