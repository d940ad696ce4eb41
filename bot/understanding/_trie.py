"""Finding the longest listed phrase at each position of a text, fast.

The plain way is one alternation of every phrase, longest first, run with `finditer`. Python's `re` tries
the branches of an alternation one after another, so with 400 phrases that is 400 attempts at every
position of the text, and it dominated reading a DM. Here the same matches come from patterns shaped as
tries, which share prefixes ("no", "no need", "no need for", "not"), so a position costs one branch per
first character at most, and the engine skips in C the positions no phrase can start at:

- Phrases that must start a word ("no" must not match inside "piano") are searched with the character
  before them consumed (`[^a-z0-9']no...`) rather than with a look-behind, so a position inside a word is
  rejected by the engine's first-character scan. The text is searched with a space before it, which
  stands for "no character" as the look-behind would.
- The other phrases (Chinese, "%", emoji) get a pattern each for the Basic Multilingual Plane and above
  it: `re` can only turn a set of first characters into a fast lookup table when all of them are in the
  BMP, and emoji are not.

Why the tries find what the alternation finds: two phrases can only both match at a position where one
continues the other (leaving spaces aside, their characters agree up to where the shorter one ends, as
spaces never stand for a character), so they lie on one path of the trie, and the trie, which tries a
longer continuation before settling for the phrase that ends where it stands, finds the longest, as
the longest-first alternation does. The patterns have no first characters in common, so at most one
matches at a position, and `find` merges what they find exactly as one left-to-right scan would.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

_PAD = " "  # stands for "no character" before the text; no phrase contains it at its start


@dataclass
class _Node:
    children: dict[str, _Node] = field(default_factory=dict)
    gap_before: dict[str, bool] = field(default_factory=dict)  # per child: may spaces precede it
    ends_phrase: bool = False


class PhraseFinder:
    """The longest of `phrases` at each position, left to right, without overlaps.

    In a phrase a single space stands for `gap`; with `optional_gap` the spaces may also be left out
    ("zip code" reads "zipcode" too). A phrase whose first character satisfies `starts_word` must not
    follow a character of the class `word_before` (written without brackets, like "a-z0-9'"); one whose
    last character satisfies `ends_word` must not precede a character of `word_after`.
    """

    def __init__(
        self,
        phrases: Iterable[str],
        *,
        gap: str,
        optional_gap: bool,
        word_before: str,
        starts_word: Callable[[str], bool],
        word_after: str,
        ends_word: Callable[[str], bool],
    ) -> None:
        phrases = list(phrases)
        for phrase in phrases:
            if "" in phrase.split(" ") or any(char.isspace() and char != " " for char in phrase):
                raise ValueError(f"phrase {phrase!r}: words must be separated by single spaces")

        def pattern(selected: list[str]) -> str:
            return _trie_pattern(
                selected, gap=gap, optional_gap=optional_gap, word_after=word_after, ends_word=ends_word
            )

        word_starts = [phrase for phrase in phrases if starts_word(phrase[0])]
        in_bmp = [phrase for phrase in phrases if not starts_word(phrase[0]) and phrase[0] <= "\uffff"]
        above_bmp = [phrase for phrase in phrases if not starts_word(phrase[0]) and phrase[0] > "\uffff"]
        # (pattern, how many characters it consumes before the phrase, the characters its phrases start
        # with): a text with none of the latter is not scanned, which spares most of what a short text
        # costs (the word-start pattern, for one, would try every Han character of a Chinese text).
        self._patterns: list[tuple[re.Pattern[str], int, re.Pattern[str]]] = [
            (
                re.compile(prefix + pattern(selected)),
                1 if prefix else 0,
                re.compile("[" + "".join(sorted({re.escape(phrase[0]) for phrase in selected})) + "]"),
            )
            for selected, prefix in ((word_starts, f"[^{word_before}]"), (in_bmp, ""), (above_bmp, ""))
            if selected
        ]
        # `finditer` goes on from where a match ends, so it cannot give the word-start pattern the last
        # character of its previous match as the character before the next. That only matters after a
        # phrase ending in a character that is not a word character ("ok的", "no."): see `find`.
        self._word_char = re.compile(f"[{word_before}]")
        self._word_start_may_end_off_word = any(not self._word_char.match(phrase[-1]) for phrase in word_starts)

    def find(self, text: str) -> list[tuple[int, int]]:
        """(start, end) of each phrase found in `text`, in order."""
        padded = _PAD + text
        # Fast path: each pattern scanned through on its own, which is exact unless two of them find
        # overlapping phrases or the case above occurs; then the text is read again in lock step.
        spans: list[tuple[int, int]] = []
        patterns_found = 0
        for pattern, lead, starts in self._patterns:
            if not starts.search(text):
                continue
            found = [(match.start() + lead - 1, match.end() - 1) for match in pattern.finditer(padded)]
            if found:
                patterns_found += 1
                spans += found
                if lead and self._word_start_may_end_off_word and self._ends_off_word(padded, found):
                    return self._find_in_lock_step(padded)
        if patterns_found > 1:
            spans.sort()
            if any(spans[index][1] > spans[index + 1][0] for index in range(len(spans) - 1)):
                return self._find_in_lock_step(padded)
        return spans

    def _ends_off_word(self, padded: str, spans: list[tuple[int, int]]) -> bool:
        return any(not self._word_char.match(padded, end) for _, end in spans)  # `end` is in `text`

    def _find_in_lock_step(self, padded: str) -> list[tuple[int, int]]:
        """What one left-to-right scan over all the phrases finds, from the patterns' searches."""
        patterns = self._patterns
        # The next match of each pattern, as (start, end) of its phrase in `padded`.
        pending = [_phrase_span(pattern.search(padded), lead) for pattern, lead, _ in patterns]
        spans: list[tuple[int, int]] = []
        while True:
            first = None
            for span in pending:
                if span is not None and (first is None or span[0] < first[0]):
                    first = span
            if first is None:
                return spans
            start, end = first
            spans.append((start - 1, end - 1))
            # The scan goes on from `end`. A pattern whose next match starts there or later keeps it:
            # searching again from `end` would find the same one, as what matches at a position does
            # not depend on where the search began (look-arounds see the whole text). The others search
            # again, the word-start one from the character before, which it consumes.
            for index, span in enumerate(pending):
                if span is not None and span[0] < end:
                    pattern, lead, _ = patterns[index]
                    pending[index] = _phrase_span(pattern.search(padded, end - lead), lead)


