"""ProviderHttp against a real local server whose answers each test scripts.

Every row of the client's retry table, for a read (``repeatable=True``) and a change: the server
counts the requests it received, which proves how many attempts were made.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import socket
from collections import deque
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from integrations.errors import OutcomeUnknownError, RateLimitedError, RetryableIntegrationError
from integrations.http import (
    CircuitBreaker,
    ProviderHttp,
    ProviderResponse,
    ProviderUnavailableError,
    RequestPacer,
    RetryPolicy,
)
from integrations.http.breaker import BreakerState
from tests.integrations.x.sandbox.server import serve

RETRY = RetryPolicy(attempts=3, base_delay=0.001, max_delay=0.5)
TIMEOUT = 0.2
SLOW = 2.0  # longer than any timeout here; the server stops waiting as soon as the client hangs up

READ = pytest.param(True, id="read")
CHANGE = pytest.param(False, id="change")


# --- the scripted provider -----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Answer:
    status: int = 200
    body: bytes = b'{"ok": true}'
    headers: dict[str, str] = field(default_factory=lambda: {"content-type": "application/json"})
    delay: float = 0.0
    drop: bool = False  # start the answer, then hang up halfway through its body


def answer(status: int = 200, body: Any = None, *, headers: dict[str, str] | None = None, **options: Any) -> Answer:
    encoded = json.dumps({"ok": True} if body is None else body).encode()
    return Answer(
        status=status, body=encoded, headers={"content-type": "application/json", **(headers or {})}, **options
    )


def text(status: int, body: str, *, headers: dict[str, str] | None = None) -> Answer:
    return Answer(status=status, body=body.encode(), headers={"content-type": "text/html", **(headers or {})})


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes


class _HangUp(Response):
    """Headers and half a body, then the connection closes: the client sees it dropped."""

    def __init__(self) -> None:
        super().__init__()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-type", b"application/json"), (b"content-length", b"1000")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b'{"half": "an ans', "more_body": True})


class FakeProvider:
    """Answers from a queue (then ``otherwise``); remembers every request it received."""

    def __init__(self) -> None:
        self.answers: deque[Answer] = deque()
        self.otherwise = answer()
        self.received: list[Received] = []
        self.base_url = ""  # once served
        self.app = Starlette(routes=[Route("/{path:path}", self._endpoint, methods=["GET", "POST", "PUT", "DELETE"])])

    def script(self, *answers: Answer, otherwise: Answer | None = None) -> None:
        self.answers.extend(answers)
        if otherwise is not None:
            self.otherwise = otherwise

    @property
    def count(self) -> int:
        return len(self.received)

    async def wait_for(self, count: int) -> None:
        async with asyncio.timeout(2):
            while self.count < count:
                await asyncio.sleep(0.002)

    async def _endpoint(self, request: Request) -> Response:
        body = await request.body()
        self.received.append(Received(request.method, request.url.path, request.url.query, dict(request.headers), body))
        scripted = self.answers.popleft() if self.answers else self.otherwise
        if scripted.delay:
            await _until_hung_up(request, scripted.delay)
        if scripted.drop:
            return _HangUp()
        return Response(scripted.body, status_code=scripted.status, headers=scripted.headers)


async def _until_hung_up(request: Request, seconds: float) -> None:
    try:
        async with asyncio.timeout(seconds):
            while (await request.receive())["type"] != "http.disconnect":
                pass
    except TimeoutError:
        pass


class Sleeps:
    """The client's sleep: really sleeps (the waits here are milliseconds) and remembers each wait."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        assert seconds <= RETRY.max_delay, f"asked to sleep {seconds} s in place"
        await asyncio.sleep(seconds)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def provider() -> AsyncIterator[FakeProvider]:
    fake = FakeProvider()
    async with serve(fake.app) as base_url:
        fake.base_url = base_url
        yield fake


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


MakeHttp = Callable[..., ProviderHttp]


