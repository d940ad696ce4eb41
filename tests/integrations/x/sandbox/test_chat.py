"""The chat page and its JSON API: people write as customers and see the bot's replies arrive."""

from __future__ import annotations

import httpx
import pytest

from integrations.x.sandbox import SandboxCustomer, XSandbox, XSandboxConfig
from tests.integrations.x.sandbox.conftest import ADA, BO, BOT_ID, FAST_RETRIES, Start
from tests.integrations.x.sandbox.receiver import WebhookReceiver
from tests.integrations.x.sandbox.server import serve


async def test_the_page_lists_customers_and_loads_its_own_assets(start: Start) -> None:
    x = await start()
    async with httpx.AsyncClient(base_url=x.base_url) as http:
        page = await http.get("/chat")
        script = await http.get("/chat/static/chat.js")
        style = await http.get("/chat/static/chat.css")

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    for customer in (ADA, BO):
        assert f'data-customer-toggle="{customer.user_id}"' in html
        assert f"@{customer.handle}" in html
    assert "Bo Ramírez" in html
    assert "No webhook" in html
    assert "http://" not in html and "https://" not in html  # no network assets
    assert script.status_code == 200 and "textContent" in script.text and "innerHTML" not in script.text
    assert style.status_code == 200 and style.headers["content-type"].startswith("text/css")


async def test_names_are_escaped_on_the_page() -> None:
    sneaky = SandboxCustomer(user_id="1700000000000000009", handle="sneaky", name='<script>alert("x")</script>')
    sandbox = XSandbox(config=XSandboxConfig(customers=(sneaky,)))
    try:
        async with serve(sandbox.app) as base_url, httpx.AsyncClient() as http:
            html = (await http.get(f"{base_url}/chat")).text
    finally:
        await sandbox.aclose()

    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html


async def test_a_customer_sends_and_polls_the_bots_reply(start: Start) -> None:
    x = await start(client_options={"return_type": dict})
    text = 'مرحبا 👋 <script>alert("x")</script> ' + "x" * 9_950

    async with httpx.AsyncClient(base_url=x.base_url) as http:
        sent = await http.post(f"/chat/api/customers/{ADA.user_id}/messages", json={"text": text})
        message = sent.json()["message"]
        nothing_yet = await http.get(f"/chat/api/conversations/{ADA.user_id}", params={"after": message["id"]})
        reply = await x.client.create_direct_message(participant_id=ADA.user_id, text="Here to help.")
        await x.client.create_direct_message(participant_id=BO.user_id, text="Not for Ada")
        polled = await http.get(f"/chat/api/conversations/{ADA.user_id}", params={"after": message["id"]})
        history = await http.get(f"/chat/api/conversations/{ADA.user_id}")

    assert sent.status_code == 201
    assert message["text"] == text  # stored and returned exactly; the page renders it as text
    assert (message["from"], message["sender_id"], message["sender_name"]) == ("customer", ADA.user_id, ADA.name)
    assert message["created_at"] == "2026-03-10T12:00:00.000Z"
    assert x.sandbox.events()[0]["id"] == message["id"]
    assert nothing_yet.json() == {"messages": []}
    (bot_message,) = polled.json()["messages"]
    assert bot_message["id"] == reply["data"]["dm_event_id"]
    assert (bot_message["from"], bot_message["sender_id"], bot_message["text"]) == ("bot", BOT_ID, "Here to help.")
    assert [m["id"] for m in history.json()["messages"]] == [message["id"], bot_message["id"]]


async def test_a_chat_message_reaches_the_webhook(start: Start, receiver: tuple[WebhookReceiver, str]) -> None:
    receiving, url = receiver
    x = await start(webhook_url=url, **FAST_RETRIES)

    async with httpx.AsyncClient(base_url=x.base_url) as http:
        sent = await http.post(f"/chat/api/customers/{BO.user_id}/messages", json={"text": "From the browser"})
    await x.sandbox.deliveries_settled()

    assert [e["id"] for e in receiving.events()] == [sent.json()["message"]["id"]]


@pytest.mark.parametrize(
    ("user_id", "body", "status"),
    [
        ("1234", {"text": "hi"}, 404),
        (ADA.user_id, {"text": "   "}, 400),
        (ADA.user_id, {"text": "x" * 10_001}, 400),
        (ADA.user_id, {"message": "hi"}, 400),
        (ADA.user_id, "not json", 400),
    ],
)
async def test_chat_sends_that_cannot_be_dms_are_refused(start: Start, user_id: str, body: object, status: int) -> None:
    x = await start()
    async with httpx.AsyncClient(base_url=x.base_url) as http:
        path = f"/chat/api/customers/{user_id}/messages"
        answer = await (http.post(path, content=body) if isinstance(body, str) else http.post(path, json=body))

    assert answer.status_code == status
    assert answer.json()["error"]
    assert x.sandbox.events() == []


async def test_polling_an_unknown_customer_or_bad_cursor(start: Start) -> None:
    x = await start()
    async with httpx.AsyncClient(base_url=x.base_url) as http:
        unknown = await http.get("/chat/api/conversations/1234")
        bad_cursor = await http.get(f"/chat/api/conversations/{ADA.user_id}", params={"after": "yesterday"})

    assert (unknown.status_code, bad_cursor.status_code) == (404, 400)


async def test_behind_a_proxy_prefix_the_page_links_through_the_prefix() -> None:
    sandbox = XSandbox(config=XSandboxConfig(customers=(ADA,)))
    try:
        async with serve(sandbox.app, root_path="/proxied") as base_url, httpx.AsyncClient() as http:
            html = (await http.get(f"{base_url}/chat")).text  # the proxy has already stripped /proxied
    finally:
        await sandbox.aclose()

    assert 'src="/proxied/chat/static/chat.js"' in html
    assert 'data-base="/proxied"' in html
