"""AfterShipTracking in the TrackingService contract suite, against FakeAfterShip over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import pytest

from integrations.carriers.aftership import AfterShipTracking
from integrations.models import ShipmentStatus
from tests.fakes.aftership import FakeAfterShip, FakeCheckpoint, FakeParcel
from tests.integrations.conftest import TrackingUnderTest
from tests.integrations.x.sandbox.server import serve

API_KEY = "contract-aftership-key"

UPS_IN_TRANSIT = FakeParcel(
    tracking_number="1Z5R89390357567127",
    slug="ups",
    tag="InTransit",
    subtag="InTransit_003",
    checkpoints=(
        FakeCheckpoint(time="2026-03-06T18:02:00-05:00", message="Shipper created a label", subtag="InfoReceived_001"),
        FakeCheckpoint(time="2026-03-07T09:15:00-05:00", message="Picked up", subtag="InTransit_002"),
        FakeCheckpoint(time="2026-03-09T04:40:00-05:00", message="Arrived at facility", subtag="InTransit_003"),
    ),
    estimated_delivery=date(2026, 3, 11),
)


@pytest.fixture
async def aftership_tracking() -> AsyncIterator[TrackingUnderTest]:
    fake = FakeAfterShip(api_key=API_KEY, parcels=(UPS_IN_TRANSIT,))
    async with serve(fake.app) as base_url:
        service = AfterShipTracking.connect(api_key=API_KEY, base_url=base_url)
        try:
            yield TrackingUnderTest(
                service=service,
                carrier="ups",
                tracking_number=UPS_IN_TRANSIT.tracking_number,
                status=ShipmentStatus.IN_TRANSIT,
                estimated_delivery=date(2026, 3, 11),
                unknown_tracking_number="1Z879E930346834440",  # never scanned: Pending without checkpoints
            )
        finally:
            await service.aclose()
