"""Carrier calls per 1,000 customer lookups, and the latency dmcare's provider layer adds.

The carrier is a fake AfterShip / 17TRACK server speaking the real wire format over real HTTP on this
machine, answering after ``--latency-ms`` (a real provider's round trip). Lookups arrive as customers
do (Poisson, ``--rate`` per second), about parcels drawn this way:

- a new parcel most of the time;
- with ``--repeat`` probability, a parcel looked up within the last ten (simulated) minutes: the same
  customer again, a second conversation about the same order, the flow checking before an offer;
- with ``--together`` probability, a second lookup of that parcel at the same instant (a split DM
  and a follow-up handled in one batch; an agent opening the case while the bot looks it up).

Each provider runs twice on the same arrivals: the adapter alone, then behind dmcare's cache with
coalescing (``integrations/caching.py``; ten minutes). The whole clock is compressed by ``--time-scale``:
arrivals, the cache's ten minutes and the providers' rate limits (AfterShip 5, 17TRACK 3 requests a
second) alike. Added latency is measured with a provider that answers at once: what our
client, retries, mapping, batching window and cache cost on top of the provider's own time.

    python bench/lookups.py [--lookups 1000] [--rate 50] [--latency-ms 150] [--repeat 0.35] [--together 0.05]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Protocol

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from starlette.types import ASGIApp, Receive, Scope, Send

from integrations.caching import CachedTracking
from integrations.carriers.aftership import REQUESTS_PER_SECOND as AFTERSHIP_RATE
from integrations.carriers.aftership import AfterShipTracking, aftership_http
from integrations.carriers.seventeen_track import REQUESTS_PER_SECOND as SEVENTEEN_TRACK_RATE
from integrations.carriers.seventeen_track import SeventeenTrack
from integrations.http import RequestPacer
from integrations.protocols import TrackingService
from tests.fakes.aftership import FakeAfterShip, FakeCheckpoint, FakeParcel
from tests.fakes.seventeen_track import FakeEvent, FakeSeventeenTrack
from tests.fakes.seventeen_track import FakeParcel as SeventeenTrackParcel
from tests.integrations.x.sandbox.server import serve

TRACKING_CACHE_SECONDS = 600.0  # the default DMCARE_TRACKING_CACHE_SECONDS


@dataclass(frozen=True)
class Arrival:
    at: float  # seconds after the start, on the compressed clock
    number: str


def workload(*, lookups: int, rate: float, repeat: float, together: float, time_scale: float,
             seed: int) -> list[Arrival]:  # fmt: skip
    rng = random.Random(seed)
    window = 600.0 / time_scale  # "the last ten minutes", compressed
    arrivals: list[Arrival] = []
    now = 0.0
    fresh = 0
    while len(arrivals) < lookups:
        now += rng.expovariate(rate)
        recent = [a.number for a in arrivals if now - a.at <= window]
        if recent and rng.random() < repeat:
            number = rng.choice(recent)
        else:
            fresh += 1
            number = f"1Z{fresh:016d}"
        arrivals.append(Arrival(at=now, number=number))
        if len(arrivals) < lookups and rng.random() < together:
            arrivals.append(Arrival(at=now, number=number))
    return arrivals


class Delayed:
    """The fake provider, answering after ``latency`` seconds like a real one across the internet."""

    def __init__(self, app: ASGIApp, latency: float) -> None:
        self.app, self.latency = app, latency

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.latency:
            await asyncio.sleep(self.latency)
        await self.app(scope, receive, send)


@dataclass
class Run:
    requests: int
    latencies: list[float]
    numbers: int  # tracking numbers carried by those requests (17TRACK sends up to 40 in one)


async def replay(service: TrackingService, arrivals: list[Arrival]) -> list[float]:
    latencies: list[float] = []
    start = time.perf_counter()

    async def one(arrival: Arrival) -> None:
        await asyncio.sleep(max(0.0, start + arrival.at - time.perf_counter()))
        began = time.perf_counter()
        await service.track(carrier="ups", tracking_number=arrival.number)
        latencies.append(time.perf_counter() - began)

    await asyncio.gather(*(one(arrival) for arrival in arrivals))
    return latencies


# --- providers --------------------------------------------------------------------------------------


def seventeen_track_fake(numbers: set[str]) -> FakeSeventeenTrack:
    seen = datetime(2026, 11, 20, 9, tzinfo=UTC)
    return FakeSeventeenTrack(
        parcels={
            number: SeventeenTrackParcel(
                status="InTransit", sub_status="InTransit_Other", estimated_delivery=date(2026, 11, 26),
                events=(FakeEvent(time=seen, description="Departed facility", location="Leipzig"),),
            )
            for number in numbers
        }
    )  # fmt: skip


async def measure_seventeen_track(arrivals: list[Arrival], *, latency: float, cached: bool,
                                  time_scale: float) -> Run:  # fmt: skip
    fake = seventeen_track_fake({a.number for a in arrivals})

    def connect(base_url: str) -> SeventeenTrack:
        pacer = RequestPacer(rate=SEVENTEEN_TRACK_RATE * time_scale)  # the simulated clock's 3 a second
        return SeventeenTrack.connect(api_key="fake-17track-key", base_url=base_url, pacer=pacer)

    latencies = await replay_through(fake.app, connect, arrivals, latency=latency, cached=cached,
                                     time_scale=time_scale)  # fmt: skip
    numbers = sum(sum(counts) for counts in fake.numbers_per_request.values())
    return Run(requests=sum(fake.requests.values()), latencies=latencies, numbers=numbers)


def aftership_fake(numbers: set[str]) -> FakeAfterShip:
    scan = FakeCheckpoint(time="2026-11-20T09:00:00+01:00", message="Departed facility", subtag="InTransit_007",
                          location="Leipzig")  # fmt: skip
    return FakeAfterShip(
        parcels=[
            FakeParcel(
                tracking_number=number, tag="InTransit", checkpoints=(scan,), estimated_delivery=date(2026, 11, 26)
            )
            for number in numbers
        ]
    )


async def measure_aftership(arrivals: list[Arrival], *, latency: float, cached: bool, time_scale: float) -> Run:
    fake = aftership_fake({a.number for a in arrivals})

    def connect(base_url: str) -> AfterShipTracking:
        pacer = RequestPacer(rate=AFTERSHIP_RATE * time_scale)
        return AfterShipTracking(http=aftership_http(api_key=fake.api_key, base_url=base_url, pacer=pacer))

    latencies = await replay_through(fake.app, connect, arrivals, latency=latency, cached=cached,
                                     time_scale=time_scale)  # fmt: skip
    return Run(requests=sum(fake.calls.values()), latencies=latencies, numbers=sum(fake.calls.values()))


class ClosableTracking(TrackingService, Protocol):
    async def aclose(self) -> None: ...


async def replay_through(
    app: ASGIApp,
    connect: Callable[[str], ClosableTracking],
    arrivals: list[Arrival],
    *,
    latency: float,
    cached: bool,
    time_scale: float,
) -> list[float]:
    """Serve the fake provider, connect the adapter (rate limits on the simulated clock), replay the lookups."""
    async with serve(Delayed(app, latency)) as base_url:
        adapter = connect(base_url)
        service: TrackingService = (
            CachedTracking(inner=adapter, ttl=TRACKING_CACHE_SECONDS / time_scale) if cached else adapter
        )
        try:
            return await replay(service, arrivals)
        finally:
            await adapter.aclose()


# --- report -----------------------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f} ms"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lookups", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=50.0, help="lookups per second on the compressed clock")
    parser.add_argument("--latency-ms", type=float, default=150.0, help="the provider's own answer time")
    parser.add_argument("--repeat", type=float, default=0.35)
    parser.add_argument("--together", type=float, default=0.05)
    parser.add_argument("--time-scale", type=float, default=60.0, help="simulated seconds per real second")
    parser.add_argument("--provider", choices=["aftership", "17track", "both"], default="both")
    parser.add_argument("--seed", type=int, default=7)
    options = parser.parse_args()
    arrivals = workload(lookups=options.lookups, rate=options.rate, repeat=options.repeat,
                        together=options.together, time_scale=options.time_scale, seed=options.seed)  # fmt: skip
    distinct = len({a.number for a in arrivals})
    span = timedelta(seconds=arrivals[-1].at * options.time_scale)
    print(f"{len(arrivals)} lookups of {distinct} parcels over {span} (simulated; x{options.time_scale:g}); "
          f"repeat {options.repeat:.0%}, together {options.together:.0%}; provider answers in "
          f"{options.latency_ms:.0f} ms")  # fmt: skip
    measures: dict[str, Callable[..., Awaitable[Run]]] = {}
    if options.provider in ("aftership", "both"):
        measures["AfterShip"] = measure_aftership
    if options.provider in ("17track", "both"):
        measures["17TRACK"] = measure_seventeen_track
    latency = options.latency_ms / 1000
    per = 1000 / len(arrivals)
    print(f"\n{'provider':<10} {'mode':<22} {'calls':>6} {'per 1,000':>10} {'numbers':>8} {'lookup p50':>11}"
          f" {'p99':>11} {'added p50':>11} {'added p99':>11}")  # fmt: skip
    for name, measure in measures.items():
        for cached in (False, True):
            run = await measure(arrivals, latency=latency, cached=cached, time_scale=options.time_scale)
            bare = await measure(arrivals, latency=0.0, cached=cached, time_scale=options.time_scale)
            mode = "cache + coalescing" if cached else "adapter alone"
            print(f"{name:<10} {mode:<22} {run.requests:>6} {run.requests * per:>10.0f} {run.numbers:>8} "
                  f"{ms(percentile(run.latencies, 0.5))} {ms(percentile(run.latencies, 0.99))} "
                  f"{ms(percentile(bare.latencies, 0.5))} {ms(percentile(bare.latencies, 0.99))}")  # fmt: skip
    print("\ncalls: HTTP requests the provider received; numbers: tracking numbers they carried.")
    print("added: lookup latency when the provider answers at once (client, pacing, batching window, cache).")
    print(f"median of lookups per parcel: {statistics.median(_counts(arrivals)):.0f}")


def _counts(arrivals: list[Arrival]) -> list[int]:
    counts: dict[str, int] = {}
    for arrival in arrivals:
        counts[arrival.number] = counts.get(arrival.number, 0) + 1
    return list(counts.values())


if __name__ == "__main__":
    asyncio.run(main())
