"""Whether a DM reads as angry or threatening, by the rules the admin keeps in the flow (``escalation.anger``).

Rule-based and explainable: a reading lists the signals it found, and the escalation records them, so a
person sees why a conversation was handed over. What counts:

- listed phrases (insults, profanity, angry slang, sarcasm, four kinds of threat, repeated complaints),
  each unless a cue cancels it: a negation just before it ("not going to sue", "有点无语"), reluctance
  just before it with no contrast after it in the sentence ("I'd rather not involve my bank" cancels, "...,
  but you leave me no choice" does not), a quoting cue before it in its clause ("my friend says I should
  sue"), quotes around it (someone else's words), an enquiry in its clause for a threat ("12315是什么")
  unless the DM is upset or names a parcel problem;
- a threat no list holds whole: a venue ("my credit card provider", "Reddit", "消费者组织") and a move that
  takes the complaint there ("contacting", "will be hearing about this", "投诉"), on the side of the venue
  the move is listed for, close together in one sentence of a DM that complains;
- praise that is sarcasm: in quotes ('fast' shipping) unless in a question that does not complain ("is 'next
  day' available?"), or listed irony in a DM that complains ("great job" next to "three weeks"); swearing
  masked with "*" or symbols ("f**k", "bullsh!t", "sh1t"); a listed word stretched out ("fuuuck");
- shape: shouting in capitals (not a question in capitals that complains of nothing: "ORDER #1002
  STATUS?"), runs of "!" and "?" (outside quotes);
- a complaint after enough earlier ones in the conversation (the caller counts them with `is_complaint`).

The learned model (``anger_model``, when ``escalation.anger.learned`` enables it) then adds what no list
holds: a DM the lists find calm is angry, or threatening, when the model's probability reaches the flow's
threshold, and the reading names it ``learned_anger`` or ``learned_threat``. It never takes away what the
lists found, and it does not read a DM where a cue cancelled a listed phrase: a negated, quoted or asked-about
threat stays the admin's call.

Joy is not anger: in a DM with a positive phrase ("love it", "谢谢", "😍"), no upset signal and no parcel
problem, capitals, "!!!" and swearing do not count ("OMG it's here!!!", "卧槽这么快!!!"), nor does telling
followers unless the DM complains. Each signal adds its weight once; the DM is angry at the threshold or
above, and any threat makes it angry and threatening whatever the score. Every list of both languages is
looked for in every DM, so a mixed message is read with both. At most `READ_AT_MOST` characters are read.
"""

from __future__ import annotations

import bisect
import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import NamedTuple

from bot.understanding._phrases import word_phrase_finder
from bot.understanding._text import HAN_PATTERN, normalize_cached, normalize_lower
from bot.understanding.anger_model import has_enough_words, shipped_model
from bot.understanding.concerns import Concern, detect_concern
from flows.anger_rules import AngerPhrases, AngerRules

__all__ = ["LEARNED_SIGNALS", "SIGNALS", "THREAT_SIGNALS", "AngerReading", "is_complaint", "read_anger"]

READ_AT_MOST = 4000  # characters of a DM read, as for the other readers (a DM is at most 10,000)

THREAT_SIGNALS: tuple[str, ...] = ("threat_public", "threat_consumer_body", "threat_chargeback", "threat_legal")
# What the learned model read where the lists found nothing of the kind (``anger_model``).
LEARNED_SIGNALS: tuple[str, ...] = ("learned_anger", "learned_threat")
SIGNALS: tuple[str, ...] = (
    "insult", "profanity", "angry_slang", "sarcasm", "all_caps", "exclamations", *THREAT_SIGNALS,
    "repeated_complaint", *LEARNED_SIGNALS,
)  # fmt: skip

