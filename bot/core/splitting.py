"""Cut a text that is too long for one DM into DMs that each read well on their own."""

from __future__ import annotations

import re
from typing import Final

# Where a cut reads best, best first: between paragraphs, lines, sentences (Latin and CJK), words.
_BREAKS: Final = (
    re.compile(r"\n\s*\n"),
    re.compile(r"\n"),
    re.compile(r"(?<=[.!?])\s+|(?<=[。！？])"),
    re.compile(r"\s+"),
)


def split_message(text: str, limit: int) -> list[str]:
    """``text`` as parts of at most ``limit`` characters, cut at the best boundary inside each part.

    A part never ends inside a word when a space is near enough; whitespace at a cut is dropped.
    Lengths are in code points, as X counts them.
    """
    if limit < 1:
        raise ValueError("limit must be positive")
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[: limit + 1]
        cut = _best_cut(window, limit)
        head, rest = rest[:cut].rstrip(), rest[cut:].lstrip()
        if head:
            parts.append(head)
    if rest or not parts:
        parts.append(rest)
    return parts


def _best_cut(window: str, limit: int) -> int:
    """The end of the first part: the last good boundary in the window's second half, else the limit."""
    floor = limit // 2  # a boundary too early would leave a stub of a DM
    for pattern in _BREAKS:
        ends = [match for match in pattern.finditer(window) if floor <= match.start() <= limit]
        if ends:
            last = ends[-1]
            return last.start() if last.start() > 0 else last.end()
    return limit
