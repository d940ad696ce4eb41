"""Customers on X: DMs in through the signed webhook, replies out through tweepy, over real HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest

from integrations.x.client import XCredentials
from tests.ingest.conftest import x_world

LIAM, SOFIA, NOAH = "1500000002", "1500000003", "1500000005"


@pytest.mark.parametrize("shape", ["account_activity", "activity"])
async def test_a_customer_is_answered_through_x(tmp_path: Path, shape: str) -> None:
    async with x_world(tmp_path, delivery_shape=shape) as world:
        await world.sandbox.customer_sends(LIAM, "my parcel is late & I need it <soon>")
        await world.settle()
        [first] = world.bot_dms_to(LIAM)
        assert "order number" in first
        await world.sandbox.customer_sends(LIAM, "it's order 1002")
        await world.settle()
        assert "300 points" in world.bot_dms_to(LIAM)[-1]
        [message, *_] = world.bot.messages(direction="in")
        assert message["text"] == "my parcel is late & I need it <soon>"  # X's &amp; escaping undone


async def test_an_oauth2_user_token_sends_too(tmp_path: Path) -> None:
    async with x_world(tmp_path, credentials=XCredentials(oauth2_user_token="user-token")) as world:
        await world.sandbox.customer_sends(SOFIA, "hello, my order hasn't arrived")
        await world.settle()
        assert len(world.bot_dms_to(SOFIA)) == 1


async def test_duplicates_and_both_shapes_are_processed_once(tmp_path: Path) -> None:
    async with x_world(tmp_path, delivery_shape="both") as world:
        world.sandbox.faults.duplicate_deliveries = True
        await world.sandbox.customer_sends(LIAM, "my parcel is late")
        await world.settle()
        attempts = world.deliveries(from_customers=True)
        assert len(attempts) == 4  # two shapes, each delivered twice
        assert len(world.bot.events(kind="message")) == 1
        assert len(world.bot_dms_to(LIAM)) == 1


async def test_the_bots_own_dms_echoed_back_are_ignored(tmp_path: Path) -> None:
    async with x_world(tmp_path, echo_bot_sends=True) as world:
        await world.sandbox.customer_sends(LIAM, "my parcel is late")
        await world.settle()
        echoes = world.deliveries(from_customers=False)
        assert echoes, "the sandbox echoes the bot's sends, as X does"
        assert [row["customer_id"] for row in world.bot.events(kind="message")] == [LIAM]
        assert len(world.bot_dms_to(LIAM)) == 1


async def test_dms_delivered_out_of_order_are_read_in_the_order_written(tmp_path: Path) -> None:
    async with x_world(tmp_path) as world:
        world.sandbox.faults.reverse_next_deliveries(2)
        await world.sandbox.customer_sends(NOAH, "hi, my parcel is late")
        await world.sandbox.customer_sends(NOAH, "the order is 1005")
        await world.settle()
        customer_lines = [row["text"] for row in world.bot.messages(direction="in")]
        assert customer_lines == ["hi, my parcel is late", "the order is 1005"]
        assert any("#1005" in text for text in world.bot_dms_to(NOAH))


async def test_a_429_waits_for_x_reset_then_sends_everything_once(tmp_path: Path) -> None:
    async with x_world(tmp_path) as world:
        world.sandbox.faults.force_429(1)
        await world.sandbox.customer_sends(LIAM, "my parcel is late")
        await world.sandbox.customer_sends(SOFIA, "my parcel is late too")
        await world.settle()
        assert world.bot_dms_to(LIAM) + world.bot_dms_to(SOFIA) != []  # the other one went out
        waiting = world.bot.commands(kind="send_reply", status="pending")
        assert len(waiting) == 1 and "RateLimitedError" in waiting[0]["error"]
        await world.bot.wait(minutes=15, seconds=1)  # past the reset X announced
        await world.settle()
        assert len(world.bot_dms_to(LIAM)) == 1 and len(world.bot_dms_to(SOFIA)) == 1


async def test_a_timed_out_send_that_x_did_create_is_not_sent_twice(tmp_path: Path) -> None:
    async with x_world(tmp_path, timeout=0.5) as world:
        world.sandbox.faults.hang_after_create(2.0)
        await world.sandbox.customer_sends(LIAM, "my parcel is late")
        await world.settle()
        [command] = world.bot.commands(kind="send_reply")
        assert command["status"] == "pending" and "OutcomeUnknownError" in command["error"]
        assert len(world.bot_dms_to(LIAM)) == 1  # X did create it
        await world.bot.wait(minutes=2)
        await world.settle()
        [command] = world.bot.commands(kind="send_reply")
        assert command["status"] == "done" and command["result"]["reconciled"] is True
        assert len(world.bot_dms_to(LIAM)) == 1


async def test_a_timed_out_send_that_x_never_created_is_sent(tmp_path: Path) -> None:
    async with x_world(tmp_path, timeout=0.5) as world:
        world.sandbox.faults.next_sends_fail_with(503)
        await world.sandbox.customer_sends(LIAM, "my parcel is late")
        await world.settle()
        assert world.bot_dms_to(LIAM) == []
        await world.bot.wait(minutes=2)
        await world.settle()
        assert len(world.bot_dms_to(LIAM)) == 1


async def test_dms_queued_under_the_budget_go_out_after_a_restart_once_each(tmp_path: Path) -> None:
    async with x_world(tmp_path, budget="1/15m") as world:
        for customer in (LIAM, SOFIA, NOAH):
            await world.sandbox.customer_sends(customer, "my parcel is late")
        await world.settle()
        assert [len(world.bot_dms_to(customer)) for customer in (LIAM, SOFIA, NOAH)] == [1, 0, 0]
        world.restart()
        await world.settle()
        assert len(world.bot_dms_to(SOFIA)) == 0  # the restart did not refill the budget
        for _ in range(2):
            await world.bot.wait(minutes=15)
            await world.settle()
        assert [len(world.bot_dms_to(customer)) for customer in (LIAM, SOFIA, NOAH)] == [1, 1, 1]
