"""Spans of text whose digits are not an order reference: phone numbers, dates, times, money, postcodes,
quantities, links.

Patterns run on `normalize`d, upper-cased text. Every digit run is anchored with look-arounds and
possessive quantifiers so a long adversarial string is scanned in linear time.
"""

from __future__ import annotations

import re

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

_DISTRACTOR_PATTERNS = tuple(
    re.compile(pattern)
    for pattern in (
        # phones: international, North American, Chinese mobile and landline, UK-style trunk "0"
        r"\+(?:[\s.\-()]{0,2}+\d){7,15}+",
        r"(?<![\d+])\(?\d{3}\)?[\s.\-]?\d{3}[\s.\-]\d{4}(?!\d)",
        r"(?<!\d)1[3-9]\d(?:[\s\-]\d{4}[\s\-]?\d{4}|\d{4}[\s\-]\d{4})(?!\d)",
        r"(?<!\d)0\d{2,4}[\s\-]\d{3,4}[\s\-]?\d{3,4}(?!\d)",
        # dates and times
        r"(?<!\d)\d{4}\s?[\-/.年]\s?\d{1,2}\s?[\-/.月]\s?\d{1,2}(?!\d)",
        r"(?<!\d)\d{1,2}[\-/.]\d{1,2}[\-/.]\d{2,4}(?!\d)",
        r"(?<!\d)\d{4}年(?:\d{1,2}月)?",
        r"(?<!\d)\d{1,2}月(?:\d{1,2}[日号])?",
        rf"(?<!\d)\d{{1,2}}{_ORDINAL}\s*(?:OF\s+)?{_MONTH}(?:,?\s*{_YEAR})?",
        rf"(?<![A-Z]){_MONTH}\.?\s*\d{{1,2}}{_ORDINAL}(?!\d)(?:,?\s*{_YEAR})?",
        rf"(?<![A-Z]){_MONTH}\.?,?\s*{_YEAR}",
        r"(?<!\d)\d{1,2}:\d{2}(?::\d{2})?",
        r"(?<!\d)\d{1,2}\s*[AP]\.?M(?![A-Z])",
        r"(?<!\d)\d{1,2}[点時时]",
        # money: a currency before, thousands separators, decimals
        rf"{_CURRENCY_BEFORE}\s*\d++(?:[.,]\d++)*+",
        r"(?<![\d.,])\d{1,3}(?:,\d{3})++(?:\.\d++)?",
        r"(?<![\d.])\d++\.\d++",
        # amounts: a number followed by a unit
        rf"(?<![\dA-Z])\d++(?:[.,]\d++)?\s*(?:{_UNITS})",
        # postcodes: UK, Canadian, ZIP+4, and "City, ST 94107"
        r"(?<![A-Z0-9])[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}(?![A-Z0-9])",
        r"(?<![A-Z0-9])[A-Z]\d[A-Z]\s?\d[A-Z]\d(?![A-Z0-9])",
        r"(?<!\d)\d{5}-\d{4}(?!\d)",
        rf",\s*(?:{'|'.join(_US_STATES)})\s+\d{{5}}(?!\d)",
        # links and e-mail addresses carry ids of their own
        r"(?:HTTPS?://|WWW\.)[^\s]{1,500}",
        r"(?<![A-Z0-9._%+\-])[A-Z0-9._%+\-]{1,64}@[A-Z0-9.\-]{1,255}",
    )
)


# An unbroken 11-digit run shaped like a Chinese mobile number could still be a long order number, so it
# only counts as a phone when no order word introduces it.
_PHONE_SHAPED_PATTERNS = (re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)"),)

# How strongly a character is ruled out of an order reference; order_numbers decides what overrides each.
MASKED_UNLESS_ORDER_CONTEXT, MASKED_UNLESS_INTRODUCED, MASKED = 1, 2, 3  # 0: not masked


def distractor_mask(normalized_upper: str) -> bytearray:
    """One byte per character of `normalized_upper`, holding the strongest masking level covering it."""
    mask = bytearray(len(normalized_upper))
    for patterns, level in (
        (_PHONE_SHAPED_PATTERNS, MASKED_UNLESS_INTRODUCED),
        (_DISTRACTOR_PATTERNS, MASKED),
    ):
        for pattern in patterns:
            for match in pattern.finditer(normalized_upper):
                mark(mask, match.start(), match.end(), level)
    return mask


def mark(mask: bytearray, start: int, end: int, level: int) -> None:
    for index in range(start, end):
        mask[index] = max(mask[index], level)
