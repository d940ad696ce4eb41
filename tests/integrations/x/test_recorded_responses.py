"""Responses X really sent (tweepy's 2022 cassette) must decode, so the decoder is not fitted to our own guesses."""

from __future__ import annotations

import gzip
import re
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from integrations.x.events import decode_dm_event

CASSETTE = Path(__file__).parents[2] / "fixtures" / "x" / "tweepy-cassette-dm.yaml"
DIGITS = re.compile(r"[0-9]{1,19}")
ONE_TO_ONE = re.compile(r"([0-9]{1,19})-([0-9]{1,19})")


def _interactions() -> list[dict[str, Any]]:
    # safe_load understands !!binary (the gzip bodies come back as bytes); nothing else in it needs trust.
    with CASSETTE.open("rb") as file:
        interactions: list[dict[str, Any]] = yaml.safe_load(file)["interactions"]
    return interactions


def _json_body(response: dict[str, Any]) -> Any:
    raw = response["body"]["string"]
    if "gzip" in response["headers"].get("content-encoding", []):
        raw = gzip.decompress(raw)
    return orjson.loads(raw)


INTERACTIONS = _interactions()
LOOKUPS = [i for i in INTERACTIONS if i["request"]["method"] == "GET" and "dm_events" in i["request"]["uri"]]
SENDS = [i for i in INTERACTIONS if i["request"]["method"] == "POST"]


def test_the_cassette_has_both_kinds_of_call() -> None:
    # Guards the filters above: an empty list would make the parametrized tests pass vacuously.
    assert len(LOOKUPS) == 3
    assert len(SENDS) == 3
    assert len(LOOKUPS) + len(SENDS) == len(INTERACTIONS)


@pytest.mark.parametrize("interaction", LOOKUPS, ids=lambda i: i["request"]["uri"].split("/2/")[1])
def test_every_recorded_lookup_event_decodes(interaction: dict[str, Any]) -> None:
    body = _json_body(interaction["response"])
    events = body.get("data", [])  # an empty inbox has no "data" at all
    assert body["meta"]["result_count"] == len(events)

    for index, event in enumerate(events):
        # Only the default fields were asked for, so there is no sender: nothing to answer.
        assert decode_dm_event(event, path=f"data[{index}]") is None
        # With the sender the poller asks for, the same event yields X's id and text unchanged.
        message = decode_dm_event({**event, "sender_id": "750362064426721281"}, path=f"data[{index}]")
        assert message is not None
        assert (message.event_id, message.text) == (event["id"], event["text"])


def test_lookup_events_are_the_messages_that_were_sent() -> None:
    # The send responses name the event ids; the lookups must return those same ids with the sent text.
    sent_text_by_id = {
        _json_body(i["response"])["data"]["dm_event_id"]: orjson.loads(i["request"]["body"])["text"]
        for i in SENDS
        if "/messages" in i["request"]["uri"]
    }
    looked_up = [
        decode_dm_event({**event, "sender_id": "750362064426721281"})
        for i in LOOKUPS
        for event in _json_body(i["response"]).get("data", [])
    ]

    assert sent_text_by_id == {"1585800613253812228": "Testing 1", "1585800613752881156": "Testing 2"}
    assert looked_up and all(m is not None and sent_text_by_id[m.event_id] == m.text for m in looked_up)


@pytest.mark.parametrize("interaction", SENDS, ids=lambda i: i["request"]["uri"].split("/2/")[1])
def test_every_recorded_send_response_has_conversation_and_event_ids(interaction: dict[str, Any]) -> None:
    response = interaction["response"]
    body = _json_body(response)

    assert response["status"]["code"] == 201
    assert set(body) == {"data"}
    assert set(body["data"]) == {"dm_conversation_id", "dm_event_id"}
    assert DIGITS.fullmatch(body["data"]["dm_event_id"])
    conversation_id = body["data"]["dm_conversation_id"]
    one_to_one = ONE_TO_ONE.fullmatch(conversation_id)
    if one_to_one:  # 1:1 ids are the two user ids, smaller first (reference §0)
        assert int(one_to_one[1]) < int(one_to_one[2])
    else:  # a group conversation has its own snowflake id
        assert DIGITS.fullmatch(conversation_id)


@pytest.mark.parametrize("interaction", INTERACTIONS, ids=lambda i: f"{i['request']['method']} {i['request']['uri']}")
def test_rate_limit_headers_are_integers(interaction: dict[str, Any]) -> None:
    headers = interaction["response"]["headers"]
    (limit,) = headers["x-rate-limit-limit"]
    (remaining,) = headers["x-rate-limit-remaining"]
    (reset,) = headers["x-rate-limit-reset"]

    assert all(value.isascii() and value.isdigit() for value in (limit, remaining, reset))
    assert 0 <= int(remaining) <= int(limit)
    assert 1_600_000_000 < int(reset) < 2_000_000_000  # epoch seconds, not milliseconds
