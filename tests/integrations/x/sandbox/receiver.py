"""A webhook receiver for tests: records what X (here, the sandbox) POSTs, answers CRC challenges.

It checks each delivery's signature with the production helper and can be told to answer badly
(a status, or no answer in time) to exercise the sandbox's retries.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from integrations.x.signatures import SIGNATURE_HEADER, crc_response_token, is_signed_by

__all__ = ["Received", "WebhookReceiver"]


@dataclass(frozen=True, kw_only=True)
class Received:
    body: bytes
    headers: dict[str, str]
    signed: bool  # the signature header is the consumer secret's HMAC of exactly these bytes
    answered: int  # the status the receiver answered

    @property
    def json(self) -> Any:
        return orjson.loads(self.body)

    @property
    def dm_event(self) -> dict[str, Any]:
        """The single ``message_create`` event, whichever shape carried it."""
        payload = self.json
        events = payload["data"]["payload"] if "data" in payload else payload
        (event,) = events["direct_message_events"]
        return dict(event)

    @property
    def shape(self) -> str:
        return "activity" if "data" in self.json else "account_activity"


class WebhookReceiver:
    """An ASGI app at ``/webhook`` (GET: CRC, POST: deliveries)."""

    def __init__(self, *, secret: str, crc_secret: str | None = None) -> None:
        self.secret = secret
        self.crc_secret = crc_secret if crc_secret is not None else secret
        self.received: list[Received] = []
        self.crc_tokens: list[str] = []
        self.crc_queries: list[dict[str, str]] = []
        self._answers: list[int | float] = []  # an int is a status; a float is seconds to stall, then 200
        self.app = Starlette(routes=[Route("/webhook", self._endpoint, methods=["GET", "POST"])])

    def answer_next(self, *answers: int | float) -> None:
        """Queue answers for the next deliveries: a status code, or a float = stall that long before 200."""
        self._answers.extend(answers)

    def events(self) -> list[dict[str, Any]]:
        return [r.dm_event for r in self.received if r.answered == 200]

    async def _endpoint(self, request: Request) -> Response:
        if request.method == "GET":
            token = request.query_params["crc_token"]
            self.crc_tokens.append(token)
            self.crc_queries.append(dict(request.query_params))
            return JSONResponse({"response_token": crc_response_token(self.crc_secret, token)})
        body = await request.body()
        answer = self._answers.pop(0) if self._answers else 200
        status = 200
        if isinstance(answer, float):
            await asyncio.sleep(answer)
        else:
            status = answer
        self.received.append(
            Received(
                body=body,
                headers=dict(request.headers),
                signed=is_signed_by(self.secret, body, request.headers.get(SIGNATURE_HEADER)),
                answered=status,
            )
        )
        return Response(status_code=status)
