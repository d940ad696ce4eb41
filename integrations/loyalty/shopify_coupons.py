"""Single-use Shopify discount codes as a ``CouponIssuer`` (reference/carriers-orders-loyalty.md §4.1, §4.5).

Shopify has no idempotency key for discount codes, so this adapter makes its own:

1. The code is derived from the idempotency key (``SORRY-7QX2-KD9M``): the same request always asks for
   the same code, and Shopify refuses a second discount with it (``userErrors`` code ``TAKEN``).
2. The discount's title carries the key (``[dmcare:<key>]``): a taken code is ours only if its title says so.
3. The journal records the key before the call and the coupon after it. A record left "started" (an
   answer lost to a timeout, a crash) or a ``TAKEN`` answer makes us look the code up
   (``codeDiscountNodeByCode``) and return our discount instead of creating another.

A percentage or an amount off is a ``discountCodeBasicCreate``; free shipping is
``discountCodeFreeShippingCreate``, the mutation Shopify keeps for it. One code gives one of the three:
Shopify cannot put an amount off and free shipping on one code. A minimum spend is the discount's
``minimumRequirement`` on either mutation; a code looked up is read back with its minimum, because the
code Shopify holds, not the one asked for this time, is what the customer gets.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from pydantic import TypeAdapter, ValidationError

from integrations.errors import PermanentIntegrationError
from integrations.journal import IssuanceJournal
from integrations.models import Coupon, coupon_request_problem, no_minimum_as_none
from integrations.orders.shopify_admin import SERVICE, ShopifyAdmin, malformed

__all__ = ["ShopifyCoupons", "coupon_code", "title_marker"]

KIND: Final = "coupon"

# 32 symbols, so one hash byte picks one without bias; no 0/O or 1/I: customers type codes by hand.
_ALPHABET: Final = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_PREFIX = re.compile(r"[A-Z0-9]{1,12}")
_CUSTOMER_GID = re.compile(r"gid://shopify/Customer/\d+")
_LONGEST_KEY_IN_TITLE: Final = 120  # titles hold 255 characters; a longer key goes in as its digest

_COUPONS = TypeAdapter(Coupon)

CREATE_BASIC: Final = """
mutation CreateBasicCode($discount: DiscountCodeBasicInput!) {
  discountCodeBasicCreate(basicCodeDiscount: $discount) {
    codeDiscountNode { id }
    userErrors { field code message }
  }
}
"""

CREATE_FREE_SHIPPING: Final = """
mutation CreateFreeShippingCode($discount: DiscountCodeFreeShippingInput!) {
  discountCodeFreeShippingCreate(freeShippingCodeDiscount: $discount) {
    codeDiscountNode { id }
    userErrors { field code message }
  }
}
"""

# Both discount types' minimumRequirement is the union DiscountMinimumRequirement (null: no minimum) of
# DiscountMinimumSubtotal { greaterThanOrEqualToSubtotal: MoneyV2! } and DiscountMinimumQuantity
# { greaterThanOrEqualToQuantity: UnsignedInt64! } (shopify.dev admin-graphql, 2024-04 to 2026-07 alike).
FIND_CODE: Final = """
query FindDiscountCode($code: String!) {
  codeDiscountNodeByCode(code: $code) {
    id
    codeDiscount {
      __typename
      ... on DiscountCodeBasic {
        title
        minimumRequirement {
          __typename
          ... on DiscountMinimumSubtotal { greaterThanOrEqualToSubtotal { amount currencyCode } }
          ... on DiscountMinimumQuantity { greaterThanOrEqualToQuantity }
        }
      }
      ... on DiscountCodeFreeShipping {
        title
        minimumRequirement {
          __typename
          ... on DiscountMinimumSubtotal { greaterThanOrEqualToSubtotal { amount currencyCode } }
          ... on DiscountMinimumQuantity { greaterThanOrEqualToQuantity }
        }
      }
    }
  }
}
"""


def coupon_code(prefix: str, idempotency_key: str) -> str:
    """PREFIX-XXXX-XXXX, the same for the same key: a retry asks for the code the first try asked for."""
    digest = hashlib.sha256(f"shopify-coupon\x00{idempotency_key}".encode()).digest()
    symbols = "".join(_ALPHABET[byte % len(_ALPHABET)] for byte in digest[:8])
    return f"{prefix}-{symbols[:4]}-{symbols[4:]}"


def title_marker(idempotency_key: str) -> str:
    """What a discount's title carries to be recognised as made for this key."""
    if len(idempotency_key) > _LONGEST_KEY_IN_TITLE:
        idempotency_key = "sha256:" + hashlib.sha256(idempotency_key.encode()).hexdigest()
    return f"[dmcare:{idempotency_key}]"


@dataclass(frozen=True, kw_only=True)
class _OurDiscount:
    """What Shopify holds of a discount made for our key, as far as a coupon needs it."""

    minimum_spend: Decimal | None