@pytest.fixture
async def make_http(provider: FakeProvider, sleeps: Sleeps) -> AsyncIterator[MakeHttp]:
    made: list[ProviderHttp] = []

    def make(**options: Any) -> ProviderHttp:
        settings: dict[str, Any] = {
            "service": "aftership",
            "base_url": provider.base_url,
            "timeout": TIMEOUT,
            "retry": RETRY,
            "breaker": CircuitBreaker(service="aftership", failure_threshold=100),
            "sleep": sleeps,
        } | options
        http = ProviderHttp(**settings)
        made.append(http)
        return http

    yield make
    for http in made:
        await http.aclose()


def closed_port_url() -> str:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def call(
    http: ProviderHttp, repeatable: bool, path: str = "/v1/trackings/ups/1Z999"
) -> Coroutine[Any, Any, ProviderResponse]:
    if repeatable:
        return http.request("GET", path, repeatable=True)
    return http.request("POST", path, repeatable=False, json_body={"points": 50})


# --- connection refused: nothing was sent, so even a change is repeated ------------------------------------


@pytest.mark.parametrize("repeatable", [READ, CHANGE])
async def test_connection_refused_is_retried_then_reported_retryable(
    make_http: MakeHttp, sleeps: Sleeps, repeatable: bool
) -> None:
    breaker = CircuitBreaker(service="aftership", failure_threshold=3)
    http = make_http(base_url=closed_port_url(), breaker=breaker)
    with pytest.raises(RetryableIntegrationError) as caught:
        await call(http, repeatable)
    assert type(caught.value) is RetryableIntegrationError  # not OutcomeUnknownError: nothing left
    assert "3 times" in str(caught.value) and "cannot connect" in str(caught.value)
    assert len(sleeps.waits) == 2  # a backoff between each of the three attempts
    assert all(0 <= wait <= 0.004 for wait in sleeps.waits)
    assert breaker.state is BreakerState.OPEN  # three failures seen: three attempts made


@pytest.mark.parametrize("error", [httpx.ConnectTimeout, httpx.PoolTimeout])
async def test_a_request_that_never_left_is_retried_even_for_a_change(
    make_http: MakeHttp, error: type[httpx.TimeoutException]
) -> None:
    """A connect (or pool) timeout is a timeout, but like a refusal nothing reached the provider."""
    attempts: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        attempts.append(request)
        if len(attempts) == 1:
            raise error("no connection", request=request)
        return httpx.Response(201, json={"created": True})

    http = make_http(transport=httpx.MockTransport(handler))
    response = await call(http, repeatable=False)
    assert (response.status, response.body) == (201, {"created": True})
    assert len(attempts) == 2


# --- timeouts and dropped connections: a change may have happened -------------------------------------------


async def test_a_read_that_times_out_is_retried(provider: FakeProvider, make_http: MakeHttp) -> None:
    provider.script(answer(delay=SLOW), answer(body={"tag": "InTransit"}))
    response = await call(make_http(), repeatable=True)
    assert response.body == {"tag": "InTransit"}
    assert provider.count == 2


async def test_a_change_that_times_out_is_outcome_unknown(provider: FakeProvider, make_http: MakeHttp) -> None:
    provider.script(answer(delay=SLOW))
    with pytest.raises(OutcomeUnknownError) as caught:
        await call(make_http(), repeatable=False)
    assert "timed out" in str(caught.value)
    assert caught.value.service == "aftership"
    assert provider.count == 1  # never sent twice


async def test_a_read_whose_connection_drops_is_retried(provider: FakeProvider, make_http: MakeHttp) -> None:
    provider.script(Answer(drop=True), answer(body={"tag": "Delivered"}))
    response = await call(make_http(), repeatable=True)
    assert response.body == {"tag": "Delivered"}
    assert provider.count == 2


async def test_a_change_whose_connection_drops_is_outcome_unknown(provider: FakeProvider, make_http: MakeHttp) -> None:
    provider.script(Answer(drop=True))
    with pytest.raises(OutcomeUnknownError):
        await call(make_http(), repeatable=False)
    assert provider.count == 1


# --- 429: refused before anything was done, so waited out and repeated, a change too -------------------------


