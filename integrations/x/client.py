"""The X API v2 calls dmcare makes, through tweepy's AsyncClient, with errors translated for the caller.

tweepy hard-codes ``https://api.twitter.com`` inside ``request()``; the client's ``session`` is the one
seam it leaves, so a thin session rewrites that prefix to the configured base URL (the X sandbox, a
test server). With the default base URL nothing is rewritten, which keeps OAuth 1.0a signatures valid:
they are computed over tweepy's host.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

import aiohttp
import orjson
import tweepy
from tweepy.asynchronous import AsyncClient
from yarl import URL

from integrations.errors import (
    OutcomeUnknownError,
    PermanentIntegrationError,
    RateLimitedError,
    RetryableIntegrationError,
)
from integrations.models import RateLimit

SERVICE: Final = "x"
TWEEPY_HOST: Final = "https://api.twitter.com"

# What a DM event lookup asks for: tweepy's default returns only id, event_type and text.
DM_EVENT_FIELDS: Final = ("id", "event_type", "text", "sender_id", "dm_conversation_id", "created_at", "attachments")

log = logging.getLogger(__name__)

# tweepy logs every request at DEBUG with its headers, Authorization included: never let that through.
logging.getLogger("tweepy").setLevel(logging.INFO)


@dataclass(frozen=True, kw_only=True)
class XCredentials:
    """User-context credentials: OAuth 1.0a (four keys) or an OAuth 2.0 user access token."""

    consumer_key: str | None = None
    consumer_secret: str | None = None
    access_token: str | None = None
    access_token_secret: str | None = None
    oauth2_user_token: str | None = None

    def __post_init__(self) -> None:
        oauth1 = (self.consumer_key, self.consumer_secret, self.access_token, self.access_token_secret)
        if self.oauth2_user_token is None and not all(oauth1):
            raise ValueError("X credentials need an OAuth 2.0 user token or all four OAuth 1.0a keys")

    @property
    def user_auth(self) -> bool:
        """tweepy's ``user_auth``: True signs with OAuth 1.0a; an OAuth 2.0 user token needs False."""
        return self.oauth2_user_token is None

    def __repr__(self) -> str:  # secrets never reach a log line or a traceback
        return f"XCredentials(oauth={'1.0a' if self.user_auth else '2.0'})"


@dataclass(frozen=True, kw_only=True)
class SentDM:
    event_id: str
    conversation_id: str
    rate_limit: RateLimit | None


@dataclass(frozen=True, kw_only=True)
class DMEventsPage:
    events: list[dict[str, Any]]  # v2 DM events, newest first, as X sent them
    next_token: str | None
    rate_limit: RateLimit | None
    users: list[dict[str, Any]] = field(default_factory=list)


