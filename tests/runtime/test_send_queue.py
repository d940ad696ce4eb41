"""Outgoing DMs under X's send budget: a durable queue, most urgent first, never over the budget.

Runs the real runtime (sandbox shop, SQLite file, movable clock) with a budget of 2 DMs per 15
minutes, so the queue is the bottleneck and its order and limits can be seen.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from bot.conversation import Urgency
from bot.runtime.send_budget import SendBudget, parse_windows
from integrations.errors import RateLimitedError, RetryableIntegrationError
from integrations.models import RateLimit
from tests.harness import Bot, MovableClock, make_bot
from tests.runtime.channels import ScriptedChannel, scripted

LIAM, SOFIA, NOAH, LINA = "1500000002", "1500000003", "1500000005", "1500000006"


def budget(spec: str = "2/15m") -> SendBudget:
    return SendBudget(name="x.dm_send", windows=parse_windows(spec))


def sent_to(bot: Bot) -> list[str]:
    return [message.recipient_id for message in bot.delivered]


def assert_within(bot: Bot, sent_at: list[datetime], limit: int, window: timedelta) -> None:
    for index, first in enumerate(sent_at):
        assert len([moment for moment in sent_at[index:] if moment < first + window]) <= limit


async def test_the_most_urgent_dm_goes_first_when_the_budget_is_short(tmp_path: Path) -> None:
    bot = make_bot(tmp_path, send_budget=budget())
    await bot.send(LIAM, "my parcel is late")  # first answers: the budget's two DMs
    await bot.send(SOFIA, "hello, my order hasn't arrived")
    assert sent_to(bot) == [LIAM, SOFIA]

    await bot.send(SOFIA, "order 1003")  # an answer: waits
    await bot.send(NOAH, "where is my parcel?")  # a first answer: waits, but goes before Sofia's
    await bot.send(LIAM, "I want to talk to a real person")  # a hand-over notice: goes first of all
    assert sent_to(bot) == [LIAM, SOFIA]
    waiting = {row["conversation_id"]: row["priority"] for row in bot.commands(kind="send_reply", status="pending")}
    assert sorted(waiting.values()) == [Urgency.HANDOVER, Urgency.FIRST_ANSWER, Urgency.ANSWER]

    await bot.wait(minutes=14)
    assert sent_to(bot) == [LIAM, SOFIA]  # nothing before the window reopens
    await bot.wait(minutes=1)
    assert sent_to(bot)[2:] == [LIAM, NOAH]
    await bot.wait(minutes=15)
    assert set(sent_to(bot)[4:]) == {SOFIA}  # Sofia's answer (a turn may be more than one DM)
    assert "300 points" in bot.delivered[-1].text


async def test_a_backlog_never_exceeds_the_budget_and_loses_nothing(tmp_path: Path) -> None:
    clock = MovableClock()
    moments: list[datetime] = []
    bot = make_bot(tmp_path, send_budget=budget("3/15m,7/2h"), clock=clock)
    channel = bot.app.sandbox.channel
    channel._on_delivered = lambda message: (bot.delivered.append(message), moments.append(clock.now()))  # type: ignore[assignment]
    customers = [f"99000{n:05d}" for n in range(12)]
    for customer in customers:
        await bot.send(customer, "hi, my parcel is late")
    for _ in range(8 * 60):
        await bot.wait(minutes=1)
    assert sorted(sent_to(bot)) == sorted(customers)  # everyone answered, once
    assert_within(bot, moments, 3, timedelta(minutes=15))
    assert_within(bot, moments, 7, timedelta(hours=2))


async def test_queued_dms_survive_a_restart(tmp_path: Path) -> None:
    first = make_bot(tmp_path, send_budget=budget("1/15m"))
    for customer in (LIAM, SOFIA, NOAH):
        await first.send(customer, "my order is late")
    assert sent_to(first) == [LIAM]
    first.app.close()

    clock = MovableClock(current=first.clock.now())
    second = make_bot(tmp_path, send_budget=budget("1/15m"), clock=clock)
    await second.wait(minutes=1)
    assert second.delivered == []  # the restart did not reset the budget
    await second.wait(minutes=15)
    await second.wait(minutes=15)
    assert sent_to(second) == [SOFIA, NOAH]
    assert [row["status"] for row in second.commands(kind="send_reply")] == ["done"] * 3


async def test_a_429_waits_for_the_reset_and_holds_every_send_until_then(tmp_path: Path) -> None:
    holder: dict[str, ScriptedChannel] = {}
    bot = make_bot(tmp_path, customize=scripted(holder), send_budget=budget("15/15m"))
    channel = holder["channel"]
    channel.rate_limited_until = bot.clock.now() + timedelta(minutes=5)
    await bot.send(LIAM, "my parcel is late")
    await bot.send(SOFIA, "my parcel is late")
    assert bot.delivered == []
    tried = sum(channel.calls.values())
    for _ in range(4):
        await bot.wait(minutes=1)
    assert sum(channel.calls.values()) == tried  # no request while X says the window is spent
    channel.rate_limited_until = None
    await bot.wait(minutes=1, seconds=1)
    assert sorted(sent_to(bot)) == sorted([LIAM, SOFIA])
    assert [row["status"] for row in bot.commands(kind="send_reply")] == ["done", "done"]


async def test_a_send_with_an_unknown_outcome_is_found_not_sent_again(tmp_path: Path) -> None:
    holder: dict[str, ScriptedChannel] = {}
    bot = make_bot(tmp_path, customize=scripted(holder), send_budget=budget("15/15m"))
    holder["channel"].lose_answers = 1
    await bot.send(LIAM, "my parcel is late")
    assert len(bot.delivered) == 1
    await bot.wait(seconds=30)
    await bot.wait(minutes=5)
    assert len(bot.delivered) == 1  # the customer got it once
    assert holder["channel"].lookups == 1  # settled by looking, not by sending again
    [command] = bot.commands(kind="send_reply")
    assert command["status"] == "done" and command["result"]["reconciled"] is True
    [message] = bot.messages(direction="out")
    assert message["external_id"] == bot.delivered[0].message_id


async def test_a_send_that_failed_for_certain_is_not_looked_for(tmp_path: Path) -> None:
    holder: dict[str, ScriptedChannel] = {}
    bot = make_bot(tmp_path, customize=scripted(holder), send_budget=budget("15/15m"))
    holder["channel"].rate_limited_until = bot.clock.now() + timedelta(seconds=30)
    await bot.send(LIAM, "my parcel is late")
    holder["channel"].rate_limited_until = None
    await bot.wait(minutes=2)
    assert len(bot.delivered) == 1
    assert holder["channel"].lookups == 0


async def test_a_failed_lookup_keeps_the_send_uncertain_so_it_is_never_sent_twice(tmp_path: Path) -> None:
    holder: dict[str, ScriptedChannel] = {}
    bot = make_bot(tmp_path, customize=scripted(holder), send_budget=budget("15/15m"))
    channel = holder["channel"]
    channel.lose_answers = 1
    channel.lookup_failures = [RetryableIntegrationError("X is down", service="x")]
    await bot.send(LIAM, "my parcel is late")
    for _ in range(3):
        await bot.wait(minutes=2)
    assert len(bot.delivered) == 1
    assert channel.lookups == 2  # the failed lookup, then the one that found it
    [command] = bot.commands(kind="send_reply")
    assert command["status"] == "done" and command["result"]["reconciled"] is True


async def test_a_rate_limited_lookup_does_not_close_the_send_budget(tmp_path: Path) -> None:
    holder: dict[str, ScriptedChannel] = {}
    bot = make_bot(tmp_path, customize=scripted(holder), send_budget=budget("15/15m"))
    channel = holder["channel"]
    channel.lose_answers = 1
    reading = RateLimit(limit=15, remaining=0, reset_at=bot.clock.now() + timedelta(hours=1))
    channel.lookup_failures = [RateLimitedError("reads spent", service="x", retry_after=3600, rate_limit=reading)]
    await bot.send(LIAM, "my parcel is late")
    await bot.wait(seconds=30)  # Liam's lookup hits the read limit
    await bot.send(SOFIA, "my parcel is late")
    assert sent_to(bot)[-1] == SOFIA  # sends were not held for the read limit's hour
