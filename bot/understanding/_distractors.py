r"""Spans of text whose digits are not an order reference: phone numbers, dates, times, money, postcodes,
quantities, links.

Patterns run on `normalize`d, upper-cased text. Every digit run is anchored with look-arounds and
possessive quantifiers so a long adversarial string is scanned in linear time.

"Not after a digit" is written after the pattern's first character, as `\d(?<!\d\d)` rather than
`(?<!\d)\d`: the two match the same, but a pattern that starts with a character class lets the regex
engine skip, in C, the positions where that class does not match, where one that starts with a
look-behind is tried at every position of the text.
"""

from __future__ import annotations

import functools
import re
from typing import NamedTuple

_MONTH = (
    r"(?:JAN(?:UARY)?|FEB(?:RUARY)?|MAR(?:CH)?|APR(?:IL)?|MAY|JUNE?|JULY?|AUG(?:UST)?"
    r"|SEPT?(?:EMBER)?|OCT(?:OBER)?|NOV(?:EMBER)?|DEC(?:EMBER)?)(?![A-Z])"
)
_ORDINAL = r"(?:ST|ND|RD|TH)?"
_YEAR = r"(?:19|20)\d{2}(?!\d)"

# Units that turn the number before them into an amount: durations, counts, weights, money, scores.
_UNITS = (
    r"(?:DAYS?|WEEKS?|WKS?|HOURS?|HRS?|MINUTES?|MINS?|SECONDS?|SECS?|MONTHS?|YEARS?|YRS?"
    r"|ITEMS?|PCS?|PIECES?|PACKAGES?|PARCELS?|BOXES|BOX|UNITS?|PAIRS?|TIMES|ORDERS"
    r"|KGS?|GRAMS?|LBS?|OZ|CM|MM|KM|MILES?|POINTS?|PTS|STARS?"
    r"|DOLLARS?|BUCKS|EUROS?|POUNDS?|YUAN|YEN|RMB|CNY|USD|EUR|GBP|JPY|HKD|CAD|AUD|SGD|NTD|TWD)(?![A-Z])"
    r"|%|元|块|圆|円|美元|美金|欧元|英镑|日元|港币|天|周|星期|个月|年|小时|分钟|秒|件|个|次|包|箱|盒|份|双"
    r"|条|支|瓶|公斤|千克|斤|克|积分|分"
)
_CURRENCY_BEFORE = (
    r"(?:[$€£¥₹₩]|(?<![A-Z])(?:US|HK|NT|[CAS])\$|(?<![A-Z])(?:RMB|CNY|USD|EUR|GBP|HKD|CAD|AUD)|人民币)"
)
_US_STATES = (
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC"
    " ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY"
).split()

_MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_CURRENCY_MARKS = ("$", "€", "£", "¥", "₹", "₩", "RMB", "CNY", "USD", "EUR", "GBP", "HKD", "CAD", "AUD", "人民币")
_DATE_SEPARATORS = ("-", "/", ".")


class _Distractor(NamedTuple):
    """A pattern, and what every one of its matches contains, read off the pattern.

    Most DMs have no phone number, date or price in them; checking these cheap conditions first skips
    the scans that cannot match, and the scans are the cost. A condition left at its default says nothing.
    """

    pattern: re.Pattern[str]
    needs_one_of: tuple[str, ...] = ()  # substrings, one of which every match contains
    digits: int = 0  # every match has at least this many decimal digits (`\d`: any script)...
    run: int = 0  # ...and at least this many in a row


def _distractor(pattern: str, *needs_one_of: str, digits: int = 0, run: int = 0) -> _Distractor:
    return _Distractor(re.compile(pattern), needs_one_of, digits, run)


