"""Texts over X's DM limit are cut into DMs that read well on their own."""

from __future__ import annotations

import pytest

from bot.core.splitting import split_message


@pytest.mark.parametrize(
    ("text", "limit", "parts"),
    [
        ("short", 10, ["short"]),
        ("", 10, [""]),
        ("First paragraph here.\n\nSecond one.", 25, ["First paragraph here.", "Second one."]),
        ("One sentence. Two sentence. Three.", 20, ["One sentence.", "Two sentence. Three."]),
        ("你好。我的包裹还没到。请帮我查一下。", 12, ["你好。我的包裹还没到。", "请帮我查一下。"]),
        (" ".join(["word"] * 6), 12, ["word word", "word word", "word word"]),
        ("x" * 25, 10, ["x" * 10, "x" * 10, "x" * 5]),
    ],
)
def test_cuts_at_the_best_boundary(text: str, limit: int, parts: list[str]) -> None:
    assert split_message(text, limit) == parts


def test_a_ten_thousand_character_limit_keeps_every_word() -> None:
    text = " ".join(f"w{n}" for n in range(6000))  # about 34,000 characters
    parts = split_message(text, 10_000)
    assert all(len(part) <= 10_000 for part in parts)
    assert " ".join(parts).split() == text.split()
    assert len(parts) == 4


def test_emoji_are_never_cut_in_half() -> None:
    parts = split_message("🙂" * 15, 10)
    assert parts == ["🙂" * 10, "🙂" * 5]
