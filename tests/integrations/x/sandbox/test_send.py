"""Sending DMs through tweepy's real HTTP path: 201 shapes, X's validation, auth and recipients."""

from __future__ import annotations

import re
from typing import Any

import aiohttp
import pytest
import tweepy

from tests.integrations.x.sandbox.conftest import ADA, BO, BOT_ID, Start

ADA_CONVERSATION = f"{BOT_ID}-{ADA.user_id}"  # the bot's id is the smaller one


async def test_send_answers_201_with_conversation_and_snowflake_and_the_event_is_stored(start: Start) -> None:
    x = await start(client_options={"return_type": aiohttp.ClientResponse})

    response = await x.client.create_direct_message(participant_id=ADA.user_id, text="Your parcel left the depot.")

    assert response.status == 201
    body = await response.json()
    assert set(body) == {"data"}
    assert body["data"]["dm_conversation_id"] == ADA_CONVERSATION
    assert re.fullmatch(r"[0-9]{19}", body["data"]["dm_event_id"])
    (event,) = x.sandbox.events()
    assert event == {
        "id": body["data"]["dm_event_id"],
        "event_type": "MessageCreate",
        "text": "Your parcel left the depot.",
        "sender_id": BOT_ID,
        "dm_conversation_id": ADA_CONVERSATION,
        "created_at": "2026-03-10T12:00:00.000Z",
    }


async def test_send_into_a_conversation_by_id_reaches_the_other_participant(start: Start) -> None:
    x = await start(client_options={"return_type": dict})

    sent = await x.client.create_direct_message(dm_conversation_id=ADA_CONVERSATION, text="Following up")

    assert sent["data"]["dm_conversation_id"] == ADA_CONVERSATION
    assert x.sandbox.events()[0]["sender_id"] == BOT_ID
    assert x.sandbox.events()[0]["dm_conversation_id"] == ADA_CONVERSATION


async def test_an_oauth2_user_token_works_with_user_auth_false(start: Start) -> None:
    x = await start(client_options={"oauth1": False, "return_type": dict})

    sent = await x.client.create_direct_message(participant_id=BO.user_id, text="hi", user_auth=False)
    page = await x.client.get_direct_message_events(user_auth=False)

    assert [e["id"] for e in page["data"]] == [sent["data"]["dm_event_id"]]


async def test_users_me_tells_the_bot_its_own_id(start: Start) -> None:
    x = await start()

    me = await x.client.get_me()

    assert (me.data.id, me.data.username, me.data.name) == (int(BOT_ID), "lanternandloom", "Lantern & Loom")


async def test_ids_grow_with_time_and_order_equals_creation_order(start: Start) -> None:
    x = await start(client_options={"return_type": dict})
    ids = []
    for n in range(5):
        ids.append(
            (await x.client.create_direct_message(participant_id=ADA.user_id, text=f"#{n}"))["data"]["dm_event_id"]
        )
        ids.append(await x.sandbox.customer_sends(ADA.user_id, f"reply {n}"))

    assert [int(i) for i in ids] == sorted(int(i) for i in ids)
    assert len(set(ids)) == 10
    assert [e["id"] for e in x.sandbox.events()] == ids


async def _raw(x: Any, method: str, path: str, **kwargs: Any) -> tuple[int, dict[str, Any], dict[str, str]]:
    async with aiohttp.ClientSession() as session, session.request(method, x.base_url + path, **kwargs) as r:
        return r.status, await r.json(content_type=None), dict(r.headers)


AUTH = {"Authorization": "Bearer sandbox-token"}


