"""Shopify orders as an ``OrderSystem`` and a ``RefundService`` (reference/carriers-orders-loyalty.md §5).

What Shopify does not say, and how this adapter fills it in:

* **The buyer's X account.** A customer metafield (``dmcare.x_user_id`` by default) or a customer tag
  ``x:<digits>``. With neither, ``owner_x_user_id`` is None and the bot reveals nothing about the order.
* **The tier** (``TierRule``): a VIP tag on the customer makes VIP; else a "regular" tag, or at least
  ``regular_after_orders`` orders (``Customer.numberOfOrders``), makes REGULAR; else NEW. Tags compare
  without regard to case. An order without a customer record is NEW.
* **The promised date.** Shopify has none: an order metafield (``dmcare.promised_on``, a date) when the
  shop keeps one, else the order date plus ``promise_days``.
* **Dates** are the shop's calendar dates: ``createdAt`` (UTC) in the shop's ``ianaTimezone``.
* **Old orders.** Without the ``read_all_orders`` scope Shopify shows only the last 60 days and silently
  leaves older orders out, so "not found" then means ``NoSuchOrder(visible_since=today - 60 days)``.

Customers' emails (``customer_email``) are for loyalty programs that know a Shopify customer only by
email (Smile). An email found is remembered in a small in-memory map and never logged; a customer
without one is asked about again next time, since the customer may add one.

Refunds use Shopify's ``@idempotent`` directive, so a lost answer can be asked again with the same key.
The refund's note carries the key too: a retry after the refund went through finds it on the order and
returns it without asking (Shopify would refuse the same key once the split of the amount changed).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from integrations.errors import PermanentIntegrationError
from integrations.models import NoSuchOrder, Order, Refund, ShipmentRef, Tier
from integrations.orders.shopify_admin import SERVICE, ShopifyAdmin, malformed

__all__ = ["VISIBLE_DAYS", "ShopifyOrders", "TierRule", "carrier_name", "order_reference"]

log = logging.getLogger(__name__)

VISIBLE_DAYS: Final = 60  # how far back an app without read_all_orders sees orders
_READ_ALL_ORDERS: Final = "read_all_orders"

_REFERENCE = re.compile(r"[A-Z0-9][A-Z0-9-]{0,30}")  # also keeps search syntax out of the query
_CUSTOMER_GID = re.compile(r"gid://shopify/Customer/[0-9]{1,20}")
_REMEMBERED_EMAILS: Final = 1024
_X_TAG = re.compile(r"x:(\d{1,20})", re.IGNORECASE)

# Shopify's tracking company (free text, as the merchant typed it) -> our carrier names.
_CARRIERS: Final = {
    "ups": "ups",
    "usps": "usps",
    "fedex": "fedex",
    "dhl": "dhl",
    "dhl express": "dhl",
    "dhl ecommerce": "dhl",
    "china post": "china-post",
    "china ems": "china-ems",
    "ems": "china-ems",
}

FIND_ORDER: Final = """
query FindOrder($q: String!, $customerNamespace: String!, $customerKey: String!,
                $orderNamespace: String!, $orderKey: String!) {
  shop { ianaTimezone }
  orders(first: 5, query: $q, sortKey: CREATED_AT, reverse: true) {
    nodes {
      id name createdAt
      totalPriceSet { shopMoney { amount currencyCode } }
      metafield(namespace: $orderNamespace, key: $orderKey) { value }
      customer {
        id tags numberOfOrders
        metafield(namespace: $customerNamespace, key: $customerKey) { value }
      }
      fulfillments(first: 10) { trackingInfo(first: 10) { company number } }
    }
  }
}
"""

REFUND_TARGET: Final = """
query RefundTarget($q: String!) {
  orders(first: 5, query: $q) {
    nodes {
      id name
      totalPriceSet { shopMoney { amount currencyCode } }
      transactions(first: 50) {
        id kind status gateway
        parentTransaction { id }
        amountSet { shopMoney { amount currencyCode } }
      }
      refunds(first: 50) { id note totalRefundedSet { shopMoney { amount currencyCode } } }
    }
  }
}
"""

# Customer.email is deprecated since API 2025-04 in favour of defaultEmailAddress { emailAddress }; it is
# still served, and the fake speaks this shape. Move both together when Shopify removes it.
CUSTOMER_EMAIL: Final = """
query CustomerEmail($id: ID!) {
  customer(id: $id) { email }
}
"""

CREATE_REFUND: Final = """
mutation CreateRefund($input: RefundInput!, $key: String!) {
  refundCreate(input: $input) @idempotent(key: $key) {
    refund { id note totalRefundedSet { shopMoney { amount currencyCode } } }
    userErrors { field message }
  }
}
"""


@dataclass(frozen=True, kw_only=True)
class TierRule:
    """How a Shopify customer maps onto our tiers; tags compare without regard to case."""

    vip_tags: frozenset[str] = frozenset({"vip"})
    regular_tags: frozenset[str] = frozenset({"regular"})
    regular_after_orders: int = 2

    def tier(self, *, tags: Iterable[str], number_of_orders: int) -> Tier:
        lowered = {tag.strip().lower() for tag in tags}
        if lowered & {tag.lower() for tag in self.vip_tags}:
            return Tier.VIP
        if lowered & {tag.lower() for tag in self.regular_tags} or number_of_orders >= self.regular_after_orders:
            return Tier.REGULAR
        return Tier.NEW


@dataclass(frozen=True, slots=True)
class _Parent:
    """A successful SALE or CAPTURE: the money a refund goes back from."""

    id: str
    gateway: str
    left: Decimal  # not yet refunded


@dataclass(frozen=True, kw_only=True)
class _RefundTarget:
    order_id: str
    name: str
    currency: str
    parents: list[_Parent]
    refunds: dict[str, Refund]  # the order's refunds by note

    @classmethod
    def parse(cls, node: dict[str, Any]) -> _RefundTarget:
        return cls(
            order_id=str(node["id"]),
            name=str(node["name"]),
            currency=str(node["totalPriceSet"]["shopMoney"]["currencyCode"]),
            parents=_parents(node.get("transactions") or []),
            refunds={
                str(refund["note"]): _refund(refund) for refund in node.get("refunds") or [] if refund.get("note")
            },
        )


class ShopifyOrders:
    """OrderSystem and RefundService over one shop's Admin API (scopes: read_orders, read_customers,
    read_fulfillments for lookups; write_orders for refunds; read_all_orders to see past 60 days)."""

    def __init__(
        self,
        *,
        admin: ShopifyAdmin,
        vip_tags: frozenset[str] = frozenset({"vip"}),
        regular_tags: frozenset[str] = frozenset({"regular"}),
        regular_after_orders: int = 2,
        x_user_id_metafield: str = "dmcare.x_user_id",
        promised_on_metafield: str = "dmcare.promised_on",
        promise_days: int = 14,
        order_prefixes: Sequence[str] = (),
        today: Callable[[], date] = date.today,
    ) -> None:
        """
        Args:
            x_user_id_metafield: "namespace.key" of the customer metafield holding the X user id.
            promised_on_metafield: "namespace.key" of an order metafield holding the promised date.
            promise_days: days from the order to its promised delivery, when the order holds no date.
            order_prefixes: the shop's order-name prefixes besides "#" ("SHOP-"): a bare number is
                looked up under each, since customers often type only the digits.
            today: the shop's current date, for the 60-day window.
        """
        if promise_days < 0:
            raise ValueError("promise_days cannot be negative")
        self._admin = admin
        self._tiers = TierRule(vip_tags=vip_tags, regular_tags=regular_tags, regular_after_orders=regular_after_orders)
        self._customer_field = _metafield(x_user_id_metafield)
        self._promise_field = _metafield(promised_on_metafield)
        self._promise = timedelta(days=promise_days)
        self._prefixes = tuple(prefix.strip().upper() for prefix in order_prefixes if prefix.strip())
        self._today = today
        self._emails: dict[str, str] = {}  # customer GID -> email, the oldest first

    # -- OrderSystem --------------------------------------------------------------------------------------

    async def find_order(self, number: str) -> Order | NoSuchOrder:
        reference = order_reference(number)
        if reference is None:  # nothing a shop could have named an order: no need to ask
            return NoSuchOrder(number=number)
        names = self._names(reference)
        data = await self._admin.query(
            FIND_ORDER,
            {
                "q": _name_query(names),
                "customerNamespace": self._customer_field[0],
                "customerKey": self._customer_field[1],
                "orderNamespace": self._promise_field[0],
                "orderKey": self._promise_field[1],
            },
            repeatable=True,
        )
        try:
            node = _matching(data["orders"]["nodes"], names)
            order = None if node is None else self._order(node, _shop_zone(data))
        except (KeyError, TypeError, ValueError, InvalidOperation) as error:
            raise malformed(f"an order came in an unexpected shape ({type(error).__name__})") from None
        return order if order is not None else await self._no_such_order(number)

    async def _no_such_order(self, number: str) -> NoSuchOrder:
        if _READ_ALL_ORDERS in await self._admin.granted_scopes():
            return NoSuchOrder(number=number)
        return NoSuchOrder(number=number, visible_since=self._today() - timedelta(days=VISIBLE_DAYS))

    def _order(self, node: dict[str, Any], zone: tzinfo) -> Order:
        money = node["totalPriceSet"]["shopMoney"]
        placed_on = datetime.fromisoformat(node["createdAt"]).astimezone(zone).date()
        customer = node.get("customer")
        return Order(
            number=str(node["name"]).removeprefix("#"),
            value=Decimal(str(money["amount"])),
            currency=str(money["currencyCode"]),
            customer_id=str(customer["id"]) if customer else "",
            owner_x_user_id=_x_user_id(customer) if customer else None,
            customer_tier=self._tier(customer) if customer else Tier.NEW,
            placed_on=placed_on,
            promised_on=_promised_on(node, default=placed_on + self._promise),
            shipments=_shipments(node.get("fulfillments") or []),
        )

    def _tier(self, customer: dict[str, Any]) -> Tier:
        count = customer.get("numberOfOrders")  # UnsignedInt64: a string of digits
        return self._tiers.tier(
            tags=[str(tag) for tag in customer.get("tags") or []],
            number_of_orders=int(count) if count is not None else 0,
        )

    def _names(self, reference: str) -> tuple[str, ...]:
        """The order names the customer may mean, most likely first."""
        names = [f"#{reference}", reference]
        if reference.isdigit():
            names += [f"{prefix}{reference}" for prefix in self._prefixes]
        return tuple(dict.fromkeys(names))

    # -- customers ----------------------------------------------------------------------------------------

    async def customer_email(self, customer_id: str) -> str | None:
        """The email of the Shopify customer ``customer_id`` (a GID, as ``Order.customer_id`` holds it).

        None when the customer has no email or does not exist; "" (an order without a customer) and ids
        that are no customer GID are None without asking, since Shopify would only refuse the query.
        """
        remembered = self._emails.get(customer_id)
        if remembered is not None:
            return remembered
        if not _CUSTOMER_GID.fullmatch(customer_id):
            return None
        data = await self._admin.query(CUSTOMER_EMAIL, {"id": customer_id}, repeatable=True)
        try:
            customer = data["customer"]
            email = None if customer is None else customer["email"]
        except (KeyError, TypeError) as error:
            raise malformed(f"a customer came in an unexpected shape ({type(error).__name__})") from None
        if not isinstance(email, str | None):
            raise malformed("a customer's email came in an unexpected shape")
        email = (email or "").strip() or None
        if email is not None:  # an absence is not remembered: the customer may add an email later
            if len(self._emails) >= _REMEMBERED_EMAILS:
                del self._emails[next(iter(self._emails))]  # the oldest entry
            self._emails[customer_id] = email
        return email

    # -- RefundService ------------------------------------------------------------------------------------

    async def refund(self, *, order_number: str, amount: Decimal, idempotency_key: str) -> Refund:
        if not idempotency_key.strip():
            raise PermanentIntegrationError("an idempotency key is required", service=SERVICE)
        if not amount.is_finite() or amount <= 0:
            raise PermanentIntegrationError(f"refund amount must be positive, got {amount}", service=SERVICE)
        target = await self._refund_target(order_number)
        note = _refund_note(idempotency_key)
        if note in target.refunds:
            return target.refunds[note]  # made by an earlier call with this key, whose answer was lost
        refundable = sum((parent.left for parent in target.parents), Decimal(0))
        if amount > refundable:
            raise PermanentIntegrationError(
                f"refund of {amount} {target.currency} exceeds the {refundable} {target.currency} "
                f"left to refund on order {target.name}",
                service=SERVICE,
            )
        transactions = [
            {"orderId": target.order_id, "parentId": parent.id, "amount": str(part), "gateway": parent.gateway,
             "kind": "REFUND"}
            for parent, part in _split(amount, target.parents)
        ]  # fmt: skip
        # notify: False, because the bot tells the customer itself, in the conversation.
        refund_input = {"orderId": target.order_id, "note": note, "notify": False, "transactions": transactions}
        data = await self._admin.query(CREATE_REFUND, {"input": refund_input, "key": idempotency_key}, repeatable=True)
        return _created_refund(data)

    async def _refund_target(self, order_number: str) -> _RefundTarget:
        reference = order_reference(order_number)
        if reference is not None:
            names = self._names(reference)
            data = await self._admin.query(REFUND_TARGET, {"q": _name_query(names)}, repeatable=True)
            try:
                node = _matching(data["orders"]["nodes"], names)
                if node is not None:
                    return _RefundTarget.parse(node)
            except (KeyError, TypeError, ValueError, InvalidOperation) as error:
                raise malformed(f"an order's payments came in an unexpected shape ({type(error).__name__})") from None
        raise PermanentIntegrationError(f"no order {order_number!r} to refund", service=SERVICE)


def order_reference(typed: str) -> str | None:
    """What a customer typed ("#1001", " 1001 ", "# 1001", "shop-1001") as an order name without its "#".

    None when it cannot be an order name: search syntax (spaces, colons, quotes) never reaches Shopify.
    """
    cleaned = unicodedata.normalize("NFKC", typed).strip().upper().removeprefix("#").strip()
    return cleaned if _REFERENCE.fullmatch(cleaned) else None


def carrier_name(company: str | None) -> str:
    """Our carrier name for Shopify's free-text tracking company ("UPS", "DHL Express")."""
    key = " ".join((company or "").lower().split())
    return _CARRIERS.get(key, key.replace(" ", "-") or "unknown")


