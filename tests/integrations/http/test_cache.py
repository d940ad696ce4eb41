"""CoalescingCache: answers reused for a while, errors never, concurrent lookups of a key share one load."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from integrations.http.cache import CoalescingCache


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Loader:
    """A provider stand-in: counts its calls; ``gate`` holds every call until it is set."""

    def __init__(self, value: object = "answer") -> None:
        self.value = value
        self.calls = 0
        self.started = asyncio.Event()
        self.gate = asyncio.Event()
        self.gate.set()
        self.error: BaseException | None = None

    def __call__(self) -> Callable[[], Awaitable[object]]:
        async def load() -> object:
            self.calls += 1
            self.started.set()
            await self.gate.wait()
            if self.error is not None:
                raise self.error
            return self.value

        return load


class ProviderDown(Exception):
    pass


async def outcomes(*tasks: asyncio.Task[object]) -> list[object]:
    """What each task ended with, a value or an exception; a hang fails the test in a second."""
    return await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 1)


def cancelled(outcome: object) -> bool:
    return isinstance(outcome, asyncio.CancelledError)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def cache(clock: FakeClock, **options: object) -> CoalescingCache[str, object]:
    settings: dict[str, object] = {"ttl": 60.0, "clock": clock} | options
    return CoalescingCache(**settings)  # type: ignore[arg-type]


async def test_a_second_get_within_ttl_is_a_hit(clock: FakeClock) -> None:
    answers = cache(clock)
    loader = Loader()
    assert await answers.get("1Z999", loader()) == "answer"
    clock.now += 59.9
    assert await answers.get("1Z999", loader()) == "answer"
    assert loader.calls == 1
    assert (answers.stats.loads, answers.stats.hits, answers.stats.coalesced) == (1, 1, 0)


async def test_an_answer_expires_after_ttl(clock: FakeClock) -> None:
    answers = cache(clock)
    loader = Loader("old")
    await answers.get("1Z999", loader())
    clock.now += 60.0
    loader.value = "new"
    assert await answers.get("1Z999", loader()) == "new"
    assert loader.calls == 2
    assert (answers.stats.loads, answers.stats.hits) == (2, 0)


async def test_empty_answers_expire_sooner(clock: FakeClock) -> None:
    answers = cache(clock, empty_ttl=5.0)
    loader = Loader(None)  # "no such parcel yet"
    assert await answers.get("1Z999", loader()) is None
    clock.now += 4.9
    assert await answers.get("1Z999", loader()) is None
    assert loader.calls == 1
    clock.now += 0.1
    await answers.get("1Z999", loader())
    assert loader.calls == 2


async def test_empty_ttl_defaults_to_a_tenth_of_ttl(clock: FakeClock) -> None:
    answers = cache(clock)
    loader = Loader(None)
    await answers.get("k", loader())
    clock.now += 5.9
    await answers.get("k", loader())
    assert loader.calls == 1
    clock.now += 0.1
    await answers.get("k", loader())
    assert loader.calls == 2


async def test_is_empty_decides_what_is_empty(clock: FakeClock) -> None:
    answers = cache(clock, empty_ttl=1.0, is_empty=lambda value: value == [])
    empty, full = Loader([]), Loader(None)
    await answers.get("empty", empty())
    await answers.get("none", full())  # None is a real answer for this cache
    clock.now += 30.0
    await answers.get("empty", empty())
    await answers.get("none", full())
    assert (empty.calls, full.calls) == (2, 1)


async def test_zero_ttl_caches_nothing(clock: FakeClock) -> None:
    answers = cache(clock, ttl=0.0)
    loader = Loader()
    await answers.get("k", loader())
    await answers.get("k", loader())
    assert loader.calls == 2


async def test_least_recently_used_answers_go_beyond_max_entries(clock: FakeClock) -> None:
    answers = cache(clock, max_entries=3)
    loaders = {key: Loader(key.upper()) for key in "abcd"}
    for key in "abc":
        await answers.get(key, loaders[key]())
    await answers.get("a", loaders["a"]())  # a is now the most recently used; b the least
    await answers.get("d", loaders["d"]())  # one too many: b goes
    for key in "acd":
        assert await answers.get(key, loaders[key]()) == key.upper()
    assert {key: loader.calls for key, loader in loaders.items()} == {"a": 1, "b": 1, "c": 1, "d": 1}
    await answers.get("b", loaders["b"]())
    assert loaders["b"].calls == 2


async def test_errors_are_not_cached(clock: FakeClock) -> None:
    answers = cache(clock)
    loader = Loader()
    loader.error = ProviderDown("carrier down")
    with pytest.raises(ProviderDown):
        await answers.get("1Z999", loader())
    loader.error = None
    assert await answers.get("1Z999", loader()) == "answer"  # asked again at once
    assert loader.calls == 2


async def test_fifty_concurrent_gets_of_one_key_make_one_load(clock: FakeClock) -> None:
    answers = cache(clock)
    loader = Loader()
    loader.gate.clear()
    tasks = [asyncio.create_task(answers.get("1Z999", loader())) for _ in range(50)]
    await loader.started.wait()
    await asyncio.sleep(0)
    loader.gate.set()
    assert await outcomes(*tasks) == ["answer"] * 50
    assert loader.calls == 1
    assert (answers.stats.loads, answers.stats.coalesced, answers.stats.hits) == (1, 49, 0)


async def test_concurrent_gets_of_different_keys_load_each_once(clock: FakeClock) -> None:
    answers = cache(clock)
    loaders = {key: Loader(key) for key in ("a", "b", "c")}
    for loader in loaders.values():
        loader.gate.clear()
    tasks = [asyncio.create_task(answers.get(key, loaders[key]())) for key in ("a", "b", "c") * 5]
    await asyncio.sleep(0)
    for loader in loaders.values():
        assert loader.started.is_set()  # no key waits for another key's load
        loader.gate.set()
    assert await outcomes(*tasks) == ["a", "b", "c"] * 5
    assert {key: loader.calls for key, loader in loaders.items()} == {"a": 1, "b": 1, "c": 1}
    assert (answers.stats.loads, answers.stats.coalesced) == (3, 12)


async def test_an_error_in_a_coalesced_load_reaches_every_waiter(clock: FakeClock) -> None:
    answers = cache(clock)
    loader = Loader()
    loader.gate.clear()
    loader.error = ProviderDown("carrier down")
    tasks: list[asyncio.Task[object]] = [asyncio.create_task(answers.get("1Z999", loader())) for _ in range(10)]
    await loader.started.wait()
    loader.gate.set()
    results = await outcomes(*tasks)
    assert all(isinstance(result, ProviderDown) for result in results)
    assert loader.calls == 1
    loader.error = None
    assert await answers.get("1Z999", loader()) == "answer"  # and nothing of it was kept
    assert loader.calls == 2


async def test_a_cancelled_waiter_does_not_cancel_the_load(clock: FakeClock) -> None:
    answers = cache(clock)
    loader = Loader()
    loader.gate.clear()
    first = asyncio.create_task(answers.get("1Z999", loader()))
    await loader.started.wait()
    quitter = asyncio.create_task(answers.get("1Z999", loader()))
    patient = asyncio.create_task(answers.get("1Z999", loader()))
    await asyncio.sleep(0)
    quitter.cancel()
    loader.gate.set()
    first_got, quitter_got, patient_got = await outcomes(first, quitter, patient)
    assert cancelled(quitter_got)
    assert (first_got, patient_got) == ("answer", "answer")
    assert loader.calls == 1


async def test_a_cancelled_loader_lets_a_waiter_load_instead(clock: FakeClock) -> None:
    answers = cache(clock)
    loader = Loader()
    loader.gate.clear()
    first = asyncio.create_task(answers.get("1Z999", loader()))
    await loader.started.wait()
    waiters = [asyncio.create_task(answers.get("1Z999", loader())) for _ in range(3)]
    await asyncio.sleep(0)
    first.cancel()
    assert cancelled((await outcomes(first))[0])
    loader.gate.set()
    assert await outcomes(*waiters) == ["answer"] * 3  # no hang, no error
    assert loader.calls == 2  # the cancelled load, then one new load shared by the three
    assert await answers.get("1Z999", loader()) == "answer"
    assert loader.calls == 2  # and cached


@pytest.mark.parametrize("loader_first", [True, False], ids=["loader-first", "waiter-first"])
async def test_a_waiter_cancelled_together_with_the_loader_stays_cancelled(
    clock: FakeClock, loader_first: bool
) -> None:
    """Its own cancellation must not be mistaken for the loader's and swallowed."""
    answers = cache(clock)
    loader = Loader()
    loader.gate.clear()
    first = asyncio.create_task(answers.get("1Z999", loader()))
    await loader.started.wait()
    waiter = asyncio.create_task(answers.get("1Z999", loader()))
    await asyncio.sleep(0)
    for task in (first, waiter) if loader_first else (waiter, first):
        task.cancel()  # e.g. a shutdown cancelling every conversation's task in one go
    loader.gate.set()  # a new load would not hang, it would answer
    assert all(cancelled(outcome) for outcome in await outcomes(first, waiter))
    assert loader.calls == 1  # the waiter did not go on to load


