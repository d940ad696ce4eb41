"""The X payload decoder: documented samples in, one normalized DirectMessage out, bad bodies named by field."""

from __future__ import annotations

import copy
import pickle
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from integrations.x.events import (
    MAX_EVENTS_PER_DELIVERY,
    DirectMessage,
    MalformedDelivery,
    WebhookDelivery,
    decode_dm_event,
    decode_webhook,
)

# --- Samples copied from reference/x-dm-api.md -----------------------------------------------------------

# §2.5, AAA direct_message_events (XDOCS x-api/account-activity/introduction.mdx).
AAA_SAMPLE = b"""{
  "for_user_id": "4337869213",
  "direct_message_events": [{
    "type": "message_create",
    "id": "954491830116155396",
    "created_timestamp": "1516403560557",
    "message_create": {
      "target": {"recipient_id": "4337869213"},
      "sender_id": "3001969357",
      "source_app_id": "13090192",
      "message_data": {"text": "Hello World!",
                        "entities": {"hashtags": [], "symbols": [], "user_mentions": [], "urls": []}}
    }
  }],
  "apps":  {"13090192": {"id": "13090192", "name": "FuriousCamperTestApp1", "url": "https://x.com/furiouscamper"}},
  "users": {"3001969357": {"id": "3001969357", "created_timestamp": "1422556069340", "name": "Jordan Brinks",
                           "screen_name": "furiouscamper", "protected": false, "verified": false,
                           "followers_count": 22, "friends_count": 45, "statuses_count": 494,
                           "profile_image_url_https": "https://pbs.twimg.com/..."},
            "4337869213": {"id": "4337869213", "screen_name": "Harris_0ff", "...": "..."}}
}"""

# §2.5, XAA envelope with dm.received (XDOCS x-api/activity/event-payloads.mdx).
XAA_SAMPLE = b"""{"data": {
  "event_uuid": "-6850472171600526495",
  "filter": {"user_id": "1111111111111111111"},
  "event_type": "dm.received",
  "tag": "dm-inbound",
  "payload": {
    "direct_message_events": [{
      "type": "message_create", "id": "2080765901528535096", "created_timestamp": "1784928224372",
      "message_create": {"target": {"recipient_id": "1111111111111111111"}, "sender_id": "2222222222222222222",
                         "message_data": {"text": "hello!", "entities": {"hashtags": [], "symbols": [], "user_mentions": [], "urls": []}}}}],
    "users": {"2222222222222222222": {"data": {"id": "2222222222222222222", "username": "OtherUser", "name": "OtherUser", "...": "..."}}}
  }
}}"""  # noqa: E501 - kept as printed in the reference

# §2.5, typing and read events (users maps shortened to {} from the doc's "{...}").
AAA_TYPING = b"""{"for_user_id":"4337869213","direct_message_indicate_typing_events":[{"created_timestamp":"1518127183443","sender_id":"3284025577","target":{"recipient_id":"3001969357"}}],"users":{}}"""  # noqa: E501
AAA_READ = b"""{"for_user_id":"4337869213","direct_message_mark_read_events":[{"created_timestamp":"1518452444662","sender_id":"199566737","target":{"recipient_id":"3001969357"},"last_read_event_id":"963085315333238788"}],"users":{}}"""  # noqa: E501

# §1.3, documented v2 events with fields requested (XDOCS x-api/direct-messages/lookup/integrate.mdx).
V2_MESSAGE_CREATE = {
    "id": "1582838499983564806",
    "event_type": "MessageCreate",
    "text": "Hi everyone.",
    "sender_id": "944480690",
    "dm_conversation_id": "1578398451921985538",
    "created_at": "2022-10-19T20:58:00.000Z",
}
V2_PARTICIPANTS_JOIN = {
    "id": "1582835469712138240",
    "event_type": "ParticipantsJoin",
    "participant_ids": ["944480690"],
    "sender_id": "17200003",
    "dm_conversation_id": "1578398451921985538",
    "created_at": "2022-10-19T20:45:58.000Z",
}
V2_PARTICIPANTS_LEAVE = {
    "id": "1582838535115067392",
    "event_type": "ParticipantsLeave",
    "participant_ids": ["944480690"],
    "dm_conversation_id": "1578398451921985538",
    "created_at": "2022-10-19T20:58:09.000Z",
}
# What GET /2/dm_events returns when no dm_event.fields are asked for (§1.3, recorded 2022).
V2_DEFAULT_FIELDS = {"event_type": "MessageCreate", "id": "1585800613752881156", "text": "Testing 2"}

