"""RequestPacer: a token bucket; a burst goes at once, then callers are spaced 1/rate apart, in order."""

from __future__ import annotations

import asyncio

import pytest

from integrations.http.pacing import RequestPacer


class FakeTime:
    """A clock and a sleep that only moves it: waits are recorded, never slept."""

    def __init__(self) -> None:
        self.now = 500.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)  # let others run, as a real sleep would


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime()


def pacer(fake: FakeTime, *, rate: float, burst: int) -> RequestPacer:
    return RequestPacer(rate=rate, burst=burst, clock=fake.clock, sleep=fake.sleep)


async def test_a_burst_passes_immediately(fake: FakeTime) -> None:
    paced = pacer(fake, rate=5, burst=4)
    for _ in range(4):
        await paced.acquire()
    assert fake.sleeps == []
    assert fake.now == 500.0


async def test_after_the_burst_callers_are_spaced_one_interval_apart(fake: FakeTime) -> None:
    paced = pacer(fake, rate=5, burst=3)
    times = []
    for _ in range(8):
        await paced.acquire()
        times.append(fake.now)
    assert times[:3] == [500.0] * 3
    gaps = [later - earlier for earlier, later in zip(times[2:], times[3:], strict=False)]
    assert gaps == pytest.approx([0.2] * 5)


async def test_concurrent_callers_go_in_the_order_they_came(fake: FakeTime) -> None:
    paced = pacer(fake, rate=10, burst=2)
    passed: list[tuple[int, float]] = []

    async def caller(number: int) -> None:
        await paced.acquire()
        passed.append((number, fake.now))

    async with asyncio.TaskGroup() as group:
        for number in range(7):
            group.create_task(caller(number))
    assert [number for number, _ in passed] == list(range(7))
    times = [moment for _, moment in passed]
    assert times[:2] == [500.0, 500.0]
    assert [later - earlier for earlier, later in zip(times[1:], times[2:], strict=False)] == pytest.approx([0.1] * 5)


async def test_tokens_come_back_with_time_up_to_the_burst(fake: FakeTime) -> None:
    paced = pacer(fake, rate=2, burst=3)
    for _ in range(3):
        await paced.acquire()
    fake.now += 1.0  # two tokens back at 2/s
    await paced.acquire()
    await paced.acquire()
    assert fake.sleeps == []
    await paced.acquire()
    assert fake.sleeps == pytest.approx([0.5])
    fake.now += 60.0  # a long quiet spell refills only up to the burst
    for _ in range(3):
        await paced.acquire()
    assert fake.sleeps == pytest.approx([0.5])
    await paced.acquire()
    assert fake.sleeps == pytest.approx([0.5, 0.5])


async def test_a_partly_refilled_token_waits_only_for_the_rest(fake: FakeTime) -> None:
    paced = pacer(fake, rate=4, burst=1)
    await paced.acquire()
    fake.now += 0.1  # 0.4 of a token
    await paced.acquire()
    assert fake.sleeps == pytest.approx([0.15])


async def test_a_cancelled_caller_does_not_block_the_next(fake: FakeTime) -> None:
    gate = asyncio.Event()

    async def stuck_sleep(seconds: float) -> None:
        fake.sleeps.append(seconds)
        await gate.wait()

    paced = RequestPacer(rate=1, burst=1, clock=fake.clock, sleep=stuck_sleep)
    await paced.acquire()
    waiting = asyncio.create_task(paced.acquire())
    await asyncio.sleep(0)
    assert fake.sleeps == [1.0]
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    fake.now += 1.0
    await asyncio.wait_for(paced.acquire(), 1)  # the token it never took is still there


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (-1, 1), (1, 0)])
def test_nonsense_is_refused(rate: float, burst: int) -> None:
    with pytest.raises(ValueError):
        RequestPacer(rate=rate, burst=burst)
