"""X's webhook endpoint: CRC challenge, signature first, clear 4xx for anything X would never send."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from bot.ingest.x_webhook import WebhookIntake, x_webhook_router
from bot.runtime.inbox import NewEvent
from integrations.x.signatures import SIGNATURE_HEADER, sign
from tests.integrations.x.sandbox.server import serve

SECRET = "test_consumer_secret"
FIXTURES = Path(__file__).parents[1] / "fixtures" / "x"


def aaa(*messages: tuple[str, str, str], for_user: str = "4337869213") -> bytes:
    """An Account Activity body with (id, sender, text) DMs."""
    events = [
        {"type": "message_create", "id": event_id, "created_timestamp": str(1784928224372 + n),
         "message_create": {"target": {"recipient_id": for_user}, "sender_id": sender,
                            "message_data": {"text": text, "entities": {}}}}
        for n, (event_id, sender, text) in enumerate(messages)
    ]  # fmt: skip
    return json.dumps({"for_user_id": for_user, "direct_message_events": events}).encode()


def xaa(event_id: str, sender: str, text: str, for_user: str = "4337869213") -> bytes:
    event = {"type": "message_create", "id": event_id, "created_timestamp": "1784928224372",
             "message_create": {"target": {"recipient_id": for_user}, "sender_id": sender,
                                "message_data": {"text": text}}}  # fmt: skip
    envelope = {"data": {"event_uuid": "-685", "filter": {"user_id": for_user}, "event_type": "dm.received",
                         "tag": "t", "payload": {"direct_message_events": [event], "users": {}}}}  # fmt: skip
    return json.dumps(envelope).encode()


class Inbox:
    def __init__(self) -> None:
        self.ids: list[str] = []
        self.events: list[NewEvent] = []
        self.wakes = 0

    async def accept(self, events: list[NewEvent]) -> int:
        new = [event for event in events if event.event_id not in self.ids]
        self.ids += [event.event_id for event in new]
        self.events += new
        return len(new)

    def wake(self) -> None:
        self.wakes += 1


@pytest.fixture
async def webhook():  # type: ignore[no-untyped-def]
    inbox = Inbox()
    app = FastAPI()
    intake = WebhookIntake(consumer_secret=SECRET, accept=inbox.accept, accepted=inbox.wake, max_body_bytes=64_000)
    app.include_router(x_webhook_router(intake))
    async with serve(app) as url, httpx.AsyncClient(base_url=url) as client:
        yield client, inbox


async def post(client: httpx.AsyncClient, body: bytes, *, signature: str | None = None) -> httpx.Response:
    headers = {"content-type": "application/json", SIGNATURE_HEADER: signature or sign(SECRET, body)}
    return await client.post("/webhooks/x", content=body, headers=headers)


async def test_the_crc_challenge_is_answered_with_the_fixture_vector(webhook) -> None:  # type: ignore[no-untyped-def]
    client, _ = webhook
    vector = json.loads((FIXTURES / "x-webhook-crc-signature-vectors.jsonl").read_text().splitlines()[0])
    assert vector["consumer_secret"] == SECRET
    response = await client.get("/webhooks/x", params={"crc_token": vector["crc_token"]})
    assert response.status_code == 200
    assert response.json() == {"response_token": vector["response_token"]}


async def test_the_signed_fixture_body_is_accepted(webhook) -> None:  # type: ignore[no-untyped-def]
    client, inbox = webhook
    vector = json.loads((FIXTURES / "x-webhook-crc-signature-vectors.jsonl").read_text().splitlines()[1])
    body = vector["raw_body"].encode()
    response = await post(client, body, signature=vector["x-twitter-webhooks-signature"])
    assert response.status_code == 200 and response.json()["received"] == 0


@pytest.mark.parametrize(
    "params", [{}, {"crc_token": ""}, {"crc_token": "x" * 600}], ids=["missing", "empty", "oversized"]
)
async def test_a_crc_check_without_a_usable_token_is_a_400(webhook, params) -> None:  # type: ignore[no-untyped-def]
    client, _ = webhook
    assert (await client.get("/webhooks/x", params=params)).status_code == 400


async def test_a_dm_is_written_to_the_inbox_and_the_worker_woken(webhook) -> None:  # type: ignore[no-untyped-def]
    client, inbox = webhook
    response = await post(client, aaa(("1001", "42", "where is my parcel? 📦")))
    assert response.status_code == 200
    assert response.json() == {"received": 1, "new": 1, "duplicates": 0, "echoes": 0, "ignored": 0}
    [event] = inbox.events
    assert (event.event_id, event.kind, event.customer_id) == ("x:dm:1001", "message", "42")
    assert event.payload["text"] == "where is my parcel? 📦"
    assert inbox.wakes == 1


async def test_the_same_dm_through_both_shapes_and_twice_is_stored_once(webhook) -> None:  # type: ignore[no-untyped-def]
    client, inbox = webhook
    for body in (aaa(("1001", "42", "hi")), xaa("1001", "42", "hi"), aaa(("1001", "42", "hi"))):
        assert (await post(client, body)).status_code == 200
    assert inbox.ids == ["x:dm:1001"]
    assert inbox.wakes == 1  # duplicates wake nobody


async def test_the_accounts_own_dms_are_not_customer_messages(webhook) -> None:  # type: ignore[no-untyped-def]
    client, inbox = webhook
    response = await post(client, aaa(("1001", "4337869213", "our reply"), ("1002", "42", "thanks")))
    assert response.json()["echoes"] == 1
    assert inbox.ids == ["x:dm:1002"]


@pytest.mark.parametrize(
    "signature",
    [None, "", "sha256=", "sha256=AAAA", "md5=abc"],
    ids=["missing", "empty", "bare-prefix", "wrong", "other-scheme"],
)
async def test_a_delivery_without_a_valid_signature_is_a_401(webhook, signature) -> None:  # type: ignore[no-untyped-def]
    client, inbox = webhook
    body = aaa(("1001", "42", "hi"))
    headers = {"content-type": "application/json"}
    if signature is not None:
        headers[SIGNATURE_HEADER] = signature
    response = await client.post("/webhooks/x", content=body, headers=headers)
    assert response.status_code == 401
    assert inbox.events == []


async def test_a_body_changed_after_signing_is_a_401(webhook) -> None:  # type: ignore[no-untyped-def]
    client, inbox = webhook
    body = aaa(("1001", "42", "hi"))
    response = await post(client, body.replace(b"hi", b"ho"), signature=sign(SECRET, body))
    assert response.status_code == 401 and inbox.events == []


async def test_a_signature_by_another_secret_is_a_401(webhook) -> None:  # type: ignore[no-untyped-def]
    client, _ = webhook
    body = aaa(("1001", "42", "hi"))
    assert (await post(client, body, signature=sign("someone-else", body))).status_code == 401


@pytest.mark.parametrize(
    ("body", "where"),
    [
        (b"{not json", "$"),
        (b"[]", "$"),
        (b'{"foo": 1}', "$"),
        (b'{"for_user_id": "1", "direct_message_events": {}}', "direct_message_events"),
        (
            b'{"for_user_id": "1", "direct_message_events": [{"type": "message_create", "id": 5}]}',
            "direct_message_events[0].id",
        ),
        ("\udcff".encode("utf-8", "surrogatepass"), "$"),
    ],
    ids=["bad-json", "array", "unknown-shape", "events-not-list", "numeric-id", "bad-utf8"],
)
async def test_bodies_x_would_never_send_are_a_400_naming_the_field(webhook, body, where) -> None:  # type: ignore[no-untyped-def]
    client, inbox = webhook
    response = await post(client, body)
    assert response.status_code == 400
    assert response.json()["detail"].startswith(where)
    assert inbox.events == []


async def test_an_oversized_body_is_a_413_before_it_is_read_whole(webhook) -> None:  # type: ignore[no-untyped-def]
    client, _ = webhook
    body = aaa(("1001", "42", "x" * 70_000))
    assert (await post(client, body)).status_code == 413

    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(100):  # no content-length: streamed, cut off once over the limit
            yield b"x" * 1000

    response = await client.post(
        "/webhooks/x", content=chunks(), headers={SIGNATURE_HEADER: "sha256=" + base64.b64encode(b"0").decode()}
    )
    assert response.status_code == 413


async def test_other_activity_is_acknowledged_and_ignored(webhook) -> None:  # type: ignore[no-untyped-def]
    client, inbox = webhook
    body = json.dumps(
        {"for_user_id": "4337869213", "direct_message_indicate_typing_events": [
            {"created_timestamp": "1518127183443", "sender_id": "42", "target": {"recipient_id": "4337869213"}}]}
    ).encode()  # fmt: skip
    response = await post(client, body)
    assert response.status_code == 200 and response.json()["ignored"] == 1
    assert inbox.events == []