# --- Builders for the table-driven cases -------------------------------------------------------------------

BRAND = "4337869213"  # the subscribed account
CUSTOMER = "3001969357"
PRIVATE = "my address is 12 Rose Lane"  # must never show up in an error message
DELETE = object()  # marks a field to remove in a mutation


def message_create(
    *,
    event_id: str = "954491830116155396",
    sender_id: str = CUSTOMER,
    recipient_id: str = BRAND,
    text: str = PRIVATE,
    created_timestamp: str = "1516403560557",
) -> dict[str, Any]:
    return {
        "type": "message_create",
        "id": event_id,
        "created_timestamp": created_timestamp,
        "message_create": {
            "target": {"recipient_id": recipient_id},
            "sender_id": sender_id,
            "message_data": {
                "text": text,
                "entities": {"hashtags": [], "symbols": [], "user_mentions": [], "urls": []},
            },
        },
    }


def aaa(*events: object, **top: object) -> bytes:
    return orjson.dumps({"for_user_id": BRAND, "direct_message_events": list(events), **top})


def xaa(event_type: str, *events: object, user_id: str | None = BRAND, users: object = None) -> bytes:
    data: dict[str, Any] = {"event_uuid": "-6850472171600526495", "event_type": event_type}
    if user_id is not None:
        data["filter"] = {"user_id": user_id}
    data["payload"] = {"direct_message_events": list(events), "users": users or {}}
    return orjson.dumps({"data": data})


def mutated(value: dict[str, Any], dotted: str, new: object) -> dict[str, Any]:
    """A deep copy of ``value`` with the field at ``dotted`` replaced, or removed when ``new`` is DELETE."""
    result = copy.deepcopy(value)
    *parents, last = dotted.split(".")
    node = result
    for key in parents:
        node = node[key]
    if new is DELETE:
        del node[last]
    else:
        node[last] = new
    return result


def only_message(delivery: WebhookDelivery) -> DirectMessage:
    assert delivery.echoes == 0 and delivery.ignored == 0
    assert len(delivery.messages) == 1
    return delivery.messages[0]


# --- Documented samples ------------------------------------------------------------------------------------


def test_account_activity_sample_decodes_to_one_message() -> None:
    delivery = decode_webhook(AAA_SAMPLE)

    assert delivery.shape == "account_activity"
    assert delivery.for_user_id == "4337869213"
    assert only_message(delivery) == DirectMessage(
        event_id="954491830116155396",
        sender_id="3001969357",
        recipient_id="4337869213",
        text="Hello World!",
        sent_at=datetime(2018, 1, 19, 23, 12, 40, 557000, tzinfo=UTC),
        conversation_id="3001969357-4337869213",
        sender_handle="furiouscamper",
    )
    sent_at = delivery.messages[0].sent_at
    assert sent_at is not None and sent_at.tzinfo is UTC


def test_activity_sample_decodes_to_one_message() -> None:
    delivery = decode_webhook(XAA_SAMPLE)

    assert delivery.shape == "activity"
    assert delivery.for_user_id == "1111111111111111111"
    assert only_message(delivery) == DirectMessage(
        event_id="2080765901528535096",
        sender_id="2222222222222222222",
        recipient_id="1111111111111111111",
        text="hello!",
        sent_at=datetime(2026, 7, 24, 21, 23, 44, 372000, tzinfo=UTC),
        conversation_id="1111111111111111111-2222222222222222222",
        sender_handle="OtherUser",
    )


def test_the_same_dm_through_every_shape_has_the_same_identity() -> None:
    event = message_create(event_id="1582838499983564806", sender_id="944480690", text="Hi everyone.")
    via_aaa = only_message(decode_webhook(aaa(event, users={"944480690": {"screen_name": "ada"}})))
    via_xaa = only_message(
        decode_webhook(xaa("dm.received", event, users={"944480690": {"data": {"username": "ada"}}}))
    )
    via_poll = decode_dm_event(
        {
            "id": "1582838499983564806",
            "event_type": "MessageCreate",
            "text": "Hi everyone.",
            "sender_id": "944480690",
            "dm_conversation_id": f"944480690-{BRAND}",
            "created_at": "2018-01-19T23:12:40.557Z",
        }
    )

    assert via_aaa == via_xaa
    assert via_poll is not None
    assert via_poll.event_id == via_aaa.event_id == "1582838499983564806"
    assert via_poll.conversation_id == via_aaa.conversation_id
    assert via_poll.sent_at == via_aaa.sent_at
    assert via_poll.text == via_aaa.text


