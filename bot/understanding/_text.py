"""Text normalization shared by every understanding module."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from bot.understanding._cache import per_text_cache

# Typographic quotes become ASCII so "don’t" and "don't" read the same.
_QUOTES = {"\u2018": "'", "\u2019": "'", "\u02bc": "'", "\u00b4": "'", "`": "'"}
_ASCII_QUOTES = "`"  # the only one an ASCII text can hold

_CJK_RANGES = (
    ("\u3400", "\u4dbf"),  # Extension A
    ("\u4e00", "\u9fff"),  # Unified Ideographs
    ("\uf900", "\ufaff"),  # Compatibility Ideographs
)


def _code_points(*ranges: tuple[int, int]) -> Iterable[str]:
    return (chr(code) for low, high in ranges for code in range(low, high + 1))


def _char_class(chars: Iterable[str]) -> re.Pattern[str]:
    """A class of `chars` written as ranges: `re` tests a long list of single characters one by one."""
    runs: list[list[int]] = []
    for code in sorted(map(ord, chars)):
        if runs and runs[-1][1] == code - 1:
            runs[-1][1] = code
        else:
            runs.append([code, code])
    return re.compile("[" + "".join(re.escape(chr(low)) + "-" + re.escape(chr(high)) for low, high in runs) + "]")


def _cleaned(char: str) -> str:
    category = unicodedata.category(char)
    if category == "Cf":
        return ""
    if category == "Cc" or category == "Zl" or category == "Zp":
        return " "
    return char


# Characters NFKC rewrites that Chinese and phone keyboards type all the time: full-width punctuation,
# digits and letters ("，", "１２３", "＃"), the ideographic space, "…". Replacing a character by its
# compatibility decomposition does not change the NFKC of the text (NFKC starts by decomposing every
# character that way), so doing these few with `str.replace` first is exact; it only spares the general
# algorithm, which is several times slower, when nothing else in the text needs it.
_DECOMPOSED = {
    char: unicodedata.normalize("NFKD", char)
    for char in _code_points((0x00A0, 0x00A0), (0x2026, 0x2026), (0x3000, 0x3000), (0xFF00, 0xFFEF))
    if unicodedata.normalize("NFKD", char) != char
}
_DECOMPOSABLE = _char_class(_DECOMPOSED)
# The full-width punctuation Chinese input methods type by default: looked for one by one first, as
# they are often all that keeps a Chinese DM from being NFKC already.
_IME_PUNCTUATION = "，！？：；（）"

# What `_cleaned` does to the characters it changes that DMs actually contain (ASCII and C1 controls, line
# separators, zero-width and bidi characters, the BOM, emoji tag characters), plus the quotes. Computed
# from `unicodedata` rather than written down, so it agrees with `_cleaned` on any Python version; a
# character outside these ranges still gets `_cleaned` through the slow path below.
_FIXES = {
    char: _QUOTES.get(char, _cleaned(char))
    for char in _code_points(
        (0x0000, 0x00FF), (0x02BC, 0x02BC), (0x0600, 0x070F), (0x0890, 0x08E2), (0x180E, 0x180E),
        (0x2000, 0x206F), (0xFEFF, 0xFEFF), (0xFFF9, 0xFFFB), (0xE0000, 0xE007F),
    )
    if _QUOTES.get(char, _cleaned(char)) != char
}
_FIXABLE = _char_class(_FIXES)


def normalize(text: str) -> str:
    """NFKC-fold `text` so full-width digits, "＃" and "￥" become their ASCII forms.

    Format characters (zero-width spaces, bidi overrides) are dropped because customers paste them
    invisibly inside numbers; other control characters become spaces so they still separate words.
    Case is left alone: each caller folds it the way its patterns need.
    """
    folded = text
    if not folded.isascii() and not unicodedata.is_normalized("NFKC", folded):  # ASCII is always NFKC
        for char in _IME_PUNCTUATION:
            if char in folded:
                folded = folded.replace(char, _DECOMPOSED[char])
        if not unicodedata.is_normalized("NFKC", folded):
            for char in set(_DECOMPOSABLE.findall(folded)):
                folded = folded.replace(char, _DECOMPOSED[char])
            folded = unicodedata.normalize("NFKC", folded)
    if folded.isprintable():  # no control, format or separator character: only quotes to fix
        for quote in _ASCII_QUOTES if folded.isascii() else _QUOTES:
            if quote in folded:
                folded = folded.replace(quote, "'")
        return folded
    for char in set(_FIXABLE.findall(folded)):
        folded = folded.replace(char, _FIXES[char])
    # Still not printable: a control, format or separator character outside `_FIXES` is left (or a space
    # other than " ", a surrogate, an unassigned code point, which `_cleaned` keeps as they are).
    return folded if folded.isprintable() else "".join(map(_cleaned, folded))


# The readers call these on the DM; `normalize` itself stays uncached for the many short pieces of text
# (candidate tracking numbers) that would only push the DM out of the cache.
normalize_cached = per_text_cache(normalize)


@per_text_cache
def normalize_lower(text: str) -> str:
    """`normalize(text).lower()`, for the readers whose patterns are lower-case."""
    return normalize_cached(text).lower()


@per_text_cache
def normalize_upper(text: str) -> str:
    """`normalize(text).upper()`, for the readers whose patterns are upper-case."""
    return normalize_cached(text).upper()


HAN_PATTERN = re.compile("[" + "".join(f"{low}-{high}" for low, high in _CJK_RANGES) + "]")
