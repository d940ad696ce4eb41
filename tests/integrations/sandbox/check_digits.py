"""An independent check-digit verifier for tracking numbers, kept out of the package on purpose.

The sandbox mints numbers with its own code; verifying them with that same code would prove nothing.
This one is written from the published rules (reference/carriers-orders-loyalty.md §3, after
jkeen/tracking_number_data) and is itself tested against that project's known-valid numbers.
"""

from __future__ import annotations

import re


def _ups(number: str) -> bool:
    # The 16 characters after "1Z"; letters map to (ord - 3) % 10; every second one counts double.
    values = [int(c) if c.isdigit() else (ord(c) - 3) % 10 for c in number[2:17]]
    total = sum(values[0::2]) + 2 * sum(values[1::2])
    return (total + int(number[17])) % 10 == 0


def _usps_impb(number: str) -> bool:
    # Counting from the check digit leftwards, digits weigh 3, 1, 3, 1, ...
    body = [int(c) for c in reversed(number[:-1])]
    total = 3 * sum(body[0::2]) + sum(body[1::2])
    return (total + int(number[-1])) % 10 == 0


def _fedex_express(number: str) -> bool:
    weights = [3, 1, 7] * 4
    total = sum(int(c) * weights[i] for i, c in enumerate(number[:11]))
    return total % 11 % 10 == int(number[11])


def _dhl_express(number: str) -> bool:
    return int(number[:-1]) % 7 == int(number[-1])


def _s10(number: str) -> bool:
    serial, check = number[2:10], int(number[10])
    remainder = sum(int(c) * w for c, w in zip(serial, [8, 6, 4, 2, 3, 5, 9, 7], strict=True)) % 11
    expected = 5 if remainder == 0 else 0 if remainder == 1 else 11 - remainder
    return check == expected


_FORMATS = (
    ("UPS", re.compile(r"1Z[0-9A-Z]{16}"), _ups),
    ("UPU S10", re.compile(r"[A-Z]{2}\d{9}[A-Z]{2}"), _s10),
    ("USPS IMpb 22", re.compile(r"9[1-5]\d{20}"), _usps_impb),
    ("FedEx Express 12", re.compile(r"\d{12}"), _fedex_express),
    ("DHL Express 10", re.compile(r"\d{10}"), _dhl_express),
)


def tracking_format(number: str) -> str | None:
    """The format ``number`` is written in and whose check digit it passes, else None."""
    for name, pattern, is_valid in _FORMATS:
        if pattern.fullmatch(number):
            return name if is_valid(number) else None
    return None
