"""A fake Shopify Admin GraphQL endpoint that answers in Shopify's own JSON shapes.

It is not a GraphQL server. It finds the root fields dmcare's adapters ask for (``orders``, ``shop``,
``customer``, ``refundCreate``, ``discountCodeBasicCreate``, ...) in the document, reads their arguments
(variables or literals) with a few regular expressions, and answers with Shopify's shapes: ``data``,
mutations' ``userErrors``, top-level ``errors`` with ``extensions.code``, and ``extensions.cost`` on every
answer. Parts of an order (transactions, refunds, fulfillments, the customer, metafields) and of a
customer (its email) are only sent when the document asks for them, so an adapter that forgets to ask
reads nothing.

What it keeps: orders (with a 60-day window unless the app holds ``read_all_orders``), customers
(``customer(id:)`` answers null for an id it does not hold, and an error for one that is no customer GID),
discount codes (one per code, case-insensitive: a second is ``TAKEN``; with the ``minimumRequirement``
they were made with, read back by ``codeDiscountNodeByCode`` when the document asks for it) and refunds
(one per ``@idempotent`` key; never more than what is left on a payment).

Faults, armed with ``fail_next(kind, times, operation=None)`` and met by the next requests in order (only
by requests of that ``operationName`` when one is given; ``"user_error"`` only by mutations):

* ``"500"``, ``"503"``: that status, nothing done.
* ``"throttled"``: HTTP 200 with ``errors[].extensions.code == "THROTTLED"``; the bucket holds
  ``throttle_available`` points and refills at ``restore_rate`` a second (a query costs ``QUERY_COST``).
* ``"429"``: the same body with HTTP 429 and ``Retry-After: retry_after``.
* ``"malformed"``: HTTP 200 with JSON that is no GraphQL response.
* ``"hang"``: no answer for ``hang_seconds``; a client that gives up first leaves nothing done.
* ``"lost_response"``: the operation is carried out, then the connection drops mid-answer.
* ``"internal_error"``: HTTP 200 with ``errors[].extensions.code == "INTERNAL_SERVER_ERROR"``, nothing done.
* ``"user_error"``: the next mutation answers ``userErrors`` and changes nothing.

Scopes are enforced: without ``read_orders``, ``read_customers``, ``write_orders`` or ``write_discounts``
the field answers ``ACCESS_DENIED``.
"""

from __future__ import annotations

import asyncio
import itertools
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Final

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

__all__ = ["FAULTS", "QUERY_COST", "FakeCustomer", "FakeDiscount", "FakeOrder", "FakeShopify"]

FAULTS: Final = frozenset(
    {"500", "503", "throttled", "429", "malformed", "hang", "lost_response", "internal_error", "user_error"}
)
QUERY_COST: Final = 10
VISIBLE_DAYS: Final = 60
DEFAULT_SCOPES: Final = frozenset(
    {"read_orders", "write_orders", "read_customers", "read_fulfillments", "read_discounts", "write_discounts"}
)
INVALID_TOKEN: Final = "[API] Invalid API key or access token (unrecognized login or wrong password)"
_TAKEN: Final = "Code must be unique. Please try a different code."

_ROOTS: Final = (
    "currentAppInstallation",
    "shop",
    "orders",
    "customer",
    "refundCreate",
    "discountCodeBasicCreate",
    "discountCodeFreeShippingCreate",
    "codeDiscountNodeByCode",
)
# Roots only recognised with their arguments: ``customer(id:)`` at the root, while an order's own
# ``customer { ... }`` takes none and must not be mistaken for it.
_ROOTS_WITH_ARGUMENTS: Final = frozenset({"customer"})
_MUTATIONS: Final = frozenset({"refundCreate", "discountCodeBasicCreate", "discountCodeFreeShippingCreate"})
_DISCOUNT_INPUT: Final = {
    "discountCodeBasicCreate": ("basicCodeDiscount", "DiscountCodeBasic"),
    "discountCodeFreeShippingCreate": ("freeShippingCodeDiscount", "DiscountCodeFreeShipping"),
}
_REQUIRED_SCOPES: Final = {
    "orders": "read_orders",
    "customer": "read_customers",
    "refundCreate": "write_orders",
    "discountCodeBasicCreate": "write_discounts",
    "discountCodeFreeShippingCreate": "write_discounts",
    "codeDiscountNodeByCode": "read_discounts",
}
_OPERATION = re.compile(r"^\s*(query|mutation)\s+(\w+)")
_CUSTOMER_GID = re.compile(r"gid://shopify/Customer/\d+")
_IDEMPOTENT = re.compile(r"@idempotent\(\s*key:\s*(\$\w+|\"[^\"]*\")\s*\)")


