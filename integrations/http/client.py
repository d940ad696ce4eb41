"""``ProviderHttp``: one provider's HTTP calls, with timeouts, safe retries and a circuit breaker.

What is retried, and how:

| what happened                          | repeatable request (a read)  | change (create points, coupon)   |
|----------------------------------------|------------------------------|----------------------------------|
| connection refused (nothing was sent)  | retried with backoff         | retried with backoff             |
| timeout, dropped connection            | retried with backoff         | ``OutcomeUnknownError``          |
| an answer that cannot be decoded       | retried with backoff         | ``OutcomeUnknownError``          |
| 429                                    | waits as told, then retried  | waits as told, then retried      |
| 5xx                                    | retried with backoff         | ``OutcomeUnknownError``          |
| 2xx with a body that is not JSON       | retried with backoff         | ``OutcomeUnknownError``          |
| other 4xx                              | returned: the adapter reads the provider's error codes       |

A 429 is answered before anything is done, so it is safe to repeat even for a change. A wait longer
than ``RetryPolicy.max_delay`` is not slept on here: ``RateLimitedError`` carries it to the outbox.
When retries run out, ``RetryableIntegrationError`` (or ``RateLimitedError``) reaches the caller.

A connect or pool timeout counts as refused: the request never left. The breaker counts timeouts,
dropped connections and 5xx as failures; a 429 or a 4xx proves the provider is up.

Nothing here logs a URL, a header or a body: they hold keys, tracking numbers, names. httpx and
httpcore would (the URL at INFO, response headers at DEBUG), so during a provider call their records
keep only what happened, not to what.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from integrations.errors import OutcomeUnknownError, RateLimitedError, RetryableIntegrationError
from integrations.http.breaker import CircuitBreaker
from integrations.http.pacing import RequestPacer
from integrations.http.retry import RetryPolicy, wait_from_headers

__all__ = ["ProviderHttp", "ProviderResponse"]

log = logging.getLogger(__name__)
# httpx logs every request's full URL at INFO, and URLs carry tracking numbers and e-mail addresses.
logging.getLogger("httpx").setLevel(logging.WARNING)
logging.getLogger("httpcore").setLevel(logging.WARNING)

JSON = Any


@dataclass(frozen=True, slots=True)
class ProviderResponse:
    """An answer the adapter must read: 2xx with a JSON body, or a 4xx (body None when it was not JSON)."""

    status: int
    body: JSON
    headers: httpx.Headers

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class ProviderHttp:
    def __init__(
        self,
        *,
        service: str,
        base_url: str,
        headers: Mapping[str, str] | None = None,
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        breaker: CircuitBreaker | None = None,
        pacer: RequestPacer | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        """
        Args:
            service: the provider's name in errors and logs ("aftership").
            base_url: every URL is configurable, so tests and sandboxes stand in for the provider.
            headers: authentication and content type, sent with every request (never logged).
            timeout: seconds for each attempt (connect, read, write and pool alike).
        """
        self.service = service
        self._retry = retry or RetryPolicy()
        self.breaker = breaker or CircuitBreaker(service=service)
        self._pacer = pacer
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._client = httpx.AsyncClient(
            base_url=base_url,
            headers=dict(headers or {}),
            timeout=httpx.Timeout(timeout),
            transport=transport,
            limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
            follow_redirects=False,
        )

    def __repr__(self) -> str:  # no headers: they hold the keys
        return f"ProviderHttp(service={self.service!r}, base_url={str(self._client.base_url)!r})"

    async def aclose(self) -> None:
        await self._client.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        repeatable: bool,
        json_body: JSON = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> ProviderResponse:
        """Send one request, retried as the table above says; a 2xx or 4xx answer comes back to read.

        Args:
            repeatable: True for a read or a change the provider itself deduplicates; False for a
                change that might happen twice if sent twice.
        """
        attempts = self._retry.attempts
        problem = "no attempt made"
        for attempt in range(attempts):
            probe = self.breaker.before_call()
            try:
                if self._pacer is not None:
                    await self._pacer.acquire()
                token = _in_provider_call.set(True)
                try:
                    response = await self._client.request(method, path, json=json_body, params=params, headers=headers)
                finally:
                    _in_provider_call.reset(token)
            except _NOTHING_SENT:
                self.breaker.record_failure()
                problem = "cannot connect"  # nothing reached the provider: safe to repeat, whatever it was
            except httpx.RequestError as error:  # timeouts, dropped connections, undecodable answers
                self.breaker.record_failure()
                problem = _describe(error)
                if not repeatable:
                    raise self._unknown(method, problem) from None
            except BaseException:
                # Cancelled (or our own mistake) before the provider answered: that says nothing about it.
                if probe:
                    self.breaker.release_probe()
                raise
            else:
                if response.status_code == 429:
                    self.breaker.record_success()  # rate limited is not down
                    await self._wait_out_rate_limit(response, method=method, attempt=attempt, attempts=attempts)
                    problem = "429 rate limited"
                    continue
                if response.status_code >= 500:
                    self.breaker.record_failure()
                    problem = f"HTTP {response.status_code}"
                    if not repeatable:
                        raise self._unknown(method, problem)
                else:
                    body = _json(response)
                    if body is not _NOT_JSON or not 200 <= response.status_code < 300:
                        self.breaker.record_success()
                        return ProviderResponse(
                            status=response.status_code, body=None if body is _NOT_JSON else body,
                            headers=response.headers,
                        )  # fmt: skip
                    self.breaker.record_failure()  # a proxy's HTML page, a truncated answer
                    problem = f"HTTP {response.status_code} with a body that is not JSON"
                    if not repeatable:
                        raise self._unknown(method, problem)
            if attempt + 1 < attempts:
                delay = self._retry.backoff(attempt, self._rng)
                log.warning("%s: %s %s; retrying in %.2f s", self.service, method, problem, delay)
                await self._sleep(delay)
        raise RetryableIntegrationError(f"{method} failed {attempts} times: {problem}", service=self.service)

    async def _wait_out_rate_limit(self, response: httpx.Response, *, method: str, attempt: int, attempts: int) -> None:
        """Sleep as the provider asks when that is short and a try is left; else hand the wait on."""
        wait = wait_from_headers(response.headers)
        if wait is None:
            wait = self._retry.backoff(attempt, self._rng)
        if wait > self._retry.max_delay or attempt + 1 >= attempts:
            raise RateLimitedError(
                f"{method} rate limited; the provider asks to wait {wait:.1f} s",
                service=self.service, retry_after=max(wait, 0.001),
            )  # fmt: skip
        log.warning("%s: %s rate limited; waiting %.2f s as told", self.service, method, wait)
        await self._sleep(wait)

    def _unknown(self, method: str, problem: str) -> OutcomeUnknownError:
        return OutcomeUnknownError(
            f"{method}: {problem}; the change may or may not have been made", service=self.service
        )


_NOT_JSON = object()

# Errors raised before a request left: a change is as safe to repeat as a read.
_NOTHING_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def _json(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return _NOT_JSON


def _describe(error: Exception) -> str:
    if isinstance(error, httpx.TimeoutException):
        return "timed out"
    if isinstance(error, httpx.DecodingError):
        return "an answer that could not be decoded"
    return f"lost the connection ({type(error).__name__})"


_in_provider_call: contextvars.ContextVar[bool] = contextvars.ContextVar("in_provider_call", default=False)


class _WithoutSecrets(logging.Filter):
    """During a provider call: httpx's request line keeps the host, not the path or query (keys, tracking
    numbers); httpcore's trace keeps the event's name, not its values (the response's headers)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not _in_provider_call.get():
            return True
        if record.name == "httpx":
            if isinstance(record.args, tuple):
                record.args = tuple(_origin(arg) if isinstance(arg, httpx.URL) else arg for arg in record.args)
        else:
            record.msg = str(record.msg).split(" ", 1)[0]
            record.args = ()
        return True


def _origin(url: httpx.URL) -> str:
    return f"{url.scheme}://{url.netloc.decode('ascii')}/..."


for _name in ("httpx", "httpcore.connection", "httpcore.http11", "httpcore.http2", "httpcore.proxy", "httpcore.socks"):
    logging.getLogger(_name).addFilter(_WithoutSecrets())