async def test_put_primes_the_cache(clock: FakeClock) -> None:
    answers = cache(clock)
    loader = Loader()
    answers.put("1Z999", "pushed")
    assert await answers.get("1Z999", loader()) == "pushed"
    assert loader.calls == 0
    clock.now += 60.0
    assert await answers.get("1Z999", loader()) == "answer"


async def test_put_replaces_a_cached_answer(clock: FakeClock) -> None:
    answers = cache(clock)
    loader = Loader("looked up")
    await answers.get("1Z999", loader())
    answers.put("1Z999", "pushed")
    assert await answers.get("1Z999", loader()) == "pushed"


async def test_an_empty_put_lasts_empty_ttl(clock: FakeClock) -> None:
    answers = cache(clock, empty_ttl=2.0)
    loader = Loader()
    answers.put("1Z999", None)
    assert await answers.get("1Z999", loader()) is None
    clock.now += 2.0
    assert await answers.get("1Z999", loader()) == "answer"


async def test_a_put_during_a_load_is_not_overwritten_by_the_load(clock: FakeClock) -> None:
    """A carrier's push is fresher than a lookup that left before it."""
    answers = cache(clock)
    loader = Loader("looked up")
    loader.gate.clear()
    lookup = asyncio.create_task(answers.get("1Z999", loader()))
    await loader.started.wait()
    answers.put("1Z999", "pushed")
    loader.gate.set()
    assert await outcomes(lookup) == ["looked up"]  # what it asked for
    assert await answers.get("1Z999", loader()) == "pushed"  # what the cache keeps
    assert loader.calls == 1


async def test_forget_drops_an_answer(clock: FakeClock) -> None:
    answers = cache(clock)
    loader = Loader()
    await answers.get("1Z999", loader())
    answers.forget("1Z999")
    answers.forget("never cached")  # no error
    await answers.get("1Z999", loader())
    assert loader.calls == 2


async def test_forget_during_a_load_keeps_its_answer_out(clock: FakeClock) -> None:
    answers = cache(clock)
    loader = Loader()
    loader.gate.clear()
    lookup = asyncio.create_task(answers.get("1Z999", loader()))
    await loader.started.wait()
    answers.forget("1Z999")  # what the load may have read is stale
    loader.gate.set()
    assert await outcomes(lookup) == ["answer"]
    await answers.get("1Z999", loader())
    assert loader.calls == 2


def test_nonsense_is_refused(clock: FakeClock) -> None:
    with pytest.raises(ValueError):
        cache(clock, ttl=-1.0)
    with pytest.raises(ValueError):
        cache(clock, max_entries=0)