# The lists of `AngerPhrases` that are signals, by the signal they make.
_SIGNAL_LISTS: dict[str, str] = {
    "insults": "insult",
    "profanity": "profanity",
    "angry_slang": "angry_slang",
    "sarcasm": "sarcasm",
    "threats_public": "threat_public",
    "threats_consumer_body": "threat_consumer_body",
    "threats_chargeback": "threat_chargeback",
    "threats_legal": "threat_legal",
    "repeated_complaint": "repeated_complaint",
}
_PRAISE, _FOLLOW_UP, _COMPLAINT, _POSITIVE = "sarcasm_in_complaints", "follow_up", "complaint", "positive"
_QUOTED_PRAISE = "quoted_praise"
# Not a signal: a listed phrase was found but a cue cancelled it (negated, quoted, asked about). The learned
# model is not asked to read such a DM, so it cannot undo what the admin's cues decided.
_CANCELLED = "cancelled"
_NEGATION, _QUOTING, _ENQUIRY, _HARMLESS = "negation", "quoting", "enquiry", "harmless"
_RELUCTANCE, _CONTRAST = "reluctance", "contrast"
# Moves by the side of the venue they are on, and whether they make a threat only in a DM that complains.
_MOVE, _MOVE_AFTER, _WEAK_MOVE, _WEAK_MOVE_AFTER = "move", "move_after", "weak_move", "weak_move_after"
_BEFORE_VENUE, _AFTER_VENUE = frozenset({_MOVE, _WEAK_MOVE}), frozenset({_MOVE_AFTER, _WEAK_MOVE_AFTER})
_MOVES = _BEFORE_VENUE | _AFTER_VENUE
# Cues: never signals themselves, they cancel the hits they reach (harmless phrases only absorb their words).
_CANCELLING = frozenset({_NEGATION, _QUOTING, _ENQUIRY, _HARMLESS, _RELUCTANCE, _CONTRAST})
# A venue's tag names the threat it makes with a move: "venue:threat_chargeback".
_VENUE_PREFIX, _WEAK_VENUE_PREFIX = "venue:", "venue?:"  # a venue reached by a move, or only by a weak one
_VENUE_LISTS: dict[str, str] = {
    "venues_public": "threat_public",
    "venues_consumer_body": "threat_consumer_body",
    "venues_chargeback": "threat_chargeback",
    "venues_legal": "threat_legal",
}
# The other lists: what the signals depend on, and the cues that cancel them.
_CUE_LISTS: dict[str, str] = {
    "sarcasm_in_complaints": _PRAISE,
    "follow_ups": _FOLLOW_UP,
    "complaint_cues": _COMPLAINT,
    "positive": _POSITIVE,
    "negations": _NEGATION,
    "reluctance": _RELUCTANCE,
    "contrasts": _CONTRAST,
    "quoting": _QUOTING,
    "threat_moves": _MOVE,
    "threat_moves_after": _MOVE_AFTER,
    "threat_moves_in_complaints": _WEAK_MOVE,
    "threat_moves_after_in_complaints": _WEAK_MOVE_AFTER,
    **{field: _VENUE_PREFIX + signal for field, signal in _VENUE_LISTS.items()},
    "enquiries": _ENQUIRY,
    "harmless": _HARMLESS,
}