def _phrase_span(match: re.Match[str] | None, lead: int) -> tuple[int, int] | None:
    return None if match is None else (match.start() + lead, match.end())


def _trie_pattern(
    phrases: list[str], *, gap: str, optional_gap: bool, word_after: str, ends_word: Callable[[str], bool]
) -> str:
    root = _Node()
    gaps_by_key: dict[str, list[frozenset[int]]] = {}
    for phrase in phrases:
        node = root
        if optional_gap:
            key, gap_positions = _without_spaces(phrase)
            gaps_by_key.setdefault(key, []).append(gap_positions)
            for index, char in enumerate(key):
                node.gap_before[char] = node.gap_before.get(char, False) or index in gap_positions
                node = node.children.setdefault(char, _Node())
        else:
            for char in phrase:
                node = node.children.setdefault(char, _Node())
        node.ends_phrase = True
    if optional_gap:
        _check_gaps_merge_exactly(root, gaps_by_key)
    return _emit(root, gap=gap, after=lambda char: f"(?![{word_after}])" if ends_word(char) else "", path="")


def _without_spaces(phrase: str) -> tuple[str, frozenset[int]]:
    key, gaps = "", set()
    for word in phrase.split(" "):
        if key:
            gaps.add(len(key))
        key += word
    return key, frozenset(gaps)


def _check_gaps_merge_exactly(root: _Node, gaps_by_key: dict[str, list[frozenset[int]]]) -> None:
    """With optional spaces, a trie edge lets spaces in if any phrase through it does. That reads no
    phrase differently as long as the spaces each phrase gets that way are exactly those of a phrase with
    the same characters ("zip code" and "zipcode" become "zip code", which reads both)."""
    for key, own_gaps in gaps_by_key.items():
        node, merged = root, set()
        for index, char in enumerate(key):
            if node.gap_before[char]:
                merged.add(index)
            node = node.children[char]
        if frozenset(merged) not in own_gaps:
            raise ValueError(f"phrase {key!r}: optional spaces of longer phrases would change how it reads")


def _emit(node: _Node, *, gap: str, after: Callable[[str], str], path: str) -> str:
    branches = []
    for char, child in node.children.items():
        step = gap if char == " " else (gap if node.gap_before.get(char) else "") + re.escape(char)
        branches.append(step + _emit(child, gap=gap, after=after, path=path + char))
    if node.ends_phrase:  # tried last, so a longer phrase through this node wins
        branches.append(after(path[-1]))
    if len(branches) == 1 and path:
        return branches[0]
    return "(?:" + "|".join(branches) + ")"
