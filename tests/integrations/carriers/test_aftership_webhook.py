"""AfterShip webhooks: the signature on the raw bytes, and reading a push into a TrackingPush."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from integrations.carriers.aftership_webhook import (
    AFTERSHIP_SIGNATURE_HEADER,
    MalformedPush,
    TrackingPush,
    decode_aftership_push,
    is_signed_by_aftership,
    sign_aftership,
)
from integrations.models import ExceptionReason, ShipmentStatus
from tests.fakes.aftership import FakeAfterShip, FakeCheckpoint, FakeParcel
from tests.integrations.x.sandbox.server import serve

# Computed with openssl, not with the code under test:
#   printf '%s' "$BODY" | openssl dgst -sha256 -hmac whsec_dmcare_test -binary | base64
SECRET = "whsec_dmcare_test"
BODY = b'{"event":"tracking_update","event_id":"0b5e3f4e-2a55-4c1f-9e52-3b8a6a0f7c11"}'
SIGNATURE = "N26XdF276CVYMM57J2TtqnvNCfLF6PGyJl6BqfTr3PQ="
EMPTY_BODY_SIGNATURE = "1D5xFvBAUHP1UFdy5yd2Qj4Cj+ZXdYpuD1dhKBWUPQY="


def test_the_header_name_is_aftership_s() -> None:
    assert AFTERSHIP_SIGNATURE_HEADER == "aftership-hmac-sha256"


@pytest.mark.parametrize(("body", "signature"), [(BODY, SIGNATURE), (b"", EMPTY_BODY_SIGNATURE)])
def test_sign_matches_the_openssl_vectors(body: bytes, signature: str) -> None:
    assert sign_aftership(body, SECRET) == signature
    assert is_signed_by_aftership(body, signature, SECRET)


def test_a_signature_with_surrounding_whitespace_is_accepted() -> None:
    assert is_signed_by_aftership(BODY, f" {SIGNATURE}\n", SECRET)


@pytest.mark.parametrize(
    ("body", "signature", "secret"),
    [
        pytest.param(BODY, SIGNATURE, "whsec_other", id="wrong-secret"),
        pytest.param(BODY + b" ", SIGNATURE, SECRET, id="body-changed"),
        pytest.param(BODY.replace(b"update", b"updatE"), SIGNATURE, SECRET, id="one-letter-changed"),
        pytest.param(BODY, None, SECRET, id="missing-header"),
        pytest.param(BODY, "", SECRET, id="empty-header"),
        pytest.param(BODY, "not base64 at all!", SECRET, id="not-base64"),
        pytest.param(BODY, "N26XdF276CVYMM57J2TtqnvNCfLF6PGy", SECRET, id="truncated"),
        pytest.param(BODY, SIGNATURE.lower(), SECRET, id="wrong-case"),
        pytest.param(BODY, "sha256=" + SIGNATURE, SECRET, id="prefixed"),
        pytest.param(BODY, "Ñ26XdF276CVYMM57J2TtqnvNCfLF6PGyJl6BqfTr3PQ=", SECRET, id="non-ascii"),
        pytest.param(BODY, sign_aftership(BODY, "x"), "", id="empty-secret"),
    ],
)
def test_anything_but_aftership_s_signature_is_refused(body: bytes, signature: str | None, secret: str) -> None:
    assert is_signed_by_aftership(body, signature, secret) is False


def test_an_empty_secret_cannot_sign() -> None:
    with pytest.raises(ValueError):
        sign_aftership(BODY, "")


# -- decoding --------------------------------------------------------------------------------------------

# A push as AfterShip's webhook docs show one (fields trimmed to those a bot reads, plus some noise).
PUSH: dict[str, Any] = {
    "event": "tracking_update",
    "event_id": "8a7c7a32-6d2c-4c44-a0a1-6ad0b8a9f1e2",
    "is_tracking_first_tag": True,
    "ts": 1773072000,
    "msg": {
        "id": "6f8b1d3f0b7a4b4c9d3e2f1a0b9c8d7e",
        "legacy_id": "65f0a1b2c3d4e5f601234567",
        "tracking_number": "RA123456785CN",
        "slug": "china-post",
        "active": True,
        "tag": "Exception",
        "subtag": "Exception_004",
        "subtag_message": "Delayed (Customs clearance)",
        "origin_country_region": "CHN",
        "destination_country_region": "USA",
        "courier_estimated_delivery_date": None,
        "aftership_estimated_delivery_date": {
            "estimated_delivery_date": "2026-03-14",
            "confidence_code": 10001,
            "estimated_delivery_date_min": "2026-03-12",
            "estimated_delivery_date_max": "2026-03-16",
        },
        "latest_estimated_delivery": None,
        "on_time_status": "late",
        "checkpoints": [
            {
                "checkpoint_time": "2026-03-09T08:00:00+08:00",
                "message": "Held by customs",
                "location": "Guangzhou",
                "tag": "Exception",
                "subtag": "Exception_004",
                "hash": "b1",
            },
            {
                "checkpoint_time": "2026-03-02T14:31:00+08:00",
                "message": "Posting/Collection",
                "tag": "InTransit",
                "subtag": "InTransit_002",
                "hash": "a1",
            },
        ],
        "unknown_future_field": {"nested": [1, 2, 3]},
    },
}


def test_a_realistic_push_decodes_into_a_tracking_push() -> None:
    push = decode_aftership_push(json.dumps(PUSH).encode())

    assert isinstance(push, TrackingPush)
    assert (push.event_id, push.event, push.first_of_tag) == (
        "8a7c7a32-6d2c-4c44-a0a1-6ad0b8a9f1e2",
        "tracking_update",
        True,
    )
    assert push.sent_at == datetime(2026, 3, 9, 16, 0, tzinfo=UTC)
    shipment = push.shipment
    assert (shipment.carrier, shipment.tracking_number) == ("china-post", "RA123456785CN")
    assert (shipment.status, shipment.exception) == (ShipmentStatus.EXCEPTION, ExceptionReason.CUSTOMS_HOLD)
    assert shipment.estimated_delivery == date(2026, 3, 16)
    assert shipment.last_event == "Held by customs"
    assert [c.raw_code for c in shipment.checkpoints] == ["InTransit_002", "Exception_004"]


def test_a_push_without_first_tag_or_time_is_not_a_first_and_has_no_time() -> None:
    payload = {key: value for key, value in PUSH.items() if key not in ("is_tracking_first_tag", "ts")}
    payload["event"] = "edd_revise"

    push = decode_aftership_push(json.dumps(payload).encode())

    assert (push.event, push.first_of_tag, push.sent_at) == ("edd_revise", False, None)


def test_an_unknown_tag_in_a_push_is_unknown_not_malformed() -> None:
    payload = PUSH | {"msg": PUSH["msg"] | {"tag": "Teleported", "subtag": "Teleported_001"}}

    push = decode_aftership_push(json.dumps(payload).encode())

    assert push.shipment.status is ShipmentStatus.UNKNOWN


def _without(name: str) -> dict[str, Any]:
    return {key: value for key, value in PUSH.items() if key != name}


def _msg(**changes: Any) -> dict[str, Any]:
    return PUSH | {"msg": {k: v for k, v in (PUSH["msg"] | changes).items() if v is not _DROP}}


_DROP = object()


@pytest.mark.parametrize(
    ("body", "path"),
    [
        pytest.param(b"{not json", "$", id="not-json"),
        pytest.param(b"", "$", id="empty"),
        pytest.param(b"\xff\xfe\x00garbage", "$", id="not-utf8"),
        pytest.param(b"[" * 100_000 + b"]" * 100_000, "$", id="nested-too-deep"),
        pytest.param(b"[1, 2]", "$", id="a-list"),
        pytest.param(b'"tracking_update"', "$", id="a-string"),
        pytest.param(_without("msg"), "msg", id="no-msg"),
        pytest.param(PUSH | {"msg": "RA123456785CN"}, "msg", id="msg-a-string"),
        pytest.param(_msg(tracking_number=_DROP), "msg.tracking_number", id="no-tracking-number"),
        pytest.param(_msg(tracking_number=123456), "msg.tracking_number", id="tracking-number-a-number"),
        pytest.param(_msg(slug=None), "msg.slug", id="slug-null"),
        pytest.param(_msg(tag=_DROP), "msg.tag", id="no-tag"),
        pytest.param(_without("event_id"), "event_id", id="no-event-id"),
        pytest.param(PUSH | {"event_id": ""}, "event_id", id="empty-event-id"),
        pytest.param(PUSH | {"event": 7}, "event", id="event-a-number"),
        pytest.param(PUSH | {"is_tracking_first_tag": "yes"}, "is_tracking_first_tag", id="first-tag-a-string"),
        pytest.param(PUSH | {"ts": "yesterday"}, "ts", id="ts-a-string"),
        pytest.param(PUSH | {"ts": True}, "ts", id="ts-a-boolean"),
        pytest.param(PUSH | {"ts": 1e300}, "ts", id="ts-beyond-the-calendar"),
        pytest.param(b'{"event": "e", "event_id": "i", "msg": {}}', "msg.tag", id="msg-empty"),
    ],
)
def test_a_broken_push_is_malformed_naming_the_field(body: bytes | dict[str, Any], path: str) -> None:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()

    with pytest.raises(MalformedPush) as raised:
        decode_aftership_push(raw)

    assert raised.value.path == path
    assert str(raised.value) and not str(raised.value).startswith(path)  # the path is told once, by .path
    assert isinstance(raised.value, ValueError)


def test_a_nan_time_is_malformed() -> None:
    raw = json.dumps(PUSH).encode().replace(b'"ts": 1773072000', b'"ts": NaN')

    with pytest.raises(MalformedPush) as raised:
        decode_aftership_push(raw)

    assert raised.value.path == "ts"


JUNK: list[Any] = [None, 0, -1, 2.5, True, "", "x", [], [None], {}, {"a": None}]


def _variants() -> list[Any]:
    """PUSH with one field (top level, tracking, first checkpoint) replaced by each kind of junk."""
    variants: list[Any] = []
    checkpoint = PUSH["msg"]["checkpoints"][0]
    for junk in JUNK:
        variants += [PUSH | {name: junk} for name in PUSH]
        variants += [PUSH | {"msg": PUSH["msg"] | {name: junk}} for name in PUSH["msg"]]
        variants += [PUSH | {"msg": PUSH["msg"] | {"checkpoints": [checkpoint | {name: junk}]}} for name in checkpoint]
    return variants


def test_junk_in_any_field_decodes_or_is_malformed_never_another_error() -> None:
    outcomes = {"decoded": 0, "malformed": 0}
    for payload in _variants():
        try:
            decode_aftership_push(json.dumps(payload).encode())
        except MalformedPush:
            outcomes["malformed"] += 1
        else:
            outcomes["decoded"] += 1

    assert outcomes["decoded"] and outcomes["malformed"]  # both kinds of junk were met


# -- end to end: the fake's signed push, checked and decoded by a receiver ----------------------------------


async def test_the_fake_s_push_is_signed_and_decodes() -> None:
    received: list[TrackingPush] = []

    async def webhook(request: Request) -> Response:
        body = await request.body()
        if not is_signed_by_aftership(body, request.headers.get(AFTERSHIP_SIGNATURE_HEADER), SECRET):
            return Response(status_code=401)
        received.append(decode_aftership_push(body))
        return Response(status_code=204)

    parcel = FakeParcel(
        tracking_number="1Z5R89390357567127",
        tag="OutForDelivery",
        checkpoints=(FakeCheckpoint(time="2026-03-10T07:00:00-05:00", message="Out", subtag="OutForDelivery_001"),),
    )
    fake = FakeAfterShip(parcels=(parcel,))
    receiver = Starlette(routes=[Route("/hooks/aftership", webhook, methods=["POST"])])
    async with serve(fake.app) as api, serve(receiver) as hooks:
        await _create(api, fake.api_key, parcel.tracking_number)

        good = await fake.push(url=f"{hooks}/hooks/aftership", secret=SECRET, tracking_number=parcel.tracking_number)
        forged = await fake.push(
            url=f"{hooks}/hooks/aftership", secret="not-ours", tracking_number="1Z5R89390357567127"
        )

    assert (good, forged) == (204, 401)
    (push,) = received
    assert (push.event, push.first_of_tag) == ("tracking_update", True)
    assert push.shipment.status is ShipmentStatus.OUT_FOR_DELIVERY
    assert push.shipment.last_event == "Out"


async def test_the_fake_pushes_only_trackings_it_has() -> None:
    fake = FakeAfterShip()

    with pytest.raises(LookupError):
        await fake.push(url="http://127.0.0.1:9/never", secret=SECRET, tracking_number="1Z5R89390357567127")


async def _create(base_url: str, api_key: str, number: str) -> None:
    async with httpx.AsyncClient(base_url=base_url, headers={"as-api-key": api_key}) as client:
        response = await client.post("/trackings", json={"tracking_number": number, "slug": "ups"})
    assert response.status_code == 201
