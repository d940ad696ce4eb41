"""Smile.io points (REST v1): ``PointsProgram`` for a shop whose loyalty program runs on Smile.

Smile's points transactions carry no idempotency key (reference/carriers-orders-loyalty.md §4.2), so
"exactly once" is ours to make (§4.5):

1. ``journal.begin(key)`` before any call. A key already "done" returns the recorded award without a
   single request.
2. A key already "started" means an earlier call may have landed (a timeout, a 5xx, a crash). Its
   effect is looked for first: the customer's points transactions, newest first, a few pages deep,
   for our marker ``dmcare:<idempotency_key>`` in ``internal_note`` (merchant-only; the customer sees
   ``description``, which carries the reason). A key over 120 characters is hashed into the marker.
3. Only then ``POST /points_transactions``, sent once (``repeatable=False``: a timeout or 5xx comes
   back as ``OutcomeUnknownError`` for the outbox to retry, which lands in step 2).
4. ``journal.finish(key, result)`` with Smile's transaction id.

Finding the Smile customer. Our ``customer_id`` is the shop's id ("gid://shopify/Customer/123" or a
plain id); Smile has its own numeric ids, and the only lookup the reference documents is
``GET /customers?email=``. So ``customer_ids`` maps our id to either

* a Smile customer id (digits): used as is, with no lookup (Smile answers 404 if it is wrong), or
* the customer's email: looked up with ``GET /customers?email=...&limit=2``. Exactly one match is
  used and remembered (a small in-memory map: Smile ids never change); none is "unknown customer";
  several is refused too, because Smile says email is not unique and points must not go to a stranger.

A ``customer_id`` that is itself an email needs no entry. For the rest, ``email_of`` (when given) asks
the shop for the customer's email: a shop running Smile on Shopify shares it between the two, so
``ShopifyOrders.customer_email`` turns a Shopify GID into the email looked up as above. Its answer is
only ever an email, never taken for a Smile id. Anything still unmapped (no ``email_of``, or no email
for that customer) is refused without a Smile request: a bare shop id is never taken for a Smile id,
since a Shopify id "123" would name some other Smile customer. ``customer_ids`` wins over ``email_of``,
for customers whose Smile account has another email.

Left out: Smile's ``POST /activities`` (idempotent through ``distinct_id``, but it needs custom
activity types on Plus/Enterprise plans and issues points asynchronously); looking customers up by the
shop's own id (not in the reference). One award per key runs at a time: the outbox leases commands.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final

import httpx

from integrations.errors import OutcomeUnknownError, PermanentIntegrationError, RetryableIntegrationError
from integrations.http import ProviderHttp, ProviderResponse, RequestPacer, RetryPolicy
from integrations.journal import IssuanceJournal
from integrations.models import PointsAward

__all__ = ["SERVICE", "SmilePoints", "note_marker"]

log = logging.getLogger(__name__)

SERVICE: Final = "smile"
KIND: Final = "points"
DEFAULT_BASE_URL: Final = "https://api.smile.io/v1"
REQUESTS_PER_SECOND: Final = 10.0  # Smile's limit per token (dev.smile.io/api/rate-limits)

# Reconciling reads this many transactions at most. Ours is among the newest (it was sent minutes
# ago); a customer with more transactions since then is beyond what can be ruled out, and then a
# person decides instead of the bot paying twice.
PAGE_SIZE: Final = 100  # Smile allows 1..250
RECONCILE_PAGES: Final = 3

_SMILE_ID = re.compile(r"[0-9]{1,19}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_REMEMBERED_CUSTOMERS: Final = 1024
_LONGEST_KEY_IN_NOTE: Final = 120


class SmilePoints:
    """Awards Smile points once per idempotency key; see the module docstring for how."""

    def __init__(
        self,
        *,
        http: ProviderHttp,
        journal: IssuanceJournal,
        customer_ids: Mapping[str, str] | None = None,
        email_of: Callable[[str], Awaitable[str | None]] | None = None,
    ) -> None:
        """
        Args:
            http: the Smile client (``connect`` builds one with the key, pacing and service name).
            journal: where each award is written down before Smile is asked.
            customer_ids: our customer id -> a Smile customer id or the customer's email.
            email_of: our customer id -> the customer's email (None when the shop has none), asked for a
                customer that ``customer_ids`` does not map and whose id is no email.
        """
        self._http = http
        self._journal = journal
        self._customer_ids = dict(customer_ids or {})
        self._email_of = email_of
        self._smile_ids_by_email: dict[str, int] = {}

    @classmethod
    def connect(
        cls,
        *,
        api_key: str,
        journal: IssuanceJournal,
        customer_ids: Mapping[str, str] | None = None,
        email_of: Callable[[str], Awaitable[str | None]] | None = None,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> SmilePoints:
        """An adapter with its own HTTP client, paced to Smile's 10 requests/s; ``aclose()`` it when done."""
        if not api_key:
            raise ValueError("a Smile API key is required")
        http = ProviderHttp(
            service=SERVICE,
            base_url=base_url,
            headers={"Authorization": f"Bearer {api_key}", "Accept": "application/json"},
            timeout=timeout,
            retry=retry,
            pacer=RequestPacer(rate=REQUESTS_PER_SECOND),
            transport=transport,
        )
        return cls(http=http, journal=journal, customer_ids=customer_ids, email_of=email_of)

    def __repr__(self) -> str:
        return f"SmilePoints(http={self._http!r})"

    async def aclose(self) -> None:
        await self._http.aclose()

    async def award_points(self, *, customer_id: str, points: int, reason: str, idempotency_key: str) -> PointsAward:
        if points <= 0:
            raise PermanentIntegrationError(f"points must be positive, got {points}", service=SERVICE)
        key = f"{SERVICE}:{KIND}:{idempotency_key}"  # the journal is shared with other providers' issuances
        earlier = self._journal.begin(key=key, provider=SERVICE, kind=KIND)
        if earlier is not None and earlier.status == "done":
            return _recorded_award(earlier.result)
        smile_id = await self._smile_customer(customer_id)
        marker = note_marker(idempotency_key)
        award = None
        if earlier is not None:  # "started": that call may have gone through
            award = await self._find_earlier_award(smile_id, marker)
            if award is not None:
                log.warning(
                    "%s: an earlier attempt had awarded the points (transaction %s)", SERVICE, award.transaction_id
                )
        if award is None:
            award = await self._create(smile_id, points=points, reason=reason, marker=marker)
            log.info(
                "%s: awarded %d points to customer %d (transaction %s)", SERVICE, points, smile_id, award.transaction_id
            )
        self._journal.finish(
            key=key,
            result={"transaction_id": award.transaction_id, "points": award.points, "smile_customer_id": smile_id},
        )
        return award

    # -- the customer ------------------------------------------------------------------------------------

    async def _smile_customer(self, customer_id: str) -> int:
        reference = await self._reference(customer_id)
        if reference is None:
            raise PermanentIntegrationError(
                f"no Smile customer is configured for customer {customer_id!r}", service=SERVICE
            )
        if _SMILE_ID.fullmatch(reference):
            return int(reference)
        if not _EMAIL.fullmatch(reference):
            raise PermanentIntegrationError(
                f"the Smile reference for customer {customer_id!r} is neither a Smile id nor an email", service=SERVICE
            )
        email = reference.strip().lower()
        smile_id = self._smile_ids_by_email.get(email)
        if smile_id is None:
            smile_id = await self._look_up_by_email(email, customer_id=customer_id)
            if len(self._smile_ids_by_email) >= _REMEMBERED_CUSTOMERS:
                del self._smile_ids_by_email[next(iter(self._smile_ids_by_email))]  # the oldest entry
            self._smile_ids_by_email[email] = smile_id
        return smile_id

    async def _reference(self, customer_id: str) -> str | None:
        """A Smile customer id or an email for ``customer_id``; None when nothing names one."""
        reference = self._customer_ids.get(customer_id)
        if reference is not None:
            return reference
        if _EMAIL.fullmatch(customer_id):
            return customer_id
        if self._email_of is None:
            return None
        email = (await self._email_of(customer_id) or "").strip()
        # Only an email: an answer of digits must not be taken for a Smile id (and pay someone else).
        return email if _EMAIL.fullmatch(email) else None

    async def _look_up_by_email(self, email: str, *, customer_id: str) -> int:
        # limit=2: one match is all we may use, so a second one is all we need to see.
        response = await self._http.request("GET", "customers", repeatable=True, params={"email": email, "limit": "2"})
        if not response.ok:
            raise _refusal(response, action="look up the customer")
        body = response.body
        customers = body.get("customers") if isinstance(body, dict) else None
        if not isinstance(customers, list) or not all(isinstance(c, dict) and _is_int(c.get("id")) for c in customers):
            raise RetryableIntegrationError("the customer lookup answered in an unexpected shape", service=SERVICE)
        if not customers:
            raise PermanentIntegrationError(f"Smile has no customer with the email of {customer_id!r}", service=SERVICE)
        if len(customers) > 1:
            raise PermanentIntegrationError(
                f"several Smile customers share the email of {customer_id!r}; map it to a Smile customer id",
                service=SERVICE,
            )
        smile_id: int = customers[0]["id"]
        return smile_id

    # -- the award ---------------------------------------------------------------------------------------

    async def _find_earlier_award(self, smile_id: int, marker: str) -> PointsAward | None:
        """The transaction an earlier attempt made, if one did; newest first, a few pages deep."""
        cursor: str | None = None
        for _ in range(RECONCILE_PAGES):
            params = {"customer_id": str(smile_id), "limit": str(PAGE_SIZE)}
            if cursor:
                params["cursor"] = cursor
            response = await self._http.request("GET", "points_transactions", repeatable=True, params=params)
            if not response.ok:
                raise _refusal(response, action="list the customer's points transactions", smile_id=smile_id)
            transactions, cursor = _transactions_page(response.body)
            for transaction in transactions:
                if transaction.get("internal_note") == marker:
                    award = _award_from(transaction)
                    if award is None:
                        raise RetryableIntegrationError(
                            "a points transaction came in an unexpected shape", service=SERVICE
                        )
                    return award
            if not cursor:
                return None
        raise PermanentIntegrationError(
            f"cannot rule out an earlier award: customer {smile_id} has more than {PAGE_SIZE * RECONCILE_PAGES} "
            "newer points transactions; a person should check before awarding again",
            service=SERVICE,
        )

    async def _create(self, smile_id: int, *, points: int, reason: str, marker: str) -> PointsAward:
        transaction = {"customer_id": smile_id, "points_change": points, "description": reason, "internal_note": marker}
        response = await self._http.request(
            "POST", "points_transactions", repeatable=False, json_body={"points_transaction": transaction}
        )
        if not response.ok:
            raise _refusal(response, action="award the points", smile_id=smile_id)
        body = response.body
        award = _award_from(body.get("points_transaction")) if isinstance(body, dict) else None
        if award is None:
            # Smile said yes but we cannot read what it made: the points may be there, so the retry reconciles.
            raise OutcomeUnknownError(
                f"POST answered HTTP {response.status} in an unexpected shape; the points may have been awarded",
                service=SERVICE,
            )
        return award


