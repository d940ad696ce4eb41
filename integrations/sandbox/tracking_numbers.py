"""Fresh tracking numbers for reships and expedites, in real carrier formats with valid check digits.

Why valid ones: the bot's order-number extractor drops every token that passes a carrier checksum, so a
sandbox number that failed its checksum would be read as an order reference when the customer pastes it
back. Formats and check digits follow reference/carriers-orders-loyalty.md §3 (jkeen/tracking_number_data).

Numbers are derived from a seed (the idempotency key), so a retried dispatch gets the same number.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

__all__ = [
    "dhl_express_check_digit",
    "fedex_express_check_digit",
    "mint_like",
    "mint_ups",
    "s10_check_digit",
    "ups_check_digit",
    "usps_check_digit",
]

# A sandbox shipper account + service "03" (UPS Ground): used when the order has no parcel to copy.
_SANDBOX_ACCOUNT_AND_SERVICE = "DMC4R303"


def ups_check_digit(body: str) -> int:
    """Mod 10 over the 16 characters after "1Z"; letters count as (ord - 3) % 10, odd positions double."""
    total = 0
    for index, char in enumerate(body):
        value = int(char) if char.isdigit() else (ord(char) - 3) % 10
        total += value * 2 if index % 2 else value
    return (10 - total % 10) % 10


def usps_check_digit(body: str) -> int:
    """IMpb: mod 10 over the 21 leading digits, weights 3, 1, 3, ... from the left."""
    total = sum(int(digit) * (1 if index % 2 else 3) for index, digit in enumerate(body))
    return (10 - total % 10) % 10


def fedex_express_check_digit(body: str) -> int:
    """FedEx Express 12: the 11 leading digits weighted 3, 1, 7, ..., mod 11, mod 10."""
    return sum(int(digit) * weight for digit, weight in zip(body, (3, 1, 7) * 4, strict=False)) % 11 % 10


def dhl_express_check_digit(body: str) -> int:
    """DHL Express waybill: the leading digits as one number, mod 7."""
    return int(body) % 7


def s10_check_digit(serial: str) -> int:
    """UPU S10: serial digits weighted 8, 6, 4, 2, 3, 5, 9, 7; 11 - sum mod 11, where 10 -> 0, 11 -> 5."""
    remainder = sum(int(d) * w for d, w in zip(serial, (8, 6, 4, 2, 3, 5, 9, 7), strict=True)) % 11
    return {0: 5, 1: 0}.get(remainder, 11 - remainder)


def _digits(seed: str, count: int) -> str:
    value = int.from_bytes(hashlib.sha256(seed.encode("utf-8")).digest(), "big")
    return str(value).zfill(count)[-count:]


def _ups_number(account_and_service: str, seed: str) -> str:
    body = account_and_service + _digits(seed, 7)
    return f"1Z{body}{ups_check_digit(body)}"


def _ups(match: re.Match[str], seed: str) -> str:
    return _ups_number(match["keep"], seed)  # keep the shop's shipper account and service


def _usps(match: re.Match[str], seed: str) -> str:
    body = match["keep"] + _digits(seed, 7)  # keep the service code and mailer id
    return f"{body}{usps_check_digit(body)}"


def _fedex(_: re.Match[str], seed: str) -> str:
    body = _digits(seed, 11)
    return f"{body}{fedex_express_check_digit(body)}"


def _dhl(_: re.Match[str], seed: str) -> str:
    body = _digits(seed, 9)
    return f"{body}{dhl_express_check_digit(body)}"


def _s10(match: re.Match[str], seed: str) -> str:
    serial = _digits(seed, 8)  # keep the service letters and the origin country
    return f"{match['service']}{serial}{s10_check_digit(serial)}{match['country']}"


_FORMATS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str], str], str]], ...] = (
    (re.compile(r"1Z(?P<keep>[0-9A-Z]{8})[0-9A-Z]{8}"), _ups),
    (re.compile(r"(?P<service>[A-Z]{2})\d{9}(?P<country>[A-Z]{2})"), _s10),
    (re.compile(r"(?P<keep>9[1-5]\d{12})\d{8}"), _usps),
    (re.compile(r"\d{12}"), _fedex),
    (re.compile(r"\d{10}"), _dhl),
)


def mint_like(original: str, *, seed: str) -> str | None:
    """A new number in the format of ``original`` (UPS, USPS IMpb 22, FedEx 12, DHL Express 10, UPU S10).

    None when ``original`` is in a format this module cannot mint.
    """
    for pattern, mint in _FORMATS:
        match = pattern.fullmatch(original)
        if match is not None:
            return mint(match, seed)
    return None


def mint_ups(*, seed: str) -> str:
    """A UPS Ground number on the sandbox's shipper account."""
    return _ups_number(_SANDBOX_ACCOUNT_AND_SERVICE, seed)
