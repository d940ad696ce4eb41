"""Carrier tracking numbers: format and check-digit validation, and finding them in free text.

Formats and check digits follow the reference notes (§3.2-3.4), which were checked against the public
test numbers of jkeen/tracking_number_data. Bare digit strings of 10-34 digits overlap between DHL,
FedEx and USPS, so a candidate is tried against the most specific formats first (UPS and S10 carry
letters, then USPS, then FedEx, then the weak DHL mod-7 check), as the reference recommends.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum

from bot.understanding._text import normalize, normalize_upper


class Carrier(StrEnum):
    UPS = "ups"
    USPS = "usps"
    FEDEX = "fedex"
    DHL_EXPRESS = "dhl_express"
    UPU_S10 = "upu_s10"


@dataclass(frozen=True)
class TrackingNumber:
    carrier: Carrier
    number: str  # upper-case, without spaces or hyphens


@dataclass(frozen=True)
class LocatedTrackingNumber:
    """A tracking number and where it sits in the `normalize`d, upper-cased text it was found in."""

    tracking_number: TrackingNumber
    start: int
    end: int


# ISO 3166-1 alpha-2 codes. The S10 suffix names the posting country, and a valid check digit with
# an unknown suffix (the reference's RB123456785XX) is not a real item.
_COUNTRY_CODES = frozenset(
    """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS
    BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE
    EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM
    HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC
    LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA
    NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW
    SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO
    TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
    """.split()
)

_S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)
_FEDEX_12_WEIGHTS = (3, 1, 7) * 4
_FEDEX_34_WEIGHTS = (1, 7, 3) * 5

_UPS_SHAPE = re.compile(r"1Z[0-9A-Z]{15}[0-9]")
_S10_SHAPE = re.compile(r"[A-Z]{2}[0-9]{9}[A-Z]{2}")
_DIGITS_SHAPE = re.compile(r"[0-9]{10,34}")
# IMpb numbers may be prefixed by the "420" routing code and a 5- or 9-digit ZIP.
_USPS_ROUTING_PREFIX_LENGTHS = (8, 12)

_SEPARATORS = re.compile(r"[\s\-]+")


def parse_tracking_number(candidate: str) -> TrackingNumber | None:
    """Return the tracking number `candidate` is, check digit verified, or None.

    Spaces and hyphens between characters are ignored, as carriers print numbers in groups.
    """
    compact = _SEPARATORS.sub("", normalize(candidate).upper())
    if len(compact) > 40:
        return None
    for carrier, is_valid in _VALIDATORS:
        if is_valid(compact):
            return TrackingNumber(carrier=carrier, number=compact)
    return None


def find_tracking_numbers(text: str) -> list[TrackingNumber]:
    """Every distinct valid tracking number in `text`, in the order they appear."""
    found: list[TrackingNumber] = []
    for located in locate_tracking_numbers(normalize_upper(text)):
        if located.tracking_number not in found:
            found.append(located.tracking_number)
    return found


# Candidates allow one space or hyphen between characters, as the numbers are often typed in groups.
_UPS_CANDIDATE = re.compile(r"(?<![0-9A-Z])1[ \-]?Z(?:[ \-]?[0-9A-Z]){16}(?![0-9A-Z])")
_S10_CANDIDATE = re.compile(r"(?<![0-9A-Z])[A-Z]{2}[ \-]?(?:[0-9][ \-]?){9}[A-Z]{2}(?![0-9A-Z])")
_DIGIT_GROUP = re.compile(r"(?<![0-9A-Z+])[0-9]++(?:[ \-][0-9]++)*(?![0-9A-Z])")
_DIGIT_RUN = re.compile(r"[0-9]++")
_MAX_DIGITS = 34


# No carrier's number is shorter: UPS 18 characters, S10 13, USPS and FedEx at least 20 and 12 digits,
# DHL Express 10 or 11. Shorter digit runs (most of the numbers in a DM) are not even tried.
_MIN_DIGITS = 10
_UPS_MARK = "Z"  # in every UPS candidate
_S10_DIGITS = 9  # in every S10 candidate
_ASCII_DIGIT = re.compile("[0-9]")


def locate_tracking_numbers(normalized_upper: str) -> list[LocatedTrackingNumber]:
    """Valid tracking numbers with their spans in text already passed through `normalize` and upper-cased."""
    located = [*_located_letter_formats(normalized_upper)]
    taken = [(item.start, item.end) for item in located]
    for group in _DIGIT_GROUP.finditer(normalized_upper):
        if group.end() - group.start() < _MIN_DIGITS:
            continue
        if not any(start < group.end() and group.start() < end for start, end in taken):
            located.extend(_located_in_digit_group(normalized_upper, group.start(), group.end()))
    return sorted(located, key=lambda item: item.start)


def _located_letter_formats(text: str) -> Iterator[LocatedTrackingNumber]:
    # Both candidate patterns start with a look-behind, which makes them slow scans: skip them when the
    # text lacks what every candidate contains.
    digits = len(_ASCII_DIGIT.findall(text))
    for pattern, possible in ((_UPS_CANDIDATE, _UPS_MARK in text), (_S10_CANDIDATE, digits >= _S10_DIGITS)):
        if not possible:
            continue
        for match in pattern.finditer(text):
            parsed = parse_tracking_number(match.group())
            if parsed is not None:
                yield LocatedTrackingNumber(tracking_number=parsed, start=match.start(), end=match.end())


def _located_in_digit_group(text: str, start: int, end: int) -> Iterator[LocatedTrackingNumber]:
    """Split a run of digit blocks ("9400 1112 0108 ...") into the longest valid numbers, left to right.

    A customer may put an order number and a tracking number side by side, so the whole group is not
    assumed to be one number.
    """
    runs = [(match.start(), match.end()) for match in _DIGIT_RUN.finditer(text, start, end)]
    first = 0
    while first < len(runs):
        longest: tuple[int, TrackingNumber] | None = None
        digits = 0
        for last in range(first, len(runs)):
            digits += runs[last][1] - runs[last][0]
            if digits > _MAX_DIGITS:
                break
            if digits < _MIN_DIGITS:
                continue
            parsed = parse_tracking_number(text[runs[first][0] : runs[last][1]])
            if parsed is not None:
                longest = (last, parsed)
        if longest is None:
            first += 1
            continue
        last, parsed = longest
        yield LocatedTrackingNumber(tracking_number=parsed, start=runs[first][0], end=runs[last][1])
        first = last + 1


def _is_ups(number: str) -> bool:
    if not _UPS_SHAPE.fullmatch(number):
        return False
    return _mod10(number[2:17], evens=1, odds=2) == int(number[17])


def _is_s10(number: str) -> bool:
    if not _S10_SHAPE.fullmatch(number) or number[11:] not in _COUNTRY_CODES:
        return False
    remainder = _weighted_sum(number[2:10], _S10_WEIGHTS) % 11
    expected = 0 if remainder == 1 else 5 if remainder == 0 else 11 - remainder
    return expected == int(number[10])


def _is_usps(number: str) -> bool:
    if not _DIGITS_SHAPE.fullmatch(number):
        return False
    if len(number) == 20 and _mod10(number[:19], evens=3, odds=1) == int(number[19]):
        return True  # the 20-digit legacy format: 2 service, 9 mailer, 8 package, check
    bodies = [number]
    if number.startswith("420"):
        bodies.extend(number[length:] for length in _USPS_ROUTING_PREFIX_LENGTHS)
    return any(_is_usps_impb(body) for body in bodies)


def _is_usps_impb(body: str) -> bool:
    # Without its "9x" application identifier an IMpb number is 20 or 24 digits and the check
    # digit is computed as if "91" were there.
    if len(body) in (22, 26) and body[0] == "9" and body[1] in "12345":
        serial = body[:-1]
    elif len(body) in (20, 24):
        serial = body[:-1] if body[0] == "9" and body[1] in "12345" else "91" + body[:-1]
    else:
        return False
    return _mod10(serial, evens=3, odds=1) == int(body[-1])


def _is_fedex(number: str) -> bool:
    if not _DIGITS_SHAPE.fullmatch(number):
        return False
    check = int(number[-1])
    match len(number):
        case 12:  # Express
            return _weighted_sum(number[:11], _FEDEX_12_WEIGHTS) % 11 % 10 == check
        case 15:  # Ground
            return _mod10(number[:14], evens=1, odds=3) == check
        case 20:  # SmartPost without its "92" application identifier
            return _mod10("92" + number[:19], evens=3, odds=1) == check
        case 22 if number.startswith("96"):  # Ground 96: only the shipper and package ids are checked
            return _mod10(number[7:21], evens=1, odds=3) == check
        case 22 if number.startswith("92"):  # SmartPost
            return _mod10(number[:21], evens=3, odds=1) == check
        case 34 if number.startswith(("100", "96")):  # Express 34 and Ground GSN
            return _weighted_sum(number[20:33], _FEDEX_34_WEIGHTS) % 11 % 10 == check
        case _:
            return False


def _is_dhl_express(number: str) -> bool:
    # The weakest check (one random number in seven passes), so it is tried last.
    return len(number) in (10, 11) and number.isdigit() and int(number[:-1]) % 7 == int(number[-1])


_VALIDATORS: tuple[tuple[Carrier, Callable[[str], bool]], ...] = (
    (Carrier.UPS, _is_ups),
    (Carrier.UPU_S10, _is_s10),
    (Carrier.USPS, _is_usps),
    (Carrier.FEDEX, _is_fedex),
    (Carrier.DHL_EXPRESS, _is_dhl_express),
)


def _mod10(serial: str, *, evens: int, odds: int) -> int:
    """Check digit of the carriers' "mod 10": weights alternate from the left, starting at index 0.

    Letters (UPS account ids) count as (ord - 3) % 10, as in the carriers' published algorithm.
    """
    total = 0
    for index, char in enumerate(serial):
        value = int(char) if char.isdigit() else (ord(char) - 3) % 10
        total += value * (odds if index % 2 else evens)
    return (10 - total % 10) % 10


def _weighted_sum(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(digit) * weight for digit, weight in zip(digits, weights, strict=False))
