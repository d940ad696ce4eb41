"""The sandbox's pure parts: snowflake ids, rate windows, pagination tokens, entities and config checks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from integrations.x.sandbox import RateWindow, SandboxCustomer, XSandboxConfig
from integrations.x.sandbox.entities import find_entities
from integrations.x.sandbox.limits import RateLimiter
from integrations.x.sandbox.paging import PageToken, decode_token, encode_token
from integrations.x.sandbox.snowflake import SnowflakeIds, snowflake_time
from tests.integrations.x.sandbox.conftest import ADA, T0


def test_snowflakes_carry_their_time_and_never_repeat_or_go_back() -> None:
    ids = SnowflakeIds()
    same_ms = [ids.next_id(T0) for _ in range(3)]
    earlier = ids.next_id(T0 - timedelta(seconds=5))  # a clock that stepped back
    later = ids.next_id(T0 + timedelta(milliseconds=1))

    numbers = [int(i) for i in [*same_ms, earlier, later]]
    assert numbers == sorted(numbers) and len(set(numbers)) == 5
    assert all(len(i) == 19 for i in same_ms)
    assert snowflake_time(same_ms[0]) == T0
    assert snowflake_time(later) == T0 + timedelta(milliseconds=1)


def test_a_rate_window_opens_with_its_first_request_and_frees_all_at_once() -> None:
    limiter = RateLimiter(windows=(RateWindow(limit=2, seconds=60),))
    opened = int(T0.timestamp())

    assert limiter.peek(T0).headers()["x-rate-limit-remaining"] == "2"
    assert limiter.acquire(T0).remaining == 1
    assert limiter.acquire(T0 + timedelta(seconds=30)).reset == opened + 60
    refused = limiter.acquire(T0 + timedelta(seconds=59))
    assert (refused.allowed, refused.remaining, refused.reset) == (False, 0, opened + 60)
    fresh = limiter.acquire(T0 + timedelta(seconds=61))
    assert (fresh.allowed, fresh.remaining, fresh.reset) == (True, 1, opened + 121)


def test_page_tokens_round_trip_and_are_long_enough() -> None:
    token = PageToken(direction="previous", event_id=42)
    text = encode_token(token)

    assert len(text) >= 16
    assert decode_token(text) == token
    assert decode_token(text[:-3] + "!!!") is None


def test_entities_skip_signs_inside_links() -> None:
    found = find_entities("see https://shop.example/#sizes, ask @bo_waits about $AAPL #ParcelLate.")

    assert [u.value for u in found.urls] == ["https://shop.example/#sizes"]
    assert [h.value for h in found.hashtags] == ["ParcelLate"]
    assert [m.value for m in found.mentions] == ["bo_waits"]
    assert [c.value for c in found.cashtags] == ["AAPL"]


@pytest.mark.parametrize(
    "build",
    [
        lambda: SandboxCustomer(user_id="ada", handle="ada", name="Ada"),
        lambda: SandboxCustomer(user_id="1", handle="has space", name="Ada"),
        lambda: XSandboxConfig(customers=(ADA, ADA)),
        lambda: XSandboxConfig(customers=(SandboxCustomer(user_id="2", handle="LanternAndLoom", name="Copy"),)),
        lambda: XSandboxConfig(send_windows=()),
        lambda: XSandboxConfig(delivery_retries=(-1.0,)),
        lambda: RateWindow(limit=0, seconds=900),
    ],
)
def test_configs_that_cannot_work_are_refused(build: Callable[[], object]) -> None:
    with pytest.raises(ValueError):
        build()
