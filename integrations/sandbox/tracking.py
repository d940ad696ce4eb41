"""The sandbox carrier: the demo parcels as written in the file, plus the replacements sent since."""

from __future__ import annotations

from typing import Final

from integrations.errors import RetryableIntegrationError
from integrations.models import Shipment, ShipmentStatus
from integrations.sandbox.demo_data import DemoData
from integrations.sandbox.ledger import SandboxLedger
from integrations.sandbox.matching import tracking_key
from integrations.sandbox.orders import dispatches_by_tracking_number

__all__ = ["SandboxTracking"]

SERVICE: Final = "sandbox-tracking"
_LABEL_CREATED: Final = "Shipping label created; the carrier has not picked up the parcel yet"


class SandboxTracking:
    """TrackingService over the demo parcels.

    Parcels are identified by tracking number alone, like an aggregator that detects the carrier, so a
    carrier name spelled differently ("UPS", "ups") still finds the parcel. ``fail_numbers`` makes
    lookups of those numbers raise RetryableIntegrationError, to exercise retries in tests and benches.
    """

    def __init__(
        self, *, data: DemoData, ledger: SandboxLedger, fail_numbers: frozenset[str] = frozenset()
    ) -> None:
        self._data = data
        self._dispatched = dispatches_by_tracking_number(ledger)
        self._fail_numbers = frozenset(tracking_key(n) for n in fail_numbers)

    async def track(self, *, carrier: str, tracking_number: str) -> Shipment | None:
        number = tracking_key(tracking_number)
        if number in self._fail_numbers:
            raise RetryableIntegrationError(f"injected outage while tracking {number}", service=SERVICE)
        known = self._data.shipment(number)
        if known is not None:
            return known
        # Replacements are not in the file: SandboxOrders.dispatch recorded them in the ledger.
        replacements = self._dispatched.get(number)
        if not replacements:
            return None
        dispatch = replacements[0]
        return Shipment(
            carrier=dispatch.carrier,
            tracking_number=dispatch.tracking_number,
            status=ShipmentStatus.PENDING,
            estimated_delivery=dispatch.estimated_delivery,
            last_event=_LABEL_CREATED,
        )