def _metafield(dotted: str) -> tuple[str, str]:
    namespace, _, key = dotted.partition(".")
    if not namespace or not key:
        raise ValueError(f"a metafield is 'namespace.key', not {dotted!r}")
    return namespace, key


def _name_query(names: Iterable[str]) -> str:
    return " OR ".join(f"name:{name}" for name in names)


def _matching(nodes: list[dict[str, Any]], names: Sequence[str]) -> dict[str, Any] | None:
    """The order whose name is exactly one of ``names`` (Shopify's search also returns near misses)."""
    by_name = {str(node["name"]).upper(): node for node in nodes}
    return next((by_name[name] for name in names if name in by_name), None)


def _shop_zone(data: dict[str, Any]) -> tzinfo:
    name = (data.get("shop") or {}).get("ianaTimezone")
    try:
        return ZoneInfo(name) if isinstance(name, str) and name else UTC
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("%s: unknown shop time zone %r; dates are taken in UTC", SERVICE, name)
        return UTC


def _x_user_id(customer: dict[str, Any]) -> str | None:
    field = customer.get("metafield") or {}
    value = str(field.get("value") or "").strip()
    if value.isdigit():
        return value
    for tag in customer.get("tags") or []:
        match = _X_TAG.fullmatch(str(tag).strip())
        if match:
            return match.group(1)
    return None


