"""A fake Smile.io REST v1 server: customers and points transactions, over real HTTP with ``serve(app)``.

What it speaks (reference/carriers-orders-loyalty.md §4.2, and dev.smile.io where the reference is silent):

* ``Authorization: Bearer <api_key>``, else 401.
* 10 requests per second per token, else 429 with ``Retry-After: 1`` (a sliding one-second window).
* ``GET /v1/customers?email=&limit=&cursor=`` -> ``{"customers": [...], "metadata": {...}}``;
  ``GET /v1/customers/{id}`` -> ``{"customer": {...}}`` or 404.
* ``POST /v1/points_transactions`` ``{"points_transaction": {customer_id, points_change, description,
  internal_note}}`` -> 201 ``{"points_transaction": {id, customer_id, points_change, description,
  internal_note, created_at, updated_at}}``; unknown customer 404; a negative balance 422; no JSON
  ``Content-Type`` 400.
* ``GET /v1/points_transactions?customer_id=&limit=&cursor=`` -> newest first (by id, descending),
  ``{"points_transactions": [...], "metadata": {"next_cursor", "previous_cursor"}}``. The shape is
  dev.smile.io's cursor pagination; what the cursor encodes is ASSUMED (here base64 of
  ``id:<last id>,direction:next``, as the docs' example cursor decodes), and only forward paging is served.

Faults, for the next requests (of one endpoint, "POST /v1/points_transactions", or of any):
``fail_next(kind, times=1, endpoint=None)`` with kind

* ``"500"``: a 500, nothing done.            * ``"429"``: a 429 with ``Retry-After: 1``, nothing done.
* ``"422"``: a validation error, nothing done.
* ``"malformed"``: the work is done, then answered with JSON in a shape Smile never sends.
* ``"hang"``: held for ``hang_seconds`` (past any client timeout), then a 504; nothing done.
* ``"lost_response"``: the work is done, then the answer is held the same way: the client times out
  not knowing the points were awarded.

``release_hangs()`` lets held requests finish (call it before the server stops, so it stops at once).
Counters: ``created`` (transactions made through the API: the effects), ``requests`` per endpoint,
``arrivals`` (endpoint and monotonic time of every request).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import itertools
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

__all__ = ["DEFAULT_API_KEY", "DEFAULT_CUSTOMERS", "FakeSmile", "FaultKind", "SmileCustomer"]

FaultKind = Literal["500", "429", "422", "malformed", "hang", "lost_response"]
Handler = Callable[[Request], Awaitable[Response]]

DEFAULT_API_KEY = "smile-private-token-for-tests"

CUSTOMERS = "GET /v1/customers"
CUSTOMER = "GET /v1/customers/{id}"
CREATE_TRANSACTION = "POST /v1/points_transactions"
LIST_TRANSACTIONS = "GET /v1/points_transactions"


@dataclass(kw_only=True)
class SmileCustomer:
    id: int
    email: str
    first_name: str = ""
    last_name: str = ""
    points_balance: int = 0
    state: str = "member"

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "email": self.email,
            "points_balance": self.points_balance,
            "state": self.state,
        }


DEFAULT_CUSTOMERS = (
    SmileCustomer(id=304169228, email="ada@example.com", first_name="Ada", last_name="Owner", points_balance=120),
    SmileCustomer(id=304169229, email="shared@example.com", first_name="Sam", last_name="Shared"),
    SmileCustomer(id=304169230, email="shared@example.com", first_name="Sasha", last_name="Shared"),
)


class FakeSmile:
    def __init__(
        self,
        *,
        api_key: str = DEFAULT_API_KEY,
        customers: Iterable[SmileCustomer] = DEFAULT_CUSTOMERS,
        requests_per_second: int = 10,
        hang_seconds: float = 5.0,
    ) -> None:
        self.api_key = api_key
        # Copies: a test awarding points must not change the seed another test starts from.
        self.customers = {c.id: SmileCustomer(**vars(c)) for c in customers}
        self.hang_seconds = hang_seconds
        self.created = 0
        self.requests: Counter[str] = Counter()
        self.arrivals: list[tuple[str, float]] = []
        self._transactions: list[dict[str, Any]] = []  # oldest first
        self._ids = itertools.count(825673452)
        self._limit = requests_per_second
        self._recent: deque[float] = deque()
        self._faults: list[tuple[FaultKind, str | None]] = []
        self._release: asyncio.Event | None = None
        self.app = Starlette(
            routes=[
                Route("/v1/customers", self._guarded(CUSTOMERS, self._list_customers), methods=["GET"]),
                Route("/v1/customers/{id}", self._guarded(CUSTOMER, self._get_customer), methods=["GET"]),
                Route(
                    "/v1/points_transactions",
                    self._guarded(CREATE_TRANSACTION, self._create_transaction),
                    methods=["POST"],
                ),
                Route(
                    "/v1/points_transactions",
                    self._guarded(LIST_TRANSACTIONS, self._list_transactions),
                    methods=["GET"],
                ),
            ]
        )

    # -- test controls --------------------------------------------------------------------------------

    def fail_next(self, kind: FaultKind, times: int = 1, *, endpoint: str | None = None) -> None:
        """Arm ``kind`` for the next ``times`` requests to ``endpoint`` ("POST /v1/points_transactions"), or any."""
        if times < 1:
            raise ValueError("times must be at least 1")
        self._faults.extend([(kind, endpoint)] * times)

    def release_hangs(self) -> None:
        """Let every held request finish now."""
        if self._release is not None:
            self._release.set()
            self._release = None

    def add_transaction(self, *, customer_id: int, points_change: int, description: str = "Placed an order") -> None:
        """A transaction made outside dmcare (the customer's own purchases): not counted in ``created``."""
        self._record(customer_id=customer_id, points_change=points_change, description=description, internal_note=None)

    def transactions(self, *, customer_id: int | None = None) -> list[dict[str, Any]]:
        """Every transaction, newest first."""
        return [dict(t) for t in reversed(self._transactions) if customer_id in (None, t["customer_id"])]

    # -- the pipeline every request goes through --------------------------------------------------------

    def _guarded(self, endpoint: str, handler: Handler) -> Handler:
        async def guarded(request: Request) -> Response:
            self.requests[endpoint] += 1
            self.arrivals.append((endpoint, time.monotonic()))
            if request.headers.get("authorization") != f"Bearer {self.api_key}":
                return _error(401, "unauthorized", "The access token is missing or invalid")
            if not self._admit():
                return _rate_limited()
            fault = self._take_fault(endpoint)
            if fault == "500":
                return _error(500, "internal_server_error", "Something went wrong")
            if fault == "429":
                return _rate_limited()
            if fault == "422":
                return _error(422, "invalid", "Points transactions are disabled for this customer")
            if fault == "hang":
                await self._hang()
                return _error(504, "gateway_timeout", "Timed out")
            response = await handler(request)
            if fault == "lost_response":
                await self._hang()
            if fault == "malformed":
                return JSONResponse({"unexpected": "shape"}, status_code=response.status_code)
            return response

        return guarded

    def _admit(self) -> bool:
        now = time.monotonic()
        while self._recent and now - self._recent[0] >= 1.0:
            self._recent.popleft()
        if len(self._recent) >= self._limit:
            return False
        self._recent.append(now)
        return True

    def _take_fault(self, endpoint: str) -> FaultKind | None:
        for index, (kind, only) in enumerate(self._faults):
            if only is None or only == endpoint:
                del self._faults[index]
                return kind
        return None

    async def _hang(self) -> None:
        if self._release is None:
            self._release = asyncio.Event()
        try:
            await asyncio.wait_for(self._release.wait(), timeout=self.hang_seconds)
        except TimeoutError:
            pass

    # -- endpoints ------------------------------------------------------------------------------------

    async def _list_customers(self, request: Request) -> Response:
        email = request.query_params.get("email")
        # Whether Smile's email filter ignores case is UNCONFIRMED; emails are compared as mail servers do.
        found = [
            c.as_json()
            for c in sorted(self.customers.values(), key=lambda c: c.id, reverse=True)
            if email is None or c.email.lower() == email.lower()
        ]
        return _page(request, "customers", found)

    async def _get_customer(self, request: Request) -> Response:
        customer = self.customers.get(_int_or_none(request.path_params["id"]) or -1)
        if customer is None:
            return _error(404, "not_found", "Customer not found")
        return JSONResponse({"customer": customer.as_json()})

    async def _list_transactions(self, request: Request) -> Response:
        raw_customer = request.query_params.get("customer_id")
        customer_id = _int_or_none(raw_customer) if raw_customer is not None else None
        if raw_customer is not None and customer_id is None:
            return _error(400, "invalid_parameter", "customer_id must be an integer")
        # An unknown customer_id is answered with an empty list, as a filter would (UNCONFIRMED).
        return _page(request, "points_transactions", self.transactions(customer_id=customer_id))

    async def _create_transaction(self, request: Request) -> Response:
        if not request.headers.get("content-type", "").startswith("application/json"):
            return _error(400, "invalid_content_type", "Content-Type must be application/json")
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "invalid_json", "The request body is not valid JSON")
        fields = body.get("points_transaction") if isinstance(body, dict) else None
        if not isinstance(fields, dict):
            return _error(400, "missing_parameter", "points_transaction is required")
        customer_id, change = fields.get("customer_id"), fields.get("points_change")
        description, note = fields.get("description"), fields.get("internal_note")
        if not isinstance(customer_id, int) or not isinstance(change, int) or _bool(customer_id, change) or not change:
            return _error(400, "invalid_parameter", "customer_id and a non-zero points_change are required")
        if not isinstance(description, str | None) or not isinstance(note, str | None):
            return _error(400, "invalid_parameter", "description and internal_note must be strings")
        customer = self.customers.get(customer_id)
        if customer is None:
            return _error(404, "not_found", "Customer not found")
        if customer.points_balance + change < 0:
            return _error(422, "insufficient_points", "The points balance cannot become negative")
        transaction = self._record(
            customer_id=customer_id, points_change=change, description=description, internal_note=note
        )
        self.created += 1
        return JSONResponse({"points_transaction": transaction}, status_code=201)

    def _record(
        self, *, customer_id: int, points_change: int, description: str | None, internal_note: str | None
    ) -> dict[str, Any]:
        now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        transaction = {
            "id": next(self._ids),
            "customer_id": customer_id,
            "points_change": points_change,
            "description": description,
            "internal_note": internal_note,
            "created_at": now,
            "updated_at": now,
        }
        self._transactions.append(transaction)
        self.customers[customer_id].points_balance += points_change
        return dict(transaction)


