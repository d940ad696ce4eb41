"""A fake AfterShip Tracking API (2026-07): a Starlette app that speaks AfterShip's wire format.

Serve ``FakeAfterShip(...).app`` with ``tests.integrations.x.sandbox.server.serve`` and point the
adapter at the URL: every byte crosses a socket, nothing of ours is patched. What it does, after
reference/carriers-orders-loyalty.md §1.1:

* ``POST /trackings`` (flat body): 201 with the new Tracking; 4003 for a number and slug already
  created; 4005 for a number outside AfterShip's 4-100 characters ``A-Z 0-9 - . _ /``; 4010 for a
  slug that is not one; without a slug the courier is detected (a seeded parcel's slug, ``1Z...`` is
  UPS) or the answer is 4012 BAD_COURIER.
* ``GET /trackings?tracking_numbers=A,B&slug=...`` and ``GET /trackings/{id}`` (4004 as HTTP 404).
* every request needs the ``as-api-key`` header (401 API_KEY_INVALID otherwise) and is answered with
  ``X-RateLimit-Limit/Remaining/Reset`` for its endpoint (``enforce_rate_limits`` turns them into 429s).

A tracking shows its seeded parcel (``FakeParcel``) when the number and slug match it; any other
created number is Pending with no checkpoints, as a real parcel the carrier never scanned would be.
Faults for tests: ``fail_next(kind, times)``; ``calls`` counts requests per endpoint.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import math
import re
import secrets
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Final

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

__all__ = ["FAULT_KINDS", "FakeAfterShip", "FakeCheckpoint", "FakeParcel"]

API_KEY_HEADER: Final = "as-api-key"
SIGNATURE_HEADER: Final = "aftership-hmac-sha256"

CREATE: Final = "POST /trackings"
SEARCH: Final = "GET /trackings"
READ: Final = "GET /trackings/{id}"

# Requests a second per endpoint (AfterShip's 2025-01 table), reported in X-RateLimit-* headers.
_RATE_LIMITS: Final = {CREATE: 20, SEARCH: 6, READ: 5}

_NUMBER: Final = re.compile(r"[A-Za-z0-9._/-]{4,100}")
_SLUG: Final = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_UPS: Final = re.compile(r"1Z[0-9A-Z]{16}")

# meta.code -> (HTTP status, type, message) for the errors the fake answers or can be told to answer.
_ERRORS: Final[dict[int, tuple[int, str, str]]] = {
    400: (400, "BadRequest", "The request was invalid or cannot be otherwise served."),
    401: (401, "Unauthorized", "Invalid API key."),
    403: (403, "Forbidden", "The request is understood, but it has been refused or access is not allowed."),
    404: (404, "NotFound", "The URI requested is invalid or the resource requested does not exist."),
    405: (405, "MethodNotAllowed", "The method is not allowed for the requested URL."),
    429: (429, "TooManyRequests", "You have exceeded the API call rate limit. Please retry again later."),
    500: (500, "InternalError", "Something went wrong on AfterShip's end."),
    502: (502, "InternalError", "Bad gateway."),
    503: (503, "InternalError", "Service unavailable."),
    504: (504, "InternalError", "Gateway timeout."),
    4001: (400, "BadRequest", "Invalid JSON data."),
    4003: (400, "BadRequest", "Tracking already exists."),
    4004: (404, "NotFound", "Tracking does not exist."),
    4005: (400, "BadRequest", "The value of `tracking_number` is invalid."),
    4007: (400, "BadRequest", "`tracking_number` is required."),
    4008: (400, "BadRequest", "The value of a field is invalid."),
    4010: (400, "BadRequest", "The value of `slug` is invalid."),
    4011: (400, "BadRequest", "Missing or invalid value of the required fields for this courier."),
    4012: (
        400,
        "BadRequest",
        "Cannot detect courier. Activate courier at https://admin.aftership.com/settings/couriers.",
    ),
    4013: (400, "BadRequest", "Retrack is not allowed. You can only retrack an inactive tracking."),
    4016: (400, "BadRequest", "Retrack is not allowed. You can only retrack each tracking once."),
    4017: (400, "BadRequest", "Tracking number format invalid for this courier."),
}

# Faults besides the error codes above: each answers one request in a way a client must survive.
FAULT_KINDS: Final = frozenset(
    {
        "429",  # rate limited, with Retry-After (``seconds``) and X-RateLimit-Reset
        "malformed",  # 200 with an HTML body, as a proxy in front of AfterShip might send
        "not-envelope",  # 200 with JSON that is not AfterShip's {"meta", "data"} envelope
        "hang",  # no answer for ``seconds`` or until the client gives up, then the normal answer
        "disconnect",  # the status line and half the body, then the connection is closed
    }
    | {str(code) for code in _ERRORS}
)

_SUBTAG_MESSAGES: Final = {
    "Pending_001": "No information yet",
    "InfoReceived_001": "Info received",
    "InTransit_001": "In transit",
    "InTransit_002": "Acceptance scan",
    "InTransit_003": "Arrival scan",
    "InTransit_004": "Arrived at destination country",
    "InTransit_005": "Customs clearance completed",
    "InTransit_006": "Customs clearance started",
    "InTransit_007": "Departure scan",
    "OutForDelivery_001": "Out for delivery",
    "AttemptFail_001": "Failed delivery attempt",
    "Delivered_001": "Delivered",
    "AvailableForPickup_001": "Available for pickup",
    "Exception_001": "Exception",
    "Exception_004": "Delayed (customs clearance)",
    "Exception_013": "Shipment lost",
    "Expired_001": "Expired",
}


@dataclass(frozen=True, kw_only=True)
class FakeCheckpoint:
    time: str  # checkpoint_time exactly as the carrier reports it: "2026-03-08T09:10:00-05:00", "2026-03-08"
    message: str
    subtag: str  # "InTransit_003"; the checkpoint's tag is its prefix
    location: str | None = None


@dataclass(frozen=True, kw_only=True)
class FakeParcel:
    """What the carrier knows about one parcel, as AfterShip would relay it."""

    tracking_number: str
    slug: str = "ups"
    tag: str = "InTransit"
    subtag: str | None = None  # default: the tag's _001
    checkpoints: tuple[FakeCheckpoint, ...] = ()
    estimated_delivery: date | None = None
    delivered_on: date | None = None


@dataclass(kw_only=True)
class _Fault:
    kind: str
    endpoint: str | None
    seconds: float
    left: int


@dataclass(frozen=True, kw_only=True)
class _Tracking:
    id: str
    legacy_id: str
    tracking_number: str
    slug: str
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))


class FakeAfterShip:
    def __init__(
        self,
        *,
        api_key: str = "fake-aftership-key",
        parcels: tuple[FakeParcel, ...] | list[FakeParcel] = (),
        enforce_rate_limits: bool = False,
    ) -> None:
        self.api_key = api_key
        self.enforce_rate_limits = enforce_rate_limits
        self.calls: Counter[str] = Counter()
        self._parcels = {parcel.tracking_number: parcel for parcel in parcels}
        self._trackings: dict[str, _Tracking] = {}
        self._faults: list[_Fault] = []
        self._windows: dict[str, tuple[int, int]] = {}  # endpoint -> (second, requests in it)
        self.app = Starlette(
            routes=[
                Route("/trackings", self._endpoint(CREATE, self._create), methods=["POST"]),
                Route("/trackings", self._endpoint(SEARCH, self._search), methods=["GET"]),
                Route("/trackings/{tracking_id}", self._endpoint(READ, self._read), methods=["GET"]),
            ],
            exception_handlers={404: _route_error, 405: _route_error},
        )

    # -- test controls ---------------------------------------------------------------------------

    def set_parcel(self, parcel: FakeParcel) -> None:
        """Seed or change what the carrier says about a parcel; trackings already created show it at once."""
        self._parcels[parcel.tracking_number] = parcel

    def delete_tracking(self, tracking_number: str) -> int:
        """Delete the trackings of this number, as a person could in AfterShip's admin; how many there were."""
        gone = [key for key, tracking in self._trackings.items() if tracking.tracking_number == tracking_number]
        for key in gone:
            del self._trackings[key]
        return len(gone)

    def trackings(self) -> list[dict[str, Any]]:
        """Every tracking created so far, as GET /trackings/{id} would show it."""
        return [self._tracking_json(tracking) for tracking in self._trackings.values()]

    def fail_next(
        self, kind: str, times: int = 1, *, endpoint: str | None = None, seconds: float | None = None
    ) -> None:
        """Answer the next ``times`` requests (to ``endpoint`` only, e.g. "GET /trackings/{id}") with a fault.

        ``kind`` is one of FAULT_KINDS: "500", "503", "429", "malformed", "not-envelope", "hang",
        "disconnect", or any meta.code the fake knows ("401", "403", "4004", "4010", "4012", "4017", ...),
        answered with AfterShip's error envelope. ``seconds`` is the Retry-After of a "429" (default 1)
        and how long a "hang" holds the answer (default 30; it ends early when the client hangs up).
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; known: {sorted(FAULT_KINDS)}")
        if times < 1:
            raise ValueError("times must be at least 1")
        default = 30.0 if kind == "hang" else 1.0
        self._faults.append(
            _Fault(kind=kind, endpoint=endpoint, seconds=default if seconds is None else seconds, left=times)
        )

    async def push(
        self,
        *,
        url: str,
        secret: str,
        tracking_number: str,
        event: str = "tracking_update",
        first_of_tag: bool = True,
    ) -> int:
        """POST a signed webhook about the latest tracking of this number to ``url``; the HTTP status."""
        created = [tracking for tracking in self._trackings.values() if tracking.tracking_number == tracking_number]
        if not created:
            raise LookupError("AfterShip only pushes trackings that were created")
        payload = {
            "event": event,
            "event_id": str(uuid.uuid4()),
            "is_tracking_first_tag": first_of_tag,
            "ts": int(time.time()),
            "msg": self._tracking_json(created[-1]),
        }
        body = json.dumps(payload).encode()
        signature = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.post(
                url, content=body, headers={"Content-Type": "application/json", SIGNATURE_HEADER: signature}
            )
        return response.status_code

    # -- the API -----------------------------------------------------------------------------------

    def _endpoint(self, name: str, handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            self.calls[name] += 1
            fault = self._take_fault(name)
            if fault is not None:
                faulty = await self._fault_response(fault, request)
                if faulty is not None:
                    return faulty
            if request.headers.get(API_KEY_HEADER) != self.api_key:
                return _error(401)
            headers, over = self._rate_headers(name)
            response: Response = _error(429, headers=headers) if over else await handler(request)
            response.headers.update(headers)
            return response

        return endpoint

    async def _create(self, request: Request) -> Response:
        try:
            body = json.loads(await request.body())
        except ValueError:
            return _error(4001)
        if not isinstance(body, dict):
            return _error(4001)
        number = body.get("tracking_number")  # 2025-01 and later: a flat body, no {"tracking": ...}
        if not isinstance(number, str) or not number:
            return _error(4007)
        if not _NUMBER.fullmatch(number):
            return _error(4005)
        slug = body.get("slug")
        if slug is None:
            slug = self._detect(number)
            if slug is None:
                return _error(4012)
        elif not isinstance(slug, str) or not _SLUG.fullmatch(slug):
            return _error(4010)
        if any(t.tracking_number == number and t.slug == slug for t in self._trackings.values()):
            return _error(4003)
        tracking = _Tracking(id=uuid.uuid4().hex, legacy_id=secrets.token_hex(12), tracking_number=number, slug=slug)
        self._trackings[tracking.id] = tracking
        return _ok(201, self._tracking_json(tracking))

    async def _search(self, request: Request) -> Response:
        numbers = [n for n in request.query_params.get("tracking_numbers", "").split(",") if n]
        if len(numbers) > 50:
            return _error(4008)
        slug = request.query_params.get("slug")
        found = [
            self._tracking_json(tracking)
            for tracking in self._trackings.values()
            if (not numbers or tracking.tracking_number in numbers) and (slug is None or tracking.slug == slug)
        ]
        pagination = {"total": len(found), "next_cursor": None, "has_next_page": False}
        return _ok(200, {"pagination": pagination, "trackings": found})

    async def _read(self, request: Request) -> Response:
        wanted = request.path_params["tracking_id"]
        for tracking in self._trackings.values():
            if wanted in (tracking.id, tracking.legacy_id):  # the 24-character legacy id is still accepted
                return _ok(200, self._tracking_json(tracking))
        return _error(4004)

    # -- state as AfterShip shows it -----------------------------------------------------------------

    def _detect(self, number: str) -> str | None:
        seeded = self._parcels.get(number)
        if seeded is not None:
            return seeded.slug
        return "ups" if _UPS.fullmatch(number) else None

    def _parcel_of(self, tracking: _Tracking) -> FakeParcel:
        seeded = self._parcels.get(tracking.tracking_number)
        if seeded is not None and seeded.slug == tracking.slug:
            return seeded
        # The courier asked about has never scanned this number: AfterShip keeps waiting for news.
        return FakeParcel(tracking_number=tracking.tracking_number, slug=tracking.slug, tag="Pending")

    def _tracking_json(self, tracking: _Tracking) -> dict[str, Any]:
        parcel = self._parcel_of(tracking)
        subtag = parcel.subtag or f"{parcel.tag}_001"
        checkpoints = [_checkpoint_json(checkpoint, parcel.slug) for checkpoint in parcel.checkpoints]
        estimate = parcel.estimated_delivery.isoformat() if parcel.estimated_delivery else None
        created = tracking.created_at.isoformat().replace("+00:00", "Z")
        return {
            "id": tracking.id,
            "legacy_id": tracking.legacy_id,
            "tracking_number": tracking.tracking_number,
            "slug": tracking.slug,
            "active": parcel.tag not in ("Delivered", "Expired"),
            "tag": parcel.tag,
            "subtag": subtag,
            "subtag_message": _SUBTAG_MESSAGES.get(subtag, parcel.tag),
            "created_at": created,
            "updated_at": created,
            "origin_country_region": None,
            "destination_country_region": None,
            "courier_destination_country_region": None,
            "courier_estimated_delivery_date": (
                {
                    "estimated_delivery_date": estimate,
                    "estimated_delivery_date_min": None,
                    "estimated_delivery_date_max": None,
                }
                if estimate
                else None
            ),
            "aftership_estimated_delivery_date": None,
            "custom_estimated_delivery_date": None,
            "first_estimated_delivery": _estimate_json(estimate),
            "latest_estimated_delivery": _estimate_json(estimate),
            "order_promised_delivery_date": None,
            "on_time_status": None,
            "shipment_pickup_date": checkpoints[0]["checkpoint_time"] if checkpoints else None,
            "shipment_delivery_date": parcel.delivered_on.isoformat() if parcel.delivered_on else None,
            "failed_delivery_attempts": sum(1 for c in parcel.checkpoints if c.subtag.startswith("AttemptFail")),
            "return_to_sender": any(c.subtag in ("Exception_010", "Exception_011") for c in parcel.checkpoints),
            "courier_tracking_link": None,
            "order_number": None,
            "order_id": None,
            "checkpoints": checkpoints,
        }

    # -- faults and limits -------------------------------------------------------------------------

    def _take_fault(self, endpoint: str) -> _Fault | None:
        for fault in self._faults:
            if fault.endpoint in (None, endpoint):
                fault.left -= 1
                if fault.left == 0:
                    self._faults.remove(fault)
                return fault
        return None

    async def _fault_response(self, fault: _Fault, request: Request) -> Response | None:
        """The faulty answer, or None to answer normally (after a hang)."""
        if fault.kind == "hang":
            await _hold(request, fault.seconds)
            return None
        if fault.kind == "disconnect":
            return _CutOff()
        if fault.kind == "malformed":
            return Response("<html><body><h1>502 Bad Gateway</h1></body></html>", 200, media_type="text/html")
        if fault.kind == "not-envelope":
            return JSONResponse({"tracking": {"status": "unknown"}}, 200)
        if fault.kind == "429":
            reset = math.ceil(time.time() + fault.seconds)
            wait = f"{fault.seconds:g}"
            limit = str(_RATE_LIMITS.get(_endpoint_of(request), 10))
            headers = {"Retry-After": wait, "X-RateLimit-Reset": str(reset), "X-RateLimit-Limit": limit}
            return _error(429, headers=headers | {"X-RateLimit-Remaining": "0"})
        return _error(int(fault.kind))

    def _rate_headers(self, endpoint: str) -> tuple[dict[str, str], bool]:
        """This request counted in its endpoint's one-second window: the headers, and whether it is one too many."""
        second = int(time.time())
        window, used = self._windows.get(endpoint, (second, 0))
        used = used + 1 if window == second else 1
        self._windows[endpoint] = (second, used)
        limit = _RATE_LIMITS[endpoint]
        headers = {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(max(0, limit - used)),
            "X-RateLimit-Reset": str(second + 1),
        }
        return headers, self.enforce_rate_limits and used > limit


