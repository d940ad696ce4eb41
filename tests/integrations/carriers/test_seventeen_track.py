"""SeventeenTrack against FakeSeventeenTrack over real HTTP: registration, batching, errors, logs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest

from integrations.carriers.seventeen_track import SeventeenTrack
from integrations.errors import PermanentIntegrationError, RateLimitedError, RetryableIntegrationError
from integrations.http import CircuitBreaker, ProviderUnavailableError, RequestPacer, RetryPolicy
from integrations.models import Shipment, ShipmentStatus
from tests.fakes.seventeen_track import FakeEvent, FakeParcel, FakeSeventeenTrack
from tests.integrations.x.sandbox.server import serve

KEY = "17t-secret-0123456789abcdef"
UPS_NUMBER = "1Z5R89390357567127"
UNKNOWN_NUMBER = "1Z879E930346834440"
UNDETECTABLE = "ZZ000000000ZZ"
_EASTERN = timezone(timedelta(hours=-5))

IN_TRANSIT = FakeParcel(
    status="InTransit",
    sub_status="InTransit_Arrival",
    events=(
        FakeEvent(
            time=datetime(2026, 3, 6, 18, 0, tzinfo=_EASTERN), description="Picked up", sub_status="InTransit_PickedUp"
        ),
        FakeEvent(
            time=datetime(2026, 3, 8, 7, 30, tzinfo=_EASTERN), description="Arrived at facility", location="Austin, TX"
        ),
    ),
    estimated_delivery=date(2026, 3, 11),
    estimated_delivery_from=date(2026, 3, 10),
)


def numbered(count: int) -> dict[str, FakeParcel]:
    """Parcels told apart by their estimated delivery, so each caller can check it got its own answer."""
    return {
        f"LX{i:09d}CN": FakeParcel(status="InTransit", estimated_delivery=date(2026, 4, 1) + timedelta(days=i))
        for i in range(count)
    }


@pytest.fixture
def fake() -> FakeSeventeenTrack:
    parcels = {UPS_NUMBER: IN_TRANSIT, **numbered(85)}
    return FakeSeventeenTrack(parcels=parcels, api_key=KEY, undetectable={UNDETECTABLE})


@pytest.fixture
async def base_url(fake: FakeSeventeenTrack) -> AsyncIterator[str]:
    async with serve(fake.app) as url:
        yield url


@contextlib.asynccontextmanager
async def connected(base_url: str, **options: Any) -> AsyncIterator[SeventeenTrack]:
    """A client with test-sized waits; the real pacer (3/s) only where a test is about pacing."""
    options.setdefault("pacer", RequestPacer(rate=1000))
    options.setdefault("retry", RetryPolicy(attempts=3, base_delay=0.001, max_delay=0.5))
    options.setdefault("timeout", 2.0)
    options.setdefault("api_key", KEY)
    client = SeventeenTrack.connect(base_url=base_url, **options)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
async def client(base_url: str) -> AsyncIterator[SeventeenTrack]:
    async with connected(base_url) as client:
        yield client


# -- registration --------------------------------------------------------------------------------------


async def test_a_first_lookup_registers_then_gets(client: SeventeenTrack, fake: FakeSeventeenTrack) -> None:
    shipment = await client.track(carrier="ups", tracking_number=UPS_NUMBER)

    assert shipment is not None
    assert (shipment.carrier, shipment.tracking_number) == ("ups", UPS_NUMBER)
    assert (shipment.status, shipment.raw_status) == (ShipmentStatus.IN_TRANSIT, "InTransit_Arrival")
    assert shipment.estimated_delivery == date(2026, 3, 11)  # the end of the window
    assert [c.message for c in shipment.checkpoints] == ["Picked up", "Arrived at facility"]
    assert shipment.last_event == "Arrived at facility"
    assert fake.requests == {"register": 1, "gettrackinfo": 1}
    assert fake.registrations == 1
    assert fake.registered_carrier(UPS_NUMBER) == 100002  # UPS's key from the default table


async def test_numbers_are_sent_as_carriers_write_them(client: SeventeenTrack, fake: FakeSeventeenTrack) -> None:
    shipment = await client.track(carrier="UPS", tracking_number=" 1z5r 8939 0357 5671 27 ")

    assert shipment is not None
    assert (shipment.carrier, shipment.tracking_number) == ("UPS", UPS_NUMBER)
    assert fake.registered_carrier(UPS_NUMBER) == 100002


async def test_an_unlisted_carrier_is_left_to_detection(client: SeventeenTrack, fake: FakeSeventeenTrack) -> None:
    shipment = await client.track(carrier="acme-post", tracking_number=UPS_NUMBER)

    assert shipment is not None and shipment.carrier == "acme-post"
    assert fake.registered_carrier(UPS_NUMBER) is None


async def test_the_carrier_table_is_configurable(base_url: str, fake: FakeSeventeenTrack) -> None:
    async with connected(base_url, carrier_keys={"Acme Post": 190001}) as client:
        await client.track(carrier="acme_post", tracking_number=UPS_NUMBER)
        await client.track(carrier="ups", tracking_number=UNKNOWN_NUMBER)  # not in the table given

    assert fake.registered_carrier(UPS_NUMBER) == 190001
    assert fake.registered_carrier(UNKNOWN_NUMBER) is None


async def test_a_second_lookup_spends_no_quota(client: SeventeenTrack, fake: FakeSeventeenTrack) -> None:
    first = await client.track(carrier="ups", tracking_number=UPS_NUMBER)
    second = await client.track(carrier="ups", tracking_number=UPS_NUMBER)

    assert second == first
    assert fake.requests == {"register": 1, "gettrackinfo": 2}
    assert fake.registrations == 1


async def test_already_registered_counts_as_registered(base_url: str, fake: FakeSeventeenTrack) -> None:
    async with connected(base_url) as earlier:
        await earlier.track(carrier="ups", tracking_number=UPS_NUMBER)
    async with connected(base_url) as restarted:  # a new process remembers nothing
        shipment = await restarted.track(carrier="ups", tracking_number=UPS_NUMBER)
        await restarted.track(carrier="ups", tracking_number=UPS_NUMBER)

    assert shipment is not None and shipment.status is ShipmentStatus.IN_TRANSIT
    assert fake.requests == {"register": 2, "gettrackinfo": 3}  # -18019901 once, then remembered
    assert fake.registrations == 1


async def test_not_registered_is_registered_and_asked_again(client: SeventeenTrack, fake: FakeSeventeenTrack) -> None:
    await client.track(carrier="ups", tracking_number=UPS_NUMBER)
    fake.forget(UPS_NUMBER)  # deleted at 17TRACK: our memory is stale

    shipment = await client.track(carrier="ups", tracking_number=UPS_NUMBER)

    assert shipment is not None and shipment.status is ShipmentStatus.IN_TRANSIT
    assert fake.requests == {"register": 2, "gettrackinfo": 3}
    assert fake.registrations == 2


async def test_not_registered_twice_is_retryable(client: SeventeenTrack, fake: FakeSeventeenTrack) -> None:
    fake.reject(UPS_NUMBER, code=-18019902, endpoint="gettrackinfo")

    with pytest.raises(RetryableIntegrationError, match="right after registering"):
        await client.track(carrier="ups", tracking_number=UPS_NUMBER)
    assert fake.requests == {"register": 2, "gettrackinfo": 2}  # asked once more, not forever


async def test_an_unknown_number_is_none(client: SeventeenTrack, fake: FakeSeventeenTrack) -> None:
    assert await client.track(carrier="ups", tracking_number=UNKNOWN_NUMBER) is None
    assert fake.registrations == 1  # registered: 17TRACK may learn about it later


async def test_an_empty_number_is_refused_without_a_request(client: SeventeenTrack, fake: FakeSeventeenTrack) -> None:
    with pytest.raises(PermanentIntegrationError):
        await client.track(carrier="ups", tracking_number="  ")
    assert fake.requests == {}


# -- batching ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [30, 85])
async def test_concurrent_lookups_share_requests_of_40(
    client: SeventeenTrack, fake: FakeSeventeenTrack, count: int
) -> None:
    parcels = numbered(count)

    shipments = await asyncio.gather(*(client.track(carrier="china-post", tracking_number=n) for n in parcels))

    for number, shipment in zip(parcels, shipments, strict=True):
        assert shipment is not None
        assert (shipment.tracking_number, shipment.estimated_delivery) == (number, parcels[number].estimated_delivery)
    requests = math.ceil(count / 40)
    assert fake.requests == {"register": requests, "gettrackinfo": requests}
    sizes = sorted([40] * (count // 40) + [count % 40])
    assert sorted(fake.numbers_per_request["register"]) == sizes
    assert sorted(fake.numbers_per_request["gettrackinfo"]) == sizes


async def test_one_number_asked_by_many_is_sent_once(client: SeventeenTrack, fake: FakeSeventeenTrack) -> None:
    carriers = ["ups", "ups", "UPS", "ups", "Ups"]
    lookups = [client.track(carrier=carrier, tracking_number=UPS_NUMBER) for carrier in carriers]

    *same, other = await asyncio.gather(*lookups, client.track(carrier="ups", tracking_number=UNKNOWN_NUMBER))

    assert fake.numbers_per_request == {"register": [2], "gettrackinfo": [2], "stoptrack": []}
    assert [shipment.carrier if shipment else None for shipment in same] == carriers  # each caller's own name
    assert len({shipment.status if shipment else None for shipment in same}) == 1
    assert other is None


async def test_a_caller_giving_up_leaves_the_answer_to_the_others(client: SeventeenTrack) -> None:
    leaving = asyncio.create_task(client.track(carrier="ups", tracking_number=UPS_NUMBER))
    staying = asyncio.create_task(client.track(carrier="ups", tracking_number=UPS_NUMBER))
    await asyncio.sleep(0)  # both are waiting in one batch

    leaving.cancel()
    shipment = await staying

    assert shipment is not None and shipment.tracking_number == UPS_NUMBER
    assert leaving.cancelled()


async def test_closing_fails_the_lookups_still_waiting(base_url: str, fake: FakeSeventeenTrack) -> None:
    client = SeventeenTrack.connect(api_key=KEY, base_url=base_url, batch_window=10)
    waiting = asyncio.create_task(client.track(carrier="ups", tracking_number=UPS_NUMBER))
    await asyncio.sleep(0)

    await client.aclose()

    with pytest.raises(RetryableIntegrationError, match="closed"):
        await waiting
    assert fake.requests == {}


# -- errors for one number -----------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ["register", "gettrackinfo"])
async def test_a_rejected_number_fails_only_its_caller(
    client: SeventeenTrack, fake: FakeSeventeenTrack, endpoint: str
) -> None:
    refused = "LX000000001CN"
    fake.reject(refused, code=-18010012, endpoint=endpoint)

    outcomes = await asyncio.gather(
        client.track(carrier="ups", tracking_number=refused),
        client.track(carrier="", tracking_number=UNDETECTABLE),  # no carrier: detection fails
        client.track(carrier="ups", tracking_number=UPS_NUMBER),
        return_exceptions=True,
    )

    error, undetected, shipment = outcomes
    assert isinstance(error, PermanentIntegrationError) and "-18010012" in str(error)
    assert refused not in str(error)  # errors are logged upstream: no tracking numbers in them
    assert undetected is None  # -18019903: no carrier knows the number
    assert isinstance(shipment, Shipment) and shipment.tracking_number == UPS_NUMBER
    assert fake.numbers_per_request["register"] == [3]  # all three in one request nonetheless


async def test_carrier_not_detected_when_tracking_is_none(client: SeventeenTrack, fake: FakeSeventeenTrack) -> None:
    fake.reject(UPS_NUMBER, code=-18019903, endpoint="gettrackinfo")

    assert await client.track(carrier="ups", tracking_number=UPS_NUMBER) is None


async def test_a_number_left_out_of_the_answer_is_retryable(client: SeventeenTrack, fake: FakeSeventeenTrack) -> None:
    await client.track(carrier="ups", tracking_number=UPS_NUMBER)
    fake.fail_next("silent")  # code 0, but neither accepted nor rejected

    with pytest.raises(RetryableIntegrationError, match="left out"):
        await client.track(carrier="ups", tracking_number=UPS_NUMBER)


# -- errors for the whole request ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "error"),
    [
        (-18010002, PermanentIntegrationError),  # invalid key
        (-18010001, PermanentIntegrationError),  # IP not whitelisted
        (-18010004, PermanentIntegrationError),  # account disabled
        (-18010003, RetryableIntegrationError),  # 17TRACK's internal error
    ],
)
async def test_a_failed_request_fails_every_caller_in_it(
    client: SeventeenTrack, fake: FakeSeventeenTrack, code: int, error: type[Exception]
) -> None:
    fake.fail_next("code", code=code)

    outcomes = await asyncio.gather(
        client.track(carrier="ups", tracking_number=UPS_NUMBER),
        client.track(carrier="ups", tracking_number=UNKNOWN_NUMBER),
        return_exceptions=True,
    )

    for outcome in outcomes:
        assert type(outcome) is error
        assert str(code) in str(outcome) and KEY not in str(outcome)
    assert fake.requests == {"register": 1}  # a 200 is never repeated in place; the caller decides


@pytest.mark.parametrize("answer", ["401", "code"])
async def test_a_wrong_key_is_permanent(answer: Any) -> None:
    fake = FakeSeventeenTrack(parcels={UPS_NUMBER: IN_TRANSIT}, api_key="the-right-key", wrong_key_answer=answer)
    async with serve(fake.app) as base_url, connected(base_url) as client:
        with pytest.raises(PermanentIntegrationError) as caught:
            await client.track(carrier="ups", tracking_number=UPS_NUMBER)

    assert KEY not in str(caught.value)
    assert fake.requests == {"register": 1}


async def test_a_short_429_is_waited_out(client: SeventeenTrack, fake: FakeSeventeenTrack) -> None:
    fake.fail_next("429", retry_after=0.2)
    started = time.monotonic()

    shipment = await client.track(carrier="ups", tracking_number=UPS_NUMBER)

    assert shipment is not None
    assert time.monotonic() - started >= 0.2
    assert fake.requests == {"register": 2, "gettrackinfo": 1}


async def test_a_long_429_is_handed_to_the_caller(client: SeventeenTrack, fake: FakeSeventeenTrack) -> None:
    fake.fail_next("429", retry_after=60)

    with pytest.raises(RateLimitedError) as caught:
        await client.track(carrier="ups", tracking_number=UPS_NUMBER)

    assert caught.value.retry_after == pytest.approx(60)
    assert fake.requests == {"register": 1}


@pytest.mark.parametrize("status", ["500", "503"])
async def test_a_5xx_is_retried(client: SeventeenTrack, fake: FakeSeventeenTrack, status: Any) -> None:
    fake.fail_next(status)

    assert await client.track(carrier="ups", tracking_number=UPS_NUMBER) is not None
    assert fake.requests == {"register": 2, "gettrackinfo": 1}


async def test_5xx_until_retries_run_out_is_retryable(client: SeventeenTrack, fake: FakeSeventeenTrack) -> None:
    fake.fail_next("500", times=3)

    with pytest.raises(RetryableIntegrationError) as caught:
        await client.track(carrier="ups", tracking_number=UPS_NUMBER)

    assert type(caught.value) is RetryableIntegrationError
    assert fake.requests == {"register": 3}


async def test_a_body_that_is_not_json_is_retried(client: SeventeenTrack, fake: FakeSeventeenTrack) -> None:
    fake.fail_next("malformed")
    assert await client.track(carrier="ups", tracking_number=UPS_NUMBER) is not None

    fake.fail_next("malformed", times=3)
    with pytest.raises(RetryableIntegrationError):
        await client.track(carrier="ups", tracking_number=UPS_NUMBER)


async def test_json_that_is_not_the_envelope_is_retryable(client: SeventeenTrack, fake: FakeSeventeenTrack) -> None:
    fake.fail_next("envelope")

    with pytest.raises(RetryableIntegrationError, match="envelope") as caught:
        await client.track(carrier="ups", tracking_number=UPS_NUMBER)

    assert not isinstance(caught.value, PermanentIntegrationError)


async def test_a_hung_request_times_out(base_url: str, fake: FakeSeventeenTrack) -> None:
    retry = RetryPolicy(attempts=2, base_delay=0.001, max_delay=0.01)
    async with connected(base_url, timeout=0.3, retry=retry) as client:
        fake.fail_next("hang", hang=5)
        assert await client.track(carrier="ups", tracking_number=UPS_NUMBER) is not None  # the retry answers

        fake.fail_next("hang", times=2, hang=5)
        started = time.monotonic()
        with pytest.raises(RetryableIntegrationError, match="timed out"):
            await client.track(carrier="ups", tracking_number=UPS_NUMBER)

    assert time.monotonic() - started < 1.5


async def test_the_breaker_stops_calling_a_failing_provider(base_url: str, fake: FakeSeventeenTrack) -> None:
    breaker = CircuitBreaker(service="17track", failure_threshold=2, reset_after=60)
    async with connected(base_url, retry=RetryPolicy(attempts=1), breaker=breaker) as client:
        fake.fail_next("503", times=10)
        for _ in range(2):
            with pytest.raises(RetryableIntegrationError):
                await client.track(carrier="ups", tracking_number=UPS_NUMBER)

        with pytest.raises(ProviderUnavailableError):
            await client.track(carrier="ups", tracking_number=UPS_NUMBER)

    assert fake.requests == {"register": 2}  # the third lookup never left


# -- pacing and logs -----------------------------------------------------------------------------------


async def test_requests_stay_under_3_a_second(base_url: str, fake: FakeSeventeenTrack) -> None:
    client = SeventeenTrack.connect(api_key=KEY, base_url=base_url)  # the real pacer
    try:
        await client.track(carrier="ups", tracking_number=UPS_NUMBER)  # register, then get
    finally:
        await client.aclose()

    first, second = fake.arrivals
    assert second - first >= 0.3


async def test_logs_hold_neither_the_key_nor_tracking_numbers(
    client: SeventeenTrack, fake: FakeSeventeenTrack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    refused = "LX000000002CN"
    fake.reject(refused, code=-18010012)
    fake.fail_next("503")
    fake.fail_next("429", retry_after=0.01)

    await asyncio.gather(
        client.track(carrier="ups", tracking_number=UPS_NUMBER),
        client.track(carrier="ups", tracking_number=refused),
        client.track(carrier="ups", tracking_number=UNKNOWN_NUMBER),
        return_exceptions=True,
    )
    fake.forget(UPS_NUMBER)
    await client.track(carrier="ups", tracking_number=UPS_NUMBER)

    assert "retrying" in caplog.text and "rate limited" in caplog.text  # the logs did speak
    for secret in (KEY, UPS_NUMBER, refused, UNKNOWN_NUMBER):
        assert secret not in caplog.text
