from __future__ import annotations

import pytest

from bot.understanding import Language, detect_language


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Where is my parcel?", "en"),
        ("ok", "en"),
        ("my order #1001 is late", "en"),
        ("hi, 订单 is late, where is it??", "en"),
        ("where is my 快递", "en"),
        ("包裹 is lost", "en"),
        ("tracking RR123456785CN still says nothing 😡", "en"),
        ("see https://example.com/track?id=1001 it says delivered", "en"),
        ("Ça n'est pas arrivé", "en"),
        ("我的包裹还没到", "zh"),
        ("好", "zh"),
        ("我的order 1001还没到", "zh"),
        ("我要refund", "zh"),
        ("订单#1001", "zh"),
        ("https://example.com/a/b/c 还没到", "zh"),
        ("UPS 1Z5R89390357567127 到哪了？", "zh"),
        ("谢谢👍", "zh"),
        ("１００１还没到", "zh"),
    ],
)
def test_detects_the_language_carrying_the_words(text: str, expected: Language) -> None:
    assert detect_language(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "1001",
        "#1001",
        "DM-10482",
        "RR123456785CN",
        "👍👍",
        "?!...",
        "！！！",
        "2026-03-05 10:30",
        "مرحبا",
    ],
)
def test_no_language_without_words(text: str) -> None:
    assert detect_language(text) is None