# --- Echoes and activity we do not answer ------------------------------------------------------------------

ECHOES = [
    pytest.param(aaa(message_create(sender_id=BRAND, recipient_id=CUSTOMER)), None, id="aaa-sender-is-for_user_id"),
    pytest.param(
        aaa(message_create(sender_id="777", recipient_id=CUSTOMER), for_user_id="888"), "777", id="aaa-sender-is-bot"
    ),
    pytest.param(
        orjson.dumps({"direct_message_events": [message_create(sender_id="777")]}), "777", id="aaa-no-for_user_id-bot"
    ),
    pytest.param(xaa("dm.sent", message_create(sender_id=BRAND, recipient_id=CUSTOMER)), None, id="xaa-dm.sent"),
    pytest.param(xaa("dm.sent", message_create(), user_id=None), None, id="xaa-dm.sent-by-event-type-alone"),
    pytest.param(xaa("dm.received", message_create(sender_id=BRAND)), None, id="xaa-received-from-filter-user"),
    pytest.param(xaa("dm.received", message_create(sender_id="777"), user_id=None), "777", id="xaa-sender-is-bot"),
]


@pytest.mark.parametrize(("body", "bot_user_id"), ECHOES)
def test_own_messages_are_counted_as_echoes_and_dropped(body: bytes, bot_user_id: str | None) -> None:
    delivery = decode_webhook(body, bot_user_id=bot_user_id)

    assert (delivery.messages, delivery.echoes, delivery.ignored) == ((), 1, 0)


def test_echo_is_dropped_but_the_customer_message_beside_it_is_kept() -> None:
    echo = message_create(event_id="11", sender_id=BRAND, recipient_id=CUSTOMER)
    customer = message_create(event_id="12")

    delivery = decode_webhook(aaa(echo, customer))

    assert [m.event_id for m in delivery.messages] == ["12"]
    assert delivery.echoes == 1


IGNORED = [
    pytest.param(AAA_TYPING, "account_activity", 1, id="typing"),
    pytest.param(AAA_READ, "account_activity", 1, id="read-receipt"),
    pytest.param(
        orjson.dumps({"for_user_id": BRAND, "tweet_create_events": [{"id_str": "1"}, {"id_str": "2"}]}),
        "account_activity",
        2,
        id="two-posts",
    ),
    pytest.param(orjson.dumps({"for_user_id": BRAND, "follow_events": [{}]}), "account_activity", 1, id="follow"),
    pytest.param(orjson.dumps({"for_user_id": BRAND, "favorite_events": [{}]}), "account_activity", 1, id="like"),
    pytest.param(
        orjson.dumps({"for_user_id": BRAND, "user_event": {"revoke": {}}}), "account_activity", 1, id="revoke"
    ),
    pytest.param(orjson.dumps({"replay_job_status": {"job_state": "Complete"}}), "account_activity", 1, id="replay"),
    pytest.param(
        orjson.dumps({"for_user_id": BRAND, "block_events": [{}], "mute_events": [{}, {}]}),
        "account_activity",
        3,
        id="block-and-mutes",
    ),
    pytest.param(
        aaa({"type": "welcome_message_rule", "id": "5"}, {"type": "reaction_create"}),
        "account_activity",
        2,
        id="non-message_create-dm-events",
    ),
    pytest.param(orjson.dumps({"data": {"event_type": "dm.read", "payload": {}}}), "activity", 1, id="xaa-dm.read"),
    pytest.param(orjson.dumps({"data": {"event_type": "dm.indicate_typing"}}), "activity", 1, id="xaa-typing"),
    pytest.param(
        orjson.dumps({"data": {"event_type": "chat.received", "payload": {"encoded_event": "AAEC"}}}),
        "activity",
        1,
        id="xaa-chat-ciphertext",
    ),
    pytest.param(orjson.dumps({"data": {"event_type": "profile.update.bio"}}), "activity", 1, id="xaa-unknown"),
]