_CLAUSE_SEPARATORS = re.compile(r"[,.;!?。，；！？、\n]")
_SENTENCE_SEPARATORS = re.compile(r"[.!?。！？\n]")
_WORD_OR_HAN = re.compile(r"[a-z0-9']+|" + HAN_PATTERN.pattern)
# A letter typed three times or more: "fuuuck", "stilllll". Read again with the run as one letter.
_STRETCHED = re.compile(r"([a-z])\1{2,}")
# A word with letters masked by "*" or by a symbol inside it: "f**k", "sh*t", "f***ing", "bullsh!t", "sh1t",
# "a$$hole". Compared with the listed swear words, letter for letter, masks for any letter.
_MASK_CHARS = "*!@#$1"
_MASK_SET = frozenset(_MASK_CHARS)
_MASKED = re.compile(r"(?<![a-z0-9'*])[a-z](?:[a-z*]|[!@#$1](?=[a-z*!@#$1]))*[*!@#$1][a-z*]*(?![a-z0-9'*])")
# Words between quotes: someone else's ("my mum is like 'call a lawyer!!'"), or praise that is sarcasm
# when short ('fast' shipping, “极速”). A single quote opens only after a non-letter and closes only before
# one, so the apostrophes of "don't" and "customers'" are not quotes; inside a quote, an apostrophe between
# letters is part of a word ('this shop is a scam, I'm suing them').
_QUOTED = re.compile(
    r"\"([^\"\n]{1,120})\"|\u201c([^\u201c\u201d\n]{1,120})\u201d|[\u300c\u300e]([^\u300c-\u300f\n]{1,120})[\u300d\u300f]"
    r"|(?<![a-z0-9])'((?:[^'\n]|(?<=[a-z])'(?=[a-z])){1,120})'(?![a-z0-9])",
    re.IGNORECASE,
)
_QUOTED_PRAISE_MAX_CHARS = 30
_QUOTE_CHARS = frozenset("\"'\u201c\u300c\u300e")
_POSSESSIVE = re.compile(r"(?<=[a-z0-9])'(?=s(?![a-z0-9']))")
_POSSESSIVE_MARK = "\u02bc"  # what `normalize` folds into "'", so no normalized text holds it
_WORD = re.compile(r"[^\W_]")  # a letter or digit of any script
_LATIN_WORD = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]+(?![A-Za-z0-9])")


@dataclass(frozen=True, slots=True)
class AngerReading:
    angry: bool
    threat: bool
    score: float
    signals: tuple[str, ...]  # in the order of `SIGNALS`


class _Hit(NamedTuple):
    start: int
    end: int
    tags: tuple[str, ...]


def _key(phrase: str) -> str:
    """A listed phrase as the text it is looked for in is: normalized ("what’s" is "what's", "ＢＢＢ" is
    "bbb"), lower case, single spaces, possessives apart. Otherwise such a phrase could never match."""
    return _with_possessives_apart(" ".join(normalize_lower(phrase).split()))


def _with_possessives_apart(lower: str) -> str:
    """Read "bbb's" as "bbb" and "'s": the apostrophe of "'s" becomes a character that is not part of a
    word, in the text and in the phrases alike, so "what's wrong" still matches itself. Same length."""
    return _POSSESSIVE.sub(_POSSESSIVE_MARK, lower) if "'s" in lower else lower


class _CompiledRules:
    """One `AngerRules` made ready to read with: every phrase of both languages in one finder."""

    def __init__(self, rules: AngerRules) -> None:
        self.rules = rules
        tags_by_phrase: dict[str, list[str]] = {}
        praise: set[str] = set()
        swear_words: set[str] = set()
        for phrases in (rules.en, rules.zh):
            for field, tag in (*_SIGNAL_LISTS.items(), *_CUE_LISTS.items()):
                for phrase in _phrases_of(phrases, field):
                    tags = tags_by_phrase.setdefault(_key(phrase), [])
                    if tag not in tags:
                        tags.append(tag)
            praise.update(_key(phrase) for phrase in phrases.quoted_praise)
            swear_words.update(
                _key(phrase) for phrase in phrases.profanity if _key(phrase).isalpha() and _key(phrase).isascii()
            )
        self.tags_by_phrase = {phrase: tuple(tags) for phrase, tags in tags_by_phrase.items()}
        self.finder = word_phrase_finder(self.tags_by_phrase) if self.tags_by_phrase else None
        self.praise_finder = word_phrase_finder(praise) if praise else None
        self.exclamations = re.compile(f"[!?]{{{rules.exclamation_run},}}")
        self.swear_words_by_length: dict[int, tuple[str, ...]] = {}
        for word in sorted(swear_words):
            self.swear_words_by_length[len(word)] = (*self.swear_words_by_length.get(len(word), ()), word)


def _phrases_of(phrases: AngerPhrases, field: str) -> list[str]:
    value: list[str] = getattr(phrases, field)
    return value


