from __future__ import annotations

import pytest

from bot.understanding import extract_rating


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5", 5),
        ("3!", 3),
        ("4/5", 4),
        ("4 out of 5", 4),
        ("4 out of 5 stars", 4),
        ("5 stars", 5),
        ("1 star, it took 3 weeks", 1),
        ("five stars!", 5),
        ("⭐⭐⭐⭐", 4),
        ("⭐️⭐️⭐️⭐️⭐️", 5),
        ("★★★", 3),
        ("5 ⭐", 5),
        ("I'd rate it a 3", 3),
        ("rating: 4", 4),
        ("五星", 5),
        ("五星好评", 5),
        ("三颗星", 3),
        ("3分", 3),
        ("给4分", 4),
        ("打5分", 5),
        ("评分：4", 4),
        ("我给5星", 5),
    ],
)
def test_reads_the_rating(text: str, expected: int) -> None:
    assert extract_rating(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "I waited 3 days",  # a number that is not a score
        "2 items",
        "1001",
        "5分钟",  # minutes, not points
        "星期五到的",  # Friday, not a star
        "6 stars",  # outside 1..5
        "10/10",  # another scale
        "100分",
        "4.5 stars",  # half stars are not on the scale
        "4 or 5",  # ambiguous
        "3/5/2026",  # a date
        "give me a refund",
        "",
    ],
)
def test_no_rating_when_absent_or_ambiguous(text: str) -> None:
    assert extract_rating(text) is None