@pytest.mark.parametrize(("body", "shape", "ignored"), IGNORED)
def test_activity_we_do_not_answer_is_valid_and_counted(body: bytes, shape: str, ignored: int) -> None:
    delivery = decode_webhook(body)

    assert delivery.shape == shape
    assert (delivery.messages, delivery.echoes, delivery.ignored) == ((), 0, ignored)


def test_typing_beside_a_message_is_ignored_and_the_message_kept() -> None:
    body = aaa(message_create(), direct_message_indicate_typing_events=[{"sender_id": CUSTOMER}])

    delivery = decode_webhook(body)

    assert len(delivery.messages) == 1
    assert delivery.ignored == 1


def test_an_empty_event_list_is_a_valid_delivery() -> None:
    # The body of the signature test vector in reference §2.4.
    delivery = decode_webhook(b'{"for_user_id":"4337869213","direct_message_events":[]}')

    assert delivery == WebhookDelivery(
        shape="account_activity", for_user_id="4337869213", messages=(), echoes=0, ignored=0
    )


def test_unknown_fields_are_tolerated() -> None:
    event = message_create()
    event["initiated_via"] = {"welcome_message_id": "1"}
    event["message_create"]["message_data"]["quick_reply_response"] = {"type": "options", "metadata": "m"}
    event["message_create"]["brand_new"] = [1, 2, 3]

    delivery = decode_webhook(aaa(event, apps={}, brand_new_top_level={"x": 1}))

    assert only_message(delivery).text == PRIVATE


# --- Malformed bodies --------------------------------------------------------------------------------------

DM0 = "direct_message_events[0]"
XDM0 = "data.payload.direct_message_events[0]"

MALFORMED_BODIES = [
    pytest.param(b"\xff\xfe{}", "$", id="not-utf8"),
    pytest.param(b'{"for_user_id": "1", "x": "\xed\xa0\x80"}', "$", id="utf8-surrogate"),
    pytest.param(b"", "$", id="empty"),
    pytest.param(b"not json", "$", id="not-json"),
    pytest.param(b'{"for_user_id": "1",', "$", id="truncated"),
    pytest.param(b"[]", "$", id="top-level-list"),
    pytest.param(b'"hello"', "$", id="top-level-string"),
    pytest.param(b"null", "$", id="top-level-null"),
    pytest.param(b"{}", "$", id="empty-object"),
    pytest.param(b'{"foo": 1}', "$", id="neither-shape"),
    pytest.param(b'{"users": {}, "apps": {}}', "$", id="side-maps-only"),
    pytest.param(b'{"for_user_id": "1", "x": ' + b"[" * 5000 + b"]" * 5000 + b"}", "$", id="nested-absurdly-deep"),
    pytest.param(orjson.dumps({"for_user_id": 4337869213}), "for_user_id", id="for_user_id-int"),
    pytest.param(orjson.dumps({"for_user_id": BRAND, "direct_message_events": {}}), "direct_message_events", id="dict"),
    pytest.param(orjson.dumps({"direct_message_events": None}), "direct_message_events", id="events-null"),
    pytest.param(aaa(*[message_create()] * (MAX_EVENTS_PER_DELIVERY + 1)), "direct_message_events", id="too-many"),
    pytest.param(aaa("event"), DM0, id="event-string"),
    pytest.param(aaa(message_create(), [1]), "direct_message_events[1]", id="second-event-list"),
    pytest.param(aaa(message_create(), message_create(event_id="x1")), "direct_message_events[1].id", id="second-id"),
    pytest.param(orjson.dumps({"data": []}), "data", id="xaa-data-list"),
    pytest.param(orjson.dumps({"data": {"payload": {}}}), "data.event_type", id="xaa-no-event_type"),
    pytest.param(orjson.dumps({"data": {"event_type": 7}}), "data.event_type", id="xaa-event_type-int"),
    pytest.param(orjson.dumps({"data": {"event_type": "dm.read", "filter": "x"}}), "data.filter", id="xaa-filter"),
    pytest.param(
        orjson.dumps({"data": {"event_type": "dm.received", "filter": {"user_id": 1}}}),
        "data.filter.user_id",
        id="xaa-user_id-int",
    ),
    pytest.param(orjson.dumps({"data": {"event_type": "dm.received"}}), "data.payload", id="xaa-no-payload"),
    pytest.param(
        orjson.dumps({"data": {"event_type": "dm.received", "payload": {}}}),
        "data.payload.direct_message_events",
        id="xaa-no-events",
    ),
    pytest.param(
        xaa("dm.received", mutated(message_create(), "message_create.sender_id", DELETE)),
        f"{XDM0}.message_create.sender_id",
        id="xaa-no-sender",
    ),
    pytest.param(
        xaa("dm.sent", mutated(message_create(), "id", 954491830116155396)), f"{XDM0}.id", id="xaa-sent-id-int"
    ),
]


