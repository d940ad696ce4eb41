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
from typing import NamedTuple

from bot.understanding._text import HAN_PATTERN, normalize_lower
from bot.understanding._trie import PhraseFinder

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
_CLAUSE_SEPARATORS = ",.;!?，。；！？、\n"
_CLAUSE = re.compile(f"[^{_CLAUSE_SEPARATORS}]+")
# A Latin word or a Han character: what makes a clause more than its phrases, and what `_near` counts.
_WORD_OR_HAN = re.compile(r"[a-z0-9']+|" + HAN_PATTERN.pattern)
_LATIN_WORD_CHARS = "a-z0-9'"


# Records are NamedTuples rather than frozen dataclasses: just as immutable, and several times cheaper
# to create, which counted with a dozen of them made per DM.
class Hit(NamedTuple):
    tag: str
    start: int
    end: int
    negated: bool = False  # for a phrase: a negator applies to it
    applied: bool = False  # for a negator: it negates some phrase


class Clause(NamedTuple):
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
        for phrase in self._tag_by_phrase:
            if any(char in _CLAUSE_SEPARATORS for char in phrase):
                # `read` finds phrases in the whole text at once, which is reading clause by clause only
                # as long as no phrase can run from one clause into the next.
                raise ValueError(f"phrase {phrase!r} contains a clause separator")
        # The longest phrase wins where several match: "no problem" over "no", "不好意思" over "不好".
        # Spaces never span a newline, which separates clauses.
        self._finder = word_phrase_finder(self._tag_by_phrase)

    def read(self, text: str, *, with_hits_only: bool = False) -> list[Clause]:
        """The clauses of `text`, in order. `with_hits_only` leaves out the clauses no listed phrase was
        found in, which cannot have hits: readers that only look at hits need not pay for them."""
        normalized = normalize_lower(text)
        spans = self._finder.find(normalized)
        tag_by_phrase, negating_tags = self._tag_by_phrase, self._negating_tags
        found = 0
        clauses: list[Clause] = []
        for clause in _CLAUSE.finditer(normalized):
            start, end = clause.span()
            if with_hits_only:
                if found == len(spans):
                    break  # no phrase in this clause or any later one
                if spans[found][0] >= end:
                    continue  # none in this one
            clause_text = clause.group()
            hits: list[Hit] = []
            negates = False
            bare = True  # until a word or Han character turns up outside the phrases
            covered_to = start
            # Phrases never span clauses (see __init__), so the next ones found lie in this clause.
            while found < len(spans) and spans[found][0] < end:
                phrase_start, phrase_end = spans[found]
                found += 1
                if bare and covered_to < phrase_start and _WORD_OR_HAN.search(normalized, covered_to, phrase_start):
                    bare = False
                covered_to = phrase_end
                phrase = normalized[phrase_start:phrase_end]
                tag = tag_by_phrase.get(phrase) or tag_by_phrase[" ".join(phrase.split())]
                if tag != IGNORED and tag != FILLER:
                    hits.append(Hit(tag, phrase_start - start, phrase_end - start))
                    negates = negates or tag in negating_tags
            if bare and covered_to < end and _WORD_OR_HAN.search(normalized, covered_to, end):
                bare = False
            clauses.append(
                Clause(
                    clause_text,
                    # Without a negator there is nothing to resolve: every hit stands as found.
                    tuple(_resolve_negation(clause_text, hits, negating_tags) if negates else hits),
                    normalized[end : end + 1] == "?" or clause_text.rstrip().endswith(("吗", "嘛", "么")),
                    bare,
                )
            )
        return clauses


def word_phrase_finder(phrases: Iterable[str]) -> PhraseFinder:
    """Phrases matched as whole words in Latin script (any characters in Chinese); spaces never span lines."""
    return PhraseFinder(
        phrases,
        gap=r"[^\S\n]+",
        optional_gap=False,
        word_before=_LATIN_WORD_CHARS,
        starts_word=_is_latin_word_char,
        word_after=_LATIN_WORD_CHARS,
        ends_word=_is_latin_word_char,
    )


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
    # The classes are disjoint, so one pattern counts Latin words plus Han characters.
    return len(_WORD_OR_HAN.findall(text, gap_start, gap_end)) <= _WINDOW_WORDS


def _with(hit: Hit, *, negated: bool = False, applied: bool = False) -> Hit:
    return Hit(hit.tag, hit.start, hit.end, hit.negated or negated, hit.applied or applied)
