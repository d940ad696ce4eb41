"""X API v2 DM endpoints on the wire: send, look up, ``users/me``, with X's validation and rate limits.

Paths are relative to wherever the sandbox is mounted (tweepy's ``https://api.twitter.com`` is rewritten
to that base). Authorization must be present (``OAuth ...`` or ``Bearer ...``) but is not verified: the
OAuth 1.0a signature was computed for api.twitter.com, and every caller acts as the shop's account.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from integrations.x.sandbox.config import RateWindow, XSandboxConfig
from integrations.x.sandbox.events import DEFAULT_FIELDS, DM_EVENT_FIELDS, DmEvent, conversation_id
from integrations.x.sandbox.faults import Budget, SandboxFaults
from integrations.x.sandbox.limits import RateLimiter, RateStatus
from integrations.x.sandbox.paging import PageToken, decode_token, page_of
from integrations.x.sandbox.problems import invalid_request, json_response, problem, too_many_requests
from integrations.x.sandbox.store import EventStore
from integrations.x.sandbox.users import v2_user

__all__ = ["DmApi"]

_PARTICIPANT_ID: Final = re.compile(r"[0-9]{1,19}")
_CONVERSATION_ID: Final = re.compile(r"([0-9]{1,19})-([0-9]{1,19})|[0-9]{15,19}")
_MEDIA_ID: Final = re.compile(r"[0-9]{1,19}")
_RETENTION: Final = timedelta(days=30)  # lookups reach back 30 days
_EVENT_TYPES: Final = frozenset({"MessageCreate", "ParticipantsJoin", "ParticipantsLeave"})
_EXPANSIONS: Final = frozenset(
    {"attachments.media_keys", "participant_ids", "referenced_tweets.id", "referenced_posts", "sender_id"}
)
_USER_FIELDS: Final = frozenset(
    {
        "affiliation", "confirmed_email", "connection_status", "created_at", "description", "entities", "id",
        "is_identity_verified", "location", "most_recent_tweet_id", "name", "parody", "pinned_tweet_id",
        "profile_banner_url", "profile_image_url", "protected", "public_metrics", "receives_your_dm",
        "subscription", "subscription_type", "url", "username", "verified", "verified_followers_count",
        "verified_type", "withheld",
    }
)  # fmt: skip
_LOOKUP_PARAMS: Final = frozenset(
    {
        "dm_event.fields", "event_types", "expansions", "max_results", "pagination_token", "user.fields",
        "tweet.fields", "post.fields", "media.fields",
    }
)  # fmt: skip
_SEND_KEYS: Final = frozenset({"text", "attachments"})
_USERS_ME_WINDOW: Final = RateWindow(limit=75, seconds=900)  # X's public rate-limit table for GET /2/users/me


class _Rejected(Exception):
    """A request answered early (validation); carries the ready response."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


