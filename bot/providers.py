"""Which service plays each role, from settings: the sandbox by default, real providers with their keys.

| role       | DMCARE_..._PROVIDER | choices                              |
|------------|---------------------|--------------------------------------|
| orders     | ORDERS              | sandbox, shopify                     |
| refunds    | REFUNDS             | sandbox, shopify, manual (as orders) |
| dispatches | DISPATCH            | sandbox, manual                      |
| tracking   | TRACKING            | sandbox, aftership, 17track          |
| points     | POINTS              | sandbox, smile                       |
| coupons    | COUPONS             | sandbox, shopify                     |

Real lookups sit behind a short cache that coalesces concurrent lookups of one parcel or order.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Engine

from bot.runtime.executors import Services
from bot.settings import Settings
from bot.storage.issuance_journal import SqlIssuanceJournal
from integrations.caching import CachedOrders, CachedTracking
from integrations.carriers.aftership import AfterShipTracking
from integrations.carriers.seventeen_track import SeventeenTrack
from integrations.loyalty.shopify_coupons import ShopifyCoupons
from integrations.loyalty.smile import SmilePoints
from integrations.manual import ManualDispatch, ManualRefunds
from integrations.orders.shopify import ShopifyOrders
from integrations.orders.shopify_admin import ShopifyAdmin
from integrations.protocols import (
    CouponIssuer,
    DirectMessageChannel,
    DispatchService,
    OrderSystem,
    PointsProgram,
    RefundService,
    TrackingService,
)
from integrations.sandbox import SandboxServices

__all__ = ["Providers", "build_providers"]

# A parcel AfterShip has just been told about is Pending until it asks the carrier, which takes moments:
# one more read after this pause spares the customer a "no news yet" the next second would disprove.
AFTERSHIP_FIRST_READ_AFTER = 2.0


@dataclass
class Providers:
    """The services wired for each role, and what must be closed when dmcare stops."""

    services: Services
    tracking_cache: CachedTracking | None = None  # set when a real carrier is used: pushes prime it
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    async def aclose(self) -> None:
        for close in self.closers:
            await close()
        self.closers.clear()


def build_providers(
    settings: Settings,
    *,
    sandbox: SandboxServices,
    channel: DirectMessageChannel,
    engine: Engine,
    today: Callable[[], date],
) -> Providers:
    closers: list[Callable[[], Awaitable[None]]] = []
    timeout = settings.provider_timeout_seconds
    journal = SqlIssuanceJournal(engine=engine)
    shopify = _ShopifyConnection(settings, closers) if "shopify" in _chosen(settings) else None

    orders: OrderSystem = sandbox.orders
    if settings.orders_provider == "shopify":
        assert shopify is not None
        orders = CachedOrders(inner=shopify.orders(today), ttl=settings.order_cache_seconds)

    refunds_choice = settings.refunds_provider or settings.orders_provider
    refunds: RefundService = sandbox.orders
    if refunds_choice == "shopify":
        assert shopify is not None
        refunds = shopify.orders(today)
    elif refunds_choice == "manual":
        refunds = ManualRefunds()

    dispatch_choice = settings.dispatch_provider or ("sandbox" if settings.orders_provider == "sandbox" else "manual")
    dispatches: DispatchService = sandbox.orders if dispatch_choice == "sandbox" else ManualDispatch()

    tracking: TrackingService = sandbox.tracking
    tracking_cache: CachedTracking | None = None
    if settings.tracking_provider == "aftership":
        assert settings.aftership_api_key is not None
        aftership = AfterShipTracking.connect(
            api_key=settings.aftership_api_key.get_secret_value(), base_url=settings.aftership_base_url,
            timeout=timeout, first_read_after=AFTERSHIP_FIRST_READ_AFTER,
        )  # fmt: skip
        closers.append(aftership.aclose)
        tracking = tracking_cache = CachedTracking(inner=aftership, ttl=settings.tracking_cache_seconds)
    elif settings.tracking_provider == "17track":
        assert settings.seventeen_track_api_key is not None
        seventeen = SeventeenTrack.connect(
            api_key=settings.seventeen_track_api_key.get_secret_value(),
            base_url=settings.seventeen_track_base_url, timeout=timeout,
        )  # fmt: skip
        closers.append(seventeen.aclose)
        tracking = tracking_cache = CachedTracking(inner=seventeen, ttl=settings.tracking_cache_seconds)

    points: PointsProgram = sandbox.loyalty
    if settings.points_provider == "smile":
        assert settings.smile_api_key is not None
        # Smile finds customers by e-mail; with Shopify orders, the customer's e-mail comes from Shopify.
        email_of = shopify.orders(today).customer_email if shopify is not None else None
        smile = SmilePoints.connect(
            api_key=settings.smile_api_key.get_secret_value(), journal=journal, base_url=settings.smile_base_url,
            timeout=timeout, email_of=email_of,
        )  # fmt: skip
        closers.append(smile.aclose)
        points = smile

    coupons: CouponIssuer = sandbox.loyalty
    if settings.coupons_provider == "shopify":
        assert shopify is not None
        coupons = shopify.coupons(journal, today)

    services = Services(
        orders=orders, refunds=refunds, dispatches=dispatches, tracking=tracking, points=points, coupons=coupons,
        channel=channel,
    )  # fmt: skip
    return Providers(services=services, tracking_cache=tracking_cache, closers=closers)


def _chosen(settings: Settings) -> set[str]:
    return {settings.orders_provider, settings.refunds_provider or settings.orders_provider,
            settings.coupons_provider}  # fmt: skip


class _ShopifyConnection:
    """One Admin API client shared by the roles Shopify plays (orders, refunds, coupons)."""

    def __init__(self, settings: Settings, closers: list[Callable[[], Awaitable[None]]]) -> None:
        assert settings.shopify_access_token is not None
        self._settings = settings
        self._orders: ShopifyOrders | None = None  # one instance plays orders and refunds
        self.admin = ShopifyAdmin.connect(
            shop_domain=settings.shopify_shop_domain, base_url=settings.shopify_base_url,
            access_token=settings.shopify_access_token.get_secret_value(), api_version=settings.shopify_api_version,
            timeout=settings.provider_timeout_seconds,
        )  # fmt: skip
        closers.append(self.admin.aclose)

    def orders(self, today: Callable[[], date]) -> ShopifyOrders:
        if self._orders is not None:
            return self._orders
        settings = self._settings
        self._orders = ShopifyOrders(
            admin=self.admin,
            vip_tags=frozenset(tag.strip().lower() for tag in settings.shopify_vip_tags.split(",") if tag.strip()),
            x_user_id_metafield=settings.shopify_x_user_id_metafield,
            promise_days=settings.shopify_promise_days,
            today=today,
        )
        return self._orders

    def coupons(self, journal: SqlIssuanceJournal, today: Callable[[], date]) -> ShopifyCoupons:
        return ShopifyCoupons(admin=self.admin, journal=journal, today=today)
