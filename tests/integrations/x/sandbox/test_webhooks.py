"""Webhook deliveries as X makes them: signed, in AAA and XAA shapes, echoed, duplicated, reordered, retried."""

from __future__ import annotations

import asyncio
import logging

import pytest

from tests.integrations.x.sandbox.conftest import ADA, BO, BOT_ID, FAST_RETRIES, FakeClock, Start
from tests.integrations.x.sandbox.receiver import WebhookReceiver

Receiver = tuple[WebhookReceiver, str]


async def test_a_customer_dm_is_delivered_signed_in_the_account_activity_shape(
    receiver: Receiver, start: Start, clock: FakeClock
) -> None:
    receiving, url = receiver
    x = await start(webhook_url=url, **FAST_RETRIES)

    event_id = await x.sandbox.customer_sends(ADA.user_id, "Fish & chips <3 #late")
    await x.sandbox.deliveries_settled()

    (delivery,) = receiving.received
    assert delivery.signed
    assert delivery.headers["content-type"] == "application/json"
    assert delivery.json == {
        "for_user_id": BOT_ID,
        "direct_message_events": [
            {
                "type": "message_create",
                "id": event_id,
                "created_timestamp": str(int(clock.at.timestamp() * 1000)),
                "message_create": {
                    "target": {"recipient_id": BOT_ID},
                    "sender_id": ADA.user_id,
                    "message_data": {
                        "text": "Fish &amp; chips &lt;3 #late",  # v1.1 text is HTML-escaped
                        "entities": {
                            "hashtags": [{"text": "late", "indices": [16, 21]}],
                            "symbols": [],
                            "user_mentions": [],
                            "urls": [],
                        },
                    },
                },
            }
        ],
        "users": {
            ADA.user_id: {
                "id": ADA.user_id,
                "name": ADA.name,
                "screen_name": ADA.handle,
                "protected": False,
                "verified": False,
            },
            BOT_ID: {
                "id": BOT_ID,
                "name": "Lantern & Loom",
                "screen_name": "lanternandloom",
                "protected": False,
                "verified": False,
            },
        },
    }
    assert x.sandbox.events()[0]["text"] == "Fish & chips <3 #late"  # the v2 API is not escaped


async def test_the_activity_shape_and_echoes_of_bot_sends(receiver: Receiver, start: Start) -> None:
    receiving, url = receiver
    x = await start(webhook_url=url, delivery_shape="activity", client_options={"return_type": dict}, **FAST_RETRIES)

    received_id = await x.sandbox.customer_sends(BO.user_id, "hola")
    sent = await x.client.create_direct_message(participant_id=BO.user_id, text="¡Hola, Bo!")
    await x.sandbox.deliveries_settled()

    incoming, echo = (r.json["data"] for r in receiving.received)
    assert all(r.signed for r in receiving.received)
    assert incoming["event_type"] == "dm.received"
    assert echo["event_type"] == "dm.sent"
    for data in (incoming, echo):
        assert data["filter"] == {"user_id": BOT_ID}
        assert data["tag"] == "dm-sandbox"
        assert data["payload"]["users"][BO.user_id] == {
            "data": {"id": BO.user_id, "name": BO.name, "username": BO.handle}
        }
    assert incoming["event_uuid"] != echo["event_uuid"]
    assert incoming["payload"]["direct_message_events"][0]["id"] == received_id
    echoed = echo["payload"]["direct_message_events"][0]
    assert echoed["id"] == sent["data"]["dm_event_id"]
    assert echoed["message_create"]["sender_id"] == BOT_ID
    assert echoed["message_create"]["target"] == {"recipient_id": BO.user_id}


async def test_echoes_can_be_switched_off(receiver: Receiver, start: Start) -> None:
    receiving, url = receiver
    x = await start(webhook_url=url, echo_bot_sends=False, **FAST_RETRIES)

    await x.client.create_direct_message(participant_id=ADA.user_id, text="quiet")
    await x.sandbox.customer_sends(ADA.user_id, "loud")
    await x.sandbox.deliveries_settled()

    assert [e["message_create"]["message_data"]["text"] for e in receiving.events()] == ["loud"]


async def test_both_shapes_deliver_every_dm_once_in_each(receiver: Receiver, start: Start) -> None:
    receiving, url = receiver
    x = await start(webhook_url=url, delivery_shape="both", **FAST_RETRIES)

    event_id = await x.sandbox.customer_sends(ADA.user_id, "twice")
    await x.sandbox.deliveries_settled()

    assert [(r.shape, r.dm_event["id"]) for r in receiving.received] == [
        ("account_activity", event_id),
        ("activity", event_id),
    ]


async def test_duplicate_deliveries_repeat_the_same_dm_event(receiver: Receiver, start: Start) -> None:
    receiving, url = receiver
    x = await start(webhook_url=url, delivery_shape="activity", **FAST_RETRIES)
    x.sandbox.faults.duplicate_deliveries = True

    event_id = await x.sandbox.customer_sends(ADA.user_id, "again?")
    await x.sandbox.deliveries_settled()

    first, copy = receiving.received
    assert first.dm_event == copy.dm_event
    assert first.dm_event["id"] == event_id
    assert first.json["data"]["event_uuid"] != copy.json["data"]["event_uuid"]
    assert first.signed and copy.signed


