"""SmilePoints against FakeSmile over real HTTP: each key pays once, whatever the network does in between."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.storage.database import create_database_engine, upgrade
from bot.storage.issuance_journal import SqlIssuanceJournal
from integrations.errors import OutcomeUnknownError, PermanentIntegrationError, RetryableIntegrationError
from integrations.http import ProviderHttp, RetryPolicy
from integrations.journal import IssuanceJournal, MemoryIssuanceJournal
from integrations.loyalty.smile import PAGE_SIZE, RECONCILE_PAGES, SmilePoints, note_marker
from integrations.models import PointsAward
from integrations.orders.shopify import ShopifyOrders
from tests.fakes.shopify import FakeShopify
from tests.fakes.smile import CREATE_TRANSACTION, CUSTOMERS, LIST_TRANSACTIONS, FakeSmile
from tests.integrations.orders.harness_shopify import TOKEN as SHOPIFY_TOKEN
from tests.integrations.orders.harness_shopify import shopify_admin
from tests.integrations.x.sandbox.server import serve

ADA = 304169228  # FakeSmile's seeded customer, ada@example.com, 120 points
CUSTOMER_IDS = {
    "cust-1": "ada@example.com",  # found by email
    "cust-9": str(ADA),  # a Smile id: no lookup
    "shared": "shared@example.com",  # two Smile customers have this email
    "ghost": "ghost@example.com",  # no Smile customer has it
    "gone": "999999999",  # a Smile id Smile does not know
}
KEY = "conv-42:comp-7:points"
REASON = "Sorry about order #1001"
FAST_RETRIES = RetryPolicy(attempts=3, base_delay=0.01, max_delay=2.0)


@dataclass
class Smile:
    fake: FakeSmile
    base_url: str
    opened: list[SmilePoints] = field(default_factory=list)

    def points(
        self,
        *,
        journal: IssuanceJournal | None = None,
        timeout: float = 2.0,
        api_key: str | None = None,
        email_of: Callable[[str], Awaitable[str | None]] | None = None,
    ) -> SmilePoints:
        adapter = SmilePoints.connect(
            api_key=api_key or self.fake.api_key,
            journal=journal or MemoryIssuanceJournal(),
            customer_ids=CUSTOMER_IDS,
            email_of=email_of,
            base_url=self.base_url,
            timeout=timeout,
            retry=FAST_RETRIES,
        )
        self.opened.append(adapter)
        return adapter

    def request_count(self) -> int:
        return sum(self.fake.requests.values())


@pytest.fixture
async def smile() -> AsyncIterator[Smile]:
    fake = FakeSmile()
    async with serve(fake.app) as base_url:
        harness = Smile(fake=fake, base_url=f"{base_url}/v1")
        try:
            yield harness
        finally:
            fake.release_hangs()
            for adapter in harness.opened:
                await adapter.aclose()


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_database_engine(f"sqlite:///{tmp_path / 'j.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()


async def award(points: SmilePoints, *, key: str = KEY, customer_id: str = "cust-1", amount: int = 200) -> PointsAward:
    return await points.award_points(customer_id=customer_id, points=amount, reason=REASON, idempotency_key=key)


# -- once per key ------------------------------------------------------------------------------------------


async def test_an_award_is_one_transaction_with_the_reason_for_the_customer_and_the_key_for_the_merchant(
    smile: Smile,
) -> None:
    given = await award(smile.points())

    [made] = smile.fake.transactions(customer_id=ADA)
    assert given == PointsAward(transaction_id=str(made["id"]), points=200)
    assert (made["points_change"], made["description"], made["internal_note"]) == (200, REASON, f"dmcare:{KEY}")
    assert smile.fake.customers[ADA].points_balance == 320


async def test_the_same_key_again_returns_the_first_award_without_asking_smile(smile: Smile) -> None:
    journal = MemoryIssuanceJournal()
    first = await award(smile.points(journal=journal))
    asked = smile.request_count()

    again = await award(smile.points(journal=journal))

    assert again == first
    assert smile.request_count() == asked
    assert smile.fake.created == 1


async def test_different_keys_are_different_transactions_and_the_email_is_looked_up_once(smile: Smile) -> None:
    points = smile.points()

    first = await award(points, key="a")
    second = await award(points, key="b")

    assert first.transaction_id != second.transaction_id
    assert smile.fake.created == 2
    assert smile.fake.requests[CUSTOMERS] == 1


# -- when the answer is lost, the retry finds the award instead of paying again ---------------------------


async def test_a_lost_answer_then_a_retry_is_one_transaction_found_by_reconciling(smile: Smile) -> None:
    points = smile.points(timeout=0.3)
    smile.fake.fail_next("lost_response", endpoint=CREATE_TRANSACTION)

    with pytest.raises(OutcomeUnknownError):
        await award(points)
    assert smile.fake.created == 1  # Smile did it; we could not know
    again = await award(points)

    [made] = smile.fake.transactions(customer_id=ADA)
    assert again == PointsAward(transaction_id=str(made["id"]), points=200)
    assert smile.fake.requests[CREATE_TRANSACTION] == 1
    assert smile.fake.requests[LIST_TRANSACTIONS] == 1


async def test_a_failed_post_then_a_retry_finds_nothing_and_awards_once(smile: Smile) -> None:
    points = smile.points()
    smile.fake.fail_next("500", endpoint=CREATE_TRANSACTION)

    with pytest.raises(OutcomeUnknownError):  # a 500 to a change is not proof that nothing changed
        await award(points)
    again = await award(points)

    assert smile.fake.created == 1
    assert [t["id"] for t in smile.fake.transactions(customer_id=ADA)] == [int(again.transaction_id)]
    assert smile.fake.requests[LIST_TRANSACTIONS] == 1  # it looked before it asked again
    assert smile.fake.requests[CREATE_TRANSACTION] == 2


async def test_an_unreadable_answer_to_the_post_is_outcome_unknown_and_the_retry_finds_the_award(
    smile: Smile,
) -> None:
    points = smile.points()
    smile.fake.fail_next("malformed", endpoint=CREATE_TRANSACTION)

    with pytest.raises(OutcomeUnknownError):
        await award(points)
    again = await award(points)

    assert smile.fake.created == 1
    assert again.transaction_id == str(smile.fake.transactions(customer_id=ADA)[0]["id"])


async def test_a_hanging_smile_is_outcome_unknown_after_the_timeout(smile: Smile) -> None:
    points = smile.points(timeout=0.3)
    smile.fake.fail_next("hang", endpoint=CREATE_TRANSACTION)

    started = time.monotonic()
    with pytest.raises(OutcomeUnknownError):
        await award(points)
    assert time.monotonic() - started < 2.0  # the fake holds it for 5 s
    await award(points)

    assert smile.fake.created == 1


async def test_reconciling_reads_past_the_first_page(smile: Smile) -> None:
    points = smile.points(timeout=0.3)
    smile.fake.fail_next("lost_response", endpoint=CREATE_TRANSACTION)
    with pytest.raises(OutcomeUnknownError):
        await award(points)
    for _ in range(PAGE_SIZE + 20):  # Ada shops a lot before the retry comes
        smile.fake.add_transaction(customer_id=ADA, points_change=5)

    again = await award(points)

    assert smile.fake.created == 1
    assert again.transaction_id == str(smile.fake.transactions(customer_id=ADA)[-1]["id"])
    assert smile.fake.requests[LIST_TRANSACTIONS] == 2


async def test_an_award_too_far_back_to_rule_out_goes_to_a_person_instead_of_paying_twice(smile: Smile) -> None:
    points = smile.points(timeout=0.3)
    smile.fake.fail_next("lost_response", endpoint=CREATE_TRANSACTION)
    with pytest.raises(OutcomeUnknownError):
        await award(points)
    for _ in range(PAGE_SIZE * RECONCILE_PAGES):
        smile.fake.add_transaction(customer_id=ADA, points_change=5)

    with pytest.raises(PermanentIntegrationError, match="cannot rule out"):
        await award(points)

    assert smile.fake.created == 1
    assert smile.fake.requests[LIST_TRANSACTIONS] == RECONCILE_PAGES


async def test_a_long_key_is_hashed_into_the_note_and_still_found(smile: Smile) -> None:
    long_key = "conv-42:" + "x" * 300
    points = smile.points(timeout=0.3)
    smile.fake.fail_next("lost_response", endpoint=CREATE_TRANSACTION)
    with pytest.raises(OutcomeUnknownError):
        await award(points, key=long_key)

    again = await award(points, key=long_key)

    [made] = smile.fake.transactions(customer_id=ADA)
    assert made["internal_note"] == note_marker(long_key)
    assert len(made["internal_note"]) < 100 and long_key not in made["internal_note"]
    assert again.transaction_id == str(made["id"])
    assert note_marker("short-key") == "dmcare:short-key"


async def test_after_a_restart_the_sql_journal_makes_the_new_process_reconcile(smile: Smile, engine: Engine) -> None:
    before_crash = smile.points(journal=SqlIssuanceJournal(engine=engine), timeout=0.3)
    smile.fake.fail_next("lost_response", endpoint=CREATE_TRANSACTION)
    with pytest.raises(OutcomeUnknownError):
        await award(before_crash)
    await before_crash.aclose()  # the process dies with the award in doubt

    after_restart = await award(smile.points(journal=SqlIssuanceJournal(engine=engine)))
    asked = smile.request_count()
    later = await award(smile.points(journal=SqlIssuanceJournal(engine=engine)))

    [made] = smile.fake.transactions(customer_id=ADA)
    assert after_restart == later == PointsAward(transaction_id=str(made["id"]), points=200)
    assert smile.fake.created == 1
    assert smile.request_count() == asked  # once done, the journal answers


# -- what Smile refuses ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("customer_id", "problem"),
    [
        ("ghost", "no customer with the email"),
        ("gone", "no customer 999999999"),
        ("shared", "several Smile customers"),
        ("gid://shopify/Customer/123", "no Smile customer is configured"),  # a shop id is never a Smile id
    ],
)
async def test_a_customer_smile_does_not_know_for_sure_is_refused_for_good(
    smile: Smile, customer_id: str, problem: str
) -> None:
    with pytest.raises(PermanentIntegrationError, match=problem):
        await award(smile.points(), customer_id=customer_id)

    assert smile.fake.created == 0


# -- Shopify customers, by the email Shopify holds --------------------------------------------------------


async def test_a_shopify_customer_gets_one_award_through_the_email_shopify_holds(smile: Smile) -> None:
    shop = FakeShopify(access_token=SHOPIFY_TOKEN)
    buyer = shop.add_customer(email="ada@example.com")  # Ada's Smile account, made by Smile on Shopify
    async with shopify_admin(shop) as admin:
        points = smile.points(email_of=ShopifyOrders(admin=admin).customer_email, timeout=0.3)
        smile.fake.fail_next("lost_response", endpoint=CREATE_TRANSACTION)
        with pytest.raises(OutcomeUnknownError):
            await award(points, customer_id=buyer.id)
        retried = await award(points, customer_id=buyer.id)  # reconciles: finds the first instead of paying
        again = await award(points, customer_id=buyer.id)  # done: the journal answers

    [made] = smile.fake.transactions(customer_id=ADA)
    assert retried == again == PointsAward(transaction_id=str(made["id"]), points=200)
    assert smile.fake.created == 1
    assert smile.fake.customers[ADA].points_balance == 320
    assert shop.operations["CustomerEmail"] == 1  # remembered for the retry
    assert smile.fake.requests[CUSTOMERS] == 1


@pytest.mark.parametrize("who", ["without an email", "unknown to Shopify"])
async def test_a_shopify_customer_without_an_email_is_refused_for_good_and_smile_is_not_asked(
    smile: Smile, who: str
) -> None:
    shop = FakeShopify(access_token=SHOPIFY_TOKEN)
    silent = shop.add_customer(email=None)
    customer_id = silent.id if who == "without an email" else "gid://shopify/Customer/404404"
    async with shopify_admin(shop) as admin:
        points = smile.points(email_of=ShopifyOrders(admin=admin).customer_email)
        with pytest.raises(PermanentIntegrationError, match="no Smile customer is configured"):
            await award(points, customer_id=customer_id)

    assert shop.operations["CustomerEmail"] == 1
    assert smile.fake.created == 0
    assert smile.fake.transactions() == []
    assert smile.request_count() == 0


async def test_email_of_is_asked_only_for_unmapped_ids_and_only_ever_names_an_email(smile: Smile) -> None:
    asked: list[str] = []

    async def email_of(customer_id: str) -> str | None:
        asked.append(customer_id)
        return str(ADA)  # a Smile id where an email belongs: it must not pay that customer

    points = smile.points(email_of=email_of)
    await award(points, customer_id="cust-9", key="mapped")  # customer_ids wins
    await award(points, customer_id="ada@example.com", key="an-email")  # the id is the email
    with pytest.raises(PermanentIntegrationError, match="no Smile customer is configured"):
        await award(points, customer_id="gid://shopify/Customer/7", key="unmapped")

    assert asked == ["gid://shopify/Customer/7"]
    assert smile.fake.created == 2


@pytest.mark.parametrize("amount", [0, -50])
async def test_points_must_be_positive_and_smile_is_not_asked(smile: Smile, amount: int) -> None:
    with pytest.raises(PermanentIntegrationError, match="positive"):
        await award(smile.points(), amount=amount)

    assert smile.request_count() == 0


async def test_a_wrong_api_key_is_permanent_and_not_repeated_in_the_error(smile: Smile) -> None:
    with pytest.raises(PermanentIntegrationError, match="401") as refused:
        await award(smile.points(api_key="sk-wrong-key-1234"))

    assert "sk-wrong-key-1234" not in str(refused.value)
    assert smile.fake.created == 0


async def test_a_validation_error_carries_smiles_message(smile: Smile) -> None:
    smile.fake.fail_next("422", endpoint=CREATE_TRANSACTION)

    with pytest.raises(PermanentIntegrationError, match="HTTP 422.*Points transactions are disabled"):
        await award(smile.points())


async def test_an_unreadable_answer_to_a_lookup_is_retryable_not_permanent(smile: Smile) -> None:
    points = smile.points()
    smile.fake.fail_next("malformed", endpoint=CUSTOMERS)

    with pytest.raises(RetryableIntegrationError) as failed:
        await award(points)
    assert type(failed.value) is RetryableIntegrationError  # nothing was sent that could have paid
    await award(points)

    assert smile.fake.created == 1


def test_connect_needs_an_api_key() -> None:
    with pytest.raises(ValueError, match="API key"):
        SmilePoints.connect(api_key="", journal=MemoryIssuanceJournal())


# -- Smile's rate limit ------------------------------------------------------------------------------------


async def test_a_429_is_waited_out_as_smile_asks_then_the_award_goes_through(smile: Smile) -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    http = ProviderHttp(
        service="smile",
        base_url=smile.base_url,
        headers={"Authorization": f"Bearer {smile.fake.api_key}"},
        retry=FAST_RETRIES,
        sleep=sleep,
    )
    points = SmilePoints(http=http, journal=MemoryIssuanceJournal(), customer_ids=CUSTOMER_IDS)
    smile.fake.fail_next("429", endpoint=CREATE_TRANSACTION)
    try:
        await award(points)
    finally:
        await points.aclose()

    assert waits == [1.0]  # Retry-After: 1
    assert smile.fake.created == 1
    assert smile.fake.requests[CREATE_TRANSACTION] == 2


async def test_connect_paces_requests_to_ten_a_second(smile: Smile) -> None:
    points = smile.points()

    await asyncio.gather(*(award(points, key=f"pace-{n}", customer_id="cust-9") for n in range(4)))

    arrivals = [at for endpoint, at in smile.fake.arrivals if endpoint == CREATE_TRANSACTION]
    assert len(arrivals) == 4
    gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
    assert min(gaps) >= 0.05  # 0.1 s apart, give or take the network


# -- logs --------------------------------------------------------------------------------------------------


async def test_neither_the_idempotency_key_nor_the_api_key_is_logged(
    smile: Smile, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    points = smile.points(timeout=0.3)
    smile.fake.fail_next("lost_response", endpoint=CREATE_TRANSACTION)
    with pytest.raises(OutcomeUnknownError):
        await award(points, key="secret-key-one")
    smile.fake.fail_next("500", endpoint=LIST_TRANSACTIONS)  # a read retried: the HTTP layer logs it
    await award(points, key="secret-key-one")
    await award(points, key="secret-key-two")

    assert any(record.name == "integrations.loyalty.smile" for record in caplog.records)
    assert "secret-key" not in caplog.text
    assert smile.fake.api_key not in caplog.text
