"""Rate limits on the wire: the three headers, fixed windows, both 429 bodies, tweepy's reset_time."""

from __future__ import annotations

import aiohttp
import pytest
import tweepy

from integrations.x.sandbox import RateWindow
from tests.integrations.x.sandbox.conftest import ADA, FakeClock, Start

TIGHT_SENDS = (RateWindow(limit=2, seconds=900), RateWindow(limit=3, seconds=86400))


async def _send(client: tweepy.asynchronous.AsyncClient, text: str = "hi") -> aiohttp.ClientResponse:
    response: aiohttp.ClientResponse = await client.create_direct_message(participant_id=ADA.user_id, text=text)
    return response


def _limits(response: aiohttp.ClientResponse) -> tuple[int, int, int]:
    h = response.headers
    return int(h["x-rate-limit-limit"]), int(h["x-rate-limit-remaining"]), int(h["x-rate-limit-reset"])


async def test_every_answer_carries_the_first_windows_headers(start: Start, clock: FakeClock) -> None:
    x = await start(client_options={"return_type": aiohttp.ClientResponse})
    reset = clock.epoch + 900

    sent = await _send(x.client)
    read = await x.client.get_direct_message_events()
    clock.advance(seconds=10)
    sent_again = await _send(x.client)

    assert _limits(sent) == (200, 199, reset)
    assert _limits(read) == (300, 299, reset)
    assert _limits(sent_again) == (200, 198, reset)  # the window opened with the first send, not this one


@pytest.mark.parametrize(
    ("style", "body", "message"),
    [
        (
            "problem",
            {"title": "Too Many Requests", "type": "about:blank", "status": 429, "detail": "Too Many Requests"},
            "Too Many Requests",
        ),
        ("v1", {"errors": [{"code": 88, "message": "Rate limit exceeded"}]}, "Rate limit exceeded"),
    ],
)
async def test_over_the_limit_is_429_with_the_configured_body_and_creates_nothing(
    start: Start, clock: FakeClock, style: str, body: dict[str, object], message: str
) -> None:
    x = await start(send_windows=TIGHT_SENDS, rate_limit_body=style)
    opened = clock.epoch
    for _ in range(2):
        await x.client.create_direct_message(participant_id=ADA.user_id, text="ok")
    clock.advance(seconds=100)

    with pytest.raises(tweepy.TooManyRequests) as raised:
        await x.client.create_direct_message(participant_id=ADA.user_id, text="one too many")

    error = raised.value
    assert error.reset_time == opened + 900
    assert error.response.headers["x-rate-limit-remaining"] == "0"
    assert error.response.headers["x-rate-limit-limit"] == "2"
    assert await error.response.json() == body
    assert error.api_messages == [message]
    assert [e["text"] for e in x.sandbox.events()] == ["ok", "ok"]


async def test_the_window_frees_at_its_reset_and_refusals_are_not_counted(start: Start, clock: FakeClock) -> None:
    x = await start(send_windows=TIGHT_SENDS, client_options={"return_type": aiohttp.ClientResponse})
    await _send(x.client)
    await _send(x.client)
    for _ in range(3):
        with pytest.raises(tweepy.TooManyRequests):
            await _send(x.client)

    clock.advance(seconds=899)
    with pytest.raises(tweepy.TooManyRequests):
        await _send(x.client)
    clock.advance(seconds=1)
    freed = await _send(x.client)

    assert _limits(freed) == (2, 1, clock.epoch + 900)


async def test_an_exhausted_daily_window_reports_its_own_reset(start: Start, clock: FakeClock) -> None:
    x = await start(send_windows=TIGHT_SENDS)
    day_opened = clock.epoch
    await x.client.create_direct_message(participant_id=ADA.user_id, text="1")
    await x.client.create_direct_message(participant_id=ADA.user_id, text="2")
    clock.advance(seconds=900)
    await x.client.create_direct_message(participant_id=ADA.user_id, text="3")  # 15-min window fresh, day now full

    with pytest.raises(tweepy.TooManyRequests) as raised:
        await x.client.create_direct_message(participant_id=ADA.user_id, text="4")

    assert raised.value.reset_time == day_opened + 86400
    assert raised.value.response.headers["x-rate-limit-limit"] == "3"


async def test_every_authorized_send_counts_even_a_rejected_one(start: Start) -> None:
    x = await start(send_windows=TIGHT_SENDS)
    for participant in ("999", "not-a-number"):
        with pytest.raises((tweepy.Forbidden, tweepy.BadRequest)):
            await x.client.create_direct_message(participant_id=participant, text="hi")

    with pytest.raises(tweepy.TooManyRequests):
        await x.client.create_direct_message(participant_id=ADA.user_id, text="hi")


async def test_reads_have_their_own_budget(start: Start) -> None:
    x = await start(read_windows=(RateWindow(limit=1, seconds=900),), send_windows=TIGHT_SENDS)
    await x.client.get_direct_message_events()

    with pytest.raises(tweepy.TooManyRequests):
        await x.client.get_direct_message_events(participant_id=ADA.user_id)
    await x.client.create_direct_message(participant_id=ADA.user_id, text="sends still work")


async def test_forced_429s_ignore_the_budget(start: Start, clock: FakeClock) -> None:
    x = await start()
    x.sandbox.faults.force_429(2)
    x.sandbox.faults.force_429(1, budget="read")

    for _ in range(2):
        with pytest.raises(tweepy.TooManyRequests) as raised:
            await x.client.create_direct_message(participant_id=ADA.user_id, text="hi")
        assert raised.value.reset_time == clock.epoch + 900
    with pytest.raises(tweepy.TooManyRequests):
        await x.client.get_direct_message_events()
    await x.client.create_direct_message(participant_id=ADA.user_id, text="through")
    await x.client.get_direct_message_events()

    assert [e["text"] for e in x.sandbox.events()] == ["through"]
