"""Sends that go wrong the way X's sometimes do: errors, answers that never come, cut connections."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
import tweepy

from integrations.x.sandbox import SandboxFaults
from tests.integrations.x.sandbox.conftest import ADA, BOT_ID, FAST_RETRIES, Start
from tests.integrations.x.sandbox.receiver import WebhookReceiver


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (500, tweepy.TwitterServerError),
        (503, tweepy.TwitterServerError),
        (401, tweepy.Unauthorized),
        (403, tweepy.Forbidden),
    ],
)
async def test_failing_sends_answer_the_status_and_create_nothing(
    start: Start, status: int, error: type[Exception]
) -> None:
    x = await start(client_options={"return_type": dict})
    x.sandbox.faults.next_sends_fail_with(status, count=2)

    for _ in range(2):
        with pytest.raises(error):
            await x.client.create_direct_message(participant_id=ADA.user_id, text="hello?")
    sent = await x.client.create_direct_message(participant_id=ADA.user_id, text="hello!")

    assert [e["id"] for e in x.sandbox.events()] == [sent["data"]["dm_event_id"]]


async def test_a_hung_answer_times_out_the_client_but_the_dm_exists(
    start: Start, receiver: tuple[WebhookReceiver, str]
) -> None:
    receiving, url = receiver
    x = await start(webhook_url=url, client_options={"timeout": 0.2}, **FAST_RETRIES)
    x.sandbox.faults.hang_after_create(0.5)

    with pytest.raises(asyncio.TimeoutError):
        await x.client.create_direct_message(participant_id=ADA.user_id, text="did this go out?")

    (event,) = x.sandbox.events()
    assert event["text"] == "did this go out?"
    await x.sandbox.deliveries_settled()
    assert [e["id"] for e in receiving.events()] == [event["id"]]  # echoed: the bot can learn it went out
    await asyncio.sleep(0.35)  # let the hung handler finish before the server stops


async def test_a_dropped_connection_loses_the_answer_but_the_dm_exists(start: Start) -> None:
    x = await start(client_options={"return_type": dict})
    x.sandbox.faults.drop_connection_after_create()

    with pytest.raises(aiohttp.ClientPayloadError):
        await x.client.create_direct_message(participant_id=ADA.user_id, text="cut off")
    after = await x.client.create_direct_message(participant_id=ADA.user_id, text="next one is fine")

    assert [e["text"] for e in x.sandbox.events()] == ["cut off", "next one is fine"]
    assert after["data"]["dm_conversation_id"] == f"{BOT_ID}-{ADA.user_id}"


def test_faults_refuse_nonsense_and_clear_disarms_everything() -> None:
    faults = SandboxFaults()
    with pytest.raises(ValueError):
        faults.next_sends_fail_with(200)
    with pytest.raises(ValueError):
        faults.hang_after_create(1.0, count=0)
    with pytest.raises(ValueError):
        faults.reverse_next_deliveries(1)

    faults.next_sends_fail_with(503)
    faults.force_429(2)
    faults.duplicate_deliveries = True
    faults.clear()

    assert faults.take_send_failure() is None
    assert faults.take_forced_429("send") is False
    assert faults.duplicate_deliveries is False
