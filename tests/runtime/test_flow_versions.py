"""A conversation stays on the flow version it started with; new ones start on the newest published."""

from __future__ import annotations

import pytest

from bot.runtime.flow_registry import FlowVersionConflict
from bot.storage.tables import Conversation
from flows.loader import DEFAULT_FLOW_PATH, parse_flow
from tests.harness import Bot

LIAM, SOFIA = "1500000002", "1500000003"


def _version_two() -> str:
    text = DEFAULT_FLOW_PATH.read_text(encoding="utf-8").replace("version: 1\n", "version: 2\n", 1)
    text = text.replace("Could you send me your order number?", "V2 asks for the order number.", 1)
    return text.replace("I couldn't spot an order number in that.", "V2 re-asks.", 1)


async def test_running_conversations_keep_their_version(bot: Bot) -> None:
    await bot.send(LIAM, "hello")  # starts on v1, now waiting for the order number
    bot.app.runtime.flows.publish(parse_flow(_version_two()))
    assert "V2 asks" in (await bot.send(SOFIA, "hello"))[0]  # a new conversation starts on v2
    old = (await bot.send(LIAM, "no idea"))[0]
    assert "I couldn't spot an order number" in old and "V2" not in old  # the running one stays on v1
    assert "V2 re-asks" in (await bot.send(SOFIA, "no idea"))[0]
    versions = {row["customer_id"]: row["flow_version"] for row in bot.rows(Conversation)}
    assert versions == {LIAM: 1, SOFIA: 2}


def test_a_version_number_cannot_be_reused_for_other_content(bot: Bot) -> None:
    changed = DEFAULT_FLOW_PATH.read_text(encoding="utf-8").replace("max_order_attempts: 3", "max_order_attempts: 4")
    with pytest.raises(FlowVersionConflict):
        bot.app.runtime.flows.publish(parse_flow(changed))
