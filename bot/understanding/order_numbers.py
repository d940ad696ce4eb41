"""Finding the customer's order reference in a free-text DM.

The hard part is what to leave out: prices, phone numbers, postcodes, dates, quantities and tracking
numbers are digit runs too. A candidate survives when it is none of those, is not introduced by a word
that names it as one ("zip", "paid", "tracking", "快递单号"), and matches the shop's rules. Among the
survivors, one introduced by an order word or "#" wins, then a number that is the whole message, then
any other short enough not to be a phone or account number.
"""

from __future__ import annotations

import bisect
import functools
import re
from dataclasses import dataclass
from enum import Enum, auto
from typing import NamedTuple

from bot.understanding._distractors import (
    MASKED,
    MASKED_UNLESS_INTRODUCED,
    MASKED_UNLESS_ORDER_CONTEXT,
    distractor_mask,
    mark,
)
from bot.understanding._text import normalize_upper
from bot.understanding._trie import PhraseFinder
from bot.understanding.tracking_numbers import Carrier, locate_tracking_numbers


@functools.lru_cache(maxsize=32)
def _compile(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as error:
        raise ValueError(f"invalid order number pattern {pattern!r}: {error}") from error


@dataclass(frozen=True)
class OrderNumberRules:
    """What a valid order reference looks like in one shop (part of the flow data)."""

    # Must match the whole reference, case-insensitively; tried with and without the '#' typed before it.
    pattern: str = r"#?[A-Z]{0,4}-?\d{3,12}"
    min_digits: int = 3
    max_digits: int = 12

    def __post_init__(self) -> None:
        _compile(self.pattern)  # a broken shop pattern fails when the flow loads, not in the middle of a chat
        if not 1 <= self.min_digits <= self.max_digits:
            raise ValueError(f"need 1 <= min_digits <= max_digits, got {self.min_digits}..{self.max_digits}")


DEFAULT_RULES = OrderNumberRules()


class _Role(Enum):
    ORDER = auto()
    TRACKING = auto()
    PHONE = auto()
    POSTCODE = auto()
    PRICE = auto()
    QUANTITY = auto()


# Words that say what the number right after (or, for order words, right before) them is.
# A space in a phrase matches any spacing, including none.
# fmt: off
_CONTEXT_WORDS: dict[_Role, tuple[str, ...]] = {
    _Role.ORDER: (
        "order", "orders", "ord", "ref", "reference", "confirmation", "no.", "nr.",
        "订单", "订单号", "订单号码", "订单编号", "单号", "訂單", "訂單號", "單號",
    ),
    _Role.TRACKING: (
        "tracking", "awb", "waybill", "consignment",
        "ups", "usps", "fedex", "dhl", "ems", "royal mail", "china post",
        "快递", "快递单号", "快递号", "运单", "运单号", "物流", "物流单号", "物流号", "追踪号", "跟踪号",
        "查询号", "快遞單號", "運單號", "物流單號", "顺丰", "中通", "圆通", "申通", "韵达", "极兔", "邮政",
    ),
    _Role.PHONE: (
        "phone", "tel", "telephone", "mobile", "cell", "call", "call me", "call me at", "text me",
        "whatsapp", "wechat", "手机", "手机号", "手机号码", "电话", "电话号码", "联系电话",
        "联系方式", "微信",
    ),
    _Role.POSTCODE: (
        "zip", "zip code", "zipcode", "postcode", "postal code", "post code", "邮编", "邮政编码", "郵編",
    ),
    _Role.PRICE: (  # money, and the card it was paid with
        "paid", "pay", "paying", "cost", "costs", "price", "priced", "charged", "charge", "spent",
        "total", "amount", "worth", "card ending", "ending in",
        "付了", "付款", "支付", "花了", "价格", "价钱", "一共", "总共", "总价", "金额", "运费",
    ),
    _Role.QUANTITY: ("qty", "quantity", "等了", "数量"),
}
# fmt: on


def _key(phrase: str) -> str:
    return re.sub(r"\s+", "", phrase.upper())


def _is_ascii_letter(char: str) -> bool:
    return char.isascii() and char.isalpha()


_ROLE_BY_KEY = {_key(phrase): role for role, phrases in _CONTEXT_WORDS.items() for phrase in phrases}
# The longest word wins where several match, so "快递单号" (tracking) is read whole rather than as its tail
# "单号" (order). A space in a word matches any spacing, including none. A word must not be glued to
# letters or digits before it, nor, when it ends with a letter, to letters after it.
_CONTEXT_WORD = PhraseFinder(
    (phrase.upper() for phrases in _CONTEXT_WORDS.values() for phrase in phrases),
    gap=r"\s*",
    optional_gap=True,
    word_before="A-Z0-9",
    starts_word=_is_ascii_letter,
    word_after="A-Z",
    ends_word=_is_ascii_letter,
)
# What may sit between a context word and its number: "order number is: #1001", "订单号是：1001".
_GAP_BEFORE = re.compile(r"(?:[\s:#.=,(\[【\-*'\"]|NUMBER|NUM|NO|NR|ID|IS|WAS|MY|THE|是|为|為|号|號|码|碼)*")
_GAP_AFTER = re.compile(r"(?:[\s,]|号|號|的|IS|WAS|MY|THE)*")  # "1001号订单", "1001 is my order number"
_MAX_GAP = 16

_TOKEN = re.compile(r"(?<![0-9A-Z])[0-9A-Z]++(?:-[0-9A-Z]++)*")
# The tokens of `_TOKEN` with a digit in them, which are the only candidates: the same cut (a token starts
# where no token character comes before it, and runs on through hyphens), with a look-ahead that finds a
# digit in it, run by run. Words never reach Python this way; the tests hold the two patterns together.
_TOKEN_WITH_DIGIT = re.compile(r"(?<![0-9A-Z])(?=(?:[0-9A-Z]++-(?=[0-9A-Z]))*[A-Z]*[0-9])[0-9A-Z]++(?:-[0-9A-Z]++)*")
_MAX_TOKEN = 40
_ORDER_WORD_PREFIX = re.compile(r"(?:ORDER|ORD|NO|NR|REF)[#\-]?(?=[0-9])")
_MESSAGE_PUNCTUATION = re.compile(r"[\s#.,!?;:。！？，；：~]+")
# A bare 10+ digit number with nothing around it is more often a phone or account number than an order.
_MAX_DIGITS_WITHOUT_CONTEXT = 9
# Numeric-only carrier checks that random order numbers pass one time in 7 or 10.
_WEAK_TRACKING_LENGTHS = {Carrier.DHL_EXPRESS: (10, 11), Carrier.FEDEX: (12,)}


class _Candidate(NamedTuple):
    rank: int  # higher wins; equal ranks go to the earlier candidate
    reference: str


_INTRODUCED, _WHOLE_MESSAGE, _BARE = 3, 2, 1
# The weakest masks give way to stronger evidence: an order word or '#' vouches for a phone-shaped run or
# a number that passes a weak carrier check; a message that is nothing but the number vouches for the latter.
_MASK_OVERRIDDEN_UP_TO = {_INTRODUCED: MASKED_UNLESS_INTRODUCED, _WHOLE_MESSAGE: MASKED_UNLESS_ORDER_CONTEXT}


_ASCII_DIGIT = re.compile("[0-9]")


def extract_order_number(text: str, rules: OrderNumberRules = DEFAULT_RULES) -> str | None:
    """The order reference in `text`, without its '#' and upper-cased ("#1001" -> "1001"), or None."""
    normalized = normalize_upper(text)
    if not _ASCII_DIGIT.search(normalized):
        return None  # every candidate is a token with a digit in it: most replies have none
    context = _Context(normalized)
    best: _Candidate | None = None
    for token in _TOKEN_WITH_DIGIT.finditer(normalized):
        if len(token.group()) > _MAX_TOKEN:
            continue
        candidate = _candidate(token, context, rules)
        if candidate is not None and (best is None or candidate.rank > best.rank):
            best = candidate
    return None if best is None else best.reference


class _Context:
    """Context words, distractors and tracking numbers located once per message, as they are needed."""

    def __init__(self, normalized: str) -> None:
        self.text = normalized
        self.words = [(start, end, _role(normalized[start:end])) for start, end in _CONTEXT_WORD.find(normalized)]
        self.word_ends = [end for _, end, _ in self.words]
        self.word_starts = [start for start, _, _ in self.words]
        self._mask: bytearray | None = None
        self._whole_message: str | None = None

    @property
    def mask(self) -> bytearray:
        """Masking level per character: only a candidate that passed every other test needs it."""
        if self._mask is None:
            self._mask = distractor_mask(self.text)
            for located in locate_tracking_numbers(self.text):
                number = located.tracking_number
                weak = len(number.number) in _WEAK_TRACKING_LENGTHS.get(number.carrier, ())
                mark(self._mask, located.start, located.end, MASKED_UNLESS_ORDER_CONTEXT if weak else MASKED)
        return self._mask

    @property
    def whole_message(self) -> str:
        """The message without spaces and punctuation, to recognise a reply that is only a number."""
        if self._whole_message is None:
            self._whole_message = _MESSAGE_PUNCTUATION.sub("", self.text)
        return self._whole_message

    def role_before(self, start: int) -> _Role | None:
        index = bisect.bisect_right(self.word_ends, start) - 1
        if index < 0:
            return None
        _, word_end, role = self.words[index]
        gap = self.text[word_end:start]
        return role if len(gap) <= _MAX_GAP and _GAP_BEFORE.fullmatch(gap) else None

    def role_after(self, end: int) -> _Role | None:
        index = bisect.bisect_left(self.word_starts, end)
        if index == len(self.words):
            return None
        word_start, _, role = self.words[index]
        gap = self.text[end:word_start]
        return role if len(gap) <= _MAX_GAP and _GAP_AFTER.fullmatch(gap) else None

    def follows_hash(self, start: int) -> bool:
        return self.text[max(0, start - 3) : start].rstrip().endswith("#")


def _role(word: str) -> _Role:
    return _ROLE_BY_KEY.get(word) or _ROLE_BY_KEY[_key(word)]


def _candidate(token: re.Match[str], context: _Context, rules: OrderNumberRules) -> _Candidate | None:
    reference, start = token.group(), token.start()
    role = context.role_before(start)
    prefix = _ORDER_WORD_PREFIX.match(reference)
    if prefix is not None and not _matches(reference, rules, hashed=False):
        # "order1001", "ORDER-1001": the order word is glued to the number
        reference, start, role = reference[prefix.end() :], start + prefix.end(), _Role.ORDER
    hashed = context.follows_hash(start)
    if role is None and not hashed:
        role = context.role_after(token.end())
    if role not in (None, _Role.ORDER) or not _matches(reference, rules, hashed=hashed):
        return None
    if role is _Role.ORDER or hashed:
        rank = _INTRODUCED
    elif reference == context.whole_message:
        rank = _WHOLE_MESSAGE
    elif sum(char.isdigit() for char in reference) <= _MAX_DIGITS_WITHOUT_CONTEXT:
        rank = _BARE
    else:
        return None
    if max(context.mask[start : token.end()], default=0) > _MASK_OVERRIDDEN_UP_TO.get(rank, 0):
        return None
    return _Candidate(rank=rank, reference=reference)


def _matches(reference: str, rules: OrderNumberRules, *, hashed: bool) -> bool:
    digits = sum(char.isdigit() for char in reference)
    if not rules.min_digits <= digits <= rules.max_digits:
        return False
    pattern = _compile(rules.pattern)
    return any(pattern.fullmatch(form) for form in ((f"#{reference}", reference) if hashed else (reference,)))
