"""X's webhook: the CRC challenge, and DM deliveries written to the inbox before X gets its 200.

X retries a delivery that is not answered 200 within a few seconds, so the handler only checks the
signature, decodes and writes the inbox (duplicates dropped by event id); the conversation is stepped
by the worker afterwards. Anything X would never send is refused with a 4xx that says why.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from bot.ingest.bodies import BodyTooLarge, problem, read_capped
from bot.ingest.x_messages import inbox_events
from bot.runtime.inbox import NewEvent
from integrations.x.events import MalformedDelivery, decode_webhook
from integrations.x.signatures import SIGNATURE_HEADER, crc_response_token, is_signed_by

_MAX_CRC_TOKEN = 512


@dataclass(frozen=True, kw_only=True)
class WebhookIntake:
    consumer_secret: str
    accept: Callable[[list[NewEvent]], Awaitable[int]]  # writes to the inbox; returns how many were new
    accepted: Callable[[], None] = lambda: None  # wakes the worker
    bot_user_id: str | None = None
    max_body_bytes: int = 1 << 20


def x_webhook_router(intake: WebhookIntake, *, path: str = "/webhooks/x") -> APIRouter:
    router = APIRouter()

    @router.get(path)
    async def crc_challenge(request: Request) -> JSONResponse:
        token = request.query_params.get("crc_token")
        if not token or len(token) > _MAX_CRC_TOKEN:
            return problem(400, "a CRC check needs a crc_token query parameter")
        return JSONResponse({"response_token": crc_response_token(intake.consumer_secret, token)})

    @router.post(path)
    async def delivery(request: Request) -> JSONResponse:
        try:
            raw = await read_capped(request, intake.max_body_bytes)
        except BodyTooLarge:
            return problem(413, f"a delivery is at most {intake.max_body_bytes} bytes")
        # Checked before the body is even parsed: an unsigned request gets no work out of us.
        if not is_signed_by(intake.consumer_secret, raw, request.headers.get(SIGNATURE_HEADER)):
            return problem(401, f"missing or wrong {SIGNATURE_HEADER}")
        try:
            decoded = decode_webhook(raw, bot_user_id=intake.bot_user_id)
        except MalformedDelivery as error:
            return problem(400, str(error))
        messages = decoded.messages
        if intake.bot_user_id is not None:
            # One webhook may serve several subscribed accounts, and X sends a copy to each: answer
            # only what was written to this shop's account.
            if decoded.for_user_id not in (None, intake.bot_user_id):
                messages = ()
            messages = tuple(m for m in messages if m.recipient_id in (None, intake.bot_user_id))
        events = inbox_events(messages)
        new = await intake.accept(events) if events else 0
        if new:
            intake.accepted()
        return JSONResponse(
            {"received": len(events), "new": new, "duplicates": len(events) - new, "echoes": decoded.echoes,
             "ignored": decoded.ignored + len(decoded.messages) - len(messages)}
        )  # fmt: skip

    return router
