"""AfterShip's tracking webhooks: checking the signature and reading the push.

AfterShip signs the raw body: header ``aftership-hmac-sha256`` = base64(HMAC-SHA256(webhook secret,
body)). Check it on the bytes as received, before any JSON parsing, then decode. A push carries
``event`` (tracking_update, edd_revise, tracking_pending_time), ``event_id`` (a UUID: the dedup key,
AfterShip retries up to 14 times), ``is_tracking_first_tag`` (first update under a tag: tell the
customer once), ``ts`` (Unix seconds) and ``msg``, the same Tracking object GET /trackings/{id} returns.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from integrations.carriers.aftership_mapping import TrackingPayloadError, shipment_from_aftership
from integrations.models import Shipment

__all__ = [
    "AFTERSHIP_SIGNATURE_HEADER",
    "MalformedPush",
    "TrackingPush",
    "decode_aftership_push",
    "is_signed_by_aftership",
    "sign_aftership",
]

AFTERSHIP_SIGNATURE_HEADER: Final = "aftership-hmac-sha256"


@dataclass(frozen=True, kw_only=True)
class TrackingPush:
    event_id: str  # the same for every retry of one push: deduplicate on it
    event: str
    shipment: Shipment
    first_of_tag: bool  # the first update under this tag; later ones repeat news the customer has
    sent_at: datetime | None  # aware UTC; None when the push did not say


class MalformedPush(ValueError):
    """The push is not what AfterShip documents: ``path`` names the field ("msg.tracking_number", "$" the
    whole body), the message says what is wrong with it."""

    def __init__(self, message: str, *, path: str) -> None:
        super().__init__(message)
        self.path = path


def sign_aftership(body: bytes, secret: str) -> str:
    """The signature AfterShip sends for ``body``: base64 of its HMAC-SHA256 under the webhook secret."""
    if not secret:
        raise ValueError("an empty webhook secret signs nothing: anyone could compute it")
    return base64.b64encode(_digest(body, secret)).decode("ascii")


def is_signed_by_aftership(body: bytes, signature: str | None, secret: str) -> bool:
    """Whether ``signature`` (the header's value) is AfterShip's for these exact bytes.

    A missing or empty header, one that is not base64, and an empty secret are all "no". The digests
    are compared in constant time, so the answer's timing tells nothing about the right signature.
    """
    if not signature or not secret:
        return False
    try:
        received = base64.b64decode(signature.strip(), validate=True)
    except (binascii.Error, ValueError):  # ValueError: characters outside ASCII
        return False
    return hmac.compare_digest(received, _digest(body, secret))


def decode_aftership_push(body: bytes) -> TrackingPush:
    """The push in ``body`` (already verified); raises MalformedPush, and nothing else, when it is not one."""
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):  # ValueError covers bad UTF-8 too
        raise MalformedPush("the body is not JSON", path="$") from None
    if not isinstance(payload, Mapping):
        raise MalformedPush("the body is not a JSON object", path="$")
    msg = payload.get("msg")
    if not isinstance(msg, Mapping):
        raise MalformedPush("missing or not an object", path="msg")
    try:
        shipment = shipment_from_aftership(msg)
    except TrackingPayloadError as error:
        raise MalformedPush(str(error), path=f"msg.{error.path}" if error.path else "msg") from None
    return TrackingPush(
        event_id=_required_text(payload, "event_id"),
        event=_required_text(payload, "event"),
        shipment=shipment,
        first_of_tag=_first_of_tag(payload),
        sent_at=_sent_at(payload),
    )


def _digest(body: bytes, secret: str) -> bytes:
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()


def _required_text(payload: Mapping[str, Any], name: str) -> str:
    value = payload.get(name)
    if not isinstance(value, str) or not value.strip():
        raise MalformedPush("missing, empty or not a string", path=name)
    return value.strip()


def _first_of_tag(payload: Mapping[str, Any]) -> bool:
    # Absent from some event kinds (an EDD revision is not a tag change): then it is not a first.
    value = payload.get("is_tracking_first_tag", False)
    if not isinstance(value, bool):
        raise MalformedPush("not a boolean", path="is_tracking_first_tag")
    return value


def _sent_at(payload: Mapping[str, Any]) -> datetime | None:
    value = payload.get("ts")
    if value is None:
        return None
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise MalformedPush("not a Unix time", path="ts")
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError):  # beyond the calendar, or NaN
        raise MalformedPush("not a Unix time", path="ts") from None
