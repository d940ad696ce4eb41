"""Roles a person plays: a shop whose systems cannot book a reship or a refund through an API.

Shopify, for one, gives a replacement parcel its tracking number only when the warehouse ships it.
These services refuse at once, as a permanent failure, so the flow hands the conversation to a person
with the remedy the customer chose already recorded, instead of promising what the bot cannot do.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from integrations.errors import PermanentIntegrationError
from integrations.models import Dispatch, DispatchKind, Refund

__all__ = ["ManualDispatch", "ManualRefunds"]

SERVICE: Final = "manual"


class ManualDispatch:
    async def dispatch(self, *, order_number: str, kind: DispatchKind, idempotency_key: str) -> Dispatch:
        raise PermanentIntegrationError(f"a {kind.value} is booked by a person in this shop", service=SERVICE)


class ManualRefunds:
    async def refund(self, *, order_number: str, amount: Decimal, idempotency_key: str) -> Refund:
        raise PermanentIntegrationError("refunds are made by a person in this shop", service=SERVICE)
