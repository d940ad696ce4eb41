"""Throughput, latency and memory of the full dmcare runtime, next to python-telegram-bot.

10,000 customers each hold a five-message conversation (the default flow: acknowledge, order number,
offer, accept, rating) against the sandbox shop, through the whole runtime: inbox with dedupe, one
durable step per event (state, messages and commands committed, batched across conversations),
the outbox running lookups, compensation and sends, results fed back as events. Closed loop: a customer
writes again only once the bot has answered, as people do. Prints messages per second, p50/p99 step
latency, peak memory, and python-telegram-bot's ConversationHandler on an equivalent 5-step flow in the
same run (in memory, no persistence, parsing of the update included, like ours).

    python bench/engine.py [--conversations 10000] [--batch 500]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ptb_peer import measure_ptb_conversation_handler
from bench.shop import write_shop
from bot.app import build_app
from bot.runtime.inbox import NewEvent
from bot.settings import Settings
from integrations.models import SentMessage

# (customer text, bot DMs expected before the customer writes again)
SCRIPT: tuple[tuple[str, int], ...] = (
    ("hi, my parcel still hasn't arrived and I'm worried", 1),  # empathy + ask for the order number
    ("my order is #{order}", 2),  # "looking it up", then the status and the offer
    ("let me think about it", 1),  # unclear: the offer restated, never raised
    ("yes please", 1),  # compensation confirmed + rating request
    ("5", 1),  # thanks, closed
)


@dataclass
class Figures:
    messages: int
    seconds: float
    step_latencies_ms: list[float]
    batch_step_us: list[float]
    peak_rss_mb: float


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


async def run_engine(conversations: int, batch: int, workdir: Path) -> Figures:
    shop = workdir / "shop.yaml"
    write_shop(shop, conversations, first_x_user_id=2_000_000_000)
    customers = [str(2_000_000_000 + index) for index in range(conversations)]
    replies: dict[str, int] = defaultdict(int)
    last_reply_at: dict[str, float] = {}

    def delivered(message: SentMessage) -> None:
        replies[message.recipient_id] += 1
        last_reply_at[message.recipient_id] = time.perf_counter()

    settings = Settings(
        database_url=f"sqlite:///{workdir / 'bench.db'}", demo_data=shop,
        sandbox_ledger=workdir / "ledger.jsonl", batch_size=batch,
    )  # fmt: skip
    app = build_app(settings, on_delivered=delivered)
    runtime = app.runtime
    processor = runtime.processor
    step_of = dict.fromkeys(customers, 0)
    awaiting = dict.fromkeys(customers, 0)  # replies that must arrive before the next message
    sent_at: dict[str, float] = {}
    latencies: list[float] = []
    batch_costs: list[float] = []
    ready = list(customers)
    messages = 0
    started = time.perf_counter()
    while ready or any(awaiting.values()):
        events = []
        for customer in ready:
            index = step_of[customer]
            text, expected = SCRIPT[index]
            order = 100_000 + int(customer) - 2_000_000_000
            events.append(NewEvent(event_id=f"bench:{customer}:{index}", kind="message", customer_id=customer,
                                   payload={"text": text.format(order=order), "sender_id": customer}))  # fmt: skip
            awaiting[customer] = replies[customer] + expected
            sent_at[customer] = time.perf_counter()
        if events:
            runtime.inbox.accept(events)
            messages += len(events)
        ready = []
        t0 = time.perf_counter()
        processed = processor.process_batch(batch)
        if processed:
            batch_costs.append((time.perf_counter() - t0) / processed * 1e6)
        await runtime.outbox.run_due(batch)
        for customer, target in awaiting.items():
            if target and replies[customer] >= target:
                latencies.append((last_reply_at[customer] - sent_at[customer]) * 1000)
                awaiting[customer] = 0
                step_of[customer] += 1
                if step_of[customer] < len(SCRIPT):
                    ready.append(customer)
    seconds = time.perf_counter() - started
    closed = sum(1 for customer in customers if step_of[customer] == len(SCRIPT))
    if closed != conversations or sum(replies.values()) != conversations * sum(e for _, e in SCRIPT):
        raise RuntimeError(f"engine bench: {closed}/{conversations} conversations completed the script")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return Figures(messages=messages, seconds=seconds, step_latencies_ms=latencies, batch_step_us=batch_costs,
                   peak_rss_mb=peak)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=500)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dmcare-bench-") as workdir:
        figures = asyncio.run(run_engine(arguments.conversations, arguments.batch, Path(workdir)))
    rate = figures.messages / figures.seconds
    print(f"dmcare engine, {arguments.conversations} conversations x {len(SCRIPT)} messages, SQLite WAL, sandbox")
    print(f"  messages            {figures.messages}")
    print(f"  wall time           {figures.seconds:.2f} s")
    print(f"  throughput          {rate:,.0f} messages/s (every step durably committed)")
    latency = figures.step_latencies_ms
    cost = figures.batch_step_us
    print(
        f"  step latency        p50 {percentile(latency, 0.5):.1f} ms, p99 {percentile(latency, 0.99):.1f} ms"
        " (message in -> last reply out, under full load)"
    )
    print(
        f"  step cost in batch  p50 {percentile(cost, 0.5):.0f} us, p99 {percentile(cost, 0.99):.0f} us per event"
        " (decide + commit, amortized)"
    )
    print(f"  peak memory (RSS)   {figures.peak_rss_mb:.0f} MB")
    peer = measure_ptb_conversation_handler(conversations=arguments.conversations)
    print("python-telegram-bot ConversationHandler, same 5-step flow, in memory, no persistence")
    print(
        f"  throughput          {peer.messages_per_second:,.0f} messages/s,"
        f" p50 {peer.p50_ms:.3f} ms, p99 {peer.p99_ms:.3f} ms"
    )
    print(f"ratio dmcare / PTB    {rate / peer.messages_per_second:.2f}")


if __name__ == "__main__":
    main()
