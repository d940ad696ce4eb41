"""The replay rule every sandbox service follows, and identifiers derived from idempotency keys.

A second call with a known key returns the first result and changes nothing (integrations/protocols.py).
Identifiers (refund ids, coupon codes, message ids, tracking numbers) are derived from the key rather
than drawn at random, so the same retry gets the same answer even after a restart without a ledger file.
"""

from __future__ import annotations

import hashlib
from typing import Any

from integrations.errors import PermanentIntegrationError
from integrations.sandbox.ledger import SandboxLedger

__all__ = ["previous_result", "record_result", "token_from_key"]

_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: customers type coupon codes by hand


def token_from_key(key: str, *, purpose: str, length: int, alphabet: str = _CODE_ALPHABET) -> str:
    """``length`` characters of ``alphabet`` determined by (purpose, key) alone."""
    if not 0 < length <= 64:
        raise ValueError("a token is 1 to 64 characters")
    # One hash byte per character: cheap (no big-integer division) and deterministic, which is all a
    # sandbox identifier needs; the slight bias of "byte % len(alphabet)" does not matter here.
    digest = hashlib.blake2b(f"{purpose}\x00{key}".encode(), digest_size=max(length, 16)).digest()
    return "".join(alphabet[byte % len(alphabet)] for byte in digest[:length])


def previous_result(ledger: SandboxLedger, *, key: str, kind: str, service: str) -> dict[str, Any] | None:
    """The recorded result for ``key``, or None when this is the first call with it."""
    if not key.strip():
        raise PermanentIntegrationError("an idempotency key is required", service=service)
    record = ledger.get(key)
    if record is None:
        return None
    if record["kind"] != kind:
        # Providers answer a reused key with an error too (Stripe: idempotency_key_in_use / 400).
        raise PermanentIntegrationError(
            f"idempotency key {key!r} was already used for a {record['kind']}, not a {kind}", service=service
        )
    result: dict[str, Any] = record["payload"]["result"]
    return result


def record_result(
    ledger: SandboxLedger, *, key: str, kind: str, request: dict[str, Any], result: dict[str, Any]
) -> None:
    ledger.record(key, kind, {"request": request, "result": result})