@pytest.mark.parametrize(("body", "path"), MALFORMED_BODIES)
def test_malformed_body_is_refused_with_the_field_path(body: bytes, path: str) -> None:
    with pytest.raises(MalformedDelivery) as caught:
        decode_webhook(body)

    assert caught.value.path == path
    assert str(caught.value).startswith(f"{path}: ")
    assert PRIVATE not in str(caught.value)


# (field inside a message_create event, bad value, path under the event)
MALFORMED_EVENT_FIELDS = [
    ("type", DELETE, "type"),
    ("type", 1, "type"),
    ("id", DELETE, "id"),
    ("id", 954491830116155396, "id"),  # X sends strings; an int is not what X would send
    ("id", "", "id"),
    ("id", "95449183011615539a", "id"),
    ("id", "12345678901234567890", "id"),  # 20 digits: more than a 64-bit snowflake
    ("id", "١٢٣", "id"),  # Arabic-Indic digits pass str.isdigit() but are not an id
    ("id", "-1", "id"),
    ("created_timestamp", 1516403560557, "created_timestamp"),
    ("created_timestamp", "2018-01-19T23:12:40Z", "created_timestamp"),
    ("created_timestamp", "", "created_timestamp"),
    ("created_timestamp", "999999999999999", "created_timestamp"),  # beyond the year 9999
    ("message_create", DELETE, "message_create"),
    ("message_create", "x", "message_create"),
    ("message_create.sender_id", DELETE, "message_create.sender_id"),
    ("message_create.sender_id", 3001969357, "message_create.sender_id"),
    ("message_create.sender_id", None, "message_create.sender_id"),
    ("message_create.target", [], "message_create.target"),
    ("message_create.target.recipient_id", 4337869213, "message_create.target.recipient_id"),
    ("message_create.message_data", DELETE, "message_create.message_data"),
    ("message_create.message_data.text", DELETE, "message_create.message_data.text"),
    ("message_create.message_data.text", 42, "message_create.message_data.text"),
    ("message_create.message_data.text", ["hi"], "message_create.message_data.text"),
    ("message_create.message_data.text", "", "message_create.message_data.text"),  # empty without an attachment
]


@pytest.mark.parametrize(("field", "value", "path"), MALFORMED_EVENT_FIELDS, ids=lambda v: repr(v)[:24])
def test_malformed_event_field_is_refused_with_its_path(field: str, value: object, path: str) -> None:
    body = aaa(mutated(message_create(), field, value))

    with pytest.raises(MalformedDelivery) as caught:
        decode_webhook(body)

    assert caught.value.path == f"{DM0}.{path}"
    assert PRIVATE not in str(caught.value)


def test_exactly_the_event_limit_is_accepted() -> None:
    events = [message_create(event_id=str(n)) for n in range(1, MAX_EVENTS_PER_DELIVERY + 1)]

    assert len(decode_webhook(aaa(*events)).messages) == MAX_EVENTS_PER_DELIVERY


def test_optional_fields_may_be_absent() -> None:
    event = mutated(mutated(message_create(), "created_timestamp", DELETE), "message_create.target", DELETE)

    message = only_message(decode_webhook(aaa(event)))

    assert (message.sent_at, message.recipient_id, message.conversation_id) == (None, None, None)


def test_empty_text_is_kept_when_there_is_an_attachment() -> None:
    event = message_create(text="")
    event["message_create"]["message_data"]["attachment"] = {"type": "media", "media": {"id_str": "1"}}

    assert only_message(decode_webhook(aaa(event))).text == ""


def test_malformed_delivery_is_a_value_error_that_survives_pickling() -> None:
    error = MalformedDelivery("direct_message_events[0].id", "missing")

    copied = pickle.loads(pickle.dumps(error))

    assert isinstance(error, ValueError)
    assert str(error) == "direct_message_events[0].id: missing"
    assert (copied.path, copied.reason, str(copied)) == (error.path, error.reason, str(error))