@pytest.mark.parametrize("repeatable", [READ, CHANGE])
@pytest.mark.parametrize(
    "headers",
    [{"Retry-After": "0.02"}, {"X-RateLimit-Reset": "0.02"}, {"RateLimit-Reset": "0.02"}],
    ids=["retry-after", "x-ratelimit-reset", "ratelimit-reset"],
)
async def test_a_short_rate_limit_is_waited_out_then_retried(
    provider: FakeProvider, make_http: MakeHttp, sleeps: Sleeps, repeatable: bool, headers: dict[str, str]
) -> None:
    provider.script(answer(429, {"meta": {"code": 429}}, headers=headers), answer(201, {"id": "c-1"}))
    response = await call(make_http(), repeatable)
    assert (response.status, response.body) == (201, {"id": "c-1"})
    assert provider.count == 2
    assert sleeps.waits == [0.02]  # as told, no backoff on top


async def test_a_rate_limit_without_a_wait_is_backed_off(
    provider: FakeProvider, make_http: MakeHttp, sleeps: Sleeps
) -> None:
    provider.script(answer(429), answer())
    response = await call(make_http(), repeatable=False)
    assert response.ok
    assert provider.count == 2
    assert len(sleeps.waits) == 1 and 0 <= sleeps.waits[0] <= 0.001


@pytest.mark.parametrize("repeatable", [READ, CHANGE])
async def test_a_long_rate_limit_is_handed_to_the_caller(
    provider: FakeProvider, make_http: MakeHttp, sleeps: Sleeps, repeatable: bool
) -> None:
    provider.script(answer(429, headers={"Retry-After": "30"}))
    with pytest.raises(RateLimitedError) as caught:
        await call(make_http(), repeatable)
    assert caught.value.retry_after == 30.0
    assert caught.value.service == "aftership"
    assert provider.count == 1
    assert sleeps.waits == []  # no worker sleeps on it


async def test_rate_limited_on_every_attempt(provider: FakeProvider, make_http: MakeHttp) -> None:
    provider.script(otherwise=answer(429, headers={"Retry-After": "0.01"}))
    with pytest.raises(RateLimitedError) as caught:
        await call(make_http(), repeatable=True)
    assert caught.value.retry_after == pytest.approx(0.01)
    assert provider.count == 3


# --- 5xx ----------------------------------------------------------------------------------------------


async def test_a_read_answered_5xx_is_retried(provider: FakeProvider, make_http: MakeHttp) -> None:
    provider.script(text(500, "oops"), answer(502, {"error": "bad gateway"}), answer(body={"tag": "Pending"}))
    response = await call(make_http(), repeatable=True)
    assert response.body == {"tag": "Pending"}
    assert provider.count == 3


async def test_a_read_answered_5xx_every_time_is_retryable_after_all_attempts(
    provider: FakeProvider, make_http: MakeHttp, sleeps: Sleeps
) -> None:
    provider.script(otherwise=answer(503, {"error": "maintenance"}))
    with pytest.raises(RetryableIntegrationError) as caught:
        await call(make_http(), repeatable=True)
    assert type(caught.value) is RetryableIntegrationError
    assert "3 times" in str(caught.value) and "HTTP 503" in str(caught.value)
    assert provider.count == 3
    assert len(sleeps.waits) == 2


async def test_a_change_answered_5xx_is_outcome_unknown(provider: FakeProvider, make_http: MakeHttp) -> None:
    provider.script(answer(500, {"error": "internal"}))
    with pytest.raises(OutcomeUnknownError) as caught:
        await call(make_http(), repeatable=False)
    assert "HTTP 500" in str(caught.value)
    assert provider.count == 1


# --- 2xx that is not JSON (a proxy's page, a truncated or undecodable answer) -------------------------------


async def test_a_read_answered_2xx_html_is_retried(provider: FakeProvider, make_http: MakeHttp) -> None:
    provider.script(text(200, "<html>Cloudflare</html>"), answer(body={"tag": "InTransit"}))
    response = await call(make_http(), repeatable=True)
    assert response.body == {"tag": "InTransit"}
    assert provider.count == 2


async def test_a_read_answered_2xx_html_every_time_is_retryable(provider: FakeProvider, make_http: MakeHttp) -> None:
    provider.script(otherwise=text(200, "<html>Cloudflare</html>"))
    with pytest.raises(RetryableIntegrationError) as caught:
        await call(make_http(), repeatable=True)
    assert type(caught.value) is RetryableIntegrationError
    assert "not JSON" in str(caught.value)
    assert provider.count == 3


