"""Polling GET /2/dm_events: pagination, a cursor in the database, backfill, the read budget."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from bot.ingest.x_poller import CURSOR, XPoller
from bot.runtime.send_budget import SendBudget, parse_windows
from bot.storage.tables import INGEST_CURSORS
from tests.ingest.conftest import XWorld, demo_customers, x_world

CUSTOMERS = [customer.user_id for customer in demo_customers()]


def poller(world: XWorld, *, reads: str = "15/15m", first_backfill: timedelta = timedelta(hours=24)) -> XPoller:
    return XPoller(
        api=world.api, engine=world.bot.app.engine, clock=world.bot.clock, bot_user_id=world.bot_user_id,
        read_budget=SendBudget(name="x.dm_read", windows=parse_windows(reads)), first_backfill=first_backfill,
    )  # fmt: skip


def inbox_texts(world: XWorld) -> list[str]:
    return [row["payload"]["text"] for row in world.bot.events(kind="message")]


async def test_polled_dms_are_answered_once_and_the_bots_own_are_skipped(tmp_path: Path) -> None:
    async with x_world(tmp_path, webhook=False) as world:
        await world.sandbox.customer_sends(CUSTOMERS[1], "my parcel is late")
        result = await poller(world).poll_once()
        assert (result.pages, result.new, result.caught_up) == (1, 1, True)
        await world.bot.app.runtime.drain()
        assert len(world.bot_dms_to(CUSTOMERS[1])) == 1
        again = await poller(world).poll_once()  # the bot's reply is now the newest event
        assert again.new == 0
        assert inbox_texts(world) == ["my parcel is late"]


async def test_a_long_backlog_is_paged_through_and_stored_oldest_first(tmp_path: Path) -> None:
    async with x_world(tmp_path, webhook=False) as world:
        for n in range(230):
            await world.sandbox.customer_sends(CUSTOMERS[n % 5], f"message {n}")
            world.bot.clock.advance(seconds=1)
        result = await poller(world).poll_once()
        assert (result.pages, result.new, result.caught_up) == (3, 230, True)
        assert inbox_texts(world) == [f"message {n}" for n in range(230)]


async def test_the_read_budget_stops_a_walk_which_resumes_where_it_stopped(tmp_path: Path) -> None:
    async with x_world(tmp_path, webhook=False) as world:
        for n in range(250):
            await world.sandbox.customer_sends(CUSTOMERS[n % 5], f"message {n}")
            world.bot.clock.advance(seconds=1)
        first = await poller(world, reads="2/15m").poll_once()
        assert (first.pages, first.caught_up) == (2, False)
        assert (await poller(world, reads="2/15m").poll_once()).pages == 0  # no read left
        world.bot.clock.advance(minutes=15)
        second = await poller(world, reads="2/15m").poll_once()
        assert (second.pages, second.caught_up) == (1, True)
        assert sorted(inbox_texts(world)) == sorted(f"message {n}" for n in range(250))


async def test_dms_that_arrived_while_the_bot_was_down_are_backfilled(tmp_path: Path) -> None:
    async with x_world(tmp_path, webhook=False) as world:
        await world.sandbox.customer_sends(CUSTOMERS[0], "before the outage")
        await poller(world).poll_once()
        world.bot.clock.advance(days=3)  # down for three days
        await world.sandbox.customer_sends(CUSTOMERS[1], "during the outage")
        world.bot.clock.advance(days=2)
        await world.sandbox.customer_sends(CUSTOMERS[2], "just now")
        result = await poller(world).poll_once()
        assert result.new == 2
        assert inbox_texts(world) == ["before the outage", "during the outage", "just now"]
        with world.bot.app.engine.connect() as connection:
            state = connection.execute(
                select(INGEST_CURSORS.c.state).where(INGEST_CURSORS.c.name == CURSOR)
            ).scalar_one()
        assert state["walk"] is None and int(state["newest"]) == int(world.sandbox.events()[-1]["id"])


async def test_the_first_start_backfills_only_its_window(tmp_path: Path) -> None:
    async with x_world(tmp_path, webhook=False) as world:
        await world.sandbox.customer_sends(CUSTOMERS[0], "two days ago")
        world.bot.clock.advance(days=2)
        await world.sandbox.customer_sends(CUSTOMERS[1], "an hour ago")
        world.bot.clock.advance(hours=1)
        await poller(world, first_backfill=timedelta(hours=24)).poll_once()
        assert inbox_texts(world) == ["an hour ago"]


async def test_webhook_and_polling_together_process_each_dm_once(tmp_path: Path) -> None:
    async with x_world(tmp_path, webhook=True) as world:
        await world.sandbox.customer_sends(CUSTOMERS[1], "my parcel is late")
        await world.settle()
        result = await poller(world).poll_once()
        assert result.new == 0
        await world.settle()
        assert len(world.bot_dms_to(CUSTOMERS[1])) == 1
        assert len(world.bot.events(kind="message")) == 1
