from __future__ import annotations

import pytest

from bot.understanding import Carrier, TrackingNumber, find_tracking_numbers, parse_tracking_number

# Valid numbers are the reference's (§3.2-3.3) public test numbers; each invalid twin differs by one digit.
VALID_AND_ONE_DIGIT_OFF = [
    (Carrier.UPS, "1Z5R89390357567127", "1Z5R89390357567120"),
    (Carrier.UPS, "1Z879E930346834440", "1Z879E930346834540"),
    (Carrier.USPS, "0307 1790 0005 2348 3741", "0307 1790 0005 2348 3740"),
    (Carrier.USPS, "9400 1112 0108 0805 4830 16", "9400 1112 0108 0805 4830 10"),
    (Carrier.USPS, "9405803699300124287899", "9405803699300124287890"),
    (Carrier.USPS, "92748931507708513018050063", "92748931507708513018050060"),
    (Carrier.USPS, "420 22153 9101026837331000039521", "420 22153 9101026837331000039520"),
    (Carrier.USPS, "4201002334249200190132607600833457", "4201002334249200190132607600833450"),
    (Carrier.FEDEX, "986578788855", "996578788855"),
    (Carrier.FEDEX, "790535312317", "790535312310"),
    (Carrier.FEDEX, "5682 8361 0012 734", "5682 8361 0012 732"),
    (Carrier.FEDEX, "0414 4176 0228 964", "0414 4176 0228 960"),
    (Carrier.FEDEX, "61299998820821171811", "61299998820821171813"),
    (Carrier.FEDEX, "9611020987654312345672", "9611020987654312345670"),
    (Carrier.FEDEX, "1001921334250001000300779017972697", "1001921334250001000300779017972690"),
    (Carrier.DHL_EXPRESS, "3318810025", "3318810010"),
    (Carrier.DHL_EXPRESS, "73891051146", "73891051140"),
    (Carrier.DHL_EXPRESS, "8487135506", "8487135500"),
    (Carrier.UPU_S10, "RB123456785GB", "RB123456786GB"),
    (Carrier.UPU_S10, "RR123456785CN", "RR123456780CN"),
    (Carrier.UPU_S10, "RB123456785US", "RB123456786US"),
]


@pytest.mark.parametrize(("carrier", "valid", "invalid"), VALID_AND_ONE_DIGIT_OFF)
def test_valid_number_is_recognised_with_its_carrier(carrier: Carrier, valid: str, invalid: str) -> None:
    assert parse_tracking_number(valid) == TrackingNumber(carrier, valid.replace(" ", ""))


@pytest.mark.parametrize(("carrier", "valid", "invalid"), VALID_AND_ONE_DIGIT_OFF)
def test_one_wrong_digit_fails_the_check(carrier: Carrier, valid: str, invalid: str) -> None:
    assert parse_tracking_number(invalid) is None


@pytest.mark.parametrize(
    "candidate",
    [
        "RB123456785XX",  # right check digit, but XX is no country
        "2Z5R89390357567127",
        "1Z1111111111111111",
        "9200000000000000000000",
        "420000000000000000000000000000",
        "12345",
        "",
        "hello",
    ],
)
def test_not_a_tracking_number(candidate: str) -> None:
    assert parse_tracking_number(candidate) is None


@pytest.mark.parametrize(
    ("candidate", "expected"),
    [
        ("1z5r89390357567127", "1Z5R89390357567127"),
        (" rr 123456785 cn ", "RR123456785CN"),
        ("１Ｚ５Ｒ８９３９０３５７５６７１２７", "1Z5R89390357567127"),
        ("3318-8100-25", "3318810025"),
    ],
)
def test_number_is_normalised(candidate: str, expected: str) -> None:
    parsed = parse_tracking_number(candidate)
    assert parsed is not None and parsed.number == expected


def test_s10_check_digit_follows_the_worked_example() -> None:
    # serial 12345678 -> weighted sum 204, 204 mod 11 = 6, check = 11 - 6 = 5
    assert parse_tracking_number("RB123456785GB") == TrackingNumber(Carrier.UPU_S10, "RB123456785GB")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "my order 1001 shipped with UPS 1Z5R89390357567127, still nothing",
            [TrackingNumber(Carrier.UPS, "1Z5R89390357567127")],
        ),
        ("快递单号RR123456785CN还没更新", [TrackingNumber(Carrier.UPU_S10, "RR123456785CN")]),
        (
            "usps 9400 1112 0108 0805 4830 16 and dhl 3318810025",
            [
                TrackingNumber(Carrier.USPS, "9400111201080805483016"),
                TrackingNumber(Carrier.DHL_EXPRESS, "3318810025"),
            ],
        ),
        ("1001 9400111201080805483016", [TrackingNumber(Carrier.USPS, "9400111201080805483016")]),
        ("same twice: RR123456785CN RR123456785CN", [TrackingNumber(Carrier.UPU_S10, "RR123456785CN")]),
        ("order 1001, call +1 415 555 0134, paid $49.99", []),
        ("RR123456786CN has a wrong check digit", []),
    ],
)
def test_finds_tracking_numbers_in_free_text(text: str, expected: list[TrackingNumber]) -> None:
    assert find_tracking_numbers(text) == expected
