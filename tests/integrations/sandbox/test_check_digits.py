"""The test-side verifier must accept real numbers and refuse near misses, or the demo checks mean nothing."""

from __future__ import annotations

import pytest

from tests.integrations.sandbox.check_digits import tracking_format

# Valid and invalid test numbers published in jkeen/tracking_number_data (couriers/*.json) and the S10
# worked example of reference/carriers-orders-loyalty.md §3.3.
KNOWN_VALID = {
    "1Z5R89390357567127": "UPS",
    "1Z879E930346834440": "UPS",
    "1Z410E7W0392751591": "UPS",
    "9400111201080805483016": "USPS IMpb 22",
    "9361289878700317633795": "USPS IMpb 22",
    "9405803699300124287899": "USPS IMpb 22",
    "986578788855": "FedEx Express 12",
    "477179081230": "FedEx Express 12",
    "3318810025": "DHL Express 10",
    "8487135506": "DHL Express 10",
    "RB123456785GB": "UPU S10",
}
KNOWN_INVALID = [
    "1Z5R89390357567128",  # last digit changed
    "1Z1111111111111111",
    "9400111201080805483017",
    "996578788855",
    "3318810010",
    "RB123456784GB",
    "ORDER1001",
]


@pytest.mark.parametrize(("number", "expected"), KNOWN_VALID.items())
def test_accepts_published_valid_numbers(number: str, expected: str) -> None:
    assert tracking_format(number) == expected


@pytest.mark.parametrize("number", KNOWN_INVALID)
def test_refuses_near_misses(number: str) -> None:
    assert tracking_format(number) is None
