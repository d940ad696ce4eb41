"""Reading a 1-5 satisfaction rating out of a reply: "5", "4/5", "5 stars", "⭐⭐⭐⭐", "五星", "给4分"."""

from __future__ import annotations

import re

from bot.understanding._cache import per_text_cache
from bot.understanding._text import normalize_lower

# fmt: off
_NUMERALS = {
    "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10,
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
}
# fmt: on
_NUMBER = r"(?<![\d.,])(\d{1,3}|[一二两三四五六七八九十]|\b(?:one|two|three|four|five)\b)(?![\d.,]\d)"
_STAR_CHARS = "⭐★🌟"

# Each pattern captures the score; anything outside 1..5 makes the reply ambiguous rather than a rating.
# Each comes with words one of which it cannot match without: a pattern none of whose words is in the
# reply cannot match it, so the scan is skipped (they are slow scans, starting with a look-behind).
_RATED: tuple[tuple[re.Pattern[str], re.Pattern[str]], ...] = tuple(
    (re.compile(pattern), re.compile("|".join(map(re.escape, required))))
    for pattern, required in (
        (rf"{_NUMBER}\s*(?:/|out of|of)\s*(5|10|100)(?![\d/])", ("/", "of")),
        (rf"{_NUMBER}\s*(?:stars?|颗星|星(?!期)|[{_STAR_CHARS}])", ("star", "星", *_STAR_CHARS)),
        (rf"{_NUMBER}\s*分(?!钟|之)", ("分",)),
        (
            rf"\b(?:rate|rated|rating|score|give)\b(?:\s*(?:(?:you|it|them|this|us|an?|is|of)\b|[:\-])){{0,3}}\s*{_NUMBER}"
            r"(?!\s*(?:/|out of|of))",
            ("rate", "rating", "score", "give"),
        ),
        (rf"(?:评分|打分|评价|打|给|评)\s*(?:是|为|:)?\s*{_NUMBER}(?!\s*(?:/|分|星|颗))", ("评", "打", "给")),
    )
)
_STAR_RUN = re.compile(rf"[{_STAR_CHARS}](?:\ufe0f?\s?[{_STAR_CHARS}])*")
_BARE = re.compile(r"[\s!.~]*([1-5]|[一二三四五])[\s!.~]*")


# Every way of giving a rating needs a number or a star, so a reply with neither has none. Most replies
# ("yes please", "where is my parcel") are answered by this one scan instead of the seven patterns.
_MAY_HOLD_A_RATING = re.compile(rf"\d|[一二两三四五六七八九十{_STAR_CHARS}]|one|two|three|four|five")


# Cached because a step may ask for the rating and for the intents, which include it.
@per_text_cache
def extract_rating(text: str) -> int | None:
    """The 1..5 rating in `text`, or None when there is none or more than one value is given."""
    normalized = normalize_lower(text)
    if not _MAY_HOLD_A_RATING.search(normalized):
        return None
    bare = _BARE.fullmatch(normalized)
    if bare is not None:
        return _value(bare.group(1))
    scores: set[int] = set()
    remainder = normalized
    for pattern, required in _RATED:
        matches = list(pattern.finditer(remainder)) if required.search(remainder) else None
        if not matches:
            continue
        for match in matches:
            score = _value(match.group(1))
            out_of = int(match.group(2)) if pattern.groups == 2 else 5
            scores.add(score if out_of == 5 else -1)
        remainder = pattern.sub(" ", remainder)
    # Stars typed on their own ("⭐⭐⭐⭐") are a rating by count; "5 ⭐" was read above.
    for run in _STAR_RUN.finditer(remainder):
        scores.add(sum(char in _STAR_CHARS for char in run.group()))
    if len(scores) == 1:
        (score,) = scores
        return score if 1 <= score <= 5 else None
    return None


def _value(numeral: str) -> int:
    return int(numeral) if numeral.isdigit() else _NUMERALS[numeral]