# Compiled rules by the identity of the rules object: a flow document is loaded once and read with for
# every DM. The entry keeps the rules alive, so their id cannot be reused while it is cached.
_COMPILED: OrderedDict[int, _CompiledRules] = OrderedDict()
_COMPILED_KEPT = 8


def _compiled(rules: AngerRules) -> _CompiledRules:
    compiled = _COMPILED.get(id(rules))
    if compiled is not None and compiled.rules is rules:
        _COMPILED.move_to_end(id(rules))
        return compiled
    compiled = _CompiledRules(rules)
    _COMPILED[id(rules)] = compiled
    if len(_COMPILED) > _COMPILED_KEPT:
        _COMPILED.popitem(last=False)
    return compiled


# Signals that say the customer is upset: praise next to them is sarcasm, and "!!!" next to them is not
# joy. Swearing, shouting and telling followers are left out: they are also how excitement reads.
_UPSET = frozenset(
    {"insult", "angry_slang", "sarcasm", "threat_consumer_body", "threat_chargeback", "threat_legal",
     "repeated_complaint"}
)  # fmt: skip
# What makes a DM complain, with the upset signals and a named parcel problem.
_COMPLAINING = _UPSET | {_FOLLOW_UP, _COMPLAINT}
_SIGNALS_SET = frozenset(SIGNALS)
_COMPLAINT_TAGS = _COMPLAINING | _SIGNALS_SET
# What a happy DM does not count: how excitement reads.
_EXCITEMENT = frozenset({"profanity", "all_caps", "exclamations", "threat_public"})


def read_anger(text: str, rules: AngerRules, *, complaints_before: int = 0) -> AngerReading:
    """How angry `text` reads by `rules`; `complaints_before` counts the earlier complaints of this
    conversation (see `is_complaint`)."""
    text = text[:READ_AT_MOST]
    reading = _Reading(text, _compiled(rules))
    found = reading.signals()
    if complaints_before >= rules.repeated_after and reading.complains(found):
        found.add("repeated_complaint")
    weights = rules.weights
    score = round(
        sum(getattr(weights, signal) for signal in SIGNALS if signal in found and hasattr(weights, signal)), 6
    )
    threat = any(signal in found for signal in THREAT_SIGNALS)
    angry = threat or score >= rules.threshold
    if rules.learned.enabled and not threat and not reading.cancelled and has_enough_words(text):
        # The model only adds: what the lists already found stands, and is what the reading names.
        learned, at = shipped_model().read(text), rules.learned
        if at.threat_at is not None and learned.threat >= at.threat_at:
            found.add("learned_threat")
            threat = angry = True
        elif not angry and at.angry_at is not None and learned.angry >= at.angry_at:
            found.add("learned_anger")
            angry = True
    signals = tuple(signal for signal in SIGNALS if signal in found)
    return AngerReading(angry=angry, threat=threat, score=score, signals=signals)


def is_complaint(text: str, rules: AngerRules) -> bool:
    """Whether `text` complains or chases an answer: a parcel problem, an anger signal, a complaint cue, a
    follow-up ("any update?", "在吗"). The caller counts these to pass `complaints_before` to `read_anger`."""
    reading = _Reading(text[:READ_AT_MOST], _compiled(rules))
    return reading.complains(reading.signals())


