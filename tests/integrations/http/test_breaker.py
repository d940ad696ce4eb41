"""CircuitBreaker: closed, open (fail fast), half-open with a single probe; time from a fake clock."""

from __future__ import annotations

import logging

import pytest

from integrations.errors import RetryableIntegrationError
from integrations.http.breaker import BreakerState, CircuitBreaker, ProviderUnavailableError


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make_breaker(clock: FakeClock, *, threshold: int = 3, reset_after: float = 30.0) -> CircuitBreaker:
    return CircuitBreaker(service="aftership", failure_threshold=threshold, reset_after=reset_after, clock=clock)


def fail(breaker: CircuitBreaker, times: int) -> None:
    for _ in range(times):
        breaker.before_call()
        breaker.record_failure()


def opened(clock: FakeClock) -> CircuitBreaker:
    breaker = make_breaker(clock)
    fail(breaker, 3)
    assert breaker.state is BreakerState.OPEN
    return breaker


def test_a_new_breaker_is_closed_and_lets_calls_through(clock: FakeClock) -> None:
    breaker = make_breaker(clock)
    assert breaker.state is BreakerState.CLOSED
    for _ in range(10):
        breaker.before_call()
        breaker.record_success()


def test_opens_after_threshold_consecutive_failures(clock: FakeClock) -> None:
    breaker = make_breaker(clock, threshold=3)
    fail(breaker, 2)
    assert breaker.state is BreakerState.CLOSED
    breaker.before_call()  # still closed: goes through
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN
    with pytest.raises(ProviderUnavailableError):
        breaker.before_call()


def test_a_success_in_between_resets_the_count(clock: FakeClock) -> None:
    breaker = make_breaker(clock, threshold=3)
    fail(breaker, 2)
    breaker.before_call()
    breaker.record_success()
    fail(breaker, 2)
    assert breaker.state is BreakerState.CLOSED
    breaker.before_call()  # 2 + 2 failures, but never 3 in a row
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN


def test_threshold_of_one_opens_on_the_first_failure(clock: FakeClock) -> None:
    breaker = make_breaker(clock, threshold=1)
    fail(breaker, 1)
    assert breaker.state is BreakerState.OPEN


def test_open_fails_fast_with_the_time_left(clock: FakeClock) -> None:
    breaker = opened(clock)
    clock.advance(12.0)
    with pytest.raises(ProviderUnavailableError) as caught:
        breaker.before_call()
    error = caught.value
    assert isinstance(error, RetryableIntegrationError)  # the outbox retries it
    assert error.service == "aftership"
    assert error.retry_after == pytest.approx(18.0)
    clock.advance(17.5)
    with pytest.raises(ProviderUnavailableError) as caught:
        breaker.before_call()
    assert caught.value.retry_after == pytest.approx(0.5)


def test_stays_open_until_reset_after(clock: FakeClock) -> None:
    breaker = opened(clock)
    clock.advance(29.999)
    assert breaker.state is BreakerState.OPEN
    with pytest.raises(ProviderUnavailableError):
        breaker.before_call()
    clock.advance(0.001)
    assert breaker.state is BreakerState.HALF_OPEN


def test_half_open_lets_exactly_one_probe_through(clock: FakeClock) -> None:
    breaker = opened(clock)
    clock.advance(30.0)
    breaker.before_call()  # the probe
    for _ in range(5):
        with pytest.raises(ProviderUnavailableError) as caught:
            breaker.before_call()  # everyone else keeps failing fast while it is out
        assert caught.value.retry_after is not None and caught.value.retry_after > 0


def test_probe_success_closes(clock: FakeClock) -> None:
    breaker = opened(clock)
    clock.advance(30.0)
    breaker.before_call()
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED
    for _ in range(5):
        breaker.before_call()  # all through again, no probe limit


def test_after_closing_the_count_starts_again(clock: FakeClock) -> None:
    breaker = opened(clock)
    clock.advance(30.0)
    breaker.before_call()
    breaker.record_success()
    fail(breaker, 2)
    assert breaker.state is BreakerState.CLOSED
    fail(breaker, 1)
    assert breaker.state is BreakerState.OPEN


def test_probe_failure_opens_again_for_a_full_reset_after(clock: FakeClock) -> None:
    breaker = opened(clock)
    clock.advance(45.0)
    breaker.before_call()
    clock.advance(2.0)  # the probe took its time to fail
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN
    with pytest.raises(ProviderUnavailableError) as caught:
        breaker.before_call()
    assert caught.value.retry_after == pytest.approx(30.0)  # counted from the probe's failure
    clock.advance(29.9)
    assert breaker.state is BreakerState.OPEN
    clock.advance(0.1)
    assert breaker.state is BreakerState.HALF_OPEN
    breaker.before_call()  # a new probe
    with pytest.raises(ProviderUnavailableError):
        breaker.before_call()


def test_release_probe_lets_another_call_probe(clock: FakeClock) -> None:
    breaker = opened(clock)
    clock.advance(30.0)
    breaker.before_call()
    with pytest.raises(ProviderUnavailableError):
        breaker.before_call()
    breaker.release_probe()  # the probe was cancelled: it learned nothing
    assert breaker.state is BreakerState.HALF_OPEN
    breaker.before_call()  # the next call is the probe
    with pytest.raises(ProviderUnavailableError):
        breaker.before_call()  # and still only one


def test_a_late_failure_while_open_does_not_extend_the_pause(clock: FakeClock) -> None:
    breaker = opened(clock)
    clock.advance(20.0)
    breaker.record_failure()  # a call that left before the breaker opened fails now
    clock.advance(10.0)
    assert breaker.state is BreakerState.HALF_OPEN


def test_opening_and_closing_are_logged(clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="integrations.http.breaker")
    breaker = opened(clock)
    clock.advance(30.0)
    breaker.before_call()
    breaker.record_success()
    messages = [record.getMessage() for record in caplog.records]
    assert any("aftership" in message and "open" in message for message in messages)
    assert any("aftership" in message and "closed" in message for message in messages)


def test_threshold_below_one_is_refused() -> None:
    with pytest.raises(ValueError):
        CircuitBreaker(service="aftership", failure_threshold=0)
