"""Nothing lost, nothing twice: duplicates, timers, hand-over, one compensation per order, retries."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

import pytest

from bot.runtime.executors import Services
from bot.storage.tables import Compensation
from integrations.errors import RetryableIntegrationError
from integrations.models import PointsAward, Refund
from integrations.protocols import PointsProgram, RefundService
from integrations.sandbox import SandboxServices, SandboxTracking
from tests.harness import Bot, make_bot

LIAM, SOFIA, LINA, LUCAS = "1500000002", "1500000003", "1500000006", "1500000011"


async def test_a_redelivered_message_is_processed_once(bot: Bot) -> None:
    first = await bot.send(LIAM, "my parcel is late", event_id="x-dm-1")
    again = await bot.send(LIAM, "my parcel is late", event_id="x-dm-1")
    assert first and again == []
    assert len(bot.events(kind="message")) == 1
    assert len(bot.messages(direction="in")) == 1
    assert bot.conversation(LIAM)["revision"] == 1


async def test_redelivery_after_the_conversation_moved_on_changes_nothing(bot: Bot) -> None:
    await bot.send(LIAM, "my parcel is late", event_id="dm-a")
    await bot.send(LIAM, "order 1002", event_id="dm-b")
    state, revision = bot.conversation(LIAM)["state"], bot.conversation(LIAM)["revision"]
    assert await bot.send(LIAM, "order 1002", event_id="dm-b") == []
    assert (bot.conversation(LIAM)["state"], bot.conversation(LIAM)["revision"]) == (state, revision)
    assert len(bot.commands(kind="lookup_order")) == 1


async def test_an_idle_customer_is_closed_after_the_timeout_and_older_timers_are_cancelled(bot: Bot) -> None:
    await bot.send(LIAM, "hello")  # collect_order, timer due at +24h
    assert await bot.wait(hours=23) == []
    await bot.send(LIAM, "I can't find the number")  # re-ask; a new timer due at +47h
    assert await bot.wait(hours=2) == []  # the first timer would be due now: it was cancelled
    assert bot.conversation(LIAM)["state"] == "collect_order"
    assert [row["status"] for row in bot.commands(kind="schedule_timeout")] == ["cancelled", "pending"]
    closing = await bot.wait(hours=23)
    assert len(closing) == 1 and "close this for now" in closing[0]
    assert bot.conversation(LIAM)["state"] == "closed"
    assert [row["status"] for row in bot.commands(kind="schedule_timeout")] == ["cancelled", "done"]


async def test_a_timer_from_an_older_revision_is_ignored_by_the_core(bot: Bot) -> None:
    """Defence in depth: a timeout event that outlived its revision changes nothing."""
    await bot.send(LIAM, "hello")
    conversation = bot.conversation(LIAM)
    from bot.runtime.inbox import NewEvent

    bot.app.runtime.inbox.accept(
        [
            NewEvent(
                event_id="old-timer",
                kind="timeout",
                conversation_id=conversation["id"],
                payload={"revision": conversation["revision"] - 1, "state": "acknowledge"},
            )
        ]
    )
    await bot.app.runtime.drain()
    assert bot.conversation(LIAM)["state"] == "collect_order"
    assert bot.events(event_id="old-timer")[0]["outcome"] == "collect_order -> collect_order (stale timeout)"


async def test_while_a_person_owns_the_conversation_the_bot_is_silent(bot: Bot) -> None:
    await bot.send(LUCAS, "order #1011 is late")  # high value: a person takes over
    conversation = bot.conversation(LUCAS)
    assert conversation["state"] == "human"
    assert await bot.send(LUCAS, "hello??") == []
    assert await bot.send(LUCAS, "anyone there") == []
    assert [row["text"] for row in bot.messages(direction="in")][-2:] == ["hello??", "anyone there"]
    relayed = await bot.agent(conversation["id"], "agent_reply", "Hi, I'm Dana. I've booked a courier for you.")
    assert relayed == ["Hi, I'm Dana. I've booked a courier for you."]
    assert bot.messages(direction="out")[-1]["author"] == "agent"
    assert await bot.agent(conversation["id"], "agent_close") == []
    assert bot.conversation(LUCAS)["state"] == "closed"


async def test_agent_handback_asks_for_a_rating(bot: Bot) -> None:
    await bot.send(LIAM, "I want to talk to a human")
    conversation = bot.conversation(LIAM)
    replies = await bot.agent(conversation["id"], "agent_handback")
    assert len(replies) == 1 and "1 (poor) to 5" in replies[0]
    assert (await bot.send(LIAM, "5"))[0].startswith("Thank you")


async def test_a_message_after_closing_starts_a_new_conversation(bot: Bot) -> None:
    await bot.send(LIAM, "order 1002 is late")
    await bot.send(LIAM, "yes")
    await bot.send(LIAM, "5")
    closed = bot.conversation(LIAM)
    assert closed["state"] == "closed" and not closed["is_open"]
    replies = await bot.send(LIAM, "hi again, quick question")
    assert "order number" in replies[0]
    fresh = bot.conversation(LIAM)
    assert fresh["id"] != closed["id"] and fresh["state"] == "collect_order"


async def test_a_second_conversation_about_the_same_order_pays_nothing_more(bot: Bot) -> None:
    await bot.send(LIAM, "order 1002 is late")
    await bot.send(LIAM, "yes")
    await bot.send(LIAM, "5")
    bot.clock.advance(days=4)  # now 6 days late: the policy alone would offer more
    replies = await bot.send(LIAM, "order 1002 is STILL late")
    assert "already made up for the trouble" in "".join(replies)
    assert "1000 points" not in "".join(replies)  # no second, bigger offer
    assert bot.conversation(LIAM)["state"] == "human"
    assert len(list(bot.app.sandbox.ledger.records("points"))) == 1
    assert len(bot.rows(Compensation)) == 1
    assert [row["reasons"] for row in bot.escalations()] == [["repeat_claim"]]


async def test_a_carrier_outage_is_retried_then_handed_to_a_person(tmp_path: Path) -> None:
    def outage(services: Services, sandbox: SandboxServices) -> Services:
        down = frozenset({"9400111201081647283918"})  # order 1002's parcel
        tracking = SandboxTracking(data=sandbox.data, ledger=sandbox.ledger, fail_numbers=down)
        return replace(services, tracking=tracking)

    bot = make_bot(tmp_path, customize=outage, max_command_attempts=3)
    replies = await bot.send(LIAM, "order 1002 is late")
    assert len(replies) == 1  # "looking it up"; the carrier is down
    for _ in range(6):
        replies += await bot.wait(seconds=10)
    assert "trouble reaching" in replies[-1]
    lookup = bot.commands(kind="lookup_tracking")[0]
    assert (lookup["status"], lookup["attempts"]) == ("failed", 3)
    assert bot.conversation(LIAM)["state"] == "human"
    assert [row["reasons"] for row in bot.escalations()] == [["lookup_failed"]]


@pytest.mark.parametrize("language_text", ["order 1002 is late", "订单1002迟到了"])
async def test_replies_keep_the_customers_language(bot: Bot, language_text: str) -> None:
    replies = await bot.send(LIAM, language_text)
    chinese = any("\u4e00" <= char <= "\u9fff" for char in "".join(replies))
    assert chinese == ("订单" in language_text)


async def test_an_agent_writing_takes_over_and_late_results_are_absorbed(bot: Bot) -> None:
    await bot.send(LIAM, "I want a person")
    conversation = bot.conversation(LIAM)
    assert await bot.agent(conversation["id"], "agent_handback")  # back with the bot: rating request
    relayed = await bot.agent(conversation["id"], "agent_reply", "One more thing: your refund is on its way.")
    assert relayed == ["One more thing: your refund is on its way."]
    assert bot.conversation(LIAM)["state"] == "human"  # the agent's words took the conversation back
    assert await bot.send(LIAM, "thanks!") == []  # and the bot stays silent


async def test_an_unexpected_event_hands_the_conversation_to_a_person(bot: Bot) -> None:
    from bot.runtime.inbox import NewEvent

    await bot.send(LIAM, "hello")
    conversation = bot.conversation(LIAM)
    # A carrier result nobody asked for, with no payload: the flow cannot take it in collect_order.
    bot.app.runtime.inbox.accept(
        [NewEvent(event_id="odd", kind="dispatched", conversation_id=conversation["id"], payload={})]
    )
    await bot.send(SOFIA, "hello")  # the other customer's message is not held back by the bad event
    assert bot.conversation(SOFIA)["state"] == "collect_order"
    assert bot.conversation(LIAM)["state"] == "human"
    assert bot.events(event_id="odd")[0]["outcome"].startswith("error: flow error")
    assert [row["reasons"] for row in bot.escalations()] == [["flow_error"]]
    assert await bot.send(LIAM, "hello?") == []  # a person owns it now: the bot is silent


@dataclass
class FlakyRefunds:
    """Refunds whose first call fails after the points were already awarded."""

    inner: RefundService
    failures: int = 1

    async def refund(self, *, order_number: str, amount: Decimal, idempotency_key: str) -> Refund:
        if self.failures:
            self.failures -= 1
            raise RetryableIntegrationError("gateway timeout", service="shop")
        return await self.inner.refund(order_number=order_number, amount=amount, idempotency_key=idempotency_key)


@dataclass
class CountingLoyalty:
    inner: PointsProgram
    awards: int = 0

    async def award_points(self, *, customer_id: str, points: int, reason: str, idempotency_key: str) -> PointsAward:
        self.awards += 1
        return await self.inner.award_points(
            customer_id=customer_id, points=points, reason=reason, idempotency_key=idempotency_key
        )


async def test_a_part_paid_before_a_failure_is_not_paid_again(tmp_path: Path) -> None:
    loyalty: dict[str, CountingLoyalty] = {}

    def flaky(services: Services, sandbox: SandboxServices) -> Services:
        loyalty["counting"] = CountingLoyalty(inner=services.points)
        return replace(services, refunds=FlakyRefunds(inner=services.refunds), points=loyalty["counting"])

    bot = make_bot(tmp_path, customize=flaky)
    await bot.send(LINA, "订单1006还没到")  # over 7 days late: full refund + 1000 points
    await bot.send(LINA, "好的")  # points awarded, then the refund fails once
    replies = await bot.wait(minutes=2)  # the retry pays the refund only
    assert "退款" in "".join(replies) and "1000 积分" in "".join(replies)
    assert loyalty["counting"].awards == 1
    assert [row["status"] for row in bot.rows(Compensation)] == ["issued"]


async def test_a_refund_that_fails_for_good_hands_over_and_keeps_the_record(tmp_path: Path) -> None:
    loyalty: dict[str, CountingLoyalty] = {}

    def broken(services: Services, sandbox: SandboxServices) -> Services:
        loyalty["counting"] = CountingLoyalty(inner=services.points)
        return replace(services, refunds=FlakyRefunds(inner=services.refunds, failures=99), points=loyalty["counting"])

    bot = make_bot(tmp_path, customize=broken, max_command_attempts=2)
    await bot.send(LINA, "订单1006还没到")
    await bot.send(LINA, "好的")
    replies = await bot.wait(minutes=5)
    assert any("出了点问题" in reply for reply in replies)  # an honest message, and a person
    assert bot.conversation(LINA)["state"] == "human"
    row = bot.rows(Compensation)[0]
    assert row["status"] == "failed"
    assert list(row["result"]["parts"]) == ["points"]  # what was paid stays on record for the agent
    assert loyalty["counting"].awards == 1
    assert [r["reasons"] for r in bot.escalations()] == [["compensation_failed"]]


async def test_the_running_bot_answers_on_its_own_and_stops_when_asked(bot: Bot) -> None:
    import asyncio

    from bot.runtime.inbox import NewEvent

    stop = asyncio.Event()
    runner = asyncio.create_task(bot.app.runtime.run_forever(stop))
    bot.app.runtime.inbox.accept(
        [NewEvent(event_id="live-1", kind="message", customer_id=LIAM, payload={"text": "my parcel is late"})]
    )
    bot.app.runtime.wake()
    for _ in range(200):
        if bot.delivered:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(runner, timeout=5)
    assert len(bot.delivered) == 1 and "order number" in bot.delivered[0].text