class _Reading:
    """One DM read with one set of rules; the parcel problem is looked for only when a rule needs it."""

    def __init__(self, text: str, compiled: _CompiledRules) -> None:
        self.text = text
        self.compiled = compiled
        self._names_a_problem: bool | None = None
        self.cancelled = False  # whether a cue cancelled a listed phrase (set by `signals`)

    def names_a_problem(self) -> bool:
        if self._names_a_problem is None:
            self._names_a_problem = detect_concern(self.text) is not Concern.OTHER
        return self._names_a_problem

    def complains(self, found: set[str]) -> bool:
        return not found.isdisjoint(_COMPLAINT_TAGS) or self.names_a_problem()

    def signals(self) -> set[str]:
        """The signals, with the follow-up and complaint cues; no count of earlier complaints yet."""
        said, enquired = _phrase_tags(self.text, self.compiled)
        found = said - {_PRAISE, _POSITIVE, _QUOTED_PRAISE, _CANCELLED}
        paired = {tag for tag in said | enquired if tag.startswith((_VENUE_PREFIX, _WEAK_VENUE_PREFIX))}
        if paired:
            found -= paired
            enquired = enquired - paired
            # A weak move makes a threat only in a DM that complains: "I'll call PayPal to raise my limit"
            # is not one, "still nothing after 3 weeks, calling PayPal" is.
            complains = self.complains(found)
            for tag in paired:
                strong = tag.startswith(_VENUE_PREFIX)
                if strong or complains:
                    threat = tag.removeprefix(_VENUE_PREFIX if strong else _WEAK_VENUE_PREFIX)
                    (found if tag in said else enquired).add(threat)
        # Asking what a word means is harmless ("12315是什么"); asking it while complaining is not.
        if enquired and (said & _UPSET or self.names_a_problem()):
            found |= enquired
        self.cancelled = _CANCELLED in said or not enquired <= found
        if _PRAISE in said and (found & _COMPLAINING or "profanity" in found or self.names_a_problem()):
            found.add("sarcasm")
        # Praise in quotes is sarcasm ("thanks for the 'fast' shipping"), but not in a question that does not
        # complain: "is 'next day' shipping available to Ireland?" names a service.
        if _QUOTED_PRAISE in said and (not _asks(self.text) or self.complains(found)):
            found.add("sarcasm")
        shape = _shape_signals(self.text, self.compiled)
        if "all_caps" in shape and _asks(self.text) and not _exclaims(self.text) and not self.complains(found):
            shape.discard("all_caps")  # a question in capitals about nothing wrong: "ORDER #1002 STATUS?"
        found |= shape
        if _POSITIVE in said and found & _EXCITEMENT and not found & _UPSET and not self.names_a_problem():
            # Joy: "OMG it's here!!!", "卧槽这么快!!!". Telling followers is praise unless the DM also
            # complains: a polite threat thanks too ("..., or I post it on Weibo. Thanks").
            found -= _EXCITEMENT if not found & _COMPLAINING else _EXCITEMENT - {"threat_public"}
        return found


def _asks(text: str) -> bool:
    return "?" in text or "？" in text


def _exclaims(text: str) -> bool:
    return "!" in text or "！" in text


def _shape_signals(text: str, compiled: _CompiledRules) -> set[str]:
    """Shouting and runs of "!" and "?", outside quotes: a quoted "where is it???" is someone else's."""
    cased = normalize_cached(text)
    if not _QUOTE_CHARS.isdisjoint(cased):
        cased = _QUOTED.sub(" ", cased)
    shape = set()
    if _shouts(cased, compiled.rules):
        shape.add("all_caps")
    # Marks alone (" ...?!? ") say nothing about what the customer feels: they need words to go with.
    if ("!" in cased or "?" in cased) and compiled.exclamations.search(cased) and _WORD.search(cased):
        shape.add("exclamations")
    return shape


def _phrase_tags(text: str, compiled: _CompiledRules) -> tuple[set[str], set[str]]:
    """The tags of the listed phrases found in `text`: those that stand, and those only an enquiry cancels."""
    lower = _with_possessives_apart(normalize_lower(text))
    found, enquired = _tags_in(lower, compiled)
    if _STRETCHED.search(lower):
        more, more_enquired = _tags_in(_STRETCHED.sub(r"\1", lower), compiled)
        found |= more
        enquired |= more_enquired
    return found, enquired - found


