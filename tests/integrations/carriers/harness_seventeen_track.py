"""The 17TRACK adapter in the TrackingService contract suite: real HTTP against FakeSeventeenTrack."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta, timezone

import pytest

from integrations.carriers.seventeen_track import SeventeenTrack
from integrations.http import RequestPacer
from integrations.models import ShipmentStatus
from tests.fakes.seventeen_track import FakeEvent, FakeParcel, FakeSeventeenTrack
from tests.integrations.conftest import TrackingUnderTest
from tests.integrations.x.sandbox.server import serve

_EASTERN = timezone(timedelta(hours=-5))


@pytest.fixture
async def seventeen_track_tracking() -> AsyncIterator[TrackingUnderTest]:
    parcel = FakeParcel(
        status="InTransit",
        sub_status="InTransit_Other",
        events=(
            FakeEvent(
                time=datetime(2026, 3, 6, 18, 0, tzinfo=_EASTERN), description="Picked up", location="Louisville, KY"
            ),
            FakeEvent(time=datetime(2026, 3, 8, 7, 30, tzinfo=_EASTERN), description="Departed facility"),
        ),
        estimated_delivery=date(2026, 3, 11),
    )
    fake = FakeSeventeenTrack(parcels={"1Z5R89390357567127": parcel}, api_key="contract-key")
    async with serve(fake.app) as base_url:
        # The contract is about answers, not pacing: a pacer of 3/s would only slow the suite down.
        service = SeventeenTrack.connect(api_key="contract-key", base_url=base_url, pacer=RequestPacer(rate=1000))
        try:
            yield TrackingUnderTest(
                service=service,
                carrier="ups",
                tracking_number="1Z5R89390357567127",
                status=ShipmentStatus.IN_TRANSIT,
                estimated_delivery=date(2026, 3, 11),
                unknown_tracking_number="1Z879E930346834440",
            )
        finally:
            await service.aclose()
