"""AfterShip Tracking (API 2026-07) as a ``TrackingService``.

AfterShip only tracks what it was asked to track: the first lookup of a parcel creates a tracking
(``POST /trackings``) and remembers its id, later lookups read it (``GET /trackings/{id}``). A create
repeated by a retry or by a second process is answered 4003 "already exists" and changes nothing, so
every request here is safe to repeat; the id is then found by searching for the number.

Errors are translated at this boundary (reference/carriers-orders-loyalty.md §1.1 lists the codes):

| AfterShip says                                   | track()                                                    |
|--------------------------------------------------|------------------------------------------------------------|
| Pending or Expired with no checkpoint            | None: nothing is known about the parcel                    |
| 4005 / 4017 invalid number, 4012 courier unknown | None                                                       |
| 4004 for a remembered id                         | forgets the id and creates the tracking again, once        |
| HTTP 401 / 403                                   | PermanentIntegrationError (bad key)                        |
| other 4xx codes (validation)                     | PermanentIntegrationError naming the meta.code             |
| an answer that is not AfterShip's envelope       | RetryableIntegrationError                                  |
| 5xx, timeouts, 429                               | ProviderHttp's retries, then Retryable- / RateLimitedError |

Nothing here logs or puts in an error the API key, a tracking number or a body: AfterShip's own
``meta.message`` is left out too, since it may repeat the number.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final
from urllib.parse import quote

import httpx

from integrations.carriers.aftership_mapping import TrackingPayloadError, shipment_from_aftership
from integrations.errors import IntegrationError, PermanentIntegrationError, RetryableIntegrationError
from integrations.http import CircuitBreaker, ProviderHttp, ProviderResponse, RequestPacer, RetryPolicy
from integrations.models import Shipment

__all__ = ["DEFAULT_BASE_URL", "DEFAULT_SLUGS", "SERVICE", "AfterShipTracking", "aftership_http"]

SERVICE: Final = "aftership"
DEFAULT_BASE_URL: Final = "https://api.aftership.com/tracking/2026-07"
# GET /trackings/{id} allows 5 requests a second, the lowest limit of the endpoints used here.
REQUESTS_PER_SECOND: Final = 5.0

log = logging.getLogger(__name__)

# How shops and customers name carriers, to AfterShip's courier slugs. Keys are compared lowercased
# and without punctuation or spaces ("DHL-Express", "dhl express" and "DHLExpress" are one key).
DEFAULT_SLUGS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "UPS": "ups",
        "USPS": "usps",
        "FedEx": "fedex",
        "DHL": "dhl",  # AfterShip's "dhl" is DHL Express
        "DHL Express": "dhl",
        "DHL eCommerce": "dhl-global-mail",
        "DHL Paket": "dhl-germany",  # Deutsche Post DHL parcels
        "DHL Germany": "dhl-germany",
        "Royal Mail": "royal-mail",
        "Parcelforce": "parcel-force",
        "Canada Post": "canada-post",
        "Australia Post": "australia-post",
        "China Post": "china-post",
        "China EMS": "china-ems",
        "Japan Post": "japan-post",
        "PostNL": "postnl",
        "PostNord": "postnord",
        "La Poste": "la-poste-colissimo",
        "Colissimo": "colissimo",
        "DPD": "dpd",
        "DPD UK": "dpd-uk",
        "GLS": "gls",
        "SF Express": "sf-express",
        "YunExpress": "yunexpress",
        "4PX": "4px",
        "Cainiao": "cainiao",
        "OnTrac": "ontrac",
        "LaserShip": "lasership",
        "Purolator": "purolator",
        "Aramex": "aramex",
    }
)

# meta.code names from AfterShip's SDK error list, so an error says which rule was broken.
_META_CODE_NAMES: Final[Mapping[int, str]] = MappingProxyType(
    {
        400: "INVALID_REQUEST",
        401: "API_KEY_INVALID",
        403: "FORBIDDEN",
        404: "NOT_FOUND",
        4001: "INVALID_JSON",
        4003: "TRACKING_ALREADY_EXIST",
        4004: "TRACKING_DOES_NOT_EXIST",
        4005: "TRACKING_NUMBER_INVALID",
        4006: "TRACKING_OBJECT_REQUIRED",
        4007: "TRACKING_NUMBER_REQUIRED",
        4008: "VALUE_INVALID",
        4009: "VALUE_REQUIRED",
        4010: "SLUG_INVALID",
        4011: "MISSING_OR_INVALID_REQUIRED_FIELD",
        4012: "BAD_COURIER",
        4013: "INACTIVE_RETRACK_NOT_ALLOWED",
        4016: "RETRACK_ONCE_ALLOWED",
        4017: "TRACKING_NUMBER_FORMAT_INVALID",
    }
)
_ALREADY_EXISTS: Final = 4003
_DOES_NOT_EXIST: Final = 4004
# AfterShip cannot track this number at all: not a tracking number, not this courier's, no courier found.
_NOTHING_TO_TRACK: Final = frozenset({4005, 4012, 4017})
# Tags under which a tracking without checkpoints means AfterShip has heard nothing from the carrier.
_NO_NEWS_TAGS: Final = frozenset({"Pending", "Expired"})
# Remembered ids are a cache of AfterShip's own records: forgetting the oldest costs one 4003 round-trip.
_REMEMBERED_IDS: Final = 10_000


def aftership_http(
    *,
    api_key: str,
    base_url: str = DEFAULT_BASE_URL,
    timeout: float = 10.0,
    retry: RetryPolicy | None = None,
    breaker: CircuitBreaker | None = None,
    pacer: RequestPacer | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> ProviderHttp:
    """The ProviderHttp for AfterShip: its key header, JSON bodies, kept under its rate limit.

    ``retry`` and ``breaker`` default to the shared defaults; tests pass faster ones.
    """
    if not api_key:
        raise ValueError("AfterShip needs an API key")
    return ProviderHttp(
        service=SERVICE,
        base_url=base_url,
        headers={"as-api-key": api_key, "Content-Type": "application/json"},
        timeout=timeout,
        retry=retry,
        breaker=breaker or CircuitBreaker(service=SERVICE),
        pacer=pacer or RequestPacer(rate=REQUESTS_PER_SECOND),
        transport=transport,
    )


@dataclass(frozen=True, slots=True)
class _Answer:
    """One AfterShip answer read as its documented envelope ``{"meta": {"code": ...}, "data": {...}}``."""

    status: int
    code: int | None  # meta.code; None when the body is not the envelope
    data: Mapping[str, Any] | None

    @classmethod
    def of(cls, response: ProviderResponse) -> _Answer:
        body = response.body
        meta = body.get("meta") if isinstance(body, Mapping) else None
        code = meta.get("code") if isinstance(meta, Mapping) else None
        if not isinstance(code, int) or isinstance(code, bool):
            return cls(status=response.status, code=None, data=None)
        data = body.get("data")
        return cls(status=response.status, code=code, data=data if isinstance(data, Mapping) else None)

    @property
    def succeeded(self) -> bool:
        """HTTP and meta.code both say success (AfterShip can put an error code in a 200)."""
        return 200 <= self.status < 300 and self.code is not None and 200 <= self.code < 300

    def refusal(self, what: str) -> IntegrationError:
        """The error for an answer that is neither what was asked for nor a case track() handles."""
        if self.status in (401, 403):
            return PermanentIntegrationError(
                f"{what}: HTTP {self.status}: AfterShip refused the API key or its permissions", service=SERVICE
            )
        if self.code is None:
            return RetryableIntegrationError(
                f"{what}: HTTP {self.status} with a body that is not AfterShip's envelope", service=SERVICE
            )
        if 400 <= self.status < 500 or _is_request_error(self.code):
            name = _META_CODE_NAMES.get(self.code, "an undocumented code")
            return PermanentIntegrationError(
                f"{what}: AfterShip refused the request: meta.code {self.code} {name} (HTTP {self.status})",
                service=SERVICE,
            )
        return RetryableIntegrationError(
            f"{what}: HTTP {self.status}, meta.code {self.code}, without the data AfterShip documents",
            service=SERVICE,
        )


class AfterShipTracking:
    """TrackingService over AfterShip: creates a tracking on first sight, then reads it by its id."""

    def __init__(
        self,
        *,
        http: ProviderHttp,
        slugs: Mapping[str, str] | None = None,
        first_read_after: float = 0.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """
        Args:
            http: AfterShip's ProviderHttp (see ``aftership_http``); ``aclose`` closes it.
            slugs: carrier names to AfterShip courier slugs, replacing ``DEFAULT_SLUGS``. A carrier
                missing from it is sent without a slug, and AfterShip detects the courier itself.
            first_read_after: seconds to wait before reading once more a tracking created a moment ago
                that AfterShip has not fetched from the carrier yet (it answers Pending meanwhile).
                0 reads it once only.
        """
        self._http = http
        self._first_read_after = first_read_after
        self._sleep = sleep
        table = DEFAULT_SLUGS if slugs is None else slugs
        # A slug names itself too, so a carrier already written as AfterShip writes it ("royal-mail") works.
        self._slugs = {_carrier_key(slug): slug for slug in table.values()} | {
            _carrier_key(name): slug for name, slug in table.items()
        }
        self._ids: OrderedDict[tuple[str, str | None], str] = OrderedDict()

    @classmethod
    def connect(
        cls,
        *,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
        first_read_after: float = 0.0,
    ) -> AfterShipTracking:
        """An adapter with its own ProviderHttp: default retries and breaker, ~5 requests a second."""
        http = aftership_http(api_key=api_key, base_url=base_url, timeout=timeout, transport=transport)
        return cls(http=http, first_read_after=first_read_after)

    def __repr__(self) -> str:
        return f"AfterShipTracking(http={self._http!r})"

    async def aclose(self) -> None:
        await self._http.aclose()

    def slug_for(self, carrier: str) -> str | None:
        """AfterShip's courier slug for a carrier name, or None to let AfterShip detect the courier."""
        return self._slugs.get(_carrier_key(carrier))

    async def track(self, *, carrier: str, tracking_number: str) -> Shipment | None:
        tracking = await self._tracking(_number_key(tracking_number), self.slug_for(carrier))
        if tracking is None or _knows_nothing(tracking):
            return None
        try:
            return shipment_from_aftership(tracking)
        except TrackingPayloadError as error:
            raise RetryableIntegrationError(
                f"GET /trackings/{{id}}: the tracking has no usable {error.path or 'data'}", service=SERVICE
            ) from None

    async def _tracking(self, number: str, slug: str | None) -> Mapping[str, Any] | None:
        """AfterShip's tracking object for the parcel, created first if need be; None if it cannot be tracked."""
        key = (number, slug)
        remembered = self._ids.get(key)
        if remembered is not None:
            tracking = await self._read(remembered)
            if tracking is not None:
                self._ids.move_to_end(key)  # recently used: the last to be forgotten
                return tracking
            # Deleted on AfterShip's side since (by hand, or purged): create it again, once.
            log.info("%s: a remembered tracking no longer exists; creating it again", SERVICE)
            del self._ids[key]
        tracking_id = await self._create(number, slug)
        if tracking_id is None:
            return None
        self._remember(key, tracking_id)
        tracking = await self._read(tracking_id)
        if tracking is not None and _knows_nothing(tracking) and self._first_read_after > 0:
            # AfterShip fetches a new tracking from the carrier within moments; until then it is Pending.
            await self._sleep(self._first_read_after)
            tracking = await self._read(tracking_id)
        if tracking is None:
            raise RetryableIntegrationError(
                "GET /trackings/{id}: a tracking created a moment ago does not exist (4004)", service=SERVICE
            )
        return tracking

    async def _read(self, tracking_id: str) -> Mapping[str, Any] | None:
        """The tracking with this id, or None when AfterShip no longer has it (4004)."""
        what = "GET /trackings/{id}"
        answer = await self._ask("GET", f"/trackings/{quote(tracking_id, safe='')}")
        if answer.code == _DOES_NOT_EXIST:
            return None
        if answer.succeeded and answer.data is not None:
            return answer.data
        raise answer.refusal(what)

    async def _create(self, number: str, slug: str | None) -> str | None:
        """The id of the (new or existing) tracking, or None when AfterShip cannot track this number."""
        what = "POST /trackings"
        body = {"tracking_number": number} | ({"slug": slug} if slug else {})  # no slug: AfterShip detects it
        answer = await self._ask("POST", "/trackings", json_body=body)
        if answer.succeeded:
            return _id_of(answer.data, what)
        if answer.code == _ALREADY_EXISTS:
            # Created before (another process, a retried create, a forgotten id): look it up.
            return await self._find(number, slug)
        if answer.code in _NOTHING_TO_TRACK:
            return None
        raise answer.refusal(what)

    async def _find(self, number: str, slug: str | None) -> str:
        what = "GET /trackings"
        params = {"tracking_numbers": number} | ({"slug": slug} if slug else {})
        answer = await self._ask("GET", "/trackings", params=params)
        if not answer.succeeded or answer.data is None:
            raise answer.refusal(what)
        listed = answer.data.get("trackings")
        if not isinstance(listed, list):
            raise RetryableIntegrationError(f"{what}: the answer has no list of trackings", service=SERVICE)
        for tracking in listed:
            if isinstance(tracking, Mapping) and _is_the_one(tracking, number, slug):
                return _id_of(tracking, what)
        # AfterShip said the tracking exists; its search index may not have caught up yet.
        raise RetryableIntegrationError(
            f"{what}: the tracking AfterShip says exists (4003) is not listed", service=SERVICE
        )

    async def _ask(
        self,
        method: str,
        path: str,
        *,
        json_body: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> _Answer:
        # Every call is repeatable: reads, and a create that AfterShip deduplicates (4003).
        response = await self._http.request(method, path, repeatable=True, json_body=json_body, params=params)
        return _Answer.of(response)

    def _remember(self, key: tuple[str, str | None], tracking_id: str) -> None:
        self._ids[key] = tracking_id
        self._ids.move_to_end(key)
        while len(self._ids) > _REMEMBERED_IDS:
            self._ids.popitem(last=False)


def _knows_nothing(tracking: Mapping[str, Any]) -> bool:
    """Pending or Expired without a single checkpoint: the carrier never reported the parcel."""
    return tracking.get("tag") in _NO_NEWS_TAGS and not tracking.get("checkpoints")


def _is_the_one(tracking: Mapping[str, Any], number: str, slug: str | None) -> bool:
    found = tracking.get("tracking_number")
    return isinstance(found, str) and _number_key(found) == number and (slug is None or tracking.get("slug") == slug)


def _id_of(data: Mapping[str, Any] | None, what: str) -> str:
    tracking_id = data.get("id") if data is not None else None
    if not isinstance(tracking_id, str) or not tracking_id:
        raise RetryableIntegrationError(f"{what}: the tracking in the answer has no id", service=SERVICE)
    return tracking_id


def _is_request_error(code: int) -> bool:
    """AfterShip's codes for a request it will never accept: 4xx, and its 4001-4999 details of a 400."""
    return 400 <= code < 500 or 4000 <= code < 5000


def _carrier_key(name: str) -> str:
    return re.sub(r"[\W_]+", "", name.casefold())


def _number_key(tracking_number: str) -> str:
    """As AfterShip stores numbers: no spaces (customers copy them with spaces), upper case."""
    return "".join(tracking_number.split()).upper()