# --- Text ---------------------------------------------------------------------------------------------------

LONG_TEXT = ("Parcel 1Z5R89390357567127 — où est-il? 📦 " * 400)[:10_000]

TEXT_AS_SENT = [
    pytest.param("📦 where is my parcel?? 👍🏽", id="emoji-with-skin-tone"),
    pytest.param("👨‍👩‍👧 family order", id="zwj-sequence"),
    pytest.param(LONG_TEXT, id="10000-chars"),
    pytest.param("طلبي رقم 1001 لم يصل بعد", id="arabic-rtl"),
    pytest.param("ההזמנה שלי לא הגיעה", id="hebrew-rtl"),
    pytest.param("Заказ #1001 — 注文 — طلب 1001 — Bestellung", id="mixed-scripts"),
    pytest.param("\u202eRTL override\u202c and \u200fmark", id="bidi-controls"),
    pytest.param("cafe\u0301 vs café", id="combining-accent-not-normalized"),
    pytest.param("  leading and trailing  \n\n", id="whitespace-not-stripped"),
    pytest.param("line one\r\nline two\ttab", id="crlf-and-tab"),
    pytest.param("&copy; &#39; &quot; &nbsp;", id="other-entities-left-alone"),
]


@pytest.mark.parametrize("text", TEXT_AS_SENT)
def test_text_passes_through_unchanged(text: str) -> None:
    assert only_message(decode_webhook(aaa(message_create(text=text)))).text == text
    assert only_message(decode_webhook(xaa("dm.received", message_create(text=text)))).text == text


UNESCAPED = [
    ("a &lt;b&gt; &amp; c", "a <b> & c"),
    ("&amp;lt;", "&lt;"),  # the customer typed "&lt;" literally
    ("&amp;amp;", "&amp;"),
    ("Tom &amp; Jerry &lt;3", "Tom & Jerry <3"),
    ("&gt;&gt;&gt; 📦", ">>> 📦"),
    ("&AMP; &Lt;", "&AMP; &Lt;"),  # X escapes in lower case only
    ("&", "&"),
]


@pytest.mark.parametrize(("sent", "expected"), UNESCAPED)
def test_v11_entities_are_unescaped_exactly(sent: str, expected: str) -> None:
    assert only_message(decode_webhook(aaa(message_create(text=sent)))).text == expected


# --- Ordering and conversation ids ----------------------------------------------------------------------------


def test_messages_are_ordered_by_time_then_numeric_id() -> None:
    events = [
        message_create(event_id="50", created_timestamp="1700000002000"),
        message_create(event_id="10", created_timestamp="1700000001000"),
        mutated(message_create(event_id="5"), "created_timestamp", DELETE),  # undated: last
        message_create(event_id="9", created_timestamp="1700000001000"),  # "9" > "10" as text, not as number
        message_create(event_id="70", created_timestamp="1700000000000"),
    ]

    delivery = decode_webhook(aaa(*events))

    assert [m.event_id for m in delivery.messages] == ["70", "9", "10", "50", "5"]


@pytest.mark.parametrize(
    ("sender_id", "recipient_id", "conversation_id"),
    [
        ("999", "1000", "999-1000"),  # as text "1000" < "999": the comparison must be numeric
        ("1000", "999", "999-1000"),
        ("3001969357", "4337869213", "3001969357-4337869213"),
        ("4337869213", "3001969357", "3001969357-4337869213"),
    ],
)
def test_webhook_conversation_id_is_smaller_id_first(sender_id: str, recipient_id: str, conversation_id: str) -> None:
    event = message_create(sender_id=sender_id, recipient_id=recipient_id)

    assert only_message(decode_webhook(aaa(event, for_user_id="1"))).conversation_id == conversation_id


@pytest.mark.parametrize(
    "users",
    [
        pytest.param(None, id="no-users-map"),
        pytest.param({}, id="sender-not-in-map"),
        pytest.param({CUSTOMER: {"name": "No Handle"}}, id="no-screen_name"),
        pytest.param({CUSTOMER: {"screen_name": 7}}, id="screen_name-not-a-string"),
        pytest.param({CUSTOMER: "furiouscamper"}, id="user-not-an-object"),
        pytest.param(["furiouscamper"], id="users-not-an-object"),
        pytest.param({BRAND: {"screen_name": "Harris_0ff"}}, id="only-the-brand"),
    ],
)
def test_sender_handle_is_optional(users: object) -> None:
    body = aaa(message_create()) if users is None else aaa(message_create(), users=users)

    assert only_message(decode_webhook(body)).sender_handle is None


