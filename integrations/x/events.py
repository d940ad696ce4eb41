"""Decode what X sends us about direct messages into one normalized value.

Three shapes reach us (reference/x-dm-api.md §1.3, §2.5): the Account Activity API's v1.1-shaped
``direct_message_events`` body, the X Activity API (XAA) envelope around those same events, and the
v2 events of ``GET /2/dm_events`` when polling. All of them become ``DirectMessage``, keyed on X's DM
event id, so dedupe works whichever way a message arrived (§2.6: duplicates are documented).

Strict where a wrong value would misaddress a reply or break dedupe (ids, sender, text, time): such a
body raises ``MalformedDelivery`` naming the field. Lenient where X is documented to grow: unknown
keys, unknown kinds of activity, and the users map, which only supplies a cosmetic handle.

Pure and quiet: no I/O, and no message text in error messages, since DMs are personal data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import orjson

__all__ = [
    "MAX_EVENTS_PER_DELIVERY",
    "DirectMessage",
    "MalformedDelivery",
    "WebhookDelivery",
    "decode_dm_event",
    "decode_webhook",
]

# Far beyond any real batch; it bounds the work a single request can cause.
MAX_EVENTS_PER_DELIVERY = 1_000

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_ID_DIGITS = 19  # the OpenAPI pattern for every id is ^[0-9]{1,19}$ (a signed 64-bit snowflake)
_MAX_MS_DIGITS = 15  # datetime.max is 253402300799999 ms after the epoch
# AAA activity that is not a DM: every "*_events" list plus these two (§2.5).
_OTHER_AAA_ACTIVITY = frozenset({"user_event", "replay_job_status"})
_XAA_DM_TYPES = frozenset({"dm.received", "dm.sent"})


@dataclass(frozen=True, slots=True, kw_only=True)
class DirectMessage:
    event_id: str  # X's DM event id (snowflake digits); the dedupe key everywhere
    sender_id: str
    recipient_id: str | None  # webhooks: message_create.target.recipient_id; polling: None
    text: str  # exactly as the customer wrote it (v1.1's &lt; &gt; &amp; undone), never stripped
    sent_at: datetime | None  # aware, UTC
    conversation_id: str | None  # X's dm_conversation_id, or "{smaller}-{larger}" for a 1:1 webhook DM
    sender_handle: str | None = None  # without "@", when the payload's users map has it


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookDelivery:
    shape: Literal["account_activity", "activity"]  # AAA body or X Activity API envelope
    for_user_id: str | None  # the subscribed account: AAA for_user_id, XAA data.filter.user_id
    messages: tuple[DirectMessage, ...]  # from customers only, ordered by sent_at, then event id
    echoes: int  # the account's own DMs echoed back (§2.6), dropped so the bot never answers itself
    ignored: int  # other activity: typing, read receipts, posts, follows, replay status, non-message DM events


class MalformedDelivery(ValueError):
    """A body that is not a delivery X would send.

    ``path`` points at the offending field (e.g. ``direct_message_events[0].message_create.sender_id``),
    so the log line says what broke without quoting the customer's words.
    """

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason

    def __reduce__(self) -> tuple[type[MalformedDelivery], tuple[str, str]]:
        # The default would call cls(message) and fail: keep the error picklable across processes.
        return (type(self), (self.path, self.reason))


def decode_webhook(body: bytes, *, bot_user_id: str | None = None) -> WebhookDelivery:
    """Decode one webhook POST body (already signature-checked) of either shape.

    ``bot_user_id`` catches echoes when the body does not name the account (XAA without a filter).
    """
    try:
        # orjson refuses invalid UTF-8 and nesting deeper than 1024: that is the depth guard, at no cost.
        root = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise MalformedDelivery("$", f"not UTF-8 JSON ({error})") from None
    if not isinstance(root, dict):
        raise MalformedDelivery("$", f"expected an object, got {_kind(root)}")
    if "for_user_id" in root or "direct_message_events" in root:
        return _decode_account_activity(root, bot_user_id)
    if "data" in root:
        return _decode_activity(root["data"], bot_user_id)
    if any(_is_other_aaa_activity(key) for key in root):
        return _decode_account_activity(root, bot_user_id)
    raise MalformedDelivery("$", "neither an Account Activity body nor an X Activity envelope")


def decode_dm_event(
    event: Mapping[str, Any], *, bot_user_id: str | None = None, path: str = "data[0]"
) -> DirectMessage | None:
    """One event of GET /2/dm_events (v2 shape: id, event_type, text, sender_id, dm_conversation_id, created_at).

    Returns None for events we don't answer: ParticipantsJoin/Leave, events from the bot itself, events
    without sender_id (only id, event_type and text come back unless the poller asks for more fields).
    Raises MalformedDelivery for wrong types (id not digits, text not str, ...).
    """
    if not isinstance(event, Mapping):
        raise MalformedDelivery(path, f"expected an object, got {_kind(event)}")
    event_id = _id(event.get("id"), f"{path}.id")
    event_type = _string(event.get("event_type"), f"{path}.event_type")
    text = event.get("text")
    if text is not None and not isinstance(text, str):
        raise MalformedDelivery(f"{path}.text", f"expected a string, got {_kind(text)}")
    sender = event.get("sender_id")
    sender_id = None if sender is None else _id(sender, f"{path}.sender_id")
    conversation = event.get("dm_conversation_id")
    conversation_id = None if conversation is None else _string(conversation, f"{path}.dm_conversation_id")
    created_at = event.get("created_at")
    sent_at = None if created_at is None else _rfc3339(created_at, f"{path}.created_at")

    if event_type != "MessageCreate" or sender_id is None or sender_id == bot_user_id:
        return None
    if text is None:
        if event.get("attachments") is None:
            raise MalformedDelivery(f"{path}.text", "missing")
        text = ""
    elif not text and event.get("attachments") is None:
        raise MalformedDelivery(f"{path}.text", "empty, and there is no attachment")
    # v2 text is kept as sent: the &lt; &gt; &amp; escaping is documented for v1.1 payloads only.
    return DirectMessage(
        event_id=event_id,
        sender_id=sender_id,
        recipient_id=None,
        text=text,
        sent_at=sent_at,
        conversation_id=conversation_id,
    )


def _decode_account_activity(root: dict[str, Any], bot_user_id: str | None) -> WebhookDelivery:
    for_user_id = _optional_id(root.get("for_user_id"), "for_user_id")
    ignored = 0
    for key, value in root.items():
        if key != "direct_message_events" and _is_other_aaa_activity(key):
            ignored += len(value) if isinstance(value, list) else 1
    messages: list[DirectMessage] = []
    echoes = 0
    if "direct_message_events" in root:
        messages, echoes, dm_ignored = _decode_dm_events(
            root["direct_message_events"],
            path="direct_message_events",
            users=root.get("users"),
            v2_users=False,
            own_ids=(for_user_id, bot_user_id),
            all_echoes=False,
        )
        ignored += dm_ignored
    return WebhookDelivery(
        shape="account_activity", for_user_id=for_user_id, messages=_ordered(messages), echoes=echoes, ignored=ignored
    )


def _decode_activity(data: object, bot_user_id: str | None) -> WebhookDelivery:
    if not isinstance(data, dict):
        raise MalformedDelivery("data", f"expected an object, got {_kind(data)}")
    event_type = _string(data.get("event_type"), "data.event_type")
    subscription = data.get("filter")
    for_user_id = None
    if subscription is not None:
        if not isinstance(subscription, dict):
            raise MalformedDelivery("data.filter", f"expected an object, got {_kind(subscription)}")
        for_user_id = _optional_id(subscription.get("user_id"), "data.filter.user_id")
    if event_type not in _XAA_DM_TYPES:
        # dm.read, dm.indicate_typing, chat.* (ciphertext we cannot read) and whatever X adds next.
        return WebhookDelivery(shape="activity", for_user_id=for_user_id, messages=(), echoes=0, ignored=1)
    payload = data.get("payload")
    if not isinstance(payload, dict):
        raise MalformedDelivery("data.payload", f"expected an object, got {_kind(payload)}")
    messages, echoes, ignored = _decode_dm_events(
        payload.get("direct_message_events"),
        path="data.payload.direct_message_events",
        users=payload.get("users"),
        v2_users=True,
        own_ids=(for_user_id, bot_user_id),
        all_echoes=event_type == "dm.sent",
    )
    return WebhookDelivery(
        shape="activity", for_user_id=for_user_id, messages=_ordered(messages), echoes=echoes, ignored=ignored
    )


def _decode_dm_events(
    events: object,
    *,
    path: str,
    users: object,
    v2_users: bool,
    own_ids: tuple[str | None, str | None],
    all_echoes: bool,
) -> tuple[list[DirectMessage], int, int]:
    """The v1.1-shaped events both webhook shapes carry: (messages from customers, echoes, ignored)."""
    if not isinstance(events, list):
        raise MalformedDelivery(path, f"expected a list, got {_kind(events)}")
    if len(events) > MAX_EVENTS_PER_DELIVERY:
        raise MalformedDelivery(path, f"{len(events)} events, more than {MAX_EVENTS_PER_DELIVERY}")
    messages: list[DirectMessage] = []
    echoes = ignored = 0
    for index, event in enumerate(events):
        message = _decode_message_create(event, f"{path}[{index}]", users, v2_users)
        if message is None:
            ignored += 1
        elif all_echoes or message.sender_id in own_ids:
            echoes += 1
        else:
            messages.append(message)
    return messages, echoes, ignored


def _decode_message_create(event: object, path: str, users: object, v2_users: bool) -> DirectMessage | None:
    if not isinstance(event, dict):
        raise MalformedDelivery(path, f"expected an object, got {_kind(event)}")
    if _string(event.get("type"), f"{path}.type") != "message_create":
        return None
    event_id = _id(event.get("id"), f"{path}.id")
    timestamp = event.get("created_timestamp")
    sent_at = None if timestamp is None else _epoch_ms(timestamp, f"{path}.created_timestamp")
    create = _object(event.get("message_create"), f"{path}.message_create")
    sender_id = _id(create.get("sender_id"), f"{path}.message_create.sender_id")
    recipient_id = None
    target = create.get("target")
    if target is not None:
        recipient_id = _id(
            _object(target, f"{path}.message_create.target").get("recipient_id"),
            f"{path}.message_create.target.recipient_id",
        )
    message_data = _object(create.get("message_data"), f"{path}.message_create.message_data")
    text = message_data.get("text")
    if not isinstance(text, str):
        raise MalformedDelivery(f"{path}.message_create.message_data.text", f"expected a string, got {_kind(text)}")
    if not text and message_data.get("attachment") is None:
        raise MalformedDelivery(f"{path}.message_create.message_data.text", "empty, and there is no attachment")
    if "&" in text:
        text = _unescape_v11(text)
    return DirectMessage(
        event_id=event_id,
        sender_id=sender_id,
        recipient_id=recipient_id,
        text=text,
        sent_at=sent_at,
        conversation_id=None if recipient_id is None else _one_to_one_conversation(sender_id, recipient_id),
        sender_handle=_handle(users, sender_id, v2_users=v2_users),
    )


def _unescape_v11(text: str) -> str:
    """Undo v1.1's escaping of exactly ``<``, ``>`` and ``&``.

    Not ``html.unescape``: it would also turn a customer's literal "&copy;" or "&#39;" into other
    characters, changing what they wrote. ``&amp;`` goes last so "&amp;lt;" comes back as "&lt;".
    """
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _one_to_one_conversation(sender_id: str, recipient_id: str) -> str:
    # X's own 1:1 conversation id (§0): the two user ids, smaller first, compared as numbers.
    if int(sender_id) < int(recipient_id):
        return f"{sender_id}-{recipient_id}"
    return f"{recipient_id}-{sender_id}"


def _ordered(messages: list[DirectMessage]) -> tuple[DirectMessage, ...]:
    # Ordering across a delivery is undocumented (§2.6); the flow needs the customer's order.
    if len(messages) > 1:
        messages.sort(key=_chronological)
    return tuple(messages)


def _chronological(message: DirectMessage) -> tuple[bool, datetime, int]:
    # Undated messages (created_timestamp is optional) go last; ids break ties, and snowflakes grow with time.
    return (message.sent_at is None, message.sent_at or _EPOCH, int(message.event_id))


def _handle(users: object, user_id: str, *, v2_users: bool) -> str | None:
    """The sender's handle from the users map: AAA ``{id: {screen_name}}``, XAA ``{id: {data: {username}}}``.

    Only cosmetic, so a map that is missing or odd means no handle rather than a lost message.
    """
    if not isinstance(users, dict):
        return None
    user = users.get(user_id)
    if v2_users and isinstance(user, dict):
        user = user.get("data")
    if not isinstance(user, dict):
        return None
    handle = user.get("username" if v2_users else "screen_name")
    return handle if isinstance(handle, str) and handle else None


def _is_other_aaa_activity(key: str) -> bool:
    return key.endswith("_events") or key in _OTHER_AAA_ACTIVITY


def _id(value: object, path: str) -> str:
    # X sends ids as strings; an int would already have lost precision in JavaScript, so refuse it.
    if isinstance(value, str) and 0 < len(value) <= _MAX_ID_DIGITS and value.isascii() and value.isdigit():
        return value
    if value is None:
        raise MalformedDelivery(path, "missing")
    raise MalformedDelivery(path, f"expected a string of 1-{_MAX_ID_DIGITS} ASCII digits, got {_kind(value)}")


def _optional_id(value: object, path: str) -> str | None:
    return None if value is None else _id(value, path)


def _string(value: object, path: str) -> str:
    if isinstance(value, str) and value:
        return value
    if value is None:
        raise MalformedDelivery(path, "missing")
    raise MalformedDelivery(path, f"expected a non-empty string, got {_kind(value)}")


def _object(value: object, path: str) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    if value is None:
        raise MalformedDelivery(path, "missing")
    raise MalformedDelivery(path, f"expected an object, got {_kind(value)}")


def _epoch_ms(value: object, path: str) -> datetime:
    if not (isinstance(value, str) and 0 < len(value) <= _MAX_MS_DIGITS and value.isascii() and value.isdigit()):
        raise MalformedDelivery(path, f"expected epoch milliseconds as a string of digits, got {_kind(value)}")
    try:
        # Integer arithmetic: a float division could be off by a microsecond.
        return _EPOCH + timedelta(microseconds=int(value) * 1000)
    except OverflowError:
        raise MalformedDelivery(path, "beyond the year 9999") from None


def _rfc3339(value: object, path: str) -> datetime:
    if not isinstance(value, str):
        raise MalformedDelivery(path, f"expected an RFC 3339 timestamp, got {_kind(value)}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise MalformedDelivery(path, "expected an RFC 3339 timestamp") from None
    if parsed.tzinfo is None:
        raise MalformedDelivery(path, "timestamp without a UTC offset")
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+01:00 has no UTC time
        raise MalformedDelivery(path, "timestamp out of range") from None


def _kind(value: object) -> str:
    # What the value is, never what it says: values can be a customer's words.
    if value is None:
        return "null"
    if isinstance(value, str):
        return "a string of another form" if value else "an empty string"
    return _JSON_KINDS.get(type(value), type(value).__name__)


_JSON_KINDS: dict[type, str] = {
    bool: "a boolean",
    int: "a number",
    float: "a number",
    list: "a list",
    dict: "an object",
}