class _GraphQLError(Exception):
    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code

    def as_json(self) -> dict[str, Any]:
        error: dict[str, Any] = {"message": str(self)}
        if self.code:
            error["extensions"] = {"code": self.code}
        return error


@dataclass(kw_only=True)
class FakeCustomer:
    id: str
    tags: list[str] = field(default_factory=list)
    number_of_orders: int = 1
    metafields: dict[tuple[str, str], str] = field(default_factory=dict)
    email: str | None = None


@dataclass(kw_only=True)
class FakeTransaction:
    id: str
    kind: str  # SALE, CAPTURE, AUTHORIZATION, REFUND
    status: str  # SUCCESS, FAILURE, PENDING
    gateway: str
    amount: Decimal
    parent_id: str | None = None


@dataclass(kw_only=True)
class FakeRefund:
    id: str
    note: str | None
    amount: Decimal
    currency: str


@dataclass(kw_only=True)
class FakeOrder:
    id: str
    name: str
    created_at: datetime
    total: Decimal
    currency: str
    customer: FakeCustomer | None
    tracking: list[tuple[str | None, str | None]]  # (company, number): one fulfillment each
    metafields: dict[tuple[str, str], str]
    transactions: list[FakeTransaction]
    refunds: list[FakeRefund] = field(default_factory=list)

    def left_on(self, transaction: FakeTransaction) -> Decimal:
        refunded = sum(
            (t.amount for t in self.transactions if t.kind == "REFUND" and t.parent_id == transaction.id),
            Decimal(0),
        )
        return transaction.amount - refunded


@dataclass(kw_only=True)
class FakeDiscount:
    id: str
    code: str
    title: str
    typename: str  # DiscountCodeBasic or DiscountCodeFreeShipping
    input: dict[str, Any]  # as the mutation received it; empty for a discount seeded with add_discount
    by_api: bool
    # Its minimumRequirement: a subtotal in the shop's currency, or a number of items; at most one.
    minimum_subtotal: Decimal | None = None
    minimum_quantity: int | None = None


