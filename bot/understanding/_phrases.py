"""Finding listed phrases in a DM, clause by clause, and deciding which ones are negated.

Intents and concerns are both read as "which listed phrases does the customer say, and do they say them
or deny them". A phrase table maps phrases to tags; the tags below are shared by every table.

Negation is local: a negator applies to the first phrase after it in the same clause, within a few words
("no refund needed", "I don't want to talk to a bot", "不要积分"); a negator with nothing after it applies
to the phrase before it ("refund is not needed", "积分不要了"). Punctuation and contrast words ("but",
"just", "直接") end a clause, so "I don't want to wait, just refund me" keeps the refund.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bot.understanding._text import HAN_PATTERN, normalize

NEGATOR = "negator"  # negates a neighbouring phrase
BOUNDARY = "boundary"  # a contrast word: what follows is a new clause
FILLER = "filler"  # words that do not change a short answer: "that's fine", "好的呀"
IGNORED = "ignored"  # idioms read whole so their parts do not count: "no problem" is not "no"

# fmt: off
NEGATORS: tuple[str, ...] = (
    "no", "not", "never", "no need", "no need for", "don't want", "do not want", "don't need", "do not need",
    "don't", "dont", "do not", "doesn't", "does not", "didn't", "did not", "won't",
    "will not", "wouldn't", "isn't", "aren't", "wasn't", "without", "neither", "nor", "instead of",
    "rather than", "unnecessary", "no longer",
    "不", "没", "没有", "别", "非", "不是", "并非", "而不是", "不想", "不想要", "无需", "无须",
    "不必", "没必要",
    "不要", "不用", "不需要",
)
BOUNDARIES: tuple[str, ...] = (
    "but", "just", "instead", "rather", "however", "though", "although", "so", "i want",
    "i'd like", "i would like", "i prefer", "i'd prefer", "i'll take", "i will take",
    "但", "但是", "可是", "不过", "而是", "就", "只", "直接", "还是", "换成", "改成", "我要", "我想要", "请",
)
FILLERS: tuple[str, ...] = (
    "that's", "thats", "that is", "that", "it's", "its", "it", "is", "sounds", "very", "really", "then",
    "oh", "ah", "well", "um", "uh", "hmm", "all", "me", "for", "by", "with", "i", "am", "i'm", "thanks",
    "thank you", "thx", "ty", "please", "pls", "plz", "真的",
    "那", "那就", "也", "都", "吧", "啊", "呀", "哦", "噢", "哈", "了", "的", "呢", "啦", "嘛", "谢谢", "我",
)
IGNORED_PHRASES: tuple[str, ...] = (
    "not sure", "no idea", "don't know", "dont know", "do not know", "oh no", "make sure",
    "不确定", "不知道", "不清楚", "不好意思", "不客气", "不用谢", "是不是", "好不好", "可不可以", "要不要",
    "行不行", "能不能", "对不对", "有没有", "人工智能", "不然", "要不然",
)
# fmt: on

_WINDOW_WORDS = 5
_CLAUSE = re.compile(r"[^,.;!?，。；！？、\n]+")
_WORD = re.compile(r"[a-z0-9']+")


@dataclass(frozen=True)
class Hit:
    tag: str
    start: int
    end: int
    negated: bool = False  # for a phrase: a negator applies to it
    applied: bool = False  # for a negator: it negates some phrase


@dataclass(frozen=True)
class Clause:
    text: str
    hits: tuple[Hit, ...]  # in order, BOUNDARY and negators included; IGNORED and FILLER left out
    is_question: bool
    is_bare: bool  # nothing in it but its hits and filler words: "ok", "that's fine", "不用了"


class PhraseTable:
    """Phrases by tag, compiled once. Phrases are lower-case; a space matches any run of spaces."""

    def __init__(
        self, phrases_by_tag: Mapping[str, Iterable[str]], *, negating_tags: frozenset[str] = frozenset()
    ) -> None:
        """`negating_tags` are a table's own tags whose phrases also negate, like NEGATOR does."""
        self._negating_tags = negating_tags | {NEGATOR}
        shared = {NEGATOR: NEGATORS, BOUNDARY: BOUNDARIES, FILLER: FILLERS, IGNORED: IGNORED_PHRASES}
        self._tag_by_phrase: dict[str, str] = {}
        for tag, phrases in (*shared.items(), *phrases_by_tag.items()):
            for phrase in phrases:
                self._tag_by_phrase[" ".join(phrase.lower().split())] = tag
        # Longest first: "no problem" must win over "no", "不好意思" over "不好".
        ordered = sorted(self._tag_by_phrase, key=len, reverse=True)
        self._pattern = re.compile("|".join(_phrase_pattern(phrase) for phrase in ordered))

    def read(self, text: str) -> list[Clause]:
        normalized = normalize(text).lower()
        return [
            self._read_clause(normalized, match.start(), match.end())
            for match in _CLAUSE.finditer(normalized)
        ]

    def _read_clause(self, text: str, start: int, end: int) -> Clause:
        clause_text = text[start:end]
        hits: list[Hit] = []
        covered = bytearray(len(clause_text))
        for match in self._pattern.finditer(clause_text):
            covered[match.start() : match.end()] = b"\x01" * (match.end() - match.start())
            tag = self._tag_by_phrase[" ".join(match.group().split())]
            if tag not in (IGNORED, FILLER):
                hits.append(Hit(tag=tag, start=match.start(), end=match.end()))
        uncovered = "".join(
            char if not flag else " " for char, flag in zip(clause_text, covered, strict=True)
        )
        return Clause(
            text=clause_text,
            hits=tuple(_resolve_negation(clause_text, hits, self._negating_tags)),
            is_question=text[end : end + 1] == "?" or clause_text.rstrip().endswith(("吗", "嘛", "么")),
            is_bare=not _WORD.search(uncovered) and not HAN_PATTERN.search(uncovered),
        )


