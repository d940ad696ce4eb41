"""How the sandbox matches what a customer typed to what the shop has on file."""

from __future__ import annotations


def order_key(number: str) -> str:
    """'#1001', ' 1001' and '1001' are the same order, and case is ignored, as in Shopify's search."""
    return number.strip().removeprefix("#").strip().upper()


def tracking_key(number: str) -> str:
    """Customers paste tracking numbers with spaces and in lower case; carriers ignore both."""
    return "".join(number.split()).upper()