def _promised_on(node: dict[str, Any], *, default: date) -> date:
    value = (node.get("metafield") or {}).get("value")
    if not value:
        return default
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        # The merchant's data, not Shopify's shape: the order stays usable with the default promise.
        log.warning("%s: order %s has a promised date we cannot read; using the default", SERVICE, node.get("name"))
        return default


def _shipments(fulfillments: list[dict[str, Any]]) -> tuple[ShipmentRef, ...]:
    found: dict[str, ShipmentRef] = {}
    for fulfillment in fulfillments:
        for info in fulfillment.get("trackingInfo") or []:
            number = "".join(str(info.get("number") or "").split())
            if number and number not in found:
                found[number] = ShipmentRef(carrier=carrier_name(info.get("company")), tracking_number=number)
    return tuple(found.values())


def _refund_note(idempotency_key: str) -> str:
    return f"dmcare refund [{idempotency_key}]"


def _parents(transactions: list[dict[str, Any]]) -> list[_Parent]:
    """Successful sales and captures, each with what is left after the refunds made from it so far."""
    captured: dict[str, tuple[str, Decimal]] = {}
    refunded: dict[str | None, Decimal] = {}
    for transaction in transactions:
        if transaction.get("status") != "SUCCESS":
            continue
        amount = Decimal(str(transaction["amountSet"]["shopMoney"]["amount"]))
        if transaction.get("kind") in ("SALE", "CAPTURE"):
            captured[str(transaction["id"])] = (str(transaction["gateway"]), amount)
        elif transaction.get("kind") == "REFUND":
            parent = (transaction.get("parentTransaction") or {}).get("id")
            refunded[parent] = refunded.get(parent, Decimal(0)) + amount
    unassigned = sum((amount for parent, amount in refunded.items() if parent not in captured), Decimal(0))
    parents = []
    for parent_id, (gateway, amount) in captured.items():
        left = amount - refunded.get(parent_id, Decimal(0))
        taken = min(max(left, Decimal(0)), unassigned)  # a refund with no known parent came from somewhere
        unassigned -= taken
        parents.append(_Parent(id=parent_id, gateway=gateway, left=max(left - taken, Decimal(0))))
    return parents


def _split(amount: Decimal, parents: list[_Parent]) -> list[tuple[_Parent, Decimal]]:
    """Spread ``amount`` over the parents in order, none beyond what is left on it."""
    parts = []
    for parent in parents:
        if amount <= 0:
            break
        part = min(amount, parent.left)
        if part > 0:
            parts.append((parent, part))
            amount -= part
    return parts


def _created_refund(data: dict[str, Any]) -> Refund:
    try:
        payload = data["refundCreate"]
        errors = payload.get("userErrors") or []
        if errors:
            messages = "; ".join(str(error.get("message")) for error in errors)
            raise PermanentIntegrationError(f"Shopify refused the refund: {messages}", service=SERVICE)
        return _refund(payload["refund"])
    except (KeyError, TypeError, AttributeError, InvalidOperation) as error:
        # The refund may exist: asking again with the same key returns it, by its note or @idempotent.
        raise malformed(f"a refund came back in an unexpected shape ({type(error).__name__})") from None


def _refund(refund: dict[str, Any]) -> Refund:
    money = refund["totalRefundedSet"]["shopMoney"]
    return Refund(
        refund_id=str(refund["id"]), amount=Decimal(str(money["amount"])), currency=str(money["currencyCode"])
    )