class FakeShopify:
    def __init__(
        self,
        *,
        access_token: str = "shpat_fake_0123456789abcdef",
        today: date = date(2026, 3, 10),
        scopes: frozenset[str] = DEFAULT_SCOPES,
        timezone: str = "UTC",
        currency: str = "USD",
        hang_seconds: float = 5.0,
        retry_after: float = 0.05,
    ) -> None:
        self.access_token = access_token
        self.today = today
        self.scopes = set(scopes)
        self.timezone = timezone
        self.currency = currency  # the shop's: the money a discount's minimum is read back in
        self.hang_seconds = hang_seconds
        self.retry_after = retry_after
        self.throttle_available = 5.0
        self.restore_rate = 100.0
        self.maximum_available = 2000.0
        self.operations: Counter[str] = Counter()  # requests received, by operation name, faults included
        self.orders: list[FakeOrder] = []
        self.customers: dict[str, FakeCustomer] = {}
        self.discounts: dict[str, FakeDiscount] = {}  # by upper-cased code
        self._refund_answers: dict[str, tuple[bytes, dict[str, Any]]] = {}  # idempotency key -> (input, payload)
        self._faults: list[tuple[str, str | None]] = []  # (kind, operation name or None for any)
        self._ids = itertools.count(1001)
        self.app = Starlette(routes=[Route("/admin/api/{version}/graphql.json", self._graphql, methods=["POST"])])

    # -- seeding ------------------------------------------------------------------------------------

    def add_customer(
        self,
        *,
        tags: tuple[str, ...] = (),
        number_of_orders: int = 1,
        x_user_id: str | None = None,
        email: str | None = None,
    ) -> FakeCustomer:
        customer = FakeCustomer(
            id=f"gid://shopify/Customer/{next(self._ids)}",
            tags=list(tags),
            number_of_orders=number_of_orders,
            email=email,
        )
        if x_user_id is not None:
            customer.metafields[("dmcare", "x_user_id")] = x_user_id
        self.customers[customer.id] = customer
        return customer

    def add_order(
        self,
        *,
        name: str,
        customer: FakeCustomer | None = None,
        total: str = "80.00",
        currency: str = "USD",
        placed_on: date | None = None,
        created_at: datetime | None = None,
        tracking: tuple[tuple[str | None, str | None], ...] = (),
        promised_on: str | None = None,
        payments: tuple[tuple[str, str], ...] | None = None,
    ) -> FakeOrder:
        """An order placed on ``placed_on`` (noon UTC), at ``created_at``, or today.

        ``payments`` are its successful SALEs as (gateway, amount); by default one for the whole total.
        """
        created = created_at or datetime.combine(placed_on or self.today, time(12), tzinfo=UTC)
        order_id = f"gid://shopify/Order/{next(self._ids)}"
        sales = [
            FakeTransaction(
                id=f"gid://shopify/OrderTransaction/{next(self._ids)}",
                kind="SALE",
                status="SUCCESS",
                gateway=gateway,
                amount=Decimal(amount),
            )
            for gateway, amount in payments or (("shopify_payments", total),)
        ]
        order = FakeOrder(
            id=order_id,
            name=name,
            created_at=created,
            total=Decimal(total),
            currency=currency,
            customer=customer,
            tracking=list(tracking),
            metafields={},
            transactions=sales,
        )
        if promised_on is not None:
            order.metafields[("dmcare", "promised_on")] = promised_on
        self.orders.append(order)
        return order

    def add_discount(
        self,
        *,
        code: str,
        title: str,
        minimum_subtotal: str | None = None,
        minimum_quantity: int | None = None,
    ) -> FakeDiscount:
        """A discount someone else made, or changed, in the admin (the merchant, another app)."""
        discount = FakeDiscount(
            id=f"gid://shopify/DiscountCodeNode/{next(self._ids)}",
            code=code,
            title=title,
            typename="DiscountCodeBasic",
            input={},
            by_api=False,
            minimum_subtotal=None if minimum_subtotal is None else Decimal(minimum_subtotal),
            minimum_quantity=minimum_quantity,
        )
        self.discounts[code.upper()] = discount
        return discount

    def fail_next(self, kind: str, times: int = 1, *, operation: str | None = None) -> None:
        if kind not in FAULTS:
            raise ValueError(f"unknown fault {kind!r}; one of {sorted(FAULTS)}")
        if times < 1:
            raise ValueError("times must be at least 1")
        self._faults.extend([(kind, operation)] * times)

    def _take_fault(self, operation: str, document: str) -> str | None:
        is_mutation = _OPERATION.match(document) is not None and document.lstrip().startswith("mutation")
        for index, (kind, target) in enumerate(self._faults):
            if target in (None, operation) and (kind != "user_error" or is_mutation):
                del self._faults[index]
                return kind
        return None

    # -- what the outside world has seen -----------------------------------------------------------

    @property
    def discounts_created(self) -> int:
        return sum(1 for discount in self.discounts.values() if discount.by_api)

    @property
    def refunds_made(self) -> int:
        return sum(len(order.refunds) for order in self.orders)

    def discount(self, code: str) -> FakeDiscount | None:
        return self.discounts.get(code.upper())

    # -- HTTP ---------------------------------------------------------------------------------------

    async def _graphql(self, request: Request) -> Response:
        if request.headers.get("x-shopify-access-token") != self.access_token:
            return JSONResponse({"errors": INVALID_TOKEN}, status_code=401)
        if not re.fullmatch(r"\d{4}-\d{2}|unstable", request.path_params["version"]):
            return JSONResponse({"errors": "Not Found"}, status_code=404)
        try:
            payload = orjson.loads(await request.body())
            document = str(payload["query"])
            variables = payload.get("variables") or {}
        except (orjson.JSONDecodeError, KeyError, TypeError):
            return JSONResponse({"errors": {"query": "Required parameter missing or invalid"}}, status_code=400)
        operation = _operation_name(payload, document)
        self.operations[operation] += 1
        fault = self._take_fault(operation, document)
        early = await self._early_fault(fault, request)
        if early is not None:
            return early
        body = self._execute(document, variables, user_error=fault == "user_error")
        if fault == "lost_response":
            return _CutOffResponse(orjson.dumps(body))
        return JSONResponse(body)

    async def _early_fault(self, fault: str | None, request: Request) -> Response | None:
        """The faults that answer before anything is done."""
        if fault in ("500", "503"):
            return JSONResponse({"errors": "Internal Server Error"}, status_code=int(fault))
        if fault == "throttled":
            return JSONResponse(self._throttled())
        if fault == "429":
            return JSONResponse(self._throttled(), status_code=429, headers={"Retry-After": str(self.retry_after)})
        if fault == "malformed":
            return JSONResponse({"unexpected": "not a GraphQL response"})
        if fault == "internal_error":
            error = _GraphQLError(
                "Internal error. Looks like something went wrong on our end.", "INTERNAL_SERVER_ERROR"
            )
            return JSONResponse({"errors": [error.as_json()]})
        if fault == "hang" and await _client_left_within(request, self.hang_seconds):
            return Response(status_code=499)  # nobody is listening any more
        return None

    def _throttled(self) -> dict[str, Any]:
        error = {
            "message": "Throttled",
            "extensions": {"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"},
        }
        bucket = {
            "maximumAvailable": self.maximum_available,
            "currentlyAvailable": self.throttle_available,
            "restoreRate": self.restore_rate,
        }
        cost = {"requestedQueryCost": QUERY_COST, "actualQueryCost": None, "throttleStatus": bucket}
        return {"errors": [error], "extensions": {"cost": cost}}

    def _execute(self, document: str, variables: dict[str, Any], *, user_error: bool) -> dict[str, Any]:
        bucket = {"maximumAvailable": self.maximum_available, "currentlyAvailable": 1990.0, "restoreRate": 100.0}
        cost = {"requestedQueryCost": QUERY_COST, "actualQueryCost": QUERY_COST, "throttleStatus": bucket}
        roots = [root for root in _ROOTS if re.search(_root_pattern(root), document)]
        try:
            if not roots:
                raise _GraphQLError("Field doesn't exist on type 'QueryRoot'", "undefinedField")
            data = {root: self._resolve(root, document, variables, user_error=user_error) for root in roots}
        except _GraphQLError as error:
            return {"errors": [error.as_json()], "extensions": {"cost": cost}}
        return {"data": data, "extensions": {"cost": cost}}

    def _resolve(self, root: str, document: str, variables: dict[str, Any], *, user_error: bool) -> Any:
        scope = _REQUIRED_SCOPES.get(root)
        if scope is not None and scope not in self.scopes:
            raise _GraphQLError(
                f"Access denied for {root} field. Required access: `{scope}` access scope.", "ACCESS_DENIED"
            )
        if root in _MUTATIONS and user_error:
            return {"userErrors": [{"field": None, "code": "INVALID", "message": "Refused by the fake, as asked"}]}
        if root == "currentAppInstallation":
            return {"accessScopes": [{"handle": scope} for scope in sorted(self.scopes)]}
        if root == "shop":
            return {"ianaTimezone": self.timezone}
        if root == "orders":
            return self._orders(document, variables)
        if root == "customer":
            return self._customer(document, variables)
        if root == "refundCreate":
            return self._refund_create(document, variables)
        if root == "codeDiscountNodeByCode":
            return self._discount_by_code(document, variables)
        return self._discount_create(root, document, variables)

    # -- orders -------------------------------------------------------------------------------------

    def _orders(self, document: str, variables: dict[str, Any]) -> dict[str, Any]:
        args = _arguments(document, "orders", variables)
        names = _searched_names(str(args.get("query") or ""))
        oldest = self.today - timedelta(days=VISIBLE_DAYS)
        found = [
            order
            for order in self.orders
            if order.name.upper() in names and ("read_all_orders" in self.scopes or order.created_at.date() >= oldest)
        ]
        found.sort(key=lambda order: order.created_at, reverse=True)
        first = int(args.get("first") or 0)
        if not 0 < first <= 250:
            raise _GraphQLError("you must provide one of first or last", "argumentError")
        return {"nodes": [self._order_node(order, document, variables) for order in found[:first]]}

    def _order_node(self, order: FakeOrder, document: str, variables: dict[str, Any]) -> dict[str, Any]:
        node: dict[str, Any] = {
            "id": order.id,
            "name": order.name,
            "createdAt": order.created_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "totalPriceSet": _money(order.total, order.currency),
        }
        customer_block = _block(document, "customer")
        outside_customer = document.replace(customer_block, "") if customer_block else document
        if customer_block:
            node["customer"] = _customer_node(order.customer, customer_block, variables)
        if re.search(r"\bmetafield\s*\(", outside_customer):
            node["metafield"] = _metafield(order.metafields, outside_customer, variables)
        if re.search(r"\bfulfillments\s*\(", document):
            node["fulfillments"] = [
                {"trackingInfo": [{"company": company, "number": number, "url": None}]}
                for company, number in order.tracking
            ]
        if re.search(r"\btransactions\s*\(", document):
            node["transactions"] = [_transaction_node(t, order.currency) for t in order.transactions]
        if re.search(r"\brefunds\s*\(", document):
            node["refunds"] = [_refund_node(refund) for refund in order.refunds]
        return node

    # -- customers ----------------------------------------------------------------------------------

    def _customer(self, document: str, variables: dict[str, Any]) -> dict[str, Any] | None:
        customer_id = _arguments(document, "customer", variables).get("id")
        if not isinstance(customer_id, str) or not _CUSTOMER_GID.fullmatch(customer_id):
            # UNCONFIRMED: Shopify's exact message and code for an id that is no customer GID.
            raise _GraphQLError(f"Invalid global id '{customer_id}'", "argumentLiteralsIncompatible")
        customer = self.customers.get(customer_id)
        if customer is None:
            return None  # Shopify's answer for a customer it does not hold: null, not an error
        selection = _block(document, "customer") or ""
        node: dict[str, Any] = {}
        if re.search(r"\bid\b", selection):
            node["id"] = customer.id
        if re.search(r"\bemail\b", selection):
            node["email"] = customer.email
        return node

    # -- refunds ------------------------------------------------------------------------------------

    def _refund_create(self, document: str, variables: dict[str, Any]) -> dict[str, Any]:
        key_match = _IDEMPOTENT.search(document)
        if key_match is None:
            raise _GraphQLError("The @idempotent directive is required for this mutation", "BAD_REQUEST")
        key = str(_value(key_match.group(1), variables))
        refund_input = _arguments(document, "refundCreate", variables).get("input")
        if not isinstance(refund_input, dict):
            raise _GraphQLError("Variable $input of type RefundInput! was provided invalid value")
        fingerprint = orjson.dumps(refund_input, option=orjson.OPT_SORT_KEYS)
        if key in self._refund_answers:
            earlier_input, answer = self._refund_answers[key]
            if earlier_input != fingerprint:
                raise _GraphQLError(
                    "The same idempotency key cannot be used with different operation parameters.",
                    "IDEMPOTENCY_KEY_PARAMETER_MISMATCH",
                )
            return answer
        answer = self._refund(refund_input)
        if not answer["userErrors"]:
            self._refund_answers[key] = (fingerprint, answer)
        return answer

    def _refund(self, refund_input: dict[str, Any]) -> dict[str, Any]:
        order = next((o for o in self.orders if o.id == refund_input.get("orderId")), None)
        if order is None:
            return _user_errors(["orderId"], "Order does not exist")
        planned: list[tuple[FakeTransaction, Decimal]] = []
        for item in refund_input.get("transactions") or []:
            parent = next((t for t in order.transactions if t.id == item.get("parentId")), None)
            amount = Decimal(str(item.get("amount")))
            if parent is None or parent.kind not in ("SALE", "CAPTURE") or parent.status != "SUCCESS":
                return _user_errors(["transactions"], "Parent transaction is not refundable")
            if item.get("kind") != "REFUND" or item.get("gateway") != parent.gateway or amount <= 0:
                return _user_errors(["transactions"], "Transaction is invalid")
            if amount > order.left_on(parent):
                return _user_errors(["transactions"], f"Refund amount {amount} exceeds the refundable amount")
            planned.append((parent, amount))
        if not planned:
            return _user_errors(["transactions"], "Nothing to refund")
        for parent, amount in planned:
            order.transactions.append(
                FakeTransaction(
                    id=f"gid://shopify/OrderTransaction/{next(self._ids)}",
                    kind="REFUND",
                    status="SUCCESS",
                    gateway=parent.gateway,
                    amount=amount,
                    parent_id=parent.id,
                )
            )
        refund = FakeRefund(
            id=f"gid://shopify/Refund/{next(self._ids)}",
            note=refund_input.get("note"),
            amount=sum((a for _, a in planned), Decimal(0)),
            currency=order.currency,
        )
        order.refunds.append(refund)
        return {"refund": _refund_node(refund), "userErrors": []}

    # -- discounts ----------------------------------------------------------------------------------

    def _discount_by_code(self, document: str, variables: dict[str, Any]) -> dict[str, Any] | None:
        code = _arguments(document, "codeDiscountNodeByCode", variables).get("code")
        if not isinstance(code, str):
            raise _GraphQLError("Variable $code of type String! was provided invalid value")
        discount = self.discount(code)
        if discount is None:
            return None
        node: dict[str, Any] = {"__typename": discount.typename, "title": discount.title}
        requirement_block = _block(document, "minimumRequirement")
        if requirement_block is not None:
            node["minimumRequirement"] = self._minimum_requirement_node(discount, requirement_block)
        return {"id": discount.id, "codeDiscount": node}

    def _minimum_requirement_node(self, discount: FakeDiscount, block: str) -> dict[str, Any] | None:
        """The union DiscountMinimumRequirement as Shopify answers it: null without a minimum, and of the
        member it is only the fields its inline fragment asked for."""
        if discount.minimum_subtotal is not None:
            kind = "DiscountMinimumSubtotal"
            fields: dict[str, Any] = {
                "greaterThanOrEqualToSubtotal": {
                    "amount": str(discount.minimum_subtotal), "currencyCode": self.currency
                }
            }  # fmt: skip
        elif discount.minimum_quantity is not None:
            kind = "DiscountMinimumQuantity"
            fields = {"greaterThanOrEqualToQuantity": str(discount.minimum_quantity)}  # UnsignedInt64: a string
        else:
            return None
        node: dict[str, Any] = {"__typename": kind} if re.search(r"\b__typename\b", block) else {}
        if re.search(rf"\.\.\.\s*on\s+{kind}\b", block):
            node.update(fields)
        return node

    def _discount_create(self, root: str, document: str, variables: dict[str, Any]) -> dict[str, Any]:
        argument, typename = _DISCOUNT_INPUT[root]
        given = _arguments(document, root, variables).get(argument)
        if not isinstance(given, dict):
            raise _GraphQLError(f"Variable for {argument} was provided invalid value")
        subtotal, quantity = _minimum_requirement(f"{typename}Input", given.get("minimumRequirement"))
        problem = self._discount_problem(argument, given, basic=typename == "DiscountCodeBasic")
        if problem is not None:
            return {"codeDiscountNode": None, "userErrors": [problem]}
        discount = FakeDiscount(
            id=f"gid://shopify/DiscountCodeNode/{next(self._ids)}",
            code=given["code"],
            title=given["title"],
            typename=typename,
            input=given,
            by_api=True,
            minimum_subtotal=subtotal,
            minimum_quantity=quantity,
        )
        self.discounts[discount.code.upper()] = discount
        return {"codeDiscountNode": {"id": discount.id}, "userErrors": []}

    def _discount_problem(self, argument: str, given: dict[str, Any], *, basic: bool) -> dict[str, Any] | None:
        """The first DiscountUserError Shopify would answer, or None."""
        required = ["code", "title", "startsAt", "context"] + (["customerGets"] if basic else [])
        for name in required:
            if not given.get(name):
                return {"field": [argument, name], "code": "BLANK", "message": f"{name} can't be blank"}
        if str(given["code"]).upper() in self.discounts:
            return {"field": [argument, "code"], "code": "TAKEN", "message": _TAKEN}
        customers = ((given["context"].get("customers") or {}).get("add")) or []
        if any(customer not in self.customers for customer in customers):
            # UNCONFIRMED: how Shopify answers an unknown customer in a discount's context.
            return {
                "field": [argument, "context", "customers", "add"],
                "code": "INVALID",
                "message": "Customer does not exist",
            }
        ends_at = given.get("endsAt")
        if ends_at and datetime.fromisoformat(ends_at) <= datetime.fromisoformat(given["startsAt"]):
            return {
                "field": [argument, "endsAt"],
                "code": "END_DATE_BEFORE_START_DATE",
                "message": "Ends at needs to be after starts_at",
            }
        percentage = ((given.get("customerGets") or {}).get("value") or {}).get("percentage")
        if percentage is not None and not 0 <= float(percentage) <= 1:
            return {
                "field": [argument, "customerGets", "value", "percentage"],
                "code": "VALUE_OUTSIDE_RANGE",
                "message": "Value must be between 0.0 and 1.0",
            }
        return _minimum_requirement_problem(argument, given.get("minimumRequirement") or {})


