"""The issuance journal: a local record, under a unique key, of changes asked of providers without keys.

Smile's points transactions and Shopify's discount codes have no idempotency keys. The pattern
(reference/carriers-orders-loyalty.md §4.5): write the key down before the call; mark it done with the
provider's answer after. Finding the key already "started" means an earlier call may have gone through
(a timeout, a crash): the adapter looks for that call's effect before it asks again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

__all__ = ["Issuance", "IssuanceJournal", "MemoryIssuanceJournal"]


@dataclass(frozen=True, kw_only=True)
class Issuance:
    status: Literal["started", "done"]
    attempts: int  # calls begun before this one
    result: dict[str, Any] | None  # the provider's answer, once done


class IssuanceJournal(Protocol):
    def begin(self, *, key: str, provider: str, kind: str) -> Issuance | None:
        """Record that a call under ``key`` is about to be made; the record as it was before, if any."""
        ...

    def finish(self, *, key: str, result: dict[str, Any]) -> None:
        """Record the provider's answer: later calls with ``key`` return it without asking again."""
        ...


class MemoryIssuanceJournal:
    """A journal that lives as long as the process: for tests and the benches."""

    def __init__(self) -> None:
        self._records: dict[str, Issuance] = {}

    def begin(self, *, key: str, provider: str, kind: str) -> Issuance | None:
        earlier = self._records.get(key)
        if earlier is None:
            self._records[key] = Issuance(status="started", attempts=1, result=None)
        elif earlier.status == "started":
            self._records[key] = Issuance(status="started", attempts=earlier.attempts + 1, result=None)
        return earlier

    def finish(self, *, key: str, result: dict[str, Any]) -> None:
        earlier = self._records.get(key)
        self._records[key] = Issuance(status="done", attempts=earlier.attempts if earlier else 1, result=result)
