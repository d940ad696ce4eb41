"""Opaque pagination tokens for the newest-first DM lookups, and cutting a page out of a result list.

A token names an event id and a direction: ``next`` continues with older events than that id,
``previous`` goes back to newer ones. Tokens are base32 (like X's ``18LAA5G1SL0NR5OG0G00ZZZZ``) and
always longer than the 16 characters X's spec requires.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Literal

from integrations.x.sandbox.events import DmEvent

__all__ = ["Page", "PageToken", "decode_token", "encode_token", "page_of"]

Direction = Literal["next", "previous"]


@dataclass(frozen=True, kw_only=True)
class PageToken:
    direction: Direction
    event_id: int


@dataclass(frozen=True, kw_only=True)
class Page:
    events: list[DmEvent]
    next_token: str | None
    previous_token: str | None


def encode_token(token: PageToken) -> str:
    raw = f"{token.direction[0]}:{token.event_id:019d}".encode()
    return base64.b32hexencode(raw).decode().rstrip("=")


def decode_token(text: str) -> PageToken | None:
    """The token's meaning, or None when it is not one the sandbox made."""
    if len(text) < 16:
        return None
    try:
        raw = base64.b32hexdecode(text + "=" * (-len(text) % 8)).decode()
    except (binascii.Error, ValueError):
        return None
    mark, _, digits = raw.partition(":")
    if mark not in ("n", "p") or not digits.isdigit():
        return None
    return PageToken(direction="next" if mark == "n" else "previous", event_id=int(digits))


def page_of(newest_first: list[DmEvent], *, size: int, token: PageToken | None) -> Page:
    """The page of ``size`` events the token points at, with the tokens to move on from it."""
    if token is None:
        events = newest_first[:size]
        has_older = len(newest_first) > size
    elif token.direction == "next":
        older = [e for e in newest_first if int(e.id) < token.event_id]
        events = older[:size]
        has_older = len(older) > size
    else:
        newer = [e for e in newest_first if int(e.id) > token.event_id]
        events = newer[-size:]
        has_older = any(int(e.id) < int(events[-1].id) for e in newest_first) if events else False
    if not events:
        return Page(events=[], next_token=None, previous_token=None)
    return Page(
        events=events,
        next_token=encode_token(PageToken(direction="next", event_id=int(events[-1].id))) if has_older else None,
        # Always offered, as X does: a poller can come back with it for whatever arrived since.
        previous_token=encode_token(PageToken(direction="previous", event_id=int(events[0].id))),
    )
