"""The Smile adapter in the PointsProgram contract suite: ``SmilePoints`` over real HTTP against ``FakeSmile``."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from integrations.journal import MemoryIssuanceJournal
from integrations.loyalty.smile import SmilePoints
from tests.fakes.smile import FakeSmile
from tests.integrations.conftest import PointsUnderTest
from tests.integrations.x.sandbox.server import serve

# cust-1 is found by email (the lookup the reference documents); cust-404 names a Smile id that Smile
# does not know, so the refusal is Smile's own 404, not ours.
CUSTOMER_IDS = {"cust-1": "ada@example.com", "cust-404": "999999999"}


@pytest.fixture
async def smile_points() -> AsyncIterator[PointsUnderTest]:
    fake = FakeSmile()
    async with serve(fake.app) as base_url:
        points = SmilePoints.connect(
            api_key=fake.api_key,
            journal=MemoryIssuanceJournal(),
            customer_ids=CUSTOMER_IDS,
            base_url=f"{base_url}/v1",
        )
        try:
            yield PointsUnderTest(
                service=points, customer_id="cust-1", unknown_customer_id="cust-404", effects=lambda: fake.created
            )
        finally:
            fake.release_hangs()
            await points.aclose()