def _minimum_requirement(input_type: str, requirement: Any) -> tuple[Decimal | None, int | None]:
    """The (subtotal, quantity) of a DiscountMinimumRequirementInput; either may be None.

    A value its scalar cannot hold (a Decimal that is no number, an UnsignedInt64 that is no whole
    number of 0 or more) never reaches the resolver: GraphQL refuses the variable with a top-level error
    and no data, as for any input it cannot coerce. UNCONFIRMED: Shopify's exact wording and extensions.
    """
    if requirement is None:
        return None, None
    if not isinstance(requirement, dict) or set(requirement) - {"subtotal", "quantity"}:
        raise _invalid_variable(input_type, "minimumRequirement", requirement, "DiscountMinimumRequirementInput")
    subtotal = _coerced(input_type, requirement, "subtotal", "greaterThanOrEqualToSubtotal", "Decimal")
    quantity = _coerced(input_type, requirement, "quantity", "greaterThanOrEqualToQuantity", "UnsignedInt64")
    return subtotal, None if quantity is None else int(quantity)


def _coerced(input_type: str, requirement: dict[str, Any], member: str, name: str, scalar: str) -> Decimal | None:
    """``requirement[member][name]`` as GraphQL coerces it to ``scalar``; None when absent."""
    given = (requirement.get(member) or {}).get(name)
    if given is None:
        return None
    value = None
    if isinstance(given, (str, int, float)) and not isinstance(given, bool):
        try:
            value = Decimal(str(given))
        except InvalidOperation:
            pass
    whole = value is not None and value.is_finite() and value >= 0 and value == value.to_integral_value()
    if value is None or not value.is_finite() or (scalar == "UnsignedInt64" and not whole):
        raise _invalid_variable(input_type, f"minimumRequirement.{member}.{name}", given, scalar)
    return value