@pytest.mark.parametrize(
    ("path", "body", "fragment"),
    [
        ("/2/dm_conversations/with/not-a-number/messages", {"text": "hi"}, "participant_id"),
        ("/2/dm_conversations/with/12345678901234567890/messages", {"text": "hi"}, "participant_id"),
        ("/2/dm_conversations/abc-def/messages", {"text": "hi"}, "dm_conversation_id"),
        (f"/2/dm_conversations/with/{ADA.user_id}/messages", {"text": ""}, "text"),
        (f"/2/dm_conversations/with/{ADA.user_id}/messages", {"text": 5}, "text"),
        (f"/2/dm_conversations/with/{ADA.user_id}/messages", {}, "text or attachments"),
        (f"/2/dm_conversations/with/{ADA.user_id}/messages", {"text": "hi", "quick_reply": {}}, "quick_reply"),
        (f"/2/dm_conversations/with/{ADA.user_id}/messages", {"text": "x" * 10_001}, "10000"),
        (f"/2/dm_conversations/with/{ADA.user_id}/messages", [{"text": "hi"}], "object"),
        (f"/2/dm_conversations/with/{ADA.user_id}/messages", {"text": "hi", "attachments": []}, "attachments"),
        (
            f"/2/dm_conversations/with/{ADA.user_id}/messages",
            {"attachments": [{"media_id": "1"}, {"media_id": "2"}]},
            "attachments",
        ),
    ],
)
async def test_invalid_sends_get_a_400_problem_and_create_nothing(
    start: Start, path: str, body: Any, fragment: str
) -> None:
    x = await start()

    status, problem, headers = await _raw(x, "POST", path, json=body, headers=AUTH)

    assert status == 400
    assert headers["Content-Type"] == "application/problem+json"
    assert problem["type"] == "https://api.twitter.com/2/problems/invalid-request"
    assert problem["title"] == "Invalid Request"
    assert problem["status"] == 400
    assert fragment in problem["errors"][0]["message"]
    assert "x-rate-limit-remaining" in headers
    assert x.sandbox.events() == []


async def test_a_body_that_is_not_json_is_a_400(start: Start) -> None:
    x = await start()

    status, problem, _ = await _raw(
        x, "POST", f"/2/dm_conversations/with/{ADA.user_id}/messages", data=b"{text: hi", headers=AUTH
    )

    assert status == 400
    assert "not valid JSON" in problem["errors"][0]["message"]


async def test_tweepy_raises_bad_request_with_the_message(start: Start) -> None:
    x = await start()

    with pytest.raises(tweepy.BadRequest, match="text"):
        await x.client.create_direct_message(participant_id=ADA.user_id, text="x" * 10_001)


async def test_an_attachment_alone_is_a_valid_dm(start: Start) -> None:
    x = await start()

    status, body, _ = await _raw(
        x,
        "POST",
        f"/2/dm_conversations/with/{ADA.user_id}/messages",
        json={"attachments": [{"media_id": "1583157113245011970"}]},
        headers=AUTH,
    )

    assert status == 201
    (event,) = x.sandbox.events()
    assert event["id"] == body["data"]["dm_event_id"]
    assert event["attachments"] == {"media_keys": ["3_1583157113245011970"]}


async def test_requests_without_authorization_get_401(start: Start) -> None:
    x = await start()

    status, problem, headers = await _raw(
        x, "POST", f"/2/dm_conversations/with/{ADA.user_id}/messages", json={"text": "hi"}
    )
    read_status, _, _ = await _raw(x, "GET", "/2/dm_events", headers={"Authorization": "Basic abc"})

    assert (status, read_status) == (401, 401)
    assert problem == {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}
    assert headers["x-rate-limit-remaining"] == "200"  # a refused request is not counted
    assert x.sandbox.events() == []


@pytest.mark.parametrize(
    "target",
    [
        {"participant_id": "1234567"},  # not a customer of the shop
        {"participant_id": BOT_ID},  # itself
        {"dm_conversation_id": f"{ADA.user_id}-{BO.user_id}"},  # a conversation the bot is not in
        {"dm_conversation_id": "1578398451921985538"},  # a group
    ],
)
async def test_sends_to_people_who_are_not_customers_are_forbidden(start: Start, target: dict[str, str]) -> None:
    x = await start()

    with pytest.raises(tweepy.Forbidden) as raised:
        await x.client.create_direct_message(text="hello", **target)

    assert raised.value.response.status == 403
    assert "cannot send messages" in str(raised.value)
    assert x.sandbox.events() == []


async def test_group_conversations_are_refused_clearly(start: Start) -> None:
    x = await start()

    with pytest.raises(tweepy.Forbidden, match="no group conversations"):
        await x.client.create_direct_message_conversation(participant_ids=[ADA.user_id, BO.user_id], text="hi all")


async def test_unknown_paths_and_methods_answer_json_problems(start: Start) -> None:
    x = await start()

    missing = await _raw(x, "GET", "/2/tweets/search/recent", headers=AUTH)
    wrong_method = await _raw(x, "DELETE", "/2/dm_events", headers=AUTH)

    assert missing[0] == 404 and missing[1]["status"] == 404
    assert wrong_method[0] == 405 and wrong_method[1]["status"] == 405
