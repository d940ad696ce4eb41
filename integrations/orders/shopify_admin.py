"""``ShopifyAdmin``: Shopify's Admin GraphQL API over ``ProviderHttp``, its answers translated for the caller.

Shopify says most things with an HTTP 200 (reference/carriers-orders-loyalty.md §4.1), so the status
alone is not the outcome:

| Shopify's answer                                   | what ``query`` does                                      |
|----------------------------------------------------|----------------------------------------------------------|
| ``data`` and no ``errors``                         | returns ``data`` (mutations' ``userErrors`` are in it)   |
| ``errors[]`` with ``THROTTLED`` (HTTP 200)         | waits until the bucket holds the query's cost, when that |
|                                                    | is short, and asks again; else ``RateLimitedError``      |
| HTTP 429                                           | ``ProviderHttp`` waits (``Retry-After``) or raises       |
|                                                    | ``RateLimitedError``: its body never reaches here        |
| ``errors[]`` with ``ACCESS_DENIED``                | ``PermanentIntegrationError``: a scope is missing        |
| ``errors[]`` with ``INTERNAL_SERVER_ERROR``        | retryable; ``OutcomeUnknownError`` for a change          |
| other ``errors[]`` (syntax, unknown field, ...)    | ``PermanentIntegrationError`` naming Shopify's messages  |
| 401 / 402 / 423 (bad token, frozen or locked shop) | retryable after a minute: it concerns every request, an  |
|                                                    | operator must act, and the queued work must not be lost  |
| other 4xx                                          | ``PermanentIntegrationError``                            |
| JSON that is not a GraphQL response                | retryable; ``OutcomeUnknownError`` for a change          |

A throttled request was not run, so asking again is safe even for a change. The access token travels
in a header that nothing here (nor ``ProviderHttp``) ever logs.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

import httpx

from integrations.errors import (
    OutcomeUnknownError,
    PermanentIntegrationError,
    RateLimitedError,
    RetryableIntegrationError,
)
from integrations.http import CircuitBreaker, ProviderHttp, ProviderResponse, RetryPolicy

__all__ = ["DEFAULT_API_VERSION", "SERVICE", "ShopifyAdmin", "malformed"]

log = logging.getLogger(__name__)

SERVICE: Final = "shopify"
DEFAULT_API_VERSION: Final = "2026-07"

_API_VERSION = re.compile(r"\d{4}-\d{2}|unstable")
_SHOP_DOMAIN = re.compile(r"[a-z0-9][a-z0-9-]*(\.[a-z0-9-]+)+")
_OPERATION = re.compile(r"^\s*(?:query|mutation)\s+([_A-Za-z][_0-9A-Za-z]*)")

# Problems with the shop or the app's installation, not with one request: every call fails alike until
# someone fixes them, so the work waits (as X's client does with a 401) instead of failing for good.
_SHOP_WIDE = {
    401: "the access token was refused (401)",
    402: "the shop is frozen for unpaid bills (402)",
    423: "the shop is locked (423)",
}
_SHOP_WIDE_RETRY_AFTER: Final = 60.0

SCOPES_QUERY: Final = """
query GrantedScopes {
  currentAppInstallation { accessScopes { handle } }
}
"""


@dataclass(frozen=True, slots=True)
class _Throttled:
    wait: float | None  # seconds until the bucket holds the query's cost; None when Shopify did not say


def malformed(what: str, *, changed: bool = False) -> RetryableIntegrationError:
    """The error for an answer in a shape we cannot read: try again, and reconcile first after a change."""
    if changed:
        return OutcomeUnknownError(f"{what}; the change may or may not have been made", service=SERVICE)
    return RetryableIntegrationError(what, service=SERVICE)


class ShopifyAdmin:
    """One shop's Admin GraphQL endpoint; build it with ``connect`` (or around any ``ProviderHttp``)."""

    def __init__(
        self,
        *,
        http: ProviderHttp,
        api_version: str = DEFAULT_API_VERSION,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """
        Args:
            http: the provider client, carrying the ``X-Shopify-Access-Token`` header.
            retry: how often and how long to wait out ``THROTTLED`` answers (attempts, max_delay).
        """
        if not _API_VERSION.fullmatch(api_version):
            raise ValueError(f"not a Shopify API version: {api_version!r} (e.g. {DEFAULT_API_VERSION!r})")
        self._http = http
        self._path = f"/admin/api/{api_version}/graphql.json"
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        self._scopes: frozenset[str] | None = None

    @classmethod
    def connect(
        cls,
        *,
        shop_domain: str | None = None,
        base_url: str | None = None,
        access_token: str,
        api_version: str = DEFAULT_API_VERSION,
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        breaker: CircuitBreaker | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> ShopifyAdmin:
        """A client for one shop: ``shop_domain`` ("acme" or "acme.myshopify.com"); ``base_url``, when
        given, is used instead (a test server, a proxy)."""
        if not shop_domain and not base_url:
            raise ValueError("give shop_domain or base_url")
        if not access_token.strip():
            raise ValueError("Shopify needs an access token")
        root = base_url.rstrip("/") if base_url else f"https://{_shop_host(shop_domain or '')}"
        http = ProviderHttp(
            service=SERVICE,
            base_url=root,
            headers={"X-Shopify-Access-Token": access_token, "Accept": "application/json"},
            timeout=timeout,
            retry=retry,
            breaker=breaker,
            transport=transport,
        )
        return cls(http=http, api_version=api_version, retry=retry)

    def __repr__(self) -> str:  # the token lives in the http client's headers, never here
        return f"ShopifyAdmin({self._http!r}, path={self._path!r})"

    async def aclose(self) -> None:
        await self._http.aclose()

    async def query(self, document: str, variables: dict[str, Any], *, repeatable: bool) -> dict[str, Any]:
        """Run one named operation and return its ``data``.

        Args:
            repeatable: True for a query or a mutation Shopify deduplicates (``@idempotent``); False for
                a mutation that could take effect twice: a lost answer then raises ``OutcomeUnknownError``.
        """
        payload = {"query": document, "variables": variables, "operationName": operation_name(document)}
        attempts = self._retry.attempts
        for attempt in range(attempts):
            response = await self._http.request("POST", self._path, repeatable=repeatable, json_body=payload)
            answer = _read(response, repeatable=repeatable)
            if not isinstance(answer, _Throttled):
                return answer
            wait = answer.wait if answer.wait is not None else self._retry.backoff(attempt)
            if wait > self._retry.max_delay or attempt + 1 >= attempts:
                raise RateLimitedError(
                    f"throttled: the query's cost is back in Shopify's bucket in {wait:.2f} s",
                    service=SERVICE, retry_after=max(wait, 0.001),
                )  # fmt: skip
            log.warning("%s: %s throttled; waiting %.2f s for the bucket", SERVICE, payload["operationName"], wait)
            await self._sleep(wait)
        raise AssertionError("unreachable: the loop returns or raises")

    async def granted_scopes(self) -> frozenset[str]:
        """The access scopes this app holds on the shop, asked once (they change only on reinstall)."""
        if self._scopes is None:
            data = await self.query(SCOPES_QUERY, {}, repeatable=True)
            try:
                handles = data["currentAppInstallation"]["accessScopes"]
                self._scopes = frozenset(str(scope["handle"]) for scope in handles)
            except (KeyError, TypeError) as error:
                raise malformed(f"the access scopes came in an unexpected shape ({type(error).__name__})") from None
        return self._scopes


def operation_name(document: str) -> str:
    """The document's operation name: sent as ``operationName``, and what logs and errors call it."""
    match = _OPERATION.match(document)
    if match is None:
        raise ValueError("a Shopify document must be one named query or mutation")
    return match.group(1)


def _shop_host(shop_domain: str) -> str:
    host = shop_domain.strip().lower().removeprefix("https://").rstrip("/")
    if "." not in host:
        host += ".myshopify.com"
    if not _SHOP_DOMAIN.fullmatch(host):
        raise ValueError(f"not a shop domain: {shop_domain!r}")
    return host


def _read(response: ProviderResponse, *, repeatable: bool) -> dict[str, Any] | _Throttled:
    body = response.body
    if not response.ok:
        raise _refusal(response.status, body)
    if not isinstance(body, dict):
        raise malformed("the answer is not a GraphQL response", changed=not repeatable)
    errors = body.get("errors")
    if errors:
        return _errors(body, errors, repeatable=repeatable)
    data = body.get("data")
    if not isinstance(data, dict):
        raise malformed("the answer has neither data nor errors", changed=not repeatable)
    return data


def _refusal(status: int, body: Any) -> Exception:
    # Shopify's 4xx bodies say {"errors": "<text>"}: safe to repeat, it never echoes the token.
    details = body.get("errors") if isinstance(body, dict) else None
    suffix = f": {details[:200]}" if isinstance(details, str) and details else ""
    if status in _SHOP_WIDE:
        log.error("%s: %s; requests are retried until it is fixed", SERVICE, _SHOP_WIDE[status])
        return RetryableIntegrationError(
            _SHOP_WIDE[status] + suffix, service=SERVICE, retry_after=_SHOP_WIDE_RETRY_AFTER
        )
    return PermanentIntegrationError(f"Shopify answered HTTP {status}{suffix}", service=SERVICE)


def _errors(body: dict[str, Any], errors: Any, *, repeatable: bool) -> _Throttled:
    """Top-level GraphQL errors: nothing was done, except perhaps after an internal error."""
    if not isinstance(errors, list):
        raise PermanentIntegrationError(f"Shopify refused the request: {str(errors)[:200]}", service=SERVICE)
    codes = {_error_code(error) for error in errors}
    messages = "; ".join(_error_message(error) for error in errors)[:300]
    if "THROTTLED" in codes:
        return _throttled(body)
    if "ACCESS_DENIED" in codes:
        raise PermanentIntegrationError(f"access denied (a scope is missing): {messages}", service=SERVICE)
    if "INTERNAL_SERVER_ERROR" in codes:
        # Shopify's own failure: a read may be asked again; a change may have been made before it.
        if repeatable:
            raise RetryableIntegrationError(f"Shopify failed internally: {messages}", service=SERVICE)
        raise OutcomeUnknownError(f"Shopify failed internally: {messages}", service=SERVICE)
    raise PermanentIntegrationError(f"Shopify refused the request: {messages}", service=SERVICE)


def _throttled(body: dict[str, Any]) -> _Throttled:
    """How long until the bucket holds the query's cost: (requested - available) / restore rate."""
    try:
        cost = body["extensions"]["cost"]
        requested = float(cost["requestedQueryCost"])
        status = cost["throttleStatus"]
        available = float(status["currentlyAvailable"])
        maximum = float(status["maximumAvailable"])
        restore_rate = float(status["restoreRate"])
    except (KeyError, TypeError, ValueError):
        return _Throttled(wait=None)
    if requested > maximum:
        raise PermanentIntegrationError(
            f"the query costs {requested:.0f} points, more than the bucket's {maximum:.0f}: it can never run",
            service=SERVICE,
        )
    if restore_rate <= 0:
        return _Throttled(wait=None)
    return _Throttled(wait=max(requested - available, 0.0) / restore_rate)


def _error_code(error: Any) -> str | None:
    extensions = error.get("extensions") if isinstance(error, dict) else None
    code = extensions.get("code") if isinstance(extensions, dict) else None
    return code if isinstance(code, str) else None


def _error_message(error: Any) -> str:
    message = error.get("message") if isinstance(error, dict) else error
    return str(message)