def _invalid_variable(input_type: str, path: str, given: Any, scalar: str) -> _GraphQLError:
    return _GraphQLError(
        f"Variable $discount of type {input_type}! was provided invalid value for {path} "
        f"(Could not coerce value {given!r} to {scalar})",
        "INVALID_VARIABLE",
    )


def _minimum_requirement_problem(argument: str, requirement: dict[str, Any]) -> dict[str, Any] | None:
    """The DiscountUserError for a minimum GraphQL accepted but Shopify does not (DiscountErrorCode values).

    UNCONFIRMED: the messages, and GREATER_THAN_OR_EQUAL_TO rather than VALUE_OUTSIDE_RANGE for a negative.
    """
    subtotal = (requirement.get("subtotal") or {}).get("greaterThanOrEqualToSubtotal")
    quantity = (requirement.get("quantity") or {}).get("greaterThanOrEqualToQuantity")
    if subtotal is not None and quantity is not None:
        return {
            "field": [argument, "minimumRequirement"],
            "code": "MINIMUM_SUBTOTAL_AND_QUANTITY_RANGE_BOTH_PRESENT",
            "message": "Minimum subtotal and quantity range can't both be present",
        }
    if subtotal is not None and Decimal(str(subtotal)) < 0:
        return {
            "field": [argument, "minimumRequirement", "subtotal", "greaterThanOrEqualToSubtotal"],
            "code": "GREATER_THAN_OR_EQUAL_TO",
            "message": "Minimum subtotal must be greater than or equal to 0",
        }
    return None


