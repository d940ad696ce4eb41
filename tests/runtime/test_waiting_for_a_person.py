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


async def test_a_customer_an_agent_already_answers_is_not_told_a_person_will_answer(bot: Bot) -> None:
    await bot.send(EMMA, "hi, my parcel is late")
    conversation = bot.conversation(EMMA)
    await bot.agent(conversation["id"], "agent_reply", "Hi, I'm Dana, I'm looking at your order now.")

    angrier = await bot.send(EMMA, "this is absolutely ridiculous, you scammers")

    assert angrier == []  # the agent is talking: the bot says nothing, not "a person will answer"
    [escalation] = bot.escalations()
    assert escalation["priority"] == "high"  # still raised for the agent's queue


def test_the_promise_in_hours_is_never_earlier_than_the_sla() -> None:
    from bot.conversation import ConversationSnapshot, Event
    from bot.core.step import DecisionCore
    from flows.compiler import compile_flow
    from flows.loader import DEFAULT_FLOW_PATH, parse_flow
    from tests.harness import START

    text = DEFAULT_FLOW_PATH.read_text().replace("normal: 1h,", "normal: 150m,")
    core = DecisionCore(compile_flow(parse_flow(text)))
    snapshot = ConversationSnapshot(
        conversation_id=7, customer_id=EMMA, flow_key=core.flow.key, state="collect_order", revision=3,
        context={"language": "en", "order_attempts": 2},
    )  # fmt: skip
    message = Event(kind="message", payload={"text": "no idea"}, occurred_at=START, event_id="e1")
    decision = core.decide(snapshot, message)

    assert decision.target == "human"
    [said] = [message.text for message in decision.outgoing]
    assert "within 3 hours" in said, said  # 2 h 30 min: "within 2 hours" would promise too soon