_DISTRACTORS = (
    # phones: international, North American, Chinese mobile and landline, UK-style trunk "0"
    _distractor(r"\+(?:[\s.\-()]{0,2}+\d){7,15}+", "+", digits=7),
    _distractor(r"(?<![\d+])\(?\d{3}\)?[\s.\-]?\d{3}[\s.\-]\d{4}(?!\d)", digits=10, run=4),
    _distractor(r"1(?<!\d1)[3-9]\d(?:[\s\-]\d{4}[\s\-]?\d{4}|\d{4}[\s\-]\d{4})(?!\d)", digits=11, run=4),
    _distractor(r"0(?<!\d0)\d{2,4}[\s\-]\d{3,4}[\s\-]?\d{3,4}(?!\d)", "0", digits=9, run=3),
    # dates and times
    _distractor(
        r"\d(?<!\d\d)\d{3}\s?[\-/.年]\s?\d{1,2}\s?[\-/.月]\s?\d{1,2}(?!\d)", *_DATE_SEPARATORS, "年", digits=6, run=4
    ),
    _distractor(r"\d(?<!\d\d)\d?[\-/.]\d{1,2}[\-/.]\d{2,4}(?!\d)", *_DATE_SEPARATORS, digits=4, run=2),
    _distractor(r"\d(?<!\d\d)\d{3}年(?:\d{1,2}月)?", "年", digits=4, run=4),
    _distractor(r"\d(?<!\d\d)\d?月(?:\d{1,2}[日号])?", "月", digits=1, run=1),
    _distractor(
        rf"\d(?<!\d\d)\d?{_ORDINAL}\s*(?:OF\s+)?{_MONTH}(?:,?\s*{_YEAR})?", *_MONTH_NAMES, digits=1, run=1
    ),
    _distractor(
        rf"(?<![A-Z]){_MONTH}\.?\s*\d{{1,2}}{_ORDINAL}(?!\d)(?:,?\s*{_YEAR})?", *_MONTH_NAMES, digits=1, run=1
    ),
    _distractor(rf"(?<![A-Z]){_MONTH}\.?,?\s*{_YEAR}", *_MONTH_NAMES, digits=4, run=4),
    _distractor(r"\d(?<!\d\d)\d?:\d{2}(?::\d{2})?", ":", digits=3, run=2),
    _distractor(r"\d(?<!\d\d)\d?\s*[AP]\.?M(?![A-Z])", "AM", "PM", "A.M", "P.M", digits=1, run=1),
    _distractor(r"\d(?<!\d\d)\d?[点時时]", "点", "時", "时", digits=1, run=1),
    # money: a currency before, thousands separators, decimals
    _distractor(rf"{_CURRENCY_BEFORE}\s*\d++(?:[.,]\d++)*+", *_CURRENCY_MARKS, digits=1, run=1),
    _distractor(r"\d(?<![\d.,]\d)\d{0,2}(?:,\d{3})++(?:\.\d++)?", ",", digits=4, run=3),
    _distractor(r"\d(?<![\d.]\d)\d*+\.\d++", ".", digits=2, run=1),
    # amounts: a number followed by a unit
    _distractor(rf"\d(?<![\dA-Z]\d)\d*+(?:[.,]\d++)?\s*(?:{_UNITS})", digits=1, run=1),
    # postcodes: UK, Canadian, ZIP+4, and "City, ST 94107"
    _distractor(r"[A-Z](?<![A-Z0-9][A-Z])[A-Z]?\d[A-Z\d]?\s?\d[A-Z]{2}(?![A-Z0-9])", digits=2, run=1),
    _distractor(r"[A-Z](?<![A-Z0-9][A-Z])\d[A-Z]\s?\d[A-Z]\d(?![A-Z0-9])", digits=3, run=1),
    _distractor(r"\d(?<!\d\d)\d{4}-\d{4}(?!\d)", "-", digits=9, run=5),
    _distractor(rf",\s*(?:{'|'.join(_US_STATES)})\s+\d{{5}}(?!\d)", ",", digits=5, run=5),
    # links and e-mail addresses carry ids of their own
    _distractor(r"(?:HTTPS?://|WWW\.)[^\s]{1,500}", "HTTP", "WWW."),
    _distractor(r"(?<![A-Z0-9._%+\-])[A-Z0-9._%+\-]{1,64}@[A-Z0-9.\-]{1,255}", "@"),
)


# An unbroken 11-digit run shaped like a Chinese mobile number could still be a long order number, so it
# only counts as a phone when no order word introduces it.
_PHONE_SHAPED = (_distractor(r"1(?<!\d1)[3-9]\d{9}(?!\d)", "1", digits=11, run=11),)

# How strongly a character is ruled out of an order reference; order_numbers decides what overrides each.
MASKED_UNLESS_ORDER_CONTEXT, MASKED_UNLESS_INTRODUCED, MASKED = 1, 2, 3  # 0: not masked

_DIGIT_RUN = re.compile(r"\d+")
_LEVELS = ((_PHONE_SHAPED, MASKED_UNLESS_INTRODUCED), (_DISTRACTORS, MASKED))
_MARKERS = sorted({needed for distractors, _ in _LEVELS for item in distractors for needed in item.needs_one_of})
# Every occurrence of every marker: the look-ahead tries each position, and as no marker starts another
# ("M" would start "MAY"), at most one of them can occur at a position.
if any(other != marker and other.startswith(marker) for marker in _MARKERS for other in _MARKERS):
    raise ValueError("a distractor marker starts another one, so it could go unseen")
_MARKER = re.compile("(?=(" + "|".join(map(re.escape, _MARKERS)) + "))")
_MOST_DIGITS_NEEDED = max(item.digits for distractors, _ in _LEVELS for item in distractors)
# `bytes.translate` tables raising every byte below a level to it, so `mark` runs in C.
_RAISE_TO = {level: bytes(max(value, level) for value in range(256)) for level in range(4)}


def distractor_mask(normalized_upper: str) -> bytearray:
    """One byte per character of `normalized_upper`, holding the strongest masking level covering it."""
    mask = bytearray(len(normalized_upper))
    runs = [len(run) for run in _DIGIT_RUN.findall(normalized_upper)]
    digits, longest_run = sum(runs), max(runs, default=0)
    markers = frozenset(_MARKER.findall(normalized_upper))
    shape = (markers, min(digits, _MOST_DIGITS_NEEDED), min(longest_run, _MOST_DIGITS_NEEDED))
    for pattern, level in _possible(*shape):
        for match in pattern.finditer(normalized_upper):
            mark(mask, match.start(), match.end(), level)
    return mask


@functools.lru_cache(maxsize=256)
def _possible(markers: frozenset[str], digits: int, longest_run: int) -> tuple[tuple[re.Pattern[str], int], ...]:
    """The patterns that could match a text with these markers and digits, in order, with their levels.

    Cached: DMs fall into few such shapes, and deciding costs more than the scans it saves. The counts
    come capped at the most any pattern needs, which keeps the number of shapes small.
    """
    return tuple(
        (item.pattern, level)
        for distractors, level in _LEVELS
        for item in distractors
        if digits >= item.digits
        and longest_run >= item.run
        and (not item.needs_one_of or not markers.isdisjoint(item.needs_one_of))
    )


def mark(mask: bytearray, start: int, end: int, level: int) -> None:
    mask[start:end] = mask[start:end].translate(_RAISE_TO[level])
