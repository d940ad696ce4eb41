"""What X finds inside a DM's text: links, #hashtags, @mentions, $cashtags and linked Posts.

X computes these server-side; the sandbox does the same with plain patterns. Offsets count code points,
as X's do. Links are reported as written: the sandbox does not wrap them in t.co.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

__all__ = ["Span", "TextEntities", "find_entities"]

_URL: Final = re.compile(r"https?://[^\s<>\"]+[^\s<>\".,;:!?)\]']")
_HASHTAG: Final = re.compile(r"(?<![\w&])#(\w*[^\W\d]\w*)")
_MENTION: Final = re.compile(r"(?<![\w@])@(\w{1,15})\b")
_CASHTAG: Final = re.compile(r"(?<![\w$])\$([A-Za-z]{1,6}(?:_[A-Za-z]{1,2})?)\b")
_POST_URL: Final = re.compile(r"https?://(?:www\.|mobile\.)?(?:x|twitter)\.com/\w{1,15}/status(?:es)?/([0-9]{1,19})")


@dataclass(frozen=True, kw_only=True)
class Span:
    start: int
    end: int
    value: str  # the link, or the tag / username / symbol without its sign


@dataclass(frozen=True, kw_only=True)
class TextEntities:
    urls: tuple[Span, ...]
    hashtags: tuple[Span, ...]
    mentions: tuple[Span, ...]
    cashtags: tuple[Span, ...]
    referenced_post_ids: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.urls or self.hashtags or self.mentions or self.cashtags)

    def v2(self) -> dict[str, list[dict[str, Any]]]:
        """The v2 ``entities`` object; only kinds that occur are present."""
        out: dict[str, list[dict[str, Any]]] = {}
        if self.urls:
            out["urls"] = [
                {"start": s.start, "end": s.end, "url": s.value, "expanded_url": s.value, "display_url": _display(s)}
                for s in self.urls
            ]
        if self.hashtags:
            out["hashtags"] = [{"start": s.start, "end": s.end, "tag": s.value} for s in self.hashtags]
        if self.mentions:
            out["mentions"] = [{"start": s.start, "end": s.end, "username": s.value} for s in self.mentions]
        if self.cashtags:
            out["cashtags"] = [{"start": s.start, "end": s.end, "tag": s.value} for s in self.cashtags]
        return out

    def v1(self, known_users: dict[str, tuple[str, str]]) -> dict[str, list[dict[str, Any]]]:
        """The v1.1 ``message_data.entities`` object; ``known_users`` maps lower-case handle -> (id, name).

        X lists a mention only when the account exists, so unknown handles are left out.
        """
        mentions = []
        for s in self.mentions:
            user = known_users.get(s.value.lower())
            if user is not None:
                user_id, name = user
                mention = {"screen_name": s.value, "name": name, "id": int(user_id), "id_str": user_id}
                mentions.append({**mention, "indices": [s.start, s.end]})
        return {
            "hashtags": [{"text": s.value, "indices": [s.start, s.end]} for s in self.hashtags],
            "symbols": [{"text": s.value, "indices": [s.start, s.end]} for s in self.cashtags],
            "user_mentions": mentions,
            "urls": [
                {"url": s.value, "expanded_url": s.value, "display_url": _display(s), "indices": [s.start, s.end]}
                for s in self.urls
            ],
        }


def find_entities(text: str) -> TextEntities:
    urls = tuple(Span(start=m.start(), end=m.end(), value=m.group(0)) for m in _URL.finditer(text))

    def outside_urls(m: re.Match[str]) -> bool:
        return not any(u.start <= m.start() < u.end for u in urls)

    def spans(pattern: re.Pattern[str]) -> tuple[Span, ...]:
        return tuple(
            Span(start=m.start(), end=m.end(), value=m.group(1)) for m in pattern.finditer(text) if outside_urls(m)
        )

    return TextEntities(
        urls=urls,
        hashtags=spans(_HASHTAG),
        mentions=spans(_MENTION),
        cashtags=spans(_CASHTAG),
        referenced_post_ids=tuple(dict.fromkeys(m.group(1) for m in _POST_URL.finditer(text))),
    )


def _display(span: Span) -> str:
    shown = span.value.split("://", 1)[-1]
    return shown if len(shown) <= 26 else shown[:25] + "…"
