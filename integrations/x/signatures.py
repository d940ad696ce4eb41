"""X's webhook security: the CRC challenge answer and the signature on every delivery.

Both are base64 HMAC-SHA256 keyed with the app's consumer secret (reference/x-dm-api.md §2.3-2.4).
"""

from __future__ import annotations

import base64
import hashlib
import hmac

SIGNATURE_HEADER = "x-twitter-webhooks-signature"


def _digest(secret: str, message: bytes) -> str:
    return "sha256=" + base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def crc_response_token(secret: str, crc_token: str) -> str:
    """The ``response_token`` X expects back for a ``GET ?crc_token=...`` challenge."""
    return _digest(secret, crc_token.encode())


def sign(secret: str, raw_body: bytes) -> str:
    """The ``x-twitter-webhooks-signature`` header value X sends with ``raw_body``."""
    return _digest(secret, raw_body)


def is_signed_by(secret: str, raw_body: bytes, header: str | None) -> bool:
    """True when ``header`` is X's signature of exactly these bytes, compared in constant time."""
    if not header:
        return False
    return hmac.compare_digest(sign(secret, raw_body).encode(), header.strip().encode())
