"""A fake 17TRACK API v2.2 server (reference §1.2), to run the real adapter over real HTTP.

What it keeps from 17TRACK: every call is ``POST`` with a JSON list of ``{"number", "carrier"?}``; the
``17token`` header; at most 40 numbers a request (-18010014); a number must be registered before
``gettrackinfo`` knows it (-18019902), a second registration is refused (-18019901) and costs no quota;
the envelope ``{"code": 0, "data": {"accepted": [...], "rejected": [...]}}`` with per-number errors in an
HTTP 200; accepted items in the v2.2 shape, events newest first.

What it adds for tests: parcels seeded by number (an unseeded number registers fine and reports
NotFound), faults armed with ``fail_next``, per-number refusals with ``reject``, and counters.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from datetime import time as clock_time
from typing import Any, Final, Literal

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

__all__ = ["FakeEvent", "FakeParcel", "FakeSeventeenTrack", "FaultKind"]

MAX_NUMBERS: Final = 40
INVALID_KEY: Final = -18010002
INTERNAL_ERROR: Final = -18010003
INVALID_DATA: Final = -18010012
TOO_MANY_NUMBERS: Final = -18010014
ALREADY_REGISTERED: Final = -18019901
NOT_REGISTERED: Final = -18019902
CARRIER_NOT_DETECTED: Final = -18019903

FaultKind = Literal["500", "503", "429", "malformed", "hang", "code", "envelope", "silent"]
_ENDPOINTS: Final = ("register", "gettrackinfo", "stoptrack")


@dataclass(frozen=True, kw_only=True)
class FakeEvent:
    time: datetime  # aware, in the carrier's local offset as 17TRACK's ``time_iso``
    description: str
    location: str | None = None
    sub_status: str | None = None


@dataclass(frozen=True, kw_only=True)
class FakeParcel:
    """A parcel as 17TRACK would report it. ``events`` are oldest first here; the wire has them newest first."""

    status: str  # main status: "InTransit", "Delivered", ...
    sub_status: str | None = None  # default "<status>_Other"
    events: tuple[FakeEvent, ...] = ()
    estimated_delivery: date | None = None  # the window's end ("to")
    estimated_delivery_from: date | None = None
    delivered_on: date | None = None  # the Delivered milestone
    carrier_key: int = 100002
    provider_name: str = "UPS"


@dataclass(frozen=True, kw_only=True)
class _Fault:
    kind: FaultKind
    code: int
    retry_after: float
    hang: float


class FakeSeventeenTrack:
    """17TRACK's ``/register``, ``/gettrackinfo`` and ``/stoptrack`` as a Starlette ``app``.

    Counters, for tests to assert on:

    * ``requests``: requests received per endpoint, faulted ones included.
    * ``numbers_per_request``: per endpoint, how many numbers each request that was served carried.
    * ``registrations``: successful registrations, i.e. quota used.
    * ``arrivals``: ``time.monotonic()`` of every request, to check the client's pacing.
    """

    def __init__(
        self,
        *,
        parcels: Mapping[str, FakeParcel] | None = None,
        api_key: str = "fake-17track-key",
        wrong_key_answer: Literal["401", "code"] = "401",
        undetectable: Iterable[str] = (),
    ) -> None:
        """
        Args:
            parcels: tracking number -> what 17TRACK knows about it.
            api_key: the only ``17token`` accepted.
            wrong_key_answer: a missing or wrong key gets HTTP 401, or HTTP 200 with code -18010002.
            undetectable: numbers whose carrier 17TRACK cannot detect (registered without a carrier key).
        """
        self._parcels = dict(parcels or {})
        self._api_key = api_key
        self._wrong_key_answer = wrong_key_answer
        self._undetectable = frozenset(undetectable)
        self._registered: dict[str, int | None] = {}  # number -> the carrier key it was registered with
        self._rejections: dict[tuple[str, str], tuple[int, str]] = {}  # (endpoint, number)
        self._faults: list[_Fault] = []
        self.requests: Counter[str] = Counter()
        self.numbers_per_request: dict[str, list[int]] = {endpoint: [] for endpoint in _ENDPOINTS}
        self.registrations = 0
        self.arrivals: list[float] = []
        self.app = Starlette(routes=[Route(f"/{name}", self._endpoint(name), methods=["POST"]) for name in _ENDPOINTS])

    # -- test knobs ------------------------------------------------------------------------------------

    def set_parcel(self, number: str, parcel: FakeParcel | None) -> None:
        """What 17TRACK knows from now on (None: nothing, so NotFound)."""
        if parcel is None:
            self._parcels.pop(number, None)
        else:
            self._parcels[number] = parcel

    def forget(self, number: str) -> None:
        """Drop a registration, as a deleted number: ``gettrackinfo`` answers -18019902 again."""
        self._registered.pop(number, None)

    def reject(
        self, number: str, *, code: int, message: str = "rejected by the fake", endpoint: str | None = None
    ) -> None:
        """Refuse ``number`` with ``code`` in ``rejected[]`` (on ``endpoint`` only, or on all) until cleared."""
        for name in _ENDPOINTS if endpoint is None else (endpoint,):
            self._rejections[name, number] = (code, message)

    def clear_rejections(self) -> None:
        self._rejections.clear()

    def registered_carrier(self, number: str) -> int | None:
        """The carrier key the client registered ``number`` with (None: left to detection)."""
        if number not in self._registered:
            raise KeyError("not registered")
        return self._registered[number]

    def fail_next(
        self,
        kind: FaultKind,
        times: int = 1,
        *,
        code: int = INTERNAL_ERROR,
        retry_after: float = 1.0,
        hang: float = 2.0,
    ) -> None:
        """Answer the next ``times`` requests (any endpoint) with a fault instead of serving them.

        * "500" / "503": that status, a plain-text body.
        * "429": frequency exceeded, with ``Retry-After: <retry_after>``.
        * "malformed": HTTP 200 with an HTML body, as a proxy's error page.
        * "hang": answer only after ``hang`` seconds (or once the client hangs up).
        * "code": HTTP 200 with ``{"code": <code>}``: the whole request failed (default: internal error).
        * "envelope": HTTP 200 with JSON that is not 17TRACK's envelope.
        * "silent": HTTP 200, code 0, nothing accepted and nothing rejected.
        """
        if times < 1:
            raise ValueError("times must be at least 1")
        self._faults.extend([_Fault(kind=kind, code=code, retry_after=retry_after, hang=hang)] * times)

    # -- the API ---------------------------------------------------------------------------------------

    def _endpoint(self, name: str) -> Any:
        async def endpoint(request: Request) -> Response:
            self.requests[name] += 1
            self.arrivals.append(time.monotonic())
            raw = await request.body()  # read first: a hang then notices the client hanging up
            if self._faults:
                fault = self._faults.pop(0)
                answer = await self._fault(fault, request)
                if answer is not None:
                    return answer
            if request.headers.get("17token") != self._api_key:
                return self._wrong_key()
            items = _items(raw)
            if items is None:
                return _request_error(INVALID_DATA, "The data format is invalid.")
            if len(items) > MAX_NUMBERS:
                return _request_error(TOO_MANY_NUMBERS, "The number of tracking numbers exceeds 40.")
            self.numbers_per_request[name].append(len(items))
            serve = {"register": self._register, "gettrackinfo": self._track_info, "stoptrack": self._stop}[name]
            return _envelope(*serve(items))

        return endpoint

    async def _fault(self, fault: _Fault, request: Request) -> Response | None:
        if fault.kind in ("500", "503"):
            return PlainTextResponse("Service unavailable", status_code=int(fault.kind))
        if fault.kind == "429":
            headers = {"Retry-After": f"{fault.retry_after:g}"}
            return PlainTextResponse("Too many requests", status_code=429, headers=headers)
        if fault.kind == "malformed":
            return Response("<html><body>502 Bad Gateway</body></html>", media_type="text/html")
        if fault.kind == "code":
            return _request_error(fault.code, "The request failed.")
        if fault.kind == "envelope":
            return JSONResponse({"status": "ok", "result": []})
        if fault.kind == "silent":
            return _envelope([], [])
        await _hang(request, fault.hang)
        return None  # a slow answer is still an answer, if anyone is left to read it

    def _wrong_key(self) -> Response:
        if self._wrong_key_answer == "code":
            return _request_error(INVALID_KEY, "The security key is invalid.")
        return JSONResponse(_error_body(INVALID_KEY, "Unauthorized."), status_code=401)

    def _register(self, items: list[dict[str, Any]]) -> tuple[list[Any], list[Any]]:
        accepted: list[Any] = []
        rejected: list[Any] = []
        for item in items:
            number, carrier = item["number"], _carrier(item)
            refusal = self._refusal("register", number)
            if refusal is not None:
                rejected.append(refusal)
            elif number in self._registered:
                rejected.append(_rejected(number, ALREADY_REGISTERED, "The tracking number is already registered."))
            elif carrier is None and number in self._undetectable:
                rejected.append(_rejected(number, CARRIER_NOT_DETECTED, "The carrier cannot be detected."))
            else:
                self._registered[number] = carrier
                self.registrations += 1
                accepted.append({"origin": 1, "number": number, "carrier": self._carrier_key(number)})
        return accepted, rejected

    def _track_info(self, items: list[dict[str, Any]]) -> tuple[list[Any], list[Any]]:
        accepted: list[Any] = []
        rejected: list[Any] = []
        for item in items:
            number = item["number"]
            refusal = self._refusal("gettrackinfo", number)
            if refusal is not None:
                rejected.append(refusal)
            elif number not in self._registered:
                rejected.append(_rejected(number, NOT_REGISTERED, f"'{number}' is not registered yet. Register first."))
            else:
                accepted.append(self._accepted_item(number))
        return accepted, rejected

    def _stop(self, items: list[dict[str, Any]]) -> tuple[list[Any], list[Any]]:
        accepted: list[Any] = []
        rejected: list[Any] = []
        for item in items:
            number = item["number"]
            refusal = self._refusal("stoptrack", number)
            if refusal is not None:
                rejected.append(refusal)
            elif number in self._registered:
                accepted.append({"number": number, "carrier": self._carrier_key(number)})
            else:
                rejected.append(_rejected(number, NOT_REGISTERED, "The tracking number is not registered yet."))
        return accepted, rejected

    def _refusal(self, endpoint: str, number: str) -> dict[str, Any] | None:
        if (endpoint, number) not in self._rejections:
            return None
        code, message = self._rejections[endpoint, number]
        return _rejected(number, code, message)

    def _carrier_key(self, number: str) -> int:
        registered = self._registered.get(number)
        if registered is not None:
            return registered
        parcel = self._parcels.get(number)
        return parcel.carrier_key if parcel is not None else 0

    def _accepted_item(self, number: str) -> dict[str, Any]:
        parcel = self._parcels.get(number)
        carrier = self._carrier_key(number)
        return {
            "number": number,
            "carrier": carrier,
            "param": None,
            "tag": None,
            "track_info": _track_info(parcel, carrier),
        }


# -- the v2.2 shapes ---------------------------------------------------------------------------------------


def _track_info(parcel: FakeParcel | None, carrier: int) -> dict[str, Any]:
    if parcel is None:
        parcel = FakeParcel(status="NotFound", carrier_key=carrier, provider_name="")
    sub_status = parcel.sub_status or (parcel.status if parcel.status == "InfoReceived" else f"{parcel.status}_Other")
    newest_first = [_event(event) for event in reversed(parcel.events)]
    providers = []
    if parcel.status != "NotFound":
        providers.append(
            {
                "provider": {
                    "key": parcel.carrier_key, "name": parcel.provider_name, "alias": parcel.provider_name,
                    "tel": None, "homepage": None, "country": "US",
                },
                "service_type": None,
                "latest_sync_status": "Success",
                "latest_sync_time": datetime.now(UTC).isoformat(),
                "events": newest_first,
            }
        )  # fmt: skip
    return {
        "shipping_info": {"shipper_address": _address("CN"), "recipient_address": _address("US")},
        "latest_status": {"status": parcel.status, "sub_status": sub_status, "sub_status_descr": None},
        "latest_event": newest_first[0] if newest_first else None,
        "time_metrics": {
            "days_after_order": 0,
            "days_of_transit": 0,
            "days_of_transit_done": 0,
            "days_after_last_update": 0,
            "estimated_delivery_date": {
                "source": "17TRACK" if parcel.estimated_delivery else None,
                "from": _day(parcel.estimated_delivery_from),
                "to": _day(parcel.estimated_delivery),
            },
        },
        "milestone": _milestones(parcel),
        "misc_info": {"risk_factor": 0, "service_type": None, "weight_raw": None, "weight_kg": None, "pieces": None},
        "tracking": {"providers_hash": hash(tuple(parcel.events)) & 0x7FFFFFFF, "providers": providers},
    }


def _event(event: FakeEvent) -> dict[str, Any]:
    return {
        "time_iso": event.time.isoformat(),
        "time_utc": event.time.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "time_raw": {"date": event.time.date().isoformat(), "time": event.time.time().isoformat(), "timezone": None},
        "description": event.description,
        "location": event.location,
        "stage": None,
        "sub_status": event.sub_status,
        "address": _address(None),
    }


def _milestones(parcel: FakeParcel) -> list[dict[str, Any]]:
    reached: dict[str, datetime | None] = {"InfoReceived": None, "PickedUp": None, "Delivered": None}
    for event in parcel.events:
        if event.sub_status == "InfoReceived" and reached["InfoReceived"] is None:
            reached["InfoReceived"] = event.time
        if event.sub_status == "InTransit_PickedUp" and reached["PickedUp"] is None:
            reached["PickedUp"] = event.time
    if parcel.delivered_on is not None:
        reached["Delivered"] = datetime.combine(parcel.delivered_on, clock_time(12), tzinfo=UTC)
    return [
        {
            "key_stage": stage,
            "time_iso": moment.isoformat() if moment else None,
            "time_utc": moment.astimezone(UTC).isoformat() if moment else None,
            "time_raw": {"date": None, "time": None, "timezone": None},
        }
        for stage, moment in reached.items()
    ]


def _address(country: str | None) -> dict[str, Any]:
    return {"country": country, "state": None, "city": None, "street": None, "postal_code": None, "coordinates": {}}


def _day(day: date | None) -> str | None:
    return None if day is None else f"{day.isoformat()}T00:00:00+00:00"


def _envelope(accepted: list[Any], rejected: list[Any]) -> JSONResponse:
    return JSONResponse({"code": 0, "data": {"accepted": accepted, "rejected": rejected}})


def _rejected(number: str, code: int, message: str) -> dict[str, Any]:
    return {"number": number, "error": {"code": code, "message": message}}


def _error_body(code: int, message: str) -> dict[str, Any]:
    return {"code": code, "data": {"errors": [{"code": code, "message": message}]}}


def _request_error(code: int, message: str) -> JSONResponse:
    return JSONResponse(_error_body(code, message))  # 17TRACK answers these with HTTP 200


def _items(raw: bytes) -> list[dict[str, Any]] | None:
    """The request's ``[{"number": ...}]``, or None when it is not that."""
    try:
        body = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(body, list):
        return None
    if not all(isinstance(item, dict) and isinstance(item.get("number"), str) and item["number"] for item in body):
        return None
    return body


def _carrier(item: Mapping[str, Any]) -> int | None:
    carrier = item.get("carrier")
    return carrier if isinstance(carrier, int) and carrier > 0 else None


async def _hang(request: Request, seconds: float) -> None:
    """Sleep, but stop as soon as the client hangs up, so a test server shuts down at once."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            while not await request.is_disconnected():
                await asyncio.sleep(0.01)