def _endpoint_of(request: Request) -> str:
    path = request.url.path.rstrip("/")
    return f"{request.method} {'/trackings' if path == '/trackings' else '/trackings/{id}'}"


def _checkpoint_json(checkpoint: FakeCheckpoint, slug: str) -> dict[str, Any]:
    tag = checkpoint.subtag.partition("_")[0]
    fingerprint = f"{checkpoint.time}|{checkpoint.message}|{checkpoint.subtag}".encode()
    return {
        "checkpoint_time": checkpoint.time,
        "created_at": checkpoint.time,
        "location": checkpoint.location,
        "city": None,
        "state": None,
        "postal_code": None,
        "country_region": None,
        "country_region_name": None,
        "message": checkpoint.message,
        "tag": tag,
        "subtag": checkpoint.subtag,
        "subtag_message": _SUBTAG_MESSAGES.get(checkpoint.subtag, tag),
        "raw_tag": None,
        "slug": slug,
        "source": "carrier",
        "events": [],
        "hash": hashlib.sha1(fingerprint).hexdigest(),
    }


def _estimate_json(estimate: str | None) -> dict[str, Any] | None:
    if estimate is None:
        return None
    return {
        "type": "specific",
        "source": "Carrier EDD",
        "datetime": estimate,
        "datetime_min": None,
        "datetime_max": None,
    }