class _RebasedSession:
    """An aiohttp session that sends tweepy's requests to ``base_url`` instead of api.twitter.com."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str) -> None:
        self._session = session
        self._base = base_url.rstrip("/")

    def request(self, method: str, url: str | URL, **options: Any) -> Any:
        text = str(url)
        if text.startswith(TWEEPY_HOST):
            # An OAuth-signed URL arrives encoded: keep its query byte for byte.
            url = URL(self._base + text[len(TWEEPY_HOST) :], encoded=True)
        return self._session.request(method, url, **options)

    async def close(self) -> None:
        await self._session.close()


class XApi:
    """The few X API v2 endpoints a DM bot needs, each returning what X's rate-limit headers said."""

    def __init__(
        self,
        *,
        credentials: XCredentials,
        base_url: str = TWEEPY_HOST,
        timeout: float = 10.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._credentials = credentials
        self._base_url = base_url
        self._timeout = aiohttp.ClientTimeout(total=timeout, connect=min(timeout, 5.0))
        self._clock = clock
        self._client: AsyncClient | None = None

    def _tweepy(self) -> AsyncClient:
        # Built on first use: an aiohttp session belongs to the event loop that creates it.
        if self._client is None:
            credentials = self._credentials
            client = AsyncClient(
                bearer_token=credentials.oauth2_user_token,
                consumer_key=credentials.consumer_key,
                consumer_secret=credentials.consumer_secret,
                access_token=credentials.access_token,
                access_token_secret=credentials.access_token_secret,
                return_type=aiohttp.ClientResponse,  # the headers carry the rate limit
            )
            session = aiohttp.ClientSession(timeout=self._timeout)
            client.session = session if self._base_url == TWEEPY_HOST else _RebasedSession(session, self._base_url)
            self._client = client
        return self._client

    async def aclose(self) -> None:
        if self._client is not None and self._client.session is not None:
            await self._client.session.close()
        self._client = None

    async def send_dm(self, *, participant_id: str, text: str) -> SentDM:
        """POST /2/dm_conversations/with/:participant_id/messages."""
        response, body = await self._call(
            "send",
            changes_something=True,
            call=lambda client: client.create_direct_message(
                participant_id=participant_id, text=text, user_auth=self._credentials.user_auth
            ),
        )
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict) or not str(data.get("dm_event_id", "")).isdigit():
            # X said 2xx, so the DM exists, but we cannot tell which: settle it like a lost answer.
            raise OutcomeUnknownError("a send answered without a dm_event_id", service=SERVICE)
        return SentDM(
            event_id=str(data["dm_event_id"]),
            conversation_id=str(data.get("dm_conversation_id", "")),
            rate_limit=self._rate_limit(response.headers),
        )

    async def dm_events(
        self, *, participant_id: str | None = None, pagination_token: str | None = None, max_results: int = 100
    ) -> DMEventsPage:
        """GET /2/dm_events (or one conversation's events), newest first, with the fields a bot needs."""
        params: dict[str, Any] = {
            "dm_event_fields": list(DM_EVENT_FIELDS),
            "event_types": ["MessageCreate"],
            "expansions": ["sender_id"],
            "user_fields": ["username", "name"],
            "max_results": max_results,
        }
        if pagination_token:
            params["pagination_token"] = pagination_token
        response, body = await self._call(
            "read",
            changes_something=False,
            call=lambda client: client.get_direct_message_events(
                participant_id=participant_id, user_auth=self._credentials.user_auth, **params
            ),
        )
        if not isinstance(body, dict):
            raise RetryableIntegrationError("a DM lookup answered with something not an object", service=SERVICE)
        events = body.get("data") or []
        meta = body.get("meta") or {}
        includes = body.get("includes") or {}
        if not isinstance(events, list) or not isinstance(meta, dict) or not isinstance(includes, dict):
            raise RetryableIntegrationError("a DM lookup answered in an unexpected shape", service=SERVICE)
        token = meta.get("next_token")
        users = includes.get("users") or []
        return DMEventsPage(
            events=[event for event in events if isinstance(event, dict)],
            next_token=token if isinstance(token, str) and token else None,
            rate_limit=self._rate_limit(response.headers),
            users=[user for user in users if isinstance(user, dict)] if isinstance(users, list) else [],
        )

    async def me(self) -> str:
        """The authenticated account's user id: the bot's own DMs are recognised by it."""
        response, body = await self._call(
            "read", changes_something=False, call=lambda client: client.get_me(user_auth=self._credentials.user_auth)
        )
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict) or not str(data.get("id", "")).isdigit():
            raise PermanentIntegrationError("users/me answered without an id", service=SERVICE)
        return str(data["id"])

    async def _call(
        self, what: str, *, changes_something: bool, call: Callable[[AsyncClient], Any]
    ) -> tuple[aiohttp.ClientResponse, Any]:
        failure: Exception
        try:
            response: aiohttp.ClientResponse = await call(self._tweepy())
            # tweepy read the body before releasing the connection; read() would now refuse, json() reuses it.
            body = await response.json(loads=orjson.loads, content_type=None)
            return response, body
        except tweepy.HTTPException as error:
            details = "; ".join(str(message) for message in error.api_messages)[:300]
            failure = self._refusal(what, error.response.status, error.response.headers, details, changes_something)
        except aiohttp.ContentTypeError as error:
            # An error answer whose body tweepy could not read as JSON (a proxy's HTML page, ...).
            failure = self._refusal(what, error.status, error.headers or {}, "", changes_something)
        except aiohttp.ClientConnectorError:
            # Never connected: nothing reached X, so trying again cannot do anything twice.
            failure = RetryableIntegrationError(f"{what}: cannot reach X", service=SERVICE)
        except Exception as error:  # timeouts, dropped connections, unreadable bodies, tweepy's own slips
            message = f"{what}: no usable answer from X ({type(error).__name__})"
            failure = (OutcomeUnknownError if changes_something else RetryableIntegrationError)(
                message, service=SERVICE
            )
        # Raised outside the handler so it chains nothing: tweepy's errors hold the request, headers
        # included, and a logged traceback must not carry them.
        raise failure

    def _refusal(
        self, what: str, status: int, headers: Mapping[str, str], details: str, changes_something: bool
    ) -> Exception:
        """X's non-2xx answer as the error that tells the caller what to do next."""
        message = f"{what}: X answered {status}" + (f": {details}" if details else "")
        if status == 429:
            rate_limit = self._rate_limit(headers)
            wait = None
            if rate_limit is not None:
                wait = max(0.0, (rate_limit.reset_at - self._clock()).total_seconds())
            return RateLimitedError(message, service=SERVICE, retry_after=wait, rate_limit=rate_limit)
        if status == 401:
            # Expired or revoked credentials concern every request, not this one: keep the work and
            # wait for an operator to fix the keys, instead of failing each queued reply for good.
            log.error("X refused dmcare's credentials (401); requests are retried until they are fixed")
            return RetryableIntegrationError(message, service=SERVICE, retry_after=60.0)
        if 400 <= status < 500:
            # 400, 403, 404: the request itself is wrong, or the customer does not accept our DMs.
            return PermanentIntegrationError(message, service=SERVICE)
        if changes_something:  # a 5xx may come after X did the work
            return OutcomeUnknownError(message, service=SERVICE)
        return RetryableIntegrationError(message, service=SERVICE)

    def _rate_limit(self, headers: Mapping[str, str]) -> RateLimit | None:
        try:
            return RateLimit(
                limit=int(headers["x-rate-limit-limit"]),
                remaining=int(headers["x-rate-limit-remaining"]),
                reset_at=datetime.fromtimestamp(int(headers["x-rate-limit-reset"]), UTC),
            )
        except (KeyError, ValueError, OverflowError, OSError):
            return None
