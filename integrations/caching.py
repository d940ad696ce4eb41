"""Short caches in front of the order system and the carrier, with concurrent lookups coalesced.

A delayed container makes dozens of customers write within minutes about parcels on the same truck,
and a customer often asks twice in one conversation: the carrier is asked once per parcel per
``ttl``. A carrier's push (AfterShip webhook) replaces the cached view at once, so a cache never
hides news the shop was told about.
"""

from __future__ import annotations

from integrations.http.cache import CoalescingCache
from integrations.models import NoSuchOrder, Order, Shipment
from integrations.protocols import OrderSystem, TrackingService

__all__ = ["CachedOrders", "CachedTracking", "tracking_key"]


def tracking_key(tracking_number: str) -> str:
    """One parcel, however it was typed: upper case, no spaces or dashes."""
    return "".join(tracking_number.split()).replace("-", "").upper()


class CachedTracking:
    """A TrackingService answering repeated and concurrent lookups of a parcel with one carrier call."""

    def __init__(self, *, inner: TrackingService, ttl: float, empty_ttl: float | None = None) -> None:
        self._inner = inner
        self.cache: CoalescingCache[str, Shipment | None] = CoalescingCache(
            ttl=ttl, empty_ttl=min(ttl, 60.0) if empty_ttl is None else empty_ttl
        )

    async def track(self, *, carrier: str, tracking_number: str) -> Shipment | None:
        # Keyed by number alone: shops spell carriers many ways ("UPS", "ups", "UPS Ground").
        return await self.cache.get(
            tracking_key(tracking_number),
            lambda: self._inner.track(carrier=carrier, tracking_number=tracking_number),
        )

    def forget(self, tracking_number: str) -> None:
        """The carrier has news about this parcel (pushed to another process): ask it again next time."""
        self.cache.forget(tracking_key(tracking_number))

    def prime(self, shipment: Shipment) -> None:
        """The carrier pushed this view: it is the freshest there is."""
        self.cache.put(tracking_key(shipment.tracking_number), shipment)


class CachedOrders:
    """An OrderSystem answering repeated and concurrent lookups of one order number with one call."""

    def __init__(self, *, inner: OrderSystem, ttl: float) -> None:
        self._inner = inner
        self.cache: CoalescingCache[str, Order | NoSuchOrder] = CoalescingCache(
            ttl=ttl, empty_ttl=min(ttl, 10.0), is_empty=lambda found: isinstance(found, NoSuchOrder)
        )

    async def find_order(self, number: str) -> Order | NoSuchOrder:
        key = number.strip().lstrip("#").strip().upper()
        found = await self.cache.get(key, lambda: self._inner.find_order(number))
        if isinstance(found, NoSuchOrder) and found.number != number:
            return NoSuchOrder(number=number, visible_since=found.visible_since)  # as this caller typed it
        return found