def _tags_in(lower: str, compiled: _CompiledRules) -> tuple[set[str], set[str]]:
    hits: list[_Hit] = []
    if compiled.finder is not None:
        tags_by_phrase = compiled.tags_by_phrase
        for start, end in compiled.finder.find(lower):
            phrase = lower[start:end]
            tags = tags_by_phrase.get(phrase) or tags_by_phrase[" ".join(phrase.split())]
            hits.append(_Hit(start, end, tags))
    if compiled.swear_words_by_length and not _MASK_SET.isdisjoint(lower):
        hits += _masked_swearing(lower, compiled.swear_words_by_length)
    if not _QUOTE_CHARS.isdisjoint(lower):
        quoted: list[tuple[int, int]] = []
        praised: list[_Hit] = []
        praise_finder = compiled.praise_finder
        for match in _QUOTED.finditer(lower):
            quoted.append(match.span())
            words = next(group for group in match.groups() if group is not None).strip()
            if praise_finder is not None and len(words) <= _QUOTED_PRAISE_MAX_CHARS and praise_finder.find(words):
                praised.append(_Hit(match.start(), match.start(), (_QUOTED_PRAISE,)))
        # What is between quotes is someone else's words, but for praise, which the quotes may make sarcasm.
        unquoted = [hit for hit in hits if not _in_quotes(hit, quoted)]
        if any(_makes_a_signal(hit) for hit in hits if _in_quotes(hit, quoted)):
            unquoted.append(_Hit(0, 0, (_CANCELLED,)))
        hits = unquoted + praised
    if not hits:
        return set(), set()
    hits.sort()
    return _uncancelled(lower, hits, compiled.rules)


def _makes_a_signal(hit: _Hit) -> bool:
    """Whether `hit` is a signal or part of a threat (a venue, a move), not a cue: cancelling one of those is
    the admin's decision that the model must not undo."""
    return any(tag in _SIGNALS_SET or tag in _MOVES or tag.startswith(_VENUE_PREFIX) for tag in hit.tags)


def _in_quotes(hit: _Hit, quoted: list[tuple[int, int]]) -> bool:
    """Whether `hit` overlaps one of the `quoted` spans (in order, apart from each other)."""
    after = bisect.bisect_right(quoted, hit.start, key=lambda span: span[0])  # the first span starting after it
    if after and quoted[after - 1][1] > hit.start:
        return True
    return after < len(quoted) and quoted[after][0] < hit.end


def _masked_swearing(lower: str, words_by_length: dict[int, tuple[str, ...]]) -> list[_Hit]:
    hits = []
    for match in _MASKED.finditer(lower):
        masked = match.group()
        for word in words_by_length.get(len(masked), ()):
            if masked != word and all(
                char in _MASK_CHARS or char == letter for char, letter in zip(masked, word, strict=True)
            ):
                hits.append(_Hit(match.start(), match.end(), ("profanity",)))
                break
    return hits