def _ok(status: int, data: dict[str, Any]) -> JSONResponse:
    return JSONResponse({"meta": {"code": status}, "data": data}, status)


def _error(code: int, *, headers: dict[str, str] | None = None) -> JSONResponse:
    status, kind, message = _ERRORS[code]
    return JSONResponse({"meta": {"code": code, "message": message, "type": kind}, "data": {}}, status, headers)


async def _route_error(request: Request, exc: Exception) -> Response:
    status = getattr(exc, "status_code", 404)
    return _error(status if status in _ERRORS else 404)


async def _hold(request: Request, seconds: float) -> None:
    """Say nothing for ``seconds``, or until the client hangs up (so the server can stop at once)."""
    await request.body()  # read first: the messages after the body are only the client's hang-up
    try:
        async with asyncio.timeout(seconds):
            while (await request.receive())["type"] != "http.disconnect":
                pass
    except TimeoutError:
        pass


class _CutOff(Response):
    """A 200 whose body stops half-way: uvicorn closes the connection when the app returns with the
    answer incomplete (and logs an error saying so). To the client, an answer lost mid-flight.
    """

    def __init__(self) -> None:
        super().__init__(b'{"meta": {"code": 200}, "data": {"id": "', 200, media_type="application/json")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-type", b"application/json"), (b"content-length", b"4096")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": self.body, "more_body": True})
