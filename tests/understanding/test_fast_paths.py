"""The readers' shortcuts give what the plain definitions give.

Each shortcut (skipping a scan that cannot match, a trie instead of an alternation, a cache) is checked
against the straightforward computation it replaces, on crafted and on seeded random texts.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Callable

import pytest

from bot.understanding import (
    classify_intents,
    detect_concern,
    detect_language,
    extract_order_number,
    extract_rating,
    intents,
    order_numbers,
    parse_tracking_number,
    ratings,
)
from bot.understanding import concerns as concerns_module
from bot.understanding._cache import clear_caches
from bot.understanding._distractors import _LEVELS, distractor_mask
from bot.understanding._phrases import PhraseTable
from bot.understanding._text import normalize, normalize_cached, normalize_lower, normalize_upper
from bot.understanding._trie import PhraseFinder
from bot.understanding.language import _CODE, _CODE_WITH_DIGIT

# What an adversary or a phone keyboard puts in a DM: full-width forms, quotes, controls, format
# characters, separators, combining marks, surrogates, emoji with joiners and tags, unassigned points.
ODD_TEXTS = [
    "",
    "don’t ＃１２３４，谢谢！",
    "line one\nline two\r\n\ttab",
    "zero\u200bwidth\u200d\u2060joins\ufeff",
    "bidi \u202eevil\u202c and \u2066isolate\u2069",
    "soft\u00adhyphen, nbsp\u00a0and ideographic\u3000space…",
    "e\u0301 precomposed é, ﬁ ligature, Ⅻ, ①, ㎏, ｱ, ﾟ",
    "\x00\x1f\x7f\x85\x9f C0 and C1 controls",
    "\u2028line\u2029paragraph \u1680ogham",
    "flag 🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f and 👍🏽‍🔥",
    "\ud800 lone surrogate, \ue000 private, \U0010ffff, \u0378 unassigned",
    "`backtick` ´acute´ ʼmodifierʼ ‘single’",
    "\u0600\u061c\u06dd\u070f\u180e\ufff9 Arabic and other format characters",
]


def _random_texts(seed: int, count: int, alphabet: list[str], longest: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, longest))) for _ in range(count)]


def _reference_normalize(text: str) -> str:
    quotes = str.maketrans({"\u2018": "'", "\u2019": "'", "\u02bc": "'", "\u00b4": "'", "`": "'"})
    folded = unicodedata.normalize("NFKC", text).translate(quotes)
    cleaned = []
    for char in folded:
        category = unicodedata.category(char)
        cleaned.append("" if category == "Cf" else " " if category in ("Cc", "Zl", "Zp") else char)
    return "".join(cleaned)


def _unicode_sample() -> list[str]:
    rng = random.Random(3)
    ranges = [(0, 0x300), (0x300, 0x370), (0x2000, 0x2100), (0x3000, 0x3100), (0xFE00, 0x10000), (0, 0x110000)]
    texts = []
    for _ in range(3000):
        chars = []
        for _ in range(rng.randint(1, 12)):
            low, high = rng.choice(ranges)
            chars.append(chr(rng.randrange(low, high)))
        texts.append("".join(chars))
    return texts


@pytest.mark.parametrize("text", ODD_TEXTS)
def test_normalize_is_nfkc_with_quotes_and_controls_fixed(text: str) -> None:
    assert normalize(text) == _reference_normalize(text)


def test_normalize_agrees_with_its_definition_on_random_unicode() -> None:
    mismatches = [text for text in _unicode_sample() if normalize(text) != _reference_normalize(text)]
    assert mismatches == []


def test_cached_forms_are_the_plain_ones() -> None:
    for text in ODD_TEXTS:
        clear_caches()
        assert normalize_cached(text) == normalize(text)
        assert normalize_lower(text) == normalize(text).lower()
        assert normalize_upper(text) == normalize(text).upper()
        assert normalize_lower(text) == normalize(text).lower()  # a hit answers as the call did


def test_readers_answer_the_same_from_their_caches() -> None:
    texts = ["5 stars, thanks", "yes please", "my order is #1001", "不要退款，积分就行", "包裹碎了"]
    readers: list[Callable[[str], object]] = [
        classify_intents,
        detect_concern,
        detect_language,
        extract_rating,
        extract_order_number,
    ]
    for text in texts:
        clear_caches()
        cold = [reader(text) for reader in readers]
        assert [reader(text) for reader in readers] == cold


def _alternation(
    phrases: list[str], *, gap: str, before: str, after: str, key: Callable[[str], int]
) -> re.Pattern[str]:
    """The plain way: every phrase, longest first, guarded at either end when it starts or ends a word."""

    def guarded(phrase: str) -> str:
        body = gap.join(re.escape(word) for word in phrase.split(" "))
        head = f"(?<![{before}])" if re.fullmatch(f"[{before}]", phrase[0]) else ""
        tail = f"(?![{after}])" if re.fullmatch(f"[{after}]", phrase[-1]) else ""
        return head + body + tail

    return re.compile("|".join(guarded(phrase) for phrase in sorted(phrases, key=key, reverse=True)))


def _phrase_texts(phrases: list[str], seed: int) -> list[str]:
    """Phrases run together, split, doubled and glued to letters, digits and Han characters."""
    rng = random.Random(seed)
    glue = [" ", "  ", "", "", "a", "x1", "的", "'", "-", "\t", "\n", ",", "。", "%", "👍", "ok的", "no."]
    texts = []
    for _ in range(3000):
        pieces = []
        for _ in range(rng.randint(1, 6)):
            phrase = rng.choice(phrases)
            if rng.random() < 0.2:
                phrase = phrase[: rng.randint(1, len(phrase))]
            pieces += [phrase, rng.choice(glue)]
        texts.append("".join(pieces))
    return texts


@pytest.mark.parametrize("table", [intents._TABLE, concerns_module._TABLE], ids=["intents", "concerns"])
def test_phrase_tables_find_what_the_longest_first_alternation_finds(table: PhraseTable) -> None:
    phrases = list(table._tag_by_phrase)
    plain = _alternation(phrases, gap=r"[^\S\n]+", before="a-z0-9'", after="a-z0-9'", key=len)
    for text in _phrase_texts(phrases, seed=1):
        assert table._finder.find(text) == [match.span() for match in plain.finditer(text)], text


def test_order_context_words_find_what_the_longest_first_alternation_finds() -> None:
    words = [phrase.upper() for phrases in order_numbers._CONTEXT_WORDS.values() for phrase in phrases]
    plain = _alternation(
        words, gap=r"\s*", before="A-Z", after="A-Z", key=lambda phrase: len(phrase.replace(" ", ""))
    )
    # The plain look-behind also rules out a digit before a word that starts with a letter.
    plain = re.compile(plain.pattern.replace("(?<![A-Z])", "(?<![A-Z0-9])"))
    for text in _phrase_texts(words, seed=2):
        assert order_numbers._CONTEXT_WORD.find(text) == [match.span() for match in plain.finditer(text)], text


def test_phrase_finder_reads_phrases_that_end_outside_a_word() -> None:
    # "ok的" ends with a character that may precede a word: the next phrase can start right after it.
    finder = PhraseFinder(
        ["ok的", "yes", "的", "no."],
        gap=" ",
        optional_gap=False,
        word_before="a-z0-9'",
        starts_word=lambda char: char.isascii() and char.isalpha(),
        word_after="a-z0-9'",
        ends_word=lambda char: char.isascii() and char.isalpha(),
    )
    assert finder.find("ok的yes") == [(0, 3), (3, 6)]
    assert finder.find("no.yes no.no.") == [(0, 3), (3, 6), (7, 10), (10, 13)]
    assert finder.find("yesok的的") == [(5, 6), (6, 7)]


def test_phrase_finder_reads_overlapping_phrases_of_different_patterns_as_one_scan() -> None:
    finder = PhraseFinder(
        ["%ab", "abc", "b"],
        gap=" ",
        optional_gap=False,
        word_before="a-z",
        starts_word=str.isalpha,
        word_after="a-z",
        ends_word=lambda char: False,
    )
    # "%ab" is found first, so neither "abc" nor "b", which start inside it, is.
    assert finder.find("%abc") == [(0, 3)]
    assert finder.find("x abc %ab") == [(2, 5), (6, 9)]


def test_phrase_finder_refuses_spaces_that_would_change_a_phrase() -> None:
    with pytest.raises(ValueError, match="optional spaces"):
        PhraseFinder(
            ["ab c", "abcd"],
            gap=r"\s*",
            optional_gap=True,
            word_before="A-Z",
            starts_word=str.isalpha,
            word_after="A-Z",
            ends_word=str.isalpha,
        )


DIGIT_TEXT_ALPHABET = [
    *"0123456789" * 4,
    *"  --..//::,,++##$@%()",
    *["年", "月", "日", "号", "点", "时", "元", "天", "分", "个", "٣", "１"],
    *["JAN", "MAY", "SEPT", "OF ", "ST", "AM", "P.M", "HTTP://", "WWW.", "A@B.CO", "USD", "¥", "US$", "人民币"],
    *["SW1A 1AA", "K1A 0B1", ", CA ", " DAYS", " KG", "A", "Z", "ORDER #", "ZIP ", "+1 ", "138", "9400"],
]


def test_distractor_mask_only_skips_patterns_that_cannot_match() -> None:
    for text in _random_texts(4, 4000, DIGIT_TEXT_ALPHABET, 30):
        plain = bytearray(len(text))
        for distractors, level in _LEVELS:
            for distractor in distractors:
                for match in distractor.pattern.finditer(text):
                    for index in range(match.start(), match.end()):
                        plain[index] = max(plain[index], level)
        assert distractor_mask(text) == plain, text


def test_codes_with_digits_are_cut_as_code_cuts_them() -> None:
    alphabet = [*"abXY019-_/.:# '@", "ſ", "K", "é", "订", "٣", "--", "..", "a1", "1-a"]
    for text in _random_texts(5, 5000, alphabet, 25):
        plain = _CODE.sub(lambda code: " " if any(char.isdigit() for char in code.group()) else code.group(), text)
        assert _CODE_WITH_DIGIT.sub(" ", text) == plain, text


def test_order_candidates_are_the_tokens_with_a_digit() -> None:
    alphabet = [*"AB1Z09-- ,.#", "-1", "A-", "ORDER", "订", "1Z"]
    for text in _random_texts(8, 5000, alphabet, 20):
        plain = [match.span() for match in order_numbers._TOKEN.finditer(text) if re.search("[0-9]", match.group())]
        assert [match.span() for match in order_numbers._TOKEN_WITH_DIGIT.finditer(text)] == plain, text


def _plain_rating(text: str) -> int | None:
    normalized = normalize(text).lower()
    bare = ratings._BARE.fullmatch(normalized)
    if bare is not None:
        return ratings._value(bare.group(1))
    scores: set[int] = set()
    remainder = normalized
    for pattern, _ in ratings._RATED:
        for match in pattern.finditer(remainder):
            score = ratings._value(match.group(1))
            scores.add(score if pattern.groups == 1 or int(match.group(2)) == 5 else -1)
        remainder = pattern.sub(" ", remainder)
    for run in ratings._STAR_RUN.finditer(remainder):
        scores.add(sum(char in ratings._STAR_CHARS for char in run.group()))
    return next(iter(scores)) if len(scores) == 1 and 1 <= next(iter(scores)) <= 5 else None


def test_rating_skips_only_patterns_that_cannot_match() -> None:
    alphabet = [*"0123456789 /.,!~", "out of ", "of ", "stars", "star", "星", "星期", "颗星", "分", "分钟", "给"]
    alphabet += ["打", "评分", "rate ", "rated ", "give it ", "score: ", "one", "five", "两", "五", "⭐", "★", "🌟"]
    alphabet += ["\ufe0f", "x"]
    for text in _random_texts(6, 5000, alphabet, 12):
        clear_caches()
        assert extract_rating(text) == _plain_rating(text), text


def test_no_carrier_number_is_shorter_than_ten_digits() -> None:
    rng = random.Random(7)
    for length in range(1, 10):
        for _ in range(300):
            assert parse_tracking_number("".join(rng.choice("0123456789") for _ in range(length))) is None