class ShopifyCoupons:
    """CouponIssuer over one shop's Admin API (scopes: write_discounts, read_discounts for the lookup)."""

    def __init__(
        self,
        *,
        admin: ShopifyAdmin,
        journal: IssuanceJournal,
        code_prefix: str = "SORRY",
        today: Callable[[], date] = date.today,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """
        Args:
            journal: where each issuance is written down before Shopify is asked (SqlIssuanceJournal).
            code_prefix: the codes' first part, 1 to 12 letters or digits.
            today: the shop's current date: a coupon cannot expire before it.
            clock: the discount's start time.
        """
        prefix = code_prefix.strip().upper()
        if not _PREFIX.fullmatch(prefix):
            raise ValueError(f"a code prefix is 1 to 12 letters or digits, not {code_prefix!r}")
        self._admin = admin
        self._journal = journal
        self._prefix = prefix
        self._today = today
        self._clock = clock

    async def create_coupon(
        self,
        *,
        customer_id: str,
        percent_off: int | None,
        free_shipping: bool,
        amount_off: Decimal | None,
        expires_on: date,
        minimum_spend: Decimal | None,
        idempotency_key: str,
    ) -> Coupon:
        if not idempotency_key.strip():
            raise PermanentIntegrationError("an idempotency key is required", service=SERVICE)
        problem = _coupon_problem(
            percent_off, free_shipping, amount_off, expires_on, minimum_spend=minimum_spend, today=self._today()
        )
        if problem is not None:
            raise PermanentIntegrationError(problem, service=SERVICE)
        customer_gid = _customer_gid(customer_id)
        coupon = Coupon(
            code=coupon_code(self._prefix, idempotency_key),
            percent_off=percent_off,
            free_shipping=free_shipping,
            amount_off=amount_off,
            expires_on=expires_on,
            minimum_spend=no_minimum_as_none(minimum_spend),
        )
        # The journal is shared by every adapter: the prefix keeps this key apart from a Smile award's.
        journal_key = f"{SERVICE}:{KIND}:{idempotency_key}"
        earlier = self._journal.begin(key=journal_key, provider=SERVICE, kind=KIND)
        if earlier is not None and earlier.status == "done":
            return _recorded(earlier.result)
        marker = title_marker(idempotency_key)
        existing = None if earlier is None else await self._find_ours(coupon.code, marker)
        if existing is None:
            existing = await self._create(coupon, customer_gid=customer_gid, marker=marker)
        if existing is not None:
            # The discount an earlier call made is the one the customer's code redeems: its minimum, as
            # Shopify holds it, is the coupon's.
            coupon = replace(coupon, minimum_spend=existing.minimum_spend)
        self._journal.finish(key=journal_key, result={"coupon": _COUPONS.dump_python(coupon, mode="json")})
        return coupon

    async def _create(self, coupon: Coupon, *, customer_gid: str, marker: str) -> _OurDiscount | None:
        """Ask Shopify for the discount: None once made as asked, or the discount an earlier call made.

        A lost answer raises OutcomeUnknownError for the next call to settle.
        """
        document, field, discount = self._discount_input(coupon, customer_gid=customer_gid, marker=marker)
        data = await self._admin.query(document, {"discount": discount}, repeatable=False)
        try:
            errors = data[field]["userErrors"] or []
            codes = {error.get("code") for error in errors}
            messages = "; ".join(str(error.get("message")) for error in errors)
        except (KeyError, TypeError, AttributeError) as error:
            raise malformed(
                f"a discount came back in an unexpected shape ({type(error).__name__})", changed=True
            ) from None
        if "TAKEN" in codes:
            existing = await self._find_ours(coupon.code, marker)
            if existing is not None:
                return existing  # an earlier call made it; its record was lost or never written
            raise PermanentIntegrationError(f"the code {coupon.code} is taken by a discount not ours", service=SERVICE)
        if errors:
            raise PermanentIntegrationError(f"Shopify refused the discount: {messages}", service=SERVICE)
        return None

    async def _find_ours(self, code: str, marker: str) -> _OurDiscount | None:
        """The discount Shopify has under this code, made for our key; a code someone else holds is an error."""
        data = await self._admin.query(FIND_CODE, {"code": code}, repeatable=True)
        try:
            node = data["codeDiscountNodeByCode"]
            if node is None:
                return None
            discount: dict[str, Any] = node.get("codeDiscount") or {}
            title = str(discount.get("title") or "")
        except (KeyError, TypeError, AttributeError) as error:
            raise malformed(f"a discount lookup came in an unexpected shape ({type(error).__name__})") from None
        if marker not in title:
            raise PermanentIntegrationError(f"the code {code} is taken by a discount not ours", service=SERVICE)
        return _OurDiscount(minimum_spend=_minimum_spend(code, discount))

    def _discount_input(self, coupon: Coupon, *, customer_gid: str, marker: str) -> tuple[str, str, dict[str, Any]]:
        """The mutation, its payload's field and its input for this coupon."""
        common: dict[str, Any] = {
            "title": f"Customer care apology {marker}",
            "code": coupon.code,
            "startsAt": self._clock().astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
            "endsAt": f"{coupon.expires_on.isoformat()}T23:59:59Z",  # valid through its last day (UTC)
            "usageLimit": 1,
            "appliesOncePerCustomer": True,
            "context": {"customers": {"add": [customer_gid]}},
        }
        if coupon.minimum_spend is not None:
            # DiscountCodeBasicInput and DiscountCodeFreeShippingInput both take minimumRequirement:
            # DiscountMinimumRequirementInput { subtotal: DiscountMinimumSubtotalInput {
            # greaterThanOrEqualToSubtotal: Decimal } }, a Decimal being a string ("29.99"). Left out, the
            # discount has no minimum (shopify.dev admin-graphql input-objects, 2024-04 to 2026-07).
            common["minimumRequirement"] = {"subtotal": {"greaterThanOrEqualToSubtotal": str(coupon.minimum_spend)}}
        if coupon.free_shipping:
            common["destination"] = {"all": True}
            common["combinesWith"] = {"orderDiscounts": True, "productDiscounts": True, "shippingDiscounts": False}
            return CREATE_FREE_SHIPPING, "discountCodeFreeShippingCreate", common
        if coupon.percent_off is not None:
            value: dict[str, Any] = {"percentage": float(Decimal(coupon.percent_off) / 100)}
        else:
            value = {"discountAmount": {"amount": str(coupon.amount_off), "appliesOnEachItem": False}}
        common["customerGets"] = {"value": value, "items": {"all": True}}
        common["combinesWith"] = {"orderDiscounts": False, "productDiscounts": True, "shippingDiscounts": True}
        return CREATE_BASIC, "discountCodeBasicCreate", common


def _coupon_problem(
    percent_off: int | None,
    free_shipping: bool,
    amount_off: Decimal | None,
    expires_on: date,
    *,
    minimum_spend: Decimal | None,
    today: date,
) -> str | None:
    """Why Shopify would refuse this coupon: any shop's rules, and one thing per code."""
    if (percent_off is not None) + (amount_off is not None) + free_shipping > 1:
        return "a Shopify code gives one thing: a percentage, an amount or free shipping"
    return coupon_request_problem(
        percent_off, free_shipping, amount_off, expires_on, minimum_spend=minimum_spend, today=today
    )


def _minimum_spend(code: str, discount: dict[str, Any]) -> Decimal | None:
    """The subtotal a looked-up discount needs, from its ``minimumRequirement``; None when it needs none."""
    try:
        requirement = discount["minimumRequirement"]
        if requirement is None:
            return None
        kind = str(requirement["__typename"])
        amount = (
            Decimal(str(requirement["greaterThanOrEqualToSubtotal"]["amount"]))
            if kind == "DiscountMinimumSubtotal"
            else None
        )
    except (KeyError, TypeError, InvalidOperation) as error:
        raise malformed(f"a discount's minimum came in an unexpected shape ({type(error).__name__})") from None
    if kind == "DiscountMinimumQuantity":
        # dmcare never asks for one and a coupon cannot say it: someone changed the discount in the admin.
        raise PermanentIntegrationError(
            f"the code {code} needs a minimum quantity of items, which a dmcare coupon cannot carry", service=SERVICE
        )
    if amount is None:
        raise PermanentIntegrationError(f"the code {code} has a minimum dmcare cannot read: {kind}", service=SERVICE)
    if not amount.is_finite() or amount < 0:
        raise malformed(f"a discount's minimum subtotal came as {amount}")
    return no_minimum_as_none(amount)


def _customer_gid(customer_id: str) -> str:
    """Shopify's customer GID; a bare numeric id (REST's) is accepted and turned into one."""
    cleaned = customer_id.strip()
    gid = f"gid://shopify/Customer/{cleaned}" if cleaned.isdigit() else cleaned
    if not _CUSTOMER_GID.fullmatch(gid):
        raise PermanentIntegrationError(f"not a Shopify customer id: {customer_id!r}", service=SERVICE)
    return gid


def _recorded(result: dict[str, Any] | None) -> Coupon:
    try:
        # A record written before coupons had minimums holds none: those discounts were made without one.
        return _COUPONS.validate_python({"minimum_spend": None, **(result or {})["coupon"]})
    except (KeyError, TypeError, ValidationError) as error:
        raise PermanentIntegrationError(
            f"the journal's record of this coupon cannot be read ({type(error).__name__})", service=SERVICE
        ) from None