class DmApi:
    """The ``/2/...`` routes over one ``EventStore``.

    ``on_bot_send`` is told about each DM the bot sends, right after it exists (the sandbox echoes it to
    the webhook from there).
    """

    def __init__(
        self,
        *,
        config: XSandboxConfig,
        store: EventStore,
        faults: SandboxFaults,
        on_bot_send: Callable[[DmEvent], None],
    ) -> None:
        self._config = config
        self._store = store
        self._faults = faults
        self._on_bot_send = on_bot_send
        # One budget per kind, as X counts them: all sends, all DM lookups, users/me.
        self._sends = RateLimiter(windows=config.send_windows)
        self._reads = RateLimiter(windows=config.read_windows)
        self._me = RateLimiter(windows=(_USERS_ME_WINDOW,))

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/2/users/me", self._users_me, methods=["GET"]),
            Route("/2/dm_events", self._lookup_all, methods=["GET"]),
            Route("/2/dm_events/{event_id}", self._lookup_one, methods=["GET"]),
            Route("/2/dm_conversations", self._create_group, methods=["POST"]),
            Route("/2/dm_conversations/with/{participant_id}/dm_events", self._lookup_with, methods=["GET"]),
            Route("/2/dm_conversations/with/{participant_id}/messages", self._send_with, methods=["POST"]),
            Route("/2/dm_conversations/{dm_conversation_id}/dm_events", self._lookup_in, methods=["GET"]),
            Route("/2/dm_conversations/{dm_conversation_id}/messages", self._send_in, methods=["POST"]),
        ]

    # -- sending -----------------------------------------------------------------------------------

    async def _send_with(self, request: Request) -> Response:
        return await self._send(request, lambda headers: self._recipient_by_participant(request, headers))

    async def _send_in(self, request: Request) -> Response:
        return await self._send(request, lambda headers: self._recipient_by_conversation(request, headers))

    async def _create_group(self, request: Request) -> Response:
        def no_groups(headers: Mapping[str, str]) -> str:
            raise _Rejected(problem(403, detail="The X sandbox has no group conversations.", headers=headers))

        return await self._send(request, no_groups)

    async def _send(self, request: Request, recipient_of: Callable[[Mapping[str, str]], str]) -> Response:
        gate = self._admit(request, self._sends, "send")
        if isinstance(gate, Response):
            return gate
        headers = gate.headers()
        failure = self._faults.take_send_failure()
        if failure is not None:
            return problem(failure, headers=headers)
        try:
            recipient_id = recipient_of(headers)
            text, media_ids = self._message_body(await request.body(), headers)
            if self._config.customer(recipient_id) is None:
                raise _Rejected(problem(403, detail="You cannot send messages to this user.", headers=headers))
        except _Rejected as rejected:
            return rejected.response
        event = self._store.create(
            sender_id=self._config.bot_user_id, recipient_id=recipient_id, text=text, media_ids=media_ids
        )
        self._on_bot_send(event)
        body = {"data": {"dm_conversation_id": event.dm_conversation_id, "dm_event_id": event.id}}
        hang = self._faults.take_hang()
        if hang is not None:
            await asyncio.sleep(hang)
        if self._faults.take_drop():
            return _CutOffResponse(orjson.dumps(body), status_code=201, headers=headers)
        return json_response(201, body, headers=headers)

    def _recipient_by_participant(self, request: Request, headers: Mapping[str, str]) -> str:
        participant_id: str = request.path_params["participant_id"]
        if not _PARTICIPANT_ID.fullmatch(participant_id):
            raise _Rejected(_bad_path_param("participant_id", participant_id, _PARTICIPANT_ID, headers))
        return participant_id

    def _recipient_by_conversation(self, request: Request, headers: Mapping[str, str]) -> str:
        dm_conversation_id: str = request.path_params["dm_conversation_id"]
        match = _CONVERSATION_ID.fullmatch(dm_conversation_id)
        if match is None:
            raise _Rejected(_bad_path_param("dm_conversation_id", dm_conversation_id, _CONVERSATION_ID, headers))
        members = {match.group(1), match.group(2)} - {None}
        bot = self._config.bot_user_id
        if bot not in members or len(members) != 2:
            raise _Rejected(problem(403, detail="You cannot send messages to this conversation.", headers=headers))
        (other,) = members - {bot}
        assert other is not None
        return other

    def _message_body(self, raw: bytes, headers: Mapping[str, str]) -> tuple[str, tuple[str, ...]]:
        """(text, media ids) of a send body, validated like X's ``CreateMessageRequest``."""
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise _Rejected(invalid_request("The request body is not valid JSON.", headers=headers)) from None
        if not isinstance(body, dict):
            raise _Rejected(invalid_request("The request body must be a JSON object.", headers=headers))
        unknown = sorted(set(body) - _SEND_KEYS)
        if unknown:
            message = f"The request body has properties that are not allowed: {', '.join(unknown)}."
            raise _Rejected(invalid_request(message, headers=headers))
        if "text" not in body and "attachments" not in body:
            raise _Rejected(invalid_request("A message needs text or attachments.", headers=headers))
        text = body.get("text", "")
        if not isinstance(text, str) or ("text" in body and not text):
            raise _Rejected(invalid_request("`text` must be a string of at least 1 character.", headers=headers))
        if len(text) > self._config.max_text:
            message = f"`text` must be at most {self._config.max_text} characters; it has {len(text)}."
            raise _Rejected(invalid_request(message, headers=headers))
        media_ids: tuple[str, ...] = ()
        if "attachments" in body:
            attachments = body["attachments"]
            if (
                not isinstance(attachments, list)
                or len(attachments) != 1
                or not isinstance(attachments[0], dict)
                or set(attachments[0]) != {"media_id"}
                or not isinstance(attachments[0]["media_id"], str)
                or not _MEDIA_ID.fullmatch(attachments[0]["media_id"])
            ):
                message = '`attachments` must be exactly one {"media_id": "<digits>"}.'
                raise _Rejected(invalid_request(message, headers=headers))
            media_ids = (attachments[0]["media_id"],)
        return text, media_ids

    # -- looking up --------------------------------------------------------------------------------

    async def _lookup_all(self, request: Request) -> Response:
        return self._lookup(request, lambda headers: None)

    async def _lookup_with(self, request: Request) -> Response:
        def conversation(headers: Mapping[str, str]) -> str:
            participant_id = self._recipient_by_participant(request, headers)
            return conversation_id(self._config.bot_user_id, participant_id)

        return self._lookup(request, conversation)

    async def _lookup_in(self, request: Request) -> Response:
        def conversation(headers: Mapping[str, str]) -> str:
            dm_conversation_id: str = request.path_params["dm_conversation_id"]
            if not _CONVERSATION_ID.fullmatch(dm_conversation_id):
                raise _Rejected(_bad_path_param("id", dm_conversation_id, _CONVERSATION_ID, headers))
            return dm_conversation_id

        return self._lookup(request, conversation)

    def _lookup(self, request: Request, conversation_of: Callable[[Mapping[str, str]], str | None]) -> Response:
        gate = self._admit(request, self._reads, "read")
        if isinstance(gate, Response):
            return gate
        headers = gate.headers()
        try:
            wanted = conversation_of(headers)
            query = _LookupQuery.parse(request.query_params, headers)
        except _Rejected as rejected:
            return rejected.response
        since = self._store.now() - _RETENTION
        events = self._store.newest_first(since=since, dm_conversation_id=wanted, event_types=query.event_types)
        page = page_of(events, size=query.max_results, token=query.token)
        if not page.events:
            return json_response(200, {"meta": {"result_count": 0}}, headers=headers)
        body: dict[str, Any] = {"data": [e.v2(query.fields) for e in page.events]}
        if "sender_id" in query.expansions:
            senders = dict.fromkeys(e.sender_id for e in page.events)
            body["includes"] = {"users": [v2_user(user_id, config=self._config) for user_id in senders]}
        meta: dict[str, Any] = {"result_count": len(page.events)}
        if page.next_token is not None:
            meta["next_token"] = page.next_token
        if page.previous_token is not None:
            meta["previous_token"] = page.previous_token
        body["meta"] = meta
        return json_response(200, body, headers=headers)

    async def _lookup_one(self, request: Request) -> Response:
        gate = self._admit(request, self._reads, "read")
        if isinstance(gate, Response):
            return gate
        headers = gate.headers()
        event_id: str = request.path_params["event_id"]
        if not _PARTICIPANT_ID.fullmatch(event_id):
            return _bad_path_param("event_id", event_id, _PARTICIPANT_ID, headers)
        try:
            query = _LookupQuery.parse(request.query_params, headers, single=True)
        except _Rejected as rejected:
            return rejected.response
        event = self._store.get(event_id)
        if event is None:
            not_found = {
                "value": event_id,
                "detail": f"Could not find dm_event with id: [{event_id}].",
                "title": "Not Found Error",
                "resource_type": "dm_event",
                "parameter": "event_id",
                "resource_id": event_id,
                "type": "https://api.twitter.com/2/problems/resource-not-found",
            }
            return json_response(200, {"errors": [not_found]}, headers=headers)
        body: dict[str, Any] = {"data": event.v2(query.fields)}
        if "sender_id" in query.expansions:
            body["includes"] = {"users": [v2_user(event.sender_id, config=self._config)]}
        return json_response(200, body, headers=headers)

    # -- who am I ----------------------------------------------------------------------------------

    async def _users_me(self, request: Request) -> Response:
        gate = self._admit(request, self._me, None)
        if isinstance(gate, Response):
            return gate
        me = v2_user(self._config.bot_user_id, config=self._config)
        return json_response(200, {"data": me}, headers=gate.headers())

    # -- shared gate -------------------------------------------------------------------------------

    def _admit(self, request: Request, limiter: RateLimiter, budget: Budget | None) -> RateStatus | Response:
        """Auth, forced 429s and the rate limit; the counted status, or the response that refuses."""
        now = self._store.now()
        if not _authorized(request):
            return problem(401, title="Unauthorized", detail="Unauthorized", headers=limiter.peek(now).headers())
        if budget is not None and self._faults.take_forced_429(budget):
            return too_many_requests(self._config.rate_limit_body, headers=limiter.exhausted(now).headers())
        status = limiter.acquire(now)
        if not status.allowed:
            return too_many_requests(self._config.rate_limit_body, headers=status.headers())
        return status