async def test_a_change_answered_2xx_html_is_outcome_unknown(provider: FakeProvider, make_http: MakeHttp) -> None:
    provider.script(text(200, "<html>Cloudflare</html>"))
    with pytest.raises(OutcomeUnknownError):
        await call(make_http(), repeatable=False)
    assert provider.count == 1


BROKEN_GZIP = Answer(body=b"this is not gzip", headers={"content-type": "application/json", "content-encoding": "gzip"})


async def test_a_read_answered_with_an_undecodable_body_is_retried(provider: FakeProvider, make_http: MakeHttp) -> None:
    good = Answer(
        body=gzip.compress(b'{"tag": "Delivered"}'),
        headers={"content-type": "application/json", "content-encoding": "gzip"},
    )
    provider.script(BROKEN_GZIP, good)
    response = await call(make_http(), repeatable=True)
    assert response.body == {"tag": "Delivered"}
    assert provider.count == 2


async def test_a_change_answered_with_an_undecodable_body_is_outcome_unknown(
    provider: FakeProvider, make_http: MakeHttp
) -> None:
    provider.script(BROKEN_GZIP)
    with pytest.raises(OutcomeUnknownError) as caught:
        await call(make_http(), repeatable=False)
    assert "decoded" in str(caught.value)
    assert provider.count == 1


# --- answers the adapter reads -------------------------------------------------------------------------------


@pytest.mark.parametrize("repeatable", [READ, CHANGE])
async def test_a_4xx_is_returned_with_its_parsed_body(
    provider: FakeProvider, make_http: MakeHttp, repeatable: bool
) -> None:
    error = {"meta": {"code": 4004, "message": "Tracking does not exist."}}
    provider.script(answer(404, error, headers={"X-Request-Id": "r-1"}))
    response = await call(make_http(), repeatable)
    assert (response.status, response.ok, response.body) == (404, False, error)
    assert response.headers["x-request-id"] == "r-1"
    assert provider.count == 1  # never retried


@pytest.mark.parametrize("repeatable", [READ, CHANGE])
async def test_a_4xx_that_is_not_json_comes_back_with_body_none(
    provider: FakeProvider, make_http: MakeHttp, repeatable: bool
) -> None:
    provider.script(text(422, "<html>Unprocessable</html>"))
    response = await call(make_http(), repeatable)
    assert (response.status, response.ok, response.body) == (422, False, None)
    assert provider.count == 1


async def test_a_2xx_json_answer(provider: FakeProvider, make_http: MakeHttp) -> None:
    provider.script(answer(200, {"data": [1, 2, 3]}))
    response = await call(make_http(), repeatable=True)
    assert (response.status, response.ok, response.body) == (200, True, {"data": [1, 2, 3]})


async def test_an_empty_2xx_answer_has_body_none(provider: FakeProvider, make_http: MakeHttp) -> None:
    provider.script(Answer(status=204, body=b"", headers={}))
    response = await call(make_http(), repeatable=False)
    assert (response.status, response.ok, response.body) == (204, True, None)
    assert provider.count == 1


# --- the circuit breaker -------------------------------------------------------------------------------


async def test_the_breaker_opens_after_repeated_5xx_and_then_nothing_reaches_the_provider(
    provider: FakeProvider, make_http: MakeHttp
) -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(service="aftership", failure_threshold=4, reset_after=30, clock=clock)
    http = make_http(breaker=breaker)
    provider.script(otherwise=answer(500))
    with pytest.raises(RetryableIntegrationError):
        await call(http, repeatable=True)  # three failures
    assert provider.count == 3
    with pytest.raises(ProviderUnavailableError):
        await call(http, repeatable=True)  # the fourth opens it; the retry fails fast
    assert provider.count == 4
    for _ in range(5):
        with pytest.raises(ProviderUnavailableError) as caught:
            await call(http, repeatable=True)
        assert caught.value.retry_after == pytest.approx(30.0)
    assert provider.count == 4
    provider.script(otherwise=answer(body={"tag": "InTransit"}))
    clock.now += 30  # half-open: one probe goes through, and its success closes the breaker
    assert (await call(http, repeatable=True)).ok
    assert breaker.state is BreakerState.CLOSED
    assert provider.count == 5