async def test_reversed_deliveries_arrive_newest_first(receiver: Receiver, start: Start) -> None:
    receiving, url = receiver
    x = await start(webhook_url=url, echo_bot_sends=False, **FAST_RETRIES)
    x.sandbox.faults.reverse_next_deliveries(3)

    ids = [await x.sandbox.customer_sends(ADA.user_id, text) for text in ("1", "2", "3")]
    await x.sandbox.deliveries_settled()
    after = await x.sandbox.customer_sends(ADA.user_id, "4")
    await x.sandbox.deliveries_settled()

    assert [e["id"] for e in receiving.events()] == [ids[2], ids[1], ids[0], after]


async def test_held_deliveries_wait_for_the_batch(receiver: Receiver, start: Start) -> None:
    receiving, url = receiver
    x = await start(webhook_url=url, **FAST_RETRIES)
    x.sandbox.faults.reverse_next_deliveries(2)

    await x.sandbox.customer_sends(ADA.user_id, "held")
    await x.sandbox.deliveries_settled()

    assert receiving.received == []
    assert len(x.sandbox.events()) == 1  # pollable all the same


async def test_a_failed_delivery_is_retried_until_it_gets_200(receiver: Receiver, start: Start) -> None:
    receiving, url = receiver
    x = await start(webhook_url=url, **FAST_RETRIES)
    receiving.answer_next(500, 503)

    event_id = await x.sandbox.customer_sends(ADA.user_id, "persist")
    await x.sandbox.deliveries_settled()

    assert [r.answered for r in receiving.received] == [500, 503, 200]
    assert {r.body for r in receiving.received} == {receiving.received[0].body}  # a retry resends the same bytes
    (delivery,) = x.sandbox.deliveries()
    assert (delivery.event_id, delivery.outcome) == (event_id, "delivered")
    assert [a.status for a in delivery.attempts] == [500, 503, 200]


async def test_a_slow_webhook_counts_as_failed_and_later_ones_are_not_held_up(receiver: Receiver, start: Start) -> None:
    receiving, url = receiver
    x = await start(webhook_url=url, delivery_retries=(0.01,), delivery_timeout=0.1)
    receiving.answer_next(0.3)  # stalls past the timeout (then answers 200, too late)

    slow = await x.sandbox.customer_sends(ADA.user_id, "slow")
    fast = await x.sandbox.customer_sends(BO.user_id, "fast")
    await x.sandbox.deliveries_settled()

    first, second = x.sandbox.deliveries()
    assert (first.event_id, first.attempts[0].status, first.outcome) == (slow, None, "delivered")
    assert (second.event_id, second.outcome) == (fast, "delivered")
    await asyncio.sleep(0.3)  # let the stalled request finish before the receiver stops


async def test_after_the_last_retry_the_dm_is_given_up_but_stays_pollable(
    receiver: Receiver, start: Start, caplog: pytest.LogCaptureFixture
) -> None:
    receiving, url = receiver
    x = await start(webhook_url=url, client_options={"return_type": dict}, **FAST_RETRIES)
    receiving.answer_next(500, 500, 500)

    with caplog.at_level(logging.WARNING, logger="integrations.x.sandbox.delivery"):
        event_id = await x.sandbox.customer_sends(ADA.user_id, "lost in transit")
        await x.sandbox.deliveries_settled()

    assert len(receiving.received) == 3  # the first attempt and two retries
    assert x.sandbox.deliveries()[0].outcome == "failed"
    assert "gave up delivering DM" in caplog.text
    page = await x.client.get_direct_message_events()
    assert page["data"][0]["id"] == event_id


async def test_crc_check_passes_with_the_right_secret(receiver: Receiver, start: Start) -> None:
    receiving, url = receiver
    x = await start(webhook_url=f"{url}?shop=lantern", **FAST_RETRIES)

    assert x.sandbox.webhook_valid is None
    assert await x.sandbox.check_webhook() is True
    assert x.sandbox.webhook_valid is True
    assert len(receiving.crc_tokens) == 1
    assert receiving.crc_queries == [{"shop": "lantern", "crc_token": receiving.crc_tokens[0]}]


async def test_a_webhook_failing_crc_receives_nothing(receiver: Receiver, start: Start) -> None:
    receiving, url = receiver
    receiving.crc_secret = "someone-elses-secret"
    x = await start(webhook_url=url, **FAST_RETRIES)

    assert await x.sandbox.check_webhook() is False
    await x.sandbox.customer_sends(ADA.user_id, "anyone there?")
    await x.sandbox.deliveries_settled()

    assert receiving.received == []
    receiving.crc_secret = receiving.secret
    assert await x.sandbox.check_webhook() is True
    await x.sandbox.customer_sends(ADA.user_id, "now?")
    await x.sandbox.deliveries_settled()
    assert [e["message_create"]["message_data"]["text"] for e in receiving.events()] == ["now?"]


async def test_without_a_webhook_dms_wait_for_polling(start: Start) -> None:
    x = await start(client_options={"return_type": dict})

    event_id = await x.sandbox.customer_sends(ADA.user_id, "polled")
    await x.sandbox.deliveries_settled()

    assert x.sandbox.deliveries() == []
    assert (await x.client.get_direct_message_events())["data"][0]["id"] == event_id
    with pytest.raises(ValueError, match="no webhook_url"):
        await x.sandbox.check_webhook()
