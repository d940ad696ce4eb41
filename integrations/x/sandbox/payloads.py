"""Webhook bodies for one DM event, as X delivers them: Account Activity (AAA) and X Activity (XAA).

Both carry the v1.1-shaped ``message_create`` event, whose text X HTML-escapes (``&`` ``<`` ``>``);
the v2 REST answers do not. AAA keys ``users`` by id with v1.1 user objects (``screen_name``); XAA wraps
v2 users (``username``) in ``{"data": ...}`` and gives each delivery its own ``event_uuid``.
"""

from __future__ import annotations

import secrets
from typing import Any, Final

from integrations.x.sandbox.config import XSandboxConfig
from integrations.x.sandbox.entities import find_entities
from integrations.x.sandbox.events import DmEvent
from integrations.x.sandbox.users import known_handles, v1_user, v2_user

__all__ = ["XAA_TAG", "account_activity_body", "activity_body", "escape_v1_text"]

XAA_TAG: Final = "dm-sandbox"


def escape_v1_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def account_activity_body(event: DmEvent, *, config: XSandboxConfig) -> dict[str, Any]:
    return {
        "for_user_id": config.bot_user_id,
        "direct_message_events": [_message_create(event, config=config)],
        "users": {user_id: v1_user(user_id, config=config) for user_id in _participants(event)},
    }


def activity_body(event: DmEvent, *, config: XSandboxConfig) -> dict[str, Any]:
    received = event.recipient_id == config.bot_user_id
    return {
        "data": {
            # X's samples are signed 64-bit integers written as strings.
            "event_uuid": str(secrets.randbits(63) - (1 << 62)),
            "filter": {"user_id": config.bot_user_id},
            "event_type": "dm.received" if received else "dm.sent",
            "tag": XAA_TAG,
            "payload": {
                "direct_message_events": [_message_create(event, config=config)],
                "users": {user_id: {"data": v2_user(user_id, config=config)} for user_id in _participants(event)},
            },
        }
    }


def _participants(event: DmEvent) -> tuple[str, ...]:
    return (event.sender_id, event.recipient_id)


def _message_create(event: DmEvent, *, config: XSandboxConfig) -> dict[str, Any]:
    message_data: dict[str, Any] = {
        "text": escape_v1_text(event.text),
        "entities": find_entities(event.text).v1(known_handles(config=config)),
    }
    if event.media_ids:
        media_id = event.media_ids[0]
        message_data["attachment"] = {"type": "media", "media": {"id": int(media_id), "id_str": media_id}}
    return {
        "type": "message_create",
        "id": event.id,
        "created_timestamp": str(event.created_ms),
        "message_create": {
            "target": {"recipient_id": event.recipient_id},
            "sender_id": event.sender_id,
            "message_data": message_data,
        },
    }