def test_handle_is_read_from_the_shape_of_users_map_the_delivery_uses() -> None:
    # An AAA-style map inside an XAA envelope is not where XAA puts username.
    body = xaa("dm.received", message_create(), users={CUSTOMER: {"screen_name": "furiouscamper"}})

    assert only_message(decode_webhook(body)).sender_handle is None


# --- Polling: GET /2/dm_events ----------------------------------------------------------------------------------


def test_documented_message_create_event_decodes() -> None:
    assert decode_dm_event(V2_MESSAGE_CREATE) == DirectMessage(
        event_id="1582838499983564806",
        sender_id="944480690",
        recipient_id=None,
        text="Hi everyone.",
        sent_at=datetime(2022, 10, 19, 20, 58, tzinfo=UTC),
        conversation_id="1578398451921985538",
        sender_handle=None,
    )


@pytest.mark.parametrize(
    ("event", "bot_user_id"),
    [
        pytest.param(V2_PARTICIPANTS_JOIN, None, id="participants-join"),
        pytest.param(V2_PARTICIPANTS_LEAVE, None, id="participants-leave"),
        pytest.param(V2_MESSAGE_CREATE, "944480690", id="sent-by-the-bot"),
        pytest.param(V2_DEFAULT_FIELDS, None, id="default-fields-no-sender"),
    ],
)
def test_events_we_do_not_answer_decode_to_none(event: dict[str, Any], bot_user_id: str | None) -> None:
    assert decode_dm_event(event, bot_user_id=bot_user_id) is None


def test_another_bot_id_does_not_hide_the_customer() -> None:
    assert decode_dm_event(V2_MESSAGE_CREATE, bot_user_id="17200003") is not None


def test_v2_created_at_with_an_offset_becomes_utc() -> None:
    message = decode_dm_event({**V2_MESSAGE_CREATE, "created_at": "2022-10-19T22:58:00.250+02:00"})

    assert message is not None and message.sent_at is not None
    assert message.sent_at == datetime(2022, 10, 19, 20, 58, 0, 250000, tzinfo=UTC)
    assert message.sent_at.tzinfo is UTC


def test_v2_text_is_not_unescaped() -> None:
    # The &amp; escaping is documented for v1.1 payloads; v2 text is taken as X sends it.
    message = decode_dm_event({**V2_MESSAGE_CREATE, "text": "Tom &amp; Jerry 📦"})

    assert message is not None and message.text == "Tom &amp; Jerry 📦"


def test_v2_attachment_only_message_has_empty_text() -> None:
    event = {**V2_MESSAGE_CREATE, "text": "", "attachments": {"media_keys": ["3_1"]}}

    message = decode_dm_event(event)

    assert message is not None and message.text == ""


MALFORMED_V2 = [
    ("id", 1582838499983564806),
    ("id", "abc"),
    ("id", None),
    ("event_type", None),
    ("event_type", 3),
    ("text", 12),
    ("text", ""),  # empty without attachments
    ("sender_id", 944480690),
    ("sender_id", "@ada"),
    ("dm_conversation_id", 1578398451921985538),
    ("created_at", "yesterday"),
    ("created_at", "2022-10-19T20:58:00"),  # no offset: the instant is unknown
    ("created_at", 1666223880),
]


@pytest.mark.parametrize(("field", "value"), MALFORMED_V2, ids=lambda v: repr(v)[:24])
def test_malformed_v2_event_is_refused_with_its_path(field: str, value: object) -> None:
    with pytest.raises(MalformedDelivery) as caught:
        decode_dm_event({**V2_MESSAGE_CREATE, field: value}, path="data[3]")

    assert caught.value.path == f"data[3].{field}"


def test_malformed_v2_type_errors_are_raised_even_for_events_we_ignore() -> None:
    with pytest.raises(MalformedDelivery) as caught:
        decode_dm_event({**V2_PARTICIPANTS_JOIN, "id": 1582835469712138240})

    assert caught.value.path == "data[0].id"


def test_v2_event_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(MalformedDelivery) as caught:
        decode_dm_event(["1582838499983564806"], path="data[1]")  # type: ignore[arg-type]

    assert caught.value.path == "data[1]"
