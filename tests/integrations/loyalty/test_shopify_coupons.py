"""ShopifyCoupons against FakeShopify over real HTTP: one discount per key, whatever goes wrong on the way.

The contract suite (test_protocols.py) covers what every CouponIssuer promises; these tests cover how
Shopify's discount codes are made safe to retry: codes derived from the key, the journal, the lookup
of a code Shopify says is taken.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from integrations.errors import OutcomeUnknownError, PermanentIntegrationError
from integrations.journal import IssuanceJournal, MemoryIssuanceJournal
from integrations.loyalty.shopify_coupons import CREATE_BASIC, ShopifyCoupons, coupon_code, title_marker
from integrations.models import Coupon
from tests.fakes.shopify import FakeCustomer, FakeShopify
from tests.integrations.conftest import TODAY
from tests.integrations.orders.harness_shopify import NOW, contract_shop, shopify_admin

EXPIRES = TODAY + timedelta(days=30)
CODE = re.compile(r"SORRY-[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}")


async def issue(
    fake: FakeShopify,
    customer: FakeCustomer | str,
    *,
    key: str = "conv-1:coupon",
    journal: IssuanceJournal | None = None,
    timeout: float = 2.0,
    percent_off: int | None = 15,
    free_shipping: bool = False,
    amount_off: Decimal | None = None,
    expires_on: date = EXPIRES,
    minimum_spend: Decimal | None = None,
) -> Coupon:
    async with shopify_admin(fake, timeout=timeout) as admin:
        coupons = ShopifyCoupons(
            admin=admin, journal=journal or MemoryIssuanceJournal(), today=lambda: TODAY, clock=lambda: NOW
        )
        return await coupons.create_coupon(
            customer_id=customer if isinstance(customer, str) else customer.id,
            percent_off=percent_off,
            free_shipping=free_shipping,
            amount_off=amount_off,
            expires_on=expires_on,
            minimum_spend=minimum_spend,
            idempotency_key=key,
        )


# -- the discount Shopify is asked for ----------------------------------------------------------------


def test_the_code_is_derived_from_the_key() -> None:
    code = coupon_code("SORRY", "conv-1:coupon")

    assert CODE.fullmatch(code)
    assert coupon_code("SORRY", "conv-1:coupon") == code
    assert coupon_code("SORRY", "conv-2:coupon") != code
    assert coupon_code("OOPS", "conv-1:coupon").startswith("OOPS-")


def test_a_long_key_is_marked_by_its_digest() -> None:
    marker = title_marker("k" * 500)

    assert len(marker) < 100
    assert marker == title_marker("k" * 500) != title_marker("k" * 499)


async def test_a_percentage_coupon_is_a_single_use_code_for_one_customer_until_the_end_of_its_day() -> None:
    fake, ada = contract_shop()

    coupon = await issue(fake, ada, key="conv-1:coupon", percent_off=15)

    assert coupon == Coupon(
        code=coupon_code("SORRY", "conv-1:coupon"), percent_off=15, free_shipping=False, amount_off=None,
        expires_on=EXPIRES, minimum_spend=None,
    )  # fmt: skip
    discount = fake.discount(coupon.code)
    assert discount is not None and discount.typename == "DiscountCodeBasic"
    sent = discount.input
    assert title_marker("conv-1:coupon") in sent["title"]
    assert (sent["usageLimit"], sent["appliesOncePerCustomer"]) == (1, True)
    assert sent["context"] == {"customers": {"add": [ada.id]}}
    assert sent["customerGets"] == {"value": {"percentage": 0.15}, "items": {"all": True}}
    assert (sent["startsAt"], sent["endsAt"]) == ("2026-03-10T09:30:00Z", "2026-04-09T23:59:59Z")
    assert "minimumRequirement" not in sent  # Shopify's default: no minimum


async def test_an_amount_coupon_takes_that_amount_off_the_order() -> None:
    fake, ada = contract_shop()

    coupon = await issue(fake, ada, percent_off=None, amount_off=Decimal("12.50"))

    discount = fake.discount(coupon.code)
    assert discount is not None
    assert discount.input["customerGets"]["value"] == {
        "discountAmount": {"amount": "12.50", "appliesOnEachItem": False}
    }
    assert coupon.amount_off == Decimal("12.50")


async def test_a_free_shipping_coupon_is_a_free_shipping_discount() -> None:
    fake, ada = contract_shop()

    coupon = await issue(fake, ada, percent_off=None, free_shipping=True)

    discount = fake.discount(coupon.code)
    assert discount is not None and discount.typename == "DiscountCodeFreeShipping"
    assert discount.input["destination"] == {"all": True}
    assert (discount.input["usageLimit"], discount.input["context"]) == (1, {"customers": {"add": [ada.id]}})
    assert coupon.free_shipping and coupon.percent_off is None


@pytest.mark.parametrize(
    ("options", "typename"),
    [
        ({"percent_off": 15}, "DiscountCodeBasic"),
        ({"percent_off": None, "amount_off": Decimal("40.00")}, "DiscountCodeBasic"),
        ({"percent_off": None, "free_shipping": True}, "DiscountCodeFreeShipping"),
    ],
    ids=["percent", "amount", "free_shipping"],
)
async def test_a_minimum_spend_is_the_discounts_minimum_subtotal(options: dict[str, Any], typename: str) -> None:
    fake, ada = contract_shop()

    coupon = await issue(fake, ada, minimum_spend=Decimal("25.00"), **options)

    discount = fake.discount(coupon.code)
    assert discount is not None and discount.typename == typename
    assert discount.input["minimumRequirement"] == {"subtotal": {"greaterThanOrEqualToSubtotal": "25.00"}}
    assert discount.minimum_subtotal == coupon.minimum_spend == Decimal("25.00")


async def test_a_zero_minimum_spend_sends_no_minimum() -> None:
    fake, ada = contract_shop()

    coupon = await issue(fake, ada, minimum_spend=Decimal("0"))

    discount = fake.discount(coupon.code)
    assert discount is not None and "minimumRequirement" not in discount.input
    assert coupon.minimum_spend is None


async def test_a_bare_numeric_customer_id_is_taken_as_shopifys() -> None:
    fake, ada = contract_shop()

    coupon = await issue(fake, ada.id.rsplit("/", 1)[1])

    discount = fake.discount(coupon.code)
    assert discount is not None and discount.input["context"] == {"customers": {"add": [ada.id]}}


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"percent_off": None}, "needs a percentage"),
        ({"percent_off": 10, "free_shipping": True}, "one thing"),
        ({"percent_off": None, "amount_off": Decimal("0")}, "must be positive"),
        ({"percent_off": None, "amount_off": Decimal("NaN")}, "must be positive"),
        ({"expires_on": TODAY - timedelta(days=1)}, "already be expired"),
        ({"minimum_spend": Decimal("-5")}, "minimum_spend must be 0 or more"),
        ({"minimum_spend": Decimal("sNaN")}, "minimum_spend must be 0 or more"),
    ],
)
async def test_a_coupon_the_shop_would_refuse_is_refused_before_asking(
    options: dict[str, object], problem: str
) -> None:
    fake, ada = contract_shop()

    with pytest.raises(PermanentIntegrationError, match=problem):
        await issue(fake, ada, **options)

    assert sum(fake.operations.values()) == 0


async def test_a_customer_id_that_is_not_shopifys_is_refused_before_asking() -> None:
    fake, _ = contract_shop()

    with pytest.raises(PermanentIntegrationError, match="not a Shopify customer id"):
        await issue(fake, "cust-1")

    assert sum(fake.operations.values()) == 0


async def test_a_coupon_for_an_unknown_customer_is_refused_by_shopify() -> None:
    fake, _ = contract_shop()

    with pytest.raises(PermanentIntegrationError, match="Customer does not exist"):
        await issue(fake, "gid://shopify/Customer/404404")

    assert fake.discounts_created == 0


# -- one discount per key ------------------------------------------------------------------------------


async def test_the_same_key_twice_asks_shopify_once() -> None:
    fake, ada = contract_shop()
    journal = MemoryIssuanceJournal()

    first = await issue(fake, ada, journal=journal)
    again = await issue(fake, ada, journal=journal)  # another adapter: the journal, not memory, answers

    assert again == first
    assert fake.discounts_created == 1
    assert fake.operations["CreateBasicCode"] == 1


async def test_a_lost_answer_then_a_retry_with_the_same_key_makes_one_discount() -> None:
    fake, ada = contract_shop()
    journal = MemoryIssuanceJournal()
    fake.fail_next("lost_response", operation="CreateBasicCode")

    with pytest.raises(OutcomeUnknownError):
        await issue(fake, ada, journal=journal)
    assert fake.discounts_created == 1  # made, but we could not know
    coupon = await issue(fake, ada, journal=journal)

    assert coupon.code == coupon_code("SORRY", "conv-1:coupon")
    assert fake.discounts_created == 1
    assert fake.operations["CreateBasicCode"] == 1  # the journal's "started" sent us to look it up
    assert fake.operations["FindDiscountCode"] == 1


@pytest.mark.parametrize(("free_shipping", "operation"), [(False, "CreateBasicCode"),
                                                          (True, "CreateFreeShippingCode")])  # fmt: skip
async def test_a_discount_found_after_a_lost_answer_is_read_with_its_minimum(
    free_shipping: bool, operation: str
) -> None:
    fake, ada = contract_shop()
    journal = MemoryIssuanceJournal()
    options: dict[str, Any] = {"percent_off": None, "free_shipping": True} if free_shipping else {}
    fake.fail_next("lost_response", operation=operation)
    with pytest.raises(OutcomeUnknownError):
        await issue(fake, ada, journal=journal, minimum_spend=Decimal("25.00"), **options)

    coupon = await issue(fake, ada, journal=journal, minimum_spend=Decimal("25.00"), **options)

    assert coupon.minimum_spend == Decimal("25.00")
    assert (fake.operations[operation], fake.operations["FindDiscountCode"]) == (1, 1)
    recorded = await issue(fake, ada, journal=journal, minimum_spend=Decimal("25.00"), **options)
    assert recorded == coupon  # the journal's record carries the minimum too


async def test_the_minimum_read_back_is_shopifys_not_the_one_asked_for() -> None:
    fake, ada = contract_shop()
    journal = MemoryIssuanceJournal()
    fake.fail_next("lost_response", operation="CreateBasicCode")
    with pytest.raises(OutcomeUnknownError):
        await issue(fake, ada, journal=journal, minimum_spend=Decimal("25.00"))
    made = fake.discount(coupon_code("SORRY", "conv-1:coupon"))
    assert made is not None
    made.minimum_subtotal = Decimal("30.00")  # the merchant raised it in the admin before our retry

    coupon = await issue(fake, ada, journal=journal, minimum_spend=Decimal("25.00"))

    assert coupon.minimum_spend == Decimal("30.00")  # the code the customer gets needs 30.00


async def test_a_discount_of_ours_found_with_no_minimum_has_none() -> None:
    fake, ada = contract_shop()
    journal = MemoryIssuanceJournal()
    fake.fail_next("lost_response", operation="CreateBasicCode")
    with pytest.raises(OutcomeUnknownError):
        await issue(fake, ada, journal=journal)

    coupon = await issue(fake, ada, journal=journal)

    assert coupon.minimum_spend is None
    assert fake.operations["FindDiscountCode"] == 1


async def test_a_discount_of_ours_needing_a_minimum_quantity_is_permanent() -> None:
    fake, ada = contract_shop()
    journal = MemoryIssuanceJournal()
    journal.begin(key="shopify:coupon:conv-1:coupon", provider="shopify", kind="coupon")
    fake.add_discount(
        code=coupon_code("SORRY", "conv-1:coupon"), title=f"Customer care apology {title_marker('conv-1:coupon')}",
        minimum_quantity=3,
    )  # fmt: skip

    with pytest.raises(PermanentIntegrationError, match="minimum quantity"):
        await issue(fake, ada, journal=journal)

    assert fake.operations["CreateBasicCode"] == 0


async def test_a_taken_code_that_is_ours_is_returned_instead_of_made_again() -> None:
    fake, ada = contract_shop()
    first = await issue(fake, ada, journal=MemoryIssuanceJournal(), minimum_spend=Decimal("25.00"))

    # The record is lost: Shopify says TAKEN, and the discount found is read with its minimum.
    again = await issue(fake, ada, journal=MemoryIssuanceJournal(), minimum_spend=Decimal("25.00"))

    assert again == first
    assert again.minimum_spend == Decimal("25.00")
    assert fake.discounts_created == 1
    assert fake.operations["CreateBasicCode"] == 2
    assert fake.operations["FindDiscountCode"] == 1


async def test_a_code_taken_by_a_discount_not_ours_is_permanent() -> None:
    fake, ada = contract_shop()
    fake.add_discount(code=coupon_code("SORRY", "conv-1:coupon"), title="Spring sale")

    with pytest.raises(PermanentIntegrationError, match="taken by a discount not ours"):
        await issue(fake, ada)

    assert fake.discounts_created == 0


async def test_a_started_issuance_whose_code_someone_else_holds_is_permanent() -> None:
    fake, ada = contract_shop()
    journal = MemoryIssuanceJournal()
    journal.begin(key="shopify:coupon:conv-1:coupon", provider="shopify", kind="coupon")
    fake.add_discount(code=coupon_code("SORRY", "conv-1:coupon"), title="Spring sale")

    with pytest.raises(PermanentIntegrationError, match="taken by a discount not ours"):
        await issue(fake, ada, journal=journal)

    assert fake.operations["CreateBasicCode"] == 0


async def test_a_timed_out_create_is_unknown_and_the_retry_makes_it_once() -> None:
    fake, ada = contract_shop()
    journal = MemoryIssuanceJournal()
    fake.fail_next("hang", operation="CreateBasicCode")

    with pytest.raises(OutcomeUnknownError):
        await issue(fake, ada, journal=journal, timeout=0.3)
    coupon = await issue(fake, ada, journal=journal)

    assert fake.discounts_created == 1
    assert fake.discount(coupon.code) is not None


async def test_a_5xx_on_a_create_is_not_repeated_blindly() -> None:
    fake, ada = contract_shop()
    fake.fail_next("503", operation="CreateBasicCode")

    with pytest.raises(OutcomeUnknownError):
        await issue(fake, ada)

    assert fake.operations["CreateBasicCode"] == 1


async def test_shopifys_internal_error_on_a_create_is_unknown() -> None:
    fake, ada = contract_shop()
    fake.fail_next("internal_error", operation="CreateBasicCode")

    with pytest.raises(OutcomeUnknownError, match="failed internally"):
        await issue(fake, ada)


async def test_a_throttled_create_was_not_run_and_is_sent_again() -> None:
    fake, ada = contract_shop()
    fake.fail_next("throttled", operation="CreateBasicCode")

    coupon = await issue(fake, ada)

    assert fake.operations["CreateBasicCode"] == 2
    assert fake.discounts_created == 1
    assert fake.discount(coupon.code) is not None


async def test_a_refusal_other_than_taken_is_permanent() -> None:
    fake, ada = contract_shop()
    fake.fail_next("user_error")

    with pytest.raises(PermanentIntegrationError, match="Refused by the fake"):
        await issue(fake, ada)

    assert fake.discounts_created == 0


# -- the fake refuses a minimum as Shopify does ------------------------------------------------------------


def _basic_input(ada_id: str, minimum: object) -> dict[str, object]:
    return {
        "title": "Customer care apology", "code": "SORRY-MINI-MUMS", "startsAt": "2026-03-10T09:30:00Z",
        "context": {"customers": {"add": [ada_id]}},
        "customerGets": {"value": {"percentage": 0.1}, "items": {"all": True}}, "minimumRequirement": minimum,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("minimum", "field", "code"),
    [
        ({"subtotal": {"greaterThanOrEqualToSubtotal": "-5.00"}},
         ["basicCodeDiscount", "minimumRequirement", "subtotal", "greaterThanOrEqualToSubtotal"],
         "GREATER_THAN_OR_EQUAL_TO"),
        ({"subtotal": {"greaterThanOrEqualToSubtotal": "25"}, "quantity": {"greaterThanOrEqualToQuantity": "2"}},
         ["basicCodeDiscount", "minimumRequirement"], "MINIMUM_SUBTOTAL_AND_QUANTITY_RANGE_BOTH_PRESENT"),
    ],
)  # fmt: skip
async def test_the_fake_answers_an_unacceptable_minimum_with_a_user_error(
    minimum: dict[str, object], field: list[str], code: str
) -> None:
    fake, ada = contract_shop()

    async with shopify_admin(fake) as admin:
        data = await admin.query(CREATE_BASIC, {"discount": _basic_input(ada.id, minimum)}, repeatable=False)

    errors = data["discountCodeBasicCreate"]["userErrors"]
    assert [(error["field"], error["code"]) for error in errors] == [(field, code)]
    assert fake.discounts_created == 0


@pytest.mark.parametrize("subtotal", ["twenty-five", "NaN", True])
async def test_the_fake_refuses_a_subtotal_that_is_no_decimal_before_running_anything(subtotal: object) -> None:
    fake, ada = contract_shop()
    minimum = {"subtotal": {"greaterThanOrEqualToSubtotal": subtotal}}

    async with shopify_admin(fake) as admin:
        with pytest.raises(PermanentIntegrationError, match="Could not coerce"):
            await admin.query(CREATE_BASIC, {"discount": _basic_input(ada.id, minimum)}, repeatable=False)

    assert fake.discounts_created == 0
