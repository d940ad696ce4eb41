"""While a conversation waits for a person: told once when a person will answer, then silence.

The SLA comes from the flow's ``escalation.sla`` by priority (seeds: a first human answer within the
hour); the escalation records it as its due time, and the customer hears it once, with the hand-over.
"""

from __future__ import annotations

from datetime import timedelta

from tests.harness import Bot

EMMA = "1500000001"


async def test_the_hand_over_says_when_a_person_will_answer_and_then_the_bot_is_silent(bot: Bot) -> None:
    handover = await bot.send(EMMA, "can I talk to a human please")

    assert len(handover) == 1
    assert "within 30 minutes" in handover[0]  # customer_asked is high priority: 30 minutes by default
    [escalation] = bot.escalations()
    assert escalation["priority"] == "high"
    assert escalation["sla_due_at"].replace(tzinfo=None) == (bot.clock.now() + timedelta(minutes=30)).replace(
        tzinfo=None
    )

    assert await bot.send(EMMA, "hello?") == []
    assert await bot.send(EMMA, "anyone there? my order is #1001") == []
    kept = [m["text"] for m in bot.messages() if m["author"] == "customer"]
    assert kept[-2:] == ["hello?", "anyone there? my order is #1001"]  # shown to the agent


async def test_the_promise_follows_the_priority_in_the_customers_language(bot: Bot) -> None:
    await bot.send(EMMA, "你好")
    for attempt in ("不知道", "没有", "还是不知道"):  # no order number, three times: normal priority
        said = await bot.send(EMMA, attempt)

    assert bot.conversation(EMMA)["state"] == "human"
    assert any("60 分钟" in text for text in said), said


async def test_after_a_hand_back_a_new_hand_over_is_told_again(bot: Bot) -> None:
    await bot.send(EMMA, "I want a human")
    conversation = bot.conversation(EMMA)
    await bot.agent(conversation["id"], "agent_handback")

    again = await bot.send(EMMA, "actually, a human again please")

    assert any("within 30 minutes" in text for text in again)
    first, second = bot.escalations()
    assert (first["status"], second["status"]) == ("resolved", "open")  # a new escalation, not the old one