@dataclass(frozen=True, kw_only=True)
class _LookupQuery:
    """The validated query string of a DM lookup."""

    fields: frozenset[str]
    expansions: frozenset[str]
    event_types: frozenset[str] | None  # None: every type
    max_results: int
    token: PageToken | None

    @classmethod
    def parse(cls, params: Mapping[str, str], headers: Mapping[str, str], *, single: bool = False) -> _LookupQuery:
        allowed = _LOOKUP_PARAMS - ({"event_types", "max_results", "pagination_token"} if single else set())
        unknown = sorted(set(params) - allowed)
        if unknown:
            message = f"The query parameters [{','.join(unknown)}] is not one of [{','.join(sorted(allowed))}]"
            raise _Rejected(invalid_request(message, headers=headers))
        fields = _csv(params, "dm_event.fields", DM_EVENT_FIELDS, headers)
        expansions = _csv(params, "expansions", _EXPANSIONS, headers)
        _csv(params, "user.fields", _USER_FIELDS, headers)
        event_types = _csv(params, "event_types", _EVENT_TYPES, headers) if "event_types" in params else None
        max_results = 100
        if "max_results" in params:
            raw = params["max_results"]
            if not raw.isdigit() or not 1 <= int(raw) <= 100:
                message = f"The `max_results` query parameter value [{raw}] is not between 1 and 100"
                raise _Rejected(invalid_request(message, parameters={"max_results": [raw]}, headers=headers))
            max_results = int(raw)
        token = None
        if "pagination_token" in params:
            raw = params["pagination_token"]
            token = decode_token(raw)
            if token is None:
                message = f"The `pagination_token` query parameter value [{raw}] is not valid"
                raise _Rejected(invalid_request(message, parameters={"pagination_token": [raw]}, headers=headers))
        return cls(
            fields=DEFAULT_FIELDS | fields,
            expansions=expansions,
            event_types=event_types,
            max_results=max_results,
            token=token,
        )


def _csv(params: Mapping[str, str], name: str, allowed: frozenset[str], headers: Mapping[str, str]) -> frozenset[str]:
    if name not in params:
        return frozenset()
    values = params[name].split(",")
    bad = [v for v in values if v not in allowed]
    if bad:
        message = f"The `{name}` query parameter value [{bad[0]}] is not one of [{','.join(sorted(allowed))}]"
        raise _Rejected(invalid_request(message, parameters={name: [params[name]]}, headers=headers))
    return frozenset(values)


def _bad_path_param(name: str, value: str, pattern: re.Pattern[str], headers: Mapping[str, str]) -> Response:
    message = f"The `{name}` query parameter value [{value}] does not match ^{pattern.pattern}$"
    return invalid_request(message, parameters={name: [value]}, headers=headers)


def _authorized(request: Request) -> bool:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    return scheme in ("OAuth", "Bearer") and bool(credentials.strip())


class _CutOffResponse(Response):
    """Status line and headers go out, promising a body that never comes; the server then drops the connection.

    uvicorn closes the connection when an app returns with its response incomplete (it logs an error
    saying so): to the client, an answer lost mid-flight after the DM was created.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        await send({"type": "http.response.body", "body": self.body[: len(self.body) // 2], "more_body": True})