def _phrase_pattern(phrase: str) -> str:
    body = r"\s+".join(re.escape(word) for word in phrase.split(" "))
    before = r"(?<![a-z0-9'])" if _is_latin_word_char(phrase[0]) else ""
    after = r"(?![a-z0-9'])" if _is_latin_word_char(phrase[-1]) else ""
    return before + body + after


def _is_latin_word_char(char: str) -> bool:
    return char.isascii() and (char.isalnum() or char == "'")


def _resolve_negation(text: str, hits: list[Hit], negating_tags: frozenset[str]) -> list[Hit]:
    resolved: list[Hit] = []
    pending: int | None = None  # index in `resolved` of a negator still looking for its phrase
    for hit in hits:
        if hit.tag == BOUNDARY:
            pending = None
            resolved.append(hit)
        elif hit.tag in negating_tags:
            pending = len(resolved)
            resolved.append(hit)
        elif pending is not None and _near(text, resolved[pending].end, hit.start):
            resolved[pending] = _with(resolved[pending], applied=True)
            resolved.append(_with(hit, negated=True))
            pending = None
        else:
            resolved.append(hit)
    if pending is not None:
        _negate_phrase_before(text, resolved, pending, negating_tags)
    return resolved


def _negate_phrase_before(
    text: str, resolved: list[Hit], negator_index: int, negating_tags: frozenset[str]
) -> None:
    """A negator closing its clause ("refund is not needed") denies the phrase before it."""
    negator = resolved[negator_index]
    for index in range(negator_index - 1, -1, -1):
        hit = resolved[index]
        if hit.tag in negating_tags or hit.tag == BOUNDARY:
            return
        if not hit.negated and _near(text, hit.end, negator.start):
            resolved[index] = _with(hit, negated=True)
            resolved[negator_index] = _with(negator, applied=True)
        return


def _near(text: str, gap_start: int, gap_end: int) -> bool:
    gap = text[gap_start:gap_end]
    return len(_WORD.findall(gap)) + len(HAN_PATTERN.findall(gap)) <= _WINDOW_WORDS


def _with(hit: Hit, *, negated: bool = False, applied: bool = False) -> Hit:
    return Hit(
        tag=hit.tag,
        start=hit.start,
        end=hit.end,
        negated=hit.negated or negated,
        applied=hit.applied or applied,
    )
