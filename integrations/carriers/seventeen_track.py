"""17TRACK API v2.2 as a ``TrackingService`` (reference §1.2).

Two rules of 17TRACK shape this adapter:

* A number must be registered (``POST /register``) before ``POST /gettrackinfo`` knows it, and each
  registration costs quota (100 free a month). Registered numbers are remembered in memory; 17TRACK's
  "already registered" counts as registered, and its "not registered yet" makes us register and ask once
  more (17TRACK deleted it, or another process's registration is not ours to remember).
* 3 requests a second per key, 40 numbers a request. Lookups arriving within ``batch_window`` of each
  other share one request, so thirty customers asking at once cost one call, not thirty.

An HTTP 200 is not success: ``code != 0`` fails the whole request, and ``data.rejected[]`` fails single
numbers, which only their own callers hear about. Nothing here logs the key, a tracking number or a body.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Final, TypeAlias

import httpx

from integrations.carriers.seventeen_track_mapping import shipment_from_17track
from integrations.errors import IntegrationError, PermanentIntegrationError, RetryableIntegrationError
from integrations.http import CircuitBreaker, ProviderHttp, ProviderResponse, RequestPacer, RetryPolicy
from integrations.models import Shipment

__all__ = ["DEFAULT_BASE_URL", "DEFAULT_CARRIER_KEYS", "MAX_NUMBERS_PER_REQUEST", "SERVICE", "SeventeenTrack"]

log = logging.getLogger(__name__)

SERVICE: Final = "17track"
DEFAULT_BASE_URL: Final = "https://api.17track.net/track/v2.2"
MAX_NUMBERS_PER_REQUEST: Final = 40
# Batches under way at once. More would only wait at the 3-a-second pacer with a few numbers each, where
# a batch held back keeps gathering lookups until a request slot is near.
_BATCHES_IN_FLIGHT: Final = 2
REQUESTS_PER_SECOND: Final = 3.0  # from the v1 docs; the v2.2 value is UNCONFIRMED, so stay under the old one

# Our carrier names -> 17TRACK's numeric carrier keys. UNCONFIRMED: third-party code disagrees (another
# table has usps 100001, dhl 100004), so the table is a constructor argument; check the keys against
# https://res.17track.net/asset/carrier/info/apicarrier.all.json before relying on them. A carrier not
# listed is sent without a key and 17TRACK detects it from the number's format.
DEFAULT_CARRIER_KEYS: Final[Mapping[str, int]] = {
    "china-post": 3011,
    "usps": 21051,
    "dhl": 100001,
    "ups": 100002,
    "fedex": 100003,
}

# Body codes (help.17track.net "Error Codes and Troubleshooting").
_IP_NOT_WHITELISTED: Final = -18010001
_INVALID_KEY: Final = -18010002
_INTERNAL_ERROR: Final = -18010003
_TOO_MANY_NUMBERS: Final = -18010014
_ALREADY_REGISTERED: Final = -18019901
_NOT_REGISTERED: Final = -18019902
_CARRIER_NOT_DETECTED: Final = -18019903

# Forgetting a registration costs one "already registered" round trip, not quota: bounding the memory is safe.
_REMEMBERED_REGISTRATIONS: Final = 100_000


@dataclass(frozen=True, slots=True)
class _Parcel:
    """What 17TRACK registers and tracks: a number, and the carrier when we know its key."""

    number: str
    carrier_key: int | None

    def as_json(self) -> dict[str, Any]:
        if self.carrier_key is None:
            return {"number": self.number}  # no key: 17TRACK detects the carrier
        return {"number": self.number, "carrier": self.carrier_key}


# What one lookup ends with: 17TRACK's accepted item mapped (None: it knows nothing), or this caller's error.
_Outcome: TypeAlias = Shipment | None | IntegrationError


class SeventeenTrack:
    """TrackingService over 17TRACK v2.2; build it with ``connect`` (or around any ``ProviderHttp``)."""

    def __init__(
        self, *, http: ProviderHttp, carrier_keys: Mapping[str, int] | None = None, batch_window: float = 0.02
    ) -> None:
        """
        Args:
            http: the provider client, carrying the ``17token`` header and a pacer of 3 requests/s.
            carrier_keys: our carrier name -> 17TRACK key; None for ``DEFAULT_CARRIER_KEYS``.
            batch_window: seconds a lookup waits for others to share its request.
        """
        if batch_window < 0:
            raise ValueError("batch_window cannot be negative")
        self._http = http
        keys = DEFAULT_CARRIER_KEYS if carrier_keys is None else carrier_keys
        self._carrier_keys = {_carrier_name(name): key for name, key in keys.items()}
        self._batch_window = batch_window
        self._registered: OrderedDict[_Parcel, None] = OrderedDict()
        self._pending: dict[_Parcel, asyncio.Future[Shipment | None]] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._batches: set[asyncio.Task[None]] = set()
        self._closing = False

    @classmethod
    def connect(
        cls,
        *,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy | None = None,
        breaker: CircuitBreaker | None = None,
        pacer: RequestPacer | None = None,
        carrier_keys: Mapping[str, int] | None = None,
        batch_window: float = 0.02,
    ) -> SeventeenTrack:
        """A client for the account of ``api_key``.

        ``retry`` and ``breaker`` default to ProviderHttp's own, ``pacer`` to 3 requests a second.
        """
        if not api_key.strip():
            raise ValueError("17TRACK needs an API key")
        http = ProviderHttp(
            service=SERVICE,
            base_url=base_url,
            headers={"17token": api_key},
            timeout=timeout,
            retry=retry,
            breaker=breaker,
            # A burst of 1, not 3: three at once plus the refill would put five requests in one second.
            pacer=pacer or RequestPacer(rate=REQUESTS_PER_SECOND),
            transport=transport,
        )
        return cls(http=http, carrier_keys=carrier_keys, batch_window=batch_window)

    def __repr__(self) -> str:
        return f"SeventeenTrack({self._http!r})"

    async def aclose(self) -> None:
        """Fail lookups still waiting (retryable: nothing was decided), then close the connections."""
        self._closing = True
        self._flush(full=True)
        for task in list(self._batches):
            task.cancel()
        await asyncio.gather(*self._batches, return_exceptions=True)
        await self._http.aclose()

    async def track(self, *, carrier: str, tracking_number: str) -> Shipment | None:
        number = _normalized(tracking_number)
        if not number:
            raise PermanentIntegrationError("an empty tracking number cannot be tracked", service=SERVICE)
        parcel = _Parcel(number=number, carrier_key=self._carrier_keys.get(_carrier_name(carrier)))
        future = self._pending.get(parcel)
        if future is None:  # the same parcel asked twice in one batch is sent once
            future = self._enqueue(parcel)
        # Shielded: a caller giving up must not cancel the answer others sharing this parcel wait for.
        shipment = await asyncio.shield(future)
        if shipment is None or not carrier.strip():
            return shipment
        return replace(shipment, carrier=carrier)

    # -- batching --------------------------------------------------------------------------------------

    def _enqueue(self, parcel: _Parcel) -> asyncio.Future[Shipment | None]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Shipment | None] = loop.create_future()
        future.add_done_callback(_mark_retrieved)
        self._pending[parcel] = future
        if len(self._pending) >= MAX_NUMBERS_PER_REQUEST:
            self._flush(full=True)  # a full request gains nothing by waiting
        elif self._timer is None:
            self._timer = loop.call_later(self._batch_window, self._flush)
        return future

    def _flush(self, *, full: bool = False) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not full and self._pending and len(self._batches) >= _BATCHES_IN_FLIGHT:
            # The requests already under way are waiting their turn at 3 a second: sending another small
            # one now would only queue behind them. Keep gathering; the batch leaves when one finishes.
            return
        batch, self._pending = self._pending, {}
        if batch:
            task = asyncio.create_task(self._answer(batch), name="17track-batch")
            self._batches.add(task)
            task.add_done_callback(functools.partial(self._batch_done, batch))

    async def _answer(self, batch: dict[_Parcel, asyncio.Future[Shipment | None]]) -> None:
        """Look the batch up, 40 numbers a request, and hand each caller its own outcome."""
        chunks = await asyncio.gather(*(self._look_up(chunk) for chunk in _chunks(batch)))
        for outcomes in chunks:
            for parcel, outcome in outcomes.items():
                _settle(batch[parcel], outcome)

    def _batch_done(self, batch: dict[_Parcel, asyncio.Future[Shipment | None]], task: asyncio.Task[None]) -> None:
        """No caller is left waiting: not when the client closed first, not when a bug broke the batch."""
        self._batches.discard(task)
        if self._pending and self._timer is None and not self._closing:
            self._flush()  # the lookups that gathered while this batch was under way
        failure: BaseException
        if task.cancelled():
            failure = RetryableIntegrationError("the 17TRACK client was closed", service=SERVICE)
        else:
            failure = task.exception() or _unanswered()  # a bug reaches the callers as itself
        for future in batch.values():
            if not future.done():
                future.set_exception(failure)

    # -- one request's worth of numbers ----------------------------------------------------------------

    async def _look_up(self, parcels: list[_Parcel]) -> dict[_Parcel, _Outcome]:
        """Register what is new, get everything, and register-then-get once more what 17TRACK forgot."""
        outcomes: dict[_Parcel, _Outcome] = {}
        new = [parcel for parcel in parcels if parcel not in self._registered]
        outcomes.update(await self._register(new))
        forgotten = await self._get([parcel for parcel in parcels if parcel not in outcomes], outcomes)
        if forgotten:
            for parcel in forgotten:
                self._registered.pop(parcel, None)
            outcomes.update(await self._register(forgotten))
            still = await self._get([parcel for parcel in forgotten if parcel not in outcomes], outcomes)
            for parcel in still:
                outcomes[parcel] = RetryableIntegrationError(
                    "17TRACK does not know the number right after registering it", service=SERVICE
                )
        return outcomes

    async def _register(self, parcels: list[_Parcel]) -> dict[_Parcel, _Outcome]:
        """Register ``parcels``; the outcomes of those that cannot be tracked (the rest are remembered)."""
        if not parcels:
            return {}
        try:
            accepted, rejected = await self._post("register", parcels)
        except IntegrationError as error:
            return dict.fromkeys(parcels, error)
        outcomes: dict[_Parcel, _Outcome] = {}
        for parcel in accepted:
            self._remember(parcel)
        for parcel, code in rejected.items():
            if code == _ALREADY_REGISTERED:
                self._remember(parcel)
            else:
                outcomes[parcel] = _number_error(code)
        for parcel in parcels:
            if parcel not in accepted and parcel not in rejected:
                outcomes[parcel] = _unanswered()
        return outcomes

    async def _get(self, parcels: list[_Parcel], outcomes: dict[_Parcel, _Outcome]) -> list[_Parcel]:
        """Track ``parcels`` into ``outcomes``; returns those 17TRACK says are not registered."""
        if not parcels:
            return []
        try:
            accepted, rejected = await self._post("gettrackinfo", parcels)
        except IntegrationError as error:
            outcomes.update(dict.fromkeys(parcels, error))
            return []
        forgotten: list[_Parcel] = []
        for parcel, item in accepted.items():
            outcomes[parcel] = shipment_from_17track(item)
        for parcel, code in rejected.items():
            if code == _NOT_REGISTERED:
                forgotten.append(parcel)
            else:
                outcomes[parcel] = _number_error(code)
        for parcel in parcels:
            if parcel not in accepted and parcel not in rejected:
                outcomes[parcel] = _unanswered()
        return forgotten

    async def _post(
        self, endpoint: str, parcels: list[_Parcel]
    ) -> tuple[dict[_Parcel, Mapping[str, Any]], dict[_Parcel, int]]:
        """One request; its accepted items and rejected codes by parcel. Raises when the whole request failed.

        Both endpoints may be repeated: a second registration is "already registered" and costs nothing.
        """
        log.debug("%s: %s for %d numbers", SERVICE, endpoint, len(parcels))
        response = await self._http.request(
            "POST", f"/{endpoint}", repeatable=True, json_body=[parcel.as_json() for parcel in parcels]
        )
        accepted, rejected = _envelope(response, endpoint)
        by_number = {parcel.number: parcel for parcel in parcels}  # a request never holds one number twice
        answered: dict[_Parcel, Mapping[str, Any]] = {}
        for item in accepted:
            parcel = by_number.get(_normalized(_text(item.get("number"))))
            if parcel is not None:
                answered[parcel] = item
        refused: dict[_Parcel, int] = {}
        for item in rejected:
            parcel = by_number.get(_normalized(_text(item.get("number"))))
            error = item.get("error")
            code = error.get("code") if isinstance(error, Mapping) else None
            if parcel is not None and isinstance(code, int) and not isinstance(code, bool):
                refused[parcel] = code
        return answered, refused

    def _remember(self, parcel: _Parcel) -> None:
        self._registered[parcel] = None
        self._registered.move_to_end(parcel)
        while len(self._registered) > _REMEMBERED_REGISTRATIONS:
            self._registered.popitem(last=False)


def _chunks(parcels: Iterable[_Parcel]) -> list[list[_Parcel]]:
    """Requests of at most 40 numbers, none holding one number twice (answers are matched by number)."""
    chunks: list[list[_Parcel]] = []
    numbers: list[set[str]] = []
    for parcel in parcels:
        for chunk, held in zip(chunks, numbers, strict=True):
            if len(chunk) < MAX_NUMBERS_PER_REQUEST and parcel.number not in held:
                chunk.append(parcel)
                held.add(parcel.number)
                break
        else:
            chunks.append([parcel])
            numbers.append({parcel.number})
    return chunks


def _envelope(response: ProviderResponse, endpoint: str) -> tuple[list[Mapping[str, Any]], list[Mapping[str, Any]]]:
    """``data.accepted`` and ``data.rejected`` of a successful request, or the error the whole request met."""
    if response.status in (401, 403):
        raise PermanentIntegrationError(
            f"{endpoint}: HTTP {response.status}: the key is wrong or disabled, or this IP is not allowed",
            service=SERVICE,
        )
    if not response.ok:
        raise PermanentIntegrationError(f"{endpoint}: HTTP {response.status}", service=SERVICE)
    body = response.body
    code = body.get("code") if isinstance(body, Mapping) else None
    if not isinstance(code, int) or isinstance(code, bool):
        raise RetryableIntegrationError(f"{endpoint}: the answer is not a 17TRACK envelope", service=SERVICE)
    if code != 0:
        raise _request_error(endpoint, code)
    data = body.get("data")
    accepted = data.get("accepted", []) if isinstance(data, Mapping) else None
    rejected = data.get("rejected", []) if isinstance(data, Mapping) else None
    if not isinstance(accepted, list) or not isinstance(rejected, list):
        raise RetryableIntegrationError(f"{endpoint}: the answer has no accepted/rejected lists", service=SERVICE)
    return (
        [item for item in accepted if isinstance(item, Mapping)],
        [item for item in rejected if isinstance(item, Mapping)],
    )


def _request_error(endpoint: str, code: int) -> IntegrationError:
    """A whole request refused in a 200 body. The provider's message is left out: it may echo what we sent."""
    if code == _INTERNAL_ERROR:
        return RetryableIntegrationError(f"{endpoint}: 17TRACK internal error (code {code})", service=SERVICE)
    if code == _INVALID_KEY:
        return PermanentIntegrationError(f"{endpoint}: 17TRACK refused the API key (code {code})", service=SERVICE)
    if code == _IP_NOT_WHITELISTED:
        return PermanentIntegrationError(
            f"{endpoint}: this server's IP is not on the 17TRACK allow-list (code {code})", service=SERVICE
        )
    if code == _TOO_MANY_NUMBERS:  # our bug: requests are cut at 40
        return PermanentIntegrationError(
            f"{endpoint}: more than 40 numbers in one request (code {code})", service=SERVICE
        )
    return PermanentIntegrationError(f"{endpoint}: 17TRACK refused the request (code {code})", service=SERVICE)


def _number_error(code: int) -> _Outcome:
    """A single number refused: "carrier not detected" means no carrier knows it; anything else is final."""
    if code == _CARRIER_NOT_DETECTED:
        return None
    return PermanentIntegrationError(f"17TRACK refused the tracking number (code {code})", service=SERVICE)


def _unanswered() -> IntegrationError:
    return RetryableIntegrationError("17TRACK's answer left out a tracking number", service=SERVICE)


def _settle(future: asyncio.Future[Shipment | None], outcome: _Outcome) -> None:
    if future.done():
        return
    if isinstance(outcome, IntegrationError):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


def _mark_retrieved(future: asyncio.Future[Shipment | None]) -> None:
    """Every caller sharing a future may have given up; reading the error keeps asyncio from reporting it."""
    if not future.cancelled():
        future.exception()


def _normalized(number: str | None) -> str:
    """Customers paste numbers with spaces and in lower case; carriers ignore both."""
    return "".join((number or "").split()).upper()


def _carrier_name(name: str) -> str:
    """ "UPS", " ups " and "China Post" / "china_post" match the table's "ups" and "china-post"."""
    return "-".join(name.strip().lower().replace("_", " ").split())


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