async def test_rate_limits_and_4xx_are_not_failures_for_the_breaker(
    provider: FakeProvider, make_http: MakeHttp
) -> None:
    breaker = CircuitBreaker(service="aftership", failure_threshold=2)
    http = make_http(breaker=breaker)
    provider.script(otherwise=answer(429, headers={"Retry-After": "60"}))
    for _ in range(5):
        with pytest.raises(RateLimitedError):
            await call(http, repeatable=True)
    provider.script(answer(500), answer(429, headers={"Retry-After": "60"}), answer(500))
    with pytest.raises(RateLimitedError):
        await call(http, repeatable=True)  # 500, then 429: the 429 shows it is up
    provider.script(answer(404), answer(404), answer(404))
    for _ in range(3):
        await call(http, repeatable=True)
    assert breaker.state is BreakerState.CLOSED
    provider.otherwise = answer()
    assert (await call(http, repeatable=True)).ok  # the 500 left over counts one failure only
    assert provider.count == 5 + 2 + 3 + 2


async def test_a_probe_cancelled_while_waiting_for_the_pacer_frees_the_probe(
    provider: FakeProvider, make_http: MakeHttp
) -> None:
    clock, pacer_clock = FakeClock(), FakeClock()
    breaker = CircuitBreaker(service="aftership", failure_threshold=1, reset_after=10, clock=clock)
    paced = asyncio.Event()

    async def pacer_sleep(seconds: float) -> None:
        paced.set()
        await asyncio.Event().wait()  # until cancelled

    pacer = RequestPacer(rate=1, burst=1, clock=pacer_clock, sleep=pacer_sleep)
    http = make_http(breaker=breaker, pacer=pacer)
    provider.script(answer(500))
    with pytest.raises(OutcomeUnknownError):
        await call(http, repeatable=False)
    assert breaker.state is BreakerState.OPEN
    clock.now += 10
    probe = asyncio.create_task(call(http, repeatable=True))
    await asyncio.wait_for(paced.wait(), 1)  # the probe holds the breaker's one slot and waits for a token
    probe.cancel()
    with pytest.raises(asyncio.CancelledError):
        await probe
    pacer_clock.now += 1
    assert (await call(http, repeatable=True)).ok  # the next call may probe: the breaker is not stuck
    assert breaker.state is BreakerState.CLOSED
    assert provider.count == 2


async def test_cancelling_a_call_that_is_not_the_probe_leaves_the_probe_alone(
    provider: FakeProvider, make_http: MakeHttp
) -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(service="aftership", failure_threshold=1, reset_after=10, clock=clock)
    http = make_http(breaker=breaker, timeout=SLOW * 2)
    provider.script(answer(delay=SLOW), answer(500), answer(delay=SLOW))
    earlier = asyncio.create_task(call(http, repeatable=True))  # left while the breaker was closed
    await provider.wait_for(1)
    with pytest.raises(OutcomeUnknownError):
        await call(http, repeatable=False)  # opens the breaker
    clock.now += 10
    probe = asyncio.create_task(call(http, repeatable=True))
    await provider.wait_for(3)
    earlier.cancel()
    with pytest.raises(asyncio.CancelledError):
        await earlier
    with pytest.raises(ProviderUnavailableError):
        await call(http, repeatable=True)  # the probe is still out: still exactly one
    assert provider.count == 3
    probe.cancel()
    with pytest.raises(asyncio.CancelledError):
        await probe


async def test_the_pacer_paces_every_attempt(provider: FakeProvider, make_http: MakeHttp) -> None:
    waits: list[float] = []
    pacer_clock = FakeClock()

    async def pacer_sleep(seconds: float) -> None:
        waits.append(seconds)
        pacer_clock.now += seconds

    http = make_http(pacer=RequestPacer(rate=5, burst=1, clock=pacer_clock, sleep=pacer_sleep))
    provider.script(answer(503), answer())
    await call(http, repeatable=True)
    await call(http, repeatable=True)
    assert waits == pytest.approx([0.2, 0.2])  # three attempts in all, one token each