def note_marker(idempotency_key: str) -> str:
    """What a transaction's ``internal_note`` carries to be recognised as made for this key.

    Smile's length limit on the note is not documented: a long key is hashed, so that a note cut short
    cannot hide an award from the reconcile (and pay it twice).
    """
    if len(idempotency_key) > _LONGEST_KEY_IN_NOTE:
        idempotency_key = "sha256:" + hashlib.sha256(idempotency_key.encode()).hexdigest()
    return f"dmcare:{idempotency_key}"


def _refusal(response: ProviderResponse, *, action: str, smile_id: int | None = None) -> PermanentIntegrationError:
    """A 4xx as an error a person can act on; the API key is in no message."""
    status = response.status
    if status == 401:
        problem = "Smile did not accept the API key (HTTP 401)"
    elif status == 403:
        problem = f"the API key may not {action} (HTTP 403: a missing scope?)"
    elif status == 404 and smile_id is not None:
        problem = f"Smile has no customer {smile_id} (HTTP 404)"
    else:
        said = _smile_message(response.body)
        problem = f"Smile refused to {action} (HTTP {status})" + (f": {said}" if said else "")
    return PermanentIntegrationError(problem, service=SERVICE)


def _smile_message(body: Any) -> str | None:
    """Smile's words from an error body. Its keys are UNCONFIRMED (§4.2, §7), so the usual shapes are tried."""
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    candidates = [error.get("message") if isinstance(error, dict) else error, body.get("message"), body.get("errors")]
    for candidate in candidates:
        if isinstance(candidate, str) and candidate.strip():
            return candidate.strip()[:300]
        if isinstance(candidate, list | dict) and candidate:
            return str(candidate)[:300]
    return None


