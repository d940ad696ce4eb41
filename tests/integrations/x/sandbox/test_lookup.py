"""Looking DMs up through tweepy: newest first, pages, fields and expansions, 30 days back, mounts."""

from __future__ import annotations

from datetime import datetime

import aiohttp
import pytest
import tweepy
from starlette.applications import Starlette
from starlette.routing import Mount
from tweepy.asynchronous import AsyncPaginator

from integrations.x.sandbox import XSandbox, XSandboxConfig
from tests.integrations.x.sandbox.conftest import ADA, BO, BOT_ID, FakeClock, Start
from tests.integrations.x.sandbox.server import serve, tweepy_client

ALL_FIELDS = ["id", "event_type", "text", "sender_id", "dm_conversation_id", "created_at"]


async def test_an_empty_inbox_is_meta_only(start: Start) -> None:
    x = await start(client_options={"return_type": aiohttp.ClientResponse})

    response = await x.client.get_direct_message_events()

    assert response.status == 200
    assert await response.json() == {"meta": {"result_count": 0}}


async def test_default_fields_are_id_event_type_text_newest_first(start: Start) -> None:
    x = await start(client_options={"return_type": dict})
    first = await x.sandbox.customer_sends(ADA.user_id, "Where is order 2001?")
    second = (await x.client.create_direct_message(participant_id=ADA.user_id, text="On its way."))["data"]

    page = await x.client.get_direct_message_events()

    assert page["data"] == [
        {"id": second["dm_event_id"], "event_type": "MessageCreate", "text": "On its way."},
        {"id": first, "event_type": "MessageCreate", "text": "Where is order 2001?"},
    ]
    assert page["meta"]["result_count"] == 2
    assert "next_token" not in page["meta"]
    assert len(page["meta"]["previous_token"]) >= 16


async def test_fields_and_sender_expansion_come_only_when_asked(start: Start, clock: FakeClock) -> None:
    x = await start()
    await x.sandbox.customer_sends(
        ADA.user_id, "hello @lanternandloom #late https://x.com/shop/status/1585800613752881156"
    )

    response = await x.client.get_direct_message_events(
        dm_event_fields=[*ALL_FIELDS, "entities", "referenced_tweets"],
        expansions=["sender_id"],
        user_fields=["username"],
    )

    (event,) = response.data
    assert isinstance(event, tweepy.DirectMessageEvent)
    assert event.sender_id == int(ADA.user_id)
    assert event.dm_conversation_id == f"{BOT_ID}-{ADA.user_id}"
    assert event.created_at == clock.at
    assert event.data["created_at"] == "2026-03-10T12:00:00.000Z"
    assert "participant_ids" not in event.data  # MessageCreate no longer carries it
    assert [r.id for r in event.referenced_tweets] == [1585800613752881156]
    entities = event.data["entities"]
    assert entities["hashtags"] == [{"start": 22, "end": 27, "tag": "late"}]
    assert entities["mentions"] == [{"start": 6, "end": 21, "username": "lanternandloom"}]
    assert entities["urls"][0]["url"] == "https://x.com/shop/status/1585800613752881156"
    (user,) = response.includes["users"]
    assert (str(user.id), user.username, user.name) == (ADA.user_id, ADA.handle, ADA.name)


async def test_pagination_walks_every_event_once_newest_first(start: Start) -> None:
    x = await start(client_options={"return_type": dict})
    ids = [await x.sandbox.customer_sends(ADA.user_id, f"message {n}") for n in range(7)]

    pages = [
        page async for page in AsyncPaginator(x.client.get_direct_message_events, max_results=3, dm_event_fields=["id"])
    ]

    assert [len(p["data"]) for p in pages] == [3, 3, 1]
    assert [e["id"] for p in pages for e in p["data"]] == ids[::-1]
    assert "next_token" in pages[0]["meta"] and "next_token" not in pages[-1]["meta"]


async def test_previous_token_returns_what_arrived_since(start: Start) -> None:
    x = await start(client_options={"return_type": dict})
    await x.sandbox.customer_sends(ADA.user_id, "one")
    first_page = await x.client.get_direct_message_events()
    newer = [await x.sandbox.customer_sends(ADA.user_id, t) for t in ("two", "three")]

    since = await x.client.get_direct_message_events(pagination_token=first_page["meta"]["previous_token"])
    nothing_yet = await x.client.get_direct_message_events(pagination_token=since["meta"]["previous_token"])

    assert [e["id"] for e in since["data"]] == newer[::-1]
    assert nothing_yet == {"meta": {"result_count": 0}}


