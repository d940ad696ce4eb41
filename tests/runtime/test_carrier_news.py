"""Carrier news pushed to conversations (shipment_update), and order searches that cannot see old orders.

The news arrives as the AfterShip webhook writes it (bot/ingest/carrier_push.py); here it is written
to the inbox directly, so these tests are about what the flow and the runtime do with it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from itertools import count
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.runtime.executors import Services
from bot.runtime.inbox import NewEvent
from bot.storage.tables import SHIPMENT_WATCHES
from integrations.caching import CachedTracking
from integrations.models import NoSuchOrder, Order, Shipment
from integrations.protocols import OrderSystem
from integrations.sandbox import SandboxServices
from tests.harness import Bot, make_bot

AVA, EMMA = "1500000009", "1500000001"  # damaged parcel (reship) and on-time parcel in the demo shop
_pushes = count(1)


async def push_news(bot: Bot, conversation_id: int, *, first_of_tag: bool = True, **shipment: Any) -> list[str]:
    """Deliver carrier news to one conversation and return what the bot said."""
    before = len(bot.delivered)
    facts = {"carrier": "ups", "exception": None, "estimated_delivery": None, "delivered_on": None,
             "last_event": None, "in_customs": False, **shipment}  # fmt: skip
    bot.app.runtime.inbox.accept(
        [NewEvent(event_id=f"aftership:test-{next(_pushes)}:{conversation_id}", kind="shipment_update",
                  conversation_id=conversation_id, payload={"event": "tracking_update", "first_of_tag": first_of_tag,
                                                            "shipment": facts})]
    )  # fmt: skip
    await bot.app.runtime.drain()
    return [message.text for message in bot.delivered[before:]]


async def reshipped(bot: Bot) -> tuple[int, str]:
    """Ava's damaged parcel, replaced: the conversation waits for her rating. Returns (id, new number)."""
    await bot.send(AVA, "my order #1009 arrived broken")
    await bot.send(AVA, "yes")
    conversation = bot.conversation(AVA)
    assert conversation["state"] == "request_feedback"
    return conversation["id"], conversation["context"]["dispatch"]["tracking_number"]


async def test_the_replacements_first_scan_is_told_to_the_customer(bot: Bot) -> None:
    conversation_id, number = await reshipped(bot)

    said = await push_news(bot, conversation_id, tracking_number=number, status="in_transit")

    assert len(said) == 1
    assert "replacement parcel" in said[0] and number in said[0] and "first scan" in said[0]
    assert bot.conversation(AVA)["state"] == "request_feedback"  # the rating question still stands


async def test_a_delivery_is_told_and_a_problem_goes_to_a_person(bot: Bot) -> None:
    conversation_id, number = await reshipped(bot)

    delivered = await push_news(bot, conversation_id, tracking_number=number, status="delivered",
                                delivered_on="2026-11-24")  # fmt: skip
    assert len(delivered) == 1 and "delivered on" in delivered[0]

    problem = await push_news(bot, conversation_id, tracking_number=number, status="exception", exception="lost")
    assert len(problem) == 1 and "problem" in problem[0]
    assert bot.conversation(AVA)["state"] == "human"
    assert ["carrier_exception"] in [row["reasons"] for row in bot.escalations()]


async def test_a_delivery_is_told_once_however_many_updates_follow_it(bot: Bot) -> None:
    # AfterShip pushes every new scan under a tag; only the first under "Delivered" is news.
    conversation_id, number = await reshipped(bot)
    first = await push_news(bot, conversation_id, tracking_number=number, status="delivered", delivered_on="2026-11-24")
    again = await push_news(bot, conversation_id, tracking_number=number, status="delivered",
                            delivered_on="2026-11-24", first_of_tag=False)  # fmt: skip
    assert len(first) == 1 and "delivered on" in first[0]
    assert again == []


async def test_a_problem_the_conversation_already_handles_is_not_news(bot: Bot) -> None:
    # Ava's parcel arrived damaged and was replaced; AfterShip pushing one more scan under the same
    # Exception tag about that parcel must not take the conversation from the bot.
    conversation_id, _ = await reshipped(bot)
    original = bot.conversation(AVA)["context"]["order"]["shipments"][0]["tracking_number"]

    said = await push_news(bot, conversation_id, tracking_number=original, status="exception", exception="damaged",
                           first_of_tag=False)  # fmt: skip

    assert said == []
    assert bot.conversation(AVA)["state"] == "request_feedback"


async def test_news_while_a_person_owns_the_conversation_is_kept_but_not_answered(bot: Bot) -> None:
    conversation_id, number = await reshipped(bot)
    await bot.send(AVA, "can I talk to a human please")
    escalations = len(bot.escalations())

    said = await push_news(bot, conversation_id, tracking_number=number, status="in_transit")

    assert said == []
    assert len(bot.escalations()) == escalations  # no flow error, no new escalation
    news = [event for event in bot.events(kind="shipment_update")]
    assert len(news) == 1 and news[0]["outcome"].startswith("ignored")


async def test_an_unremarkable_update_says_nothing(bot: Bot) -> None:
    conversation_id, _ = await reshipped(bot)
    # Still in transit, not a first scan of the replacement: nothing worth a DM.
    said = await push_news(bot, conversation_id, tracking_number="1Z999AA10123456784", status="in_transit")
    assert said == []
    assert bot.conversation(AVA)["state"] == "request_feedback"