# --- what is sent, and what is never told -----------------------------------------------------------------


async def test_headers_given_at_construction_are_sent_with_every_request(
    provider: FakeProvider, make_http: MakeHttp
) -> None:
    http = make_http(headers={"Authorization": "Bearer sk_test_1", "aftership-api-key": "ak_1"})
    await http.request("GET", "/v4/trackings", repeatable=True, params={"page": "2"}, headers={"X-Trace": "t-1"})
    await http.request("POST", "/v4/trackings", repeatable=False, json_body={"tracking": {"slug": "ups"}})
    first, second = provider.received
    for received in (first, second):
        assert received.headers["authorization"] == "Bearer sk_test_1"
        assert received.headers["aftership-api-key"] == "ak_1"
    assert (first.method, first.path, first.query, first.headers["x-trace"]) == (
        "GET",
        "/v4/trackings",
        "page=2",
        "t-1",
    )
    assert "x-trace" not in second.headers
    assert (second.method, json.loads(second.body)) == ("POST", {"tracking": {"slug": "ups"}})
    assert second.headers["content-type"] == "application/json"


SECRET_KEY = "sk_live_51HzSECRETKEY"
SECRET_NUMBER = "1ZSECRET9999"
SECRET_QUERY = "qSECRETtoken"
SECRET_BODY = "Ada Lovelace, 12 Secret Street"


async def test_no_key_path_or_body_reaches_the_logs(
    provider: FakeProvider, make_http: MakeHttp, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore"):  # as an operator chasing a problem would turn them on
        caplog.set_level(logging.DEBUG, logger=name)
    http = make_http(
        headers={"Authorization": f"Bearer {SECRET_KEY}"},
        breaker=CircuitBreaker(service="aftership", failure_threshold=2),
    )
    path = f"/v4/trackings/ups/{SECRET_NUMBER}"
    provider.script(
        answer(500, {"echo": SECRET_BODY}),
        answer(429, {"echo": SECRET_BODY}, headers={"Retry-After": "0.01", "X-Echo": SECRET_KEY}),
        answer(200, {"echo": SECRET_BODY}, headers={"X-Echo": SECRET_KEY}),
        answer(500, {"echo": SECRET_BODY}),
        text(200, f"<html>{SECRET_BODY}</html>"),
    )
    await http.request("GET", path, repeatable=True, params={"token": SECRET_QUERY}, json_body={"n": SECRET_BODY})
    errors: list[Exception] = []
    for _ in range(2):
        with pytest.raises(OutcomeUnknownError) as caught:
            await http.request("POST", path, repeatable=False, params={"token": SECRET_QUERY}, json_body=SECRET_BODY)
        errors.append(caught.value)
    with pytest.raises(ProviderUnavailableError) as unavailable:  # two failures in a row opened the breaker
        await http.request("POST", path, repeatable=False, json_body=SECRET_BODY)
    errors.append(unavailable.value)

    assert provider.count == 5
    logged = [(record.name, record.getMessage(), repr(record.args), record.exc_text or "") for record in caplog.records]
    names = {name for name, *_ in logged}
    assert {"integrations.http.client", "integrations.http.breaker", "httpx", "httpcore.http11"} <= names
    assert any("127.0.0.1" in message for name, message, *_ in logged if name == "httpx")  # redacted, not gone
    everything = "\n".join(" ".join(entry) for entry in logged) + "\n".join(str(error) for error in errors)
    for secret in (SECRET_KEY, SECRET_NUMBER, SECRET_QUERY, SECRET_BODY, "/v4/trackings"):
        assert secret not in everything


async def test_repr_shows_no_headers() -> None:
    http = ProviderHttp(
        service="smile", base_url="https://api.smile.io", headers={"Authorization": f"Bearer {SECRET_KEY}"}
    )
    shown = repr(http)
    await http.aclose()
    assert "smile" in shown and "https://api.smile.io" in shown
    assert SECRET_KEY not in shown and "Authorization" not in shown and "Bearer" not in shown
