"""Text normalization shared by every understanding module."""

from __future__ import annotations

import re
import unicodedata

# Typographic quotes become ASCII so "don’t" and "don't" read the same.
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u02bc": "'", "\u00b4": "'", "`": "'"})

_CJK_RANGES = (
    ("\u3400", "\u4dbf"),  # Extension A
    ("\u4e00", "\u9fff"),  # Unified Ideographs
    ("\uf900", "\ufaff"),  # Compatibility Ideographs
)


def normalize(text: str) -> str:
    """NFKC-fold `text` so full-width digits, "＃" and "￥" become their ASCII forms.

    Format characters (zero-width spaces, bidi overrides) are dropped because customers paste them
    invisibly inside numbers; other control characters become spaces so they still separate words.
    Case is left alone: each caller folds it the way its patterns need.
    """
    folded = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    return "".join(_clean_char(char) for char in folded)


def _clean_char(char: str) -> str:
    category = unicodedata.category(char)
    if category == "Cf":
        return ""
    if category == "Cc" or category == "Zl" or category == "Zp":
        return " "
    return char


HAN_PATTERN = re.compile("[" + "".join(f"{low}-{high}" for low, high in _CJK_RANGES) + "]")
