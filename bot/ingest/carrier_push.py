"""AfterShip's webhook: a parcel's news becomes an event for every open conversation following it.

The handler checks the signature on the raw bytes (constant time), decodes, and writes one inbox event
per open conversation watching that parcel (``shipment_watches``, written when the bot looked the
parcel up or booked it). AfterShip retries up to 14 times on anything but a 2xx, and may deliver one
event twice: the inbox event id carries AfterShip's ``event_id``, so a redelivery is dropped.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, select

from bot.ingest.bodies import BodyTooLarge, problem, read_capped
from bot.runtime.executors import shipment_facts
from bot.runtime.inbox import NewEvent
from bot.storage.tables import CONVERSATIONS, SHIPMENT_WATCHES
from integrations.caching import tracking_key
from integrations.carriers.aftership_webhook import (
    AFTERSHIP_SIGNATURE_HEADER,
    MalformedPush,
    TrackingPush,
    decode_aftership_push,
    is_signed_by_aftership,
)
from integrations.models import Shipment

__all__ = ["CarrierPushIntake", "aftership_push_router"]


@dataclass(frozen=True, kw_only=True)
class CarrierPushIntake:
    engine: Engine
    secret: str
    accept: Callable[[list[NewEvent]], Awaitable[int]]  # writes to the inbox; returns how many were new
    accepted: Callable[[], None] = lambda: None  # wakes the worker
    fresh_view: Callable[[Shipment], None] = lambda shipment: None  # primes a tracking cache in this process
    max_body_bytes: int = 1 << 20

    def events_for(self, push: TrackingPush) -> list[NewEvent]:
        """One event per open conversation following this parcel."""
        number = tracking_key(push.shipment.tracking_number)
        with self.engine.connect() as connection:
            conversations = connection.execute(
                select(SHIPMENT_WATCHES.c.conversation_id)
                .join(CONVERSATIONS, CONVERSATIONS.c.id == SHIPMENT_WATCHES.c.conversation_id)
                .where(SHIPMENT_WATCHES.c.tracking_number == number, CONVERSATIONS.c.is_open)
                .order_by(SHIPMENT_WATCHES.c.conversation_id)
            ).scalars()
            payload = {
                "event": push.event,
                "first_of_tag": push.first_of_tag,
                "shipment": shipment_facts(push.shipment),
            }
            return [
                NewEvent(event_id=f"aftership:{push.event_id}:{conversation}", kind="shipment_update",
                         conversation_id=conversation, payload=payload)
                for conversation in conversations
            ]  # fmt: skip


def aftership_push_router(intake: CarrierPushIntake, *, path: str = "/webhooks/aftership") -> APIRouter:
    router = APIRouter()

    @router.post(path)
    async def push(request: Request) -> JSONResponse:
        try:
            raw = await read_capped(request, intake.max_body_bytes)
        except BodyTooLarge:
            return problem(413, f"a push is at most {intake.max_body_bytes} bytes")
        if not is_signed_by_aftership(raw, request.headers.get(AFTERSHIP_SIGNATURE_HEADER), intake.secret):
            return problem(401, f"missing or wrong {AFTERSHIP_SIGNATURE_HEADER}")
        try:
            decoded = decode_aftership_push(raw)
        except MalformedPush as error:
            return problem(400, f"{error.path}: {error}")
        intake.fresh_view(decoded.shipment)
        events = intake.events_for(decoded)
        new = await intake.accept(events) if events else 0
        if new:
            intake.accepted()
        return JSONResponse({"conversations": len(events), "new": new})

    return router