def _uncancelled(lower: str, hits: list[_Hit], rules: AngerRules) -> tuple[set[str], set[str]]:
    clause_ends = [match.start() for match in _CLAUSE_SEPARATORS.finditer(lower)]
    sentence_ends = [match.start() for match in _SENTENCE_SEPARATORS.finditer(lower)]
    # An enquiry only excuses the threats of its clause: "how many times do I have to ask" is still a repeat.
    enquiry_clauses = {bisect.bisect_left(clause_ends, hit.start) for hit in hits if _ENQUIRY in hit.tags}
    # The sentences with a contrast, and where its last one starts: reluctance before it does not cancel.
    last_contrast: dict[int, int] = {}
    for hit in hits:
        if _CONTRAST in hit.tags:
            last_contrast[bisect.bisect_left(sentence_ends, hit.start)] = hit.start
    found: set[str] = set()
    enquired: set[str] = set()
    negation: tuple[int, int] | None = None  # (end, clause) of the latest negation
    quoting: tuple[int, int] | None = None  # (end, clause) of the latest quoting cue
    venues: list[tuple[_Hit, str, bool]] = []  # each venue left standing, its threat, whether enquired
    moves: list[_Hit] = []
    for hit in hits:
        clause = bisect.bisect_left(clause_ends, hit.start)
        if not _CANCELLING.isdisjoint(hit.tags):
            if _NEGATION in hit.tags:
                negation = (hit.end, clause)
            elif _RELUCTANCE in hit.tags:
                # "I'd rather not involve my bank" is a negation; "..., but you leave me no choice" is not.
                contrast = last_contrast.get(bisect.bisect_left(sentence_ends, hit.start), -1)
                if contrast < hit.end:
                    negation = (hit.end, clause)
            if _QUOTING in hit.tags:
                quoting = (hit.end, clause)
            continue  # a cue is never a signal too: "no need to" says nothing about anger
        # A cancelled hit carries its cue on: "some people say they'll report you to the BBB".
        if _reaches(lower, negation, hit, clause, rules.negation_window):
            negation = (hit.end, clause)
            if _makes_a_signal(hit):
                found.add(_CANCELLED)
            continue
        if _reaches(lower, quoting, hit, clause, rules.quoting_window):
            quoting = (hit.end, clause)
            if _makes_a_signal(hit):
                found.add(_CANCELLED)
            continue
        in_enquiry = clause in enquiry_clauses
        for tag in hit.tags:
            if tag.startswith(_VENUE_PREFIX):
                venues.append((hit, tag.removeprefix(_VENUE_PREFIX), in_enquiry))
            elif tag in _MOVES:
                moves.append(hit)
            elif in_enquiry and tag in THREAT_SIGNALS:
                enquired.add(tag)
            else:
                found.add(tag)
    for venue, threat, in_enquiry in venues:
        reached = _moved_to(lower, venue, moves, sentence_ends, rules.venue_window)
        if reached is not None:
            prefix = _VENUE_PREFIX if reached else _WEAK_VENUE_PREFIX
            (enquired if in_enquiry else found).add(prefix + threat)
    return found, enquired


def _moved_to(lower: str, venue: _Hit, moves: list[_Hit], sentence_ends: list[int], window: int) -> bool | None:
    """Whether one of `moves` takes the complaint to `venue` (True: a move that needs no complaint, False:
    only weak ones, None: none): in its sentence, on the side of it the move is listed for, at most
    `window` words away. "my card was charged twice and I contacted you" has a venue and a move, but the
    move is not the card's."""
    sentence = bisect.bisect_left(sentence_ends, venue.start)
    reached: bool | None = None
    for move in moves:
        if bisect.bisect_left(sentence_ends, move.start) != sentence:
            continue
        if move.end <= venue.start and not _BEFORE_VENUE.isdisjoint(move.tags):
            between, side = _words_between(lower, move.end, venue.start), _BEFORE_VENUE
        elif venue.end <= move.start and not _AFTER_VENUE.isdisjoint(move.tags):
            between, side = _words_between(lower, venue.end, move.start), _AFTER_VENUE
        else:
            continue
        if between <= window:
            if not {_MOVE, _MOVE_AFTER}.isdisjoint(side & set(move.tags)):
                return True
            reached = False
    return reached


def _reaches(lower: str, cue: tuple[int, int] | None, hit: _Hit, clause: int, window: int) -> bool:
    """Whether a cue ending at `cue[0]` in clause `cue[1]` reaches `hit`: same clause, close enough."""
    return cue is not None and cue[1] == clause and _words_between(lower, cue[0], hit.start) <= window


def _words_between(lower: str, start: int, end: int) -> int:
    return len(_WORD_OR_HAN.findall(lower, start, end))


def _shouts(text: str, rules: AngerRules) -> bool:
    """Capitals in the whole DM or in one of its sentences (a long DM may shout one line)."""
    rule = rules.all_caps
    if sum(char.isupper() for char in text) < rule.min_letters:
        return False  # a fast no for most DMs
    pieces = [text, *_SENTENCE_SEPARATORS.split(text)] if _SENTENCE_SEPARATORS.search(text) else [text]
    for piece in pieces:
        words = [word for word in _LATIN_WORD.findall(piece) if len(word) > 1]
        shouted = [word for word in words if word.isupper()]
        letters = sum(map(len, shouted))
        if (
            len(shouted) >= rule.min_words
            and letters >= rule.min_letters
            and letters >= rule.min_share * sum(map(len, words))
        ):
            return True
    return False