async def test_looking_up_and_booking_parcels_makes_the_conversation_follow_them(bot: Bot) -> None:
    conversation_id, number = await reshipped(bot)

    with bot.app.engine.connect() as connection:
        followed = {(row.tracking_number, row.conversation_id) for row in connection.execute(select(SHIPMENT_WATCHES))}

    original = bot.conversation(AVA)["context"]["order"]["shipments"][0]["tracking_number"]
    assert (original.upper(), conversation_id) in followed
    assert (number.upper(), conversation_id) in followed


@dataclass
class RecentOrdersOnly:
    """An order system like Shopify without read_all_orders: it sees the last 60 days only."""

    inner: OrderSystem
    visible_since: date

    async def find_order(self, number: str) -> Order | NoSuchOrder:
        found = await self.inner.find_order(number)
        if isinstance(found, NoSuchOrder):
            return NoSuchOrder(number=number, visible_since=self.visible_since)
        return found


def recent_orders_only(services: Services, sandbox: SandboxServices) -> Services:
    return replace(services, orders=RecentOrdersOnly(inner=services.orders, visible_since=date(2026, 9, 24)))


async def test_an_order_the_shop_cannot_see_is_not_called_missing(tmp_path: Path) -> None:
    bot = make_bot(tmp_path, customize=recent_orders_only)

    await bot.send(EMMA, "where is my parcel?")
    first = await bot.send(EMMA, "order #4711")
    assert any("recent orders" in text for text in first)
    assert not any("couldn't find an order #4711 on our side" in text for text in first)

    replies: list[str] = []
    for _ in range(3):  # the customer insists: a person who can look further back takes over
        replies = await bot.send(EMMA, "it really is #4711")
        if bot.conversation(EMMA)["state"] == "human":
            break
    assert any("further back" in text for text in replies)
    assert ["order_not_visible"] in [row["reasons"] for row in bot.escalations()]


async def test_a_conclusive_search_still_says_not_found(bot: Bot) -> None:
    await bot.send(EMMA, "where is my parcel?")
    said = await bot.send(EMMA, "order #4711")
    assert any("couldn't find an order #4711" in text for text in said)


async def test_sending_the_number_once_more_brings_in_a_person_as_promised(tmp_path: Path) -> None:
    # The bot says "send it once more and I'll bring in a teammate": the second try must hand over.
    bot = make_bot(tmp_path, customize=recent_orders_only)
    await bot.send(EMMA, "where is my parcel?")
    first = await bot.send(EMMA, "order #4711")
    assert any("send it once more" in text for text in first)

    second = await bot.send(EMMA, "it really is #4711")

    assert bot.conversation(EMMA)["state"] == "human"
    assert any("further back" in text for text in second)


@dataclass
class CountingTracking:
    inner: Any
    calls: list[str]

    async def track(self, *, carrier: str, tracking_number: str) -> Shipment | None:
        self.calls.append(tracking_number)
        found: Shipment | None = await self.inner.track(carrier=carrier, tracking_number=tracking_number)
        return found


async def test_pushed_news_is_not_hidden_by_the_lookup_cache_of_the_worker(tmp_path: Path) -> None:
    # The webhook runs in the web process; the worker's tracking cache must drop its view of a parcel
    # the carrier pushed news about, or a lookup minutes later contradicts what the bot just told.
    calls: list[str] = []
    cached: list[CachedTracking] = []

    def cache_tracking(services: Services, sandbox: SandboxServices) -> Services:
        cached.append(CachedTracking(inner=CountingTracking(inner=services.tracking, calls=calls), ttl=600))
        return replace(services, tracking=cached[0])

    bot = make_bot(tmp_path, customize=cache_tracking)
    conversation_id, number = await reshipped(bot)
    original = bot.conversation(AVA)["context"]["order"]["shipments"][0]
    asked = len(calls)
    assert asked >= 1

    await push_news(bot, conversation_id, tracking_number=original["tracking_number"].lower(), status="delivered",
                    delivered_on="2026-11-24", first_of_tag=False)  # fmt: skip
    await cached[0].track(carrier=original["carrier"], tracking_number=original["tracking_number"])

    assert len(calls) == asked + 1  # asked the carrier again instead of answering from the cache


async def test_news_does_not_hold_an_idle_conversation_open(bot: Bot) -> None:
    # The rating question waits 48 hours for the customer; a parcel scan in between is not her answering.
    conversation_id, number = await reshipped(bot)
    await bot.wait(hours=47)
    said = await push_news(bot, conversation_id, tracking_number=number, status="in_transit")
    assert len(said) == 1 and bot.conversation(AVA)["state"] == "request_feedback"

    await bot.wait(hours=2)

    assert bot.conversation(AVA)["state"] == "closed"  # on the first timer's time, not 48 hours after the scan


async def test_the_customer_answering_still_restarts_the_wait(bot: Bot) -> None:
    await bot.send(EMMA, "hi, my parcel is late")  # asked for the order number: 24 hours to answer
    await bot.wait(hours=20)
    await bot.send(EMMA, "let me look for it")
    assert bot.conversation(EMMA)["state"] == "collect_order"

    await bot.wait(hours=20)
    assert bot.conversation(EMMA)["state"] == "collect_order"  # 40 hours after the first, 20 after the second
    await bot.wait(hours=5)
    assert bot.conversation(EMMA)["state"] == "closed"
