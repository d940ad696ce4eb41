"""The outbox: commands claimed by one worker at a time, replies retried through outages."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from bot.runtime.executors import Executors, Services
from bot.runtime.inbox import NewEvent
from bot.runtime.outbox import Outbox
from tests.harness import Bot, make_bot
from tests.runtime.channels import ScriptedChannel, scripted

LIAM = "1500000002"


async def test_two_workers_never_run_one_command_twice(tmp_path: Path) -> None:
    holder: dict[str, ScriptedChannel] = {}
    bot = make_bot(tmp_path, customize=scripted(holder))
    runtime = bot.app.runtime
    executors = Executors(
        services=replace_channel(bot, holder["channel"]), engine=bot.app.engine, first_response_sla=timedelta(hours=1)
    )
    second = Outbox(engine=bot.app.engine, clock=bot.clock, executors=executors)

    runtime.inbox.accept(
        [
            NewEvent(event_id=f"m{n}", kind="message", customer_id=f"99{n:04d}", payload={"text": "hi"})
            for n in range(60)
        ]
    )
    runtime.processor.process_batch(1000)
    await asyncio.gather(runtime.outbox.run_due(1000), second.run_due(1000), runtime.outbox.run_due(1000))
    await runtime.drain()
    assert len(holder["channel"].calls) == 60
    assert set(holder["channel"].calls.values()) == {1}


def replace_channel(bot: Bot, channel: ScriptedChannel) -> Services:
    return replace(bot.app.services, channel=channel)


async def test_a_reply_waits_out_an_outage_and_is_sent_once(tmp_path: Path) -> None:
    holder: dict[str, ScriptedChannel] = {}
    bot = make_bot(tmp_path, customize=scripted(holder), max_command_attempts=2)
    holder["channel"].down = True
    assert await bot.send(LIAM, "my parcel is late") == []
    for _ in range(8):  # far more tries than max_command_attempts: replies are not given up quickly
        assert await bot.wait(minutes=5) == []
    holder["channel"].down = False
    delivered = await bot.wait(minutes=5)
    assert len(delivered) == 1 and "order number" in delivered[0]
    assert bot.commands(kind="send_reply")[0]["status"] == "done"
    assert bot.escalations() == []


async def test_a_reply_undeliverable_for_a_day_goes_to_a_person(tmp_path: Path) -> None:
    holder: dict[str, ScriptedChannel] = {}
    bot = make_bot(tmp_path, customize=scripted(holder))
    holder["channel"].down = True
    await bot.send(LIAM, "my parcel is late")
    for _ in range(30):
        await bot.wait(hours=1)
    assert bot.commands(kind="send_reply")[0]["status"] == "failed"
    assert [(row["reasons"], row["priority"]) for row in bot.escalations()] == [(["send_reply_failed"], "urgent")]
