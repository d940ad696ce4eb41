"""Which of the bot's languages a message is written in."""

from __future__ import annotations

import re
from typing import Literal

from bot.understanding._text import HAN_PATTERN, normalize

Language = Literal["en", "zh"]

# Links, e-mail addresses and codes with digits (order and tracking numbers) say nothing about language.
_LINK = re.compile(
    r"(?:https?://|www\.)\S{0,500}|(?<![a-z0-9._%+\-])[a-z0-9._%+\-]{1,64}@[a-z0-9.\-]{1,255}", re.IGNORECASE
)
_CODE = re.compile(r"[a-z0-9]+(?:[-_/.:#][a-z0-9]+)*", re.IGNORECASE)
_LATIN_WORD = re.compile(r"[a-zà-ɏ]+(?:'[a-zà-ɏ]+)*", re.IGNORECASE)
# A Chinese word averages about one and a half characters; comparing words with words lets the script
# that carries the sentence win: "我的order 1001还没到" is Chinese, "hi, 订单 is late" is English.
_HAN_CHARACTERS_PER_WORD = 1.5


def detect_language(text: str) -> Language | None:
    """The language whose script carries the words; None when there are none (digits, emoji, codes)."""
    words = _CODE.sub(_drop_codes, _LINK.sub(" ", normalize(text)))
    chinese_words = len(HAN_PATTERN.findall(words)) / _HAN_CHARACTERS_PER_WORD
    english_words = len(_LATIN_WORD.findall(words))
    if not chinese_words and not english_words:
        return None
    return "zh" if chinese_words >= english_words else "en"


def _drop_codes(token: re.Match[str]) -> str:
    return " " if any(char.isdigit() for char in token.group()) else token.group()
