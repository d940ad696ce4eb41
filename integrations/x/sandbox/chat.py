"""The customer side for people: a chat page where one writes as demo customers and sees the bot answer.

Routes (relative to the sandbox's mount point):
  GET  /chat                                      the page
  GET  /chat/static/{file}                        its script and style sheet
  GET  /chat/api/conversations/{user_id}?after=ID  that customer's DMs with the shop after ID, oldest first
  POST /chat/api/customers/{user_id}/messages     {"text": ...}: the customer sends a DM (201)

The JSON API is not X's and is not rate limited; it only serves this page (and tests).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Final

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from integrations.x.sandbox.config import XSandboxConfig
from integrations.x.sandbox.errors import InvalidMessageError, UnknownCustomerError
from integrations.x.sandbox.events import DmEvent, rfc3339
from integrations.x.sandbox.problems import json_response
from integrations.x.sandbox.store import EventStore
from integrations.x.sandbox.users import names

__all__ = ["ChatPage", "chat_message"]

_HERE: Final = Path(__file__).parent
_HISTORY: Final = 500  # messages a pane loads when it opens


def chat_message(event: DmEvent, *, config: XSandboxConfig) -> dict[str, Any]:
    """One DM as the page shows it."""
    handle, name = names(event.sender_id, config=config)
    return {
        "id": event.id,
        "from": "bot" if event.sender_id == config.bot_user_id else "customer",
        "sender_id": event.sender_id,
        "sender_handle": handle,
        "sender_name": name,
        "text": event.text,
        "created_at": rfc3339(event.created_at),
    }


class ChatPage:
    def __init__(
        self,
        *,
        config: XSandboxConfig,
        store: EventStore,
        customer_sends: Callable[[str, str], Awaitable[str]],
        webhook_state: Callable[[], str],
    ) -> None:
        self._config = config
        self._store = store
        self._customer_sends = customer_sends
        self._webhook_state = webhook_state
        self._templates = Jinja2Templates(directory=_HERE / "templates")

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/chat", self._page, methods=["GET"], name="chat"),
            Mount("/chat/static", StaticFiles(directory=_HERE / "static"), name="chat-static"),
            Route("/chat/api/conversations/{user_id}", self._conversation, methods=["GET"]),
            Route("/chat/api/customers/{user_id}/messages", self._send, methods=["POST"]),
        ]

    async def _page(self, request: Request) -> Response:
        # Paths are built from the mount point, so the page works wherever the sandbox is mounted.
        base = request.scope.get("root_path", "").rstrip("/")
        return self._templates.TemplateResponse(
            request,
            "chat.html",
            {
                "base": base,
                "config": self._config,
                "customers": self._config.customers,
                "delivery": self._webhook_state(),
            },
            headers={"cache-control": "no-store"},
        )

    async def _conversation(self, request: Request) -> Response:
        user_id: str = request.path_params["user_id"]
        if self._config.customer(user_id) is None:
            return _error(404, f"{user_id} is not a sandbox customer")
        after = request.query_params.get("after", "0") or "0"
        if not after.isdigit():
            return _error(400, "after must be a DM event id")
        events = self._store.conversation(self._config.bot_user_id, user_id, after_id=int(after))
        if after == "0":
            events = events[-_HISTORY:]
        messages = [chat_message(e, config=self._config) for e in events]
        return json_response(200, {"messages": messages}, headers={"cache-control": "no-store"})

    async def _send(self, request: Request) -> Response:
        user_id: str = request.path_params["user_id"]
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return _error(400, "the body must be JSON")
        text = body.get("text") if isinstance(body, dict) else None
        if not isinstance(text, str):
            return _error(400, 'the body must be {"text": "..."}')
        try:
            event_id = await self._customer_sends(user_id, text)
        except UnknownCustomerError as error:
            return _error(404, str(error))
        except InvalidMessageError as error:
            return _error(400, str(error))
        event = self._store.get(event_id)
        assert event is not None, "customer_sends returned an id the store does not hold"
        return json_response(201, {"message": chat_message(event, config=self._config)})


def _error(status: int, message: str) -> Response:
    return json_response(status, {"error": message})
