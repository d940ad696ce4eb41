"""Which of the bot's languages a message is written in."""

from __future__ import annotations

import re
from typing import Literal

from bot.understanding._text import HAN_PATTERN, normalize_cached

Language = Literal["en", "zh"]

# Links, e-mail addresses and codes with digits (order and tracking numbers) say nothing about language.
_WEB_LINK = r"(?:https?://|www\.)\S{0,500}"
_LINK = re.compile(_WEB_LINK + r"|(?<![a-z0-9._%+\-])[a-z0-9._%+\-]{1,64}@[a-z0-9.\-]{1,255}", re.IGNORECASE)
# Without an "@" only the web-link half of `_LINK` can match, and alone it is a much faster scan (the
# e-mail half starts with a look-behind, which the engine tries at every position). Without "://" or
# "www." (no character but "W" matches "w" ignoring case) it cannot match either.
_WEB_LINK_ONLY = re.compile(_WEB_LINK, re.IGNORECASE)
_WWW = re.compile(r"[wW]{3}\.")
_CODE_CHAR, _CODE_SEPARATOR = "[a-z0-9]", "[-_/.:#]"
# How a text is cut into codes: letters and digits, joined by single separators ("A-1001", "1z/999").
# Only `_CODE_WITH_DIGIT` runs; this is its definition, which the tests hold it to.
_CODE = re.compile(rf"{_CODE_CHAR}+(?:{_CODE_SEPARATOR}{_CODE_CHAR}+)*", re.IGNORECASE)
# The codes of `_CODE` that contain a digit, cut exactly as `_CODE` cuts them, so they can be blanked by
# one `sub` rather than a Python call per word. A code starts at a code character that follows neither
# a code character nor a separator after one (the code before would have run on through it); from
# there the match is `_CODE`'s, and the look-ahead finds a digit in it, run by run.
_CODE_WITH_DIGIT = re.compile(
    rf"(?<!{_CODE_CHAR})(?<!{_CODE_CHAR}{_CODE_SEPARATOR})"
    rf"(?=(?:{_CODE_CHAR}++{_CODE_SEPARATOR}(?={_CODE_CHAR}))*[a-z]*[0-9])"
    rf"{_CODE_CHAR}+(?:{_CODE_SEPARATOR}{_CODE_CHAR}+)*",
    re.IGNORECASE,
)
_ASCII_DIGIT = re.compile("[0-9]")
_LATIN_WORD = re.compile(r"[a-zà-ɏ]+(?:'[a-zà-ɏ]+)*", re.IGNORECASE)
# A Chinese word averages about one and a half characters; comparing words with words lets the script
# that carries the sentence win: "我的order 1001还没到" is Chinese, "hi, 订单 is late" is English.
_HAN_CHARACTERS_PER_WORD = 1.5
_HAN_RUN = re.compile(HAN_PATTERN.pattern + "+")


def detect_language(text: str) -> Language | None:
    """The language whose script carries the words; None when there are none (digits, emoji, codes)."""
    words = normalize_cached(text)
    if "@" in words:
        words = _LINK.sub(" ", words)
    elif "://" in words or _WWW.search(words):
        words = _WEB_LINK_ONLY.sub(" ", words)
    if _ASCII_DIGIT.search(words):  # a code is only dropped for its digits, so without any all stay
        words = _CODE_WITH_DIGIT.sub(" ", words)
    # Counted by runs: one match per run of Han characters rather than one per character.
    chinese_words = 0.0 if words.isascii() else sum(map(len, _HAN_RUN.findall(words))) / _HAN_CHARACTERS_PER_WORD
    english_words = len(_LATIN_WORD.findall(words))
    if not chinese_words and not english_words:
        return None
    return "zh" if chinese_words >= english_words else "en"
