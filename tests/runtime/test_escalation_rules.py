"""Escalation rules on every customer message: threats first, then anger; raised while waiting.

Through the real runtime and the default flow's rules (flows/default.yaml ``escalation:``).
"""

from __future__ import annotations

import pytest

from tests.harness import Bot

EMMA, LIAM = "1500000001", "1500000002"


@pytest.mark.parametrize(
    "text",
    [
        "If this isn't sorted by Friday I'm filing a chargeback with my bank.",
        "再不给我处理,我就去12315投诉你们。",
    ],
)
async def test_a_threat_goes_to_a_person_first_of_all(bot: Bot, text: str) -> None:
    said = await bot.send(EMMA, text)

    assert bot.conversation(EMMA)["state"] == "human"
    [escalation] = bot.escalations()
    assert escalation["priority"] == "urgent"
    assert "threat" in escalation["reasons"]
    assert any(reason.startswith("anger:threat_") for reason in escalation["reasons"])
    assert len(said) == 1 and ("15 minutes" in said[0] or "15 分钟" in said[0])


async def test_anger_mid_conversation_hands_over_at_once(bot: Bot) -> None:
    await bot.send(LIAM, "hi, my parcel is late")
    said = await bot.send(LIAM, "THIS IS RIDICULOUS!!! WHERE IS MY ORDER #1002???")

    assert bot.conversation(LIAM)["state"] == "human"
    [escalation] = bot.escalations()
    assert escalation["priority"] == "high" and "angry" in escalation["reasons"]
    assert "within 30 minutes" in said[0]


async def test_a_calm_customer_is_not_taken_for_an_angry_one(bot: Bot) -> None:
    await bot.send(EMMA, "OMG thank you so much!!! can't wait for it to arrive!!!")
    assert bot.conversation(EMMA)["state"] != "human"
    assert bot.escalations() == []


async def test_a_customer_getting_angrier_while_waiting_raises_the_priority_silently(bot: Bot) -> None:
    for attempt in ("hello", "I don't know", "no idea", "no"):  # no order number: a person, normal priority
        await bot.send(EMMA, attempt)
    assert bot.conversation(EMMA)["state"] == "human"
    [waiting] = bot.escalations()
    assert waiting["priority"] == "normal"

    angrier = await bot.send(EMMA, "Unbelievable. Still nobody?? I'm reporting you to the BBB.")

    assert angrier == []  # told once already: the bot stays silent
    [raised] = bot.escalations()  # the same escalation, now more urgent and due sooner
    assert raised["id"] == waiting["id"]
    assert raised["priority"] == "urgent"
    assert raised["sla_due_at"] < waiting["sla_due_at"]
    assert "threat" in raised["reasons"] and "order_number_not_found" in raised["reasons"]


async def test_a_milder_message_after_a_threat_never_lowers_what_the_conversation_waits_at(bot: Bot) -> None:
    await bot.send(EMMA, "I'm calling my lawyer about order #1001")
    assert bot.conversation(EMMA)["context"]["waiting"]["priority"] == "urgent"

    await bot.send(EMMA, "this is ridiculous, you useless scammers")

    assert bot.conversation(EMMA)["context"]["waiting"]["priority"] == "urgent"
    [escalation] = bot.escalations()
    assert escalation["priority"] == "urgent"
