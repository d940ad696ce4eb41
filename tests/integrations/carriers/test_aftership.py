"""AfterShipTracking against FakeAfterShip over real HTTP: the create/read flow, its memo, and every failure."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import date

import httpx
import pytest

from integrations.carriers.aftership import DEFAULT_SLUGS, AfterShipTracking, aftership_http
from integrations.errors import PermanentIntegrationError, RateLimitedError, RetryableIntegrationError
from integrations.http import CircuitBreaker, ProviderUnavailableError, RequestPacer, RetryPolicy
from integrations.models import ShipmentStatus
from tests.fakes.aftership import FakeAfterShip, FakeCheckpoint, FakeParcel
from tests.integrations.x.sandbox.server import serve

API_KEY = "as-test-key-3f9a1c77e2"
CREATE, SEARCH, READ = "POST /trackings", "GET /trackings", "GET /trackings/{id}"

UPS = FakeParcel(
    tracking_number="1Z5R89390357567127",
    slug="ups",
    tag="InTransit",
    subtag="InTransit_003",
    checkpoints=(
        FakeCheckpoint(time="2026-03-07T09:15:00-05:00", message="Picked up", subtag="InTransit_002"),
        FakeCheckpoint(time="2026-03-09T04:40:00-05:00", message="Arrived at facility", subtag="InTransit_003"),
    ),
    estimated_delivery=date(2026, 3, 11),
)
DHL = FakeParcel(
    tracking_number="1234567890",
    slug="dhl",
    tag="Delivered",
    subtag="Delivered_001",
    checkpoints=(FakeCheckpoint(time="2026-03-08T12:00:00+01:00", message="Delivered", subtag="Delivered_001"),),
    delivered_on=date(2026, 3, 8),
)
EXPIRED_SILENT = FakeParcel(tracking_number="9400111899223100012345", slug="usps", tag="Expired")
EXPIRED_WITH_NEWS = FakeParcel(
    tracking_number="9400111899223100067890",
    slug="usps",
    tag="Expired",
    checkpoints=(FakeCheckpoint(time="2026-01-02", message="Accepted", subtag="InTransit_002"),),
)
NEVER_SCANNED = "1Z879E930346834440"  # a valid UPS number the fake was not told about

# Fast enough for tests, the same code paths as production.
QUICK = RetryPolicy(attempts=3, base_delay=0.001, max_delay=0.5)


@dataclass
class Rig:
    fake: FakeAfterShip
    base_url: str
    adapter: Callable[..., AfterShipTracking]


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    fake = FakeAfterShip(api_key=API_KEY, parcels=(UPS, DHL, EXPIRED_SILENT, EXPIRED_WITH_NEWS))
    made: list[AfterShipTracking] = []
    async with serve(fake.app) as base_url:

        def adapter(
            *,
            api_key: str = API_KEY,
            retry: RetryPolicy = QUICK,
            breaker: CircuitBreaker | None = None,
            timeout: float = 2.0,
        ) -> AfterShipTracking:
            http = aftership_http(
                api_key=api_key,
                base_url=base_url,
                timeout=timeout,
                retry=retry,
                breaker=breaker,
                pacer=RequestPacer(rate=1000.0, burst=100),
            )
            made.append(AfterShipTracking(http=http))
            return made[-1]

        try:
            yield Rig(fake=fake, base_url=base_url, adapter=adapter)
        finally:
            for tracking in made:
                await tracking.aclose()


# -- the flow ----------------------------------------------------------------------------------------------


async def test_first_lookup_creates_the_tracking_then_reads_it(rig: Rig) -> None:
    shipment = await rig.adapter().track(carrier="UPS", tracking_number=UPS.tracking_number)

    assert shipment is not None
    assert (shipment.carrier, shipment.tracking_number, shipment.status) == (
        "ups",
        UPS.tracking_number,
        ShipmentStatus.IN_TRANSIT,
    )
    assert (shipment.estimated_delivery, shipment.last_event) == (date(2026, 3, 11), "Arrived at facility")
    assert rig.fake.calls == {CREATE: 1, READ: 1}
    assert [(t["tracking_number"], t["slug"]) for t in rig.fake.trackings()] == [(UPS.tracking_number, "ups")]


async def test_a_second_lookup_is_one_read_by_the_remembered_id(rig: Rig) -> None:
    adapter = rig.adapter()
    await adapter.track(carrier="ups", tracking_number=UPS.tracking_number)

    again = await adapter.track(carrier="ups", tracking_number=UPS.tracking_number)

    assert again is not None and again.status is ShipmentStatus.IN_TRANSIT
    assert rig.fake.calls == {CREATE: 1, READ: 2}


async def test_a_number_typed_with_spaces_and_lower_case_is_the_same_parcel(rig: Rig) -> None:
    adapter = rig.adapter()
    await adapter.track(carrier="ups", tracking_number=UPS.tracking_number)

    shipment = await adapter.track(carrier="UPS", tracking_number=" 1z5r 8939 0357 5671 27 ")

    assert shipment is not None and shipment.tracking_number == UPS.tracking_number
    assert rig.fake.calls == {CREATE: 1, READ: 2}


async def test_the_parcel_s_news_is_read_fresh_each_time(rig: Rig) -> None:
    adapter = rig.adapter()
    await adapter.track(carrier="ups", tracking_number=UPS.tracking_number)
    rig.fake.set_parcel(
        FakeParcel(tracking_number=UPS.tracking_number, tag="Delivered", delivered_on=date(2026, 3, 10))
    )

    shipment = await adapter.track(carrier="ups", tracking_number=UPS.tracking_number)

    assert shipment is not None
    assert (shipment.status, shipment.delivered_on) == (ShipmentStatus.DELIVERED, date(2026, 3, 10))


async def test_an_existing_tracking_is_found_after_4003(rig: Rig) -> None:
    await rig.adapter().track(carrier="ups", tracking_number=UPS.tracking_number)  # another process created it

    shipment = await rig.adapter().track(carrier="ups", tracking_number=UPS.tracking_number)

    assert shipment is not None and shipment.status is ShipmentStatus.IN_TRANSIT
    assert rig.fake.calls == {CREATE: 2, SEARCH: 1, READ: 2}
    assert len(rig.fake.trackings()) == 1


async def test_concurrent_first_lookups_of_one_parcel_both_succeed(rig: Rig) -> None:
    adapter = rig.adapter()

    first, second = await asyncio.gather(
        adapter.track(carrier="ups", tracking_number=UPS.tracking_number),
        adapter.track(carrier="ups", tracking_number=UPS.tracking_number),
    )

    assert first == second and first is not None
    assert len(rig.fake.trackings()) == 1


async def test_a_tracking_deleted_at_aftership_is_created_again(rig: Rig) -> None:
    adapter = rig.adapter()
    await adapter.track(carrier="ups", tracking_number=UPS.tracking_number)
    assert rig.fake.delete_tracking(UPS.tracking_number) == 1

    shipment = await adapter.track(carrier="ups", tracking_number=UPS.tracking_number)

    assert shipment is not None and shipment.status is ShipmentStatus.IN_TRANSIT
    assert rig.fake.calls == {CREATE: 2, READ: 3}  # read 404, create, read
    third = await adapter.track(carrier="ups", tracking_number=UPS.tracking_number)
    assert third == shipment and rig.fake.calls[READ] == 4  # the new id is remembered


async def test_a_tracking_that_keeps_vanishing_is_recreated_only_once(rig: Rig) -> None:
    adapter = rig.adapter()
    await adapter.track(carrier="ups", tracking_number=UPS.tracking_number)
    rig.fake.fail_next("4004", times=2, endpoint=READ)

    with pytest.raises(RetryableIntegrationError) as raised:
        await adapter.track(carrier="ups", tracking_number=UPS.tracking_number)

    assert not isinstance(raised.value, PermanentIntegrationError)
    assert rig.fake.calls[CREATE] == 2


# -- carriers and slugs ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("carrier", "slug"),
    [
        ("UPS", "ups"),
        ("U.P.S.", "ups"),
        ("usps", "usps"),
        ("DHL Express", "dhl"),
        ("dhl-express", "dhl"),
        ("china post", "china-post"),
        ("China-Post", "china-post"),
        ("Royal Mail", "royal-mail"),
        ("royal-mail", "royal-mail"),
        ("la poste", "la-poste-colissimo"),
        ("Acme Freight", None),
        ("", None),
    ],
)
def test_carrier_names_map_to_aftership_slugs(carrier: str, slug: str | None) -> None:
    adapter = AfterShipTracking(http=aftership_http(api_key=API_KEY))

    assert adapter.slug_for(carrier) == slug


def test_the_default_table_names_about_twenty_carriers() -> None:
    assert len(set(DEFAULT_SLUGS.values())) >= 20


def test_a_slug_table_of_one_s_own_replaces_the_default() -> None:
    adapter = AfterShipTracking(http=aftership_http(api_key=API_KEY), slugs={"Speedy Parcels": "speedy-bg"})

    assert (adapter.slug_for("speedy parcels"), adapter.slug_for("speedy-bg"), adapter.slug_for("UPS")) == (
        "speedy-bg",
        "speedy-bg",
        None,
    )


async def test_the_slug_sent_is_the_carrier_s(rig: Rig) -> None:
    shipment = await rig.adapter().track(carrier="DHL Express", tracking_number=DHL.tracking_number)

    assert shipment is not None and shipment.status is ShipmentStatus.DELIVERED
    assert [t["slug"] for t in rig.fake.trackings()] == ["dhl"]


async def test_an_unknown_carrier_lets_aftership_detect_the_courier(rig: Rig) -> None:
    shipment = await rig.adapter().track(carrier="Acme Freight", tracking_number=UPS.tracking_number)

    assert shipment is not None and shipment.carrier == "ups"


# -- when AfterShip knows nothing ------------------------------------------------------------------------


async def test_a_parcel_never_scanned_is_none(rig: Rig) -> None:
    assert await rig.adapter().track(carrier="ups", tracking_number=NEVER_SCANNED) is None
    assert rig.fake.calls == {CREATE: 1, READ: 1}


async def test_a_tracking_created_a_moment_ago_is_read_once_more_after_a_pause(rig: Rig) -> None:
    scan = FakeCheckpoint(time="2026-03-09T08:00:00+08:00", message="Picked up", subtag="InTransit_002")
    paused: list[float] = []

    async def carrier_reports_meanwhile(seconds: float) -> None:
        # While dmcare waits, AfterShip hears from the carrier.
        paused.append(seconds)
        rig.fake.set_parcel(FakeParcel(tracking_number=NEVER_SCANNED, tag="InTransit", checkpoints=(scan,)))

    http = aftership_http(api_key=API_KEY, base_url=rig.base_url, retry=QUICK)
    adapter = AfterShipTracking(http=http, first_read_after=1.5, sleep=carrier_reports_meanwhile)
    try:
        shipment = await adapter.track(carrier="ups", tracking_number=NEVER_SCANNED)
    finally:
        await adapter.aclose()

    assert shipment is not None and shipment.status is ShipmentStatus.IN_TRANSIT
    assert paused == [1.5]
    assert rig.fake.calls == {CREATE: 1, READ: 2}


async def test_expired_without_a_checkpoint_is_none(rig: Rig) -> None:
    assert await rig.adapter().track(carrier="usps", tracking_number=EXPIRED_SILENT.tracking_number) is None


async def test_expired_with_checkpoints_is_an_expired_shipment(rig: Rig) -> None:
    shipment = await rig.adapter().track(carrier="usps", tracking_number=EXPIRED_WITH_NEWS.tracking_number)

    assert shipment is not None and shipment.status is ShipmentStatus.EXPIRED


async def test_pending_with_a_checkpoint_is_a_shipment(rig: Rig) -> None:
    rig.fake.set_parcel(
        FakeParcel(
            tracking_number=NEVER_SCANNED,
            tag="Pending",
            checkpoints=(FakeCheckpoint(time="2026-03-09", message="Label printed", subtag="Pending_001"),),
        )
    )

    shipment = await rig.adapter().track(carrier="ups", tracking_number=NEVER_SCANNED)

    assert shipment is not None and shipment.status is ShipmentStatus.UNKNOWN


async def test_an_invalid_number_is_none_without_a_read(rig: Rig) -> None:
    assert await rig.adapter().track(carrier="ups", tracking_number="1Z!") is None  # 4005
    assert rig.fake.calls == {CREATE: 1}


async def test_a_number_no_courier_claims_is_none(rig: Rig) -> None:
    assert await rig.adapter().track(carrier="Acme Freight", tracking_number="ZZ000111222") is None  # 4012
    assert rig.fake.calls == {CREATE: 1}


@pytest.mark.parametrize("code", ["4005", "4012", "4017"])
async def test_aftership_s_cannot_track_codes_are_none(rig: Rig, code: str) -> None:
    rig.fake.fail_next(code, endpoint=CREATE)

    assert await rig.adapter().track(carrier="ups", tracking_number=UPS.tracking_number) is None


# -- refusals ------------------------------------------------------------------------------------------------


async def test_a_wrong_key_is_permanent_and_the_error_does_not_show_it(rig: Rig) -> None:
    wrong_key = "as-wrong-key-0000000000"

    with pytest.raises(PermanentIntegrationError) as raised:
        await rig.adapter(api_key=wrong_key).track(carrier="ups", tracking_number=UPS.tracking_number)

    assert "401" in str(raised.value)
    assert wrong_key not in str(raised.value) and UPS.tracking_number not in str(raised.value)
    assert rig.fake.calls == {CREATE: 1}  # not retried: another try cannot fix a key


async def test_forbidden_is_permanent(rig: Rig) -> None:
    rig.fake.fail_next("403")

    with pytest.raises(PermanentIntegrationError, match="403"):
        await rig.adapter().track(carrier="ups", tracking_number=UPS.tracking_number)


@pytest.mark.parametrize(("code", "name"), [("4010", "SLUG_INVALID"), ("4011", "MISSING_OR_INVALID_REQUIRED_FIELD")])
async def test_a_validation_error_is_permanent_and_names_the_code(rig: Rig, code: str, name: str) -> None:
    rig.fake.fail_next(code, endpoint=CREATE)

    with pytest.raises(PermanentIntegrationError) as raised:
        await rig.adapter().track(carrier="ups", tracking_number=UPS.tracking_number)

    assert f"meta.code {code} {name}" in str(raised.value)


async def test_a_validation_error_on_the_read_is_permanent(rig: Rig) -> None:
    rig.fake.fail_next("4008", endpoint=READ)

    with pytest.raises(PermanentIntegrationError, match="4008"):
        await rig.adapter().track(carrier="ups", tracking_number=UPS.tracking_number)


# -- transient failures ------------------------------------------------------------------------------------


async def test_a_short_429_is_waited_out(rig: Rig) -> None:
    rig.fake.fail_next("429", endpoint=READ, seconds=0.2)
    started = time.monotonic()

    shipment = await rig.adapter().track(carrier="ups", tracking_number=UPS.tracking_number)

    assert shipment is not None
    assert time.monotonic() - started >= 0.2
    assert rig.fake.calls == {CREATE: 1, READ: 2}


async def test_a_long_429_is_handed_on_with_the_wait(rig: Rig) -> None:
    rig.fake.fail_next("429", seconds=60)
    started = time.monotonic()

    with pytest.raises(RateLimitedError) as raised:
        await rig.adapter().track(carrier="ups", tracking_number=UPS.tracking_number)

    assert raised.value.retry_after is not None and 55 <= raised.value.retry_after <= 61
    assert time.monotonic() - started < 1  # no worker sleeps on it


@pytest.mark.parametrize("kind", ["500", "503", "malformed", "disconnect"])
async def test_a_passing_failure_is_retried(rig: Rig, kind: str) -> None:
    rig.fake.fail_next(kind, times=2, endpoint=READ)

    shipment = await rig.adapter().track(carrier="ups", tracking_number=UPS.tracking_number)

    assert shipment is not None and shipment.status is ShipmentStatus.IN_TRANSIT
    assert rig.fake.calls[READ] == 3


@pytest.mark.parametrize("kind", ["500", "503", "malformed", "disconnect"])
async def test_a_lasting_failure_is_retryable_after_the_retries(rig: Rig, kind: str) -> None:
    rig.fake.fail_next(kind, times=3)

    with pytest.raises(RetryableIntegrationError) as raised:
        await rig.adapter().track(carrier="ups", tracking_number=UPS.tracking_number)

    assert "3 times" in str(raised.value)
    assert rig.fake.calls == {CREATE: 3}


async def test_an_answer_that_is_not_the_envelope_is_retryable(rig: Rig) -> None:
    rig.fake.fail_next("not-envelope", endpoint=READ)

    with pytest.raises(RetryableIntegrationError, match="envelope") as raised:
        await rig.adapter().track(carrier="ups", tracking_number=UPS.tracking_number)

    assert not isinstance(raised.value, PermanentIntegrationError)


async def test_a_hanging_answer_times_out_and_is_retried(rig: Rig) -> None:
    rig.fake.fail_next("hang", endpoint=READ)
    started = time.monotonic()

    shipment = await rig.adapter(timeout=0.3).track(carrier="ups", tracking_number=UPS.tracking_number)

    assert shipment is not None
    assert 0.3 <= time.monotonic() - started < 2


async def test_an_answer_that_never_comes_is_a_retryable_timeout(rig: Rig) -> None:
    rig.fake.fail_next("hang", times=2)
    started = time.monotonic()

    with pytest.raises(RetryableIntegrationError, match="timed out"):
        await rig.adapter(timeout=0.3, retry=RetryPolicy(attempts=2, base_delay=0.001)).track(
            carrier="ups", tracking_number=UPS.tracking_number
        )

    assert time.monotonic() - started < 2


async def test_the_breaker_opens_after_repeated_failures_and_then_fails_fast(rig: Rig) -> None:
    breaker = CircuitBreaker(service="aftership", failure_threshold=3, reset_after=60)
    adapter = rig.adapter(breaker=breaker)
    rig.fake.fail_next("503", times=3)
    with pytest.raises(RetryableIntegrationError):
        await adapter.track(carrier="ups", tracking_number=UPS.tracking_number)
    started = time.monotonic()

    with pytest.raises(ProviderUnavailableError) as raised:
        await adapter.track(carrier="ups", tracking_number=UPS.tracking_number)

    assert time.monotonic() - started < 0.1
    assert raised.value.retry_after is not None and raised.value.retry_after > 50
    assert rig.fake.calls == {CREATE: 3}  # the second lookup never reached AfterShip


# -- connect() and what leaves the process -------------------------------------------------------------------


async def test_connect_builds_a_working_adapter(rig: Rig) -> None:
    adapter = AfterShipTracking.connect(api_key=API_KEY, base_url=rig.base_url, timeout=2.0)
    try:
        shipment = await adapter.track(carrier="ups", tracking_number=UPS.tracking_number)
    finally:
        await adapter.aclose()

    assert shipment is not None and shipment.status is ShipmentStatus.IN_TRANSIT


def test_connect_refuses_an_empty_key() -> None:
    with pytest.raises(ValueError):
        AfterShipTracking.connect(api_key="")


def test_the_adapter_s_repr_hides_the_key() -> None:
    assert API_KEY not in repr(AfterShipTracking.connect(api_key=API_KEY))


async def test_neither_the_key_nor_the_number_reaches_a_log_record(rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    await rig.adapter().track(carrier="ups", tracking_number=UPS.tracking_number)
    adapter = rig.adapter()  # a fresh memo: 4003, then a search with the number in the query string
    rig.fake.fail_next("500", endpoint=SEARCH)
    rig.fake.fail_next("429", endpoint=READ, seconds=0.01)
    await adapter.track(carrier="ups", tracking_number=UPS.tracking_number)
    rig.fake.delete_tracking(UPS.tracking_number)
    await adapter.track(carrier="ups", tracking_number=UPS.tracking_number)  # 4004, created again
    with pytest.raises(PermanentIntegrationError):
        await rig.adapter(api_key="as-wrong-key-1").track(carrier="ups", tracking_number=UPS.tracking_number)

    assert rig.fake.calls[SEARCH] == 2  # the search, with the number in the URL, did happen (and once more)
    assert len(caplog.records) >= 3  # retries, the rate limit and the re-create were logged
    for record in caplog.records:
        text = f"{record.getMessage()} {record.exc_text or ''}"
        assert API_KEY not in text and "as-wrong-key-1" not in text, record.name
        assert UPS.tracking_number not in text, record.name


# -- the fake's own wire format ------------------------------------------------------------------------------


async def test_the_fake_answers_with_aftership_s_envelope_and_rate_headers(rig: Rig) -> None:
    async with httpx.AsyncClient(base_url=rig.base_url) as client:
        refused = await client.get("/trackings/abc")
        read = await client.get("/trackings/abc", headers={"as-api-key": API_KEY})
        nowhere = await client.get("/couriers/everywhere", headers={"as-api-key": API_KEY})

    assert (refused.status_code, refused.json()["meta"]["code"], refused.json()["meta"]["type"]) == (
        401,
        401,
        "Unauthorized",
    )
    assert (read.status_code, read.json()["meta"]["code"]) == (404, 4004)
    assert {"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"} <= set(read.headers)
    assert read.headers["x-ratelimit-limit"] == "5"
    assert nowhere.json()["meta"]["code"] == 404


async def test_the_fake_enforces_its_rate_limit_when_asked() -> None:
    fake = FakeAfterShip(api_key=API_KEY, enforce_rate_limits=True)
    async with serve(fake.app) as base_url, httpx.AsyncClient(base_url=base_url) as client:
        answers = [await client.get("/trackings/x", headers={"as-api-key": API_KEY}) for _ in range(7)]

    statuses = [answer.status_code for answer in answers]
    assert 429 in statuses and statuses[0] == 404
    assert int(answers[statuses.index(429)].headers["x-ratelimit-reset"]) > time.time() - 1
