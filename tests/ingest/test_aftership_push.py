"""AfterShip's webhook, end to end: a signed push over real HTTP becomes the bot's own follow-up DM.

The conversation is Ava's (damaged parcel, replacement booked). AfterShip learns the replacement's
number the way it would in a shop (the tracking is created through our AfterShip adapter), the carrier
scans it, and the fake AfterShip pushes that to dmcare's endpoint, signed as AfterShip signs.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from bot.ingest.carrier_push import CarrierPushIntake, aftership_push_router
from bot.runtime.inbox import NewEvent
from integrations.carriers.aftership import AfterShipTracking
from integrations.carriers.aftership_webhook import AFTERSHIP_SIGNATURE_HEADER, sign_aftership
from tests.fakes.aftership import FakeAfterShip, FakeCheckpoint, FakeParcel
from tests.harness import Bot, make_bot
from tests.integrations.x.sandbox.server import serve

AVA = "1500000009"
SECRET = "aftership-webhook-secret"


@dataclass
class World:
    bot: Bot
    aftership: FakeAfterShip
    push_url: str
    replacement: str  # the replacement parcel's tracking number

    async def scan(self, tag: str, subtag: str, *, first_of_tag: bool = True) -> int:
        """The carrier reports the replacement; AfterShip pushes it to dmcare. Returns dmcare's status."""
        checkpoint = FakeCheckpoint(time="2026-11-23T18:00:00+01:00", message="Picked up", subtag=subtag)
        self.aftership.set_parcel(
            FakeParcel(tracking_number=self.replacement, slug="ups", tag=tag, subtag=subtag, checkpoints=(checkpoint,))
        )
        status = await self.aftership.push(
            url=self.push_url, secret=SECRET, tracking_number=self.replacement, first_of_tag=first_of_tag
        )
        await self.bot.app.runtime.drain()
        return status


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    bot = make_bot(tmp_path)
    await bot.send(AVA, "my order #1009 arrived broken")
    await bot.send(AVA, "yes")
    replacement = bot.conversation(AVA)["context"]["dispatch"]["tracking_number"]

    async def accept(events: list[NewEvent]) -> int:
        return bot.app.runtime.inbox.accept(events)

    intake = CarrierPushIntake(engine=bot.app.engine, secret=SECRET, accept=accept)
    web = FastAPI()
    web.include_router(aftership_push_router(intake))
    aftership = FakeAfterShip(parcels=[FakeParcel(tracking_number=replacement, tag="InfoReceived")])
    async with serve(aftership.app) as aftership_url, serve(web) as dmcare_url:
        carrier = AfterShipTracking.connect(api_key=aftership.api_key, base_url=aftership_url)
        try:
            await carrier.track(carrier="ups", tracking_number=replacement)  # AfterShip now tracks it
            yield World(bot=bot, aftership=aftership, push_url=f"{dmcare_url}/webhooks/aftership",
                        replacement=replacement)  # fmt: skip
        finally:
            await carrier.aclose()


async def test_the_replacements_first_scan_reaches_the_customer(world: World) -> None:
    before = len(world.bot.delivered)

    assert await world.scan("InTransit", "InTransit_002") == 200

    said = [message.text for message in world.bot.delivered[before:]]
    assert len(said) == 1
    assert world.replacement in said[0] and "first scan" in said[0]


async def test_a_redelivered_push_is_answered_once(world: World) -> None:
    tracking = next(t for t in world.aftership.trackings() if t["tracking_number"] == world.replacement)
    tracking.update(tag="InTransit", subtag="InTransit_002")
    body = json.dumps({"event": "tracking_update", "event_id": "5b1b1ad6-6f4e-4b85-9c0b-3c2e8d1e2b10",
                       "is_tracking_first_tag": True, "ts": 1763917200, "msg": tracking}).encode()  # fmt: skip
    before = len(world.bot.delivered)

    async with httpx.AsyncClient() as client:
        for _ in range(3):  # AfterShip retries until it sees a 2xx, so one event may come several times
            response = await client.post(
                world.push_url, content=body, headers={AFTERSHIP_SIGNATURE_HEADER: sign_aftership(body, SECRET)}
            )
            assert response.status_code == 200
    await world.bot.app.runtime.drain()

    assert len(world.bot.delivered) - before == 1


async def test_a_push_signed_with_another_secret_is_refused(world: World) -> None:
    before = len(world.bot.delivered)
    body = b'{"event": "tracking_update"}'

    async with httpx.AsyncClient() as client:
        wrong = await client.post(
            world.push_url, content=body, headers={AFTERSHIP_SIGNATURE_HEADER: sign_aftership(body, "not-ours")}
        )
        missing = await client.post(world.push_url, content=body)

    assert (wrong.status_code, missing.status_code) == (401, 401)
    assert world.bot.events(kind="shipment_update") == []
    assert len(world.bot.delivered) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [(b"{not json", "$"), (b'{"event": "tracking_update", "event_id": "e1", "msg": {}}', "msg.")],
)
async def test_a_malformed_push_gets_a_400_that_names_the_field(world: World, body: bytes, field: str) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.post(
            world.push_url, content=body, headers={AFTERSHIP_SIGNATURE_HEADER: sign_aftership(body, SECRET)}
        )

    assert response.status_code == 400
    assert response.json()["detail"].startswith(field)


async def test_news_about_a_parcel_nobody_follows_is_accepted_and_dropped(world: World) -> None:
    async with httpx.AsyncClient() as client:
        tracking = {"tracking_number": "1Z999AA10123456784", "slug": "ups", "tag": "InTransit", "checkpoints": []}
        body = json.dumps({"event": "tracking_update", "event_id": "e-2", "is_tracking_first_tag": True,
                           "ts": 1763917200, "msg": tracking}).encode()  # fmt: skip
        response = await client.post(
            world.push_url, content=body, headers={AFTERSHIP_SIGNATURE_HEADER: sign_aftership(body, SECRET)}
        )

    assert response.status_code == 200 and response.json() == {"conversations": 0, "new": 0}


async def test_a_closed_conversation_hears_no_news(world: World) -> None:
    await world.bot.send(AVA, "5")  # the rating closes the conversation
    assert world.bot.conversation(AVA)["state"] == "closed"
    before = len(world.bot.delivered)

    assert await world.scan("InTransit", "InTransit_002") == 200

    assert len(world.bot.delivered) == before


async def test_an_oversized_push_gets_a_413(world: World) -> None:
    body = b'{"event": "tracking_update", "pad": "' + b"x" * (1 << 20) + b'"}'
    async with httpx.AsyncClient() as client:
        response = await client.post(
            world.push_url, content=body, headers={AFTERSHIP_SIGNATURE_HEADER: sign_aftership(body, SECRET)}
        )

    assert response.status_code == 413
