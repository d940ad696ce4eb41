"""RetryPolicy's backoff (full jitter, doubling, capped) and the provider's own word on when to come back."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from integrations.http.retry import RetryPolicy, wait_from_headers

NOW = datetime(2026, 3, 10, 12, 0, 0, tzinfo=UTC)
DAY = 24 * 3600.0


def http_date(moment: datetime) -> str:
    return format_datetime(moment, usegmt=True)


# --- backoff -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("attempt", [0, 1, 2, 3, 4])
def test_backoff_stays_between_zero_and_the_doubling_ceiling(attempt: int) -> None:
    policy = RetryPolicy(attempts=6, base_delay=0.1, max_delay=100.0)
    rng = random.Random(attempt)
    delays = [policy.backoff(attempt, rng) for _ in range(500)]
    ceiling = 0.1 * 2**attempt
    assert all(0.0 <= delay <= ceiling for delay in delays)
    # Full jitter spreads over the whole range, not just its top or bottom.
    assert min(delays) < ceiling * 0.1
    assert max(delays) > ceiling * 0.9


def test_backoff_grows_with_each_attempt() -> None:
    policy = RetryPolicy(attempts=6, base_delay=0.1, max_delay=100.0)
    averages = []
    for attempt in range(5):
        rng = random.Random(7)
        averages.append(sum(policy.backoff(attempt, rng) for _ in range(400)) / 400)
    for smaller, larger in zip(averages, averages[1:], strict=False):
        assert larger == pytest.approx(2 * smaller)  # same draws, doubled ceiling


def test_backoff_is_capped_by_max_delay() -> None:
    policy = RetryPolicy(attempts=30, base_delay=0.5, max_delay=2.0)
    rng = random.Random(3)
    delays = [policy.backoff(attempt, rng) for attempt in range(4, 30) for _ in range(50)]
    assert max(delays) <= 2.0
    assert max(delays) > 1.8  # the cap is the ceiling, not a constant


def test_backoff_jitter_really_varies() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=10.0)
    rng = random.Random(42)
    delays = [policy.backoff(2, rng) for _ in range(50)]
    assert len(set(delays)) == 50  # conversations failing together must not come back in step


def test_backoff_with_the_same_seed_repeats() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=10.0)
    first = [policy.backoff(1, random.Random(5)) for _ in range(3)]
    assert first[0] == first[1] == first[2]
    assert policy.backoff(1, random.Random(6)) != first[0]


def test_backoff_without_an_rng_uses_the_module_random() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=10.0)
    delays = {policy.backoff(0) for _ in range(20)}
    assert all(0.0 <= delay <= 1.0 for delay in delays)
    assert len(delays) > 1


@pytest.mark.parametrize(
    "options", [{"attempts": 0}, {"base_delay": -0.1}, {"max_delay": -1.0}], ids=["attempts", "base", "max"]
)
def test_policy_refuses_nonsense(options: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**options)  # type: ignore[arg-type]


# --- Retry-After -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [("5", 5.0), (" 2.5 ", 2.5), ("0", 0.0), ("120", 120.0)])
def test_retry_after_in_seconds(value: str, expected: float) -> None:
    assert wait_from_headers({"Retry-After": value}, now=NOW) == expected


def test_retry_after_as_an_http_date() -> None:
    assert wait_from_headers({"Retry-After": http_date(NOW + timedelta(seconds=90))}, now=NOW) == 90.0


def test_retry_after_as_an_http_date_with_a_numeric_zone() -> None:
    # "-0000" makes email.utils return a naive datetime: it is still UTC.
    assert wait_from_headers({"Retry-After": "Tue, 10 Mar 2026 12:00:30 -0000"}, now=NOW) == 30.0
    assert wait_from_headers({"Retry-After": "Tue, 10 Mar 2026 13:00:30 +0100"}, now=NOW) == 30.0


@pytest.mark.parametrize("seconds_ago", [1, 3600, 10 * DAY])
def test_retry_after_date_in_the_past_means_now(seconds_ago: float) -> None:
    assert wait_from_headers({"Retry-After": http_date(NOW - timedelta(seconds=seconds_ago))}, now=NOW) == 0.0


def test_negative_retry_after_means_now() -> None:
    assert wait_from_headers({"Retry-After": "-30"}, now=NOW) == 0.0


@pytest.mark.parametrize("value", ["", "soon", "5s", "nan", "inf", "-inf", "Mon, 99 Foo 2026 xx:yy:zz GMT", "1,5"])
def test_garbage_retry_after_is_not_an_answer(value: str) -> None:
    assert wait_from_headers({"Retry-After": value}, now=NOW) is None


def test_garbage_retry_after_falls_back_to_a_reset_header() -> None:
    assert wait_from_headers({"Retry-After": "later", "X-RateLimit-Reset": "7"}, now=NOW) == 7.0


def test_retry_after_wins_over_reset_headers() -> None:
    assert wait_from_headers({"Retry-After": "3", "X-RateLimit-Reset": "50"}, now=NOW) == 3.0


def test_no_header_is_no_answer() -> None:
    assert wait_from_headers({}, now=NOW) is None
    assert wait_from_headers({"Content-Type": "application/json", "X-RateLimit-Limit": "10"}, now=NOW) is None


# --- X-RateLimit-Reset / ratelimit-reset ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["X-RateLimit-Reset", "ratelimit-reset"])
def test_reset_header_as_seconds_left(name: str) -> None:
    assert wait_from_headers({name: "42"}, now=NOW) == 42.0


@pytest.mark.parametrize("name", ["X-RateLimit-Reset", "ratelimit-reset"])
def test_reset_header_as_a_unix_time(name: str) -> None:
    reset = int(NOW.timestamp()) + 17
    assert wait_from_headers({name: str(reset)}, now=NOW) == pytest.approx(17.0)


def test_reset_unix_time_in_the_past_means_now() -> None:
    assert wait_from_headers({"X-RateLimit-Reset": str(int(NOW.timestamp()) - 60)}, now=NOW) == 0.0


def test_seconds_up_to_a_day_are_seconds_and_beyond_are_a_unix_time() -> None:
    assert wait_from_headers({"X-RateLimit-Reset": str(int(DAY))}, now=NOW) == DAY
    # One second more is read as a Unix time: January 1970, long past.
    assert wait_from_headers({"X-RateLimit-Reset": str(int(DAY) + 1)}, now=NOW) == 0.0


def test_a_wait_is_capped_at_one_day() -> None:
    far = NOW + timedelta(days=30)
    assert wait_from_headers({"X-RateLimit-Reset": str(int(far.timestamp()))}, now=NOW) == DAY
    assert wait_from_headers({"Retry-After": http_date(far)}, now=NOW) == DAY
    assert wait_from_headers({"Retry-After": str(10 * DAY)}, now=NOW) == DAY


@pytest.mark.parametrize("value", ["", "tomorrow", "nan", "inf"])
def test_garbage_reset_header_is_not_an_answer(value: str) -> None:
    assert wait_from_headers({"X-RateLimit-Reset": value}, now=NOW) is None


def test_garbage_x_ratelimit_reset_falls_back_to_ratelimit_reset() -> None:
    assert wait_from_headers({"X-RateLimit-Reset": "never", "RateLimit-Reset": "9"}, now=NOW) == 9.0


@pytest.mark.parametrize("name", ["retry-after", "RETRY-AFTER", "Retry-After", "rEtRy-AfTeR"])
def test_retry_after_name_is_case_insensitive(name: str) -> None:
    assert wait_from_headers({name: "4"}, now=NOW) == 4.0


@pytest.mark.parametrize("name", ["x-ratelimit-reset", "X-RATELIMIT-RESET", "RateLimit-Reset", "RATELIMIT-RESET"])
def test_reset_header_name_is_case_insensitive(name: str) -> None:
    assert wait_from_headers({name: "6"}, now=NOW) == 6.0


def test_without_now_the_clock_is_used() -> None:
    reset = datetime.now(UTC) + timedelta(seconds=100)
    wait = wait_from_headers({"X-RateLimit-Reset": str(reset.timestamp())})
    assert wait is not None and 98.0 < wait <= 100.0