async def test_only_the_last_30_days_are_returned(start: Start, clock: FakeClock) -> None:
    x = await start(client_options={"return_type": dict})
    await x.sandbox.customer_sends(ADA.user_id, "old news")
    clock.advance(days=30, seconds=1)
    recent = await x.sandbox.customer_sends(ADA.user_id, "fresh")

    page = await x.client.get_direct_message_events()

    assert [e["id"] for e in page["data"]] == [recent]
    assert len(x.sandbox.events()) == 2  # still stored, just out of the API's reach


async def test_conversation_lookups_and_event_type_filter(start: Start) -> None:
    x = await start(client_options={"return_type": dict})
    ada = await x.sandbox.customer_sends(ADA.user_id, "from Ada")
    bo = await x.sandbox.customer_sends(BO.user_id, "from Bo")

    with_ada = await x.client.get_direct_message_events(participant_id=ADA.user_id)
    in_bo = await x.client.get_direct_message_events(dm_conversation_id=f"{BOT_ID}-{BO.user_id}")
    joins = await x.client.get_direct_message_events(event_types="ParticipantsJoin")
    creates = await x.client.get_direct_message_events(event_types="MessageCreate")

    assert [e["id"] for e in with_ada["data"]] == [ada]
    assert [e["id"] for e in in_bo["data"]] == [bo]
    assert joins == {"meta": {"result_count": 0}}
    assert [e["id"] for e in creates["data"]] == [bo, ada]


async def test_a_single_event_lookup(start: Start) -> None:
    x = await start(client_options={"return_type": dict})
    event_id = await x.sandbox.customer_sends(BO.user_id, "one of many")

    found = await x.client.request(
        "GET", f"/2/dm_events/{event_id}", params={"dm_event.fields": "sender_id"}, user_auth=True
    )
    body = await found.json()

    assert body == {
        "data": {"id": event_id, "event_type": "MessageCreate", "text": "one of many", "sender_id": BO.user_id}
    }


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"max_results": 0}, "max_results"),
        ({"max_results": 101}, "max_results"),
        ({"pagination_token": "short"}, "pagination_token"),
        ({"pagination_token": "ZZZZZZZZZZZZZZZZZZZZZZZZ"}, "pagination_token"),
        ({"dm_event_fields": ["colour"]}, "dm_event.fields"),
        ({"expansions": ["everything"]}, "expansions"),
        ({"event_types": "MessageDelete"}, "event_types"),
    ],
)
async def test_invalid_lookup_parameters_are_400(start: Start, params: dict[str, object], parameter: str) -> None:
    x = await start()

    with pytest.raises(tweepy.BadRequest) as raised:
        await x.client.get_direct_message_events(**params)

    assert raised.value.response.status == 400
    assert parameter in raised.value.api_messages[0]


async def test_works_mounted_under_a_prefix_and_with_a_root_path(clock: FakeClock) -> None:
    sandbox = XSandbox(config=XSandboxConfig(customers=(ADA,)), clock=clock)
    outer = Starlette(routes=[Mount("/x-sandbox", app=sandbox.app)])
    try:
        async with serve(outer) as base_url, tweepy_client(f"{base_url}/x-sandbox", return_type=dict) as client:
            sent = await client.create_direct_message(participant_id=ADA.user_id, text="mounted")
            page = await client.get_direct_message_events()
            async with aiohttp.ClientSession() as session, session.get(f"{base_url}/x-sandbox/chat") as chat:
                html = await chat.text()
                assert chat.status == 200
            async with (
                aiohttp.ClientSession() as session,
                session.get(f"{base_url}/x-sandbox/chat/static/chat.js") as js,
            ):
                assert js.status == 200
    finally:
        await sandbox.aclose()

    assert page["data"][0]["id"] == sent["data"]["dm_event_id"]
    assert 'href="/x-sandbox/chat/static/chat.css"' in html
    assert 'src="/x-sandbox/chat/static/chat.js"' in html
    assert 'data-base="/x-sandbox"' in html


def test_created_at_is_rfc3339_with_milliseconds() -> None:
    from integrations.x.sandbox.events import rfc3339

    assert rfc3339(datetime.fromisoformat("2022-10-19T20:58:00.123456+02:00")) == "2022-10-19T18:58:00.123Z"