class _CutOffResponse(Response):
    """Status line and headers go out, then half the body, then the connection drops: an answer lost."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(self.body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": self.body[: len(self.body) // 2], "more_body": True})


async def _client_left_within(request: Request, seconds: float) -> bool:
    """Wait up to ``seconds``; True as soon as the client hangs up."""
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        if await request.is_disconnected():
            return True
        await asyncio.sleep(0.01)
    return False


def _operation_name(payload: dict[str, Any], document: str) -> str:
    name = payload.get("operationName")
    if isinstance(name, str) and name:
        return name
    match = _OPERATION.match(document)
    return match.group(2) if match else "(anonymous)"


def _arguments(document: str, field_name: str, variables: dict[str, Any]) -> dict[str, Any]:
    """The arguments of the first ``field_name(...)`` in the document, variables resolved."""
    match = re.search(rf"\b{field_name}\s*\(([^)]*)\)", document)
    if match is None:
        return {}
    arguments = {}
    for part in match.group(1).split(","):
        name, _, raw = part.partition(":")
        if name.strip():
            arguments[name.strip()] = _value(raw.strip(), variables)
    return arguments


def _value(raw: str, variables: dict[str, Any]) -> Any:
    if raw.startswith("$"):
        name = raw[1:]
        if variables.get(name) is None:
            raise _GraphQLError(f"Variable ${name} was provided invalid value")
        return variables[name]
    if raw.startswith('"'):
        return raw.strip('"')
    if raw.isdigit():
        return int(raw)
    return {"true": True, "false": False}.get(raw, raw)  # enums stay strings


def _root_pattern(root: str) -> str:
    if root in _ROOTS_WITH_ARGUMENTS:
        return rf"\b{root}\s*\("
    return rf"\b{root}\s*[({{]"


def _block(document: str, field_name: str) -> str | None:
    """The ``{ ... }`` selection of the first ``field_name {`` (or ``field_name(...) {``) in the document,
    braces included."""
    match = re.search(rf"\b{field_name}\s*(?:\([^)]*\)\s*)?\{{", document)
    if match is None:
        return None
    depth = 0
    for index in range(match.end() - 1, len(document)):
        depth += {"{": 1, "}": -1}.get(document[index], 0)
        if depth == 0:
            return document[match.end() - 1 : index + 1]
    return None


def _searched_names(search: str) -> set[str]:
    """The order names in a search like ``name:#1001 OR name:1001`` (the only syntax the fake knows)."""
    names = set()
    for term in search.split(" OR "):
        key, _, value = term.strip().partition(":")
        if key != "name" or not value:
            raise _GraphQLError(f"the fake only searches orders by name, not {term!r}")
        names.add(value.strip("'\"").upper())
    return names


def _customer_node(customer: FakeCustomer | None, block: str, variables: dict[str, Any]) -> dict[str, Any] | None:
    if customer is None:
        return None
    node: dict[str, Any] = {
        "id": customer.id,
        "tags": list(customer.tags),
        "numberOfOrders": str(customer.number_of_orders),
    }
    if re.search(r"\bmetafield\s*\(", block):
        node["metafield"] = _metafield(customer.metafields, block, variables)
    return node


def _metafield(metafields: dict[tuple[str, str], str], document: str, variables: dict[str, Any]) -> Any:
    args = _arguments(document, "metafield", variables)
    value = metafields.get((str(args.get("namespace")), str(args.get("key"))))
    return None if value is None else {"value": value}


def _transaction_node(transaction: FakeTransaction, currency: str) -> dict[str, Any]:
    return {
        "id": transaction.id,
        "kind": transaction.kind,
        "status": transaction.status,
        "gateway": transaction.gateway,
        "parentTransaction": {"id": transaction.parent_id} if transaction.parent_id else None,
        "amountSet": _money(transaction.amount, currency),
    }


def _refund_node(refund: FakeRefund) -> dict[str, Any]:
    return {"id": refund.id, "note": refund.note, "totalRefundedSet": _money(refund.amount, refund.currency)}


def _money(amount: Decimal, currency: str) -> dict[str, Any]:
    return {"shopMoney": {"amount": str(amount), "currencyCode": currency}}


def _user_errors(field_path: list[str], message: str) -> dict[str, Any]:
    return {"refund": None, "userErrors": [{"field": field_path, "message": message}]}
