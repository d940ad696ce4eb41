"""One DM event as the sandbox keeps it, and its v2 wire form (``GET /2/dm_events``)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from integrations.x.sandbox.entities import find_entities

__all__ = [
    "ALL_FIELDS",
    "DEFAULT_FIELDS",
    "DM_EVENT_FIELDS",
    "MESSAGE_CREATE",
    "DmEvent",
    "conversation_id",
    "rfc3339",
]

MESSAGE_CREATE: Final = "MessageCreate"
# ``referenced_posts`` is the v2.167 spec's new name for ``referenced_tweets``; both are accepted.
DM_EVENT_FIELDS: Final = frozenset(
    {
        "attachments",
        "created_at",
        "dm_conversation_id",
        "entities",
        "event_type",
        "id",
        "participant_ids",
        "referenced_tweets",
        "referenced_posts",
        "sender_id",
        "text",
    }
)
DEFAULT_FIELDS: Final = frozenset({"id", "event_type", "text"})
ALL_FIELDS: Final = DM_EVENT_FIELDS - {"referenced_posts"}  # every field once, under its established name


def conversation_id(user_a: str, user_b: str) -> str:
    """A 1:1 conversation's id: ``"{smaller_user_id}-{larger_user_id}"``, compared as numbers."""
    low, high = sorted((user_a, user_b), key=int)
    return f"{low}-{high}"


def rfc3339(at: datetime) -> str:
    """``2022-10-19T20:58:00.000Z``: UTC, milliseconds, Z, as X writes ``created_at``."""
    at = at.astimezone(UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


@dataclass(frozen=True, kw_only=True)
class DmEvent:
    """A ``MessageCreate`` in a 1:1 conversation (the sandbox has no group conversations)."""

    id: str
    sender_id: str
    recipient_id: str
    created_at: datetime  # UTC, whole milliseconds
    text: str
    media_ids: tuple[str, ...] = ()
    event_type: str = MESSAGE_CREATE

    @property
    def dm_conversation_id(self) -> str:
        return conversation_id(self.sender_id, self.recipient_id)

    @property
    def created_ms(self) -> int:
        return int(self.created_at.timestamp() * 1000)

    def v2(self, fields: Collection[str] = ALL_FIELDS) -> dict[str, Any]:
        """The v2 ``DmEvent`` object with the requested fields; optional ones only when they have a value."""
        out: dict[str, Any] = {"id": self.id, "event_type": self.event_type}
        if "text" in fields:
            out["text"] = self.text
        if "sender_id" in fields:
            out["sender_id"] = self.sender_id
        if "dm_conversation_id" in fields:
            out["dm_conversation_id"] = self.dm_conversation_id
        if "created_at" in fields:
            out["created_at"] = rfc3339(self.created_at)
        # participant_ids: since 2025-06-03 only ParticipantsJoin/Leave carry it, never a MessageCreate.
        if "attachments" in fields and self.media_ids:
            out["attachments"] = {"media_keys": [f"3_{media_id}" for media_id in self.media_ids]}
        wants_entities = "entities" in fields
        wants_references = "referenced_tweets" in fields or "referenced_posts" in fields
        if wants_entities or wants_references:
            found = find_entities(self.text)
            if wants_entities and found:
                out["entities"] = found.v2()
            if found.referenced_post_ids:
                for name in ("referenced_tweets", "referenced_posts"):
                    if name in fields:
                        out[name] = [{"id": post_id} for post_id in found.referenced_post_ids]
        return out

    def to_record(self) -> dict[str, Any]:
        """The journal form: every stored attribute, JSON-ready."""
        return {
            "id": self.id,
            "event_type": self.event_type,
            "sender_id": self.sender_id,
            "recipient_id": self.recipient_id,
            "created_at": rfc3339(self.created_at),
            "text": self.text,
            "media_ids": list(self.media_ids),
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> DmEvent:
        return cls(
            id=str(record["id"]),
            event_type=str(record.get("event_type", MESSAGE_CREATE)),
            sender_id=str(record["sender_id"]),
            recipient_id=str(record["recipient_id"]),
            created_at=datetime.fromisoformat(str(record["created_at"]).replace("Z", "+00:00")),
            text=str(record["text"]),
            media_ids=tuple(str(m) for m in record.get("media_ids", ())),
        )