def _transactions_page(body: Any) -> tuple[list[dict[str, Any]], str | None]:
    """``{"points_transactions": [...], "metadata": {"next_cursor": ...}}``: Smile's cursor pagination."""
    transactions = body.get("points_transactions") if isinstance(body, dict) else None
    metadata = body.get("metadata", {}) if isinstance(body, dict) else None
    next_cursor = metadata.get("next_cursor") if isinstance(metadata, dict) else None
    if (
        not isinstance(transactions, list)
        or not all(isinstance(t, dict) for t in transactions)
        or not isinstance(metadata, dict)
        or not isinstance(next_cursor, str | None)
    ):
        raise RetryableIntegrationError("the points transactions came in an unexpected shape", service=SERVICE)
    return transactions, next_cursor or None  # the docs show "" as well as null for "no page"


def _award_from(transaction: Any) -> PointsAward | None:
    if not isinstance(transaction, dict):
        return None
    transaction_id, points = transaction.get("id"), transaction.get("points_change")
    if not (_is_int(transaction_id) or isinstance(transaction_id, str) and transaction_id):
        return None
    if not isinstance(points, int) or isinstance(points, bool):
        return None
    return PointsAward(transaction_id=str(transaction_id), points=points)


def _recorded_award(result: dict[str, Any] | None) -> PointsAward:
    award = _award_from(
        {"id": result.get("transaction_id"), "points_change": result.get("points")}
        if isinstance(result, dict)
        else None
    )
    if award is None:  # a journal row nobody should have touched: a person must look
        raise PermanentIntegrationError("the journal's record of this award cannot be read", service=SERVICE)
    return award


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