def _page(request: Request, name: str, items: list[dict[str, Any]]) -> Response:
    """One page of ``items`` (newest first) as Smile's cursor pagination answers it."""
    raw_limit = request.query_params.get("limit", "50")
    limit = _int_or_none(raw_limit)
    if limit is None or not 1 <= limit <= 250:
        return _error(400, "invalid_parameter", "limit must be between 1 and 250")
    cursor = request.query_params.get("cursor")
    if cursor:
        before = _decode_cursor(cursor)
        if before is None:
            return _error(400, "invalid_parameter", "cursor is invalid")
        items = [item for item in items if item["id"] < before]
    page, more = items[:limit], len(items) > limit
    next_cursor = _encode_cursor(page[-1]["id"]) if more else None
    return JSONResponse({name: page, "metadata": {"next_cursor": next_cursor, "previous_cursor": None}})


def _encode_cursor(last_id: int) -> str:
    return base64.b64encode(f"id:{last_id},direction:next".encode()).decode()


def _decode_cursor(cursor: str) -> int | None:
    try:
        text = base64.b64decode(cursor, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    head, _, direction = text.partition(",")
    if not head.startswith("id:") or direction != "direction:next":
        return None
    return _int_or_none(head.removeprefix("id:"))


def _error(status: int, code: str, message: str) -> Response:
    # Smile's docs promise "a JSON error object" but not its keys: {"error": {"code", "message"}} is
    # UNCONFIRMED (the JS SDK exposes status, message, requestId), so the adapter must not rely on it.
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def _rate_limited() -> Response:
    response = _error(429, "rate_limited", "Too many requests: 10 per second per token")
    response.headers["Retry-After"] = "1"
    return response


def _int_or_none(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() else None


def _bool(*values: Any) -> bool:
    return any(isinstance(value, bool) for value in values)  # JSON true is no number, though Python says so
